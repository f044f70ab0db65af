#!/bin/bash
# bench-sync.sh - the cost of SYNC per running container (real runc containers; root).
#
#   tests/bench/bench-sync.sh [-n 50] [-w WORKERS] [--runs 3] [--build DIR] [--keep]
#
# Starts N real runc containers (`sleep infinity` bundles from build/bin/mkbundle.sh, each started
# by build/bin/test-shim in <state>/runc/<id>/, laid out as iSulad lays them out, with their real
# 4-tuple persisted; tests/bench/sync_graph.py holds them and reaps the shims), and copies the
# same N containers' files into a second graph whose state root is empty. Two daemons run
# (restored --runtime runc=$(command -v runc)): "live" syncs each container with a shim-pid probe,
# `runc --root <state>/runc/<id>/runc state <id>`, /proc reads and the exit-FIFO check; "dead"
# takes the cheap "shim dead" path (no shim-pid file, no runtime exec) over the same files.
# After one untimed warm-up of each, RUNS times: `restorectl -o json restore --dry-run` on live
# and dead with WORKERS (default: the server's own default) and with --workers 1, then N
# sequential `runc --root ... state <id>` from the shell. Reports medians of the server's
# summary.durationUs and the client wall time, the per-container cost of the exec path
# ((live - dead) / N), the runc state exec alone, and the speed-up of WORKERS over 1 worker.
# The last line is one JSON object.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
count=50
workers=0
runs=3
keep=0
build=${BUILD_DIR:-$root/build}

usage() {
        sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

while [ $# -gt 0 ]; do
        case $1 in
        -n) count=${2-}; shift 2 ;;
        -w) workers=${2-}; shift 2 ;;
        -r|--runs) runs=${2-}; shift 2 ;;
        --build) build=${2-}; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
        esac
done
case "$count$workers$runs" in *[!0-9]*|'') usage >&2; exit 2 ;; esac
[ "$count" -ge 1 ] && [ "$runs" -ge 1 ] || { usage >&2; exit 2; }

