#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# sec-lib.sh - helpers of the security guest tests (auth.sh, tls.sh), sourced from
# /extra (run-sec.sh copies it there with sec-keys.sh). Target-agnostic: they
# use the kernel host (nvme-cli) only, so the same tests run against the kernel's
# nvmet (kernel-target.sh) and against nvtcpd (nvtcpd-sec.sh).
#
# Each case runs in a subshell through run_case and ends with exactly one line
#   CASE-RESULT: PASS <name> (<seconds>s): <what was shown>
#   CASE-RESULT: FAIL <name> (<seconds>s): <why>
# (run-guest.sh -q prints them); a failed case does not stop the others, and
# leftover mounts and controllers of SUBNQN are removed after each. cases_done
# ends the test: exit 0 when every case passed.
#
# Environment: TRADDR, TRSVCID, SUBNQN (run-guest.sh), FIO_SECS=6 (0 = no fio),
# EXT4=1 (0 = no ext4 step), CONNECT_OPTS (more 'nvme connect' options).
TRADDR=${TRADDR:-127.0.0.1}
TRSVCID=${TRSVCID:-4420}
SUBNQN=${SUBNQN:-nqn.2024-01.io.example:nvtcp-interop}
FIO_SECS=${FIO_SECS:-6}
EXT4=${EXT4:-1}
CONNECT_OPTS=${CONNECT_OPTS:-}
MNT=/mnt/nvt
CASE_REASON=/tmp/case-reason
CASES_RUN="" CASES_FAILED=""

