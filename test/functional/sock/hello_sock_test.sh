#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# hello_sock end to end, for one socket implementation:
#   hello_sock_test.sh HELLO_SOCK_BINARY IMPL
# - a server with one poll thread per core (-m 0x3) on a free port;
# - many concurrent clients (stdin pipes, redirected files, -n generators),
#   IPv4 and IPv6, each echo compared by SHA-256;
# - clients that reset (SO_LINGER 0) or vanish mid-transfer, after which the
#   server still serves;
# - bad addresses and ports fail with a clear message;
# - SIGINT stops the server with exit code 0 and no leak report.
# The server's "listening" line is read from its stdout; nothing sleeps.
set -euo pipefail

HELLO=${1:?usage: $0 hello_sock impl}
IMPL=${2:?usage: $0 hello_sock impl}
CLIENTS=${CLIENTS:-16}
TMP=$(mktemp -d /tmp/hello_sock_test.XXXXXX)
SRV_PID=
failures=0

cleanup() {
	if [[ -n $SRV_PID ]] && kill -0 "$SRV_PID" 2>/dev/null; then
		kill -KILL "$SRV_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# Start a server on $1; sets SRV_PID and PORT once it is listening.
start_server() {
	local host=$1 line
	coproc SRV { exec timeout --foreground -k 10 -s INT 240 \
		"$HELLO" -S -H "$host" -P 0 -m 0x3 -N "$IMPL" \
		2>"$TMP/server.$host.err"; }
	SRV_PID=$SRV_PID
	exec {SRV_OUT}<&"${SRV[0]}"
	if ! read -t 30 -r line <&"$SRV_OUT"; then
		cat "$TMP/server.$host.err" >&2
		echo "FAIL: server on $host did not start" >&2
		exit 1
	fi
	PORT=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' <<<"$line")
	echo "server ($IMPL) on $host port $PORT: $line"
}

# SIGINT must stop the server cleanly: exit 0, no sanitizer report.
stop_server() {
	local host=$1 rc=0
	kill -INT "$SRV_PID"
	wait "$SRV_PID" || rc=$?
	SRV_PID=
	if ((rc != 0)); then
		fail "server on $host exited with $rc after SIGINT"
	fi
	if grep -q "Sanitizer" "$TMP/server.$host.err"; then
		fail "sanitizer report from the server on $host"
		cat "$TMP/server.$host.err" >&2
	fi
}

# Client i sends a file of random size through stdin; its echo must hash the same.
echo_clients() {
	local host=$1 i size pids=()
	for ((i = 0; i < CLIENTS; i++)); do
		size=$(((i * 7919 % 13 + 1) * 311 * 1024 + i))
		head -c "$size" /dev/urandom >"$TMP/in.$i"
		if ((i % 3 == 0)); then
			cat "$TMP/in.$i" | "$HELLO" -H "$host" -P "$PORT" -N "$IMPL" \
				>"$TMP/out.$i" 2>"$TMP/cli.$i.err" &
		elif ((i % 3 == 1)); then
			"$HELLO" -H "$host" -P "$PORT" -N "$IMPL" <"$TMP/in.$i" \
				>"$TMP/out.$i" 2>"$TMP/cli.$i.err" &
		else
			"$HELLO" -H "$host" -P "$PORT" -N "$IMPL" -n "$size" \
				</dev/null >"$TMP/out.$i" 2>"$TMP/cli.$i.err" &
		fi
		pids+=($!)
	done
	for ((i = 0; i < CLIENTS; i++)); do
		if ! wait "${pids[$i]}"; then
			fail "client $i ($host) exited non-zero: $(tail -2 "$TMP/cli.$i.err")"
		elif ((i % 3 != 2)) && [[ $(sha256sum <"$TMP/in.$i") != $(sha256sum <"$TMP/out.$i") ]]; then
			fail "client $i ($host): echo differs"
		elif ((i % 3 == 2)) && ! grep -q "OK: $(stat -c %s "$TMP/in.$i") of" "$TMP/cli.$i.err"; then
			fail "client $i ($host): generated echo not verified: $(tail -1 "$TMP/cli.$i.err")"
		fi
	done
	echo "$CLIENTS concurrent clients on $host: done"
}

# Peers that reset or vanish while both directions carry data.
abrupt_clients() {
	python3 - "$1" "$PORT" <<'EOF'
import socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
for i in range(8):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((host, port))
    data = bytes(1 << 20)
    s.sendall(data)          # the server echoes; we read only a part of it
    got = s.recv(65536)
    assert got, "no echo before reset"
    if i % 2 == 0:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()                 # unread data or SO_LINGER 0: the kernel resets
print("8 abrupt clients done")
EOF
}

bad_args() {
	local out rc
	for args in "-H 256.0.0.1" "-H localhost" "-H ::1::2" "-P 70000" "-N nope"; do
		rc=0
		out=$("$HELLO" $args </dev/null 2>&1) || rc=$?
		if ((rc == 0)); then
			fail "hello_sock $args succeeded"
		fi
		# The message names what was wrong.
		local what=${args#-? }
		if ! grep -qF -- "$what" <<<"$out"; then
			fail "hello_sock $args: message does not name '$what': $out"
		fi
	done
	# The stopped server's port: nobody listens there now; refused, clear message.
	rc=0
	out=$("$HELLO" -P "$1" -N "$IMPL" </dev/null 2>&1) || rc=$?
	if ((rc == 0)) || ! grep -q "refused" <<<"$out"; then
		fail "connect to a closed port: rc $rc: $out"
	fi
	echo "bad addresses and ports: done"
}

for host in 127.0.0.1 ::1; do
	start_server "$host"
	echo_clients "$host"
	abrupt_clients "$host" || fail "abrupt clients on $host"
	CLIENTS=3 echo_clients "$host"
	stop_server "$host"
done
bad_args "$PORT"

if ((failures > 0)); then
	echo "hello_sock ($IMPL): $failures failure(s)"
	exit 1
fi
echo "hello_sock ($IMPL): all passed"
