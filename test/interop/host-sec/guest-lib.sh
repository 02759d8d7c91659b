# SPDX-License-Identifier: BSD-3-Clause
#
# guest-lib.sh - what guest-auth.sh and guest-tls.sh share: verdicts, and
# nvtcp's tools run with their output kept. Sourced; needs TR, SUBNQN, BIN
# and PERF_SECS set, and counts passed cases in CASES.

fail() {
    echo "TEST-FAIL: $*"
    echo "$*" > "${GUEST_REASON_FILE:-/tmp/fail-reason}"
    exit 1
}
step() { echo "=== $*"; }
ok() { CASES=$((CASES + 1)); echo "CASE-OK ($1): $2"; }

# tool NAME ARGS...: run nvtcp-NAME, keep its output in /tmp/out and status in $st
tool() {
    name=$1; shift
    echo "+ nvtcp-$name $*"
    "$BIN/nvtcp-$name" "$@" > /tmp/out 2>&1
    st=$?
    sed 's/^/  | /' /tmp/out
}

# perf_verify WHAT ARGS...: a short verified run over secured I/O queues
perf_verify() {
    what=$1; shift
    tool perf -r "$TR subnqn:$SUBNQN" -t "$PERF_SECS" -q 8 -o 4096 -w randrw --verify "$@"
    [ $st -eq 0 ] || fail "$what: nvtcp-perf exited $st"
    grep -q "0 mismatched blocks" /tmp/out || fail "$what: nvtcp-perf did not verify"
    ok "$what" "$(grep '^verify:' /tmp/out)"
}
