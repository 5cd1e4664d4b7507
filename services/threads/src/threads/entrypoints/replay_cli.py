"""`switchboard-threads replay [--check]`: progress bar, events/s, differences row by row."""

from __future__ import annotations

import sys

from tqdm import tqdm

from threads.bootstrap import build_projector, build_replay_engine
from threads.config import Settings
from threads.replay.lock import ReplayAlreadyRunning
from threads.replay.runner import ReplayReport, replay

PHASES = {
    "read": "replay: read + fold",
    "load": "replay: load shadow tables",
    "catch-up": "replay: catch up",
}


async def run_replay(settings: Settings, *, check: bool) -> int:
    engine = build_replay_engine(settings)
    bar = tqdm(
        total=0, unit="ev", unit_scale=True, file=sys.stderr, desc="replay", dynamic_ncols=True
    )

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    def phase(name: str) -> None:
        bar.set_description(PHASES.get(name, name))

    try:
        report = await replay(
            engine, build_projector(), check=check, progress=progress, phase=phase
        )
    except ReplayAlreadyRunning as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    finally:
        bar.close()
        await engine.dispose()
    _summary(report, check)
    if not check:
        print("read models swapped in" if report.swapped else "nothing swapped")
        return 0
    if not report.differences:
        print("check: rebuilt read models are identical to the live ones")
        return 0
    print(f"check: {len(report.differences)} differing rows")
    for diff in report.differences:
        print(f"  {diff.table:<18} {diff.side:<13} {diff.row}")
    return 1


def _summary(report: ReplayReport, check: bool) -> None:
    locked = (
        "compared in one snapshot, no lock taken"
        if check
        else f"lock held {report.lock_seconds * 1000:.0f} ms"
    )
    print(
        f"replayed {report.events} events ({report.caught_up} in catch-up) in "
        f"{report.seconds:.2f}s: {report.events_per_second:,.0f} events/s "
        f"(read + fold {report.read_seconds:.2f}s, load {report.rows} rows "
        f"{report.load_seconds:.2f}s); {locked}"
    )
