/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The storage test's environment: its directory, the backing files and the
 * loop device, nvtcpd's configuration (written as JSON), nvtcpd itself, and
 * the processes the test runs (the nvtcp CLI, losetup).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_daemon.h"
#include "test_util.h"

#include "storage_internal.h"

extern char **environ;

char g_dir[PATH_MAX];
char g_sock[PATH_MAX];
int g_port;
struct nvt_test_daemon g_daemon;
/* The loop device attached, "" when none. */
static char g_loop_dev[64];

/* ---- processes: the CLI, losetup ---- */

/*
 * Run \p argv (PATH searched), its stdout and stderr into \p out; its exit
 * status, or -1.
 */
static int
run(char *const argv[], char *out, size_t outlen)
{
	posix_spawn_file_actions_t fa;
	char scratch[256];
	size_t got = 0;
	ssize_t n;
	int fds[2], status = -1;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(fds, O_CLOEXEC) != 0) {
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		pid = -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	/* Past outlen, read on and drop: the child must not block on a full pipe. */
	while ((n = read(fds[0], got < outlen - 1 ? out + got : scratch,
			 got < outlen - 1 ? outlen - 1 - got : sizeof(scratch))) > 0) {
		got += got < outlen - 1 ? (size_t)n : 0;
	}
	out[got] = '\0';
	close(fds[0]);
	if (pid > 0 && waitpid(pid, &status, 0) == pid) {
		status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	return status;
}

int
cli(char *out, size_t outlen, const char *method, ...)
{
	char *argv[16] = { (char *)g_cli, "-s", g_sock, "-t", "20", (char *)method };
	int n = 6;
	va_list ap;

	va_start(ap, method);
	while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL) {
		n++;
	}
	va_end(ap);
	argv[n] = NULL;
	return run(argv, out, outlen);
}

bool
bdev_direct(const char *name)
{
	char out[OUT_LEN], arg[64];
	json_t *res;
	bool direct;

	snprintf(arg, sizeof(arg), "name=%s", name);
	if (cli(out, sizeof(out), "bdev_get_bdevs", arg, NULL) != 0) {
		return false;
	}
	res = json_loads(out, 0, NULL);
	direct = json_is_true(json_object_get(
		json_object_get(json_object_get(json_array_get(res, 0), "driver_specific"),
				"uring"),
		"direct"));
	json_decref(res);
	return direct;
}

static void
loop_detach(void)
{
	char out[256];
	char *argv[] = { "losetup", "-d", g_loop_dev, NULL };

	if (g_loop_dev[0] != '\0') {
		run(argv, out, sizeof(out));
		g_loop_dev[0] = '\0';
	}
}

/* ---- backing files and the configuration ---- */

/* A file of \p size bytes: sparse, or of known data (returned in g_wbuf) when \p fill. */
static int
image_create(const char *path, uint64_t size, bool fill)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = fd >= 0 && ftruncate(fd, (off_t)size) == 0 ? 0 : -1;

	if (rc == 0 && fill) {
		pattern_fill(g_wbuf, size);
		rc = pwrite(fd, g_wbuf, size, 0) == (ssize_t)size ? 0 : -1;
	}
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}

/* Attach the loop namespace's file to a loop device, or say why not. */
static void
loop_setup(struct ns_info *ns)
{
	char *argv[] = { "losetup", "-f", "--show", ns->image, NULL };
	char out[512];
	int fd, lbs = 0;

	if (geteuid() != 0) {
		printf("skip: %s: not root, no loop device\n", ns->bdev);
		return;
	}
	if (run(argv, out, sizeof(out)) != 0 || strncmp(out, "/dev/", 5) != 0) {
		printf("skip: %s: losetup -f --show %s failed: %s\n", ns->bdev, ns->image, out);
		return;
	}
	out[strcspn(out, "\n")] = '\0';
	if (strlen(out) >= sizeof(g_loop_dev)) {
		printf("skip: %s: losetup named %s\n", ns->bdev, out);
		return;
	}
	memcpy(g_loop_dev, out, strlen(out) + 1);
	memcpy(ns->dev, out, strlen(out) + 1);
	fd = open(ns->dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, BLKSSZGET, &lbs) != 0 || lbs < 512) {
		printf("skip: %s: %s: no logical block size\n", ns->bdev, ns->dev);
		lbs = 0;
	}
	if (fd >= 0) {
		close(fd);
	}
	ns->block_size = (uint32_t)lbs;
	ns->present = lbs != 0;
	printf("%s: %s over %s, %d-byte blocks\n", ns->bdev, ns->dev, ns->image, lbs);
}

