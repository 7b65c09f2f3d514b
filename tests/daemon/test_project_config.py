"""mlops.toml: optional, typed, and a clear message when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_daemon.errors import InvalidInput
from mlops_daemon.project_config import load_project_config


def test_a_missing_file_means_the_defaults(tmp_path: Path) -> None:
    config = load_project_config(tmp_path)
    assert config.path is None and config.docker.base_image is None


def test_docker_settings_are_read(tmp_path: Path) -> None:
    (tmp_path / "mlops.toml").write_text(
        '[docker]\nbase_image = "python:3.11-slim"\nca_bundle = "certs/ca.pem"\n'
    )
    config = load_project_config(tmp_path)
    assert config.docker.base_image == "python:3.11-slim"
    assert config.docker.ca_bundle == tmp_path / "certs" / "ca.pem"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[docker\n", "is not valid TOML"),
        ("docker = 3\n", "must be a table"),
        ("[docker]\nbase_image = 3\n", "base_image must be a non-empty string"),
    ],
)
def test_mistakes_are_one_line_messages(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "mlops.toml").write_text(text)
    with pytest.raises(InvalidInput, match=message):
        load_project_config(tmp_path)
