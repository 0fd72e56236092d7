"""The README's test command, timed on clean clones of given commits, install included.

What it measures: for each commit, in the order given, a fresh clone in a temporary
directory, checked out at the commit, then that commit's own README test command (the
line CI runs, found the way `.ci/run` finds it) run as a newcomer runs it: a new virtual
environment, pip's install, the whole suite. One after the other, never at once (each
uses every core). It prints the wall time of the whole command, the suite's own time
and count of tests as pytest reports them, and the ratio to the first commit.

Run: python -m benchmarks.suite_time COMMIT [COMMIT ...]   (from a clone of the project)
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The README's test command, as `.ci/run` finds it.
TEST_COMMAND = re.compile(r"^python3 -m venv \.venv && .* -m pytest.*$", re.MULTILINE)
#: pytest's last line: "1189 passed in 122.84s (0:02:02)".
SUMMARY = re.compile(r"(\d+) passed(?:, .*?)? in ([\d.]+)s")


def time_commit(commit: str) -> tuple[float, int, float, int]:
    """Wall seconds of the README command at `commit`; tests passed; suite seconds; exit code."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        git = shutil.which("git") or "git"
        subprocess.run([git, "clone", "-q", str(ROOT), str(repo)], check=True)  # noqa: S603 - fixed
        subprocess.run([git, "checkout", "-q", commit], cwd=repo, check=True)  # noqa: S603 - fixed
        match = TEST_COMMAND.search((repo / "README.md").read_text())
        if match is None:
            raise SystemExit(f"{commit}: README.md has no test command")
        start = time.perf_counter()
        # The README's own command, from the commit's own README (what CI runs).
        done = subprocess.run(  # noqa: S603
            [shutil.which("bash") or "bash", "-c", match.group(0)],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
    summary = SUMMARY.findall(done.stdout)
    passed, suite = (int(summary[-1][0]), float(summary[-1][1])) if summary else (0, 0.0)
    return wall, passed, suite, done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commits", nargs="+", help="commits to time, the first the baseline")
    args = parser.parse_args(argv)
    header = (
        f"{'commit':<10} {'wall s':>8} {'suite s':>8} {'tests':>6} {'exit':>4} {'vs first':>8}"
    )
    print(header)
    print("-" * len(header))
    first = None
    for commit in args.commits:
        wall, passed, suite, code = time_commit(commit)
        first = first or wall
        print(
            f"{commit[:10]:<10} {wall:8.1f} {suite:8.1f} {passed:6d} {code:4d} "
            f"{wall / first:7.2f}x",
            flush=True,
        )
    print("wall = the README's whole command: venv, pip install, the suite")
    return 0


if __name__ == "__main__":
    sys.exit(main())
