"""Where the client talks to and who it is: env (`SWITCHBOARD_URL`, `SWITCHBOARD_CONFIG`,
`SWITCHBOARD_TOKEN`) over the config file (TOML, `~/.config/switchboard/config.toml`), over
the defaults. `login` writes the token (and the URL it logged in to) to the config file."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_CONFIG = Path("~/.config/switchboard/config.toml")


class CliSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    url: str | None = Field(default=None, description="gateway base URL")
    config: Path = Field(default=DEFAULT_CONFIG, description="config file path")
    token: str | None = Field(default=None, description="access token (instead of login)")


class Profile:
    """The effective settings: env wins over the file, the file over the defaults."""

    def __init__(self, settings: CliSettings | None = None) -> None:
        self.settings = settings or CliSettings()
        self.path = self.settings.config.expanduser()
        self.file: dict[str, str] = self._read()

    def _read(self) -> dict[str, str]:
        try:
            data = tomllib.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except tomllib.TOMLDecodeError as exc:
            raise SystemExit(f"Config file {self.path} is not valid TOML: {exc}") from None
        return {k: v for k, v in data.items() if isinstance(v, str)}

    @property
    def url(self) -> str:
        return (self.settings.url or self.file.get("url") or DEFAULT_URL).rstrip("/")

    @property
    def token(self) -> str | None:
        return self.settings.token or self.file.get("token")

    def save(self, **values: str | None) -> None:
        """Merge `values` into the file (None removes a key); the file is private (0600)."""
        for key, value in values.items():
            if value is None:
                self.file.pop(key, None)
            else:
                self.file[key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # JSON strings without ASCII escaping are valid TOML basic strings.
        text = "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in self.file.items())
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
