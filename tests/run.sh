#!/usr/bin/env bash
# Installs what is missing (as root, Debian 12), builds restored twice (normal, and with
# AddressSanitizer + UndefinedBehaviorSanitizer) with warnings as errors, and runs every test
# with ctest on both. Exit status 0 means every test passed.
#
#   ./tests/run.sh                 everything
#   ./tests/run.sh --no-asan       only the normal build
#   ./tests/run.sh -R regex        only the ctest tests matching regex (both builds)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

asan=1
ctest_args=()
while [ $# -gt 0 ]; do
        case $1 in
        --no-asan) asan=0 ;;
        -R) ctest_args+=(-R "$2"); shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
        esac
        shift
done

./tests/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
build() { # dir, extra cmake args...
        local dir=$1; shift
        echo "==> building $dir"
        cmake -S . -B "$dir" -DRESTORED_WERROR=ON "$@" >"$dir.configure.log" 2>&1 || {
                cat "$dir.configure.log"; return 1; }
        cmake --build "$dir" -j"$jobs"
}
run_ctest() { # dir
        echo "==> testing $1"
        (cd "$1" && ctest --output-on-failure --timeout 600 "${ctest_args[@]}")
}

mkdir -p build
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
status=0
run_ctest build || status=1

if [ "$asan" = 1 ]; then
        mkdir -p build-asan
        build build-asan -DCMAKE_BUILD_TYPE=Debug -DRESTORED_SANITIZE=ON
        # grpc keeps process-lifetime singletons; leaks of our own code still fail the run.
        export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
        export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
        export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
        run_ctest build-asan || status=1
fi

if [ $status -eq 0 ]; then echo "==> all tests passed"; else echo "==> TESTS FAILED"; fi
exit $status
