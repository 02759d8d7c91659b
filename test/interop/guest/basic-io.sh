#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# basic-io.sh - guest test: drive an NVMe/TCP target with the kernel host driver and
# nvme-cli. Runs inside the guest (busybox sh) after the target is up.
#
# Steps: discover, connect, list, id-ctrl, id-ns, dd pattern write/read/compare at
# both ends of the namespace, fio randrw+verify, ext4 (mkfs, mount, write a file,
# umount, remount, compare, fsck), disconnect.
#
# Environment (run-guest.sh sets the first three; override with -e NAME=VALUE):
#   TRADDR, TRSVCID, SUBNQN   where the target listens and what it exports
#   FIO_SECS=8                seconds of fio randrw+verify (0 = skip fio)
#   EXT4=1                    0 = skip the filesystem step
#   DIGEST=0                  1 = connect with header and data digests (-g -G)
#   CONNECT_OPTS=""           extra options for 'nvme connect'
# On failure it writes a one-line reason to $GUEST_REASON_FILE and exits 1.
TRADDR=${TRADDR:-127.0.0.1}
TRSVCID=${TRSVCID:-4420}
SUBNQN=${SUBNQN:-nqn.2024-01.io.example:nvtcp-interop}
FIO_SECS=${FIO_SECS:-8}
EXT4=${EXT4:-1}
DIGEST=${DIGEST:-0}
CONNECT_OPTS=${CONNECT_OPTS:-}
[ "$DIGEST" = 1 ] && CONNECT_OPTS="$CONNECT_OPTS -g -G"
MNT=/mnt/nvt

step() { echo "=== $*"; }
fail() {
    echo "TEST-FAIL: $*"
    echo "$*" > "${GUEST_REASON_FILE:-/tmp/fail-reason}"
    grep -q " $MNT " /proc/mounts && umount "$MNT"
    exit 1
}
run() { echo "+ $*"; "$@"; }

step "discover"
run nvme discover -t tcp -a "$TRADDR" -s "$TRSVCID" > /tmp/discover.out 2>&1
st=$?; cat /tmp/discover.out
[ $st -eq 0 ] || fail "nvme discover failed (status $st)"
grep -q "subnqn: *$SUBNQN" /tmp/discover.out || fail "discovery log does not list $SUBNQN"

step "connect"
# -l: give up on a dead target after 20 s instead of the default 600 s
# shellcheck disable=SC2086
run nvme connect -t tcp -a "$TRADDR" -s "$TRSVCID" -n "$SUBNQN" -l 20 $CONNECT_OPTS ||
    fail "nvme connect failed"
