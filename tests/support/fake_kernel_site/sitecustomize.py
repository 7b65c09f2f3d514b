"""Loaded at start by every Python process with this folder on its PYTHONPATH
(a test's daemon and CLI): swaps the kernel's extraction module for the fake in
``support/fake_notebook_kernel.py``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for `support`

from support import fake_notebook_kernel

fake_notebook_kernel.install()
