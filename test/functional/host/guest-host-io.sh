#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# guest-host-io.sh - guest test: drive an NVMe/TCP target with nvtcp's own host
# (nvtcp-identify, nvtcp-perf from /extra). Runs inside the interop guest (busybox
# sh) once the target listens; works against the kernel's nvmet-tcp and nvtcpd.
#
# Steps: identify controller + namespaces, discovery log, every workload briefly
# with --verify, large I/O (R2T / multi-PDU C2H; above the target's MDTS the
# host library splits it into several commands), digests, discovery-driven perf,
# an unknown subsystem (must fail cleanly with a decoded status).
#
# Environment: TRADDR, TRSVCID, SUBNQN (set by run-guest.sh); PERF_SECS=2;
# BIN=/extra (where the binaries are); LARGE_IO=1048576 (bytes).
TRADDR=${TRADDR:-127.0.0.1}
TRSVCID=${TRSVCID:-4420}
SUBNQN=${SUBNQN:-nqn.2024-01.io.example:nvtcp-interop}
PERF_SECS=${PERF_SECS:-2}
BIN=${BIN:-/extra}
LARGE_IO=${LARGE_IO:-1048576}
TR="trtype:TCP adrfam:IPv4 traddr:$TRADDR trsvcid:$TRSVCID"

fail() {
    echo "TEST-FAIL: $*"
    echo "$*" > "${GUEST_REASON_FILE:-/tmp/fail-reason}"
    exit 1
}
run() { echo "+ $*"; "$@"; }

echo "=== identify controller"
run "$BIN/nvtcp-identify" -r "$TR subnqn:$SUBNQN" > /tmp/id.out 2>&1
st=$?; cat /tmp/id.out
[ $st -eq 0 ] || fail "nvtcp-identify failed ($st)"
grep -q "^subnqn *: $SUBNQN" /tmp/id.out || fail "identify: subnqn missing"
grep -q "^nsze" /tmp/id.out || fail "identify: no namespace"

echo "=== discovery log"
run "$BIN/nvtcp-identify" -r "$TR" > /tmp/disc.out 2>&1
st=$?; cat /tmp/disc.out
[ $st -eq 0 ] || fail "nvtcp-identify discovery failed ($st)"
grep -q "subnqn: *$SUBNQN" /tmp/disc.out || fail "discovery log lacks $SUBNQN"

perf() {
    echo "=== perf $*"
    run "$BIN/nvtcp-perf" -r "$TR subnqn:$SUBNQN" -t "$PERF_SECS" --verify "$@" > /tmp/perf.out 2>&1
    st=$?; cat /tmp/perf.out
    [ $st -eq 0 ] || fail "nvtcp-perf $* failed ($st)"
    grep -q "^Total" /tmp/perf.out || fail "nvtcp-perf $*: no total line"
}
for w in write read randwrite randread rw randrw; do
    perf -q 16 -o 4096 -w "$w"
done
perf -q 8 -o 131072 -w randrw -M 50
perf -q 4 -o "$LARGE_IO" -w rw
perf -q 8 -o "$LARGE_IO" -w randrw -M 50 -I
# 1 MiB + 4 KiB: split I/O whose last command is short.
perf -q 2 -o 1052672 -w randrw
perf -q 16 -o 4096 -w randrw -H -I
perf -q 8 -o 65536 -w randrw -H -I
perf -q 8 -o 4096 -w randrw -P 2 -L

echo "=== perf through discovery"
run "$BIN/nvtcp-perf" -r "$TR" -t "$PERF_SECS" -q 8 -w randrw --verify --json > /tmp/pd.out 2>&1
st=$?; cat /tmp/pd.out
[ $st -eq 0 ] || fail "nvtcp-perf through discovery failed ($st)"

echo "=== unknown subsystem"
run "$BIN/nvtcp-perf" -r "$TR subnqn:nqn.2024-01.io.example:nope" -t 1 > /tmp/bad.out 2>&1
st=$?; cat /tmp/bad.out
[ $st -eq 2 ] || fail "unknown subsystem: exit $st, wanted 2"
grep -q "SCT 1h SC 82h" /tmp/bad.out || fail "unknown subsystem: status not decoded"

echo "=== host CPU cost (4 KiB randread, q32)"
run "$BIN/nvtcp-perf" -r "$TR subnqn:$SUBNQN" -t 5 -q 32 -o 4096 -w randread
run "$BIN/nvtcp-perf" -r "$TR subnqn:$SUBNQN" -t 5 -q 1 -o 4096 -w randread

# The kernel target can drop the subsystem from its port: a target going away.
CFS=/sys/kernel/config/nvmet/ports/1/subsystems/$SUBNQN
if [ "${TARGET_GOES_AWAY:-1}" = 1 ] && [ -L "$CFS" ]; then
    echo "=== target goes away mid-run"
    "$BIN/nvtcp-perf" -r "$TR subnqn:$SUBNQN" -t 20 -q 16 -w randrw --verify > /tmp/away.out 2>&1 &
    pid=$!
    sleep 3
    rm "$CFS"
    wait $pid
    st=$?; cat /tmp/away.out
    [ $st -eq 1 ] || fail "target gone: exit $st, wanted 1"
    grep -q "went away" /tmp/away.out || fail "target gone: no message"
    grep -q "^Total" /tmp/away.out || fail "target gone: no partial report"
fi
echo "TEST-PASS"
exit 0
