#!/usr/bin/env bash
# test_grpcjs.sh - restored driven by a second client stack: grpc-js + proto-loader (Node).
#
#   tests/integration/test_grpcjs.sh        (SOURCE_DIR / BUILD_DIR from ctest, else guessed)
#
# Writes a demo graph (tests/tools/graphgen.py, with a manifest of the expected results),
# starts the real daemon on a temporary socket and runs grpcjs_client.js against it, which
# loads api/isula/restore/v1/restore.proto at run time and calls every RPC, the Watch stream
# (live and replay:true) and health Check/Watch, asserting on each answer. Then stops the
# daemon with SIGTERM and checks that it exits 0 and removes its socket.
# Needs node and tests/integration/node_modules (tests/install-deps.sh). Exit 0 = all passed.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ -d "$here/node_modules/@grpc/grpc-js" ] && [ -d "$here/node_modules/@grpc/proto-loader" ] ||
        { echo "test_grpcjs.sh: grpc-js missing: run tests/install-deps.sh"; exit 1; }
command -v node >/dev/null || { echo "test_grpcjs.sh: node is missing"; exit 1; }

it_setup grpcjs
it_graph demo 5
it_start_daemon

# NODE_PATH: the client lives beside node_modules, but say so for a copy run from elsewhere.
NODE_PATH=$here/node_modules timeout 120 node "$here/grpcjs_client.js" "$sock" "$tmp/manifest.json" "$src" \
        >"$tmp/client.out" 2>&1
client_rc=$?
grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$tmp/client.out"
passed=$(sed -n -E 's/^([0-9]+) passed, ([0-9]+) failed$/\1/p' "$tmp/client.out" | tail -1)
failed=$(sed -n -E 's/^([0-9]+) passed, ([0-9]+) failed$/\2/p' "$tmp/client.out" | tail -1)
passed=${passed:-0}
failed=${failed:-0}
if [ "$client_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        echo "FAIL - grpcjs_client.js exited $client_rc"
        failed=1
fi

it_stop_daemon
rc=$daemon_rc
daemon_pid=
if [ "$rc" = 0 ]; then
        echo "ok   - restored exits 0 on SIGTERM after the grpc-js session"; passed=$((passed + 1))
else
        echo "FAIL - restored exits 0 on SIGTERM after the grpc-js session (got $rc)"; failed=$((failed + 1))
fi
if [ ! -e "$sock" ]; then
        echo "ok   - restored removed its socket"; passed=$((passed + 1))
else
        echo "FAIL - restored removed its socket"; failed=$((failed + 1))
fi
if [ "$failed" -gt 0 ]; then echo "# daemon log:"; sed 's/^/#   /' "$tmp/daemon.log"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
