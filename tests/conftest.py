"""Root conftest: makes tests/support importable and registers its fixtures.

There are no __init__.py files under tests/, and pyproject.toml sets no
pytest ``pythonpath``, so the tests directory is put on sys.path here,
explicitly, rather than relying on pytest's default "prepend" import mode
(which would stop working under ``--import-mode=importlib``).
"""

import os
import sys
from pathlib import Path

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
