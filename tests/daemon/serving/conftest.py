"""Fixtures of the serving tests: three real scikit-learn models, logged once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.serving_models import LoggedModel, colours, diabetes, iris


@pytest.fixture(scope="session")
def logged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LoggedModel]:
    """``iris`` (classifier, numpy rows), ``diabetes`` (regressor, DataFrame columns) and
    ``colours`` (classifier behind a preprocess function that encodes a text column)."""
    root: Path = tmp_path_factory.mktemp("serving-models")
    models = [iris(root / "run-iris"), diabetes(root / "run-diabetes")]
    models.append(colours(root / "run-colours", root / "modules"))
    return {m.name: m for m in models}