die() { echo "bench-sync.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (runc creates namespaces and cgroups)"
build=$(cd "$build" 2>/dev/null && pwd) || die "no build tree at $build"
restored=$build/bin/restored
restorectl=$build/bin/restorectl
for f in "$restored" "$restorectl" "$build/bin/test-shim" "$build/bin/mkbundle.sh"; do
        [ -e "$f" ] || die "$f missing; build first: cmake -S $root -B $build && cmake --build $build -j2"
done
runc=$(command -v runc) || die "runc not found on PATH"

tmp=$(mktemp -d -p "${TMPDIR:-/var/tmp}" restored-bench-sync.XXXXXX)
helper_pid=
daemons=()

# Containers the helper could not take down (it died, or hung): runc kill/delete with each one's
# own --root, then its shim, if that pid is still a test-shim.
force_cleanup() {
        local d id
        for d in "$tmp"/live/state/runc/*/; do
                [ -d "$d/runc" ] || continue
                id=$(basename "$d")
                if "$runc" --root "$d/runc" state "$id" >/dev/null 2>&1; then
                        echo "bench-sync.sh: removing leftover container ${id:0:12}" >&2
                        "$runc" --root "$d/runc" kill "$id" KILL >/dev/null 2>&1 || true
                        sleep 0.2
                        "$runc" --root "$d/runc" delete --force "$id" >/dev/null 2>&1 || true
                fi
                if [ -f "$d/shim-pid" ]; then
                        local sp
                        sp=$(cat "$d/shim-pid")
                        if grep -qs test-shim "/proc/$sp/cmdline"; then
                                kill -KILL "$sp" 2>/dev/null || true
                        fi
                fi
        done
}

stop_pid() {    # TERM, up to $2 tenths of a second, then KILL
        local pid=$1 n=$2
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq "$n"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
}

cleanup() {
        local rc=$? p
        trap '' INT TERM
        for p in "${daemons[@]}"; do stop_pid "$p" 50; done
        # the helper kills and deletes every container and reaps the shims (about 0.1-0.3 s each)
        [ -z "$helper_pid" ] || stop_pid "$helper_pid" $((600 + count * 20))
        force_cleanup
        if [ "$keep" = 1 ]; then
                echo "bench-sync.sh: kept $tmp (containers removed)" >&2
        else
                rm -rf "$tmp"
        fi
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(loadavg)

echo "== starting $count runc containers (sync_graph.py: test-shim + mkbundle.sh) in $tmp"
t0=$(date +%s)
/usr/bin/python3 "$here/sync_graph.py" --build "$build" --graph "$tmp/live/graph" \
        --state "$tmp/live/state" --dead-graph "$tmp/dead/graph" --dead-state "$tmp/dead/state" \
        --bundle "$tmp/bundle" -n "$count" --seed 7 --name sync --ready "$tmp/ready" \
        </dev/null >"$tmp/helper.log" 2>&1 &
helper_pid=$!
for _ in $(seq $((600 + count * 50))); do
        [ -f "$tmp/ready" ] && break
        kill -0 "$helper_pid" 2>/dev/null || { cat "$tmp/helper.log" >&2; die "sync_graph.py exited"; }
        sleep 0.1
done
[ -f "$tmp/ready" ] || { cat "$tmp/helper.log" >&2; die "containers not up in time"; }
[ "$(wc -l <"$tmp/ready")" = "$count" ] || die "$tmp/ready does not list $count containers"
echo "   $count containers running after $(($(date +%s) - t0)) s"

start_daemon() {        # name graph state; sets $sock_<name>
        local name=$1 sock=$tmp/$1.sock pid
        "$restored" --graph "$2" --state "$3" --socket "$sock" --runtime "runc=$runc" \
                >"$tmp/restored-$name.log" 2>&1 &
        pid=$!
        daemons+=("$pid")
        for _ in $(seq 100); do
                [ -S "$sock" ] && return 0
                kill -0 "$pid" 2>/dev/null || { cat "$tmp/restored-$name.log" >&2; die "restored ($name) exited"; }
                sleep 0.1
        done
        die "restored ($name) did not create $sock within 10 s"
}
start_daemon live "$tmp/live/graph" "$tmp/live/state"
start_daemon dead "$tmp/dead/graph" "$tmp/dead/state"

now_us() { echo $(($(date +%s%N) / 1000)); }

# One dry-run restore: kind (live|dead), workers (0 = server default); prints "server_us client_us".
run_restored() {
        local kind=$1 w=$2 t0 t1 rc=0 wargs=()
        [ "$w" = 0 ] || wargs=(--workers "$w")
        t0=$(now_us)
        "$restorectl" --socket "$tmp/$kind.sock" --timeout 600 -o json restore --dry-run \
                "${wargs[@]}" >"$tmp/out.json" || rc=$?
        t1=$(now_us)
        [ "$rc" = 0 ] || { tail -20 "$tmp/restored-$kind.log" >&2; die "restorectl restore ($kind) exited $rc"; }
        # live: every container running and re-attached; dead: stopped (exit 255) and to GC
        /usr/bin/python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
kind, n = sys.argv[2], int(sys.argv[3])
s, res = d.get("summary", {}), d.get("results", [])
want = ("STATUS_RUNNING", "ACTION_REATTACH") if kind == "live" else ("STATUS_STOPPED", "ACTION_SKIP_GC")
bad = [r for r in res if (r.get("status"), r.get("action"), r.get("outcome")) != want + ("OUTCOME_RESTORED",)]
if int(s.get("total", 0)) != n or len(res) != n or bad:
    sys.exit("%s: total=%s results=%d, %d not %s/%s, e.g. %s" % (kind, s.get("total"), len(res),
             len(bad), want[0], want[1], json.dumps(bad[:1])))
print(int(s.get("durationUs", 0)), int(sys.argv[4]))' "$tmp/out.json" "$kind" "$count" $((t1 - t0))
}

# N sequential runc state calls from the shell; prints elapsed_us.
run_state() {
        local t0 t1 id r _
        t0=$(now_us)
        while read -r id r _; do
                "$runc" --root "$r" state "$id" >/dev/null || die "runc state ${id:0:12} failed"
        done <"$tmp/ready"
        t1=$(now_us)
        echo $((t1 - t0))
}

wlabel=$workers
[ "$workers" = 0 ] && wlabel=default
echo "== $runs runs, $count containers, workers $wlabel and 1 (after one untimed warm-up of each)"
for k in live dead; do run_restored "$k" "$workers" >/dev/null; run_restored "$k" 1 >/dev/null; done
run_state >/dev/null
ls_=() ds_=() lc_=() dc_=() l1s=() d1s=() l1c=() d1c=() st=()
for i in $(seq "$runs"); do
        # (assignments first: a failed run must stop the script, which `read <<<"$(...)"` hides)
        r=$(run_restored live "$workers"); read -r a b <<<"$r"; ls_+=("$a") lc_+=("$b")
        r=$(run_restored dead "$workers"); read -r a b <<<"$r"; ds_+=("$a") dc_+=("$b")
        r=$(run_restored live 1); read -r a b <<<"$r"; l1s+=("$a") l1c+=("$b")
        r=$(run_restored dead 1); read -r a b <<<"$r"; d1s+=("$a") d1c+=("$b")
        s=$(run_state); st+=("$s")
        printf '   run %d: live %7d us  dead %7d us (server, %s workers)   live %7d us  dead %7d us (1 worker)   runc state x%d %7d us\n' \
                "$i" "${ls_[-1]}" "${ds_[-1]}" "$wlabel" "${l1s[-1]}" "${d1s[-1]}" "$count" "$s"
done
load_end=$(loadavg)

/usr/bin/python3 - "$count" "$workers" "$runs" "$load_start" "$load_end" "$runc" \
        "${ls_[*]}" "${lc_[*]}" "${ds_[*]}" "${dc_[*]}" \
        "${l1s[*]}" "${l1c[*]}" "${d1s[*]}" "${d1c[*]}" "${st[*]}" <<'EOF'
import json, os, resource, statistics, sys
count, workers, runs = (int(x) for x in sys.argv[1:4])
load_start, load_end, runc = sys.argv[4:7]
series = [[int(x) for x in a.split()] for a in sys.argv[7:16]]
names = ["live_server", "live_client", "dead_server", "dead_client",
         "live1_server", "live1_client", "dead1_server", "dead1_client", "runc_state"]
m = {k: statistics.median(v) for k, v in zip(names, series)}
if workers == 0:
    # what the daemon uses when neither --workers nor the request sets it (pipeline/pool.c)
    w = min(max((os.cpu_count() or 1) * 8, 4), 64)
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft != resource.RLIM_INFINITY and soft // 8 < w:
        w = max(soft // 8, 1)
    wlabel = "server default (%d)" % w
else:
    w, wlabel = workers, str(workers)
per = lambda live, dead: (m[live] - m[dead]) / count
print("== median of %d runs, %d running containers, load average %s -> %s" %
      (runs, count, load_start, load_end))
print("   %-46s %10s %10s %14s" % ("", "live", "dead", "(live-dead)/N"))
for label, l, d in (("server durationUs, workers %s" % wlabel, "live_server", "dead_server"),
                    ("client wall,       workers %s" % wlabel, "live_client", "dead_client"),
                    ("server durationUs, 1 worker", "live1_server", "dead1_server"),
                    ("client wall,       1 worker", "live1_client", "dead1_client")):
    print("   %-46s %7.1f ms %7.1f ms %11.0f us" % (label, m[l] / 1000, m[d] / 1000, per(l, d)))
print("   runc state from the shell, %d calls   %7.1f ms (%.0f us per call)" %
      (count, m["runc_state"] / 1000, m["runc_state"] / count))
print("   speed-up of %s workers over 1 (live, server)  x%.2f" %
      (wlabel, m["live1_server"] / m["live_server"]))
out = {"containers": count, "workers": w, "workers_default": workers == 0, "runs": runs,
       "runc": runc, "loadavg_start": load_start, "loadavg_end": load_end}
out.update({k + "_us": v for k, v in m.items()})
out.update({
    "sync_per_container_us": round(per("live_server", "dead_server"), 1),
    "sync_per_container_client_us": round(per("live_client", "dead_client"), 1),
    "sync_per_container_1worker_us": round(per("live1_server", "dead1_server"), 1),
    "runc_state_per_call_us": round(m["runc_state"] / count, 1),
    "speedup_server": round(m["live1_server"] / m["live_server"], 3),
    "speedup_client": round(m["live1_client"] / m["live_client"], 3)})
out.update({k + "_runs_us": v for k, v in zip(names, series)})
print(json.dumps(out))
EOF
