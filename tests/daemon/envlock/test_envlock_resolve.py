"""resolve_lock on real project files against the real packages of this interpreter."""

from __future__ import annotations

import importlib.metadata as md
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mlops_daemon.envlock import EnvLockError, lock_for_packages, resolve_lock


def project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def names(lock: object) -> list[str]:
    return [p.name for p in lock.packages]  # type: ignore[attr-defined]


def installed(name: str) -> bool:
    try:
        md.version(name)
    except md.PackageNotFoundError:
        return False
    return True


def test_stdlib_only_module_needs_no_packages(tmp_path: Path) -> None:
    project(tmp_path, {"train.py": "import os, json\nfrom collections import Counter\n"})
    lock = resolve_lock(tmp_path, "train.py")
    assert lock.packages == ()
    assert lock.imports == ()
    assert lock.python == f"{sys.version_info.major}.{sys.version_info.minor}"


def test_numpy_is_locked_at_its_installed_version(tmp_path: Path) -> None:
    project(tmp_path, {"train.py": "import numpy as np\n"})
    lock = resolve_lock(tmp_path, "train.py")
    assert [(p.name, p.version) for p in lock.packages] == [("numpy", md.version("numpy"))]
    assert lock.imports == ("numpy",)
    assert all(p.filename is None and p.sha256 is None for p in lock.packages)


def test_dependencies_are_closed_over_with_markers_evaluated(tmp_path: Path) -> None:
    project(tmp_path, {"model/train.py": "import requests\nfrom jinja2 import Template\n"})
    lock = resolve_lock(tmp_path, "model/train.py")
    assert names(lock) == [
        "certifi",
        "charset-normalizer",
        "idna",
        "jinja2",
        "markupsafe",
        "requests",
        "urllib3",
    ]  # no PySocks or Babel: only their extras ask for them
    assert lock.imports == ("jinja2", "requests")
    assert [p.version for p in lock.packages] == [md.version(n) for n in names(lock)]


def test_extras_of_a_declared_requirement_are_included(tmp_path: Path) -> None:
    project(tmp_path, {"train.py": "pass\n", "requirements.txt": "jinja2[i18n]\n"})
    lock = resolve_lock(tmp_path, "train.py")
    assert names(lock) == ["babel", "jinja2", "markupsafe"]
    assert lock.requirements == ("jinja2[i18n]",)


def test_import_name_differs_from_distribution(tmp_path: Path) -> None:
    project(tmp_path, {"train.py": "import yaml\nfrom sklearn.linear_model import Ridge\n"})
    lock = resolve_lock(tmp_path, "train.py")
    assert "pyyaml" in names(lock)
    assert {"scikit-learn", "numpy", "scipy"} <= set(names(lock))
    assert lock.imports == ("sklearn", "yaml")


def test_local_and_relative_imports_are_followed_not_locked(tmp_path: Path) -> None:
    project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/train.py": """
                from . import features
                from .model import build
                import pkg.sub.deep
                from pkg.sub import other
                import mlops_kernel
                from mlops_kernel import log_metric
                def main(): ...
            """,
            "pkg/features.py": "import yaml\n",
            "pkg/model.py": "from ..outside import nothing\ndef build(): ...\n",
            "pkg/sub/__init__.py": "import numpy\n",
            "pkg/sub/deep.py": "import jinja2\n",
            "pkg/sub/other.py": "import six\n",
            "pkg/unused.py": "import requests\n",
        },
    )
    lock = resolve_lock(tmp_path, "pkg.train:main")
    assert lock.imports == ("jinja2", "numpy", "six", "yaml")
    assert "requests" not in names(lock)
    assert "pkg" not in names(lock)


def test_script_imports_its_sibling_modules(tmp_path: Path) -> None:
    project(
        tmp_path,
        {
            "scripts/train.py": "import helpers\nimport numpy\n",
            "scripts/helpers.py": "import yaml\n",
        },
    )
    lock = resolve_lock(tmp_path, "scripts/train.py")
    assert lock.imports == ("numpy", "yaml")


def test_optional_and_type_checking_imports(tmp_path: Path) -> None:
    project(
        tmp_path,
        {
            "train.py": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    import not_installed_typing_only
                try:
                    import not_installed_accelerator
                except ImportError:
                    not_installed_accelerator = None
                try:
                    import yaml
                except ModuleNotFoundError:
                    yaml = None
            """
        },
    )
    lock = resolve_lock(tmp_path, "train.py")
    assert names(lock) == ["pyyaml"]
    assert any("not_installed_accelerator" in note for note in lock.notes)


