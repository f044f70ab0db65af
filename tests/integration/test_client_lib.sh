#!/usr/bin/env bash
# test_client_lib.sh - librestore-client as iSulad would use it.
#
#   tests/integration/test_client_lib.sh [BUILD_DIR]
#
# Compiles tests/integration/client_lib_example.c against include/restore_client.h the way an
# outside project does, three times:
#   - shared:  cc ... -I include -L BUILD/lib -lrestore-client (nothing else: the .so carries its
#              own dependencies), run with LD_LIBRARY_PATH;
#   - static:  the link line from the installed pkg-config file (restore-client.pc, pointed at the
#              build tree), `pkg-config --static --libs restore-client`, and a check that the
#              binary needs no librestore-client.so;
#   - the header alone compiles as C99, C11 (-pedantic) and C++ with -Wall -Wextra -Werror.
# Each binary runs against a fresh restored on a temporary socket over a demo graph written by
# tests/tools/graphgen.py (connect, health, restore_all with a Watch following it from another
# thread, a replay Watch, cancelling a blocked Watch from another thread, paged list, filters,
# handle, errors with their gRPC codes, free everything). The shared one also runs under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99
# (skipped for a sanitizer build, where the example is linked with ASan/UBSan and LeakSanitizer
# does that job instead), and a copy built with -DLEAK_ON_PURPOSE must make valgrind fail, so the
# leak check is known to bite.
# Exit status 0 when every check passed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-${BUILD_DIR:-$src/build}}
build=$(cd "$build" && pwd)
py=/usr/bin/python3

passed=0
failed=0
pass() { echo "ok   - $*"; passed=$((passed + 1)); }
fail() { echo "FAIL - $*"; failed=$((failed + 1)); }
indent() { [ -z "$1" ] || printf '%s\n' "$1" | sed 's/^/#   /'; }

for f in "$build/bin/restored" "$build/lib/librestore-client.so" "$build/lib/librestore-client.a" \
        "$build/client/restore-client.pc" "$src/include/restore_client.h"; do
        [ -e "$f" ] || { echo "test_client_lib.sh: $f is missing (build first)"; exit 1; }
done
for tool in cc c++ pkg-config; do
        command -v "$tool" >/dev/null || { echo "test_client_lib.sh: $tool is missing"; exit 1; }
done

