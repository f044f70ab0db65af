# lib.sh - shared plumbing for the shell integration tests (sourced, not run).
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   it_setup NAME                       temp dir in $tmp, removed (with the daemon) at exit
#   it_graph MIX SEED                   writes $tmp/graph + $tmp/state, manifest $tmp/manifest.json
#   it_start_daemon [ARGS...]           restored on $sock over that graph; $daemon_pid
#   it_stop_daemon                      SIGTERM; sets $daemon_rc (or "timeout")
#   pass / fail / check WHAT CMD...     counters $passed / $failed
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
src=${SOURCE_DIR:-$(cd "$here/../.." && pwd)}
build=${BUILD_DIR:-$src/build}
py=/usr/bin/python3 # Debian's, with grpcio; not a pyenv python3 on PATH
restored=$build/bin/restored

passed=0
failed=0
pass() { echo "ok   - $*"; passed=$((passed + 1)); }
fail() { echo "FAIL - $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

daemon_pid=
it_cleanup() {
        if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
                kill -KILL "$daemon_pid" 2>/dev/null
                wait "$daemon_pid" 2>/dev/null
        fi
        rm -rf "$tmp"
}

it_setup() {
        [ -x "$restored" ] || { echo "$1: $restored is not built"; exit 1; }
        tmp=$(mktemp -d "${TMPDIR:-/tmp}/restored-$1-XXXXXX")
        sock=$tmp/restore.sock
        trap it_cleanup EXIT
        trap 'exit 130' INT TERM
}

it_graph() {
        mkdir -p "$tmp/graph" "$tmp/state"
        echo '{}' >"$tmp/config.json"
        "$py" "$src/tests/tools/graphgen.py" --graph "$tmp/graph" --state "$tmp/state" --mix "$1" \
                --seed "$2" --manifest "$tmp/manifest.json" >"$tmp/graphgen.log" 2>&1 ||
                { echo "graphgen failed:"; cat "$tmp/graphgen.log"; exit 1; }
}

it_start_daemon() {
        "$restored" --graph "$tmp/graph" --state "$tmp/state" --socket "$sock" \
                --config "$tmp/config.json" "$@" >"$tmp/daemon.log" 2>&1 &
        daemon_pid=$!
        for _ in $(seq 1 150); do
                [ -S "$sock" ] && break
                kill -0 "$daemon_pid" 2>/dev/null || break
                sleep 0.1
        done
        [ -S "$sock" ] || { echo "restored did not create $sock:"; cat "$tmp/daemon.log"; exit 1; }
}

it_stop_daemon() {
        kill -TERM "$daemon_pid"
        for _ in $(seq 1 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$daemon_pid" 2>/dev/null; then
                daemon_rc=timeout
        else
                wait "$daemon_pid"
                daemon_rc=$?
        fi
}
