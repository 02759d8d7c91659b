#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# run-kernel-nvmet.sh - run the guest test guest/basic-io.sh against the Linux
# kernel's own NVMe/TCP target (kernel-target.sh). This validates the interop
# machinery itself: with a known-good target it must pass.
#
# Usage: run-kernel-nvmet.sh [run-guest.sh options]   e.g. -q, -e DIGEST=1, -r 200,
#   -F trixie (Debian 13's 6.12 kernel host)
# Exit status: 0 = pass, 1 = fail, 77 = skipped (qemu or a /boot/vmlinuz-* kernel is
# missing and cannot be installed here).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$HERE/run-guest.sh" "$@" "$HERE/kernel-target.sh" 'sh ./kernel-target.sh' \
	"$HERE/guest/basic-io.sh"
rc=$?
case $rc in
	0 | 77) exit $rc ;;
	*) exit 1 ;;
esac
