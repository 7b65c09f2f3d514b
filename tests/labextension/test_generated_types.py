"""The front end's TypeScript types match the OpenAPI document the daemon serves today.

``labextension/src/api/schema.ts`` is generated (``jlpm gen:types``); this fails when a
wire schema changed and nobody regenerated it, so the browser cannot drift from the API.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_daemon.server.openapi import build_openapi

LABEXTENSION = Path(__file__).resolve().parents[2] / "labextension"


def test_schema_ts_is_generated_from_the_current_openapi_document(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (LABEXTENSION / "node_modules" / "openapi-typescript").is_dir():
        reason = "needs node and labextension/node_modules (made by `pip install .`)"
        if os.environ.get("CI") == "true":  # CI installs both: a skip would hide a bug
            pytest.fail(reason)
        pytest.skip(reason)
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(build_openapi()))
    check = subprocess.run(
        [node, "scripts/gen-types.mjs", "--check", "--input", str(document)],
        cwd=LABEXTENSION,
        capture_output=True,
        text=True,
        env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"},
    )
    assert check.returncode == 0, (
        "src/api/schema.ts is stale: run `cd labextension && jlpm gen:types`\n"
        + check.stdout
        + check.stderr
    )
