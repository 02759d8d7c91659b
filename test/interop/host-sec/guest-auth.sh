#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# guest-auth.sh - guest test: nvtcp's host (nvtcp-identify, nvtcp-perf from
# $BIN) authenticates with DH-HMAC-CHAP to the kernel target that
# nvmet-sec-target.sh set up with SEC=auth. Cases, each one printed with what
# the tools said:
#   no key, a key file others may read             -> refused by the host
#   unidirectional, bidirectional (sha256 ffdhe2048) -> identify + perf --verify
#   other hash and group pairs (the target's host entry changed between cases)
#   the host offering some hashes and groups only  -> the target picks among them,
#                                                     or the host refuses its group
#   a wrong host key                               -> refused by the target
#   a wrong controller key                         -> refused by the host
#   re-authentication of the admin queue; discovery and perf through it
# Environment: TRADDR TRSVCID SUBNQN (run-guest.sh), BIN=/extra, PERF_SECS=2,
# SLOW_GROUPS=1 (0 skips ffdhe8192: 1-2 s per exchange under TCG).
TRADDR=${TRADDR:-127.0.0.1}
TRSVCID=${TRSVCID:-4420}
SUBNQN=${SUBNQN:-nqn.2024-01.io.example:nvtcp-sec}
BIN=${BIN:-/extra}
PERF_SECS=${PERF_SECS:-2}
SLOW_GROUPS=${SLOW_GROUPS:-1}
K=/run/nvmet-sec
TR="trtype:TCP adrfam:IPv4 traddr:$TRADDR trsvcid:$TRSVCID"
HOSTNQN=$(cat $K/hostnqn)
H=/sys/kernel/config/nvmet/hosts/$HOSTNQN
CASES=0
. /extra/guest-lib.sh

# expect_auth WHAT 'HASH GROUP, MODE' ARGS...: identify connects and reports that
expect_auth() {
    what=$1 want=$2; shift 2
    tool identify -r "$TR subnqn:$SUBNQN" "$@"
    [ $st -eq 0 ] || fail "$what: nvtcp-identify exited $st"
    line=$(grep '^auth ' /tmp/out)
    echo "$line" | grep -q "DH-HMAC-CHAP $want" || fail "$what: wanted '$want', got '$line'"
    grep -q "^subnqn *: $SUBNQN" /tmp/out || fail "$what: no Identify data"
    ok "$what" "$line"
}

# expect_refused WHAT REGEX ARGS...: the tool fails (status 2) saying what REGEX matches
expect_refused() {
    what=$1 msg=$2; shift 2
    tool identify -r "$TR subnqn:$SUBNQN" "$@"
    [ $st -eq 2 ] || fail "$what: nvtcp-identify exited $st, wanted 2"
    grep -qE "$msg" /tmp/out || fail "$what: no '$msg' in the output"
    ok "$what" "$(grep -E "$msg" /tmp/out | tail -n 1 | sed 's/^\[[^]]*\] //')"
}

target_uses() {    # target_uses HASH GROUP: the host entry's hash and group for new controllers
    printf 'hmac(%s)' "$1" > "$H/dhchap_hash" || fail "cannot set dhchap_hash $1"
    printf '%s' "$2" > "$H/dhchap_dhgroup" || fail "cannot set dhchap_dhgroup $2"
    echo "target now: $(cat "$H/dhchap_hash") $(cat "$H/dhchap_dhgroup")"
}

new_key() {        # new_key NQN FILE: a fresh DH-HMAC-CHAP key, mode 0600
    (umask 077 && nvme gen-dhchap-key --hmac=1 --nqn="$1" > "$2") || fail "gen-dhchap-key"
}

[ -s $K/host.key ] && [ -s $K/ctrl.key ] && [ -d "$H" ] || fail "no keys or host entry: run nvmet-sec-target.sh with SEC=auth first"
KEY="--dhchap-key $K/host.key"
BIDIR="$KEY --dhchap-ctrlr-key $K/ctrl.key"

step "1. no key: the controller asks, the host cannot answer"
expect_refused "no key" "requires DH-HMAC-CHAP authentication and no host key"

step "2. a key file others may read"
cp $K/host.key /tmp/open.key && chmod 0644 /tmp/open.key
expect_refused "key file 0644" "chmod 0600 it" --dhchap-key /tmp/open.key

step "3. unidirectional: sha256 ffdhe2048"
expect_auth "unidirectional" "sha256 ffdhe2048, unidirectional" $KEY
perf_verify "unidirectional perf, 2 I/O queues" -P 2 $KEY

