#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# run.sh BUILD_DIR [auth] [tls] - nvtcp's host tools (nvtcp-identify,
# nvtcp-perf) authenticate with DH-HMAC-CHAP (guest-auth.sh) and connect over
# TLS 1.3 with a PSK (guest-tls.sh) to the Linux kernel's target, configured
# by nvmet-sec-target.sh, inside a Debian 13 guest: one boot per mode (both
# by default). Exit 0 pass, 1 fail, 77 cannot run here.
#
# RUN_GUEST names the run-guest.sh of a guest kit whose kernel has NVMe
# in-band authentication and TLS on both sides (Debian 13's 6.12) and whose
# image holds nvme-cli, keyutils and tlshd; RUN_GUEST_OPTS adds options to it
# (word-split), e.g. '-e SLOW_GROUPS=0' or '-e PERF_SECS=4'.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${1:-${NVT_BUILD_ROOT:-}}
[ -n "$BUILD" ] || { echo "usage: $0 BUILD_DIR [auth] [tls]" >&2; exit 2; }
shift
MODES=${*:-auth tls}
if [ -z "${RUN_GUEST:-}" ] || [ ! -x "$RUN_GUEST" ]; then
    echo "run.sh: RUN_GUEST must name the run-guest.sh of a Debian 13 guest kit; skipped" >&2
    exit 77
fi
X=$(mktemp -d)
trap 'rm -rf "$X"' EXIT
cp "$BUILD/app/nvtcp-perf/nvtcp-perf" "$BUILD/app/nvtcp-identify/nvtcp-identify" "$X/" || exit 1
rc=0
for mode in $MODES; do
    case $mode in auth | tls) ;; *) echo "run.sh: unknown mode $mode" >&2; exit 2 ;; esac
    # shellcheck disable=SC2086
    "$RUN_GUEST" -q -x "$X" -x "$HERE/guest-lib.sh" -t 500 -T 800 -e SEC="$mode" -e BIN=/extra \
        -e SUBNQN=nqn.2024-01.io.example:nvtcp-sec ${RUN_GUEST_OPTS:-} \
        "$HERE/nvmet-sec-target.sh" 'sh ./nvmet-sec-target.sh' "$HERE/guest-$mode.sh"
    case $? in
    0) ;;
    77) exit 77 ;;
    *) rc=1 ;;
    esac
done
exit $rc
