#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# guest-tls.sh - guest test: nvtcp's host (nvtcp-identify, nvtcp-perf from
# $BIN) connects over TLS 1.3 with a PSK to the kernel target that
# nvmet-sec-target.sh set up with SEC=tls (tlshd does the target's side).
# Cases, each one printed with what the tools said:
#   the right PSK (kTLS, then OpenSSL's record layer) -> identify + perf --verify
#   no TLS to a port that requires it                -> refused
#   the PSK derived as RFC 8446 says, where the target's keyring holds what
#     libnvme 1.13 derived                           -> refused
#   a wrong PSK, another identity, another host NQN  -> refused
# Debian 13's nvme-cli (libnvme 1.13) put the TLS PSK in the keyring with
# the HkdfLabel layout of libnvme before its 2025 fix: the host derives the
# same with --psk-compat.
# Environment: TRADDR TRSVCID SUBNQN (run-guest.sh), BIN=/extra, PERF_SECS=2.
TRADDR=${TRADDR:-127.0.0.1}
TRSVCID=${TRSVCID:-4420}
SUBNQN=${SUBNQN:-nqn.2024-01.io.example:nvtcp-sec}
BIN=${BIN:-/extra}
PERF_SECS=${PERF_SECS:-2}
K=/run/nvmet-sec
TR="trtype:TCP adrfam:IPv4 traddr:$TRADDR trsvcid:$TRSVCID"
HOSTNQN=$(cat $K/hostnqn)
OTHERNQN=nqn.2014-08.org.nvmexpress:uuid:00000000-dead-beef-0000-000000000000
CASES=0
. /extra/guest-lib.sh

# expect_tls WHAT WANT ARGS...: identify connects over TLS, its tls line holds WANT
expect_tls() {
    what=$1 want=$2; shift 2
    tool identify -r "$TR subnqn:$SUBNQN" "$@"
    [ $st -eq 0 ] || fail "$what: nvtcp-identify exited $st"
    line=$(grep '^tls ' /tmp/out)
    echo "$line" | grep -qF "$want" || fail "$what: wanted '$want', got '$line'"
    grep -q "^subnqn *: $SUBNQN" /tmp/out || fail "$what: no Identify data"
    ok "$what" "$line"
}

# expect_refused WHAT ARGS...: identify fails (status 2) and says why
expect_refused() {
    what=$1; shift
    tool identify -r "$TR subnqn:$SUBNQN" "$@"
    [ $st -eq 2 ] || fail "$what: nvtcp-identify exited $st, wanted 2"
    grep -q '^tls ' /tmp/out && fail "$what: a TLS session was reported"
    ok "$what" "$(grep -E 'TLS|tls|connect failed' /tmp/out | sed 's/^\[[^]]*\] //' | tr '\n' '|')"
}

[ -s $K/psk ] || fail "no PSK: run nvmet-sec-target.sh with SEC=tls first"
pidof tlshd > /dev/null || fail "tlshd is not running"
echo "keys in .nvme:"; grep ' psk ' /proc/keys
PSK="--psk-path $K/psk --psk-compat"
ID="NVMe0R0$(sed -n 's/^NVMeTLSkey-1:0\([12]\):.*/\1/p' $K/psk) $HOSTNQN $SUBNQN"

step "1. the right PSK"
expect_tls "TLS, kTLS" "PSK identity '$ID', kTLS" $PSK
perf_verify "TLS perf, 2 I/O queues" -P 2 $PSK
expect_tls "TLS, OpenSSL records" "PSK identity '$ID'" -S ssl --disable-ktls $PSK
grep '^tls ' /tmp/out | grep -q kTLS && fail "--disable-ktls: kTLS reported"
perf_verify "TLS perf, OpenSSL records" -S ssl --disable-ktls $PSK

step "2. no TLS to a port that requires it"
expect_refused "no TLS"

step "3. the PSK derived as RFC 8446 says"
expect_refused "RFC 8446 derivation" --psk-path $K/psk

step "4. a wrong PSK under the right identity"
(umask 077 && nvme gen-tls-key --hmac=1 > /tmp/gen.out) || fail "gen-tls-key"
grep -o 'NVMeTLSkey-1:[^ ]*' /tmp/gen.out | head -n 1 > /tmp/wrong.psk
chmod 0600 /tmp/wrong.psk
expect_refused "wrong PSK" --psk-path /tmp/wrong.psk --psk-compat

step "5. an identity the target has no PSK for"
expect_refused "other identity" $PSK --psk-identity "NVMe0R01 $OTHERNQN $SUBNQN"
tool identify -r "$TR subnqn:$SUBNQN hostnqn:$OTHERNQN" $PSK
[ $st -eq 2 ] || fail "other host NQN: nvtcp-identify exited $st, wanted 2"
ok "other host NQN" "$(grep -E 'TLS|connect failed' /tmp/out | sed 's/^\[[^]]*\] //' | tr '\n' '|')"

step "6. perf refused as well"
tool perf -r "$TR subnqn:$SUBNQN" -t 1 --psk-path /tmp/wrong.psk --psk-compat
[ $st -eq 2 ] || fail "wrong PSK: nvtcp-perf exited $st, wanted 2"
ok "wrong PSK, perf" "$(grep 'nvtcp-perf:' /tmp/out | tail -n 1)"

step "kernel TLS state"
grep -E '^Tls(Curr)?(Tx|Rx)(Sw|Device)|Decrypt' /proc/net/tls_stat | tr -s ' \t\n' ' '
echo
echo "ALL-TLS-CASES-OK: $CASES cases"