int
images_create(void)
{
	struct ns_info *ns;
	char name[64];
	uint32_t i;

	for (i = 0; i < NUM_NS; i++) {
		ns = &g_ns[i];
		snprintf(name, sizeof(name), "%s.img", ns->bdev);
		if (nvt_test_path(ns->image, sizeof(ns->image), g_dir, name) != 0) {
			return -1;
		}
		memcpy(ns->dev, ns->image, sizeof(ns->dev));
		if (image_create(ns->image, ns->size, ns->read_only) != 0) {
			return -1;
		}
		ns->present = ns->file;
		if (!ns->file) {
			loop_setup(ns);
		}
	}
	return 0;
}

static json_t *
config_method(const char *method, json_t *params)
{
	return json_pack("{s:s, s:o}", "method", method, "params", params);
}

static json_t *
config_bdevs(void)
{
	json_t *list = json_array(), *p;
	uint32_t i;

	for (i = 0; i < NUM_NS; i++) {
		if (!g_ns[i].present) {
			continue;
		}
		p = json_pack("{s:s, s:s}", "name", g_ns[i].bdev, "filename", g_ns[i].dev);
		if (g_ns[i].asked_bs != 0) {
			json_object_set_new(p, "block_size", json_integer(g_ns[i].asked_bs));
		}
		if (g_ns[i].read_only) {
			json_object_set_new(p, "readonly", json_true());
		}
		json_array_append_new(list, config_method(g_ns[i].method, p));
	}
	return list;
}

static json_t *
config_nvmf(void)
{
	json_t *list = json_array();
	char port[16];
	uint32_t i;

	snprintf(port, sizeof(port), "%d", g_port);
	json_array_append_new(
		list, config_method("nvmf_create_transport",
				    json_pack("{s:s, s:i}", "trtype", "TCP", "max_io_size", MDTS)));
	json_array_append_new(
		list, config_method("nvmf_create_subsystem",
				    json_pack("{s:s, s:b}", "nqn", SUBNQN, "allow_any_host", 1)));
	for (i = 0; i < NUM_NS; i++) {
		if (g_ns[i].present) {
			json_array_append_new(
				list, config_method("nvmf_subsystem_add_ns",
						    json_pack("{s:s, s:{s:s, s:i}}", "nqn", SUBNQN,
							      "namespace", "bdev_name",
							      g_ns[i].bdev, "nsid", g_ns[i].nsid)));
		}
	}
	json_array_append_new(
		list, config_method("nvmf_subsystem_add_listener",
				    json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "nqn", SUBNQN,
					      "listen_address", "trtype", "TCP", "adrfam", "IPv4",
					      "traddr", "127.0.0.1", "trsvcid", port)));
	return list;
}

static int
config_write(const char *path)
{
	json_t *cfg =
		json_pack("{s:[{s:s, s:o}, {s:s, s:o}]}", "subsystems", "subsystem", "bdev",
			  "config", config_bdevs(), "subsystem", "nvmf", "config", config_nvmf());
	int rc = cfg != NULL ? json_dump_file(cfg, path, JSON_INDENT(2)) : -1;

	json_decref(cfg);
	return rc;
}

/* ---- nvtcpd ---- */

/* Start nvtcpd and wait until its start-up finished: its banner says it listens. */
bool
daemon_start(void)
{
	char cfg[PATH_MAX];
	char *argv[] = { (char *)g_nvtcpd, "-c", cfg, "-r", g_sock, NULL };
	struct nvt_test_daemon_opts opts = { .argv = argv, .banner_to = stdout };

	if (nvt_test_path(cfg, sizeof(cfg), g_dir, "nvtcpd.json") != 0 ||
	    nvt_test_path(g_sock, sizeof(g_sock), g_dir, "rpc.sock") != 0 ||
	    config_write(cfg) != 0) {
		return false;
	}
	return nvt_test_daemon_start(&g_daemon, &opts) == 0;
}

void
cleanup(void)
{
	nvt_test_daemon_kill(&g_daemon);
	loop_detach();
	nvt_test_tmpdir_remove(g_dir);
}
