#!/usr/bin/env bash
# run.sh [SECONDS] - builds tests/fuzz/fuzz_load.c with clang (libFuzzer + ASan + UBSan) and
# fuzzes the load stage for SECONDS (default 20), seeded with a demo and a broken graph from
# tests/tools/graphgen.py. Exit 0 when no crash, leak or sanitizer report was found; a finding
# is kept as tests/fuzz/crash-* (reproduce: ./fuzz_load crash-...). Used by ctest (it.fuzz_load).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
secs=${1:-20}
command -v clang >/dev/null || { echo "run.sh: clang is missing (apt-get install clang)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/restored-fuzz-XXXXXX")
trap 'rm -rf "$work" /dev/shm/restored-fuzz-* /tmp/restored-fuzz-[0-9]* 2>/dev/null' EXIT

p=$src/pipeline
clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -I"$p" $(pkg-config --cflags json-c) "$here/fuzz_load.c" \
        "$p/load.c" "$p/jsonfile.c" "$p/container.c" "$p/error.c" "$p/types.c" \
        $(pkg-config --libs json-c) -o "$work/fuzz_load"

# Seeds: the real files of a demo and a broken graph, joined as the target expects.
/usr/bin/python3 "$src/tests/tools/graphgen.py" --graph "$work/g" --state "$work/s" --mix all \
        --seed 4 >/dev/null 2>&1
mkdir -p "$work/corpus"
n=0
for d in "$work"/g/engines/*/*/; do
        [ -d "$d" ] && [ ! -L "${d%/}" ] || continue
        {
                for f in config.v2.json hostconfig.json container_state.json network_settings.json; do
                        [ -f "$d$f" ] && [ ! -L "$d$f" ] && [ "$(stat -c %s "$d$f")" -lt 65536 ] &&
                                cat "$d$f"
                        printf '\377'
                done
        } >"$work/corpus/seed-$n" 2>/dev/null || true
        n=$((n + 1))
done
echo "fuzzing load for ${secs}s from $n seeds"
cd "$here"
"$work/fuzz_load" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "$work/corpus" 2>&1 | tail -15
