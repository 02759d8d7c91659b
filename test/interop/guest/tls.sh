#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# tls.sh - guest test of NVMe/TCP over TLS 1.3 with a pre-shared key, with the
# kernel host of the trixie guest (6.12, nvme-cli 2.13, tlshd, kTLS), against any
# target whose port (TRSVCID) requires TLS and which knows the PSK of /extra/sec-keys.sh
# (KEY_DIR/tls-psk.key) for HOSTNQN: kernel-target.sh with SECURITY=tls, or nvtcpd
# with the configuration nvtcpd-sec.sh writes. run-sec.sh runs it.
#
# The host side: the interchange PSK goes into the kernel keyring ".nvme" as the
# retained PSK "NVMe0R0h <hostnqn> <subnqn>" (nvme check-tls-key --insert), and
# tlshd (started unless it runs) does the host's handshakes; then the kernel puts
# the connection's sockets into kTLS.
# Cases (one CASE-RESULT line each):
#   plain-refused   a connect without --tls to the TLS-only port  -> refused
#   tls             nvme connect --tls: connects with the PSK of ".nvme" (sysfs
#                   tls_key names it), the sockets are kTLS; dd, fio with
#                   verify, ext4
#   no-psk-host     --tls as a host NQN that has no PSK at all    -> the host
#                   refuses ("no valid PSK")
#   unknown-host    --tls as a host NQN the target does not know, with a PSK
#                   the host has (its own keyring, --tls_key)     -> refused
#   wrong-psk       --tls with the right identity but another key -> the
#                   handshake fails
# Environment: as sec-lib.sh (FIO_SECS, EXT4, CONNECT_OPTS) and sec-keys.sh
# (KEY_DIR, KEYS_FROM, TLS_HMAC, TLSHD_LOGLEVEL), CASES (default all).
# shellcheck source=sec-lib.sh
. /extra/sec-lib.sh
# shellcheck source=sec-keys.sh
. /extra/sec-keys.sh
CASES=${CASES:-plain-refused tls no-psk-host unknown-host wrong-psk}
OTHER_HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:00000000-dead-beef-0000-000000000000

sec_keys || fail "cannot read or make the secrets in $KEY_DIR"
echo "host $HOSTNQN, subsystem $SUBNQN, PSK $TLS_PSK"
sec_insert_psk || fail "cannot insert the PSK into the .nvme keyring"
sec_start_tlshd || fail "cannot start tlshd"

case_plain_refused() {
    expect_refused "no TLS" -q "$HOSTNQN"
    summary "refused: $REFUSED"
}

case_tls() {
    connected tls -q "$HOSTNQN" --tls
    C=/sys/class/nvme/$CTRL
    tk=$(cat "$C/tls_key" 2>/dev/null)
    echo "address $(cat "$C/address"), tls_key $tk"
    [ -n "$tk" ] || fail "tls: the controller has no tls_key in sysfs"
    # /proc/keys: "<id in hex> ... psk <description>: <length>"
    key=$(grep -i "^0*$tk " /proc/keys)
    echo "key: $key"
    case $key in
        *" psk "*" $HOSTNQN $SUBNQN: "*) ;;
        *) fail "tls: tls_key $tk is not the PSK of $HOSTNQN and $SUBNQN: $key" ;;
    esac
    # The host's admin and I/O queues run on kTLS sockets (the target's may too).
    echo "kTLS: $(grep -E '^Tls(Curr)?(Tx|Rx)Sw|Decrypt' /proc/net/tls_stat | tr -s ' \t\n' ' ')"
    awk '$1 == "TlsCurrTxSw" && $2 > 0 { ok = 1 } END { exit !ok }' /proc/net/tls_stat ||
        fail "tls: no kernel TLS socket in use (/proc/net/tls_stat)"
    check_io tls
    disconnect
    summary "connected with the PSK '$(psk_ident)' (tls_key $tk); kTLS; $IO_DONE"
}

case_no_psk_host() {
    expect_refused "host without PSK" -q "$OTHER_HOSTNQN" --tls
    refused_in "host without PSK" 'no valid PSK'
    summary "refused: $REFUSED"
}

