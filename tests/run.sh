#!/usr/bin/env bash
# The project's one test command: `bash tests/run.sh [pytest args...]`.
#
# Works on a fresh clone of a fresh Debian 12 machine (CI runs it as root with
# CI=true and no stdin) and on a developer machine. It
#   1. installs the system packages the tests need (root only; otherwise it
#      says what is missing and goes on),
#   2. creates or reuses ./.venv and installs the project into it with
#      `pip install ".[test]"` (not editable, so packaging is checked too),
#   3. runs ruff check, ruff format --check, mypy and pytest (in parallel
#      workers, pytest-xdist),
#   4. runs the front end's unit tests (vitest, in labextension/) and the UI
#      tests (Galata in Debian's Chromium, in ui-tests/; artifacts: screenshots,
#      server and daemon logs in ui-tests/test-results/, the HTML report in
#      ui-tests/playwright-report/).
# Extra arguments go to pytest, e.g. `bash tests/run.sh -k store -x`.
# All check stages run even when an earlier one fails, so one run shows every
# problem; the script exits non-zero if any stage failed.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="$REPO_ROOT/.venv"
FAILED_STAGES=()

# shellcheck source=tests/docker-engine.sh
source "$REPO_ROOT/tests/docker-engine.sh"

# Print the total time however the script ends, and stop a dockerd we started.
trap 'stop_docker_engine; echo; echo "tests/run.sh: total elapsed ${SECONDS}s"' EXIT

header() {
    echo
    echo "======================================================================"
    echo "== $*"
    echo "======================================================================"
}

# --------------------------------------------------------------------------
# 1. System packages
# --------------------------------------------------------------------------

MISSING_PACKAGES=()

# want_package DEBIAN_PACKAGE CHECK_COMMAND...
# Records DEBIAN_PACKAGE as missing unless CHECK_COMMAND succeeds.
want_package() {
    local package=$1
    shift
    if ! "$@" >/dev/null 2>&1; then
        MISSING_PACKAGES+=("$package")
    fi
}

have_command() { command -v "$1"; }

# Debian keeps the server binaries off PATH, under /usr/lib/postgresql/N/bin;
# the postgres test fixture (tests/support/postgres.py) looks there too.
have_postgres_server() { compgen -G '/usr/lib/postgresql/*/bin/initdb'; }

# A Python >= 3.11 that can create a venv (Debian splits ensurepip off into
# python3-venv, and a fresh machine may have no python3 at all).
have_venv_python() {
    local python
    python=$(find_python) && "$python" -c 'import ensurepip, venv'
}

