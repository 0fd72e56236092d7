"""The code examples in README.md and docs/ run, against the fake service."""

from __future__ import annotations

import ast
import inspect
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import pytest

from aioconnectmetrics.testing import FakeConnect

ROOT = Path(__file__).parent.parent
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)
DOCUMENTS = [
    "README.md",
    "docs/guide.md",
    "docs/quota.md",
    "docs/metrics.md",
    "docs/caching.md",
    "docs/configuration.md",
    "docs/troubleshooting.md",
    "docs/replicas.md",
    "docs/exporter.md",
    "docs/live.md",
]


def python_blocks(path: Path) -> list[str]:
    return PYTHON_BLOCK.findall(path.read_text())


@pytest.fixture(name="docs_fake", scope="module")
def _docs_fake() -> Iterator[tuple[FakeConnect, str, list[str]]]:
    """A fake on the real clock (examples use datetime.now()), 150 queues, quotas off."""
    with FakeConnect(quotas=None, seed=3) as fake:
        instance_id = fake.add_instance()
        populated = fake.populate(instance_id, queues=150)
        yield fake, instance_id, list(populated.queue_ids)


@pytest.fixture(name="aws_env")
def _aws_env(
    monkeypatch: pytest.MonkeyPatch, docs_fake: tuple[FakeConnect, str, list[str]]
) -> None:
    """Examples build their clients from the standard chain: point it at the fake."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_CONNECT", docs_fake[0].endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "docs-example")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "docs-example-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


async def run_block(code: str, namespace: dict[str, Any]) -> None:
    """Run one example: in a thread when it starts its own event loop, else awaited here."""
    if "anyio.run(" in code:
        await anyio.to_thread.run_sync(exec, compile(code, "<example>", "exec"), namespace)
        return
    compiled = compile(code, "<example>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    outcome = eval(compiled, namespace)  # noqa: S307 - our own documentation's examples
    if inspect.iscoroutine(outcome):
        await outcome


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("document", DOCUMENTS)
async def test_examples_run(document: str, docs_fake: tuple[FakeConnect, str, list[str]]) -> None:
    """Every Python block of the document runs, in order, in one namespace."""
    fake, instance_id, queue_ids = docs_fake
    chat_queue = next(
        q for q in queue_ids if "CHAT" in fake.centre(instance_id).queues[q].channels
    )
    blocks = python_blocks(ROOT / document)
    assert blocks, f"{document} has no Python example"
    async with fake.metrics_client(instance_id) as cm:
        namespace: dict[str, Any] = {
            "__name__": "docs_example",
            "cm": cm,
            "queue_ids": queue_ids,
            "log": logging.getLogger("docs-example"),
            "result": await cm.get_current_metrics(["AGENTS_ONLINE"], queues="all"),
        }
        for block in blocks:
            code = block.replace("your-instance-id", instance_id).replace("queue-id", chat_queue)
            await run_block(code, namespace)
        if document == "docs/guide.md":  # the FastAPI wallboard of the guide: one request
            app = namespace["app"]
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://wallboard"
                ) as http:
                    response = await http.get("/wallboard")
            assert response.status_code == 200
            assert len(response.json()) == len(queue_ids)


pytest_plugins = ["pytester"]


def test_testing_guide_example_runs_in_a_fresh_session(pytester: pytest.Pytester) -> None:
    """The example of docs/testing.md passes as a user's own test file."""
    example, *_ = python_blocks(ROOT / "docs/testing.md")
    pytester.makepyfile(test_example=example)
    outcome = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning"
    )
    outcome.assert_outcomes(passed=1)


def test_testing_guide_other_consumer_snippet_runs() -> None:
    """The other-caller snippet of docs/testing.md runs against a fake with quotas on."""
    _, snippet = python_blocks(ROOT / "docs/testing.md")
    with FakeConnect() as fake:
        namespace: dict[str, Any] = {"fake": fake}
        exec(compile(snippet, "<example>", "exec"), namespace)  # noqa: S102 - our own docs
    assert (namespace["other"].rate, namespace["bursty"].burst) == (2.5, 4)
