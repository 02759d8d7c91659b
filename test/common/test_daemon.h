/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvtcpd as a child of a functional test: started with its stdout on a pipe,
 * waited for until its banner says it listens, stopped with SIGTERM (a clean
 * exit is part of what the tests check) or killed on failure paths. Errors
 * are negative errno values; nothing here prints (but the banner, where the
 * caller asks) or exits.
 */
#ifndef NVT_TEST_DAEMON_H
#define NVT_TEST_DAEMON_H

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* How long nvtcpd may take to print its banner unless the caller says. */
#define NVT_TEST_START_TIMEOUT_S 30

struct nvt_test_daemon_opts {
	/* The program and its arguments, NULL-terminated; argv[0] is the path run. */
	char *const *argv;
	/* The CPUs it may run on; NULL: those of the thread that starts it. */
	const cpu_set_t *cpus;
	/* Where what it printed up to its banner is copied; NULL: nowhere. */
	FILE *banner_to;
	/* How long the banner may take, in seconds; 0: NVT_TEST_START_TIMEOUT_S. */
	int timeout_s;
};

/*
 * A daemon; all zero is none. The caller reads it and may signal pid, but
 * changes it only through these functions.
 */
struct nvt_test_daemon {
	/* The running child, 0 when none. */
	pid_t pid;
	/* Its stdout's read end while it runs: kept open, so it never writes to a closed pipe. */
	int out;
	/* The wait status (waitpid's) of the child last reaped. */
	int wstatus;
};

/*
 * Start opts->argv with its stdout on a pipe (stderr is the caller's) and wait
 * until it printed "listening on": nvtcpd then serves its listeners and its
 * RPC socket. It gets SIGKILL when the calling thread ends (PR_SET_PDEATHSIG),
 * so it never outlives the test. \p d must hold no running daemon.
 * 0: it runs (d->pid). -EPIPE: it exited first (reaped, d->wstatus);
 * -ETIMEDOUT: no banner in time, -EPROTO: 4 KiB of output without it (both
 * killed and reaped); another -errno: the pipe or the fork failed.
 */
int nvt_test_daemon_start(struct nvt_test_daemon *d, const struct nvt_test_daemon_opts *opts);

/*
 * Write \p config to <dir>/nvtcpd.json and start "<nvtcpd> -c <that file>"
 * followed by \p extra (NULL-terminated, may be NULL, at most 24) as
 * nvt_test_daemon_start() does, its banner copied to stdout. Without "-r" in
 * \p extra, "-r <dir>/nvtcpd.sock" is added: nvtcpd's default RPC socket is
 * one path for the whole machine, which tests running at once would share. -E2BIG for
 * too many arguments; otherwise what writing the file or starting returned.
 */
int nvt_test_daemon_start_config(struct nvt_test_daemon *d, const char *nvtcpd, const char *dir,
				 const char *config, char *const *extra);

/* Whether it still runs; one that exited is reaped (d->wstatus, d->pid 0). */
bool nvt_test_daemon_alive(struct nvt_test_daemon *d);

/*
 * Wait until it exits (signal d->pid first) and reap it: 0 (d->wstatus,
 * d->pid 0), -ESRCH when none runs, or the -errno of waitpid.
 */
int nvt_test_daemon_wait(struct nvt_test_daemon *d);

/*
 * SIGTERM, then wait: its exit status (0 is a clean stop), 128 + the number
 * of the signal that ended it, -ESRCH when none runs, or -errno.
 */
int nvt_test_daemon_stop(struct nvt_test_daemon *d);

/* SIGKILL and reap, for failure paths and clean-up; nothing when none runs. */
void nvt_test_daemon_kill(struct nvt_test_daemon *d);

/*
 * The "sock" subsystem entry of a JSON configuration (with its trailing
 * comma) that makes nvtcpd's sockets use the implementation named by the
 * environment variable NVT_TEST_SOCK_IMPL ("posix" or "uring"), so that one
 * suite runs on each backend; "" when it is unset. A static string; NULL
 * when the variable names something else (the test fails on it).
 */
const char *nvt_test_sock_config(void);

/*
 * Whether the running daemon uses the socket implementation that
 * nvt_test_sock_config() asked for: with "uring" it must hold an io_uring
 * once a host is connected (a poll group makes its ring with its first
 * socket; nvtcpd makes none otherwise). 0 when it does or nothing was asked,
 * -ENOENT when it does not, -errno when /proc/<pid>/fd cannot be read.
 */
int nvt_test_daemon_check_sock(const struct nvt_test_daemon *d);

#endif /* NVT_TEST_DAEMON_H */
