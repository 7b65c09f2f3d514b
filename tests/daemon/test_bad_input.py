"""Bad input gets a 4xx with a JSON body that says what is wrong; never a 500.

Everything goes over real HTTP to a real daemon (raw ``http.client``, so
malformed bodies can be sent as they are), and through the real ``mlops``
command line. Every error answer is checked for its status code and for a
JSON body with ``error`` and ``message``.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from support.daemon import DaemonProcess, running_daemon

pytestmark = pytest.mark.slow

UNKNOWN_ID = "feedfacecafe"


# -- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """One daemon for the module: the tests only read, or create runs of their own."""
    with running_daemon(tmp_path_factory.mktemp("bad-input") / "home") as proc:
        yield proc


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("project")
    (path / "hi.py").write_text("print('hi')\n")
    return path


@pytest.fixture(scope="module")
def finished_run(bad_daemon: DaemonProcess, project_dir: Path) -> dict[str, Any]:
    run = bad_daemon.submit(project_dir, "hi.py")
    done = bad_daemon.wait(run["id"])
    assert done["status"] == "succeeded", done
    return done


# -- helpers ---------------------------------------------------------------------------


class Answer:
    def __init__(self, status: int, content_type: str, data: bytes) -> None:
        self.status = status
        self.content_type = content_type
        self.data = data

    def json(self) -> Any:
        return json.loads(self.data)

    def __repr__(self) -> str:
        return f"HTTP {self.status} {self.content_type}: {self.data[:500]!r}"


def call(
    daemon: DaemonProcess,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw_body: bytes | None = None,
    query: dict[str, Any] | None = None,
    token: bool = True,
) -> Answer:
    """One request; ``raw_body`` is sent byte for byte, ``body`` as JSON."""
    if query is not None:
        path = f"{path}?{urlencode(query)}"
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {daemon.api.token}"
    payload = raw_body
    if body is not None:
        payload = json.dumps(body).encode()
    if payload is not None:
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection(daemon.api.host, daemon.api.port, timeout=30)
    try:
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        return Answer(resp.status, resp.getheader("Content-Type") or "", resp.read())
    finally:
        conn.close()


def expect_error(answer: Answer, status: int, *fragments: str) -> dict[str, Any]:
    """The answer is ``status`` with a JSON error body whose message has ``fragments``."""
    assert answer.status == status, answer
    assert answer.content_type.startswith("application/json"), answer
    body = answer.json()
    assert isinstance(body, dict), answer
    assert isinstance(body.get("error"), str) and body["error"], answer
    assert isinstance(body.get("message"), str) and body["message"], answer
    for fragment in fragments:
        assert fragment in body["message"], (fragment, body["message"])
    return body


def spec(project: Path | str, entry: str = "hi.py") -> dict[str, Any]:
    return {"project": str(project), "entry_point": entry}


def submit(daemon: DaemonProcess, body: Any) -> Answer:
    return call(daemon, "POST", "/api/runs", body)


# -- request bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_body",
    [b'{"project": ', b"{'project': '/x'}", b"not json", b"\xff\xfe\x00", b'{"a": 1} trailing'],
    ids=["truncated", "single-quotes", "text", "not-utf8", "trailing"],
)
def test_malformed_json_is_a_400(bad_daemon: DaemonProcess, raw_body: bytes) -> None:
    answer = call(bad_daemon, "POST", "/api/runs", raw_body=raw_body)
    body = expect_error(answer, 400, "not valid JSON")
    assert body["error"] == "invalid_input"


@pytest.mark.parametrize(
    "raw_body",
    [b"[]", b'[{"project": "/x", "entry_point": "a.py"}]', b'"text"', b"42", b"null", b""],
    ids=["empty-array", "array", "string", "number", "null", "no-body"],
)
def test_a_body_that_is_not_an_object_is_a_400(bad_daemon: DaemonProcess, raw_body: bytes) -> None:
    answer = call(bad_daemon, "POST", "/api/runs", raw_body=raw_body)
    expect_error(answer, 400, "must be a JSON object")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"bogus": 1}, "bogus"),
        ({"entrypoint": "hi.py"}, "entrypoint"),
        ({"resources": {"gpu": 1}}, "resources.gpu"),
    ],
)
def test_an_unknown_field_is_a_400_naming_it(
    bad_daemon: DaemonProcess, project_dir: Path, extra: dict[str, Any], field: str
) -> None:
    body = expect_error(submit(bad_daemon, spec(project_dir) | extra), 400, field)
    assert body["details"], body
    assert any(d["field"] == field for d in body["details"]), body["details"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"params": {"lr": [0.1, 0.2]}}, "params.lr"),
        ({"params": {"lr": {"a": 1}}}, "params.lr"),
        ({"params": {"": 1}}, "params"),
        ({"params": ["lr=1"]}, "params"),
        ({"resources": {"cpus": "two"}}, "resources.cpus"),
        ({"resources": {"cpus": 0}}, "resources.cpus"),
        ({"resources": {"memory_mb": -5}}, "resources.memory_mb"),
        ({"resources": {"memory_mb": 1.5}}, "resources.memory_mb"),
        ({"resources": {"gpus": -1}}, "resources.gpus"),
        ({"resources": {"timeout_s": -1}}, "resources.timeout_s"),
        ({"resources": "big"}, "resources"),
        ({"env": {"1BAD": "x"}}, "env"),
        ({"env": {"OK": 1}}, "env.OK"),
        ({"executor": "slurm"}, "executor"),
        ({"name": 7}, "name"),
        ({"project": 5}, "project"),
        ({"entry_point": ["hi.py"]}, "entry_point"),
        ({"entry_point": ""}, "entry_point"),
        ({"entry_point": "hi\x00.py"}, "entry_point"),
    ],
)
def test_a_wrong_type_or_value_is_a_400_naming_the_field(
    bad_daemon: DaemonProcess, project_dir: Path, extra: dict[str, Any], field: str
) -> None:
    body = expect_error(submit(bad_daemon, spec(project_dir) | extra), 400, field)
    assert body["error"] == "invalid_input"
    assert any(d["field"].startswith(field) for d in body["details"]), body["details"]


@pytest.mark.parametrize("missing", ["entry_point", "project"])
def test_a_missing_required_field_is_a_400_naming_it(
    bad_daemon: DaemonProcess, project_dir: Path, missing: str
) -> None:
    body = spec(project_dir)
    del body[missing]
    expect_error(submit(bad_daemon, body), 400, missing, "Field required")


def test_a_relative_project_path_is_a_400(bad_daemon: DaemonProcess) -> None:
    expect_error(submit(bad_daemon, spec("some/project")), 400, "must be an absolute path")


def test_a_missing_project_directory_is_a_400(bad_daemon: DaemonProcess, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-project"
    expect_error(submit(bad_daemon, spec(missing)), 400, str(missing), "does not exist")


def test_a_project_that_is_a_file_is_a_400(bad_daemon: DaemonProcess, project_dir: Path) -> None:
    a_file = project_dir / "hi.py"
    expect_error(submit(bad_daemon, spec(a_file)), 400, str(a_file))


@pytest.mark.parametrize("script", ["missing.py", "sub/missing.py", "."])
def test_a_script_that_does_not_exist_is_a_400_naming_it(
    bad_daemon: DaemonProcess, project_dir: Path, script: str
) -> None:
    expect_error(submit(bad_daemon, spec(project_dir, script)), 400, repr(script), "does not exist")


@pytest.mark.parametrize(
    "entry",
    ["a b:c", "mod:", ":f", "pkg..mod:f", "mod:f g", "mod:1f", "1mod:f", "mod:f:g"],
)
def test_bad_entry_point_syntax_is_a_400(
    bad_daemon: DaemonProcess, project_dir: Path, entry: str
) -> None:
    expect_error(submit(bad_daemon, spec(project_dir, entry)), 400, "invalid", repr(entry))


def test_a_module_that_is_not_found_is_a_400(bad_daemon: DaemonProcess, project_dir: Path) -> None:
    entry = "no_such_module_for_mlops_tests.sub:main"
    answer = submit(bad_daemon, spec(project_dir, entry))
    expect_error(answer, 400, "'no_such_module_for_mlops_tests.sub'", "found neither")


def test_refused_submissions_create_no_run(bad_daemon: DaemonProcess, tmp_path: Path) -> None:
    before = call(bad_daemon, "GET", "/api/runs").json()["total"]
    for body in (spec("relative"), spec(tmp_path / "missing"), {"project": "/x"}):
        assert submit(bad_daemon, body).status == 400
    assert call(bad_daemon, "GET", "/api/runs").json()["total"] == before


# -- unknown ids and states ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/runs/{id}"),
        ("GET", "/api/runs/{id}/metrics"),
        ("GET", "/api/runs/{id}/logs"),
        ("POST", "/api/runs/{id}/cancel"),
    ],
)
@pytest.mark.parametrize("run_id", [UNKNOWN_ID, "x", "%20", "%00", "..."], ids=str)
def test_an_unknown_run_id_is_a_404(
    bad_daemon: DaemonProcess, method: str, path: str, run_id: str
) -> None:
    body = expect_error(call(bad_daemon, method, path.format(id=run_id)), 404, "no run with id")
    assert body["error"] == "not_found"


def test_following_the_logs_of_an_unknown_run_is_a_404(bad_daemon: DaemonProcess) -> None:
    answer = call(bad_daemon, "GET", f"/api/runs/{UNKNOWN_ID}/logs", query={"follow": "true"})
    expect_error(answer, 404, UNKNOWN_ID)


def test_cancelling_a_finished_run_is_a_409(
    bad_daemon: DaemonProcess, finished_run: dict[str, Any]
) -> None:
    run_id = finished_run["id"]
    answer = call(bad_daemon, "POST", f"/api/runs/{run_id}/cancel")
    body = expect_error(answer, 409, run_id, "has already ended", "succeeded")
    assert body["error"] == "illegal_transition"
    after = call(bad_daemon, "GET", f"/api/runs/{run_id}").json()
    assert after["status"] == "succeeded"
    assert after["cancel_requested"] is False


# -- query strings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"sort": "bogus"}, "cannot sort by 'bogus'"),
        ({"sort": "metrics."}, "cannot sort by"),
        ({"sort": ""}, "cannot sort by"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "abc"}, "page"),
        ({"per_page": "100000"}, "per_page"),
        ({"per_page": "0"}, "per_page"),
        ({"status": "nonsense"}, "unknown status nonsense"),
        ({"status": "running,nonsense"}, "unknown status nonsense"),
        ({"order": "sideways"}, "order"),
        ({"bogus": "1"}, "bogus"),
        ({"per-page": "5"}, "per-page"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else "&".join(f"{k}={x}" for k, x in v.items()),
)
def test_a_bad_run_query_is_a_400(
    bad_daemon: DaemonProcess, query: dict[str, str], fragment: str
) -> None:
    answer = call(bad_daemon, "GET", "/api/runs", query=query)
    body = expect_error(answer, 400, fragment)
    assert body["error"] == "invalid_input"


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"offset": "-1"}, "offset"),
        ({"offset": "ten"}, "offset"),
        ({"max_bytes": "0"}, "max_bytes"),
        ({"max_bytes": str(10**12)}, "max_bytes"),
        ({"follow": "maybe"}, "follow"),
        ({"tail": "10"}, "tail"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else "&".join(f"{k}={x}" for k, x in v.items()),
)
def test_a_bad_log_query_is_a_400(
    bad_daemon: DaemonProcess, finished_run: dict[str, Any], query: dict[str, str], fragment: str
) -> None:
    answer = call(bad_daemon, "GET", f"/api/runs/{finished_run['id']}/logs", query=query)
    expect_error(answer, 400, fragment)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [({"key": ""}, "key"), ({"keys": "loss"}, "keys")],
    ids=["empty", "unknown"],
)
def test_a_bad_metrics_query_is_a_400(
    bad_daemon: DaemonProcess, finished_run: dict[str, Any], query: dict[str, str], fragment: str
) -> None:
    answer = call(bad_daemon, "GET", f"/api/runs/{finished_run['id']}/metrics", query=query)
    expect_error(answer, 400, fragment)


def test_a_log_offset_past_the_end_is_an_empty_chunk(
    bad_daemon: DaemonProcess, finished_run: dict[str, Any]
) -> None:
    run_id = finished_run["id"]
    whole = call(bad_daemon, "GET", f"/api/runs/{run_id}/logs").json()
    assert "hi" in whole["text"]
    answer = call(
        bad_daemon, "GET", f"/api/runs/{run_id}/logs", query={"offset": whole["next_offset"] + 1000}
    )
    assert answer.status == 200, answer
    chunk = answer.json()
    assert chunk["text"] == ""


def test_a_query_with_odd_characters_is_refused_cleanly(bad_daemon: DaemonProcess) -> None:
    for query, fragment in (
        ("sort=%FF", "sort"),
        ("project=%C0%AF", "project"),
        ("page=%E2%82%AC", "page"),
        ("per_page=%EF%BC%95", "per_page"),  # a full-width digit is no integer here
        ("page=%00", "page"),
        ("order=" + quote("ä"), "order"),
    ):
        answer = call(bad_daemon, "GET", f"/api/runs?{query}")
        expect_error(answer, 400, fragment)


# -- odd inputs that once were 500s -------------------------------------------------------


@pytest.mark.parametrize("ref", ["²", "9" * 30], ids=["superscript-digit", "huge-number"])
def test_an_odd_project_filter_is_not_a_500(bad_daemon: DaemonProcess, ref: str) -> None:
    answer = call(bad_daemon, "GET", "/api/runs", query={"project": ref})
    assert answer.status in (200, 400), answer
    assert answer.status != 500


@pytest.mark.parametrize("where", ["project", "script", "module"])
def test_an_overlong_path_component_is_a_400(
    bad_daemon: DaemonProcess, project_dir: Path, where: str
) -> None:
    long = "a" * 300
    body = {
        "project": spec(f"/{long}"),
        "script": spec(project_dir, f"{long}.py"),
        "module": spec(project_dir, f"{long}:main"),
    }[where]
    expect_error(submit(bad_daemon, body), 400)


def test_a_script_outside_the_project_is_refused(
    bad_daemon: DaemonProcess, project_dir: Path
) -> None:
    (project_dir.parent / "outside.py").write_text("print('escaped')\n")
    answer = submit(bad_daemon, spec(project_dir, "../outside.py"))
    expect_error(answer, 400, "outside the project")


def test_a_project_that_is_a_file_says_so(bad_daemon: DaemonProcess, project_dir: Path) -> None:
    afile = project_dir / "notadir.txt"
    afile.write_text("x")
    expect_error(submit(bad_daemon, spec(afile, "train.py")), 400, "not a directory")


# -- the command line --------------------------------------------------------------------


def test_cli_param_without_equals_exits_2_with_the_syntax(
    bad_daemon: DaemonProcess, project_dir: Path
) -> None:
    result = bad_daemon.cli("run", "x.py", "--project", str(project_dir), "--param", "bad")
    assert result.returncode == 2, result
    assert "KEY=VALUE" in result.stderr
    assert "'bad'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_run_of_a_missing_script_exits_2_naming_it(
    bad_daemon: DaemonProcess, project_dir: Path
) -> None:
    result = bad_daemon.cli("run", "missing.py", "--project", str(project_dir))
    assert result.returncode == 2, result
    assert "missing.py" in result.stderr
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_show_of_an_unknown_run_fails_with_not_found(bad_daemon: DaemonProcess) -> None:
    result = bad_daemon.cli("runs", "show", UNKNOWN_ID)
    assert result.returncode != 0, result
    assert f"no run with id '{UNKNOWN_ID}'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_cancel_of_a_finished_run_says_it_has_ended(
    bad_daemon: DaemonProcess, finished_run: dict[str, Any]
) -> None:
    result = bad_daemon.cli("runs", "cancel", finished_run["id"])
    assert result.returncode != 0, result
    assert "has already ended" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_list_with_a_bad_sort_exits_2(bad_daemon: DaemonProcess) -> None:
    result = bad_daemon.cli("runs", "list", "--sort", "bogus")
    assert result.returncode == 2, result
    assert "cannot sort by 'bogus'" in result.stderr


def _cli_without_daemon(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MLOPS_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "mlops_daemon", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_cli_with_no_daemon_says_how_to_start_one(tmp_path: Path) -> None:
    home = tmp_path / "empty-home"
    home.mkdir()
    result = _cli_without_daemon(home, "runs", "list")
    assert result.returncode == 1, result
    assert "mlops daemon start" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_with_a_dead_daemon_says_how_to_start_one(tmp_path: Path) -> None:
    """A daemon.json left by a daemon that died: nothing listens on its port."""
    home = tmp_path / "stale-home"
    home.mkdir()
    with socket.socket() as sock:  # a port that was free a moment ago, now closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (home / "daemon.json").write_text(
        json.dumps({"pid": 0, "port": port, "url": f"http://127.0.0.1:{port}"})
    )
    (home / "token").write_text("stale-token\n")
    result = _cli_without_daemon(home, "runs", "list")
    assert result.returncode == 1, result
    assert "mlops daemon start" in result.stderr
    assert "Traceback" not in result.stderr
