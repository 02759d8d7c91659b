#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# nvmet-sec-target.sh - the Linux kernel's NVMe/TCP target (nvmet, nvmet-tcp),
# configured through configfs to require what nvtcp's host must do:
#   SEC=auth  DH-HMAC-CHAP: the subsystem admits HOSTNQN only, whose host entry
#             carries a host key and a controller key (made with nvme
#             gen-dhchap-key), DHCHAP_HASH (hmac(sha256)) and DHCHAP_DHGROUP
#             (ffdhe2048); the guest test changes hash and group between cases.
#   SEC=tls   TLS 1.3 with a PSK: the port requires it (addr_tsas tls1.3,
#             addr_treq required), the PSK made with nvme gen-tls-key
#             (TLS_HMAC=1: SHA-256, 2: SHA-384) for (HOSTNQN, SUBNQN) is put in
#             the kernel keyring .nvme, and tlshd does the target's handshakes.
# The keys (interchange format, mode 0600) and the host NQN go to /run/nvmet-sec/
# for the guest test. Runs inside a Debian 13 guest (6.12 kernel with
# NVME_TARGET_AUTH and NVME_TARGET_TCP_TLS, nvme-cli, keyutils, tlshd); exits
# once configured.
# Environment: SEC, SUBNQN, TRADDR, TRSVCID, DISK_MB (64), HOSTNQN
# (/etc/nvme/hostnqn), DHCHAP_HASH, DHCHAP_DHGROUP, TLS_HMAC.
set -eu
SEC=${SEC:-auth}
SUBNQN=${SUBNQN:-nqn.2024-01.io.example:nvtcp-sec}
TRADDR=${TRADDR:-127.0.0.1}
TRSVCID=${TRSVCID:-4420}
DISK_MB=${DISK_MB:-64}
HOSTNQN=${HOSTNQN:-$(cat /etc/nvme/hostnqn)}
DHCHAP_HASH=${DHCHAP_HASH:-hmac(sha256)}
DHCHAP_DHGROUP=${DHCHAP_DHGROUP:-ffdhe2048}
TLS_HMAC=${TLS_HMAC:-1}
OUT=/run/nvmet-sec
N=/sys/kernel/config/nvmet

umask 077
mkdir -p "$OUT"
echo "$HOSTNQN" > "$OUT/hostnqn"

if modprobe brd rd_nr=1 rd_size=$((DISK_MB * 1024)) max_part=0 && [ -b /dev/ram0 ]; then
    DEV=/dev/ram0
else
    modprobe null_blk nr_devices=1 gb=1 memory_backed=1
    DEV=/dev/nullb0
fi
modprobe nvmet-tcp
[ -d $N ] || mount -t configfs configfs /sys/kernel/config

auth_host() {   # the host entry with its DH-HMAC-CHAP keys, hash and group
    nvme gen-dhchap-key --hmac=1 --nqn="$HOSTNQN" > "$OUT/host.key"
    nvme gen-dhchap-key --hmac=1 --nqn="$SUBNQN" > "$OUT/ctrl.key"
    H=$N/hosts/$HOSTNQN
    mkdir "$H"
    tr -d '\n' < "$OUT/host.key" > "$H/dhchap_key"
    tr -d '\n' < "$OUT/ctrl.key" > "$H/dhchap_ctrl_key"
    printf '%s' "$DHCHAP_HASH" > "$H/dhchap_hash"
    printf '%s' "$DHCHAP_DHGROUP" > "$H/dhchap_dhgroup"
    echo "host $HOSTNQN: $(cat "$H/dhchap_hash") $(cat "$H/dhchap_dhgroup")"
}

tls_psk() {     # the PSK in the keyring .nvme, and tlshd for the handshakes
    modprobe nvme-keyring
    modprobe tls
    nvme gen-tls-key --keyring=.nvme --hostnqn="$HOSTNQN" --subsysnqn="$SUBNQN" \
        --hmac="$TLS_HMAC" --insert > "$OUT/gen.out"
    grep -o 'NVMeTLSkey-1:[^ ]*' "$OUT/gen.out" | head -n 1 > "$OUT/psk"
    [ -s "$OUT/psk" ] || { cat "$OUT/gen.out"; echo "no PSK made"; exit 1; }
    echo "keys in .nvme:"
    grep ' psk ' /proc/keys || { echo "no PSK in the keyring"; exit 1; }
    if ! pidof tlshd > /dev/null; then
        tlshd -s -c /etc/tlshd.conf &
        sleep 1
        pidof tlshd > /dev/null || { echo "tlshd did not stay up"; exit 1; }
    fi
}

S=$N/subsystems/$SUBNQN
case $SEC in
auth)
    auth_host
    mkdir "$S"
    echo 0 > "$S/attr_allow_any_host"
    ln -s "$N/hosts/$HOSTNQN" "$S/allowed_hosts/$HOSTNQN"
    ;;
tls)
    tls_psk
    mkdir "$S"
    echo 1 > "$S/attr_allow_any_host"
    ;;
*)
    echo "SEC=$SEC: auth or tls"; exit 2 ;;
esac
echo NVTCPSEC00000001 > "$S/attr_serial"
mkdir "$S/namespaces/1"
printf '%s' "$DEV" > "$S/namespaces/1/device_path"
echo 1 > "$S/namespaces/1/enable"

P=$N/ports/1
mkdir "$P"
echo tcp        > "$P/addr_trtype"
echo ipv4       > "$P/addr_adrfam"
echo "$TRADDR"  > "$P/addr_traddr"
echo "$TRSVCID" > "$P/addr_trsvcid"
if [ "$SEC" = tls ]; then
    echo tls1.3   > "$P/addr_tsas"
    echo required > "$P/addr_treq"
fi
ln -s "$S" "$P/subsystems/$SUBNQN"
echo "kernel nvmet ($SEC): $SUBNQN ns1=$DEV on $TRADDR:$TRSVCID for $HOSTNQN"
