"""Other commits of this repository, checked out for a benchmark to import in one run.

``with checkouts(ROOT, ["64c5b5e"]) as sources:`` gives ``{"this checkout": ROOT,
"64c5b5e": <a temporary worktree>}``; the worktrees are removed after the block.
A benchmark runs each source in a child process with ``PYTHONPATH`` set to it (and a
working directory outside the repository), so that its package is the one imported.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def checkouts(root: Path, commits: Sequence[str]) -> Iterator[dict[str, Path]]:
    """This checkout and a temporary worktree of each commit, by name."""
    sources: dict[str, Path] = {"this checkout": root}
    worktrees: list[Path] = []
    try:
        for commit in commits:
            where = Path(tempfile.mkdtemp(prefix="acm-bench-"))
            subprocess.run(  # noqa: S603 - git, fixed arguments
                ["git", "-C", str(root), "worktree", "add", "--detach", str(where), commit],  # noqa: S607
                check=True,
                capture_output=True,
            )
            worktrees.append(where)
            sources[commit] = where
        yield sources
    finally:
        for where in worktrees:
            subprocess.run(  # noqa: S603 - git, fixed arguments
                ["git", "-C", str(root), "worktree", "remove", "--force", str(where)],  # noqa: S607
                check=False,
                capture_output=True,
            )
