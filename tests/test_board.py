"""The live board: its command's options, its page over HTTP, and the page in Chromium.

The browser test opens the board in headless Chromium (Debian's package; `.ci/run`
installs it) against the fake on a manual clock: the page shows the fake's numbers,
shows them change when the test moves the snapshot on, and recovers by itself when the
board's server is stopped and started again on the same port.
"""

from __future__ import annotations

import io
import os
import re
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import anyio
import pytest

from aioconnectmetrics import ConnectMetrics
from aioconnectmetrics._alerts import parse_alert
from aioconnectmetrics._board import board_app, serve_board
from aioconnectmetrics._cli import _parser, _run, main
from aioconnectmetrics._cli.export import listen_address
from aioconnectmetrics.testing import FakeConnect, ManualClock
from examples.board_png import write_png
from examples.chromium import chromium, chromium_path

from .conftest import unlimited
from .redis_server import free_port
from .sse_client import read_events
from .test_follow import metric_requests, until

METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE"]


@asynccontextmanager
async def board(cm: ConnectMetrics, queues: list[str], port: int) -> AsyncIterator[str]:
    """The board of `queues` on `port` (voice, by queue, one alert): its URL."""
    app = board_app(
        cm,
        METRICS,
        {"queues": queues, "channels": ["VOICE"], "groupings": ["QUEUE"]},
        alerts=[parse_alert("OLDEST_CONTACT_AGE>120", METRICS)],
        sort="OLDEST_CONTACT_AGE",
        retry=0.2,
        heartbeat=0.2,
    )
    urls: list[str] = []
    async with anyio.create_task_group() as group:
        group.start_soon(lambda: serve_board(app, "127.0.0.1", port, on_ready=urls.append))
        await until(lambda: bool(urls))
        yield urls[0]
        group.cancel_scope.cancel()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("[::1]:0", ("::1", 0)),
        ("localhost:80", ("localhost", 80)),
        (":9464", ("127.0.0.1", 9464)),
    ],
)
def test_listen_addresses(text: str, expected: tuple[str, int]) -> None:
    assert listen_address(text) == expected


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--listen", "8080"], "--listen: got '8080'"),
        (["--listen", "localhost:99999"], "port 0 to 65535"),
        (["--sort", "AGENTS_ONLINE"], "--sort: got 'AGENTS_ONLINE'"),
        (["--alert", "AGENTS_ONLINE>3"], "--alert"),
    ],
)
def test_bad_board_options_are_refused_before_any_connection(
    argv: list[str], said: str, fake: FakeConnect, instance_id: str
) -> None:
    err = io.StringIO()
    code = main(
        ["board", "CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "--all-queues",
         "--instance-id", instance_id, "--endpoint-url", fake.endpoint_url,
         "--region", fake.region_name, *argv],
        out=io.StringIO(),
        err=err,
    )  # fmt: skip
    assert code == 2
    assert said in err.getvalue()
    assert fake.requests == []
    assert fake.sts_calls == 0


async def test_the_page_and_its_files_are_served_with_nothing_from_elsewhere(
    fake: FakeConnect, instance_id: str
) -> None:
    queues = fake.add_queues(instance_id, 5)
    async with (
        fake.metrics_client(instance_id, limiter=unlimited()) as cm,
        board(cm, queues, free_port()) as url,
        aiohttp.ClientSession() as http,
    ):
        bodies = {}
        for path in ("", "board.js", "board.css"):
            async with http.get(url + path) as response:
                assert response.status == 200
                bodies[path] = await response.text()
    assert 'src="board.js"' in bodies[""]
    assert "new EventSource" in bodies["board.js"]
    # Offline: no address of another site in the page or its files.
    for text in bodies.values():
        assert "http://" not in text
        assert "https://" not in text
        assert "//cdn" not in text


def need_chromium() -> str:
    binary = chromium_path()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(
                "chromium is not installed: .ci/run installs it (apt-get install chromium)"
            )
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return binary


ROWS = "document.querySelectorAll('#rows tr').length"
STATUS = "document.getElementById('status').textContent"
SNAPSHOT = "document.getElementById('snapshot').dataset.time || ''"


def cell(queue: str, metric: str) -> str:
    return (
        f'(document.querySelector(\'#rows tr[data-queue="{queue}"] '
        f'td[data-metric="{metric}"]\') || {{}}).textContent'
    )


