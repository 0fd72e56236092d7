"""The wallboard as people see it: drawn on fixed-size consoles, read as screen text."""

from __future__ import annotations

import argparse
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console

from aioconnectmetrics import InvalidRequestError
from aioconnectmetrics._alerts import Alert, parse_alert
from aioconnectmetrics._cli import main
from aioconnectmetrics._cli.watch import run_watch
from aioconnectmetrics._wallboard import Wallboard
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW
from .truth import current_truth

METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE"]
ALERTS = (Alert("OLDEST_CONTACT_AGE", ">", 120.0), Alert("CONTACTS_IN_QUEUE", ">=", 10.0))


@pytest.fixture(name="centre")
def _centre() -> Iterator[tuple[FakeConnect, str, list[str]]]:
    with FakeConnect(clock=ManualClock(NOW), quotas=None, seed=31) as fake:
        instance_id = fake.add_instance()
        queues = list(fake.populate(instance_id, queues=250).queue_ids)
        yield fake, instance_id, queues


async def board(fake: FakeConnect, instance_id: str, **kwargs: Any) -> Wallboard:
    async with fake.metrics_client(instance_id) as cm:
        rows = await cm.get_current_metrics(METRICS, queues="all", groupings=["QUEUE"], names=True)
        summary = await cm.get_current_metrics(METRICS, queues="all")
    return Wallboard(
        rows,
        summary,
        kwargs.pop("sort_by", "OLDEST_CONTACT_AGE"),
        kwargs.pop("alerts", ALERTS),
        instance=instance_id,
        quota="quota 5.0/s",
        clock=fake.clock,
    )


def draw(renderable: Any, width: int, height: int) -> tuple[list[str], Console]:
    console = Console(
        file=io.StringIO(), width=width, height=height, force_terminal=True, record=True
    )
    console.print(renderable)
    return console.export_text(styles=False).rstrip("\n").split("\n"), console


async def test_250_queues_fit_160x45_by_name_oldest_first(
    centre: tuple[FakeConnect, str, list[str]],
) -> None:
    fake, instance_id, queues = centre
    wallboard = await board(fake, instance_id)
    lines, _ = draw(wallboard, 160, 45)
    assert len(lines) <= 45
    assert all(len(line) <= 160 for line in lines)
    header, summary = lines[0], lines[1]
    assert instance_id in header
    assert "snapshot 08:00:00 UTC (0 s ago)" in header
    assert "3 batches" in header
    truth = current_truth(fake, instance_id, METRICS, queues=queues)[(None, None, None)]
    assert f"CONTACTS_IN_QUEUE {truth['CONTACTS_IN_QUEUE']:,.0f}" in summary
    rows = [line for line in lines[4:] if line.startswith("queue-")]
    shown = len(rows)
    assert shown == 45 - 6
    assert lines[-1].startswith(f"+{250 - shown} more (sorted by OLDEST_CONTACT_AGE")
    # Names, not IDs, and the oldest contact first.
    by_name = {fake.centre(instance_id).queues[q].name: q for q in queues}
    per_queue = current_truth(fake, instance_id, METRICS, queues=queues, groupings=["QUEUE"])
    ages = []
    for line in rows:
        name, in_queue, oldest, _ = line.split()
        values = per_queue[(by_name[name], None, None)]
        assert float(in_queue.replace(",", "")) == values["CONTACTS_IN_QUEUE"]
        ages.append(float(oldest.replace(",", "")))
    assert ages == sorted(ages, reverse=True)
    top = max(v["OLDEST_CONTACT_AGE"] or 0.0 for v in per_queue.values())
    assert ages[0] == top


