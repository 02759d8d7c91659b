#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build nvtcp with AddressSanitizer + UndefinedBehaviorSanitizer and run every
# test (unit, functional, interop). Installs missing Debian packages first.
# Ends with one line "N passed, N failed, N skipped"; exits non-zero on any
# failure.
#   NVT_TEST_BUILD=dir    build directory (default build-test)
#   NVT_TEST_SUITES="a b" run only these meson suites
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

fail_build() { echo "nvtcp: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

scripts/deps.sh build test || fail_build "missing packages"
B=${NVT_TEST_BUILD:-build-test}
R=${NVT_TEST_RELEASE_BUILD:-build-release}
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

suites=()
for s in ${NVT_TEST_SUITES:-}; do suites+=(--suite "$s"); done
# ASan's leak checker runs at exit of every test program.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
meson test -C "$B" --print-errorlogs --num-processes "${NVT_TEST_JOBS:-2}" "${suites[@]}"
rc=$?
python3 scripts/test-summary.py "$B/meson-logs/testlog.json" || rc=1
exit $rc