sanitize=0
grep -q '^RESTORED_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null && sanitize=1
san_flags=()
[ "$sanitize" = 1 ] && san_flags=(-fsanitize=address,undefined -fno-omit-frame-pointer)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/restored-clientlib-XXXXXX")
daemon_pid=
cleanup() {
        if [ -n "$daemon_pid" ]; then
                kill -KILL "$daemon_pid" 2>/dev/null
                wait "$daemon_pid" 2>/dev/null
        fi
        rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the graph ----
"$py" "$src/tests/tools/graphgen.py" --graph "$tmp/graph" --state "$tmp/state" --mix demo --seed 41 \
        --manifest "$tmp/manifest.json" >/dev/null 2>&1 || { echo "graphgen failed"; exit 1; }
read -r n_dirs n_failed name < <("$py" -c '
import json, sys
m = json.load(open(sys.argv[1]))
ok = [c["name"] for c in m["containers"] if c["expect"]["outcome"] == "OUTCOME_RESTORED" and c["name"] != c["id"]]
print(len(m["containers"]), m["failed"], sorted(ok)[0])' "$tmp/manifest.json")
echo "# demo graph: $n_dirs container dirs, $n_failed failing; handle target: $name"
echo '{}' >"$tmp/config.json"

start_daemon() { # log file
        local sock=$tmp/restore.sock
        rm -f "$sock"
        "$build/bin/restored" --graph "$tmp/graph" --state "$tmp/state" --socket "$sock" \
                --config "$tmp/config.json" >"$1" 2>&1 &
        daemon_pid=$!
        for _ in $(seq 150); do
                [ -S "$sock" ] && "$py" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' \
                        "$sock" 2>/dev/null && return 0
                kill -0 "$daemon_pid" 2>/dev/null || break
                sleep 0.1
        done
        echo "# restored did not come up:"; indent "$(cat "$1")"
        return 1
}
stop_daemon() {
        kill -TERM "$daemon_pid" 2>/dev/null
        local rc=0
        wait "$daemon_pid" || rc=$?
        daemon_pid=
        return $rc
}
# Runs the example (command words...) against a fresh daemon; $run_out holds its output. The
# daemon is stopped once the example says (ready file) that it watches for that, and must exit 0.
run_example() {
        local what=$1; shift
        local ready=$tmp/ready-$what ex_pid
        if ! start_daemon "$tmp/restored-$what.log"; then
                fail "$what: restored started"
                return
        fi
        rm -f "$ready"
        "$@" "$tmp/restore.sock" "$n_dirs" "$n_failed" "$name" "$ready" >"$tmp/example-$what.out" 2>&1 &
        ex_pid=$!
        for _ in $(seq 1200); do # 120 s: valgrind is slow
                [ -e "$ready" ] && break
                kill -0 "$ex_pid" 2>/dev/null || break
                sleep 0.1
        done
        if stop_daemon; then :; else fail "$what: restored exited non-zero after SIGTERM"; fi
        wait "$ex_pid"
        run_rc=$?
        run_out=$(cat "$tmp/example-$what.out")
        indent "$run_out"
}

# -pthread: the example reads a Watch on a thread of its own.
CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -O1 -pthread "${san_flags[@]}")

# ---- the header on its own ----
printf '#include "restore_client.h"\nint main(void){restore_all_opts o = {0}; restore_event e = {RESTORE_EVENT_UNSPECIFIED}; (void)o; (void)e; restore_watch_close(0); restore_client_close(0); return 0;}\n' >"$tmp/h.c"
for std in c99 c11; do
        out=$(cc "${CFLAGS[@]}" -std=$std -pedantic -c -I "$src/include" "$tmp/h.c" -o "$tmp/h.o" 2>&1)
        rc=$?; indent "$out"
        [ $rc -eq 0 ] && pass "restore_client.h compiles alone as $std -pedantic -Werror" ||
                fail "restore_client.h compiles alone as $std -pedantic -Werror"
done
printf '#include "restore_client.h"\nint main(){restore_all_opts o{}; restore_event e{}; (void)o; (void)e; restore_watch_close(nullptr); restore_client_close(nullptr); return 0;}\n' >"$tmp/h.cc"
out=$(c++ -std=c++17 -Wall -Wextra -Werror -c -I "$src/include" "$tmp/h.cc" -o "$tmp/hcc.o" 2>&1)
rc=$?; indent "$out"
[ $rc -eq 0 ] && pass "restore_client.h compiles as C++ (extern \"C\")" || fail "restore_client.h compiles as C++"

# ---- exported symbols: the restore_client API and nothing of gRPC or protobuf-c ----
exports=$(nm -D --defined-only "$build/lib/librestore-client.so" | awk '$2 ~ /[TDBRW]/ {print $3}' | sort)
leaked=$(printf '%s\n' "$exports" | grep -Ev '^(restore_|_init$|_fini$|_edata$|_end$|__bss_start$)' || true)
indent "$leaked"
[ -z "$leaked" ] && pass "the .so exports only restore_* symbols ($(printf '%s\n' "$exports" | grep -c '^restore_'))" ||
        fail "the .so exports symbols outside restore_*"
soname=$(objdump -p "$build/lib/librestore-client.so" | awk '/SONAME/ {print $2}')
[ "$soname" = librestore-client.so.0 ] && pass "SONAME is librestore-client.so.0" || fail "SONAME is $soname"

# ---- shared ----
out=$(cc "${CFLAGS[@]}" -I "$src/include" "$here/client_lib_example.c" -L "$build/lib" -lrestore-client \
        -o "$tmp/example-shared" 2>&1)
rc=$?; indent "$out"
if [ $rc -eq 0 ]; then
        pass "compiles and links: cc -I include -L build/lib -lrestore-client"
        run_example shared env LD_LIBRARY_PATH="$build/lib" "$tmp/example-shared"
        [ "$run_rc" -eq 0 ] && pass "shared: every check of the example passed" ||
                fail "shared: the example failed (exit $run_rc)"
        ldd_out=$(LD_LIBRARY_PATH="$build/lib" ldd "$tmp/example-shared")
        printf '%s\n' "$ldd_out" | grep -q "librestore-client.so.0 => $build/lib/" &&
                pass "shared: the binary loads librestore-client.so.0 from the build tree" ||
                fail "shared: librestore-client.so.0 not resolved from $build/lib"
else
        fail "compiles and links against the shared library"
fi

# ---- static, with the link line the .pc file gives ----
pcdir=$tmp/pkgconfig
mkdir -p "$pcdir"
sed -e "s|^libdir=.*|libdir=$build/lib|" -e "s|^includedir=.*|includedir=$src/include|" \
        "$build/client/restore-client.pc" >"$pcdir/restore-client.pc"
pc_cflags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags restore-client 2>&1)
pc_libs=$(PKG_CONFIG_PATH=$pcdir pkg-config --static --libs restore-client 2>&1)
rc=$?
echo "# pkg-config --static --libs restore-client: $pc_libs" | cut -c1-300
if [ $rc -eq 0 ]; then
        pass "pkg-config resolves restore-client and its Requires.private (grpc, libprotobuf-c)"
        # -Wl,-Bstatic for our library only: system libraries stay shared.
        # shellcheck disable=SC2086
        out=$(cc "${CFLAGS[@]}" $pc_cflags "$here/client_lib_example.c" \
                -Wl,-Bstatic -lrestore-client -Wl,-Bdynamic \
                $(printf '%s\n' $pc_libs | grep -v '^-lrestore-client$') -o "$tmp/example-static" 2>&1)
        rc=$?; indent "$out"
        if [ $rc -eq 0 ]; then
                pass "links statically with pkg-config --static --libs restore-client"
                if ldd "$tmp/example-static" | grep -q librestore-client; then
                        fail "static: the binary still needs librestore-client.so"
                else
                        pass "static: no librestore-client.so needed at run time"
                fi
                run_example static "$tmp/example-static"
                [ "$run_rc" -eq 0 ] && pass "static: every check of the example passed" ||
                        fail "static: the example failed (exit $run_rc)"
        else
                fail "links statically with the pkg-config link line"
        fi
