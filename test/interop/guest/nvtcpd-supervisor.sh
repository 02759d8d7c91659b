#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# nvtcpd-supervisor.sh - guest side (busybox sh): run a target daemon and start it
# again when a guest test has killed it on purpose, so that the guest's /init, which
# fails the run when its target process goes away, keeps seeing one live target.
#
# Usage (as run-guest.sh's TARGET_CMD, in /target):
#   exec sh /extra/nvtcpd-supervisor.sh ./nvtcpd ARGS...
#
# Protocol with the test (guest/restart-lib.sh's nvt_restart is its side), files in
# $SUPERVISOR_DIR (/run/nvtcpd-supervisor):
#   pid       the daemon's current pid, written at each start
#   starts    one line per start: a new line means the old process is gone
#   exits     the exit status of each daemon the test had restarted, one a line
#   restart   created by the test just before it kills the daemon; consumed here
# The daemon is started again only when 'restart' exists. Any other exit of the
# daemon - a crash, an ASan report, an exit of its own - ends the supervisor with
# the daemon's status (1 for an unexpected exit 0), so /init reports "target died
# during the test" just as it does for a daemon run without a supervisor.
# SIGTERM/SIGINT (from /init after the test) are forwarded to the daemon and end
# the supervisor: no restart loop outlives the test. SUPERVISOR_MAX_RESTARTS (20)
# bounds the restarts anyway.
#
# SUPERVISOR_ON_RESTART (run-guest.sh -e) is a shell command run between the old
# daemon's exit and the new one's start, with RESTART=1, 2...: for failure injection,
# to prove that a test catches a target that loses data or changes identity, e.g.
#   -e 'SUPERVISOR_ON_RESTART=rm /tmp/nvtcp-disk.img'
SUPERVISOR_DIR=${SUPERVISOR_DIR:-/run/nvtcpd-supervisor}
SUPERVISOR_MAX_RESTARTS=${SUPERVISOR_MAX_RESTARTS:-20}
[ $# -gt 0 ] || { echo "supervisor: usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
mkdir -p "$SUPERVISOR_DIR" || exit 1
rm -f "$SUPERVISOR_DIR/pid" "$SUPERVISOR_DIR/starts" "$SUPERVISOR_DIR/exits" \
    "$SUPERVISOR_DIR/restart"

stop=0 child=""
# A trapped signal interrupts 'wait' below; the loop then waits for the daemon's
# real exit before deciding anything.
forward() {
    stop=1
    [ -n "$child" ] && kill -TERM "$child" 2>/dev/null
}
trap forward TERM INT

restarts=0
while :; do
    [ "$stop" = 1 ] && { echo "supervisor: stopped"; exit 0; }
    "$@" &
    child=$!
    echo "$child" > "$SUPERVISOR_DIR/pid"
    echo "$child" >> "$SUPERVISOR_DIR/starts"
    echo "supervisor: started $1 (pid $child)"
    # A TERM that came before $child was set could not be forwarded: do it now.
    [ "$stop" = 1 ] && kill -TERM "$child" 2>/dev/null
    wait "$child"; st=$?
    while kill -0 "$child" 2>/dev/null; do wait "$child"; st=$?; done
    if [ "$stop" = 1 ]; then
        echo "supervisor: $1 (pid $child) stopped with status $st"
        exit "$st"
    fi
    if [ -e "$SUPERVISOR_DIR/restart" ]; then
        rm -f "$SUPERVISOR_DIR/restart"
        echo "$st" >> "$SUPERVISOR_DIR/exits"
        restarts=$((restarts + 1))
        if [ "$restarts" -gt "$SUPERVISOR_MAX_RESTARTS" ]; then
            echo "supervisor: more than $SUPERVISOR_MAX_RESTARTS restarts: giving up"
            exit 1
        fi
        echo "supervisor: $1 (pid $child) exited with status $st, as the test asked: restart $restarts"
        if [ -n "${SUPERVISOR_ON_RESTART:-}" ]; then
            echo "supervisor: before restart $restarts: $SUPERVISOR_ON_RESTART"
            RESTART=$restarts sh -c "$SUPERVISOR_ON_RESTART"
        fi
        continue
    fi
    echo "supervisor: $1 (pid $child) exited with status $st on its own: not restarted"
    [ "$st" = 0 ] && st=1
    exit "$st"
done
