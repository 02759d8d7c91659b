#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# nvtcpd-sec.sh NVTCPD [ARGS...] - start nvtcpd as the target of a security test
# (guest/auth.sh or guest/tls.sh): write its JSON configuration, in SPDK's format,
# with the secrets of sec-keys.sh (KEY_DIR), then exec NVTCPD ARGS -c CONFIG.
# run-sec.sh runs it in the guest as the target command; it reads sec-keys.sh
# from its own folder (/extra).
#
# The configuration (SPDK's methods and parameters, as its save_config writes them):
#   keyring  keyring_file_add_key for each key file (mode 0600: SPDK's file keyring
#            refuses files others may read): "host-dhchap" and "ctrl-dhchap"
#            (auth) or "tls-psk" (tls)
#   bdev     bdev_malloc_create: Malloc0, DISK_MB (64) MiB of 512-byte blocks
#   nvmf     auth: nvmf_set_config with dhchap_digests [DHCHAP_HASH] and
#            dhchap_dhgroups [DHCHAP_DHGROUP], the target's only choice;
#            nvmf_create_transport TCP; nvmf_create_subsystem SUBNQN without
#            allow_any_host; nvmf_subsystem_add_ns Malloc0 as namespace 1;
#            nvmf_subsystem_add_host HOSTNQN with dhchap_key and
#            dhchap_ctrlr_key (auth) or psk (tls); nvmf_subsystem_add_listener
#            TRADDR:TRSVCID, secure_channel true for tls (a TLS-only port)
#
# Environment: SECURITY=auth|tls (required), SUBNQN, TRADDR, TRSVCID, DISK_MB,
#   NVTCPD_SEC_CONFIG (where the configuration goes; /run/nvtcpd-sec.json), and
#   those of sec-keys.sh. NVTCPD_SEC_CONFIG_ONLY=1 writes it, prints it and exits
#   (also on a build machine, with the keys in KEYS_FROM or KEY_DIR).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SECURITY=${SECURITY:-}
SUBNQN=${SUBNQN:-nqn.2024-01.io.example:nvtcp-interop}
TRADDR=${TRADDR:-127.0.0.1}
TRSVCID=${TRSVCID:-4420}
DISK_MB=${DISK_MB:-64}
CONFIG=${NVTCPD_SEC_CONFIG:-/run/nvtcpd-sec.json}
case $SECURITY in
    auth | tls) ;;
    *) echo "nvtcpd-sec: SECURITY must be auth or tls (is '$SECURITY')" >&2; exit 2 ;;
esac
[ $# -ge 1 ] || [ "${NVTCPD_SEC_CONFIG_ONLY:-0}" = 1 ] ||
    { echo "usage: nvtcpd-sec.sh NVTCPD [ARGS...]" >&2; exit 2; }

# shellcheck source=sec-keys.sh
. "$HERE/sec-keys.sh"
sec_keys
chmod 0600 "$KEY_DIR"/*

# JSON string (NQNs, paths and names here hold no quote or backslash; refuse any)
js() {
    case $1 in *'"'* | *\\*) echo "nvtcpd-sec: cannot quote '$1'" >&2; exit 2 ;; esac
    printf '"%s"' "$1"
}
key() {  # key NAME FILE: a keyring_file_add_key entry
    printf '        {"method": "keyring_file_add_key", "params": {"name": %s, "path": %s}}' "$(js "$1")" "$(js "$2")"
}
if [ "$SECURITY" = auth ]; then
    KEYS="$(key host-dhchap "$KEY_DIR/dhchap-host.key"),
$(key ctrl-dhchap "$KEY_DIR/dhchap-ctrl.key")"
    SET_CONFIG="        {\"method\": \"nvmf_set_config\", \"params\": {\"dhchap_digests\": [$(js "$DHCHAP_HASH")], \"dhchap_dhgroups\": [$(js "$DHCHAP_DHGROUP")]}},
"
    HOST_KEYS="\"dhchap_key\": \"host-dhchap\", \"dhchap_ctrlr_key\": \"ctrl-dhchap\""
    SECURE=false
else
    KEYS=$(key tls-psk "$KEY_DIR/tls-psk.key")
    SET_CONFIG=""
    HOST_KEYS="\"psk\": \"tls-psk\""
    SECURE=true
fi
N=$(js "$SUBNQN")
(umask 077 && cat > "$CONFIG" <<EOF
{
  "subsystems": [
    {
      "subsystem": "keyring",
      "config": [
$KEYS
      ]
    },
    {
      "subsystem": "bdev",
      "config": [
        {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": $((DISK_MB * 2048)), "block_size": 512}}
      ]
    },
    {
      "subsystem": "nvmf",
      "config": [
$SET_CONFIG        {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
        {"method": "nvmf_create_subsystem", "params": {"nqn": $N, "allow_any_host": false, "serial_number": "NVTCPSEC00000001", "model_number": "nvtcp security interop"}},
        {"method": "nvmf_subsystem_add_ns", "params": {"nqn": $N, "namespace": {"nsid": 1, "bdev_name": "Malloc0"}}},
        {"method": "nvmf_subsystem_add_host", "params": {"nqn": $N, "host": $(js "$HOSTNQN"), $HOST_KEYS}},
        {"method": "nvmf_subsystem_add_listener", "params": {"nqn": $N, "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": $(js "$TRADDR"), "trsvcid": $(js "$TRSVCID")}, "secure_channel": $SECURE}}
      ]
    }
  ]
}
EOF
)
echo "nvtcpd-sec: $SECURITY configuration $CONFIG:"
cat "$CONFIG"
[ "${NVTCPD_SEC_CONFIG_ONLY:-0}" = 1 ] && exit 0
echo "nvtcpd-sec: exec $* -c $CONFIG"
exec "$@" -c "$CONFIG"
