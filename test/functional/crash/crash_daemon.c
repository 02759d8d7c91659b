/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The crash test's nvtcpd: its temporary directory, backing file and first
 * configuration, its start (waiting for the banner) on the CPUs the test had,
 * the configuration it saves for every restart, and its end, which must be
 * the SIGKILL the test sent or a clean exit on SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

#include "crash_internal.h"

static const char g_config[] =
	"{ \"subsystems\": [\n"
	"  { \"subsystem\": \"bdev\", \"config\": [\n"
	"    { \"method\": \"bdev_uring_create\", \"params\": { \"name\": \"Crash0\",\n"
	"      \"filename\": \"%s\", \"block_size\": %u, \"uuid\": \"%s\" } } ] },\n"
	"  { \"subsystem\": \"nvmf\", \"config\": [\n"
	"    { \"method\": \"nvmf_create_transport\", \"params\": { \"trtype\": \"TCP\" } },\n"
	"    { \"method\": \"nvmf_create_subsystem\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"allow_any_host\": true } },\n"
	"    { \"method\": \"nvmf_subsystem_add_ns\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"namespace\": { \"bdev_name\": \"Crash0\", \"nsid\": 1 } } },\n"
	"    { \"method\": \"nvmf_subsystem_add_listener\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"listen_address\": { \"trtype\": \"TCP\", \"adrfam\": \"IPv4\",\n"
	"        \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%d\" } } } ] } ] }\n";

/*
 * Two reactors where the test may use CPUs 0 and 1: Flushes and writes then
 * meet on two rings. Taken before our reactor pins itself; nvtcpd gets it back.
 */
static void
daemon_pick_mask(void)
{
	g.d.mask[0] = '\0';
	g.d.cpus_known = sched_getaffinity(0, sizeof(g.d.cpus), &g.d.cpus) == 0;
	if (g.d.cpus_known && CPU_ISSET(0, &g.d.cpus) && CPU_ISSET(1, &g.d.cpus)) {
		snprintf(g.d.mask, sizeof(g.d.mask), "0x3");
	}
}

/* The paths of the files nvtcpd uses, all in the test's directory. */
static int
daemon_paths(void)
{
	int rc = nvt_test_path(g.d.file, sizeof(g.d.file), g.d.dir, "backing.img");

	if (rc == 0) {
		rc = nvt_test_path(g.d.cfg, sizeof(g.d.cfg), g.d.dir, "config.json");
	}
	if (rc == 0) {
		rc = nvt_test_path(g.d.saved, sizeof(g.d.saved), g.d.dir, "saved.json");
	}
	if (rc == 0) {
		rc = nvt_test_path(g.d.sock, sizeof(g.d.sock), g.d.dir, "rpc.sock");
	}
	return rc;
}

void
daemon_prepare(void)
{
	char text[PATH_MAX + 4096];
	int fd, rc;

	rc = nvt_test_tmpdir_create(g.d.dir, sizeof(g.d.dir), "/tmp", "nvtcp-crash");
	if (rc == 0) {
		rc = daemon_paths();
	}
	if (rc != 0) {
		fatal("temporary directory %s: %s", g.d.dir, strerror(-rc));
	}
	fd = open(g.d.file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)FILE_BYTES) != 0) {
		fatal("backing file %s: %s", g.d.file, strerror(errno));
	}
	close(fd);
	g.d.port = nvt_test_free_port();
	snprintf(text, sizeof(text), g_config, g.d.file, g.block_size, NS_UUID, SUBNQN, SUBNQN,
		 SUBNQN, g.d.port);
	rc = g.d.port < 0 ? g.d.port : nvt_test_write_file(g.d.cfg, text);
	if (rc != 0) {
		fatal("configuration %s: %s", g.d.cfg, strerror(-rc));
	}
	daemon_pick_mask();
}

/* Its stdout comes to us through a pipe: the banner, echoed on stderr. */
void
daemon_start(const char *cfg)
{
	char *argv[] = { (char *)g.d.exe, "-c", (char *)cfg, "-r", g.d.sock, "-m", g.d.mask, NULL };
	struct nvt_test_daemon_opts opts = { .argv = argv,
					     .cpus = g.d.cpus_known ? &g.d.cpus : NULL,
					     .banner_to = stderr,
					     .timeout_s = START_S };
	int rc;

	if (g.d.mask[0] == '\0') {
		argv[5] = NULL;
	}
	rc = nvt_test_daemon_start(&g.d.proc, &opts);
	if (rc != 0) {
		fatal("nvtcpd -c %s did not start listening: %s", cfg, strerror(-rc));
	}
}

void
daemon_save_config(void)
{
	static char text[65536];
	int status = -1, fd;
	pid_t pid = fork();

	if (pid == 0) {
		fd = open(g.d.saved, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
			_exit(126);
		}
		execl(g.d.cli, g.d.cli, "-s", g.d.sock, "save_config", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fatal("%s -s %s save_config failed (status 0x%x)", g.d.cli, g.d.sock, status);
	}
	nvt_test_read_file(g.d.saved, text, sizeof(text));
	if (strstr(text, "\"bdev_uring_create\"") == NULL || strstr(text, NS_UUID) == NULL ||
	    strstr(text, g.d.file) == NULL) {
		fatal("save_config lacks the uring bdev, its UUID or its file:\n%s", text);
	}
	fprintf(stderr, "crash_test: saved the configuration to %s (%zu bytes)\n", g.d.saved,
		strlen(text));
}

/* A wait status in words. */
static const char *
wait_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status)) {
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	} else {
		snprintf(buf, len, "status 0x%x", status);
	}
	return buf;
}

void
daemon_reap(int sig)
{
	int rc = nvt_test_daemon_wait(&g.d.proc), status = g.d.proc.wstatus;
	char why[64];
	bool ok;

	if (rc != 0) {
		fatal("waitpid nvtcpd: %s", strerror(-rc));
	}
	ok = sig == SIGKILL ? WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL
			    : WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (!ok) {
		fatal("nvtcpd %s (expected %s)", wait_str(status, why, sizeof(why)),
		      sig == SIGKILL ? "SIGKILL" : "exit 0 on SIGTERM");
	}
}

const char *
daemon_health(char *buf, size_t len)
{
	if (!nvt_test_daemon_alive(&g.d.proc)) {
		return wait_str(g.d.proc.wstatus, buf, len);
	}
	snprintf(buf, len, "still running");
	return buf;
}

void
daemon_cleanup(void)
{
	const char *keep = getenv("NVT_CRASH_KEEP");

	if (keep != NULL && strcmp(keep, "1") == 0) {
		fprintf(stderr, "crash_test: kept %s\n", g.d.dir);
		return;
	}
	nvt_test_tmpdir_remove(g.d.dir);
}