ctrl=""
for c in /sys/class/nvme/nvme*; do
    [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$SUBNQN" ] && ctrl=${c##*/}
done
[ -n "$ctrl" ] || fail "no controller for $SUBNQN in /sys/class/nvme"
i=0; ns=""
while [ $i -lt 100 ]; do           # the namespace node appears asynchronously
    for b in /dev/${ctrl}n1 /dev/nvme*n1; do [ -b "$b" ] && ns=$b && break; done
    [ -n "$ns" ] && break
    usleep 200000; i=$((i + 1))
done
[ -n "$ns" ] || fail "no namespace block device after connect"
[ "$DIGEST" = 1 ] && echo "digest crc32c modules: $(lsmod | grep -o '^crc32c[a-z_-]*' | tr '\n' ' ')"
echo "controller /dev/$ctrl, namespace $ns, transport $(cat "/sys/class/nvme/$ctrl/transport"), address $(cat "/sys/class/nvme/$ctrl/address")"

step "list"
run nvme list || fail "nvme list failed"
step "id-ctrl"
run nvme id-ctrl "/dev/$ctrl" > /tmp/id-ctrl.out || fail "nvme id-ctrl failed"
grep -E '^(vid|sn|mn|fr|mdts|cntlid|ver|subnqn|ioccsz|iorcsz|sgls) ' /tmp/id-ctrl.out
step "id-ns"
run nvme id-ns "$ns" > /tmp/id-ns.out || fail "nvme id-ns failed"
grep -E '^(nsze|ncap|nuse|flbas|nlbaf|lbaf  0) ' /tmp/id-ns.out

step "data: write pattern, read back, compare"
size=$(blockdev --getsize64 "$ns") || fail "cannot read namespace size"
echo "namespace size: $size bytes"
[ "$size" -ge $((16 * 1048576)) ] || fail "namespace smaller than 16 MiB"
# 4 MiB of random data at offset 0 and again in the last 4 MiB (tests high LBAs)
dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 2>/dev/null
last=$((size / 1048576 - 4))
for off in 0 $last; do
    dd if=/tmp/pattern of="$ns" bs=1M seek="$off" oflag=direct conv=fsync 2>/dev/null ||
        fail "write at ${off} MiB failed"
done
echo 3 > /proc/sys/vm/drop_caches
for off in 0 $last; do
    dd if="$ns" of=/tmp/readback bs=1M skip="$off" count=4 iflag=direct 2>/dev/null ||
        fail "read at ${off} MiB failed"
    cmp /tmp/pattern /tmp/readback || fail "data mismatch at ${off} MiB"
    echo "offset ${off} MiB: md5 $(md5sum < /tmp/readback | cut -d' ' -f1) == $(md5sum < /tmp/pattern | cut -d' ' -f1)"
done
echo "DATA-VERIFIED: 2 x 4 MiB written and read back identically"

if [ "$FIO_SECS" -gt 0 ] && command -v fio > /dev/null; then
    step "fio randrw with crc32c verify, ${FIO_SECS}s"
    run fio --name=randrw-verify --filename="$ns" --ioengine=libaio --direct=1 \
        --rw=randrw --bs=4k --iodepth=16 --size=32M --time_based --runtime="$FIO_SECS" \
        --verify=crc32c --verify_backlog=64 --verify_fatal=1 --do_verify=1 \
        --eta=never --output=/tmp/fio.out || { cat /tmp/fio.out; fail "fio randrw/verify failed"; }
    grep -E 'read:|write:|err=' /tmp/fio.out
fi

# ext4: a real filesystem puts metadata, journal and flush traffic on the target.
# /sbin/mke2fs and /sbin/e2fsck by full path: busybox's shell prefers its own applets.
if [ "$EXT4" = 1 ] && ! { grep -qw ext4 /proc/filesystems || modprobe ext4 2> /dev/null; }; then
    echo "ext4 module not available, filesystem step skipped"
    EXT4=0
fi
if [ "$EXT4" = 1 ]; then
    step "ext4: mkfs, mount, write, umount, remount, compare"
    fsmb=$((size / 1048576 / 4)); [ "$fsmb" -gt 8 ] && fsmb=8
    dd if=/dev/urandom of=/tmp/fsdata bs=1M count="$fsmb" 2>/dev/null
    run /sbin/mke2fs -q -F -t ext4 "$ns" || fail "mke2fs -t ext4 failed"
    mkdir -p "$MNT"
    run mount -t ext4 "$ns" "$MNT" || fail "mount ext4 failed"
    cp /tmp/fsdata "$MNT/data.bin" || fail "copy to ext4 failed"
    sync
    run umount "$MNT" || fail "umount ext4 failed"
    echo 3 > /proc/sys/vm/drop_caches
    run mount -t ext4 "$ns" "$MNT" || fail "remount ext4 failed"
    want=$(md5sum < /tmp/fsdata | cut -d' ' -f1)
    got=$(md5sum < "$MNT/data.bin" | cut -d' ' -f1) || fail "read from ext4 failed"
    [ "$got" = "$want" ] || fail "ext4 file mismatch: md5 $got != $want"
    run umount "$MNT" || fail "final umount ext4 failed"
    run /sbin/e2fsck -f -n "$ns" > /tmp/fsck.out 2>&1 || { cat /tmp/fsck.out; fail "e2fsck found errors"; }
    echo "FS-VERIFIED: ${fsmb} MiB file on ext4 survived remount, md5 $got; e2fsck clean"
fi

step "disconnect"
run nvme disconnect -n "$SUBNQN" || fail "nvme disconnect failed"
i=0; while [ -e "/dev/$ctrl" ] && [ $i -lt 50 ]; do usleep 200000; i=$((i + 1)); done
[ ! -e "/dev/$ctrl" ] || fail "/dev/$ctrl still present after disconnect"
echo "ALL-STEPS-OK"
