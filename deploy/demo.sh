#!/usr/bin/env bash
# demo.sh - restored in one minute, as root on a fresh Debian 12 machine:
#   1. installs the build dependencies that are missing (apt-get),
#   2. builds restored and restorectl (cmake -S . -B build),
#   3. writes a demo iSulad graph into a temporary directory: every persisted status, several
#      restart policies, an --rm container, a health-checked one, one already in garbage.json,
#      and two broken ones (a truncated config.v2.json, a deleted image),
#   4. if runc works here, adds ONE really running container to it: `sleep infinity` in a
#      runc container started by build/bin/test-shim (an isulad-shim stand-in), laid out as
#      iSulad lays it out with its real pid/start-time 4-tuple (tests/bench/sync_graph.py);
#      if not, says so in one line and goes on without it,
#   5. starts restored on a temporary socket, runs `restorectl restore`, then
#      `restorectl list --outcome failed`, and stops it again. On exit (also on failure or ^C)
#      the live container is killed and deleted (runc --root <its root>) and its shim killed.
#      Nothing outside the temporary directory and ./build is touched (runc's cgroup for the
#      container comes and goes with it).
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
live_pid=
runc_bin=
stop_pid() {    # TERM, up to $2 tenths of a second, then KILL
        kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
        kill -TERM "$1" 2>/dev/null || true
        for _ in $(seq "$2"); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
}
# The live container: its holder (sync_graph.py, the shim's subreaper) kills and deletes it
# and reaps the shim on SIGTERM; if it could not, do it here with the container's own --root.
stop_live() {
        local id root shim _
        [ -n "$live_pid" ] || return 0
        stop_pid "$live_pid" 200
        live_pid=
        [ -n "$runc_bin" ] || return 0
        for d in "$tmp"/state/runc/*/; do
                [ -d "$d/runc" ] || continue
                id=$(basename "$d") root=$d/runc
                if "$runc_bin" --root "$root" state "$id" >/dev/null 2>&1; then
                        "$runc_bin" --root "$root" kill "$id" KILL >/dev/null 2>&1 || true
                        sleep 0.2
                        "$runc_bin" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
                fi
                shim=$(cat "$d/shim-pid" 2>/dev/null) || continue
                if grep -qs test-shim "/proc/$shim/cmdline"; then kill -KILL "$shim" 2>/dev/null || true; fi
        done
}
cleanup() {
        local rc=$?
        trap '' INT TERM
        if [ -n "$daemon_pid" ]; then stop_pid "$daemon_pid" 50; fi
        stop_live
        rm -rf "$tmp"
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "==> writing a demo iSulad graph to $tmp/graph"
/usr/bin/python3 tests/tools/graphgen.py --graph "$tmp/graph" --state "$tmp/state" --mix demo \
        --seed 1 --manifest "$tmp/manifest.json"

# One really running container, if runc works here (root, runc on PATH, a kernel that lets it
# create namespaces and cgroups). Anything failing only skips it.
live=0
skip_live() { echo "live container skipped: $*"; }
say "==> starting one real container (runc, sleep infinity) in the demo graph"
if [ "$(id -u)" != 0 ]; then
        skip_live "runc needs root"
elif ! runc_bin=$(command -v runc) || ! "$runc_bin" --version >/dev/null 2>&1; then
        runc_bin=
        skip_live "runc is not installed or does not run"
elif [ ! -x "$build/bin/test-shim" ] || [ ! -e "$build/bin/mkbundle.sh" ]; then
        skip_live "$build/bin/test-shim or mkbundle.sh was not built"
else
        # seed 1: the same image store graphgen just wrote, so its busybox:latest resolves
        /usr/bin/python3 tests/bench/sync_graph.py --add --build "$build" --graph "$tmp/graph" \
                --state "$tmp/state" --bundle "$tmp/bundle" -n 1 --seed 1 --name live-sleep \
                --ready "$tmp/live.ready" </dev/null >"$tmp/live.log" 2>&1 &
        live_pid=$!
        for _ in $(seq 300); do
                [ -f "$tmp/live.ready" ] && break
                kill -0 "$live_pid" 2>/dev/null || break
                sleep 0.1
        done
        if [ -f "$tmp/live.ready" ]; then
                live=1
                read -r live_id live_root live_shim live_ctr _ <"$tmp/live.ready"
                echo "live-sleep (${live_id:0:12}): container pid $live_ctr, shim pid $live_shim," \
                        "runc --root $live_root"
        else
                stop_live
                why=$(grep -m1 '^sync_graph.py: ' "$tmp/live.log" | cut -c16-200) || true
                skip_live "${why:-it did not start within 30 s}"
        fi
fi

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
if [ "$live" = 1 ]; then
        echo "live-sleep really runs: its shim is alive, \`runc state\` says running and its pid, ppid and"
        echo "start times match /proc, so restored reports it running, reattach (the engine re-opens its exit FIFO)."
        echo "The other containers recorded as running, paused, restarting or starting have no live process on this"
else
        echo "Containers recorded as running, paused, restarting or starting have no live process on this"
fi
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
if [ "$live" = 1 ]; then
        say "==> removing live-sleep (runc kill + delete, shim reaped)"
        stop_live
fi
echo "done"
