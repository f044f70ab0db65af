#!/usr/bin/env bash
# test_reflection.sh - restored through server reflection only: buf curl with no .proto file.
#
#   tests/integration/test_reflection.sh        (SOURCE_DIR / BUILD_DIR from ctest, else guessed)
#
# Starts the real daemon on a temporary socket over a demo graph (tests/tools/graphgen.py) and
# drives it with `buf curl` (npm @bufbuild/buf, installed by tests/install-deps.sh into
# tests/integration/node_modules), which learns every type from the server's reflection service:
#   - --list-services / --list-methods, over reflection v1 and v1alpha;
#   - RestoreAll {"dryRun":true}, ListRestored {"pageSize":2} and its next page, HandleContainer
#     by name, the Watch stream with replay, health Check before and after a restore, and the
#     error codes buf maps to its exit status (NOT_FOUND, INVALID_ARGUMENT);
#   - a raw FileContainingSymbol / FileByFilename exchange (python grpcio, stubs of Debian's
#     reflection.proto generated into the temp dir) to check the descriptors themselves: the
#     file, the ContainerResult fields and numbers, the streaming flag of Watch.
# JSON output is checked with /usr/bin/python3 (no jq). Exit 0 when every check passed.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
buf=$here/node_modules/.bin/buf

[ -x "$buf" ] || { echo "test_reflection.sh: $buf missing: run tests/install-deps.sh"; exit 1; }

it_setup refl
export BUF_CACHE_DIR=$tmp/buf-cache # never the caller's ~/.cache
export HOME=${HOME:-$tmp} # buf reads $HOME/.config/buf

it_graph demo 3
total=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"])' "$tmp/manifest.json")
nfailed=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["failed"])' "$tmp/manifest.json")
echo "# demo graph: $total containers, $nfailed expected to fail"

it_start_daemon

# bcurl OUT [buf curl args...]: stdout to OUT, stderr to OUT.err; returns buf's exit status
# (for a failed RPC, the gRPC code shifted left by three bits). Bounded by `timeout`.
bcurl() {
        local out=$1; shift
        timeout 30 "$buf" curl --protocol grpc --http2-prior-knowledge --unix-socket "$sock" "$@" \
                >"$out" 2>"$out.err"
}
# jq-free JSON checks: `docs` is every JSON document in FILE (buf prints one per message),
# `d` the first; EXPR must be true.
jcheck() { # what FILE EXPR
        local what=$1 file=$2 expr=$3
        if "$py" - "$file" "$expr" "$total" "$nfailed" <<'EOF'; then pass "$what"; else fail "$what"; fi
import json, sys
path, expr, total, nfailed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
text, docs, dec, i = open(path).read(), [], json.JSONDecoder(), 0
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    obj, i = dec.raw_decode(text, i)
    docs.append(obj)
d = docs[0] if docs else {}
try:
    ok = eval("(" + expr + "\n)")
except Exception as e:  # a missing key is a failed check, not a crash
    ok = False
    print("#   %s: %r" % (type(e).__name__, e))
if not ok:
    print("#   expression: %s\n#   output: %s" % (expr, text[:1500].replace("\n", "\n#   ")))
sys.exit(0 if ok else 1)
EOF
}
indent() { sed 's/^/#   /' "$@"; }

root=http://localhost
svc=$root/isula.restore.v1.Restore

# ---- what the server offers, learned by reflection ----
bcurl "$tmp/services" "$root" --list-services
rc=$?
check "--list-services exits 0 (rc $rc)" test "$rc" -eq 0
want_services=$'grpc.health.v1.Health\ngrpc.reflection.v1.ServerReflection\ngrpc.reflection.v1alpha.ServerReflection\nisula.restore.v1.Restore'
got_services=$(sort "$tmp/services")
check "--list-services lists exactly Restore, Health and both reflection services" \
        test "$got_services" = "$want_services"
[ "$got_services" = "$want_services" ] || indent "$tmp/services"

bcurl "$tmp/services-v1alpha" --reflect-protocol grpc-v1alpha "$root" --list-services
rc=$?
check "--list-services over reflection v1alpha too (rc $rc)" \
        test "$rc" -eq 0 -a "$(sort "$tmp/services-v1alpha")" = "$want_services"

