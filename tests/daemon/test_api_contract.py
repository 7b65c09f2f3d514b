"""The REST API keeps the contract its own OpenAPI document states.

Schemathesis reads the document a real daemon *serves* (``GET /api/openapi.json``)
and sends generated requests, valid and invalid, to every operation with the
bearer token; each answer must be no server error, a documented status code,
of a documented content type, and match the documented schema. Plain tests
then pin what the generator cannot see: which endpoints need the token, and
that unknown paths and wrong methods answer in JSON, not HTML.

Generation is derandomized and bounded (``MLOPS_CONTRACT_EXAMPLES`` per
operation, 50 by default), so a run is reproducible and takes seconds.
"""

from __future__ import annotations

import http.client
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from support.daemon import DaemonProcess, running_daemon

from mlops_daemon.server.openapi import build_openapi
from mlops_daemon.server.routes import ROUTES

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = int(os.environ.get("MLOPS_CONTRACT_EXAMPLES", "50"))
DUMMY_ID = "0123456789ab"


@pytest.fixture(scope="module")
def api_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """One daemon for the module: no test here depends on what another created."""
    with running_daemon(tmp_path_factory.mktemp("contract") / "home") as proc:
        yield proc


@pytest.fixture(scope="module")
def token(api_daemon: DaemonProcess) -> str:
    return (api_daemon.home / "token").read_text().strip()


@pytest.fixture(scope="module")
def real_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An existing, empty project directory, so generated entry points reach the
    filesystem checks instead of stopping at 'project directory does not exist'."""
    return tmp_path_factory.mktemp("contract-project")


TRAIN_SCRIPT = """
import math
from pathlib import Path

from mlops_kernel import get_params, log_artifact, log_metric, log_param, set_tags

print("params:", sorted(get_params()))
log_param("seen", True)
set_tags({"kind": "contract"})
for step in range(3):
    log_metric("loss", 1.0 / (step + 1), step=step)
