"""`switchboard-threads replay [--check]`: progress bar, events/s, differences row by row."""

from __future__ import annotations

import sys

from tqdm import tqdm

from threads.bootstrap import build_engine
from threads.config import Settings
from threads.projections import default_projector
from threads.replay.runner import replay


async def run_replay(settings: Settings, *, check: bool) -> int:
    engine = build_engine(settings)
    bar = tqdm(
        total=0, unit="ev", unit_scale=True, file=sys.stderr, desc="replay", dynamic_ncols=True
    )

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        report = await replay(engine, default_projector(), check=check, progress=progress)
    finally:
        bar.close()
        await engine.dispose()
    print(
        f"replayed {report.events} events ({report.caught_up} in catch-up) in "
        f"{report.seconds:.2f}s: {report.events_per_second:,.0f} events/s; "
        f"lock held {report.lock_seconds * 1000:.0f} ms"
    )
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
