"""Root conftest: makes tests/support importable and registers its fixtures.

There are no __init__.py files under tests/, and pyproject.toml sets no
pytest ``pythonpath``, so the tests directory is put on sys.path here,
explicitly, rather than relying on pytest's default "prepend" import mode
(which would stop working under ``--import-mode=importlib``).
"""

import os
import sys
from pathlib import Path

import pytest

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

# Daemons started by tests run locally unless a test asks for Docker: with an
# engine up (as in CI), ``auto`` would otherwise send every run into a container.
os.environ.setdefault("MLOPS_DOCKER", "off")

# Fixture modules: each is loaded as a pytest plugin, so its fixtures are
# available to every test.
pytest_plugins = [
    "support.postgres",
    "support.daemon",
    "support.docker_engine",
    "support.ssh_engine",
    "support.stores",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``-n``), run the Docker tests one after another on one worker:
    they share one engine, its image cache and the wheelhouse downloads."""
    for item in items:
        if item.get_closest_marker("docker") is not None:
            item.add_marker(pytest.mark.xdist_group("docker"))
