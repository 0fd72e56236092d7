"""The wallboard's picture in docs/cli.md: ``python -m examples.wallboard_svg [PATH]``.

Draws what ``aioconnectmetrics watch`` shows for 250 queues of the fake (seeded, so the
picture is the same each time), on a 160x45 terminal, and saves it as SVG.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import anyio
from rich.console import Console

from aioconnectmetrics._alerts import parse_alert
from aioconnectmetrics._wallboard import Wallboard
from aioconnectmetrics.testing import FakeConnect, ManualClock

METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE", "AGENTS_ONLINE"]
#: 2027-01-15 08:00:12 UTC: twelve seconds after a snapshot.
NOW = 1_800_000_012.0


async def write_svg(path: Path) -> None:
    """Draw the wallboard against a fresh fake and save it to `path`."""
    with FakeConnect(clock=ManualClock(NOW), quotas=None, seed=2024) as fake:
        instance_id = fake.add_instance()
        fake.populate(instance_id, queues=250)
        async with fake.metrics_client(instance_id) as cm:
            rows = await cm.get_current_metrics(
                METRICS, queues="all", groupings=["QUEUE"], names=True
            )
            summary = await cm.get_current_metrics(METRICS, queues="all")
    alerts = tuple(
        parse_alert(a, METRICS) for a in ("OLDEST_CONTACT_AGE>600", "CONTACTS_IN_QUEUE>=8")
    )
    board = Wallboard(
        rows,
        summary,
        "OLDEST_CONTACT_AGE",
        alerts,
        instance=instance_id,
        quota="quota 5.0/s, waited 0.2 s, 0 throttled",
        clock=lambda: NOW,
    )
    console = Console(file=io.StringIO(), width=160, height=45, record=True, force_terminal=True)
    console.print(board)
    console.save_svg(str(path), title="aioconnectmetrics watch ... --group-by QUEUE")


if __name__ == "__main__":
    anyio.run(write_svg, Path(sys.argv[1] if len(sys.argv) > 1 else "docs/wallboard.svg"))