bcurl "$tmp/methods" "$root" --list-methods
rc=$?
missing=()
for m in isula.restore.v1.Restore/RestoreAll isula.restore.v1.Restore/ListRestored \
        isula.restore.v1.Restore/HandleContainer isula.restore.v1.Restore/Watch \
        grpc.health.v1.Health/Check grpc.health.v1.Health/Watch \
        grpc.reflection.v1.ServerReflection/ServerReflectionInfo \
        grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo; do
        grep -qxF "$m" "$tmp/methods" || missing+=("$m")
done
check "--list-methods lists all 8 methods${missing:+ (missing: ${missing[*]})}" \
        test "$rc" -eq 0 -a ${#missing[@]} -eq 0
check "--list-methods lists nothing else" test "$(wc -l <"$tmp/methods")" -eq 8

# ---- health before any restore ----
bcurl "$tmp/health0" -d '{}' "$root/grpc.health.v1.Health/Check"
rc=$?
check "Health/Check exits 0 (rc $rc)" test "$rc" -eq 0
jcheck "Health/Check is NOT_SERVING before the first restore" "$tmp/health0" 'd == {"status": "NOT_SERVING"}'
bcurl "$tmp/health-unknown" -d '{"service":"no.such.Service"}' "$root/grpc.health.v1.Health/Check"
rc=$?
check "Health/Check of an unknown service: NOT_FOUND (buf exit 5<<3 = 40, got $rc)" test "$rc" -eq 40

# ---- the Restore RPCs, typed by reflection alone ----
bcurl "$tmp/dry" -d '{"dryRun":true}' "$svc/RestoreAll"
rc=$?
check "RestoreAll {dryRun:true} exits 0 (rc $rc)" test "$rc" -eq 0
jcheck "RestoreAll dry run: summary (dryRun, PHASE_DONE, total, failed, generation 1)" "$tmp/dry" \
        'd["summary"]["dryRun"] is True and d["summary"]["phase"] == "PHASE_DONE" and
         d["summary"]["total"] == total and d["summary"].get("failed", 0) == nfailed and
         d["summary"]["generation"] == "1"'
jcheck "RestoreAll dry run: one result per container, enums by name, lowerCamelCase fields" "$tmp/dry" \
        'len(d["results"]) == total and
         sum(r["outcome"] == "OUTCOME_FAILED" for r in d["results"]) == nfailed and
         all(r["outcome"] in ("OUTCOME_RESTORED", "OUTCOME_FAILED") for r in d["results"]) and
         all(r["stage"].startswith("STAGE_") for r in d["results"]) and
         any("persistedStatus" in r for r in d["results"]) and
         all(r["reason"].startswith("REASON_") for r in d["results"] if r["outcome"] == "OUTCOME_FAILED")'
jcheck "RestoreAll dry run: results in runtime, then directory order" "$tmp/dry" \
        '[(r["runtime"], r["dir"]) for r in d["results"]] == sorted((r["runtime"], r["dir"]) for r in d["results"])'

bcurl "$tmp/page1" -d '{"pageSize":2}' "$svc/ListRestored"
rc=$?
check "ListRestored {pageSize:2} exits 0 (rc $rc)" test "$rc" -eq 0
jcheck "ListRestored {pageSize:2}: two containers, a nextPageToken, the summary" "$tmp/page1" \
        'len(d["containers"]) == 2 and d["nextPageToken"] and d["summary"]["total"] == total'
token=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("nextPageToken",""))' "$tmp/page1")
bcurl "$tmp/page2" -d "{\"pageSize\":2,\"pageToken\":\"$token\"}" "$svc/ListRestored"
rc=$?
ids1=$("$py" -c 'import json,sys; print(" ".join(c["dir"] for c in json.load(open(sys.argv[1]))["containers"]))' "$tmp/page1")
jcheck "ListRestored: the next page (pageToken) holds the next two, none repeated (rc $rc)" "$tmp/page2" \
        "len(d['containers']) == 2 and not set(c['dir'] for c in d['containers']) & set('$ids1'.split()) and
         [c['dir'] for c in d['containers']] == [r['dir'] for r in json.load(open('$tmp/dry'))['results']][2:4]"

bcurl "$tmp/handle" -d '{"id":"web","dryRun":true}' "$svc/HandleContainer"
rc=$?
check "HandleContainer {id:web, dryRun:true} exits 0 (rc $rc)" test "$rc" -eq 0
jcheck "HandleContainer by name: the result is container web, with a 64-hex id" "$tmp/handle" \
        'd["result"]["name"] == "web" and len(d["result"]["id"]) == 64 and d["result"]["outcome"] == "OUTCOME_RESTORED"'
