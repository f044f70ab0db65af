#!/bin/bash
# bench.sh - restored's restore time against the bare read+parse baseline.
#
#   tests/bench/bench.sh [-n 10000] [-w WORKERS] [-r RUNS] [--cold] [--build DIR] [--keep]
#
# Generates N containers (graphgen.py --mix bench) into a temporary graph, starts
# build/bin/restored on a temporary socket, then alternates RUNS times:
#   restore-baseline --threads W     open/read/json-c-parse the 3 container files, nothing else
#   restorectl -o json restore --dry-run
# (after one untimed warm-up of each; with --cold, caches are dropped before every timed run).
# Reports the medians of the baseline, of restored's own summary.durationUs and of the client
# wall time (process start to exit, so it includes the RPC and the 10k-result response), the
# ratios to the baseline, and the daemon's peak RSS (VmHWM). The last line is one JSON object.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
count=10000
workers=$(nproc)
runs=5
cold=0
keep=0
build=${BUILD_DIR:-$root/build}

usage() {
        sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

while [ $# -gt 0 ]; do
        case $1 in
        -n) count=$2; shift 2 ;;
        -w) workers=$2; shift 2 ;;
        -r) runs=$2; shift 2 ;;
        --cold) cold=1; shift ;;
        --build) build=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
        esac
done
case "$count$workers$runs" in *[!0-9]*|'') usage >&2; exit 2 ;; esac
[ "$workers" -ge 1 ] && [ "$runs" -ge 1 ] || { usage >&2; exit 2; }

die() { echo "bench.sh: $*" >&2; exit 1; }

restored=$build/bin/restored
restorectl=$build/bin/restorectl
[ -x "$restored" ] && [ -x "$restorectl" ] ||
        die "$restored or $restorectl missing; build first: cmake -S $root -B $build && cmake --build $build -j2"
if [ "$cold" = 1 ] && [ ! -w /proc/sys/vm/drop_caches ]; then
        die "--cold needs root (writes /proc/sys/vm/drop_caches)"
fi

# /var/tmp, not /tmp: on some hosts /tmp is a tmpfs, which would make --cold meaningless.
tmp=$(mktemp -d -p "${TMPDIR:-/var/tmp}" restored-bench.XXXXXX)
daemon_pid=
cleanup() {
        local rc=$?
        if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
                kill -TERM "$daemon_pid" 2>/dev/null || true
                for _ in $(seq 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$daemon_pid" 2>/dev/null || true
                wait "$daemon_pid" 2>/dev/null || true
        fi
        if [ "$keep" = 1 ]; then
                echo "bench.sh: kept $tmp" >&2
        else
                rm -rf "$tmp"
        fi
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

baseline=$build/bin/restore-baseline
if [ ! -x "$baseline" ]; then
        # Not hooked into this build tree (yet): compile it on the side.
        baseline=$tmp/restore-baseline
        cc -std=c11 -D_GNU_SOURCE -O2 -o "$baseline" "$here/baseline.c" \
                $(pkg-config --cflags --libs json-c) -pthread || die "cannot compile baseline.c"
fi

echo "== generating $count containers (graphgen.py --mix bench) in $tmp"
/usr/bin/python3 "$root/tests/tools/graphgen.py" --graph "$tmp/graph" --state "$tmp/state" \
        --mix bench --count "$count" --seed 1 --manifest "$tmp/manifest.json"

sock=$tmp/restore.sock
"$restored" --graph "$tmp/graph" --state "$tmp/state" --socket "$sock" --workers "$workers" \
        >"$tmp/restored.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
        [ -S "$sock" ] && break
        kill -0 "$daemon_pid" 2>/dev/null || { cat "$tmp/restored.log" >&2; die "restored exited"; }
        sleep 0.1
done
[ -S "$sock" ] || die "restored did not create $sock within 10 s"

drop_caches() {
        if [ "$cold" = 1 ]; then
                sync
                echo 3 >/proc/sys/vm/drop_caches
        fi
}

now_us() { echo $(($(date +%s%N) / 1000)); }

# One baseline run; prints elapsed_us.
run_baseline() {
        local out
        out=$("$baseline" --graph "$tmp/graph" --threads "$workers")
        /usr/bin/python3 -c 'import json,sys
d = json.loads(sys.argv[1])
if d["containers"] != int(sys.argv[2]) or d["errors"]:
    sys.exit("baseline saw %d containers, %d errors" % (d["containers"], d["errors"]))
print(d["elapsed_us"])' "$out" "$count"
}

# One dry-run restore; prints "server_us client_us".
run_restored() {
        local t0 t1 rc=0
        t0=$(now_us)
        "$restorectl" --socket "$sock" --timeout 600 -o json restore --dry-run >"$tmp/out.json" || rc=$?
        t1=$(now_us)
        # 3 = the restore ran and some containers failed; the bench graph has none, so that is
        # also worth stopping for.
        [ "$rc" = 0 ] || { tail -20 "$tmp/restored.log" >&2; die "restorectl restore exited $rc"; }
        /usr/bin/python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
s = d.get("summary", {})
total, failed = int(s.get("total", 0)), int(s.get("failed", 0))
if total != int(sys.argv[2]) or failed or len(d.get("results", [])) != total:
    sys.exit("restored reported total=%d failed=%d results=%d" % (total, failed,
             len(d.get("results", []))))
print(int(s.get("durationUs", 0)), int(sys.argv[3]))' "$tmp/out.json" "$count" $((t1 - t0))
}

mode=warm
[ "$cold" = 1 ] && mode=cold
echo "== $runs runs, $mode cache, $workers workers/threads (after one untimed warm-up of each)"
run_baseline >/dev/null
run_restored >/dev/null
base=() server=() client=()
for i in $(seq "$runs"); do
        drop_caches
        b=$(run_baseline)
        drop_caches
        sc=$(run_restored)
        read -r s c <<<"$sc"
        base+=("$b") server+=("$s") client+=("$c")
        printf '   run %d: baseline %8d us   restored %8d us (server)  %8d us (client)\n' \
                "$i" "$b" "$s" "$c"
done
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$daemon_pid/status")

/usr/bin/python3 - "$count" "$workers" "$mode" "$runs" "$hwm" "${base[*]}" "${server[*]}" \
        "${client[*]}" <<'EOF'
import json, statistics, sys
count, workers, mode, runs, hwm = sys.argv[1:6]
base, server, client = ([int(x) for x in a.split()] for a in sys.argv[6:9])
mb, ms, mc = (statistics.median(x) for x in (base, server, client))
print("== median of %s runs, %s containers, %s cache, %s workers" % (runs, count, mode, workers))
print("   baseline (open+read+parse 3 files)  %10.1f ms" % (mb / 1000))
print("   restored, server durationUs         %10.1f ms   x%.2f baseline" % (ms / 1000, ms / mb))
print("   restored, client wall (restorectl)  %10.1f ms   x%.2f baseline" % (mc / 1000, mc / mb))
print("   restored peak RSS (VmHWM)           %10.1f MiB" % (int(hwm) / 1024))
print(json.dumps({"containers": int(count), "workers": int(workers), "cache": mode,
                  "runs": int(runs), "baseline_us": mb, "restored_server_us": ms,
                  "restored_client_us": mc, "ratio_server": round(ms / mb, 3),
                  "ratio_client": round(mc / mb, 3), "peak_rss_kib": int(hwm),
                  "baseline_runs_us": base, "server_runs_us": server, "client_runs_us": client}))
EOF
