#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build nvtcp (release) and start it in the foreground with its embedded
# default. Installs missing Debian packages first. Extra arguments go to the
# program; Ctrl-C stops it cleanly.
#   NVT_RUN_BUILD=dir   build directory (default build-release)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
scripts/deps.sh build || exit 1
B=${NVT_RUN_BUILD:-build-release}
if [ ! -f "$B/build.ninja" ]; then
    meson setup "$B" --buildtype=release -Dtests=false > "$B.setup.log" 2>&1 ||
        { cat "$B.setup.log" >&2; exit 1; }
fi
ninja -C "$B" > "$B.build.log" 2>&1 || { cat "$B.build.log" >&2; echo "nvtcp: build failed" >&2; exit 1; }
exec "$B/app/nvtcpd/nvtcpd" "$@"