bcurl "$tmp/handle-unknown" -d '{"id":"no-such-container"}' "$svc/HandleContainer"
rc=$?
check "HandleContainer of an unknown name: NOT_FOUND (buf exit 40, got $rc)" test "$rc" -eq 40
check "HandleContainer NOT_FOUND message names the id" grep -q 'no-such-container' "$tmp/handle-unknown.err"
bcurl "$tmp/bad-runtime" -d '{"runtimes":["../etc"]}' "$svc/RestoreAll"
rc=$?
check "RestoreAll {runtimes:[../etc]}: INVALID_ARGUMENT (buf exit 3<<3 = 24, got $rc)" test "$rc" -eq 24

# ---- a real restore, then health and the Watch replay ----
bcurl "$tmp/real" -d '{}' "$svc/RestoreAll"
rc=$?
check "RestoreAll {} exits 0 (rc $rc)" test "$rc" -eq 0
jcheck "RestoreAll {}: generation 2, not a dry run" "$tmp/real" \
        'd["summary"]["generation"] == "2" and not d["summary"].get("dryRun") and len(d["results"]) == total'
bcurl "$tmp/health1" -d '{}' "$root/grpc.health.v1.Health/Check"
jcheck "Health/Check is SERVING after the restore" "$tmp/health1" 'd == {"status": "SERVING"}'
bcurl "$tmp/health1s" -d '{"service":"isula.restore.v1.Restore"}' "$root/grpc.health.v1.Health/Check"
jcheck "Health/Check of isula.restore.v1.Restore is SERVING too" "$tmp/health1s" 'd == {"status": "SERVING"}'

# Watch never ends by itself: stop buf after the replay has had time to arrive.
timeout 4 "$buf" curl --protocol grpc --http2-prior-knowledge --unix-socket "$sock" \
        -d '{"replay":true}' "$svc/Watch" >"$tmp/watch" 2>"$tmp/watch.err"
rc=$?
check "Watch {replay:true} streams until stopped (timeout's 124, got $rc)" test "$rc" -eq 124
jcheck "Watch replay: RESTORE_FINISHED of generation 2, then one CONTAINER_RESULT per container" "$tmp/watch" \
        'docs[0]["kind"] == "KIND_RESTORE_FINISHED" and docs[0]["generation"] == "2" and
         docs[0]["summary"]["phase"] == "PHASE_DONE" and
         [e["result"]["dir"] for e in docs[1:] if e["kind"] == "KIND_CONTAINER_RESULT"] ==
         [r["dir"] for r in json.load(open("'"$tmp/real"'"))["results"]]'

# ---- descriptors, by a raw reflection client (FileContainingSymbol, FileByFilename) ----
mkdir -p "$tmp/reflgen"
"$py" -m grpc_tools.protoc -I/usr/share/grpc-proto --python_out="$tmp/reflgen" \
        grpc/reflection/v1/reflection.proto grpc/reflection/v1alpha/reflection.proto ||
        { echo "cannot generate reflection stubs"; exit 1; }
"$py" - "$sock" "$tmp/reflgen" >"$tmp/describe.out" 2>&1 <<'EOF'
# Loads the generated reflection_pb2 modules by path: putting their "grpc/" package on sys.path
# would shadow the real grpc module.
import importlib.util, json, sys
import grpc
from google.protobuf import descriptor_pb2

sock, gen = sys.argv[1], sys.argv[2]
def load(ver):
    spec = importlib.util.spec_from_file_location(
        "refl_" + ver, "%s/grpc/reflection/%s/reflection_pb2.py" % (gen, ver))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m

