"""The command line against the fake: every subcommand and format, and bad input."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from aioconnectmetrics import Metric, RetryPolicy
from aioconnectmetrics._cli import main
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW
from .truth import current_truth, historical_truth, v2_truth


def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's credentials, from the standard chain: dummy keys for the fake."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "cli")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "cli-secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(name="cli_fake")
def _cli_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeConnect, str, list[str]]]:
    """A fake with 150 queues on the real clock; the CLI's credentials point at it.

    Its real-time snapshot moves on hourly, not every 15 s: a CLI run and the truth read
    after it then see the same snapshot (on 15 s they straddled a turn now and then).
    """
    with FakeConnect(quotas=None, seed=9, snapshot_interval=3600.0) as fake:
        instance_id = fake.add_instance()
        queues = list(fake.populate(instance_id, queues=150).queue_ids)
        credentials(monkeypatch)
        yield fake, instance_id, queues


def run(fake: FakeConnect, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [*argv, "--endpoint-url", fake.endpoint_url, "--region", fake.region_name],
        out=out,
        err=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_current_json_matches_the_service(cli_fake: tuple[FakeConnect, str, list[str]]) -> None:
    """The current command, as JSON, prints every queue's row with the service's values."""
    fake, instance_id, queues = cli_fake
    code, out, err = run(
        fake,
        "current",
        "CONTACTS_IN_QUEUE",
        "--instance-id",
        instance_id,
        "--all-queues",
        "--group-by",
        "QUEUE",
        "--format",
        "json",
    )
    assert (code, err) == (0, "")
    document = json.loads(out)
    truth = current_truth(
        fake, instance_id, ["CONTACTS_IN_QUEUE"], queues=queues, groupings=["QUEUE"]
    )
    got = {row["queue_id"]: row["CONTACTS_IN_QUEUE"] for row in document["rows"]}
    assert got == {key[0]: values["CONTACTS_IN_QUEUE"] for key, values in truth.items()}
    assert document["batches"] == 2


def test_current_summary_table_shows_exact_agent_counts(
    cli_fake: tuple[FakeConnect, str, list[str]],
) -> None:
    """The summary table's agent count is exact (no bounds) over two batches."""
    fake, instance_id, queues = cli_fake
    code, out, _ = run(
        fake,
        "current",
        "AGENTS_ONLINE",
        "CONTACTS_IN_QUEUE",
        "--instance-id",
        instance_id,
        "--all-queues",
        "--format",
        "table",
    )
    assert code == 0
    assert "2 batches" in out
    [truth] = current_truth(
        fake, instance_id, ["AGENTS_ONLINE", "CONTACTS_IN_QUEUE"], queues=queues
    ).values()
    [values] = [line for line in out.splitlines() if line.startswith("│")]
    # The values as they are, with no approximate mark "~ (low .. high)".
    assert values.strip("│ ").split() == [
        f"{truth['AGENTS_ONLINE']:g}",
        "│",
        f"{truth['CONTACTS_IN_QUEUE']:g}",
    ]


def test_historical_summary_table_marks_approximate_values(
    cli_fake: tuple[FakeConnect, str, list[str]],
) -> None:
    """A mean over two batches without its exact weight is marked, with its bounds."""
    fake, instance_id, _ = cli_fake
    code, out, _ = run(
        fake,
        "historical",
        "HOLD_TIME",
        "--instance-id",
        instance_id,
        "--all-queues",
        "--last",
        "1h",
        "--format",
        "table",
    )
    assert code == 0
    assert "~ (" in out  # the approximate mark with its bounds
    assert "2 batches" in out


