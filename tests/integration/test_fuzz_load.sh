#!/usr/bin/env bash
# test_fuzz_load.sh - 20 seconds of coverage-guided fuzzing of the load stage (libFuzzer with
# ASan + UBSan; see tests/fuzz/run.sh). Exit 0 when no crash, leak or sanitizer report.
exec "$(dirname "${BASH_SOURCE[0]}")/../fuzz/run.sh" 20
