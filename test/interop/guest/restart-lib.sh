# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=sh
#
# restart-lib.sh - helpers for the guest tests that restart the target (busybox sh,
# sourced from /extra). The target runs under guest/nvtcpd-supervisor.sh, whose
# files in $SUPERVISOR_DIR tell the daemon's pid, its starts and its exits.
#
# Sets defaults for TRADDR, TRSVCID, SUBNQN; defines step, run, fail, listening,
# nvt_connect, nvt_disconnect, nvt_ns_identity, nvt_path_stat, nvt_restart.
# They fail the test themselves (fail: reason to $GUEST_REASON_FILE, exit 1).
TRADDR=${TRADDR:-127.0.0.1}
TRSVCID=${TRSVCID:-4420}
SUBNQN=${SUBNQN:-nqn.2016-06.io.nvtcp:cnode1}
SUPERVISOR_DIR=${SUPERVISOR_DIR:-/run/nvtcpd-supervisor}
MNT=${MNT:-/mnt/nvt}
CTRL="" NS=""

step() { echo "=== $*"; }
run() { echo "+ $*"; "$@"; }
fail() {
    echo "TEST-FAIL: $*"
    echo "$*" > "${GUEST_REASON_FILE:-/tmp/fail-reason}"
    grep -q " $MNT " /proc/mounts && umount "$MNT"
    exit 1
}

listening() {  # listening PORT: is some TCP socket in LISTEN state on PORT? (as /init)
    hex=$(printf ':%04X' "$1")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
}

# nvt_connect [nvme connect options]: connect to $SUBNQN, set CTRL (nvme0) and
# NS (/dev/nvme0n1) once the namespace's block device exists.
nvt_connect() {
    # shellcheck disable=SC2086
    run nvme connect -t tcp -a "$TRADDR" -s "$TRSVCID" -n "$SUBNQN" "$@" || fail "nvme connect failed"
    CTRL="" NS=""
    for c in /sys/class/nvme/nvme*; do
        [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$SUBNQN" ] && CTRL=${c##*/}
    done
    [ -n "$CTRL" ] || fail "no controller for $SUBNQN in /sys/class/nvme"
    i=0
    while [ $i -lt 100 ]; do       # the namespace node appears asynchronously
        for b in "/dev/${CTRL}n1" /dev/nvme*n1; do [ -b "$b" ] && NS=$b && break; done
        [ -n "$NS" ] && break
        usleep 200000; i=$((i + 1))
    done
    [ -n "$NS" ] || fail "no namespace block device after connect"
    echo "controller /dev/$CTRL ($(cat "/sys/class/nvme/$CTRL/state")), namespace $NS"
}

nvt_disconnect() {
    run nvme disconnect -n "$SUBNQN" || fail "nvme disconnect failed"
    i=0; while [ -e "/dev/$CTRL" ] && [ $i -lt 50 ]; do usleep 200000; i=$((i + 1)); done
    [ ! -e "/dev/$CTRL" ] || fail "/dev/$CTRL still present after disconnect"
}

# nvt_ns_identity: set NS_ID to one line naming the namespace as the host sees it:
# size, NGUID and EUI-64 from Identify Namespace, and its descriptors (NGUID, UUID).
nvt_ns_identity() {
    nvme id-ns "$NS" > /tmp/id-ns.out || fail "nvme id-ns $NS failed"
    nvme ns-descs "$NS" > /tmp/ns-descs.out || fail "nvme ns-descs $NS failed"
    # shellcheck disable=SC2034 # read by the tests that source this file
    NS_ID=$({
        echo "bytes:$(blockdev --getsize64 "$NS")"
        grep -E '^(nsze|ncap|nguid|eui64) ' /tmp/id-ns.out | tr -d ' '
        grep -E '^(nguid|uuid|eui64) ' /tmp/ns-descs.out | tr -d ' ' | sed 's/^/desc-/'
    } | tr '\n' ' ')
}

# nvt_path_stat FIELD: a counter of the controller's path device (nvme0c0n1): the
# multipath head (nvme0n1) keeps no statistics in 6.1. FIELD is the column of
# /sys/block/*/stat: 3 = sectors read, 7 = sectors written. The path device lives
# as long as the controller, across reconnects.
nvt_path_stat() {
    for p in /sys/class/nvme/"$CTRL"/"$CTRL"c*n1 /sys/block/"${NS#/dev/}"; do
        [ -r "$p/stat" ] || continue
        awk -v f="$1" '{ print $f }' "$p/stat"
        return 0
    done
    echo 0
}

# nvt_restart SIGNAL: have the supervisor start nvtcpd again after this test kills
# it with SIGNAL, then wait until the new process listens. A SIGTERM must end
# nvtcpd with status 0 (clean shutdown), a SIGKILL with 137.
nvt_restart() {
    sig=$1
    case $sig in KILL) want=137 ;; TERM) want=0 ;; *) fail "nvt_restart: no expected status for SIG$sig" ;; esac
    [ -r "$SUPERVISOR_DIR/pid" ] || fail "no $SUPERVISOR_DIR/pid: is nvtcpd run by nvtcpd-supervisor.sh?"
    old=$(cat "$SUPERVISOR_DIR/pid")
    starts=$(wc -l < "$SUPERVISOR_DIR/starts")
    exits=0; [ -r "$SUPERVISOR_DIR/exits" ] && exits=$(wc -l < "$SUPERVISOR_DIR/exits")
    : > "$SUPERVISOR_DIR/restart"    # before the kill: the supervisor looks at its exit
    t0=$(cut -d' ' -f1 /proc/uptime)
    kill -"$sig" "$old" || fail "cannot send SIG$sig to nvtcpd (pid $old)"
    # A new line in 'starts' is written after the old process was reaped, so the
    # listener seen next is the new process's.
    i=0
    until [ "$(wc -l < "$SUPERVISOR_DIR/starts")" -gt "$starts" ] && listening "$TRSVCID"; do
        [ -n "${TARGET_PID:-}" ] && ! kill -0 "$TARGET_PID" 2>/dev/null &&
            fail "the supervisor ended after SIG$sig to nvtcpd (see target| lines)"
        i=$((i + 1))
        [ $i -le 300 ] || fail "nvtcpd not listening again 60 s after SIG$sig"
        usleep 200000
    done
    new=$(cat "$SUPERVISOR_DIR/pid")
    st=$(sed -n "$((exits + 1))p" "$SUPERVISOR_DIR/exits")
    [ "$st" = "$want" ] || fail "nvtcpd (pid $old) ended with status $st after SIG$sig, want $want"
    [ "$new" != "$old" ] || fail "nvtcpd pid unchanged after restart ($new)"
    echo "nvtcpd restarted: pid $old ended by SIG$sig (status $st), pid $new listening after $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }') s"
}
