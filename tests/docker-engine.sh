# Sourced by tests/run.sh: a real Docker engine and the local base image the
# Docker tests build from (no registry can be reached, so the image is made
# from Debian packages with debootstrap and `docker import`).
#
# Uses a running engine when `docker info` answers; otherwise, as root, starts
# dockerd (log in tests/.docker/dockerd.log) and stops it when run.sh exits.
# Without root or dockerd the Docker tests skip and say why (under CI they fail).

DOCKER_STATE_DIR="$REPO_ROOT/tests/.docker"
TEST_BASE_IMAGE="${MLOPS_TEST_BASE_IMAGE:-local/python:3.11-bookworm}"
STARTED_DOCKERD_PID=""
# A dockerd started here also listens on TCP with mutual TLS, so that the tests can use
# it as a remote engine (DOCKER_HOST=tcp://..., DOCKER_TLS_VERIFY, DOCKER_CERT_PATH).
DOCKER_TLS_DIR="$DOCKER_STATE_DIR/tls"
DOCKER_TCP_HOST="tcp://127.0.0.1:${MLOPS_TEST_DOCKER_TCP_PORT:-2376}"

# make_tls_certificates DIR: a throwaway CA, a server certificate for 127.0.0.1 and a
# client certificate, named as the docker CLI and SDK expect (ca.pem, cert.pem, key.pem).
make_tls_certificates() {
    local dir=$1
    rm -rf "$dir" && mkdir -p "$dir" && (
        cd "$dir" || exit 1
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 3 \
            -subj "/CN=jupyter-mlops test CA"
        openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr \
            -subj "/CN=127.0.0.1"
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -out server-cert.pem -days 3 -extfile server.ext
        openssl req -newkey rsa:2048 -nodes -keyout key.pem -out client.csr \
            -subj "/CN=jupyter-mlops tests"
        printf 'extendedKeyUsage=clientAuth\n' >client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -out cert.pem -days 3 -extfile client.ext
    ) >"$DOCKER_STATE_DIR/openssl.log" 2>&1
}

docker_answers() { docker info >/dev/null 2>&1; }

start_docker_engine() {
    if docker_answers; then
        echo "a Docker engine answers: using it"
        return 0
    fi
    if ((EUID != 0)) || ! have_command dockerd >/dev/null; then
        echo "no Docker engine, and not root (or no dockerd) to start one: the Docker tests will skip"
        return 0
    fi
    mkdir -p "$DOCKER_STATE_DIR"
    local tls=()
    if have_command openssl >/dev/null && make_tls_certificates "$DOCKER_TLS_DIR"; then
        tls=(-H unix:///var/run/docker.sock -H "$DOCKER_TCP_HOST" --tlsverify
            --tlscacert "$DOCKER_TLS_DIR/ca.pem" --tlscert "$DOCKER_TLS_DIR/server-cert.pem"
            --tlskey "$DOCKER_TLS_DIR/server-key.pem")
    else
        echo "no TLS certificates (openssl failed, see $DOCKER_STATE_DIR/openssl.log): no TCP listener"
    fi
    dockerd "${tls[@]}" >"$DOCKER_STATE_DIR/dockerd.log" 2>&1 &
    STARTED_DOCKERD_PID=$!
    local _
    for _ in $(seq 1 120); do
        docker_answers && break
        sleep 0.5
    done
    if ! docker_answers; then
        echo "dockerd did not answer within 60 s; its log:" >&2
        tail -20 "$DOCKER_STATE_DIR/dockerd.log" >&2
        return 1
    fi
    echo "started dockerd (pid $STARTED_DOCKERD_PID)"
    if ((${#tls[@]} > 0)); then
        export MLOPS_TEST_DOCKER_TCP="$DOCKER_TCP_HOST" MLOPS_TEST_DOCKER_TLS="$DOCKER_TLS_DIR"
        echo "it also listens on $DOCKER_TCP_HOST with mutual TLS (certificates in $DOCKER_TLS_DIR)"
    fi
}

stop_docker_engine() {
    if [[ -n "$STARTED_DOCKERD_PID" ]]; then
        kill -TERM "$STARTED_DOCKERD_PID" 2>/dev/null || true
        wait "$STARTED_DOCKERD_PID" 2>/dev/null || true
    fi
}

build_test_base_image() {
    if ! docker_answers; then
        return 0
    fi
    if docker image inspect "$TEST_BASE_IMAGE" >/dev/null 2>&1; then
        echo "base image $TEST_BASE_IMAGE is present"
        return 0
    fi
    if ((EUID != 0)) || ! have_command debootstrap >/dev/null; then
        echo "base image $TEST_BASE_IMAGE is missing and debootstrap needs root: the Docker tests will skip"
        return 0
    fi
    local mirror rootfs
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    rootfs=$(mktemp -d "${TMPDIR:-/tmp}/mlops-rootfs.XXXXXX")
    echo "building $TEST_BASE_IMAGE with debootstrap from $mirror"
    if ! debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" "$mirror" >"$DOCKER_STATE_DIR/debootstrap.log" 2>&1; then
        echo "debootstrap failed; its log:" >&2
        tail -20 "$DOCKER_STATE_DIR/debootstrap.log" >&2
        rm -rf "$rootfs"
        return 1
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import -c 'CMD ["python3"]' - "$TEST_BASE_IMAGE" >/dev/null
    rm -rf "$rootfs"
    echo "built $TEST_BASE_IMAGE"
}

setup_docker() {
    header "[docker] engine and the tests' base image"
    mkdir -p "$DOCKER_STATE_DIR"
    start_docker_engine && build_test_base_image
    export MLOPS_TEST_BASE_IMAGE="$TEST_BASE_IMAGE"
}
