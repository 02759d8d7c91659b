#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# kernel-target.sh - reference target for the interop tests: configures the Linux
# kernel's own NVMe/TCP target (nvmet + nvmet-tcp) through configfs and exits.
# Runs inside the guest (busybox sh). It validates the guest tests themselves, and
# later serves as the peer for testing an NVMe/TCP host implementation.
#
# Environment (defaults match run-guest.sh):
#   SUBNQN   subsystem NQN          (nqn.2024-01.io.example:nvtcp-interop)
#   TRADDR   listen address         (127.0.0.1)
#   TRSVCID  listen port            (4420)
#   DISK_MB  RAM-disk size in MiB   (64)
set -eu
SUBNQN=${SUBNQN:-nqn.2024-01.io.example:nvtcp-interop}
TRADDR=${TRADDR:-127.0.0.1}
TRSVCID=${TRSVCID:-4420}
DISK_MB=${DISK_MB:-64}

# Backing store: a RAM disk (brd), or a memory-backed null_blk as fallback.
if modprobe brd rd_nr=1 rd_size=$((DISK_MB * 1024)) max_part=0 && [ -b /dev/ram0 ]; then
    DEV=/dev/ram0
else
    modprobe null_blk nr_devices=1 gb=1 memory_backed=1
    DEV=/dev/nullb0
fi
modprobe nvmet-tcp          # pulls in nvmet (and configfs)

N=/sys/kernel/config/nvmet
[ -d $N ] || mount -t configfs configfs /sys/kernel/config

# Subsystem with one namespace, open to any host.
S=$N/subsystems/$SUBNQN
mkdir "$S"
echo 1 > "$S/attr_allow_any_host"
echo NVTCPINTEROP0001 > "$S/attr_serial"
mkdir "$S/namespaces/1"
printf '%s' "$DEV" > "$S/namespaces/1/device_path"
echo 1 > "$S/namespaces/1/enable"

# TCP port on loopback; linking the subsystem into the port starts listening.
P=$N/ports/1
mkdir "$P"
echo tcp        > "$P/addr_trtype"
echo ipv4       > "$P/addr_adrfam"
echo "$TRADDR"  > "$P/addr_traddr"
echo "$TRSVCID" > "$P/addr_trsvcid"
ln -s "$S" "$P/subsystems/$SUBNQN"

echo "kernel nvmet: $SUBNQN ns1=$DEV ($DISK_MB MiB) listening on $TRADDR:$TRSVCID"
