#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian packages nvtcp needs, if any are missing.
#   deps.sh build      compiler, meson, ninja and the libraries (librbd for the rbd module)
#   deps.sh fuzz       clang and its libFuzzer runtime (the fuzz tree, scripts/fuzz.sh)
#   deps.sh test-base  what the gcc test trees use (cmocka, clang-format, promtool)
#   deps.sh test       test-base and fuzz: everything scripts/test.sh runs
#   deps.sh ceph       a monitor and an OSD for the RBD tests' throw-away cluster
# Sets combine: deps.sh build test. Exits non-zero with a clear message when
# packages are missing and cannot be installed (not root, no apt-get, no
# reachable archive).
set -uo pipefail

build_pkgs="gcc pkg-config meson ninja-build python3 liburing-dev libisal-dev libjansson-dev libssl-dev libmicrohttpd-dev librbd-dev"
test_base_pkgs="libcmocka-dev clang-format prometheus"
fuzz_pkgs="clang libclang-rt-14-dev"
ceph_pkgs="ceph-mon ceph-osd ceph-common"

want=""
for what in "$@"; do
    case $what in
        build) want="$want $build_pkgs" ;;
        test-base) want="$want $test_base_pkgs" ;;
        fuzz) want="$want $fuzz_pkgs" ;;
        test) want="$want $test_base_pkgs $fuzz_pkgs" ;;
        ceph) want="$want $ceph_pkgs" ;;
        *) echo "deps.sh: unknown set '$what' (build, test, test-base, fuzz, ceph)" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || want=$build_pkgs

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "nvtcp: installing missing Debian packages:$missing" >&2
if ! command -v apt-get > /dev/null; then
    echo "nvtcp: apt-get not found; install these packages by hand:$missing" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "nvtcp: not root; run as root or install them first: apt-get install$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
opts="-y -q --no-install-recommends -o DPkg::Lock::Timeout=600"
# shellcheck disable=SC2086
if ! apt-get install $opts $missing > /tmp/nvtcp-apt.log 2>&1; then
    apt-get update -q >> /tmp/nvtcp-apt.log 2>&1
    # shellcheck disable=SC2086
    if ! apt-get install $opts $missing >> /tmp/nvtcp-apt.log 2>&1; then
        tail -n 5 /tmp/nvtcp-apt.log >&2
        echo "nvtcp: could not install:$missing (log: /tmp/nvtcp-apt.log)" >&2
        exit 1
    fi
fi
exit 0