async def test_the_board_in_chromium_follows_the_fake_and_survives_a_restart(
    fake: FakeConnect, instance_id: str, clock: ManualClock
) -> None:
    binary = need_chromium()
    queues = fake.add_queues(instance_id, 12)
    for queue in queues:
        fake.set_waiting(instance_id, queue, "VOICE", in_queue=1, oldest_age=30)
    hot = queues[7]
    fake.set_waiting(instance_id, hot, "VOICE", in_queue=5, oldest_age=200)
    port = free_port()
    async with (
        fake.metrics_client(instance_id, limiter=unlimited()) as cm,
        chromium(binary) as page,
    ):
        async with board(cm, queues, port) as url:
            await page.navigate(url)
            await page.wait_for(f"{ROWS} === 12 && {STATUS} === 'live'")
            assert await page.evaluate(cell(hot, "CONTACTS_IN_QUEUE")) == "5"
            assert await page.evaluate(cell(hot, "OLDEST_CONTACT_AGE")) == "200"
            # The row over the threshold comes first, its cell coloured.
            assert await page.evaluate("document.querySelector('#rows tr').dataset.queue") == hot
            assert (
                await page.evaluate(
                    f'document.querySelector(\'#rows tr[data-queue="{hot}"] '
                    'td[data-metric="OLDEST_CONTACT_AGE"]\').className'
                )
                == "alert"
            )
            assert await page.evaluate(SNAPSHOT) == "2027-01-15T08:00:00+00:00"
            assert await page.evaluate("document.getElementById('alerting').textContent") == (
                "1 over a threshold"
            )

            # The next snapshot: the page changes with it.
            fake.set_waiting(instance_id, hot, "VOICE", in_queue=9, oldest_age=215)
            clock.advance(15)
            await page.wait_for(f"{cell(hot, 'CONTACTS_IN_QUEUE')} === '9'")
            assert await page.evaluate(SNAPSHOT) == "2027-01-15T08:00:15+00:00"

        # The server is gone: the page says so, and keeps trying.
        await page.wait_for(f"{STATUS} === 'reconnecting'")
        fake.set_waiting(instance_id, hot, "VOICE", in_queue=2, oldest_age=20)
        clock.advance(15)
        async with board(cm, queues, port):
            await page.wait_for(f"{cell(hot, 'CONTACTS_IN_QUEUE')} === '2'")
            assert await page.evaluate(STATUS) == "live"
            assert await page.evaluate(SNAPSHOT) == "2027-01-15T08:00:30+00:00"
            # Back under the threshold: nothing coloured, nothing counted.
            assert await page.evaluate("document.querySelectorAll('td.alert').length") == 0
    # One fan-out per snapshot, however often the page connected.
    assert metric_requests(fake) == 3


async def test_the_docs_picture_is_made_by_its_command(tmp_path: Path) -> None:
    """docs/board.png comes from examples/board_png.py, which still runs."""
    need_chromium()
    path = tmp_path / "board.png"
    await write_png(path)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", data[16:24]) == (1200, 760)  # the IHDR's width and height


async def test_the_board_command_serves_its_selection(
    fake: FakeConnect, instance_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``aioconnectmetrics board`` as typed: it says its URL, and its stream answers."""
    queues = fake.add_queues(instance_id, 30)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "board")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "board-secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    args = _parser().parse_args(
        ["board", "CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "--queues", *queues,
         "--instance-id", instance_id, "--endpoint-url", fake.endpoint_url,
         "--region", fake.region_name, "--listen", "127.0.0.1:0", "--ids",
         "--alert", "CONTACTS_IN_QUEUE>=3"]
    )  # fmt: skip
    out = io.StringIO()
    async with anyio.create_task_group() as group:
        group.start_soon(_run, args, out, io.StringIO())
        await until(lambda: "board: http" in out.getvalue())
        match = re.search(r"board: (http://\S+)", out.getvalue())
        assert match is not None
        events, _ = await read_events(match.group(1) + "events", lambda e: len(e) == 2)
        group.cancel_scope.cancel()
    config, answer = events
    assert config.data == {
        "metrics": ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE"],
        "alerts": [
            {"metric": "CONTACTS_IN_QUEUE", "op": ">=", "threshold": 3.0,
             "text": "CONTACTS_IN_QUEUE>=3"}
        ],
        "sort": "OLDEST_CONTACT_AGE",
        "instance": instance_id,
    }  # fmt: skip
    assert answer.data["groupings"] == ["QUEUE"]  # the board's default
    assert {row["queue_id"] for row in answer.data["rows"]} == set(queues)
    assert "queue_name" not in answer.data["rows"][0]  # --ids: no listing
