#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# restart.sh - guest test: what the host wrote survives restarts of a file-backed
# target. Needs the target under /extra/nvtcpd-supervisor.sh and /extra/restart-lib.sh
# (run-nvtcpd.sh with NVTCPD_SUPERVISE=1 copies both).
#
# Steps: connect; note the namespace's identity (size, NGUID, EUI-64, UUID); write
# random 4 MiB patterns past the file system area (direct I/O, then fsync: a Flush);
# ext4 in the first FS_MB MiB with one file; disconnect. Then for each signal in
# RESTART_SIGNALS: kill nvtcpd with it (the supervisor starts it again on the same
# --disk file), connect, check the identity is unchanged and the patterns read back
# identically, e2fsck the file system, mount it, compare the md5 of every file
# written so far, add one more file (so that what was written after a restart must
# survive the next one; not after the last), umount, disconnect.
#
# Environment (-e NAME=VALUE):
#   RESTART_SIGNALS="TERM KILL"  one restart per signal, in order: TERM is a clean
#                               shutdown (nvtcpd must exit 0), KILL a crash (137)
#   FS_MB=128                   size of the ext4 file system at the start of the namespace
#   DISK_FILE=""                the --disk file, as the guest sees it: when set, the
#                               patterns are also compared in the file itself
#   CONNECT_OPTS=""             extra options for 'nvme connect'
# On failure it writes a one-line reason to $GUEST_REASON_FILE and exits 1.
[ -r /extra/restart-lib.sh ] || {
    echo "no /extra/restart-lib.sh (run with NVTCPD_SUPERVISE=1)" > "${GUEST_REASON_FILE:-/tmp/fail-reason}"
    exit 1
}
# shellcheck source=restart-lib.sh
. /extra/restart-lib.sh
RESTART_SIGNALS=${RESTART_SIGNALS:-TERM KILL}
FS_MB=${FS_MB:-128}
DISK_FILE=${DISK_FILE:-}
CONNECT_OPTS=${CONNECT_OPTS:-}

grep -qw ext4 /proc/filesystems || modprobe ext4 || fail "no ext4 in the guest"

step "connect"
# -l: give up on a dead target after 20 s instead of the default 600 s
# shellcheck disable=SC2086
nvt_connect -l 20 $CONNECT_OPTS
nvt_ns_identity
ID0=$NS_ID
echo "namespace identity: $ID0"
# An all-zero NGUID and no UUID would compare equal trivially: demand a real one.
echo "$ID0" | grep -qE 'desc-uuid:[0-9a-f-]{36}|nguid:[0-9a-f]*[1-9a-f]' ||
    fail "namespace has neither a UUID nor a non-zero NGUID: $ID0"
size=$(blockdev --getsize64 "$NS") || fail "cannot read namespace size"
mib=$((size / 1048576))
[ "$mib" -ge $((FS_MB + 16)) ] || fail "namespace of $mib MiB: want at least $((FS_MB + 16))"

# Two 4 MiB patterns after the file system: just past it, and the last 4 MiB.
OFFS="$((FS_MB + 4)) $((mib - 4))"
step "write patterns at $OFFS MiB"
for off in $OFFS; do
    dd if=/dev/urandom of="/tmp/pattern.$off" bs=1M count=4 2>/dev/null
    # oflag=direct: straight to the target; conv=fsync: then a Flush command
    dd if="/tmp/pattern.$off" of="$NS" bs=1M seek="$off" oflag=direct conv=fsync 2>/dev/null ||
        fail "write at $off MiB failed"
done

check_patterns() {  # check_patterns WHEN
    echo 3 > /proc/sys/vm/drop_caches
    for off in $OFFS; do
        dd if="$NS" of=/tmp/readback bs=1M skip="$off" count=4 iflag=direct 2>/dev/null ||
            fail "$1: read at $off MiB failed"
        cmp -s "/tmp/pattern.$off" /tmp/readback || fail "$1: data mismatch at $off MiB"
        if [ -n "$DISK_FILE" ]; then
            # The same bytes in the backing file: the namespace really is that file.
            dd if="$DISK_FILE" of=/tmp/readback bs=1M skip="$off" count=4 2>/dev/null ||
                fail "$1: cannot read $DISK_FILE"
            cmp -s "/tmp/pattern.$off" /tmp/readback || fail "$1: $DISK_FILE differs at $off MiB"
        fi
    done
    echo "DATA-VERIFIED ($1): 4 MiB at each of $OFFS MiB identical${DISK_FILE:+, in $DISK_FILE too}"
}
check_patterns "before any restart"

step "ext4 in the first $FS_MB MiB: mkfs, mount, write, umount"
run /sbin/mke2fs -q -F -t ext4 "$NS" "${FS_MB}M" || fail "mke2fs -t ext4 failed"
mkdir -p "$MNT"
FILES=""
add_file() {  # add_file NAME: 4 MiB of random data in the mounted file system
    dd if=/dev/urandom of="/tmp/fs.$1" bs=1M count=4 2>/dev/null
    mkdir -p "$MNT/dir" || fail "cannot mkdir in ext4"
    cp "/tmp/fs.$1" "$MNT/dir/$1" || fail "cannot write $1 to ext4"
    FILES="$FILES $1"
}
run mount -t ext4 "$NS" "$MNT" || fail "mount ext4 failed"
add_file initial
sync
run umount "$MNT" || fail "umount ext4 failed"
step "disconnect"
nvt_disconnect

# shellcheck disable=SC2086
set -- $RESTART_SIGNALS
total=$#
[ "$total" -gt 0 ] || fail "RESTART_SIGNALS is empty"
round=0
for sig in $RESTART_SIGNALS; do
    round=$((round + 1))
    step "restart $round: SIG$sig to nvtcpd"
    nvt_restart "$sig"
    step "connect after restart $round"
    # shellcheck disable=SC2086
    nvt_connect -l 20 $CONNECT_OPTS
    nvt_ns_identity
    [ "$NS_ID" = "$ID0" ] || fail "namespace identity changed after SIG$sig: '$NS_ID' != '$ID0'"
    echo "IDENTITY-VERIFIED: unchanged after SIG$sig: $NS_ID"
    check_patterns "after SIG$sig"
    step "ext4 after restart $round: fsck, mount, compare, add a file"
    run /sbin/e2fsck -f -n "$NS" > /tmp/fsck.out 2>&1 || { cat /tmp/fsck.out; fail "e2fsck found errors after SIG$sig"; }
    echo 3 > /proc/sys/vm/drop_caches
    run mount -t ext4 "$NS" "$MNT" || fail "mount ext4 failed after SIG$sig"
    for f in $FILES; do
        want=$(md5sum < "/tmp/fs.$f" | cut -d' ' -f1)
        got=$(md5sum < "$MNT/dir/$f" | cut -d' ' -f1) || fail "cannot read $f after SIG$sig"
        [ "$got" = "$want" ] || fail "ext4 file $f changed after SIG$sig: md5 $got != $want"
        echo "file $f: md5 $got as written"
    done
    verified=$FILES
    # A new file for the next restart to keep (none after the last one).
    [ "$round" -lt "$total" ] && add_file "after-$round-$sig"
    sync
    run umount "$MNT" || fail "umount ext4 failed"
    echo "FS-VERIFIED (SIG$sig): e2fsck clean, files$verified intact"
    step "disconnect"
    nvt_disconnect
done

echo "ALL-STEPS-OK: $round restart(s) ($RESTART_SIGNALS), identity, patterns and files$FILES intact"