install_system_packages() {
    header "[1/8] system packages"
    # One line per package the tests need.
    want_package postgresql have_postgres_server
    want_package git have_command git
    want_package python3-venv have_venv_python
    want_package chromium have_command chromium
    want_package nodejs have_command node
    want_package docker.io have_command dockerd
    want_package debootstrap have_command debootstrap
    want_package openssl have_command openssl
    want_package openssh-server test -x /usr/sbin/sshd
    want_package openssh-client have_command ssh

    if ((${#MISSING_PACKAGES[@]} == 0)); then
        echo "all present"
        return 0
    fi
    echo "missing: ${MISSING_PACKAGES[*]}"
    if ((EUID != 0)) || ! have_command apt-get >/dev/null; then
        # Not fatal: tests that need a missing tool skip and say why.
        echo "not root (or no apt-get): install them yourself, e.g." \
            "sudo apt-get install ${MISSING_PACKAGES[*]}"
        return 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${MISSING_PACKAGES[@]}"
}

# --------------------------------------------------------------------------
# 2. Virtualenv and installation
# --------------------------------------------------------------------------

# Prints the name of a Python >= 3.11 interpreter on PATH.
find_python() {
    local candidate
    for candidate in python3.11 python3; do
        if have_command "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# pip install, quiet: --quiet still prints warnings and errors. Drops only the
# warnings some machines' pip config causes for every package (an extra index
# given as a local folder that lacks that package), which would bury the rest.
pip_install() {
    python -m pip install --quiet --disable-pip-version-check "$@" 2>&1 |
        { grep -v "^WARNING: Location 'file:.*' is ignored: it is neither a file nor a directory" || true; }
}

setup_venv() {
    header "[2/8] virtualenv ($VENV_DIR) and pip install \".[test]\""
    # Reuse the venv only if its interpreter still works: a venv whose base
    # Python was removed or upgraded is broken and must be rebuilt.
    if [[ -x "$VENV_DIR/bin/python" ]] &&
        "$VENV_DIR/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "reusing existing venv"
    else
        local python
        if ! python=$(find_python); then
            echo "error: need python3.11 or a python3 >= 3.11 on PATH" >&2
            return 1
        fi
        echo "creating venv with $python ($("$python" --version 2>&1))"
        rm -rf "$VENV_DIR"
        "$python" -m venv "$VENV_DIR"
    fi
    # shellcheck disable=SC1091  # created above, not in the repo
    source "$VENV_DIR/bin/activate"

    pip_install --upgrade pip
    # Not editable: installing the built wheel checks the packaging. pip
    # always rebuilds and reinstalls a local directory, so a reused venv never
    # tests stale code.
    pip_install ".[test]"
    echo "installed: $(python -m pip show jupyter-mlops 2>/dev/null | grep -E '^(Name|Version):' | tr '\n' ' ')"
}

# --------------------------------------------------------------------------
# 3. Checks
# --------------------------------------------------------------------------

# run_stage LABEL COMMAND...: runs COMMAND, records LABEL if it fails.
run_stage() {
    local label=$1
    shift
    header "$label"
    local status=0 started=$SECONDS
    "$@" || status=$?
    if ((status != 0)); then
        echo "FAILED: $label (exit $status, $((SECONDS - started))s)"
        FAILED_STAGES+=("$label")
    else
        echo "ok: $label ($((SECONDS - started))s)"
    fi
    return 0
}

# The front end's unit tests. `pip install .` built the front end, which ran
# `jlpm install` in labextension/, so its node_modules (vitest) are there.
run_frontend_unit_tests() {
    (cd labextension && jlpm typecheck && jlpm test)
}

# jlpm (yarn 3) install, quiet: drops its one line per fetched package.
jlpm_install() {
    jlpm install "$@" 2>&1 | { grep -v 'YN0013: ' || true; }
}

# The UI tests: Galata (Playwright) in Debian's Chromium against a real
# JupyterLab and daemon (see ui-tests/README.md).
run_ui_tests() {
    if ! have_command chromium >/dev/null || ! have_command node >/dev/null; then
        if ((EUID != 0)); then
            echo "skipped: no chromium or node, and not root to install them" \
                "(sudo apt-get install chromium nodejs)"
            return 0
        fi
        echo "chromium or node is missing although step 1 installed them" >&2
        return 1
    fi
    cd ui-tests || return 1
    local status=0
    jlpm_install --immutable || status=$?
    if ((status == 0)); then
        jlpm lint || status=$?
        jlpm playwright test || status=$?
    fi
    cd "$REPO_ROOT" || return 1
    return "$status"
}

# pytest-xdist workers: one per CPU, at least 2 (most slow tests wait on a daemon or
# a subprocess rather than compute) and at most 4. The Docker tests stay together on
# one worker (tests/conftest.py). Arguments given to tests/run.sh come after, so
# `bash tests/run.sh -n 0` runs serially (for -s or --pdb).
pytest_workers() {
    local cpus
    cpus=$(nproc 2>/dev/null || echo 2)
    ((cpus < 2)) && cpus=2
    ((cpus > 4)) && cpus=4
    echo "$cpus"
}

run_pytest() {
    local status=0
    pytest -n "$(pytest_workers)" --dist loadgroup "$@" || status=$?
    if ((status == 5)); then
        # We always have tests, so "no tests collected" means a broken
        # selection or collection, not success.
        echo "pytest collected no tests (exit 5): counted as a failure"
    fi
    return "$status"
}

main() {
    cd "$REPO_ROOT"
    local started=$SECONDS
    install_system_packages
    setup_venv
    setup_docker || FAILED_STAGES+=("[docker] engine and base image")
    echo "setup took $((SECONDS - started))s"

    # In CI the PostgreSQL server was installed by step 1, so a postgres test
    # that skips would hide a real problem: make the fixture fail instead.
    if [[ "${CI:-}" == "true" ]]; then
        export MLOPS_TEST_POSTGRES_REQUIRED="${MLOPS_TEST_POSTGRES_REQUIRED:-1}"
    fi

    run_stage "[3/8] ruff check ." ruff check .
    run_stage "[4/8] ruff format --check ." ruff format --check .
    run_stage "[5/8] mypy" mypy
    run_stage "[6/8] pytest${*:+ $*}" run_pytest "$@"
    run_stage "[7/8] front-end typecheck and unit tests (labextension: jlpm typecheck, jlpm test)" run_frontend_unit_tests
    run_stage "[8/8] UI tests (ui-tests: jlpm playwright test)" run_ui_tests

    header "summary"
    if ((${#FAILED_STAGES[@]} > 0)); then
        printf 'FAILED stage: %s\n' "${FAILED_STAGES[@]}"
        return 1
    fi
    echo "all stages passed"
}

main "$@"