def test_current_csv(cli_fake: tuple[FakeConnect, str, list[str]]) -> None:
    """CSV has a header and one line per queue and channel."""
    fake, instance_id, queues = cli_fake
    code, out, _ = run(
        fake,
        "current",
        "CONTACTS_IN_QUEUE",
        "--instance-id",
        instance_id,
        "--queues",
        *queues[:5],
        "--channels",
        "VOICE",
        "CHAT",
        "--group-by",
        "QUEUE",
        "CHANNEL",
        "--format",
        "csv",
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0
    assert rows[0] == ["queue_id", "queue_name", "channel", "CONTACTS_IN_QUEUE"]
    assert {r[0] for r in rows[1:]} <= set(queues[:5])
    centre = fake.centre(instance_id)
    assert all(r[1] == centre.queues[r[0]].name for r in rows[1:])  # names, for people
    assert {r[2] for r in rows[1:]} <= {"VOICE", "CHAT"}


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_historical_last_hour(fmt: str, cli_fake: tuple[FakeConnect, str, list[str]]) -> None:
    """The historical command with --last 1h works in every format."""
    fake, instance_id, queues = cli_fake
    code, out, err = run(
        fake,
        "historical",
        "CONTACTS_HANDLED",
        "SERVICE_LEVEL_60",
        "--instance-id",
        instance_id,
        "--all-queues",
        "--last",
        "1h",
        "--format",
        fmt,
    )
    assert (code, err) == (0, "")
    assert "SERVICE_LEVEL_60" in out
    if fmt == "json":
        # The summary of the hour the command chose, against the simulator's own.
        document = json.loads(out)
        start = datetime.fromisoformat(document["start_time"])
        end = datetime.fromisoformat(document["end_time"])
        assert end - start == timedelta(hours=1)
        truth = historical_truth(
            fake,
            instance_id,
            [Metric("CONTACTS_HANDLED"), Metric.service_level(60)],
            queues=queues,
            start=start,
            end=end,
        )
        [expected] = truth.values()
        [row], [approximate] = document["rows"], document["approximate"]
        assert "CONTACTS_HANDLED" not in approximate  # a sum over disjoint queues: exact
        assert row["CONTACTS_HANDLED"] == expected["CONTACTS_HANDLED"]
        # A service level over two batches: exact, or approximate with bounds that hold
        # the truth (the simulator's own, over all queues at once).
        bounds = approximate.get("SERVICE_LEVEL_60")
        if "SERVICE_LEVEL_60" not in approximate:
            assert row["SERVICE_LEVEL_60"] == pytest.approx(expected["SERVICE_LEVEL_60"])
        elif bounds is not None:
            low, high = bounds
            assert low - 1e-9 <= expected["SERVICE_LEVEL_60"] <= high + 1e-9
            assert low - 1e-9 <= row["SERVICE_LEVEL_60"] <= high + 1e-9


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_queues(fmt: str, cli_fake: tuple[FakeConnect, str, list[str]]) -> None:
    """The queues command lists every queue."""
    fake, instance_id, queues = cli_fake
    code, out, _ = run(fake, "queues", "--instance-id", instance_id, "--format", fmt)
    assert code == 0
    if fmt == "json":
        assert sorted(q["id"] for q in json.loads(out)) == sorted(queues)
    elif fmt == "csv":
        assert len(out.strip().splitlines()) == 151
    else:
        assert "150 queues" in out


def test_watch_shows_exact_agent_counts(cli_fake: tuple[FakeConnect, str, list[str]]) -> None:
    """Watching 150 queues (two batches), the agent count is the exact one."""
    fake, instance_id, queues = cli_fake
    code, out, err = run(
        fake,
        "watch",
        "AGENTS_ONLINE",
        "--instance-id",
        instance_id,
        "--all-queues",
        "--interval",
        "0",
        "--count",
        "1",
        "--format",
        "json",
    )
    assert (code, err) == (0, "")
    document = json.loads(out.strip().splitlines()[0])
    [truth] = current_truth(fake, instance_id, ["AGENTS_ONLINE"], queues=queues).values()
    assert document["batches"] == 2
    assert document["rows"] == [{"AGENTS_ONLINE": truth["AGENTS_ONLINE"]}]
    assert document["approximate"] == [{}]


def test_watch_prints_only_new_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch command prints each snapshot once, a new one only when it has moved on."""
    clock = ManualClock(NOW)
    polls: list[int] = []

    def every_other_poll(operation: str, params: Any) -> None:
        if operation == "GetCurrentMetricData":
            polls.append(1)
            if len(polls) % 2 == 0:
                clock.advance(15)  # a new snapshot every second poll

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "cli")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "cli-secret")
    with FakeConnect(clock=clock, quotas=None) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        fake.add_hook(every_other_poll)
        code, out, _ = run(
            fake,
            "watch",
            "CONTACTS_IN_QUEUE",
            "--instance-id",
            instance_id,
            "--queues",
            *queues,
            "--interval",
            "0",
            "--count",
            "3",
            "--format",
            "json",
        )
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [line["snapshot_time"][11:19] for line in lines] == ["08:00:00", "08:00:15", "08:00:30"]
    assert len(polls) == 4  # the third poll saw a snapshot already printed: not shown


def test_demo_prints_the_tour(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo command runs the tour against its own fake service."""
    out, err = io.StringIO(), io.StringIO()
    assert main(["demo", "--queues", "120"], out=out, err=err) == 0
    text = out.getvalue()
    assert "Instance summary over 2 batches" in text
    # Agents serve queues in both batches; each is counted once: exact, no bounds.
    summary = text.split("Instance summary", 1)[1].split("\n\n", 1)[0]
    for metric in ("AGENTS_ONLINE", "AGENTS_AVAILABLE"):
        [line] = [row for row in summary.splitlines() if row.startswith(metric)]
        assert line.split()[-1] == "exact"
    assert "The last hour" in text
    assert "Cache: 1 hits" in text
    # The agents themselves, each once, by activity (the exact equality with the metrics
    # is tested on a manual clock in test_client_agents), and by name.
    line = text.split("each once): ", 1)[1].splitlines()[0]
    listed, by_activity = line.split(" logged in: ")
    assert int(listed) == sum(int(part.split()[0]) for part in by_activity.split(", "))
    assert "agent0" in text.split("Some who are available now:", 1)[1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["current", "AGENTS_BORED", "--all-queues"], "AGENTS_BORED"),
        (["current", "AGENTS_ONLINE"], "--queues"),
        (["current", "AGENTS_ONLINE", "--all-queues", "--group-by", "CHANNEL"], "channel filter"),
        (["historical", "CONTACTS_HANDLED", "--all-queues"], "--last"),
        (["historical", "CONTACTS_HANDLED", "--all-queues", "--last", "5x"], "30m, 2h, 7d"),
        (["historical", "CONTACTS_HANDLED", "--agents", "a-1", "--last", "1h"], "need --v2"),
        (
            ["historical", "--v2", "SERVICE_LEVEL", "--all-queues", "--last", "7d"],
            "needs a threshold",
        ),
        (
            ["historical", "--v2", "CONTACTS_QUEUED", "--all-queues", "--last", "40d"],
            "shorter than 35 days",
        ),
        (
            [
                "historical",
                "CONTACTS_HANDLED",
                "--all-queues",
                "--start",
                "2026-11-24T08:00",
                "--end",
                "2026-11-24T09:00Z",
            ],
            "time zone",
        ),
    ],
)
def test_bad_input_is_a_clear_message(
    argv: list[str], message: str, cli_fake: tuple[FakeConnect, str, list[str]]
) -> None:
    """Bad input exits 2 with a message that names what is wrong, before any request."""
    fake, instance_id, _ = cli_fake
    code, out, err = run(fake, *argv, "--instance-id", instance_id)
    assert code == 2
    assert message in err
    assert out == ""
    assert fake.requests == []