ch = grpc.insecure_channel("unix:" + sock)
out = {}
for ver in ("v1", "v1alpha"):
    m = load(ver)
    call = ch.stream_stream("/grpc.reflection.%s.ServerReflection/ServerReflectionInfo" % ver,
                            request_serializer=m.ServerReflectionRequest.SerializeToString,
                            response_deserializer=m.ServerReflectionResponse.FromString)
    reqs = [m.ServerReflectionRequest(file_containing_symbol="isula.restore.v1.ContainerResult"),
            m.ServerReflectionRequest(file_containing_symbol=".isula.restore.v1.Restore.Watch"),
            m.ServerReflectionRequest(file_by_filename="grpc/health/v1/health.proto"),
            m.ServerReflectionRequest(file_containing_symbol="no.such.Symbol")]
    resps = list(call(iter(reqs), timeout=10))
    r = out[ver] = {"n": len(resps)}
    files = [descriptor_pb2.FileDescriptorProto.FromString(b)
             for b in resps[0].file_descriptor_response.file_descriptor_proto]
    f = next((f for f in files if f.name == "isula/restore/v1/restore.proto"), None)
    r["file"] = f.name if f else None
    if f:
        r["package"] = f.package
        cr = next(mt for mt in f.message_type if mt.name == "ContainerResult")
        r["ContainerResult"] = {fl.name: [fl.number, fl.type_name] for fl in cr.field}
        svc = next(s for s in f.service if s.name == "Restore")
        r["methods"] = {md.name: [md.input_type, md.output_type, md.server_streaming]
                        for md in svc.method}
    files2 = [descriptor_pb2.FileDescriptorProto.FromString(b)
              for b in resps[1].file_descriptor_response.file_descriptor_proto]
    r["watch_file"] = [f2.name for f2 in files2]
    files3 = [descriptor_pb2.FileDescriptorProto.FromString(b)
              for b in resps[2].file_descriptor_response.file_descriptor_proto]
    r["health_services"] = [s.name for f3 in files3 for s in f3.service]
    r["unknown_error"] = resps[3].error_response.error_code
    r["original_request"] = resps[0].original_request.file_containing_symbol
print(json.dumps(out))
EOF
rc=$?
check "raw reflection client (FileContainingSymbol, FileByFilename) ran (rc $rc)" test "$rc" -eq 0
[ $rc -eq 0 ] || indent "$tmp/describe.out"
for ver in v1 v1alpha; do
        jcheck "$ver FileContainingSymbol ContainerResult: restore.proto, package isula.restore.v1" \
                "$tmp/describe.out" "d['$ver']['n'] == 4 and d['$ver']['file'] == 'isula/restore/v1/restore.proto' and
                 d['$ver']['package'] == 'isula.restore.v1' and
                 d['$ver']['original_request'] == 'isula.restore.v1.ContainerResult'"
        jcheck "$ver describe ContainerResult: contract fields with their numbers and types" "$tmp/describe.out" \
                "(lambda c: c['id'][0] == 1 and c['outcome'] == [5, '.isula.restore.v1.Outcome'] and
                 c['stage'] == [6, '.isula.restore.v1.Stage'] and c['reason'] == [7, '.isula.restore.v1.FailureReason'] and
                 c['persisted_status'] == [9, '.isula.restore.v1.Status'] and c['status'] == [10, '.isula.restore.v1.Status'] and
                 c['action'] == [11, '.isula.restore.v1.Action'] and c['process'] == [12, '.isula.restore.v1.ProcessInfo'] and
                 c['restart'] == [15, '.isula.restore.v1.RestartDecision'] and c['auto_remove'][0] == 17 and
                 c['dir'][0] == 18)(d['$ver']['ContainerResult'])"
        jcheck "$ver describe Restore: 4 RPCs, Watch server-streaming, unary others" "$tmp/describe.out" \
                "(lambda m: sorted(m) == ['HandleContainer', 'ListRestored', 'RestoreAll', 'Watch'] and
                 m['Watch'] == ['.isula.restore.v1.WatchRequest', '.isula.restore.v1.WatchEvent', True] and
                 m['RestoreAll'] == ['.isula.restore.v1.RestoreAllRequest', '.isula.restore.v1.RestoreAllResponse', False])(d['$ver']['methods'])"
        jcheck "$ver FileContainingSymbol of a method (leading dot) finds restore.proto" "$tmp/describe.out" \
                "'isula/restore/v1/restore.proto' in d['$ver']['watch_file']"
        jcheck "$ver FileByFilename grpc/health/v1/health.proto serves the Health service" "$tmp/describe.out" \
                "d['$ver']['health_services'] == ['Health']"
        jcheck "$ver unknown symbol: error_response NOT_FOUND (5)" "$tmp/describe.out" \
                "d['$ver']['unknown_error'] == 5"
done
jcheck "v1 and v1alpha serve the same ContainerResult descriptor" "$tmp/describe.out" \
        "d['v1']['ContainerResult'] == d['v1alpha']['ContainerResult']"

# ---- a clean stop ----
it_stop_daemon
rc=$daemon_rc
daemon_pid=
check "restored exits 0 on SIGTERM after the buf curl session (rc $rc)" test "$rc" = 0
check "restored removed its socket on exit" test ! -e "$sock"
if [ "$failed" -gt 0 ]; then echo "# daemon log:"; indent "$tmp/daemon.log"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
