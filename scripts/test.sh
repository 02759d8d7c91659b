#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build nvtcp with AddressSanitizer + UndefinedBehaviorSanitizer and run every
# test (unit, functional, interop), then build the clang fuzz tree and run its
# "fuzz" suite (each libFuzzer harness briefly over its seeds, and every saved
# regression input). Installs missing Debian packages first (the RBD tests
# skip when Ceph's cannot be installed).
# Ends with one line "N passed, N failed, N skipped" over both trees; exits
# non-zero on any failure.
#   NVT_TEST_BUILD=dir         build directory (default build-test)
#   NVT_TEST_RELEASE_BUILD=dir release build directory (default build-release)
#   NVT_TEST_FUZZ_BUILD=dir    clang fuzz build directory (default build-fuzz)
#   NVT_TEST_SUITES="a b"      run only these meson suites ("fuzz" is the fuzz
#                              tree's; without it the fuzz tree is left alone,
#                              with nothing else only the fuzz tree is built)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

fail_build() { echo "nvtcp: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

B=${NVT_TEST_BUILD:-build-test}
R=${NVT_TEST_RELEASE_BUILD:-build-release}
F=${NVT_TEST_FUZZ_BUILD:-build-fuzz}
JOBS=${NVT_TEST_JOBS:-2}

# Which trees the requested suites need.
main_suites=() run_main=1 run_fuzz=1
if [ -n "${NVT_TEST_SUITES:-}" ]; then
    run_main=0 run_fuzz=0
    for s in $NVT_TEST_SUITES; do
        if [ "$s" = fuzz ]; then run_fuzz=1; else run_main=1; main_suites+=(--suite "$s"); fi
    done
fi

fuzz_missing=""
scripts/deps.sh build || fail_build "missing packages"
if ! scripts/deps.sh test; then
    # Without clang's libFuzzer only the fuzz tree is lost; anything else is fatal.
    scripts/deps.sh test-base || fail_build "missing packages"
    fuzz_missing="fuzz: clang and libFuzzer are not installed and could not be installed (scripts/deps.sh fuzz)"
fi
# Without Ceph the RBD tests skip, saying why (test/common/ceph_cluster.py).
if [ "$run_main" = 1 ] && ! scripts/deps.sh ceph; then
    export NVT_CEPH_MISSING="ceph: ceph-mon, ceph-osd and ceph-common are not installed and could not be installed (scripts/deps.sh ceph)"
fi

# ASan's leak checker runs at exit of every test program.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
logs=() fails=() rc=0

main_tree() {
    mkdir -p "$(dirname "$B")" "$(dirname "$R")"
    if [ ! -f "$B/build.ninja" ]; then
        meson setup "$B" -Db_sanitize=address,undefined -Db_lundef=false \
            --buildtype=debugoptimized > "$B.setup.log" 2>&1 ||
            { cat "$B.setup.log" >&2; fail_build "meson setup failed"; }
    fi
    ninja -C "$B" || fail_build "build failed"
    # The release build must compile warning-free too (asserts compiled out).
    if [ ! -f "$R/build.ninja" ]; then
        meson setup "$R" --buildtype=release -Dtests=false > "$R.setup.log" 2>&1 ||
            { cat "$R.setup.log" >&2; fail_build "meson setup (release) failed"; }
    fi
    ninja -C "$R" > "$R.build.log" 2>&1 || { cat "$R.build.log" >&2; fail_build "release build failed"; }
    meson test -C "$B" --print-errorlogs --num-processes "$JOBS" "${main_suites[@]}" || rc=1
    logs+=("$B/meson-logs/testlog.json")
}

# The clang tree of the libFuzzer harnesses; its failures to set up count as failed tests.
fuzz_tree() {
    if [ -n "$fuzz_missing" ]; then
        fails+=("$fuzz_missing")
        return
    fi
    mkdir -p "$(dirname "$F")"
    if [ ! -f "$F/build.ninja" ]; then
        CC=clang meson setup "$F" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
            --buildtype=debugoptimized -Dtests=false > "$F.setup.log" 2>&1 ||
            { cat "$F.setup.log" >&2; fails+=("fuzz: meson setup of $F failed (see $F.setup.log)"); return; }
    fi
    ninja -C "$F" > "$F.build.log" 2>&1 ||
        { tail -n 40 "$F.build.log" >&2; fails+=("fuzz: the build of $F failed (see $F.build.log)"); return; }
    meson test -C "$F" --print-errorlogs --num-processes "$JOBS" --suite fuzz || rc=1
    logs+=("$F/meson-logs/testlog.json")
}

[ "$run_main" = 0 ] || main_tree
[ "$run_fuzz" = 0 ] || fuzz_tree
fail_args=()
for f in "${fails[@]}"; do fail_args+=(--fail "$f"); done
python3 scripts/test-summary.py "${fail_args[@]}" "${logs[@]}" || rc=1
exit $rc
