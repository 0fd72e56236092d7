"""aioconnectmetrics' pytest plugin: the ``connect_fake`` fixture (entry point ``pytest11``).

The entry point belongs to the base package (an entry point cannot depend on an extra),
so pytest loads this module in every environment the package is installed in, extras or
not, whether the project under test uses the library or not. So it imports nothing at
load time but pytest and the standard library, and it is a top-level module, as
hypothesis' ``_hypothesis_pytestplugin`` is: a module inside the package would import
the package, and aiobotocore with it, at the start of every pytest run. The fake, and
moto under it, are imported when a test asks for the fixture; a missing ``testing``
extra is then an error of that test, naming the extra, never of the whole run.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from aioconnectmetrics.testing import FakeConnect

#: What the fixture needs beyond the base package: moto's server, from the extra.
EXTRA_HINT = "pip install 'aioconnectmetrics[testing]'"


@pytest.fixture(name="connect_fake")
def _connect_fake() -> Iterator[FakeConnect]:
    """A running `FakeConnect` with quotas on, stopped after the test."""
    if importlib.util.find_spec("moto") is None:
        pytest.fail(
            f"the connect_fake fixture needs the 'testing' extra (moto's server): {EXTRA_HINT}",
            pytrace=False,
        )
    from aioconnectmetrics.testing import FakeConnect  # noqa: PLC0415 - the extra's, on use

    with FakeConnect() as fake:
        yield fake
