#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# trixie/apt.sh apt-get|apt-cache ARGS... - apt against Debian 13 (trixie) with a
# PRIVATE configuration under $TRIXIE_APT (default: the trixie image's cache,
# $NVT_INTEROP_CACHE/trixie/apt): its own sources list, package lists, cache and an
# empty dpkg status. The machine's apt sources and dpkg database are never read
# or changed, and nothing is installed: build-initramfs.sh only downloads .debs
# with it and unpacks them. Run "apt.sh apt-get update" first.
A=${TRIXIE_APT:-${NVT_INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nvtcp-interop}/trixie/apt}
if [ ! -e "$A/sources.list" ]; then
    mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
    echo 'deb http://deb.debian.org/debian trixie main' > "$A/sources.list"
    : > "$A/status"
fi
cmd=$1; shift
# The archive keys are the machine's (/etc/apt/trusted.gpg.d): Debian's archive
# signing keys sign every suite, so the Release file of trixie is verified too.
# No sandbox user: the state lives in the caller's own cache, which "_apt" may
# not be able to enter (apt would say so, and fetch as the caller anyway).
exec "$cmd" -o Dir::Etc::SourceList="$A/sources.list" -o Dir::Etc::SourceParts=/dev/null \
  -o Dir::State::Lists="$A/lists" -o Dir::Cache="$A/cache" -o Dir::State::status="$A/status" \
  -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
  -o APT::Architecture=amd64 -o APT::Architectures::=amd64 -o Acquire::Languages=none \
  -o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
