"""The registry through a real daemon: `/api/models...` and `mlops models|promote|...`.

Runs with a registered model and a gate report are made through the store, opened
on the daemon's own database beside it (SQLite in WAL mode takes both).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from support.daemon import DaemonProcess
from support.model_registry import make_model_run

from mlops_daemon import client_models as api
from mlops_daemon.errors import Conflict, InvalidInput, NotFound
from mlops_daemon.store.repository import Store
from mlops_kernel.model_schemas import PromoteRequest

pytestmark = pytest.mark.slow


@pytest.fixture
def store(daemon: DaemonProcess) -> Iterator[Store]:
    s = Store(f"sqlite:///{daemon.home / 'mlops.db'}")
    try:
        yield s
    finally:
        s.close()


def post(daemon: DaemonProcess, path: str, body: Any, actor: str | None = None) -> Any:
    daemon.api.headers.pop("X-Mlops-Actor", None)
    if actor:
        daemon.api.headers["X-Mlops-Actor"] = actor
    return daemon.api.request("POST", path, body=body)


def test_promote_rollback_cutout_restore_over_http(daemon: DaemonProcess, store: Store) -> None:
    assert daemon.api.request("GET", "/api/models") == {"models": []}
    make_model_run(store, "r1")
    make_model_run(store, "r2")
    detail = post(daemon, "/api/models/iris/promote", {"version": 1, "alias": "production"}, "ann")
    assert [(a["alias"], a["version"]) for a in detail["aliases"]] == [("production", 1)]
    assert detail["events"][0]["actor"] == "ann"
    post(daemon, "/api/models/iris/promote", {"version": 2, "alias": "production"})
    assert daemon.api.request("GET", "/api/models/iris")["events"][0]["actor"] == "unknown"

    back = post(daemon, "/api/models/iris/rollback", {"alias": "production", "reason": "slow"})
    assert back["aliases"][0]["version"] == 1
    assert (back["events"][0]["action"], back["events"][0]["reason"]) == ("rollback", "slow")

    cut = post(daemon, "/api/models/iris/cutout", {"reason": "leaking data"})
    assert cut["aliases"][0]["cut_out"] and cut["aliases"][0]["cut_out_reason"] == "leaking data"
    assert store.resolve_alias("iris", "production").cut_out
    with pytest.raises(Conflict):
        post(daemon, "/api/models/iris/cutout", {"reason": "again"})
    restored = post(daemon, "/api/models/iris/restore", {"alias": "production"})
    assert not restored["aliases"][0]["cut_out"]

    listed = api.list_models(daemon.api).models
    assert [(m.name, m.latest_version, m.versions) for m in listed] == [("iris", 2, 2)]
    one = api.model_version(daemon.api, "iris", 1)
    assert one.aliases == ["production"] and one.gate is not None and one.gate.passed


def test_refusals_are_clear_4xx_answers(daemon: DaemonProcess, store: Store) -> None:
    make_model_run(store, "r1", gate="failed")
    with pytest.raises(Conflict, match=r"metric:accuracy.*--override --reason"):
        post(daemon, "/api/models/iris/promote", {"version": 1, "alias": "production"})
    with pytest.raises(InvalidInput, match="needs a reason"):
        post(
            daemon,
            "/api/models/iris/promote",
            {"version": 1, "alias": "production", "override": True},
        )
    bad_bodies: list[Any] = [
        {"version": 0, "alias": "production"},
        {"version": 1, "alias": "Production!"},
        {"version": 1, "alias": "production", "typo": 1},
        {"version": "one", "alias": "production"},
    ]
    for body in bad_bodies:
        with pytest.raises(InvalidInput):
            post(daemon, "/api/models/iris/promote", body)
    with pytest.raises(InvalidInput):
        post(daemon, "/api/models/iris/cutout", {})  # a reason is required
    with pytest.raises(NotFound):
        post(daemon, "/api/models/nope/promote", {"version": 1, "alias": "production"})
    with pytest.raises(NotFound):
        post(daemon, "/api/models/iris/promote", {"version": 10**12, "alias": "production"})
    for path in (
        "/api/models/nope",
        "/api/models/iris/versions/abc",
        "/api/models/iris/versions/9",
    ):
        with pytest.raises(NotFound):
            daemon.api.request("GET", path)
    with pytest.raises(InvalidInput, match="X-Mlops-Actor"):
        post(
            daemon,
            "/api/models/iris/promote",
            {"version": 1, "alias": "production"},
            actor="x" * 300,
        )
    api.set_actor(daemon.api, "carol")
    detail = api.promote(
        daemon.api,
        "iris",
        PromoteRequest(version=1, alias="staging", override=True, reason="demo day"),
    )
    assert detail.events[0].override and detail.events[0].reason == "demo day"
    assert detail.events[0].actor == "carol"


def test_the_cli(daemon: DaemonProcess, store: Store) -> None:
    out = daemon.cli("models")
    assert out.returncode == 0 and "no models yet" in out.stdout
    make_model_run(store, "r1")
    make_model_run(store, "r2", gate="failed")

    promoted = daemon.cli("promote", "iris", "1", "production")
    assert promoted.returncode == 0, promoted.stderr
    assert "iris@production -> version 1" in promoted.stdout

    refused = daemon.cli("promote", "iris", "2", "production")
    assert refused.returncode == 1
    assert "metric:accuracy" in refused.stderr and "Traceback" not in refused.stderr
    needs_reason = daemon.cli("promote", "iris", "2", "production", "--override")
    assert needs_reason.returncode == 2 and "needs a reason" in needs_reason.stderr
    forced = daemon.cli("promote", "iris", "2", "production", "--override", "--reason", "demo")
    assert forced.returncode == 0 and "OVERRIDE" in forced.stdout

    rolled = daemon.cli("rollback", "iris", "production", "--reason", "bad")
    assert rolled.returncode == 0 and "version 1" in rolled.stdout
    cut = daemon.cli("cutout", "iris", "--reason", "incident 42")
    assert cut.returncode == 0 and "CUT OUT (incident 42)" in cut.stdout
    assert daemon.cli("cutout", "iris").returncode == 2  # --reason is required
    assert daemon.cli("restore", "iris", "production").returncode == 0
    bad_alias = daemon.cli("restore", "iris", "Not An Alias")
    assert bad_alias.returncode == 2 and "alias" in bad_alias.stderr

    table = daemon.cli("models")
    assert table.returncode == 0 and "production=v1" in table.stdout
    shown = daemon.cli("models", "iris")
    assert shown.returncode == 0
    assert "OVERRIDE" in shown.stdout and "incident 42" in shown.stdout
    assert "failed" in shown.stdout  # version 2's gates
    as_json = json.loads(daemon.cli("models", "iris", "--json").stdout)
    actions = [e["action"] for e in as_json["events"]]
    assert actions == ["restore", "cutout", "rollback", "promote", "promote"]
    assert len({e["actor"] for e in as_json["events"]}) == 1
    assert as_json["events"][0]["actor"] != "unknown"
    assert daemon.cli("models", "nope").returncode == 1