async def test_alerts_colour_their_cells_and_count_in_the_header(
    centre: tuple[FakeConnect, str, list[str]],
) -> None:
    fake, instance_id, queues = centre
    wallboard = await board(fake, instance_id)
    per_queue = current_truth(fake, instance_id, METRICS, queues=queues, groupings=["QUEUE"])
    alerting = sum(
        1
        for v in per_queue.values()
        if (v["OLDEST_CONTACT_AGE"] or 0) > 120 or (v["CONTACTS_IN_QUEUE"] or 0) >= 10
    )
    assert 0 < alerting < 250
    lines, console = draw(wallboard, 160, 45)
    assert f"{alerting} alerting" in lines[0]
    segments = list(console.render(wallboard, console.options.update(height=45)))
    red = {
        s.text.strip()
        for s in segments
        if s.style and s.style.bgcolor and s.style.bgcolor.name == "red"
    }
    plain = {
        s.text.strip() for s in segments if s.text.strip() and not (s.style and s.style.bgcolor)
    }
    ages = [
        v["OLDEST_CONTACT_AGE"] for v in per_queue.values() if v["OLDEST_CONTACT_AGE"] is not None
    ]
    assert f"{max(ages):,.0f}" in red  # the oldest crosses 120 s: coloured
    assert any(re.fullmatch(r"\d+", text) and int(text) < 10 for text in plain)


async def test_a_smaller_terminal_gets_a_new_layout(
    centre: tuple[FakeConnect, str, list[str]],
) -> None:
    fake, instance_id, _ = centre
    wallboard = await board(fake, instance_id, sort_by="CONTACTS_IN_QUEUE")
    big, _ = draw(wallboard, 160, 45)
    small, _ = draw(wallboard, 100, 20)
    assert len(small) <= 20
    assert big[-1].startswith("+211 more (sorted by CONTACTS_IN_QUEUE")
    assert small[-1].startswith("+236 more (sorted by CONTACTS_IN_QUEUE")


async def test_watch_draws_the_wallboard_live(
    centre: tuple[FakeConnect, str, list[str]],
) -> None:
    """The command's loop, on a terminal: the wallboard, with names and the header."""
    fake, instance_id, _ = centre
    console = Console(file=io.StringIO(), width=160, height=45, force_terminal=True, record=True)
    args = argparse.Namespace(
        metrics=METRICS,
        interval=0.0,
        count=1,
        sort=None,
        alert=["OLDEST_CONTACT_AGE>120"],
        ids=False,
    )
    async with fake.metrics_client(instance_id) as cm:
        code = await run_watch(
            cm,
            args,
            "table",
            io.StringIO(),
            {"queues": "all", "groupings": ["QUEUE"]},
            console=console,
        )
    screen = console.export_text()
    assert code == 0
    assert "alerting" in screen
    assert "queue-" in screen
    assert "OLDEST_CONTACT_AGE v" in screen  # the column the rows are sorted by


@pytest.mark.parametrize(
    ("text", "says"),
    [("OLDEST_CONTACT_AGE=>120", "METRIC>N"), ("AGENTS_ONLINE>3", "a metric asked for")],
)
def test_a_bad_alert_names_the_option(text: str, says: str) -> None:
    with pytest.raises(InvalidRequestError, match=says) as info:
        parse_alert(text, METRICS)
    assert info.value.field == "--alert"


def test_watch_refuses_a_bad_alert_before_asking(
    centre: tuple[FakeConnect, str, list[str]],
) -> None:
    fake, instance_id, _ = centre
    err = io.StringIO()
    code = main(
        [
            "watch",
            *METRICS,
            "--all-queues",
            "--alert",
            "AGENTS_ONLINE>3",
            "--instance-id",
            instance_id,
            "--endpoint-url",
            fake.endpoint_url,
            "--region",
            fake.region_name,
        ],
        out=io.StringIO(),
        err=err,
    )
    assert code == 2
    assert "--alert" in err.getvalue()
    assert fake.requests == []  # refused before any request


async def test_the_docs_picture_is_drawn_by_its_script(tmp_path: Any) -> None:
    """docs/wallboard.svg comes from examples/wallboard_svg.py, which still runs."""
    from examples.wallboard_svg import write_svg  # noqa: PLC0415

    path = tmp_path / "wallboard.svg"
    await write_svg(path)
    svg = path.read_text()
    assert svg.startswith("<svg")
    assert "queue-" in svg
    assert "alerting" in svg
