"""The package's layers: imports run one way, from the facade down.

The import graph is read from the source (every ``import`` and ``from ... import``,
inside functions and ``TYPE_CHECKING`` blocks too). The layer order is derived from it:
a module's level is one above the highest module it imports, which exists only while
the graph has no cycle, so an upward import (one that closes a cycle) fails here with
the cycle named. The derived order must also agree with the roles in
docs/architecture.md: a module imports only from its own role or the roles below it, and
the pure roles import nothing that does I/O.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import aioconnectmetrics

PACKAGE = Path(aioconnectmetrics.__file__).parent

#: Roles, bottom first (docs/architecture.md): each imports only from itself or below.
ROLES: list[tuple[str, set[str]]] = [
    (
        "foundation",
        {
            "_errors",
            "_catalog",
            "_v2.__init__",
            "_quota",
            "_checks",
            "redis._lua",
            "_v2.model",
            "_v2.catalog",
            "_stats",
            "_telemetry",
        },
    ),
    (
        "model",
        {
            "_metric",
            "_request",
            "_dropin",
            "_agents",
            "_plan",
            "_merge",
            "_profiles",
            "_cache",
            "_wire",
            "_result",
            "_v2.request",
            "_v2.build",
            "_v2.plan",
            "_v2.merge",
            "_v2.result",
            "_alerts",
        },
    ),
    (
        "io",
        {
            "_transport",
            "_identity",
            "_departure",
            "_limiter",
            "_retry",
            "_pages",
            "_directory",
            "_backend",
            "redis._guard",
            "redis._connect",
            "redis._limiter",
            "redis._backend",
            "redis.__init__",
        },
    ),
    (
        "runtime",
        {
            "_roster",
            "_fanout",
            "_front",
            "_runtime",
            "_metrics_path",
            "_agents_path",
            "_v2.fetch",
            "_follow",
        },
    ),
    ("facade", {"_boto", "_client_base", "_client", "__init__"}),
    (
        "tools",
        {
            "_cli.__init__",
            "_cli.export",
            "_cli.output",
            "_cli.watch",
            "_cli.board",
            "_board.__init__",
            "sse",
            "otlp",
            "_cli.v2",
            "_wallboard",
            "prometheus",
            "_demo",
            "__main__",
            "testing.__init__",
            "testing._accounts",
            "testing._answers",
            "testing._layouts",
            "testing._tls",
            "testing._fake",
            "testing._coverage",
            "testing._faults",
            "testing._listings",
            "testing._metrics",
            "testing._metrics_v2",
            "testing._quota",
            "testing._records",
            "testing._server",
            "testing._service",
            "testing._sim",
            "testing._sim_history",
            "testing._sim_model",
            "testing._tokens",
            "testing._userdata",
        },
    ),
]
PURE = {"foundation", "model"}
#: What pure modules may not import: the event loop, the network, the clock.
IO_MODULES = ("anyio", "asyncio", "aiobotocore", "botocore", "redis", "aiohttp", "socket")


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name relative to it."""
    return {
        ".".join(path.relative_to(PACKAGE).with_suffix("").parts): path
        for path in PACKAGE.rglob("*.py")
    }


def imports(name: str, path: Path, known: set[str]) -> tuple[set[str], set[str]]:
    """The package modules `name` imports, and the top-level outside packages."""
    inside, outside = set(), set()
    package = name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top == "aioconnectmetrics":
                    inside.add(alias.name.removeprefix("aioconnectmetrics.") or "__init__")
                else:
                    outside.add(top)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                module = node.module or ""
                if not module.startswith("aioconnectmetrics"):
                    outside.add(module.split(".")[0])
                    continue
                target = module.removeprefix("aioconnectmetrics").removeprefix(".")
            else:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            submodules = {f"{target}.{a.name}".lstrip(".") for a in node.names} & known
            if node.module is None and submodules:  # from . import _telemetry
                inside.update(submodules)
                continue
            for candidate in (target, f"{target}.__init__" if target else "__init__"):
                if candidate in known:
                    inside.add(candidate)
                    break
            else:  # from . import submodule
                inside.update(
                    f"{target}.{a.name}".lstrip(".")
                    for a in node.names
                    if f"{target}.{a.name}".lstrip(".") in known
                )
    inside.discard(name)
    return inside, outside


def graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    known = modules()
    return {name: imports(name, path, set(known))[0] for name, path in known.items()}


def derive_levels(edges: dict[str, set[str]]) -> dict[str, int]:
    """Each module's level: one above the highest it imports. A cycle fails, named."""
    levels: dict[str, int] = {}

    def level(name: str, path: tuple[str, ...]) -> int:
        if name in path:
            cycle = " -> ".join((*path[path.index(name) :], name))
            raise AssertionError(f"an upward import closes a cycle: {cycle}")
        if name not in levels:
            below = [level(dep, (*path, name)) for dep in edges[name]]
            levels[name] = 1 + max(below, default=-1)
        return levels[name]

    for name in edges:
        level(name, ())
    return levels


def test_imports_run_one_way() -> None:
    """The graph has no cycle: every module has a level, below everything importing it."""
    edges = graph()
    levels = derive_levels(edges)
    for name, deps in edges.items():
        assert all(levels[dep] < levels[name] for dep in deps)
    assert levels["_client"] > levels["_metrics_path"] > levels["_runtime"] > levels["_fanout"]
    assert levels["_fanout"] > levels["_pages"]
    assert levels["_pages"] > levels["_transport"] > levels["_errors"] == 0


def test_a_cycle_is_caught() -> None:
    """The check itself fails on an upward import (here, errors importing results)."""
    edges = graph()
    edges["_errors"] = edges["_errors"] | {"_result"}
    with pytest.raises(AssertionError, match="an upward import closes a cycle") as caught:
        derive_levels(edges)
    assert "_errors -> _result" in str(caught.value)


def test_every_module_has_a_role_and_imports_only_downwards() -> None:
    """Each module has a role (docs/architecture.md), and imports its own or lower ones."""
    rank = {name: i for i, (_, members) in enumerate(ROLES) for name in members}
    edges = graph()
    assert set(edges) == set(rank), "place every module in a role (docs/architecture.md)"
    upward = [
        f"{name} ({ROLES[rank[name]][0]}) imports {dep} ({ROLES[rank[dep]][0]})"
        for name, deps in edges.items()
        for dep in deps
        if rank[dep] > rank[name]
    ]
    assert upward == []


def test_pure_roles_do_no_io() -> None:
    """Validation, planning, merging and freshness import no event loop and no network."""
    known = modules()
    offenders = {
        name: sorted(set(IO_MODULES) & imports(name, path, set(known))[1])
        for name, path in known.items()
        for role, members in ROLES
        if role in PURE and name in members
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_roles_match_the_architecture_doc() -> None:
    """docs/architecture.md names every module in the role the test gives it."""
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    for role, members in ROLES:
        section = doc.split(f"### {role}", 1)[1].split("\n### ", 1)[0]
        for name in members:
            shown = name.replace(".", "/").replace("/__init__", "/__init__")
            assert f"`{shown}" in section, f"{name} is not under '{role}' in the doc"