else
        indent "$pc_libs"
        fail "pkg-config --static --libs restore-client"
fi

# ---- valgrind ----
if [ "$sanitize" = 1 ]; then
        echo "# sanitizer build: valgrind skipped (the example ran under ASan/UBSan/LSan above)"
elif ! command -v valgrind >/dev/null; then
        fail "valgrind is installed"
elif [ -x "$tmp/example-shared" ]; then
        run_example valgrind env LD_LIBRARY_PATH="$build/lib" valgrind -q --leak-check=full \
                --errors-for-leak-kinds=definite --show-leak-kinds=definite --error-exitcode=99 \
                --track-origins=yes --num-callers=30 "$tmp/example-shared"
        case $run_rc in
        0) pass "valgrind: no invalid access, no uninitialised use, no definite leak" ;;
        99) fail "valgrind reported errors (exit 99)" ;;
        *) fail "valgrind run: the example failed (exit $run_rc)" ;;
        esac
        printf '%s\n' "$run_out" | grep -q "all checks passed" ||
                fail "valgrind: the example did not get through its checks"
        # Negative control: the same program leaking its RestoreAll result must fail the check.
        if cc "${CFLAGS[@]}" -DLEAK_ON_PURPOSE -I "$src/include" "$here/client_lib_example.c" \
                -L "$build/lib" -lrestore-client -o "$tmp/example-leak" 2>/dev/null; then
                start_daemon "$tmp/restored-leak.log" || fail "leak control: restored started"
                LD_LIBRARY_PATH="$build/lib" valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
                        --show-leak-kinds=definite --error-exitcode=99 "$tmp/example-leak" \
                        "$tmp/restore.sock" "$n_dirs" "$n_failed" "$name" >"$tmp/leak.out" 2>&1
                rc=$?
                stop_daemon || true
                [ $rc -eq 99 ] && grep -q "definitely lost" "$tmp/leak.out" &&
                        pass "valgrind: the negative control (a leaked result) is caught" ||
                        fail "valgrind: a deliberately leaked result went unnoticed (exit $rc)"
        else
                fail "leak control compiles"
        fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
