"""``python -m aioconnectmetrics demo``: the tour against the embedded fake service."""

from __future__ import annotations

import sys

import anyio

from ._demo import run_demo


def main(argv: list[str] | None = None) -> int:
    """Run the named command; only ``demo`` for now."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["demo"]:
        sys.stderr.write("usage: python -m aioconnectmetrics demo\n")
        return 2
    anyio.run(run_demo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
