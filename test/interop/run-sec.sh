#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# run-sec.sh - run a security guest test in the trixie guest (Debian 13's 6.12
# kernel host: DH-HMAC-CHAP, TLS with tlshd and kTLS) against the kernel's own
# target or against nvtcpd. The same guest test serves both targets.
#
# Usage: run-sec.sh TEST TARGET [run-guest.sh options]   e.g. -q, -e FIO_SECS=0
#   TEST    auth   guest/auth.sh: DH-HMAC-CHAP, uni- and bidirectional, refusals,
#                  re-authentication
#           tls    guest/tls.sh: NVMe/TCP over TLS 1.3 with a PSK, refusals
#   TARGET  nvmet  the kernel's nvmet (kernel-target.sh with SECURITY=TEST)
#           a path nvtcpd, this build's target daemon, started by
#                  guest/nvtcpd-sec.sh with a JSON configuration in SPDK's format
#                  that holds the keys, the host and (tls) a secure-channel listener
# Both tests print one "CASE-RESULT: PASS|FAIL <case> (<s>s): ..." line per case
# (shown with -q too) and the run one "GUEST-RESULT:" line.
# Environment, passed to the guest when set (or with -e NAME=VALUE):
#   DHCHAP_HASH (sha256, sha384, sha512) and DHCHAP_DHGROUP (null, ffdhe2048 ...
#   ffdhe8192): what the target chooses (auth; sha256 ffdhe2048);
#   DHCHAP_KEY_HMAC (0-3, the transformation hash of generated secrets; 1);
#   TLS_HMAC (1 SHA-256, 2 SHA-384; 1); TLSHD_LOGLEVEL; FIO_SECS (6); EXT4 (1);
#   CASES (some of the test's cases, by name); NVTCPD_ARGS (more nvtcpd arguments).
#   KEYS_FROM=DIR takes the secrets from files in DIR (hostnqn, dhchap-host.key,
#   dhchap-ctrl.key, tls-psk.key; any missing one is generated in the guest).
# Exit status: 0 = pass, 1 = fail, 77 = skipped (nvtcpd not built, or the trixie
# guest cannot run here).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { sed -n '4,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 2 ] || usage
TEST=$1 TARGET=$2
shift 2
case $TEST in
    auth | tls) ;;
    *) usage ;;
esac

ARGS=(-F trixie -e "SECURITY=$TEST" -x "$HERE/guest/sec-lib.sh" -x "$HERE/guest/sec-keys.sh")
for v in DHCHAP_HASH DHCHAP_DHGROUP DHCHAP_KEY_HMAC TLS_HMAC TLSHD_LOGLEVEL FIO_SECS EXT4 CASES; do
    [ -n "${!v:-}" ] && ARGS+=(-e "$v=${!v}")
done
if [ -n "${KEYS_FROM:-}" ]; then
    [ -d "$KEYS_FROM" ] || { echo "run-sec: KEYS_FROM=$KEYS_FROM is not a folder" >&2; exit 2; }
    # to /extra/keys in the guest (a folder given to -x lands in /extra itself)
    KSTAGE=$(mktemp -d)
    trap 'rm -rf "$KSTAGE"' EXIT
    mkdir "$KSTAGE/keys" && cp "$KEYS_FROM"/* "$KSTAGE/keys/"
    ARGS+=(-x "$KSTAGE" -e KEYS_FROM=/extra/keys)
fi
if [ "$TARGET" = nvmet ]; then
    "$HERE/run-guest.sh" "${ARGS[@]}" "$@" "$HERE/kernel-target.sh" 'sh ./kernel-target.sh' \
        "$HERE/guest/$TEST.sh"
else
    [ -x "$TARGET" ] || { echo "run-sec: $TARGET is not built: SKIP" >&2; exit 77; }
    # exec: nvtcpd itself gets /init's SIGTERM at the end
    "$HERE/run-guest.sh" "${ARGS[@]}" -x "$HERE/guest/nvtcpd-sec.sh" "$@" "$TARGET" \
        "exec sh /extra/nvtcpd-sec.sh ./${TARGET##*/} ${NVTCPD_ARGS:-}" "$HERE/guest/$TEST.sh"
fi
rc=$?
case $rc in
    0 | 77) exit $rc ;;
    *) exit 1 ;;
esac