def test_missing_instance_and_unknown_command(
    cli_fake: tuple[FakeConnect, str, list[str]],
) -> None:
    """No instance ID, or no command, exits 2."""
    fake, _, _ = cli_fake
    code, _, err = run(fake, "current", "AGENTS_ONLINE", "--all-queues")
    assert code == 2
    assert "--instance-id" in err
    assert main([], out=io.StringIO(), err=io.StringIO()) == 2


def test_service_error_exits_3(cli_fake: tuple[FakeConnect, str, list[str]]) -> None:
    """An unknown instance is the service's error, exit 3."""
    fake, _, _ = cli_fake
    code, _, err = run(
        fake, "current", "AGENTS_ONLINE", "--instance-id", "no-such", "--queues", "q1"
    )
    assert code == 3
    assert "ResourceNotFoundException" in err


def test_partial_failure_exits_4(cli_fake: tuple[FakeConnect, str, list[str]]) -> None:
    """A batch failing for good: exit 4; with --partial the rest is printed too."""
    fake, instance_id, queues = cli_fake
    fake.inject_fault(
        "error", when=lambda p: queues[120] in p.get("Filters", {}).get("Queues", [])
    )
    argv = [
        "current",
        "CONTACTS_IN_QUEUE",
        "--instance-id",
        instance_id,
        "--queues",
        *queues,
        "--group-by",
        "QUEUE",
        "--format",
        "json",
        "--attempts",
        "2",
    ]
    code, out, err = run(fake, *argv)
    assert (code, out) == (4, "")
    assert "--partial" in err
    code, out, err = run(fake, *argv, "--partial")
    assert code == 4
    assert len(json.loads(out)["rows"]) == 100
    assert "some batches failed" in err
    # Two attempts per request, as asked: the failing batch's request, and its retry.
    failing = [
        r for r in fake.requests if queues[120] in r.params.get("Filters", {}).get("Queues", [])
    ]
    assert len(failing) == 2 * 2