def test_declared_requirements_from_requirements_txt_and_pyproject(tmp_path: Path) -> None:
    project(
        tmp_path,
        {
            "train.py": "import numpy\n",
            "requirements.txt": f"""
                # pinned for the course
                six=={md.version("six")}  # inline comment
                -r more.txt
                --index-url https://example.invalid/simple
                colorama; sys_platform == "win32"
            """,
            "pyproject.toml": """
                [project]
                name = "course"
                version = "0"
                dependencies = ["iniconfig>=1"]
            """,
        },
    )
    lock = resolve_lock(tmp_path, "train.py")
    assert names(lock) == ["iniconfig", "numpy", "six"]
    assert lock.requirements == (f"six=={md.version('six')}", "iniconfig>=1")
    assert any("'-r'" in note for note in lock.notes)
    assert any("colorama" in note for note in lock.notes)


def test_tooling_only_when_declared(tmp_path: Path) -> None:
    if not installed("torch"):
        pytest.skip("torch is not installed in this environment")
    project(tmp_path, {"train.py": "import torch\n"})
    lock = resolve_lock(tmp_path, "train.py")
    assert "torch" in names(lock) and "setuptools" not in names(lock)
    (tmp_path / "requirements.txt").write_text("setuptools\n")
    assert "setuptools" in names(resolve_lock(tmp_path, "train.py"))


def test_missing_module_names_file_line_and_fix(tmp_path: Path) -> None:
    project(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/train.py": "import os\n\nimport surely_not_installed_x\n"},
    )
    with pytest.raises(EnvLockError) as caught:
        resolve_lock(tmp_path, "pkg.train:main")
    message = caught.value.message
    assert "pkg/train.py:3" in message
    assert "'surely_not_installed_x'" in message
    assert "pip install surely-not-installed-x" in message
    assert "requirements.txt" in message
    assert caught.value.http_status == 422
    assert caught.value.details == [
        {
            "subject": "surely_not_installed_x",
            "where": "pkg/train.py:3",
            "fix": caught.value.details[0]["fix"],
        }
    ]


def test_known_import_names_suggest_the_distribution(tmp_path: Path) -> None:
    project(tmp_path, {"train.py": "import cv2\n"})
    if installed("opencv-python") or installed("opencv-python-headless"):
        pytest.skip("cv2 is installed here")
    with pytest.raises(EnvLockError, match=r"train\.py:1.*pip install opencv-python"):
        resolve_lock(tmp_path, "train.py")


def test_unsatisfied_specifier_is_an_error(tmp_path: Path) -> None:
    project(tmp_path, {"train.py": "import numpy\n", "requirements.txt": "numpy<1\n"})
    with pytest.raises(EnvLockError) as caught:
        resolve_lock(tmp_path, "train.py")
    assert "requirements.txt:1" in caught.value.message
    assert f"numpy {md.version('numpy')} is installed" in caught.value.message


def test_declared_but_not_installed_and_all_problems_reported_together(tmp_path: Path) -> None:
    project(
        tmp_path,
        {
            "train.py": "import surely_not_installed_y\n",
            "requirements.txt": "numpy\nsurely-not-installed-z>=1\n",
        },
    )
    with pytest.raises(EnvLockError) as caught:
        resolve_lock(tmp_path, "train.py")
    message = caught.value.message
    assert message.startswith("2 problems")
    assert "train.py:1" in message and "requirements.txt:2" in message


