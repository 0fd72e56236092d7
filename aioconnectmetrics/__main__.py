"""``python -m aioconnectmetrics``: the command line (see ``aioconnectmetrics --help``)."""

from ._cli import entry_point

if __name__ == "__main__":
    entry_point()
