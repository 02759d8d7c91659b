#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# auth.sh - guest test of NVMe in-band authentication (DH-HMAC-CHAP) with the
# kernel host of the trixie guest (6.12, nvme-cli 2.13), against any target that
# admits only HOSTNQN with the host secret and holds the controller secret of
# /extra/sec-keys.sh (KEY_DIR): kernel-target.sh with SECURITY=auth, or nvtcpd
# with the configuration nvtcpd-sec.sh writes. run-sec.sh runs it.
#
# Cases (one CASE-RESULT line each):
#   no-secret          connect without a secret                  -> refused
#   wrong-host-secret  a host secret the target does not have    -> refused
#   unidirectional     --dhchap-secret: connects, the hash and DH group the
#                      target chose (DHCHAP_HASH, DHCHAP_DHGROUP) are the ones
#                      logged, data written and read back
#   bidirectional      --dhchap-secret --dhchap-ctrl-secret: connects, the
#                      controller is authenticated too; dd, fio with verify, ext4
#   reauth             writing the host secret to sysfs (dhchap_secret)
#                      authenticates the live controller again; I/O still works
#   wrong-ctrl-secret  bidirectional, with a controller secret the target does
#                      not have                                  -> the host refuses
# The host offers every hash and group; the target picks. Environment: as
# sec-lib.sh (FIO_SECS, EXT4, CONNECT_OPTS) and sec-keys.sh (KEY_DIR, KEYS_FROM,
# DHCHAP_HASH, DHCHAP_DHGROUP: what the target was told to choose), CASES (the
# names of the cases to run, default all).
# shellcheck source=sec-lib.sh
. /extra/sec-lib.sh
# shellcheck source=sec-keys.sh
. /extra/sec-keys.sh
CASES=${CASES:-no-secret wrong-host-secret unidirectional bidirectional reauth wrong-ctrl-secret}

sec_keys || fail "cannot read or make the secrets in $KEY_DIR"
echo "host $HOSTNQN, subsystem $SUBNQN"
echo "host secret       $DHCHAP_KEY"
echo "controller secret $DHCHAP_CTRL_KEY"
echo "target's choice   hmac($DHCHAP_HASH) $DHCHAP_DHGROUP"

# The kernel host logs "nvme0: qid 0: authenticated with hash hmac(sha256)
# dhgroup ffdhe2048" after each successful authentication of the admin queue,
# and "qid 0: controller authenticated" when it authenticated the controller.
auth_lines() { dmesg | grep -c "$1: qid 0: authenticated with hash"; }
check_negotiated() {  # check_negotiated WHAT: the last authentication of CTRL
    line=$(since_mark | grep "$CTRL: qid 0: authenticated with hash" | tail -n 1)
    [ -n "$line" ] || fail "$1: no 'qid 0: authenticated' line for $CTRL in the kernel log"
    echo "kernel: ${line#*] }"
    case $line in
        *"hash hmac($DHCHAP_HASH) dhgroup $DHCHAP_DHGROUP"*) ;;
        *) fail "$1: authenticated with '${line#*hash }', want hmac($DHCHAP_HASH) $DHCHAP_DHGROUP" ;;
    esac
}

# nvme-cli reports the host's ENOKEY as "pre-shared TLS key is missing", for
# DH-HMAC-CHAP too: the kernel's "authentication setup failed" says which.
case_no_secret() {
    expect_refused "no secret" -q "$HOSTNQN"
    refused_in "no secret" 'authentication'
    summary "refused: $REFUSED"
}

case_wrong_host_secret() {
    wrong=$(gen_dhchap --hmac="${DHCHAP_KEY_HMAC:-1}" --nqn="$HOSTNQN")
    echo "wrong host secret $wrong"
    expect_refused "wrong host secret" -q "$HOSTNQN" --dhchap-secret="$wrong"
    refused_in "wrong host secret" 'authentication failed'
    summary "refused: $REFUSED"
}

case_unidirectional() {
    connected unidirectional -q "$HOSTNQN" --dhchap-secret="$DHCHAP_KEY"
    check_negotiated unidirectional
    check_dd unidirectional
    disconnect
    summary "connected with hmac($DHCHAP_HASH) $DHCHAP_DHGROUP, data verified"
}

case_bidirectional() {
    connected bidirectional -q "$HOSTNQN" --dhchap-secret="$DHCHAP_KEY" --dhchap-ctrl-secret="$DHCHAP_CTRL_KEY"
    S=/sys/class/nvme/$CTRL
    [ "$(cat "$S/dhchap_ctrl_secret")" = "$DHCHAP_CTRL_KEY" ] ||
        fail "bidirectional: sysfs dhchap_ctrl_secret '$(cat "$S/dhchap_ctrl_secret")' is not the controller secret"
    check_negotiated bidirectional
    since_mark | grep -q "$CTRL: qid 0: controller authenticated" ||
        fail "bidirectional: the kernel did not log 'qid 0: controller authenticated'"
    check_io bidirectional
    disconnect
    summary "host and controller authenticated; $IO_DONE"
}

case_reauth() {
    connected reauth -q "$HOSTNQN" --dhchap-secret="$DHCHAP_KEY" --dhchap-ctrl-secret="$DHCHAP_CTRL_KEY"
    S=/sys/class/nvme/$CTRL
    n0=$(auth_lines "$CTRL")
    mark
    # Writing a secret (the same one here) makes the host authenticate the live
    # controller's admin queue again ("re-authenticating controller").
    echo "+ echo <host secret> > $S/dhchap_secret"
    printf '%s' "$DHCHAP_KEY" > "$S/dhchap_secret" || fail "reauth: writing dhchap_secret failed"
    i=0
    while [ "$(auth_lines "$CTRL")" -le "$n0" ]; do
        i=$((i + 1))
        [ $i -le 150 ] || fail "reauth: no new 'qid 0: authenticated' line within 30 s ($(dmesg | grep "$CTRL" | tail -n 1))"
        usleep 200000
    done
    since_mark | grep "$CTRL"
    check_negotiated reauth
    since_mark | grep -q "$CTRL: qid 0: controller authenticated" ||
        fail "reauth: the controller was not authenticated again"
    [ "$(cat "$S/state")" = live ] || fail "reauth: controller $(cat "$S/state") after re-authentication"
    check_dd reauth
    disconnect
    summary "host and controller authenticated again on the live controller; data verified"
}

case_wrong_ctrl_secret() {
    wrong=$(gen_dhchap --hmac="${DHCHAP_KEY_HMAC:-1}" --nqn="$SUBNQN")
    echo "wrong controller secret $wrong"
    expect_refused "wrong controller secret" -q "$HOSTNQN" --dhchap-secret="$DHCHAP_KEY" --dhchap-ctrl-secret="$wrong"
    refused_in "wrong controller secret" 'controller authentication failed'
    summary "refused by the host: $REFUSED"
}

for c in $CASES; do
    fn=case_$(echo "$c" | tr '-' '_')
    command -v "$fn" > /dev/null || fail "unknown case '$c'"
    run_case "auth/$c" "$fn"
done
step "kernel authentication messages"
dmesg | grep -i -E 'auth|dhchap' | tail -n 20
cases_done auth