log_metric("odd", math.nan)
log_metric("big", math.inf)
Path("model.txt").write_text("weights")
log_artifact("model.txt")
print("done")
"""


@pytest.fixture(scope="module")
def existing_run(api_daemon: DaemonProcess, real_project: Path) -> dict[str, Any]:
    """A finished run with params, metrics (NaN and infinity too), tags, an artifact
    and output, so generated requests get full answers to validate, not only 404s."""
    (real_project / "train.py").write_text(TRAIN_SCRIPT)
    params = {"lr": 0.1, "layers": 3, "name": "x", "flag": False, "none": None}
    run = api_daemon.submit(real_project, "train.py", params=params, name="contract")
    done = api_daemon.wait(run["id"])
    assert done["status"] == "succeeded", (done, api_daemon.log_tail())
    assert done["metrics"] and done["artifacts"], done
    return done


@pytest.fixture(scope="module")
def document(api_daemon: DaemonProcess) -> dict[str, Any]:
    served: dict[str, Any] = api_daemon.api.request("GET", "/api/openapi.json")
    return served


@pytest.fixture(scope="module")
def api_schema(api_daemon: DaemonProcess, token: str, existing_run: dict[str, Any]) -> Any:
    """The served document; the daemon behind it already has one finished run."""
    auth = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(
        f"{api_daemon.url}/api/openapi.json", headers=auth, timeout=30
    )
    schema.config.update(base_url=api_daemon.url, headers=auth, request_timeout=30)
    return schema


RANDOM, REAL_PROJECT, EXISTING_RUN = "random", "real-project", "existing-run"


def _cases() -> list[Any]:
    """(method, path, mode, variant) for every operation.

    ``random``: everything generated. ``real-project``: a submission whose project
    exists, so entry points reach the filesystem checks. ``existing-run``: the
    path's run id is a real run, so full answers (not only 404s) are validated.
    """
    cases = []
    for route in ROUTES:
        for op in route.operations:
            variants = [RANDOM]
            if op.body is not None and "project" in op.body.model_fields:
                variants.append(REAL_PROJECT)
            if "run_id" in route.path_params:
                variants.append(EXISTING_RUN)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                # Invalid requests need something to break: a typed query or body
                # (a bare string path parameter takes any string).
                if mode is GenerationMode.NEGATIVE and op.query is None and op.body is None:
                    continue
                label = "valid" if mode is GenerationMode.POSITIVE else "invalid"
                for variant in variants:
                    suffix = "" if variant == RANDOM else f"-{variant}"
                    name = f"{op.method.upper()} {route.path}-{label}{suffix}"
                    cases.append(pytest.param(op.method, route.path, mode, variant, id=name))
    return cases


@pytest.mark.parametrize(("method", "path", "mode", "variant"), _cases())
def test_every_operation_keeps_the_documented_contract(
    api_schema: Any,
    token: str,
    real_project: Path,
    existing_run: dict[str, Any],
    method: str,
    path: str,
    mode: GenerationMode,
    variant: str,
) -> None:
    """Generated requests, valid or not, get documented answers and never a 5xx.

    Built per operation with ``as_strategy`` and a plain ``@given`` rather than
    ``schemathesis.pytest.from_fixture``: its wrapper reads ``Node._nodeid``,
    which pytest 9.2 no longer has (AttributeError before any request is sent).
    """
    operation = api_schema[path][method]
    auth = {"Authorization": f"Bearer {token}"}
    fixed: dict[str, Any] = {}
    if variant == EXISTING_RUN:
        fixed["path_parameters"] = {"run_id": existing_run["id"]}
    strategy: st.SearchStrategy[schemathesis.Case] = operation.as_strategy(
        generation_mode=mode, **fixed
    )
    if variant == REAL_PROJECT:

        def into_project(case: schemathesis.Case) -> schemathesis.Case:
            if isinstance(case.body, dict):
                case.body["project"] = str(real_project)
            return case

        strategy = strategy.map(into_project)

    @hypothesis.settings(
        # Submissions into a real project are cheap and reach the most code (the
        # entry-point checks on the filesystem), so they get more examples.
        max_examples=MAX_EXAMPLES * 4 if variant == REAL_PROJECT else MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            hypothesis.HealthCheck.too_slow,
            hypothesis.HealthCheck.filter_too_much,
            hypothesis.HealthCheck.data_too_large,
        ],
    )
    @hypothesis.given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=auth, checks=CHECKS)

    check()


# -- the document itself ---------------------------------------------------------


def test_the_served_document_is_valid_openapi_3_1(
    document: dict[str, Any], api_schema: Any
) -> None:
    assert document["openapi"].startswith("3.1.")
    api_schema.validate()  # against the OpenAPI 3.1 meta-schema; raises if invalid
    served = {(method, path) for path, item in document["paths"].items() for method in item}
    declared = {(op.method, route.path) for route in ROUTES for op in route.operations}
    assert served == declared
    for method, path in declared:
        assert api_schema[path][method].method.lower() == method


def test_the_document_is_served_as_built(document: dict[str, Any]) -> None:
    assert document == json.loads(json.dumps(build_openapi()))


def test_every_operation_documents_its_answers(document: dict[str, Any]) -> None:
    public = {(op.method, route.path) for route in ROUTES for op in route.operations if op.public}
    for path, item in document["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            responses = op.get("responses")
            assert responses, f"{where} documents no responses"
            assert any(code.startswith("2") for code in responses), where
            secured = op.get("security", document.get("security")) != []
            assert secured == ((method, path) not in public), where
            if secured:
                assert "401" in responses, f"{where} needs the token but does not document 401"
            for code, answer in responses.items():
                if not code.startswith("2"):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (where, code)


# -- auth, unknown paths, wrong methods --------------------------------------------


def raw(
    daemon: DaemonProcess,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection(daemon.api.host, daemon.api.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


def json_error(content_type: str, data: bytes) -> dict[str, Any]:
    assert content_type.startswith("application/json"), (content_type, data[:200])
    body: dict[str, Any] = json.loads(data)
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body


SECURED = [
    pytest.param(
        op.method.upper(),
        re.sub(r"\{\w+\}", DUMMY_ID, route.path),
        id=f"{op.method.upper()} {route.path}",
    )
    for route in ROUTES
    for op in route.operations
    if not op.public
]


def test_health_needs_no_token(api_daemon: DaemonProcess) -> None:
    status, ctype, data = raw(api_daemon, "GET", "/health")
    assert status == 200, data
    assert ctype.startswith("application/json")
    body = json.loads(data)
    assert body["status"] == "ok"
    assert body["version"] and body["api_version"]


@pytest.mark.parametrize(
    "auth",
    [None, "Bearer wrong-token", "Bearer ", "Basic dXNlcjpwYXNz", "token-without-scheme"],
    ids=["none", "wrong", "empty", "basic", "no-scheme"],
)
@pytest.mark.parametrize(("method", "path"), SECURED)
def test_every_other_endpoint_refuses_a_missing_or_wrong_token(
    api_daemon: DaemonProcess, method: str, path: str, auth: str | None
) -> None:
    headers = {"Authorization": auth} if auth is not None else {}
    body = b"{}" if method == "POST" else None
    status, ctype, data = raw(api_daemon, method, path, headers, body)
    assert status == 401, data
    error = json_error(ctype, data)
    assert error["error"] == "unauthorized"
    assert "token" in error["message"]


def test_a_near_miss_token_is_refused(api_daemon: DaemonProcess, token: str) -> None:
    for wrong in (token[:-1], token + "x", token.upper() if token != token.upper() else "x"):
        status, ctype, data = raw(
            api_daemon, "GET", "/api/info", {"Authorization": f"Bearer {wrong}"}
        )
        assert status == 401, data
        assert json_error(ctype, data)["error"] == "unauthorized"


def test_the_right_token_passes(api_daemon: DaemonProcess, token: str) -> None:
    for header in (f"Bearer {token}", f"bearer {token}"):
        status, ctype, data = raw(api_daemon, "GET", "/api/info", {"Authorization": header})
        assert status == 200, data
        assert ctype.startswith("application/json")


@pytest.mark.parametrize("path", ["/nope", "/api/nope", "/api/runs/x/y/z", "/api"])
@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no-token"])
def test_unknown_path_is_a_json_404(
    api_daemon: DaemonProcess, token: str, path: str, with_token: bool
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if with_token else {}
    status, ctype, data = raw(api_daemon, "GET", path, headers)
    assert status == 404, data
    error = json_error(ctype, data)
    assert error["error"] == "not_found"
    assert path in error["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/runs"),
        ("PUT", "/api/runs"),
        ("PATCH", f"/api/runs/{DUMMY_ID}"),
        ("POST", f"/api/runs/{DUMMY_ID}"),
        ("GET", f"/api/runs/{DUMMY_ID}/cancel"),
        ("POST", f"/api/runs/{DUMMY_ID}/logs"),
        ("POST", "/api/info"),
        ("DELETE", "/api/openapi.json"),
        ("POST", "/health"),
        ("PUT", "/health"),
        ("BREW", "/api/runs"),
    ],
)
def test_wrong_method_is_a_json_405(
    api_daemon: DaemonProcess, token: str, method: str, path: str
) -> None:
    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
    status, ctype, data = raw(api_daemon, method, path, {"Authorization": f"Bearer {token}"}, body)
    assert status == 405, data
    assert b"<html" not in data.lower()
    error = json_error(ctype, data)
    assert error["error"] == "method_not_allowed"