def test_bad_requirement_and_syntax_error_and_missing_entry(tmp_path: Path) -> None:
    project(tmp_path, {"train.py": "import numpy\n", "requirements.txt": "numpy===>1\n"})
    with pytest.raises(EnvLockError, match=r"requirements\.txt:1"):
        resolve_lock(tmp_path, "train.py")
    (tmp_path / "requirements.txt").unlink()
    project(tmp_path, {"train.py": "import helpers\n", "helpers.py": "x = (\n"})
    with pytest.raises(EnvLockError, match=r"helpers\.py:1: syntax error"):
        resolve_lock(tmp_path, "train.py")
    with pytest.raises(EnvLockError, match="does not exist"):
        resolve_lock(tmp_path, "nope.py")


def test_entry_point_in_an_installed_package(tmp_path: Path) -> None:
    lock = resolve_lock(tmp_path, "yaml:safe_load")
    assert names(lock) == ["pyyaml"]
    assert resolve_lock(tmp_path, "json.tool:main").packages == ()
    assert resolve_lock(tmp_path, "mlops_kernel.launch:main").packages == ()


def test_id_is_stable_and_cached_snapshot_agrees(tmp_path: Path) -> None:
    project(tmp_path, {"train.py": "import requests\n"})
    first, second = resolve_lock(tmp_path, "train.py"), resolve_lock(tmp_path, "train.py")
    assert first == second and first.id == second.id
    assert len(first.id) == 16 and int(first.id, 16) >= 0


def test_module_cli_prints_the_lock(tmp_path: Path) -> None:
    project(tmp_path, {"train.py": "import yaml\n"})
    done = subprocess.run(
        [sys.executable, "-m", "mlops_daemon.envlock", str(tmp_path), "train.py"],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(done.stdout)
    assert [p["name"] for p in data["packages"]] == ["pyyaml"]
    assert data["id"] == resolve_lock(tmp_path, "train.py").id
    project(tmp_path, {"bad.py": "import surely_not_installed_w\n"})
    failed = subprocess.run(
        [sys.executable, "-m", "mlops_daemon.envlock", str(tmp_path), "bad.py"],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2 and "bad.py:1" in failed.stderr


def test_a_module_that_logs_a_model_gets_the_onnx_exporters(tmp_path: Path) -> None:
    code = "from sklearn.linear_model import Ridge\nfrom mlops_kernel import log_model\n"
    project(tmp_path, {"train.py": code})
    locked = names(resolve_lock(tmp_path, "train.py"))
    for name in ("scikit-learn", "skl2onnx", "onnx", "onnxruntime", "pydantic"):
        assert name in locked, locked
    project(tmp_path, {"train.py": "from sklearn.linear_model import Ridge\n"})
    assert "skl2onnx" not in names(resolve_lock(tmp_path, "train.py"))


def test_a_project_with_tests_gets_pytest_for_the_tests_gate(tmp_path: Path) -> None:
    project(tmp_path, {"train.py": "import json\n"})
    assert "pytest" not in names(resolve_lock(tmp_path, "train.py"))
    project(tmp_path, {"tests/test_train.py": "def test_x():\n    pass\n"})
    lock = resolve_lock(tmp_path, "train.py")
    assert ("pytest", md.version("pytest")) in [(p.name, p.version) for p in lock.packages]
    assert "pluggy" in names(lock)


def test_a_lock_of_named_packages_closes_over_what_they_require() -> None:
    lock = lock_for_packages(["pytest"])
    names = {p.name for p in lock.packages}
    assert {"pytest", "pluggy", "iniconfig", "packaging"} <= names
    assert all(p.version for p in lock.packages)
    with pytest.raises(EnvLockError, match="no-such-dist-xyz is not installed here"):
        lock_for_packages(["numpy", "no-such-dist-xyz"])
