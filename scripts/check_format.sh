#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# House-style checks on the tracked sources (see the style notes in README):
# SPDX headers, clang-format, /* */ comments only, no banned functions, and
# a doc/rpc.md section for every JSON-RPC method.
# Exits 0 when clean, 1 with one line per finding otherwise; 77 when
# clang-format is missing.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
command -v clang-format > /dev/null || { echo "check_format: clang-format not installed: skipped"; exit 77; }

mapfile -t csrc < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
mapfile -t scripts < <(git ls-files '*.sh' '*.py' 2>/dev/null)
bad=0
report() { echo "check_format: $*"; bad=1; }

for f in "${csrc[@]}" "${scripts[@]}"; do
    head -n 3 "$f" | grep -q 'SPDX-License-Identifier' || report "$f: no SPDX-License-Identifier in its first lines"
done
out=$(clang-format --dry-run "${csrc[@]}" 2>&1 | grep 'warning:' | cut -d: -f1 | sort | uniq -c)
[ -z "$out" ] || report "not clang-formatted (run clang-format -i):"$'\n'"$out"
out=$(grep -nE '(^|[;{}),]\s*)//' "${csrc[@]}" | grep -v '://' || true)
[ -z "$out" ] || report "// comments (use /* */):"$'\n'"$out"
out=$(grep -nwE '(strcpy|sprintf|atoi|strtok|gets)\s*\(' "${csrc[@]}" || true)
[ -z "$out" ] || report "banned functions (use snprintf, nvt_strcpy_trunc, nvt_parse_u64, strtok_r):"$'\n'"$out"
# Every JSON-RPC method registered in lib/, module/ or app/ has its section in doc/rpc.md.
mapfile -t methods < <(grep -hoE '(NVT_RPC_REGISTER|NVMF_RPC_REGISTER|nvt_rpc_register_method|rpc_register_alias)\(\s*"[a-z_0-9]+"' \
    $(printf '%s\n' "${csrc[@]}" | grep -E '^(lib|module|app)/') | grep -oE '"[a-z_0-9]+"' | tr -d '"' | sort -u)
for m in "${methods[@]}"; do
    grep -qE "^#+ .*\b$m\b" doc/rpc.md || grep -qE "^\| $m \|" doc/rpc.md ||
        report "doc/rpc.md: no section for the RPC method $m"
done
[ "$bad" = 0 ] && echo "check_format: ${#csrc[@]} C files, ${#scripts[@]} scripts and ${#methods[@]} RPC methods clean"
exit "$bad"
