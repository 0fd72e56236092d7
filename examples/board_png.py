"""The board's picture in docs/live.md: ``python -m examples.board_png [PATH]``.

Serves ``aioconnectmetrics board``'s page for 40 queues of the fake (seeded, on a fixed
clock, so the numbers are the same each time), opens it in headless Chromium (Debian's
``chromium`` package) and saves a 1200x760 PNG (default: docs/board.png).
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

from aioconnectmetrics._alerts import parse_alert
from aioconnectmetrics._board import board_app, serve_board
from aioconnectmetrics.testing import FakeConnect, ManualClock
from examples.chromium import chromium

METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE", "AGENTS_ONLINE"]
ALERTS = ("OLDEST_CONTACT_AGE>600", "CONTACTS_IN_QUEUE>=6")
#: 2027-01-15 08:00:00 UTC, a snapshot's time.
NOW = 1_800_000_000.0


async def write_png(path: Path) -> None:
    """Serve the board against a fresh fake, and save its picture to `path`."""
    with FakeConnect(clock=ManualClock(NOW), quotas=None, seed=2024) as fake:
        instance_id = fake.add_instance()
        fake.populate(instance_id, queues=40)
        async with fake.metrics_client(instance_id) as cm:
            app = board_app(
                cm,
                METRICS,
                {"queues": "all", "groupings": ["QUEUE"]},
                alerts=[parse_alert(text, METRICS) for text in ALERTS],
                sort="OLDEST_CONTACT_AGE",
            )
            urls: list[str] = []
            served = anyio.Event()

            def ready(url: str) -> None:
                urls.append(url)
                served.set()

            async with anyio.create_task_group() as group:
                group.start_soon(lambda: serve_board(app, "127.0.0.1", 0, on_ready=ready))
                with anyio.fail_after(10):
                    await served.wait()
                async with chromium() as page:
                    await page.navigate(urls[0])
                    await page.wait_for(
                        "document.querySelectorAll('#rows tr').length === 40 && "
                        "document.getElementById('status').textContent === 'live'"
                    )
                    await page.screenshot(path, width=1200, height=760)
                group.cancel_scope.cancel()


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/board.png")
    anyio.run(write_png, path)
    print(f"wrote {path}")  # noqa: T201 - a command's one line of output


if __name__ == "__main__":
    main()