@pytest.mark.parametrize("attempts", ["0", "21", "-3"])
def test_attempts_out_of_range_is_a_usage_error(
    cli_fake: tuple[FakeConnect, str, list[str]], attempts: str
) -> None:
    """--attempts outside 1-20: exit 2, the option named, and nothing sent."""
    fake, instance_id, _ = cli_fake
    fake.clear_requests()
    code, out, err = run(
        fake, "current", "CONTACTS_IN_QUEUE", "--instance-id", instance_id, "--all-queues",
        "--attempts", attempts,
    )  # fmt: skip
    assert (code, out) == (2, "")
    assert f"--attempts: {attempts}; give 1 to 20" in err
    assert fake.requests == []


def test_attempts_help_names_the_library_default(capsys: pytest.CaptureFixture[str]) -> None:
    """--help states the default attempts from the library's own RetryPolicy."""
    assert main(["current", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"(1 to 20; default {RetryPolicy().attempts})" in help_text
    assert RetryPolicy().attempts == 8


def test_no_credentials_is_explained(
    monkeypatch: pytest.MonkeyPatch, cli_fake: tuple[FakeConnect, str, list[str]]
) -> None:
    """Without credentials: exit 3 and what to set up, not a traceback."""
    fake, instance_id, _ = cli_fake
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, _, err = run(
        fake, "current", "AGENTS_ONLINE", "--instance-id", instance_id, "--all-queues"
    )
    assert code == 3
    assert "credentials" in err.lower()


def test_agents_json_counts_every_agent_once(
    cli_fake: tuple[FakeConnect, str, list[str]],
) -> None:
    """`agents --all-queues`: each logged-in agent once, named; counts equal the metrics."""
    fake, instance_id, queues = cli_fake
    code, out, err = run(
        fake, "agents", "--instance-id", instance_id, "--all-queues", "--format", "json"
    )
    assert (code, err) == (0, "")
    document = json.loads(out)
    metrics = ["AGENTS_ONLINE", "AGENTS_AVAILABLE", "AGENTS_ON_CONTACT"]
    [truth] = current_truth(fake, instance_id, metrics, queues=queues).values()
    listed = [agent["user_id"] for agent in document["agents"]]
    assert len(listed) == len(set(listed)) == truth["AGENTS_ONLINE"]
    assert document["counts"]["AVAILABLE"] == truth["AGENTS_AVAILABLE"]
    assert document["counts"]["ON_CONTACT"] == truth["AGENTS_ON_CONTACT"]
    centre = fake.centre(instance_id)
    assert all(a["username"] == centre.agents[a["user_id"]].username for a in document["agents"])


def test_agents_csv_lists_who_is_available(
    cli_fake: tuple[FakeConnect, str, list[str]],
) -> None:
    """`--activity AVAILABLE`: only the available agents, as many as AGENTS_AVAILABLE."""
    fake, instance_id, queues = cli_fake
    code, out, _ = run(
        fake,
        "agents",
        "--instance-id",
        instance_id,
        "--queues",
        *queues[:120],
        "--activity",
        "available",
        "--format",
        "csv",
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    [truth] = current_truth(fake, instance_id, ["AGENTS_AVAILABLE"], queues=queues[:120]).values()
    assert rows
    assert len(rows) == truth["AGENTS_AVAILABLE"]
    assert {row["activity"] for row in rows} == {"available"}
    assert all(row["contacts"] == "-" for row in rows)


def test_agents_table_by_routing_profile_and_the_profile_listing(
    cli_fake: tuple[FakeConnect, str, list[str]],
) -> None:
    """The table's header counts every agent; `routing-profiles` lists them all."""
    fake, instance_id, queues = cli_fake
    code, out, _ = run(
        fake, "agents", "--instance-id", instance_id, "--all-routing-profiles", "--format", "table"
    )
    assert code == 0
    [truth] = current_truth(fake, instance_id, ["AGENTS_ONLINE"], queues=queues).values()
    assert out.splitlines()[0].startswith(f"{truth['AGENTS_ONLINE']:g} agents at ")
    code, out, _ = run(fake, "routing-profiles", "--instance-id", instance_id, "--format", "json")
    centre = fake.centre(instance_id)
    assert code == 0
    assert [(p["id"], p["name"]) for p in json.loads(out)] == [
        (p.id, p.name) for p in centre.routing_profiles.values()
    ]


def test_current_by_every_routing_profile_shows_names(
    cli_fake: tuple[FakeConnect, str, list[str]],
) -> None:
    """Grouped by routing profile, the table shows profile names, not IDs."""
    fake, instance_id, _ = cli_fake
    argv = ["current", "AGENTS_ONLINE", "--instance-id", instance_id, "--all-routing-profiles"]
    code, out, _ = run(fake, *argv, "--group-by", "ROUTING_PROFILE", "--format", "table")
    assert code == 0
    names = {p.name for p in fake.centre(instance_id).routing_profiles.values()}
    shown = {line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")}
    assert shown - {"routing_profile_name"} == names
    code, out, _ = run(fake, *argv, "--group-by", "ROUTING_PROFILE", "--ids", "--format", "csv")
    assert next(csv.reader(io.StringIO(out))) == ["routing_profile_id", "AGENTS_ONLINE"]


def test_agents_without_a_selection_says_what_to_give(
    cli_fake: tuple[FakeConnect, str, list[str]],
) -> None:
    fake, instance_id, _ = cli_fake
    code, _, err = run(fake, "agents", "--instance-id", instance_id)
    assert code == 2
    assert "--all-routing-profiles" in err
    assert "--agents ID" in err


def test_without_permission_to_list_names_ids_are_shown(
    cli_fake: tuple[FakeConnect, str, list[str]],
) -> None:
    """A metrics-only role: the answer with IDs, and a note that says why."""
    fake, instance_id, queues = cli_fake
    fake.inject_fault("denied", operation="ListQueues")
    code, out, err = run(
        fake,
        "current",
        "CONTACTS_IN_QUEUE",
        "--instance-id",
        instance_id,
        "--queues",
        *queues[:5],
        "--group-by",
        "QUEUE",
        "--format",
        "csv",
    )
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["queue_id", "CONTACTS_IN_QUEUE"]
    assert {r[0] for r in rows[1:]} == set(queues[:5])
    assert "ListQueues is not allowed" in err


@pytest.fixture(name="quiet_fake")
def _quiet_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeConnect, str, list[str]]]:
    """A fake with 30 quiet queues (a twentieth of the traffic) on the real clock."""
    with FakeConnect(quotas=None, seed=9) as fake:
        instance_id = fake.add_instance(traffic=0.05)
        queues = fake.add_queues(instance_id, 30)
        credentials(monkeypatch)
        yield fake, instance_id, queues


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_historical_v2_by_hour_over_the_last_week(
    fmt: str, quiet_fake: tuple[FakeConnect, str, list[str]]
) -> None:
    """``historical --v2 --period HOUR --last 7d``: every queue-hour with contacts."""
    fake, instance_id, queues = quiet_fake
    code, out, err = run(
        fake,
        "historical",
        "CONTACTS_QUEUED",
        "AVG_HANDLE_TIME",
        "--v2",
        "--period",
        "HOUR",
        "--last",
        "7d",
        "--all-queues",
        "--group-by",
        "QUEUE",
        "--instance-id",
        instance_id,
        "--format",
        fmt,
    )
    assert (code, err) == (0, "")
    calls = [r for r in fake.requests if r.operation == "GetMetricDataV2"]
    assert {c.params["Interval"]["IntervalPeriod"] for c in calls} == {"HOUR"}
    first = min(c.params["StartTime"] for c in calls)
    last = max(c.params["EndTime"] for c in calls)
    assert last - first == 7 * 86_400
    if fmt != "json":
        assert "AVG_HANDLE_TIME" in out
        return
    truth = v2_truth(
        fake,
        instance_id,
        [(n, n, None, "") for n in ("CONTACTS_QUEUED", "AVG_HANDLE_TIME")],
        queues=queues,
        start=datetime.fromtimestamp(first, timezone.utc),
        end=datetime.fromtimestamp(last, timezone.utc),
        period=3600,
        groupings=["QUEUE"],
    )
    rows = json.loads(out)
    got = {
        (
            (("QUEUE", r["QUEUE"]), ("QUEUE_ARN", r["QUEUE_ARN"])),
            datetime.fromisoformat(r["interval_start"]).timestamp(),
            datetime.fromisoformat(r["interval_end"]).timestamp(),
        ): {"CONTACTS_QUEUED": r["CONTACTS_QUEUED"], "AVG_HANDLE_TIME": r["AVG_HANDLE_TIME"]}
        for r in rows
    }
    assert got == truth
    assert len(got) > 100


def test_historical_v2_still_takes_the_old_interval_option_and_says_it_is_deprecated(
    quiet_fake: tuple[FakeConnect, str, list[str]],
) -> None:
    """``--v2 --interval DAY`` answers as ``--period DAY`` does, with a note on stderr."""
    fake, instance_id, _ = quiet_fake
    answers = {
        option: run(
            fake,
            "historical",
            "CONTACTS_QUEUED",
            "--v2",
            option,
            "DAY",
            "--last",
            "3d",
            "--all-queues",
            "--instance-id",
            instance_id,
            "--format",
            "json",
        )
        for option in ("--period", "--interval")
    }
    new_code, new_out, new_err = answers["--period"]
    old_code, old_out, old_err = answers["--interval"]
    assert (new_code, new_err) == (old_code, "") == (0, "")
    assert old_out == new_out
    assert json.loads(new_out)  # rows, one a day
    assert "--interval is deprecated: use --period" in old_err
