#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# sec-keys.sh - the secrets of the security tests (guest/auth.sh, guest/tls.sh) and
# of their targets, as files. Sourced (busybox sh) by the target command first, so
# the target is configured with them, and then by the test. Any target reads them
# from here: kernel-target.sh writes them into nvmet's configfs, nvtcpd-sec.sh
# names them in its JSON configuration (keyring_file_add_key).
#
# KEY_DIR (default /run/nvt-keys, mode 0700) holds, each file mode 0600 (SPDK's
# file keyring refuses a key file that group or others may read):
#   hostnqn          the host NQN the target admits (default /etc/nvme/hostnqn)
#   dhchap-host.key  DH-HMAC-CHAP host secret, "DHHC-1:hh:<base64>:", for HOSTNQN
#   dhchap-ctrl.key  DH-HMAC-CHAP controller secret, for SUBNQN
#   tls-psk.key      TLS PSK in the NVMe interchange format, "NVMeTLSkey-1:hh:<base64>:"
# A file already there is kept. Missing ones come, in this order, from the
# variables DHCHAP_KEY, DHCHAP_CTRL_KEY, TLS_PSK; from KEYS_FROM, a folder with
# files of those names (e.g. run-guest.sh -x DIR: KEYS_FROM=/extra); or from
# nvme-cli: 'nvme gen-dhchap-key' and 'nvme gen-tls-key'.
# Knobs for generated keys: DHCHAP_KEY_HMAC=1 (the hash the secret is transformed
# with before use: 0 none, 1 SHA-256, 2 SHA-384, 3 SHA-512), TLS_HMAC=1 (the PSK's
# hash: 1 SHA-256, 2 SHA-384).
# After sec_keys: HOSTNQN, DHCHAP_KEY, DHCHAP_CTRL_KEY, TLS_PSK are set.
KEY_DIR=${KEY_DIR:-/run/nvt-keys}
SUBNQN=${SUBNQN:-nqn.2024-01.io.example:nvtcp-interop}

# key_file NAME VALUE-OR-EMPTY GENERATOR...: make KEY_DIR/NAME unless it exists
key_file() {
    _kf=$KEY_DIR/$1 _kv=$2
    shift 2
    [ -s "$_kf" ] && return 0
    if [ -z "$_kv" ] && [ -n "${KEYS_FROM:-}" ] && [ -s "$KEYS_FROM/$(basename "$_kf")" ]; then
        _kv=$(cat "$KEYS_FROM/$(basename "$_kf")")
    fi
    [ -n "$_kv" ] || _kv=$("$@") || return 1
    (umask 077 && printf '%s\n' "$_kv" > "$_kf.tmp") && mv "$_kf.tmp" "$_kf"
}
# The key alone: nvme-cli may print more (e.g. where it inserted a key).
gen_dhchap() { nvme gen-dhchap-key "$@" | grep -o 'DHHC-1:[^ ]*' | head -n 1; }
gen_psk() { nvme gen-tls-key "$@" | grep -o 'NVMeTLSkey-1:[^ ]*' | head -n 1; }

sec_keys() {
    (umask 077 && mkdir -p "$KEY_DIR") || return 1
    key_file hostnqn "${HOSTNQN:-}" cat /etc/nvme/hostnqn || return 1
    HOSTNQN=$(cat "$KEY_DIR/hostnqn")
    # --nqn: the NQN the secret is transformed with (DHHC-1:01: and up); the host
    # key belongs to the host, the controller key to the subsystem.
    key_file dhchap-host.key "${DHCHAP_KEY:-}" \
        gen_dhchap --hmac="${DHCHAP_KEY_HMAC:-1}" --nqn="$HOSTNQN" || return 1
    key_file dhchap-ctrl.key "${DHCHAP_CTRL_KEY:-}" \
        gen_dhchap --hmac="${DHCHAP_KEY_HMAC:-1}" --nqn="$SUBNQN" || return 1
    # Without --insert, gen-tls-key only prints the interchange key.
    key_file tls-psk.key "${TLS_PSK:-}" gen_psk --hmac="${TLS_HMAC:-1}" || return 1
    DHCHAP_KEY=$(cat "$KEY_DIR/dhchap-host.key")
    DHCHAP_CTRL_KEY=$(cat "$KEY_DIR/dhchap-ctrl.key")
    TLS_PSK=$(cat "$KEY_DIR/tls-psk.key")
    case $DHCHAP_KEY in DHHC-1:*) ;; *) echo "sec-keys: bad host secret '$DHCHAP_KEY'" >&2; return 1 ;; esac
    case $DHCHAP_CTRL_KEY in DHHC-1:*) ;; *) echo "sec-keys: bad controller secret '$DHCHAP_CTRL_KEY'" >&2; return 1 ;; esac
    case $TLS_PSK in NVMeTLSkey-1:*) ;; *) echo "sec-keys: bad TLS PSK '$TLS_PSK'" >&2; return 1 ;; esac
    return 0
}

# The DH-HMAC-CHAP choice of the target side, in either spelling: "sha256" or
# "hmac(sha256)" for DHCHAP_HASH; null, ffdhe2048 ... ffdhe8192 for DHCHAP_DHGROUP.
DHCHAP_HASH=${DHCHAP_HASH:-sha256}
DHCHAP_HASH=${DHCHAP_HASH#hmac(}
DHCHAP_HASH=${DHCHAP_HASH%)}
DHCHAP_DHGROUP=${DHCHAP_DHGROUP:-ffdhe2048}

# sec_insert_psk: the retained PSK derived from the interchange key,
# under the identity "NVMe0R0h <hostnqn> <subnqn>", in the kernel keyring ".nvme":
# where the host (nvme connect --tls) and tlshd look for it. The nvme_keyring
# module creates ".nvme"; inserting the same identity again replaces the key.
sec_insert_psk() {
    modprobe nvme-keyring || return 1
    grep -q ' keyring *\.nvme: ' /proc/keys || { echo "sec-keys: no .nvme keyring in /proc/keys" >&2; return 1; }
    nvme check-tls-key --keyring=.nvme --hostnqn="$HOSTNQN" --subsysnqn="$SUBNQN" \
        --keydata="$TLS_PSK" --insert || return 1
    grep ' psk ' /proc/keys
}

# sec_start_tlshd: start tlshd (ktls-utils) unless it runs. The kernel hands it
# the TLS handshakes of nvme-tcp (client) and nvmet-tcp (server) of this guest.
# /etc/tlshd.conf names the keyring ".nvme" (keyrings=.nvme), which tlshd links
# into its session keyring at start: the nvme_keyring module must be loaded
# first. TLSHD_LOGLEVEL=1 logs one line per handshake step (its -s: to stderr,
# into the log of whoever started it); never raise nl= (libnl floods the log).
sec_start_tlshd() {
    pidof tlshd > /dev/null && return 0
    modprobe nvme-keyring && modprobe tls || return 1
    if [ -n "${TLSHD_LOGLEVEL:-}${TLSHD_TLS_DEBUG:-}" ]; then
        sed -i "s/^loglevel=.*/loglevel=${TLSHD_LOGLEVEL:-0}/; s/^tls=.*/tls=${TLSHD_TLS_DEBUG:-0}/" /etc/tlshd.conf
    fi
    tlshd -s -c /etc/tlshd.conf &
    sleep 1
    pidof tlshd > /dev/null || { echo "sec-keys: tlshd did not stay up" >&2; return 1; }
    echo "tlshd started (pid $(pidof tlshd))"
}
