#!/usr/bin/env bash
# demo.sh - restored in one minute, as root on a fresh Debian 12 machine:
#   1. installs the build dependencies that are missing (apt-get),
#   2. builds restored and restorectl (cmake -S . -B build),
#   3. writes a demo iSulad graph into a temporary directory: every persisted status, several
#      restart policies, an --rm container, a health-checked one, one already in garbage.json,
#      and two broken ones (a truncated config.v2.json, a deleted image),
#   4. starts restored on a temporary socket, runs `restorectl restore`, then
#      `restorectl list --outcome failed`, and stops it again. Nothing outside the temporary
#      directory and ./build is touched.
# Exit status 0 when everything ran (the two failed containers are expected).
# BUILD_DIR=dir builds and runs from another build tree (default: build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${BUILD_DIR:-build}

pkgs=(build-essential cmake pkg-config libgrpc-dev protobuf-compiler protobuf-c-compiler
      libprotobuf-c-dev libjson-c-dev libsystemd-dev check grpc-proto python3 python3-grpcio
      python3-grpc-tools runc)

say() {
        if [ -t 1 ]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n%s\n' "$*"; fi
}
die() { echo "demo.sh: $*" >&2; exit 1; }

missing=()
for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        [ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]} (run as root to install them)"
        say "==> installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

say "==> building (cmake -S . -B $build && cmake --build $build -j2)"
mkdir -p "$build"
if ! { cmake -S . -B "$build" && cmake --build "$build" -j2; } >"$build/demo-build.log" 2>&1; then
        tail -40 "$build/demo-build.log" >&2
        die "build failed (full log: $build/demo-build.log)"
fi
echo "built $build/bin/restored and $build/bin/restorectl (log: $build/demo-build.log)"

tmp=$(mktemp -d -t restored-demo.XXXXXX)
daemon_pid=
cleanup() {
        local rc=$?
        if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
                kill -TERM "$daemon_pid" 2>/dev/null || true
                for _ in $(seq 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$daemon_pid" 2>/dev/null || true
                wait "$daemon_pid" 2>/dev/null || true
        fi
        rm -rf "$tmp"
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "==> writing a demo iSulad graph to $tmp/graph"
/usr/bin/python3 tests/tools/graphgen.py --graph "$tmp/graph" --state "$tmp/state" --mix demo \
        --manifest "$tmp/manifest.json"

sock=$tmp/restore.sock
say "==> starting: restored --graph $tmp/graph --state $tmp/state --socket $sock"
"$build/bin/restored" --graph "$tmp/graph" --state "$tmp/state" --socket "$sock" \
        >"$tmp/restored.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
        [ -S "$sock" ] && break
        kill -0 "$daemon_pid" 2>/dev/null || { cat "$tmp/restored.log" >&2; die "restored exited"; }
        sleep 0.1
done
[ -S "$sock" ] || die "restored did not create $sock within 10 s"

# restorectl exits 3 when the command worked but some container failed to restore: expected
# here, the demo graph holds two broken containers on purpose.
ctl() {
        local rc=0
        say "\$ restorectl $*"
        "$build/bin/restorectl" --socket "$sock" "$@" || rc=$?
        [ "$rc" = 0 ] || [ "$rc" = 3 ] || die "restorectl $* exited $rc"
}
ctl restore
ctl list --outcome failed

say "==> what you see"
echo "Containers recorded as running, paused, restarting or starting have no live process on this"
echo "machine, so restored finds them stopped: exit code 255, handed to GC (skip-gc), as iSulad does."
echo "For stopped ones it reports iSulad's decision: restart (policy), keep-stopped, or auto-remove (--rm)."
echo "The two broken containers fail with a stage, a reason and the file at fault; their files are untouched."

say "==> stopping restored"
kill -TERM "$daemon_pid"
for _ in $(seq 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$daemon_pid" 2>/dev/null; then
        die "restored did not exit within 5 s of SIGTERM"
fi
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
echo "done"