# connect_own_key WHAT HOSTNQN IDENTITY LENGTH: a random LENGTH-byte PSK under
# IDENTITY in a keyring of its own, and a --tls connect that uses it (--tls_key).
# The key must not go into ".nvme", where nvmet's tlshd would find it too.
# Pitfalls met here:
#  - 'keyctl newring X @s' in a descendant of /init (PID 1 has no session keyring;
#    @s falls back to the user session keyring) makes a keyring that is dropped
#    at once (ENOKEY at the next use): run it all under 'keyctl session -', in a
#    fresh session keyring that holds it.
#  - tlshd, which does not possess that keyring, must be allowed to read and link
#    the key: setperm 0x3f3f0000 on keyring and key.
#  - nvme-cli 2.13's --keyring=NAME|ID did not reach the kernel (no keyring= in
#    the option string: the host then took the ".nvme" key); --tls_key=ID does.
connect_own_key() {
    what=$1 hnqn=$2 ident=$3 len=$4
    cat > /tmp/own-key.sh <<EOS
W=\$(keyctl newring nvt-own @s) || exit 10
keyctl setperm "\$W" 0x3f3f0000 || exit 11
K=\$(head -c $len /dev/urandom | keyctl padd psk "$ident" "\$W") || exit 12
keyctl setperm "\$K" 0x3f3f0000 || exit 13
echo "own PSK: key \$K '$ident' in keyring nvt-own (\$W)"
exec timeout 90 nvme connect -t tcp -a "$TRADDR" -s "$TRSVCID" -n "$SUBNQN" -l 20 $CONNECT_OPTS \\
    -q "$hnqn" --tls --tls_key="\$K"
EOS
    echo "+ keyctl session - sh /tmp/own-key.sh"; cat /tmp/own-key.sh
    mark
    keyctl session - sh /tmp/own-key.sh > /tmp/conn.out 2>&1; st=$?
    cat /tmp/conn.out
    [ "$st" -ge 10 ] && [ "$st" -le 13 ] && fail "$what: could not set up the key (step $st)"
    [ "$st" != 0 ] || fail "$what: connect succeeded (it must be refused)"
    [ -z "$(ctrl_of)" ] || fail "$what: a controller exists after the refused connect"
    refused_why
}
# The identity and length of the PSK inserted for HOSTNQN (NVMe0R01: 32 bytes,
# NVMe0R02: 48)
psk_ident() { grep " psk .* $HOSTNQN $SUBNQN: " /proc/keys | head -n 1 | sed 's/.* psk *//; s/: [0-9]*$//'; }
psk_len() { grep " psk .* $HOSTNQN $SUBNQN: " /proc/keys | head -n 1 | sed 's/.*: //'; }

case_unknown_host() {
    ident=$(psk_ident) len=$(psk_len)
    [ -n "$ident" ] && [ -n "$len" ] || fail "unknown-host: no PSK of $HOSTNQN in /proc/keys"
    other=$(echo "$ident" | sed "s| $HOSTNQN | $OTHER_HOSTNQN |")
    connect_own_key unknown-host "$OTHER_HOSTNQN" "$other" "$len"
    refused_in unknown-host 'TLS handshake'
    summary "refused: $REFUSED"
}

case_wrong_psk() {
    ident=$(psk_ident) len=$(psk_len)
    [ -n "$ident" ] && [ -n "$len" ] || fail "wrong-psk: no PSK of $HOSTNQN in /proc/keys"
    connect_own_key wrong-psk "$HOSTNQN" "$ident" "$len"
    refused_in wrong-psk 'TLS handshake'
    summary "refused: $REFUSED"
}

for c in $CASES; do
    fn=case_$(echo "$c" | tr '-' '_')
    command -v "$fn" > /dev/null || fail "unknown case '$c'"
    run_case "tls/$c" "$fn"
done
step "kernel TLS messages"
dmesg | grep -i -E 'tls|psk|handshake' | tail -n 20
cases_done tls
