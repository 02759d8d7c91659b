/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvtcpd as a child of a functional test (test_daemon.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_daemon.h"
#include "test_util.h"

/* What nvtcpd prints once its listeners (and its RPC socket) are up. */
#define BANNER	   "listening on"
#define BANNER_MAX 4096

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The child: system calls only, as the test may have threads. Never returns. */
static void
child_exec(const struct nvt_test_daemon_opts *opts, int out, pid_t parent)
{
	/* Never outlive the test, even when it crashes. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent) {
		/* The test died before the prctl. */
		_exit(127);
	}
	if (opts->cpus != NULL) {
		sched_setaffinity(0, sizeof(*opts->cpus), opts->cpus);
	}
	if (dup2(out, STDOUT_FILENO) < 0) {
		_exit(126);
	}
	execv(opts->argv[0], opts->argv);
	_exit(127);
}

/* Append what the pipe holds to \p buf: 0, -EPIPE at its end (the child exited), or -errno. */
static int
read_some(int fd, char *buf, size_t *len, size_t size)
{
	ssize_t n = read(fd, buf + *len, size - 1 - *len);

	if (n < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	if (n == 0) {
		return -EPIPE;
	}
	*len += (size_t)n;
	buf[*len] = '\0';
	return 0;
}

/* Read its stdout until the banner; what was read goes to opts->banner_to. */
static int
wait_banner(const struct nvt_test_daemon *d, const struct nvt_test_daemon_opts *opts)
{
	int timeout_s = opts->timeout_s > 0 ? opts->timeout_s : NVT_TEST_START_TIMEOUT_S;
	int64_t left, deadline = now_ms() + (int64_t)timeout_s * 1000;
	struct pollfd pfd = { .fd = d->out, .events = POLLIN };
	char buf[BANNER_MAX];
	size_t len = 0;
	int rc = 0;

	buf[0] = '\0';
	while (rc == 0 && strstr(buf, BANNER) == NULL && len < sizeof(buf) - 1) {
		left = deadline - now_ms();
		if (left <= 0) {
			rc = -ETIMEDOUT;
		} else if (poll(&pfd, 1, (int)left) > 0) {
			rc = read_some(d->out, buf, &len, sizeof(buf));
		}
	}
	if (opts->banner_to != NULL) {
		fputs(buf, opts->banner_to);
		fflush(opts->banner_to);
	}
	return rc != 0 || strstr(buf, BANNER) != NULL ? rc : -EPROTO;
}

int
nvt_test_daemon_start(struct nvt_test_daemon *d, const struct nvt_test_daemon_opts *opts)
{
	pid_t parent = getpid();
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC) != 0) {
		return -errno;
	}
	d->pid = fork();
	if (d->pid == 0) {
		child_exec(opts, p[1], parent);
	}
	rc = d->pid < 0 ? -errno : 0;
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		d->pid = 0;
		return rc;
	}
	d->out = p[0];
	rc = wait_banner(d, opts);
	if (rc != 0) {
		/* Reaped either way: the status is its own when it had exited already. */
		nvt_test_daemon_kill(d);
	}
	return rc;
}

/* It exited: keep its status, forget it. */
static void
reaped(struct nvt_test_daemon *d, int wstatus)
{
	d->wstatus = wstatus;
	d->pid = 0;
	close(d->out);
	d->out = -1;
}

int
nvt_test_daemon_start_config(struct nvt_test_daemon *d, const char *nvtcpd, const char *dir,
			     const char *config, char *const *extra)
{
	char cfg[PATH_MAX], sock[PATH_MAX], *args[30];
	struct nvt_test_daemon_opts opts = { .argv = args, .banner_to = stdout };
	bool has_rpc = false;
	int n = 0, rc;

	rc = nvt_test_path(cfg, sizeof(cfg), dir, "nvtcpd.json");
	if (rc == 0) {
		rc = nvt_test_path(sock, sizeof(sock), dir, "nvtcpd.sock");
	}
	if (rc == 0) {
		rc = nvt_test_write_file(cfg, config);
	}
	if (rc != 0) {
		return rc;
	}
	args[n++] = (char *)nvtcpd;
	args[n++] = "-c";
	args[n++] = cfg;
	while (extra != NULL && *extra != NULL) {
		if (n == (int)(sizeof(args) / sizeof(args[0])) - 3) {
			return -E2BIG;
		}
		has_rpc |= strcmp(*extra, "-r") == 0;
		args[n++] = *extra++;
	}
	if (!has_rpc) {
		/* Its own socket: the default one is shared by every nvtcpd on the machine. */
		args[n++] = "-r";
		args[n++] = sock;
	}
	args[n] = NULL;
	return nvt_test_daemon_start(d, &opts);
}

bool
nvt_test_daemon_alive(struct nvt_test_daemon *d)
{
	int wstatus;
	pid_t r;

	if (d->pid <= 0) {
		return false;
	}
	r = waitpid(d->pid, &wstatus, WNOHANG);
	if (r == 0) {
		return true;
	}
	if (r == d->pid) {
		reaped(d, wstatus);
	}
	return false;
}

int
nvt_test_daemon_wait(struct nvt_test_daemon *d)
{
	int wstatus;
	pid_t r;

	if (d->pid <= 0) {
		return -ESRCH;
	}
	while ((r = waitpid(d->pid, &wstatus, 0)) < 0 && errno == EINTR) {
	}
	if (r != d->pid) {
		return r < 0 ? -errno : -ECHILD;
	}
	reaped(d, wstatus);
	return 0;
}

int
nvt_test_daemon_stop(struct nvt_test_daemon *d)
{
	int rc;

	if (d->pid <= 0) {
		return -ESRCH;
	}
	kill(d->pid, SIGTERM);
	rc = nvt_test_daemon_wait(d);
	if (rc != 0) {
		return rc;
	}
	return WIFEXITED(d->wstatus) ? WEXITSTATUS(d->wstatus) : 128 + WTERMSIG(d->wstatus);
}

void
nvt_test_daemon_kill(struct nvt_test_daemon *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		nvt_test_daemon_wait(d);
	}
}

const char *
nvt_test_sock_config(void)
{
	static char entry[256];
	const char *impl = getenv("NVT_TEST_SOCK_IMPL");

	if (impl == NULL || impl[0] == '\0') {
		return "";
	}
	if (strcmp(impl, "posix") != 0 && strcmp(impl, "uring") != 0) {
		return NULL;
	}
	snprintf(entry, sizeof(entry),
		 "  { \"subsystem\": \"sock\", \"config\": [\n"
		 "    { \"method\": \"sock_set_default_impl\", \"params\": "
		 "{ \"impl_name\": \"%s\" } } ] },\n",
		 impl);
	return entry;
}

int
nvt_test_daemon_check_sock(const struct nvt_test_daemon *d)
{
	const char *impl = getenv("NVT_TEST_SOCK_IMPL");
	char dir[64], path[PATH_MAX], target[64];
	struct dirent *e;
	ssize_t n;
	DIR *fds;
	int rc = -ENOENT;

	if (impl == NULL || strcmp(impl, "uring") != 0) {
		return 0;
	}
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)d->pid);
	fds = opendir(dir);
	if (fds == NULL) {
		return -errno;
	}
	while (rc != 0 && (e = readdir(fds)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			rc = strcmp(target, "anon_inode:[io_uring]") == 0 ? 0 : -ENOENT;
		}
	}
	closedir(fds);
	return rc;
}