step() { echo "=== $*"; }
run() { echo "+ $*"; "$@"; }
# fail REASON: ends the current case (the subshell of run_case), or the test
# when called outside a case
fail() {
    echo "TEST-FAIL: $*"
    echo "$*" > "$CASE_REASON"
    echo "$*" > "${GUEST_REASON_FILE:-/tmp/fail-reason}"
    exit 1
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }
ctrls_of() {  # the controllers connected to SUBNQN
    for c in /sys/class/nvme/nvme*; do
        [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$SUBNQN" ] && echo "${c##*/}"
    done
}
ctrl_of() { ctrls_of | head -n 1; }
# mark, since_mark: the kernel log lines since the last mark
mark() { MARK=$(dmesg | wc -l); }
since_mark() { dmesg | tail -n +$((${MARK:-0} + 1)); }
# connect ARGS...: nvme connect to SUBNQN, bounded in time; -l 20: a dead target is
# given up after 20 s instead of 600 s. Marks the kernel log first.
connect() {
    mark
    # shellcheck disable=SC2086
    run timeout 90 nvme connect -t tcp -a "$TRADDR" -s "$TRSVCID" -n "$SUBNQN" -l 20 $CONNECT_OPTS "$@"
}
# connected WHAT ARGS...: connect, find the controller and namespace: CTRL, NS
connected() {
    what=$1; shift
    connect "$@" > /tmp/conn.out 2>&1; st=$?
    cat /tmp/conn.out
    [ "$st" = 0 ] || fail "$what: nvme connect failed (status $st): $(tail -n 1 /tmp/conn.out)"
    CTRL=$(ctrl_of)
    [ -n "$CTRL" ] || fail "$what: no controller of $SUBNQN after connect"
    i=0 NS=""
    while [ $i -lt 100 ]; do           # the namespace node appears asynchronously
        for b in /dev/${CTRL}n1 /dev/nvme*n1; do [ -b "$b" ] && NS=$b && break; done
        [ -n "$NS" ] && break
        usleep 200000; i=$((i + 1))
    done
    [ -n "$NS" ] || fail "$what: no namespace block device after connect"
    echo "controller /dev/$CTRL ($(cat "/sys/class/nvme/$CTRL/state")), namespace $NS"
}
# expect_refused WHAT ARGS...: the connect must fail and leave no controller.
# REFUSED is the last line nvme-cli printed (its reason).
expect_refused() {
    what=$1; shift
    connect "$@" > /tmp/conn.out 2>&1; st=$?
    cat /tmp/conn.out
    [ "$st" != 0 ] || fail "$what: connect succeeded (it must be refused)"
    [ -z "$(ctrl_of)" ] || fail "$what: a controller exists after the refused connect"
    refused_why
}
# host_lines: the host driver's kernel log lines since the mark (nvmet's are left
# out: with the kernel target, both sides log into this guest's one log)
host_lines() { since_mark | grep -E 'nvme nvme[0-9]+:|nvme_tcp:|nvme_fabrics:' | sed 's/^\[[ 0-9.]*\] //'; }
# refused_why: REFUSED is nvme-cli's last line and the host's last kernel log line
refused_why() {
    REFUSED=$(grep -v '^+ ' /tmp/conn.out | tail -n 1)
    k=$(host_lines | tail -n 1)
    [ -n "$k" ] && REFUSED="$REFUSED (kernel: $k)"
    echo "refused as it must be: status $st, $REFUSED"
}
# refused_in WHAT PATTERN: the host's kernel lines of the refused connect match
# PATTERN (egrep, no case): it was refused in that step, not for another reason
refused_in() {
    host_lines | grep -q -i -E "$2" ||
        fail "$1: refused, but the host logged nothing matching '$2': $REFUSED"
}
disconnect() {
    run nvme disconnect -n "$SUBNQN" > /dev/null || fail "nvme disconnect failed"
    i=0; while [ -e "/dev/$CTRL" ] && [ $i -lt 50 ]; do usleep 200000; i=$((i + 1)); done
    [ ! -e "/dev/$CTRL" ] || fail "/dev/$CTRL still present after disconnect"
}
# check_dd WHAT: 4 MiB of random data at offset 0 and in the last 4 MiB, read back
check_dd() {
    size=$(blockdev --getsize64 "$NS") || fail "$1: cannot read the namespace size"
    [ "$size" -ge $((16 * 1048576)) ] || fail "$1: namespace smaller than 16 MiB"
    dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 2>/dev/null
    last=$((size / 1048576 - 4))
    for off in 0 $last; do
        dd if=/tmp/pattern of="$NS" bs=1M seek="$off" oflag=direct conv=fsync 2>/dev/null ||
            fail "$1: write at $off MiB failed"
    done
    echo 3 > /proc/sys/vm/drop_caches
    for off in 0 $last; do
        dd if="$NS" of=/tmp/readback bs=1M skip="$off" count=4 iflag=direct 2>/dev/null ||
            fail "$1: read at $off MiB failed"
        cmp -s /tmp/pattern /tmp/readback || fail "$1: data mismatch at $off MiB"
    done
    echo "DATA-VERIFIED ($1): 2 x 4 MiB written and read back identically"
}
# check_fio WHAT: FIO_SECS of 4 KiB randrw at queue depth 16 with crc32c verify
check_fio() {
    [ "$FIO_SECS" -gt 0 ] && command -v fio > /dev/null || return 0
    run fio --name=verify --filename="$NS" --ioengine=libaio --direct=1 \
        --rw=randrw --bs=4k --iodepth=16 --size=32M --time_based --runtime="$FIO_SECS" \
        --verify=crc32c --verify_backlog=64 --verify_fatal=1 --do_verify=1 \
        --eta=never --output=/tmp/fio.out || { cat /tmp/fio.out; fail "$1: fio randrw with verify failed"; }
    grep -E 'read:|write:|err=' /tmp/fio.out
    echo "FIO-VERIFIED ($1): ${FIO_SECS}s randrw, crc32c verify"
}
# check_ext4 WHAT: mkfs, mount, write a file, umount, remount, compare, fsck.
# /sbin/mke2fs and /sbin/e2fsck by full path: busybox's shell prefers its own applets.
check_ext4() {
    [ "$EXT4" = 1 ] || return 0
    grep -qw ext4 /proc/filesystems || modprobe ext4 || fail "$1: no ext4 in the guest"
    dd if=/dev/urandom of=/tmp/fsdata bs=1M count=8 2>/dev/null
    run /sbin/mke2fs -q -F -t ext4 "$NS" || fail "$1: mke2fs -t ext4 failed"
    mkdir -p "$MNT"
    run mount -t ext4 "$NS" "$MNT" || fail "$1: mount ext4 failed"
    cp /tmp/fsdata "$MNT/data.bin" || fail "$1: write to ext4 failed"
    sync
    run umount "$MNT" || fail "$1: umount ext4 failed"
    echo 3 > /proc/sys/vm/drop_caches
    run mount -t ext4 "$NS" "$MNT" || fail "$1: remount ext4 failed"
    want=$(md5sum < /tmp/fsdata | cut -d' ' -f1)
    got=$(md5sum < "$MNT/data.bin" | cut -d' ' -f1) || fail "$1: read from ext4 failed"
    [ "$got" = "$want" ] || fail "$1: ext4 file mismatch: md5 $got != $want"
    run umount "$MNT" || fail "$1: final umount ext4 failed"
    run /sbin/e2fsck -f -n "$NS" > /tmp/fsck.out 2>&1 || { cat /tmp/fsck.out; fail "$1: e2fsck found errors"; }
    echo "FS-VERIFIED ($1): 8 MiB file on ext4 survived remount, md5 $got; e2fsck clean"
}
# check_io WHAT: dd, fio and ext4 on NS; IO_DONE says which ran
check_io() {
    check_dd "$1"
    IO_DONE=dd
    check_fio "$1"
    [ "$FIO_SECS" -gt 0 ] && command -v fio > /dev/null && IO_DONE="$IO_DONE, fio verify"
    check_ext4 "$1"
    [ "$EXT4" = 1 ] && IO_DONE="$IO_DONE, ext4"
    IO_DONE="$IO_DONE passed"
}

# run_case NAME FUNCTION: run FUNCTION in a subshell as the case NAME. The
# function ends with 'echo "$summary" > "$CASE_SUMMARY"' to say what it showed.
CASE_SUMMARY=/tmp/case-summary
run_case() {
    name=$1 fn=$2
    step "case $name"
    rm -f "$CASE_REASON" "$CASE_SUMMARY"
    t0=$(uptime_s)
    ("$fn"); st=$?
    secs=$(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }')
    # leftovers of a failed case must not spoil the next one
    grep -q " $MNT " /proc/mounts && umount "$MNT"
    for c in $(ctrls_of); do nvme disconnect -d "$c" > /dev/null 2>&1; done
    CASES_RUN="$CASES_RUN $name"
    if [ "$st" = 0 ]; then
        echo "CASE-RESULT: PASS $name (${secs}s): $(cat "$CASE_SUMMARY" 2>/dev/null)"
    else
        CASES_FAILED="$CASES_FAILED $name"
        echo "CASE-RESULT: FAIL $name (${secs}s): $(cat "$CASE_REASON" 2>/dev/null || echo "status $st")"
    fi
}
summary() { echo "$*" > "$CASE_SUMMARY"; }

# cases_done TEST: the verdict of the whole test
cases_done() {
    t=$1
    # shellcheck disable=SC2086
    set -- $CASES_RUN
    n=$#
    # shellcheck disable=SC2086
    set -- $CASES_FAILED
    if [ $# = 0 ]; then
        echo "ALL-CASES-OK: $n $t case(s) passed"
        exit 0
    fi
    echo "$# of $n $t case(s) failed:$CASES_FAILED" > "${GUEST_REASON_FILE:-/tmp/fail-reason}"
    echo "TEST-FAIL: $# of $n $t case(s) failed:$CASES_FAILED"
    exit 1
}
