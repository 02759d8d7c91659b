#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The fuzz suite's tests (meson test --suite fuzz), one harness each:
#   fuzz-test.sh seeds   EXE NAME SRCDIR DICT   a short fixed run over the seed
#       corpus (corpus/NAME): FUZZ_TEST_RUNS executions (default 2000) with a
#       fixed seed; new inputs go to a scratch directory, crashes are kept
#       under the build directory and named in the output
#   fuzz-test.sh regress EXE NAME SRCDIR DICT   every input of regress/NAME
#       run once; passes with a note when there is none
# Exit status: 0 passed, 1 a crash, leak, timeout or stuck target.
set -uo pipefail
mode=$1 exe=$2 name=$3 src=$4 dict=$5

# Stop at the first finding; leaks count (LeakSanitizer at each run's end).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
out=${FUZZ_ARTIFACTS:-$PWD/fuzz-artifacts}/$name
mkdir -p "$out"

case $mode in
seeds)
    corpus=$src/corpus/$name
    if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus" 2> /dev/null)" ]; then
        echo "$name: no seed corpus in $corpus"
        exit 1
    fi
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/nvtcp-fuzz-test.XXXXXX") || exit 1
    trap 'rm -rf "$scratch"' EXIT
    mkdir "$scratch/corpus" "$scratch/tmp"
    # The JSON harnesses' temporary directory goes too, even after a crash.
    export TMPDIR=$scratch/tmp
    "$exe" -runs="${FUZZ_TEST_RUNS:-2000}" -seed=1 -timeout=60 -dict="$dict" \
        -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 -artifact_prefix="$out/" \
        "$scratch/corpus" "$corpus" 2>&1 |
        grep -vE '^(#[0-9]+|INFO: |MERGE|Dictionary: )' | tail -n 60
    rc=${PIPESTATUS[0]}
    # Never 77 (libFuzzer's default crash status), which meson would count as skipped.
    [ "$rc" = 0 ] || { echo "$name: FAILED (rc $rc); the input is in $out/"; exit 1; }
    exit 0
    ;;
regress)
    dir=$src/regress/$name
    mapfile -t inputs < <(find "$dir" -type f ! -name '*.md' 2> /dev/null | sort)
    if [ "${#inputs[@]}" = 0 ]; then
        echo "$name: no regression inputs in $dir: nothing to replay"
        exit 0
    fi
    echo "$name: replaying ${#inputs[@]} regression inputs from $dir"
    TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/nvtcp-fuzz-test.XXXXXX") || exit 1
    trap 'rm -rf "$TMPDIR"' EXIT
    export TMPDIR
    "$exe" -timeout=60 -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$out/" \
        "${inputs[@]}" 2>&1 | tail -n 60
    rc=${PIPESTATUS[0]}
    [ "$rc" = 0 ] || { echo "$name: a regression input FAILED (rc $rc)"; exit 1; }
    exit 0
    ;;
*)
    echo "usage: $0 seeds|regress EXE NAME SRCDIR DICT" >&2
    exit 2
    ;;
esac
