"""The benchmarks' peers, installed on first use so a fresh clone prints every figure.

LiteLLM goes into a virtual environment of its own under `.data/bench/` (never into the
project's: it pins versions of packages the services use), with the `uv` that runs the repo.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LITELLM_SPEC = "litellm[proxy]==1.106.2"
LITELLM_VENV = ROOT / ".data" / "bench" / "litellm-venv"
LITELLM_BIN = LITELLM_VENV / "bin" / "litellm"


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if found:
        return found
    local = ROOT / ".tools" / "bin" / "uv"
    if local.exists():
        return str(local)
    raise RuntimeError("uv not found (make install puts it in .tools/bin)")


def ensure_litellm(binary: Path = LITELLM_BIN) -> str | None:
    """Installs LiteLLM at the default place when it is missing; returns why not, or None."""
    if binary.exists():
        return None
    if binary != LITELLM_BIN:
        return f"LiteLLM not installed at {binary}"
    print(f"installing {LITELLM_SPEC} into {LITELLM_VENV} (first run only)", flush=True)
    try:
        uv = _uv()
        subprocess.run(
            [uv, "venv", "--quiet", "--python", sys.executable, str(LITELLM_VENV)], check=True
        )
        subprocess.run(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                str(LITELLM_VENV / "bin" / "python"),
                LITELLM_SPEC,
            ],
            check=True,
        )
    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        shutil.rmtree(LITELLM_VENV, ignore_errors=True)
        return f"LiteLLM could not be installed ({exc})"
    return None if binary.exists() else f"LiteLLM installed but {binary} is missing"
