"""The package installed without extras leaves other projects' pytest runs alone.

The ``pytest11`` entry point is the base package's, so its plugin loads wherever the
package is installed. This builds the wheel, installs it with pytest alone in a fresh
virtual environment (no moto), and runs pytest on a project that has nothing to do
with the library.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

UNRELATED = '''
def test_arithmetic():
    """A project that never heard of Amazon Connect."""
    assert 1 + 1 == 2
'''
PROBE = """
import sys
import _aioconnectmetrics_pytestplugin
print(sorted(set(sys.modules) & {"aioconnectmetrics", "aiobotocore"}))
"""
ASKS_FOR_THE_FAKE = '''
def test_wants_the_fake(connect_fake):
    """A test that asks for the fixture without the extra."""
'''


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and pip, fixed arguments
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(name="bare_env", scope="module")
def _bare_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment with the built wheel (no extras) and pytest: its python."""
    where = tmp_path_factory.mktemp("bare")
    built = run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", where, ROOT)
    assert built.returncode == 0, built.stderr
    (wheel,) = where.glob("aioconnectmetrics-*.whl")
    # No pip of its own (ensurepip costs seconds): this pip installs into it, and
    # without compiling botocore's thousands of modules, which a first import does.
    venv.create(where / "env", with_pip=False)
    python = where / "env" / "bin" / "python"
    installed = run(
        sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-compile",
        wheel, "pytest",
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return python


@pytest.mark.timeout(900)
def test_an_unrelated_project_runs_green_without_the_testing_extra(
    bare_env: Path, tmp_path: Path
) -> None:
    """An unrelated project's pytest run passes; the plugin loaded, moto absent."""
    assert run(bare_env, "-c", "import moto").returncode != 0  # the extra is really absent
    (tmp_path / "test_unrelated.py").write_text(UNRELATED)
    outcome = run(bare_env, "-m", "pytest", "-p", "no:cacheprovider", "-q", cwd=tmp_path)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert "1 passed" in outcome.stdout
    fixtures = run(bare_env, "-m", "pytest", "-p", "no:cacheprovider", "--fixtures", cwd=tmp_path)
    assert "connect_fake" in fixtures.stdout  # the plugin did load
    # Loading the plugin imports neither the package nor aiobotocore: no start-up cost.
    loaded = run(bare_env, "-c", PROBE)
    assert loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr


@pytest.mark.timeout(900)
def test_the_fixture_without_the_extra_names_the_extra(bare_env: Path, tmp_path: Path) -> None:
    """Only a test that asks for connect_fake fails, and it says what to install."""
    (tmp_path / "test_unrelated.py").write_text(UNRELATED)
    (tmp_path / "test_fake.py").write_text(ASKS_FOR_THE_FAKE)
    outcome = run(bare_env, "-m", "pytest", "-p", "no:cacheprovider", "-q", cwd=tmp_path)
    assert outcome.returncode == 1, outcome.stdout + outcome.stderr
    assert "1 passed" in outcome.stdout
    assert "aioconnectmetrics[testing]" in outcome.stdout
    assert "ModuleNotFoundError" not in outcome.stdout
