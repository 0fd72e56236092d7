"""`aioconnectmetrics fake`: the fake served on its own, in a process, for any client."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import boto3
import botocore.config
import pytest


@pytest.fixture(name="served")
def _served() -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """The command in a subprocess, and what it printed up to "serving"."""
    with subprocess.Popen(
        [sys.executable, "-m", "aioconnectmetrics", "fake", "--queues", "120", "--seed", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        said: dict[str, str] = {}
        try:
            assert process.stdout is not None
            for line in process.stdout:
                key, _, rest = line.partition(": ")
                said[key] = rest.strip()
                if line.startswith("serving"):
                    break
            yield process, said
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)


def test_the_served_fake_answers_plain_boto3(
    served: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    """It prints where it is; boto3 lists its queues and reads their metrics; SIGTERM ends it."""
    process, said = served
    client = boto3.client(
        "connect",
        endpoint_url=said["endpoint"],
        region_name=said["region"],
        aws_access_key_id="someone",
        aws_secret_access_key="anything",  # noqa: S106 - the fake takes any key
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )
    pages = client.get_paginator("list_queues").paginate(
        InstanceId=said["instance"], QueueTypes=["STANDARD"]
    )
    queues = [q["Id"] for page in pages for q in page["QueueSummaryList"]]
    assert len(queues) == 120
    response = client.get_current_metric_data(
        InstanceId=said["instance"],
        Filters={"Queues": queues[:100]},
        Groupings=["QUEUE"],
        CurrentMetrics=[{"Name": "AGENTS_ONLINE", "Unit": "COUNT"}],
    )
    assert len(response["MetricResults"]) == 100
    online = [r["Collections"][0]["Value"] for r in response["MetricResults"]]
    assert online == sorted(online, reverse=True)  # the service's default order
    assert sum(online) > 0
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def test_a_taken_port_is_said_plainly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        done = subprocess.run(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "aioconnectmetrics", "fake", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert f"--port {port}" in done.stderr