step "4. bidirectional: sha256 ffdhe2048"
expect_auth "bidirectional" "sha256 ffdhe2048, bidirectional" $BIDIR
perf_verify "bidirectional perf, 2 I/O queues" -P 2 $BIDIR

step "5. other hashes and groups"
target_uses sha384 null
expect_auth "sha384 null" "sha384 null, bidirectional" $BIDIR
perf_verify "sha384 null perf" $BIDIR
target_uses sha512 ffdhe4096
expect_auth "sha512 ffdhe4096" "sha512 ffdhe4096, bidirectional" $BIDIR
perf_verify "sha512 ffdhe4096 perf" $BIDIR
target_uses sha256 ffdhe3072
expect_auth "sha256 ffdhe3072 unidirectional" "sha256 ffdhe3072, unidirectional" $KEY
if [ "$SLOW_GROUPS" = 1 ]; then
    target_uses sha384 ffdhe8192
    expect_auth "sha384 ffdhe8192" "sha384 ffdhe8192, bidirectional" $BIDIR
fi

step "6. the host's offer"
# nvmet prefers the host entry's hash but takes another one offered. Its DH
# group it takes whatever the host offers (6.12): the host must refuse it.
target_uses sha512 ffdhe2048
expect_auth "offer without the target's hash" "sha256 ffdhe2048, bidirectional" \
    $BIDIR --dhchap-digests sha256,sha384
expect_auth "offer of the target's pair only" "sha512 ffdhe2048, bidirectional" \
    $BIDIR --dhchap-digests sha512 --dhchap-dhgroups ffdhe2048
expect_refused "target's group not offered" "DH group not offered \(1\)" \
    $BIDIR --dhchap-dhgroups null,ffdhe3072

step "7. a wrong host key"
# nvmet answers with a Failure1 and ends the association; now and then the
# connection is gone before the Failure1 left (the host then says so).
REFUSED="refused the host|connection failed in the success1 step"
new_key "$HOSTNQN" /tmp/wrong-host.key
expect_refused "wrong host key" "$REFUSED" --dhchap-key /tmp/wrong-host.key
expect_refused "wrong host key, bidirectional" "$REFUSED" \
    --dhchap-key /tmp/wrong-host.key --dhchap-ctrlr-key $K/ctrl.key

step "8. a wrong controller key: the host refuses the controller"
new_key "$SUBNQN" /tmp/wrong-ctrl.key
expect_refused "wrong controller key" "controller authentication failed" \
    $KEY --dhchap-ctrlr-key /tmp/wrong-ctrl.key
tool perf -r "$TR subnqn:$SUBNQN" -t 1 $KEY --dhchap-ctrlr-key /tmp/wrong-ctrl.key
[ $st -eq 2 ] || fail "wrong controller key: nvtcp-perf exited $st, wanted 2"
grep -q "controller authentication failed" /tmp/out || fail "wrong controller key: perf did not say why"
ok "wrong controller key, perf" "$(grep 'nvtcp-perf:' /tmp/out | tail -n 1)"

step "9. re-authentication of the admin queue"
tool identify -r "$TR subnqn:$SUBNQN" $BIDIR --reauth
[ $st -eq 0 ] || fail "re-authentication: nvtcp-identify exited $st"
grep -q "^re-authenticated" /tmp/out || fail "re-authentication not reported"
ok "re-authentication" "$(grep '^auth ' /tmp/out)"

step "10. discovery (not authenticated) and perf through it"
tool identify -r "$TR" $BIDIR
[ $st -eq 0 ] || fail "discovery with keys: nvtcp-identify exited $st"
grep -q "subnqn: *$SUBNQN" /tmp/out || fail "discovery log lacks $SUBNQN"
grep -q '^auth ' /tmp/out && fail "the discovery controller was authenticated"
ok "discovery with keys" "$(grep -c 'subnqn:' /tmp/out) log entries, no authentication"
tool perf -r "$TR" -t "$PERF_SECS" -q 8 -w randrw --verify $BIDIR
[ $st -eq 0 ] || fail "perf through discovery: exited $st"
ok "perf through discovery" "$(grep '^verify:' /tmp/out)"

step "kernel target log"
dmesg | grep -i -E 'dh-hmac-chap|auth|failure' | tail -n 20
echo "ALL-AUTH-CASES-OK: $CASES cases"
