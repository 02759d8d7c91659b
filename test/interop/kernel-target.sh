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
#   SECURITY ""   the subsystem is open to any host, the port plain TCP
#            auth DH-HMAC-CHAP (trixie guest): only HOSTNQN may connect, and must
#                 authenticate with its host secret; its controller secret answers
#                 a host that asks for bidirectional authentication. The target
#                 picks DHCHAP_HASH (sha256, sha384, sha512) and DHCHAP_DHGROUP
#                 (null, ffdhe2048 ... ffdhe8192)
#            tls  the port requires TLS 1.3 with a PSK (trixie guest): the PSK is
#                 inserted into the kernel keyring ".nvme" and tlshd started, which
#                 serves this target's handshakes; only HOSTNQN may connect
#   With SECURITY, the secrets and HOSTNQN come from /extra/sec-keys.sh (the files
#   in KEY_DIR, made there when missing), which the security tests read too.
set -eu
SUBNQN=${SUBNQN:-nqn.2024-01.io.example:nvtcp-interop}
TRADDR=${TRADDR:-127.0.0.1}
TRSVCID=${TRSVCID:-4420}
DISK_MB=${DISK_MB:-64}
SECURITY=${SECURITY:-}

case $SECURITY in
    "") ;;
    auth | tls)
        # shellcheck source=guest/sec-keys.sh
        . /extra/sec-keys.sh
        sec_keys
        ;;
    *) echo "kernel-target: unknown SECURITY '$SECURITY' (auth or tls)"; exit 1 ;;
esac
if [ "$SECURITY" = tls ]; then
    sec_insert_psk
    sec_start_tlshd
fi

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

# Subsystem with one namespace, open to any host unless SECURITY is set.
S=$N/subsystems/$SUBNQN
mkdir "$S"
echo NVTCPINTEROP0001 > "$S/attr_serial"
if [ -z "$SECURITY" ]; then
    echo 1 > "$S/attr_allow_any_host"
else
    # The host entry; for DH-HMAC-CHAP it carries the secrets and the target's
    # choice of hash and group (nvmet names the hash "hmac(sha256)").
    H=$N/hosts/$HOSTNQN
    mkdir "$H"
    if [ "$SECURITY" = auth ]; then
        printf '%s' "$DHCHAP_KEY"            > "$H/dhchap_key"
        printf '%s' "$DHCHAP_CTRL_KEY"       > "$H/dhchap_ctrl_key"
        printf '%s' "hmac($DHCHAP_HASH)"     > "$H/dhchap_hash"
        printf '%s' "$DHCHAP_DHGROUP"        > "$H/dhchap_dhgroup"
    fi
    echo 0 > "$S/attr_allow_any_host"
    ln -s "$H" "$S/allowed_hosts/$HOSTNQN"
fi
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
if [ "$SECURITY" = tls ]; then
    echo tls1.3   > "$P/addr_tsas"
    echo required > "$P/addr_treq"
fi
ln -s "$S" "$P/subsystems/$SUBNQN"

echo "kernel nvmet: $SUBNQN ns1=$DEV ($DISK_MB MiB) listening on $TRADDR:$TRSVCID"
case $SECURITY in
    auth) echo "  DH-HMAC-CHAP for $HOSTNQN: $(cat "$H/dhchap_hash") $(cat "$H/dhchap_dhgroup")" ;;
    tls) echo "  TLS: tsas $(cat "$P/addr_tsas"), treq $(cat "$P/addr_treq"); PSK for $HOSTNQN" ;;
esac
