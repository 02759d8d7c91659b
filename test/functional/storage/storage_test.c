/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Files and a loop block device served by the uring bdev module, checked end
 * to end from the host library. Starts nvtcpd (argv[1]) with a configuration
 * written to a temporary directory (under $TMPDIR, else /var/tmp: a real file
 * system, so the O_DIRECT path is used), one subsystem and these namespaces:
 *
 *   1 File0   bdev_uring_create, a 64 MiB file, 512-byte blocks
 *   2 File4k  bdev_uring_create, a 64 MiB file, 4096-byte blocks
 *   3 RO0     bdev_aio_create readonly, a 1 MiB file of known data
 *   4 Loop0   bdev_uring_create on a loop device over a 64 MiB file (root and
 *             losetup only; skipped with the reason otherwise)
 *
 * and checks, on the writable ones: random writes of 512 B to 1 MiB (split by
 * the host at the 128 KiB MDTS) read back equal and stand in the backing at
 * their offsets; concurrent writes; data written to the backing reads back;
 * flush; FUA writes, and writes with the volatile write cache turned off;
 * write zeroes and deallocate read back as zeroes without touching their
 * neighbours (files: deallocate frees the blocks; the block device only keeps
 * its neighbours) and DLFEAT says so for files only; on RO0: reads work,
 * every kind of write fails with Namespace Is Write Protected, NSATTR bit 0;
 * on File0: growing the file and bdev_uring_rescan (through the nvtcp CLI,
 * argv[2]) complete an outstanding Asynchronous Event Request (lib/nvme
 * processes no events: the test sends its own), list the NSID in the Changed
 * Namespace List once, and Identify and the range checks use the new size;
 * creating a bdev over a missing file or one smaller than a block is refused
 * naming the file, and the other namespaces go on serving. Finally nvtcpd
 * exits with status 0 on SIGTERM.
 *
 * The reactor runs on the main thread; a driver thread runs the checks one
 * after the other, each host command submitted on the reactor's thread by a
 * message and waited for with a semaphore.
 *
 * Usage: storage_test <nvtcpd> <nvtcp>. One line per passed check; exit 0
 * pass, 1 fail, 77 when nvtcpd is missing.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nvtcp/event.h"
#include "nvtcp/nvme.h"
#include "nvtcp/thread.h"

#define SUBNQN	   "nqn.2016-06.io.nvtcp:storage-test"
#define MIB	   (1024u * 1024u)
#define FILE_SIZE  (64ull * MIB)
#define GROWN_SIZE (96ull * MIB)
#define RO_SIZE	   (1ull * MIB)
#define MDTS	   (128u * 1024u)
#define DEPTH	   32u
#define BUF_SIZE   (2u * MIB)
#define ITERS	   8u
#define PARALLEL   16u
#define WAIT_S	   30
#define OUT_LEN	   8192

extern char **environ;

/* A namespace under test and its backing. */
struct ns_info {
	const char *bdev;
	const char *method;
	uint32_t nsid;
	/* The block_size of the create method (0: the backing's). */
	uint32_t asked_bs;
	/* The block size the namespace must have. */
	uint32_t block_size;
	uint64_t size;
	bool read_only;
	bool file;
	bool present;
	/* The file; for the loop namespace its loop device's backing file. */
	char image[PATH_MAX];
	/* What the bdev opens: the file, or the loop device. */
	char dev[PATH_MAX];
};

enum {
	NS_FILE,
	NS_FILE4K,
	NS_RO,
	NS_LOOP,
	NUM_NS
};

static struct ns_info g_ns[NUM_NS] = {
	{ "File0", "bdev_uring_create", 1, 512, 512, FILE_SIZE, false, true },
	{ "File4k", "bdev_uring_create", 2, 4096, 4096, FILE_SIZE, false, true },
	/* A file's default block: 512. */
	{ "RO0", "bdev_aio_create", 3, 0, 512, RO_SIZE, true, true },
	/* The device's logical block size, read once it is attached. */
	{ "Loop0", "bdev_uring_create", 4, 0, 0, FILE_SIZE, false, false },
};

/* One host command and its outcome. */
enum op_kind {
	OP_READ,
	OP_WRITE,
	OP_FLUSH,
	OP_WRITE_ZEROES,
	OP_DEALLOCATE,
	OP_ADMIN,
};

struct call;

struct op {
	enum op_kind kind;
	uint32_t nsid;
	uint64_t slba;
	uint32_t nlb;
	uint32_t io_flags;
	void *buf;
	/* OP_ADMIN: the command and its data length. */
	struct nvt_nvme_cmd cmd;
	uint32_t len;
	const struct nvt_nvme_dsm_range *ranges;
	uint16_t nr;
	/* -errno of the submission, or the status word (phase bit cleared). */
	int status;
	uint32_t cdw0;
	struct call *call;
};

/* Work for the reactor's thread: \p fn runs there; the driver waits for \p done. */
struct call {
	nvt_msg_fn fn;
	sem_t done;
	struct op *ops;
	uint32_t nops;
	uint32_t pending;
	int rc;
};

static const char *g_nvtcpd;
static const char *g_cli;
static char g_dir[PATH_MAX];
static char g_sock[PATH_MAX];
static char g_loop_dev[64];
static int g_port;
static pid_t g_pid = -1;
static uint32_t g_passed;
static uint32_t g_failed;
static uint64_t g_seed;
static pthread_t g_driver;
static bool g_driver_started;
static struct nvt_thread *g_app_thread;
static struct nvt_nvme_ctrlr *g_ctrlr;
static struct nvt_nvme_poll_group *g_group;
static struct nvt_nvme_qpair *g_qpair;
static uint8_t *g_wbuf;
static uint8_t *g_rbuf;
static uint8_t *g_fbuf;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(ok ? "ok: " : "FAIL: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
	if (ok) {
		g_passed++;
	} else {
		g_failed++;
	}
}

/* ---- data ---- */

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
rand_below(uint64_t n)
{
	return splitmix(&g_seed) % n;
}

/* \p len bytes of data no other call gives (a fresh stream each time). */
static void
pattern_fill(uint8_t *buf, size_t len)
{
	uint64_t s = splitmix(&g_seed), v;
	size_t i;

	for (i = 0; i < len; i += sizeof(v)) {
		v = splitmix(&s);
		memcpy(buf + i, &v, len - i < sizeof(v) ? len - i : sizeof(v));
	}
}

/* Whether the backing holds \p len bytes of \p want at \p offset (read past the target). */
static bool
backing_holds(const struct ns_info *ns, uint64_t offset, const uint8_t *want, size_t len)
{
	int fd = open(ns->dev, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && pread(fd, g_fbuf, len, (off_t)offset) == (ssize_t)len &&
		  memcmp(g_fbuf, want, len) == 0;

	if (fd >= 0) {
		close(fd);
	}
	return ok;
}

/* ---- commands on the reactor's thread ---- */

static void
op_done(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct op *op = arg;

	op->status = cpl->status & (uint16_t)~NVT_NVME_STATUS_P;
	op->cdw0 = cpl->cdw0;
	if (--op->call->pending == 0) {
		sem_post(&op->call->done);
	}
}

static int
op_submit(struct op *op)
{
	switch (op->kind) {
	case OP_READ:
		return nvt_nvme_ns_cmd_read(g_qpair, op->nsid, op->buf, op->slba, op->nlb, op_done,
					    op);
	case OP_WRITE:
		return nvt_nvme_ns_cmd_write_flags(g_qpair, op->nsid, op->buf, op->slba, op->nlb,
						   op->io_flags, op_done, op);
	case OP_FLUSH:
		return nvt_nvme_ns_cmd_flush(g_qpair, op->nsid, op_done, op);
	case OP_WRITE_ZEROES:
		return nvt_nvme_ns_cmd_write_zeroes(g_qpair, op->nsid, op->slba, op->nlb, op_done,
						    op);
	case OP_DEALLOCATE:
		return nvt_nvme_ns_cmd_deallocate(g_qpair, op->nsid, op->ranges, op->nr, op_done,
						  op);
	case OP_ADMIN:
		return nvt_nvme_ctrlr_cmd_admin(g_ctrlr, &op->cmd, op->buf, op->len, op_done, op);
	}
	return -EINVAL;
}

/* Submit every op of the call; the call is done once each completed or failed to submit. */
static void
ops_submit_msg(void *arg)
{
	struct call *c = arg;
	uint32_t i;
	int rc;

	/* One count held across the loop: the call cannot end while ops are submitted. */
	c->pending = c->nops + 1;
	for (i = 0; i < c->nops; i++) {
		c->ops[i].call = c;
		rc = op_submit(&c->ops[i]);
		if (rc != 0) {
			c->ops[i].status = rc;
			c->pending--;
		}
	}
	if (--c->pending == 0) {
		sem_post(&c->done);
	}
}

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
call_start(struct call *c)
{
	sem_init(&c->done, 0, 0);
	if (nvt_thread_send_msg(g_app_thread, c->fn, c) != 0) {
		fatal("cannot send a message to the reactor");
	}
}

/* Wait for \p c; false when it did not end within \p seconds. */
static bool
call_wait(struct call *c, int seconds)
{
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	while ((rc = sem_timedwait(&c->done, &ts)) != 0 && errno == EINTR) {
	}
	return rc == 0;
}

static void
call_run(struct call *c, const char *what)
{
	call_start(c);
	if (!call_wait(c, WAIT_S)) {
		fatal("%s: no answer within %d s", what, WAIT_S);
	}
	sem_destroy(&c->done);
}

/* Run \p n ops at once; the status of the first (or -EINVAL for none). */
static int
ops_run(struct op *ops, uint32_t n)
{
	struct call c = { .fn = ops_submit_msg, .ops = ops, .nops = n };

	call_run(&c, "host commands");
	return n > 0 ? ops[0].status : -EINVAL;
}

static int
io(enum op_kind kind, const struct ns_info *ns, uint64_t slba, uint32_t nlb, void *buf,
   uint32_t io_flags)
{
	struct op op = { .kind = kind,
			 .nsid = ns->nsid,
			 .slba = slba,
			 .nlb = nlb,
			 .buf = buf,
			 .io_flags = io_flags };

	return ops_run(&op, 1);
}

static int
deallocate(const struct ns_info *ns, const struct nvt_nvme_dsm_range *ranges, uint16_t nr)
{
	struct op op = { .kind = OP_DEALLOCATE, .nsid = ns->nsid, .ranges = ranges, .nr = nr };

	return ops_run(&op, 1);
}

static int
admin(const struct nvt_nvme_cmd *cmd, void *buf, uint32_t len, uint32_t *cdw0)
{
	struct op op = { .kind = OP_ADMIN, .cmd = *cmd, .buf = buf, .len = len };
	int status = ops_run(&op, 1);

	if (cdw0 != NULL) {
		*cdw0 = op.cdw0;
	}
	return status;
}

/* Identify Namespace, asked now (lib/nvme keeps the data of connect time). */
static int
identify_ns(uint32_t nsid, struct nvt_nvme_id_ns *data)
{
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_IDENTIFY,
				    .nsid = nsid,
				    .cdw10 = NVT_NVME_CNS_NS };

	memset(data, 0, sizeof(*data));
	return admin(&cmd, data, sizeof(*data), NULL);
}

static bool
status_is(int status, uint8_t sct, uint8_t sc)
{
	return status > 0 && nvt_nvme_status_sct((uint16_t)status) == sct &&
	       nvt_nvme_status_sc((uint16_t)status) == sc;
}

static const char *
status_str(int status, char *buf, size_t len)
{
	if (status < 0) {
		snprintf(buf, len, "submit: %s", strerror(-status));
		return buf;
	}
	return nvt_nvme_status_fmt((uint16_t)status, buf, len);
}

/* ---- host set-up and tear-down ---- */

static void
qpair_connected(void *arg, struct nvt_nvme_qpair *qpair, int rc, uint16_t status)
{
	struct call *c = arg;

	(void)status;
	g_qpair = qpair;
	c->rc = rc;
	sem_post(&c->done);
}

static void
ctrlr_connected(void *arg, struct nvt_nvme_ctrlr *ctrlr, int rc, uint16_t status)
{
	struct call *c = arg;

	(void)status;
	g_ctrlr = ctrlr;
	g_group = rc == 0 ? nvt_nvme_poll_group_create() : NULL;
	if (rc == 0) {
		rc = g_group == NULL ? -ENOMEM
				     : nvt_nvme_ctrlr_connect_io_qpair(ctrlr, g_group, DEPTH,
								       qpair_connected, c);
	}
	if (rc != 0) {
		c->rc = rc;
		sem_post(&c->done);
	}
}

static void
connect_msg(void *arg)
{
	struct call *c = arg;
	struct nvt_nvme_ctrlr_opts o;
	struct nvt_nvme_trid trid;
	char str[256], err[128];

	snprintf(str, sizeof(str), "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d subnqn:%s",
		 g_port, SUBNQN);
	nvt_nvme_ctrlr_get_default_opts(&o, sizeof(o));
	c->rc = nvt_nvme_trid_parse(&trid, str, err, sizeof(err));
	if (c->rc == 0) {
		c->rc = nvt_nvme_ctrlr_connect(&trid, &o, ctrlr_connected, c);
	}
	if (c->rc != 0) {
		sem_post(&c->done);
	}
}

static void
detached(void *arg)
{
	sem_post(&((struct call *)arg)->done);
}

static void
disconnect_msg(void *arg)
{
	struct call *c = arg;

	if (g_qpair != NULL) {
		nvt_nvme_qpair_disconnect(&g_qpair);
	}
	if (g_group != NULL) {
		c->rc = nvt_nvme_poll_group_destroy(&g_group);
	}
	if (g_ctrlr != NULL) {
		nvt_nvme_ctrlr_detach(&g_ctrlr, detached, c);
	} else {
		detached(c);
	}
}

/* ---- processes: the CLI, losetup, nvtcpd ---- */

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

/* The CLI: METHOD then key=value arguments, NULL-terminated; its exit status. */
static int cli(char *out, size_t outlen, const char *method, ...) __attribute__((sentinel));

static int
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

/* driver_specific.uring.direct of bdev \p name from bdev_get_bdevs. */
static bool
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

/* \p buf: \p name in the test's directory; false when it does not fit. */
static bool
dir_path(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", g_dir, name);

	return n > 0 && (size_t)n < len;
}

static void
dir_remove(void)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(g_dir);

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    dir_path(path, sizeof(path), e->d_name)) {
			unlink(path);
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	rmdir(g_dir);
}

static int
daemon_stop(void)
{
	int status;

	if (g_pid <= 0) {
		return -1;
	}
	kill(g_pid, SIGTERM);
	if (waitpid(g_pid, &status, 0) != g_pid) {
		return -1;
	}
	g_pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void
cleanup(void)
{
	if (g_pid > 0) {
		kill(g_pid, SIGKILL);
		waitpid(g_pid, NULL, 0);
		g_pid = -1;
	}
	loop_detach();
	if (g_dir[0] != '\0') {
		dir_remove();
	}
}

/* Something the test cannot go on from: clean up and exit 1 at once. */
static void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("FAIL: ", stdout);
	vprintf(fmt, ap);
	fputs(" (giving up)\n", stdout);
	va_end(ap);
	fflush(stdout);
	cleanup();
	_exit(1);
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

static int
images_create(void)
{
	struct ns_info *ns;
	char name[64];
	uint32_t i;

	for (i = 0; i < NUM_NS; i++) {
		ns = &g_ns[i];
		snprintf(name, sizeof(name), "%s.img", ns->bdev);
		if (!dir_path(ns->image, sizeof(ns->image), name)) {
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

/* A port nobody listens on now (the kernel's pick for a socket bound to port 0). */
static int
unused_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, len) == 0 &&
		  getsockname(fd, (struct sockaddr *)&sa, &len) == 0;

	if (fd >= 0) {
		close(fd);
	}
	return ok ? ntohs(sa.sin_port) : -1;
}

/* Start nvtcpd and wait until its start-up finished (framework_wait_init answers). */
static bool
daemon_start(void)
{
	char cfg[PATH_MAX], out[OUT_LEN];
	int i;

	if (!dir_path(cfg, sizeof(cfg), "nvtcpd.json") ||
	    !dir_path(g_sock, sizeof(g_sock), "rpc.sock") || config_write(cfg) != 0) {
		return false;
	}
	g_pid = fork();
	if (g_pid == 0) {
		/* Never outlive the test, even when it crashes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(g_nvtcpd, g_nvtcpd, "-c", cfg, "-r", g_sock, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 150 && g_pid > 0; i++) {
		if (waitpid(g_pid, NULL, WNOHANG) != 0) {
			/* It exited (a configuration error, reported on its stderr). */
			g_pid = -1;
			break;
		}
		if (access(g_sock, F_OK) == 0 &&
		    cli(out, sizeof(out), "framework_wait_init", NULL) == 0) {
			return true;
		}
		usleep(100 * 1000);
	}
	return false;
}

/* ---- checks: data ---- */

/*
 * Write \p nlb blocks of fresh data at \p lba (with \p io_flags), read them
 * back and look at the backing; NULL, or what went wrong.
 */
static const char *
write_verify(const struct ns_info *ns, uint64_t lba, uint32_t nlb, uint32_t io_flags)
{
	static char why[256];
	size_t len = (size_t)nlb * ns->block_size;
	char st[64];
	int status;

	pattern_fill(g_wbuf, len);
	status = io(OP_WRITE, ns, lba, nlb, g_wbuf, io_flags);
	if (status != 0) {
		snprintf(why, sizeof(why), "write at %lu: %s", (unsigned long)lba,
			 status_str(status, st, sizeof(st)));
		return why;
	}
	memset(g_rbuf, 0xee, len);
	status = io(OP_READ, ns, lba, nlb, g_rbuf, 0);
	if (status != 0 || memcmp(g_rbuf, g_wbuf, len) != 0) {
		snprintf(why, sizeof(why), "read back at %lu: %s", (unsigned long)lba,
			 status != 0 ? status_str(status, st, sizeof(st)) : "data differs");
		return why;
	}
	if (!backing_holds(ns, lba * ns->block_size, g_wbuf, len)) {
		snprintf(why, sizeof(why), "the backing does not hold the data at byte %lu",
			 (unsigned long)(lba * ns->block_size));
		return why;
	}
	return NULL;
}

static uint64_t
ns_blocks(const struct ns_info *ns)
{
	return ns->size / ns->block_size;
}

static void
check_random_io(const struct ns_info *ns)
{
	static const uint32_t sizes[] = { 512, 4096, 65536, MIB };
	const char *why;
	uint32_t i, j, nlb;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i] < ns->block_size) {
			continue;
		}
		nlb = sizes[i] / ns->block_size;
		why = NULL;
		for (j = 0; j < ITERS && why == NULL; j++) {
			why = write_verify(ns, rand_below(ns_blocks(ns) - nlb + 1), nlb, 0);
		}
		check(why == NULL,
		      "%s: %u random writes of %u B read back equal and stand in %s%s%s", ns->bdev,
		      ITERS, sizes[i], ns->dev, why != NULL ? ": " : "", why != NULL ? why : "");
	}
}

/* PARALLEL writes of 64 KiB at once into slots of their own, then PARALLEL reads. */
static void
check_parallel_io(const struct ns_info *ns)
{
	uint32_t nlb = 65536 / ns->block_size, i;
	uint64_t slot = ns_blocks(ns) / PARALLEL;
	struct op ops[PARALLEL];
	bool ok = true;

	memset(ops, 0, sizeof(ops));
	pattern_fill(g_wbuf, PARALLEL * 65536);
	memset(g_rbuf, 0xee, PARALLEL * 65536);
	for (i = 0; i < PARALLEL; i++) {
		ops[i] = (struct op){ .kind = OP_WRITE,
				      .nsid = ns->nsid,
				      .slba = i * slot + rand_below(slot - nlb + 1),
				      .nlb = nlb,
				      .buf = g_wbuf + i * 65536 };
	}
	ops_run(ops, PARALLEL);
	for (i = 0; i < PARALLEL; i++) {
		ok = ok && ops[i].status == 0;
		ops[i].kind = OP_READ;
		ops[i].buf = g_rbuf + i * 65536;
	}
	ops_run(ops, PARALLEL);
	for (i = 0; i < PARALLEL; i++) {
		ok = ok && ops[i].status == 0;
	}
	check(ok && memcmp(g_rbuf, g_wbuf, PARALLEL * 65536) == 0,
	      "%s: %u concurrent 64 KiB writes, then reads, all equal", ns->bdev, PARALLEL);
}

/* Data put in the backing behind the target's back reads back through it. */
static void
check_read_backing(const struct ns_info *ns)
{
	uint64_t lba = rand_below(ns_blocks(ns) - 64);
	size_t len = 8u * ns->block_size;
	int fd = open(ns->dev, O_WRONLY | O_CLOEXEC), status = -1;
	bool put;

	pattern_fill(g_wbuf, len);
	put = fd >= 0 && pwrite(fd, g_wbuf, len, (off_t)(lba * ns->block_size)) == (ssize_t)len &&
	      fsync(fd) == 0;
	if (fd >= 0) {
		close(fd);
	}
	memset(g_rbuf, 0xee, len);
	if (put) {
		status = io(OP_READ, ns, lba, 8, g_rbuf, 0);
	}
	check(put && status == 0 && memcmp(g_rbuf, g_wbuf, len) == 0,
	      "%s: data written to %s at block %lu reads back", ns->bdev, ns->dev,
	      (unsigned long)lba);
}

static void
check_flush_fua(const struct ns_info *ns)
{
	const char *why;
	char st[64];
	int status = io(OP_FLUSH, ns, 0, 0, NULL, 0);

	check(status == 0, "%s: flush succeeds (%s)", ns->bdev, status_str(status, st, sizeof(st)));
	why = write_verify(ns, rand_below(ns_blocks(ns) - 64), 64 * 512 / ns->block_size,
			   NVT_NVME_IO_FLAG_FUA);
	check(why == NULL, "%s: FUA write of 32 KiB succeeds and reads back%s%s", ns->bdev,
	      why != NULL ? ": " : "", why != NULL ? why : "");
	why = write_verify(ns, ns_blocks(ns) - 1, 1, NVT_NVME_IO_FLAG_FUA);
	check(why == NULL, "%s: FUA write of the last block succeeds and reads back%s%s", ns->bdev,
	      why != NULL ? ": " : "", why != NULL ? why : "");
}

/* Set Features Volatile Write Cache (WCE \p on); the status. */
static int
set_vwc(bool on)
{
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_SET_FEATURES,
				    .cdw10 = NVT_NVME_FEAT_VOLATILE_WRITE_CACHE,
				    .cdw11 = on ? NVT_NVME_FEAT_VWC_WCE : 0 };

	return admin(&cmd, NULL, 0, NULL);
}

/* With the write cache off every write is durable on completion (FUA in the bdev). */
static void
check_vwc_off(const struct ns_info *ns)
{
	struct nvt_nvme_cmd get = { .opc = NVT_NVME_OPC_GET_FEATURES,
				    .cdw10 = NVT_NVME_FEAT_VOLATILE_WRITE_CACHE };
	const struct nvt_nvme_id_ctrl *cd = nvt_nvme_ctrlr_get_data(g_ctrlr);
	const char *why = NULL;
	uint32_t cdw0 = 1;
	int off, got, on;

	check((cd->vwc & NVT_NVME_VWC_PRESENT) != 0,
	      "controller reports a volatile write cache (its backings cache writes)");
	off = set_vwc(false);
	got = admin(&get, NULL, 0, &cdw0);
	if (off == 0) {
		why = write_verify(ns, rand_below(ns_blocks(ns) - 256), 256 * 512 / ns->block_size,
				   0);
	}
	on = set_vwc(true);
	check(off == 0 && got == 0 && cdw0 == 0 && on == 0 && why == NULL,
	      "%s: write cache turned off (Get Features says %u): writes succeed and read back%s%s",
	      ns->bdev, cdw0, why != NULL ? ": " : "", why != NULL ? why : "");
}

/* Fresh data over [lba, lba + nlb); false when it did not go in. */
static bool
region_fill(const struct ns_info *ns, uint64_t lba, uint32_t nlb)
{
	pattern_fill(g_wbuf, (size_t)nlb * ns->block_size);
	return io(OP_WRITE, ns, lba, nlb, g_wbuf, 0) == 0;
}

/*
 * Whether the region region_fill() wrote at \p lba reads back as it was
 * written outside the ranges \p r, and inside them as zeroes (when \p zeroes;
 * else anything). Turns g_wbuf into what was expected.
 */
static bool
region_reads(const struct ns_info *ns, uint64_t lba, uint32_t nlb,
	     const struct nvt_nvme_dsm_range *r, uint32_t nr, bool zeroes)
{
	size_t bs = ns->block_size, len = (size_t)nlb * bs, off;
	uint32_t i;

	memset(g_rbuf, 0xee, len);
	if (io(OP_READ, ns, lba, nlb, g_rbuf, 0) != 0) {
		return false;
	}
	for (i = 0; i < nr; i++) {
		off = (size_t)(r[i].slba - lba) * bs;
		if (zeroes) {
			memset(g_wbuf + off, 0, (size_t)r[i].nlb * bs);
		} else {
			memcpy(g_wbuf + off, g_rbuf + off, (size_t)r[i].nlb * bs);
		}
	}
	return memcmp(g_rbuf, g_wbuf, len) == 0;
}

static void
check_write_zeroes(const struct ns_info *ns)
{
	uint32_t nlb = MIB / ns->block_size;
	uint64_t lba = rand_below(ns_blocks(ns) - nlb);
	struct nvt_nvme_dsm_range r = { .slba = lba + 1, .nlb = nlb - 3 };
	bool filled = region_fill(ns, lba, nlb);
	int status = io(OP_WRITE_ZEROES, ns, r.slba, r.nlb, NULL, 0);
	char st[64];

	check(filled && status == 0 && region_reads(ns, lba, nlb, &r, 1, true),
	      "%s: write zeroes of %u blocks reads back as zeroes, its neighbours intact (%s)",
	      ns->bdev, nlb - 3, status_str(status, st, sizeof(st)));
}

static int64_t
file_blocks(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int64_t)st.st_blocks : -1;
}

/*
 * Deallocate 1 MiB (aligned) and one odd block: on a file both read back as
 * zeroes and the MiB is freed; on a block device (best effort) only the
 * neighbours are checked.
 */
static void
check_deallocate(const struct ns_info *ns)
{
	uint32_t nlb = 2 * MIB / ns->block_size, half = nlb / 2;
	uint64_t lba = rand_below(ns_blocks(ns) / nlb) * nlb;
	struct nvt_nvme_dsm_range r[2] = { { .slba = lba + half, .nlb = half },
					   { .slba = lba + 3, .nlb = 1 } };
	bool filled = region_fill(ns, lba, nlb);
	int64_t before = file_blocks(ns->image), after;
	int status = deallocate(ns, r, 2);
	bool ok;
	char st[64];

	after = file_blocks(ns->image);
	ok = region_reads(ns, lba, nlb, r, 2, ns->file);
	if (ns->file) {
		check(filled && status == 0 && ok,
		      "%s: deallocated blocks read back as zeroes, their neighbours intact (%s)",
		      ns->bdev, status_str(status, st, sizeof(st)));
		check(after >= 0 && after + (int64_t)(MIB / 512) <= before,
		      "%s: deallocate punched a hole: %ld -> %ld sectors allocated", ns->bdev,
		      (long)before, (long)after);
		return;
	}
	check(filled && status == 0 && ok,
	      "%s: deallocate succeeds (best effort), its neighbours intact (%s)", ns->bdev,
	      status_str(status, st, sizeof(st)));
}

static void
check_identify(const struct ns_info *ns, bool read_zeroes)
{
	struct nvt_nvme_id_ns d;
	int status = identify_ns(ns->nsid, &d);
	uint32_t lbads = d.lbaf[nvt_nvme_flbas_index(d.flbas)].lbads;

	check(status == 0 && d.nsze == ns_blocks(ns) && (1u << lbads) == ns->block_size,
	      "%s: Identify Namespace: %lu blocks of %u B", ns->bdev, (unsigned long)d.nsze,
	      1u << lbads);
	check(status == 0 && ((d.dlfeat & 0x7u) == NVT_NVME_DLFEAT_READ_ZEROES) == read_zeroes,
	      "%s: DLFEAT %#x: deallocated blocks %s", ns->bdev, d.dlfeat,
	      read_zeroes ? "read as zeroes" : "not claimed to read as zeroes");
	check(status == 0 && ((d.nsattr & NVT_NVME_NSATTR_WRITE_PROTECTED) != 0) == ns->read_only,
	      "%s: NSATTR %#x: %swrite protected", ns->bdev, d.nsattr, ns->read_only ? "" : "not ");
}

static void
check_writable(const struct ns_info *ns)
{
	check_identify(ns, ns->file);
	check_random_io(ns);
	check_parallel_io(ns);
	check_read_backing(ns);
	check_flush_fua(ns);
	check_write_zeroes(ns);
	check_deallocate(ns);
}

/* ---- checks: read-only ---- */

static bool
is_write_protected(int status)
{
	return status_is(status, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_NAMESPACE_WRITE_PROTECTED);
}

static void
check_read_only(const struct ns_info *ns, const uint8_t *data)
{
	struct nvt_nvme_dsm_range r = { .slba = 0, .nlb = 8 };
	uint32_t nlb = (uint32_t)(ns->size / ns->block_size);
	char st[4][64];
	int status[4];

	check_identify(ns, false);
	memset(g_rbuf, 0xee, ns->size);
	status[0] = io(OP_READ, ns, 0, nlb, g_rbuf, 0);
	check(status[0] == 0 && memcmp(g_rbuf, data, ns->size) == 0,
	      "%s: reads return the file's data", ns->bdev);
	pattern_fill(g_wbuf, 8u * ns->block_size);
	status[0] = io(OP_WRITE, ns, 0, 8, g_wbuf, 0);
	status[1] = io(OP_WRITE, ns, 0, 8, g_wbuf, NVT_NVME_IO_FLAG_FUA);
	status[2] = io(OP_WRITE_ZEROES, ns, 0, 8, NULL, 0);
	status[3] = deallocate(ns, &r, 1);
	check(is_write_protected(status[0]) && is_write_protected(status[1]),
	      "%s: write and FUA write fail: %s; %s", ns->bdev,
	      status_str(status[0], st[0], sizeof(st[0])),
	      status_str(status[1], st[1], sizeof(st[1])));
	check(is_write_protected(status[2]), "%s: write zeroes fails: %s", ns->bdev,
	      status_str(status[2], st[2], sizeof(st[2])));
	check(is_write_protected(status[3]), "%s: deallocate fails: %s", ns->bdev,
	      status_str(status[3], st[3], sizeof(st[3])));
	status[0] = io(OP_FLUSH, ns, 0, 0, NULL, 0);
	check(status[0] == 0, "%s: flush succeeds (%s)", ns->bdev,
	      status_str(status[0], st[0], sizeof(st[0])));
	check(backing_holds(ns, 0, data, ns->size), "%s: the file is unchanged", ns->bdev);
}

/* ---- checks: resize ---- */

/* Static: it completes (aborted) at the disconnect when no event came. */
static struct op g_aer;
static struct call g_aer_call;

/* An Asynchronous Event Request, left outstanding until an event comes. */
static void
aer_start(void)
{
	g_aer = (struct op){ .kind = OP_ADMIN, .cmd.opc = NVT_NVME_OPC_ASYNC_EVENT_REQUEST };
	g_aer_call = (struct call){ .fn = ops_submit_msg, .ops = &g_aer, .nops = 1 };
	call_start(&g_aer_call);
}

/* The Changed Namespace List (log page 04h): its first two entries. */
static int
changed_ns_list(uint32_t nsid[2])
{
	static struct nvt_nvme_changed_ns_list_log log;
	uint32_t numd = sizeof(log) / 4 - 1;
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_GET_LOG_PAGE,
				    .nsid = NVT_NVME_NSID_ALL,
				    .cdw10 = NVT_NVME_LOG_CHANGED_NS_LIST | (numd & 0xffffu) << 16,
				    .cdw11 = numd >> 16 };
	int status;

	memset(&log, 0xff, sizeof(log));
	status = admin(&cmd, &log, sizeof(log), NULL);
	nsid[0] = log.nsid[0];
	nsid[1] = log.nsid[1];
	return status;
}

/* Write one block at \p lba; the status. */
static int
write_block(const struct ns_info *ns, uint64_t lba)
{
	pattern_fill(g_wbuf, ns->block_size);
	return io(OP_WRITE, ns, lba, 1, g_wbuf, 0);
}

static void
check_resize(struct ns_info *ns)
{
	uint64_t old_blocks = ns_blocks(ns), new_blocks = GROWN_SIZE / ns->block_size;
	char out[OUT_LEN], arg[64], st[64];
	struct nvt_nvme_id_ns d;
	uint32_t nsid[2], want;
	int status, rc;
	const char *why;

	status = write_block(ns, old_blocks);
	check(status_is(status, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_LBA_OUT_OF_RANGE),
	      "%s: before the resize, a write at block %lu is out of range (%s)", ns->bdev,
	      (unsigned long)old_blocks, status_str(status, st, sizeof(st)));
	check(truncate(ns->image, (off_t)GROWN_SIZE) == 0, "%s: %s grown to %llu MiB", ns->bdev,
	      ns->image, GROWN_SIZE / MIB);
	snprintf(arg, sizeof(arg), "name=%s", ns->bdev);
	rc = cli(out, sizeof(out), "bdev_uring_rescan", arg, NULL);
	out[strcspn(out, "\n")] = '\0';
	check(rc == 0, "%s: bdev_uring_rescan answers (exit %d) %s", ns->bdev, rc, out);
	ns->size = GROWN_SIZE;
	want = nvt_nvme_aer_cdw0(NVT_NVME_AER_TYPE_NOTICE, NVT_NVME_AER_INFO_NOTICE_NS_ATTR_CHANGED,
				 NVT_NVME_LOG_CHANGED_NS_LIST);
	rc = call_wait(&g_aer_call, 10) ? 0 : -ETIMEDOUT;
	check(rc == 0 && g_aer.status == 0 && g_aer.cdw0 == want,
	      "asynchronous event: namespace attribute changed, log page 04h (cdw0 %#x, %s)",
	      g_aer.cdw0, rc == 0 ? "completed" : "none within 10 s");
	status = changed_ns_list(nsid);
	check(status == 0 && nsid[0] == ns->nsid && nsid[1] == 0,
	      "Changed Namespace List lists nsid %u only (%#x, %#x)", ns->nsid, nsid[0], nsid[1]);
	status = changed_ns_list(nsid);
	check(status == 0 && nsid[0] == 0, "Changed Namespace List is empty once read (%#x)",
	      nsid[0]);
	status = identify_ns(ns->nsid, &d);
	check(status == 0 && d.nsze == new_blocks && d.ncap == new_blocks,
	      "%s: Identify Namespace NSZE %lu after the resize (%lu before)", ns->bdev,
	      (unsigned long)d.nsze, (unsigned long)old_blocks);
	why = write_verify(ns, old_blocks, 8, 0);
	check(why == NULL, "%s: the grown part is written and read back%s%s", ns->bdev,
	      why != NULL ? ": " : "", why != NULL ? why : "");
	why = write_verify(ns, new_blocks - 1, 1, 0);
	status = write_block(ns, new_blocks);
	check(why == NULL && status_is(status, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_LBA_OUT_OF_RANGE),
	      "%s: the new last block is served, the one past it is out of range", ns->bdev);
}

/* ---- checks: refused creation ---- */

static void
check_create_refused(const char *method, const char *name, const char *path, const char *reason)
{
	char out[OUT_LEN], n[64], f[PATH_MAX + 16];
	int rc;

	snprintf(n, sizeof(n), "name=%s", name);
	snprintf(f, sizeof(f), "filename=%s", path);
	rc = cli(out, sizeof(out), method, n, f, NULL);
	out[strcspn(out, "\n")] = '\0';
	check(rc != 0 && strstr(out, path) != NULL && strstr(out, reason) != NULL,
	      "%s over %s refused naming the file: %s", method, path, out);
	rc = cli(out, sizeof(out), "bdev_get_bdevs", n, NULL);
	check(rc != 0, "no bdev %s was left behind", name);
}

static void
check_create_errors(void)
{
	char missing[PATH_MAX], small[PATH_MAX];
	const char *why;
	int fd;

	if (!dir_path(missing, sizeof(missing), "missing.img") ||
	    !dir_path(small, sizeof(small), "small.img")) {
		fatal("paths too long in %s", g_dir);
	}
	fd = open(small, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	check(fd >= 0 && write(fd, "tiny", 4) == 4, "%s: 4 bytes", small);
	if (fd >= 0) {
		close(fd);
	}
	check_create_refused("bdev_uring_create", "Missing0", missing, "No such file");
	check_create_refused("bdev_aio_create", "Missing1", missing, "No such file");
	check_create_refused("bdev_uring_create", "Small0", small, "not one block");
	why = write_verify(&g_ns[NS_FILE], 0, 8, 0);
	check(why == NULL, "%s still serves I/O after the refusals%s%s", g_ns[NS_FILE].bdev,
	      why != NULL ? ": " : "", why != NULL ? why : "");
}

/* ---- the driver ---- */

static void
check_connected(void)
{
	uint32_t want = 0, i;

	for (i = 0; i < NUM_NS; i++) {
		want += g_ns[i].present ? 1 : 0;
	}
	check(nvt_nvme_ctrlr_get_active_ns_count(g_ctrlr) == want,
	      "connected: %u active namespaces", nvt_nvme_ctrlr_get_active_ns_count(g_ctrlr));
}

static void
run_checks(const uint8_t *ro_data)
{
	check_connected();
	check(bdev_direct("File0"), "File0 is served with O_DIRECT (bdev_get_bdevs: direct)");
	aer_start();
	check_writable(&g_ns[NS_FILE]);
	check_writable(&g_ns[NS_FILE4K]);
	if (g_ns[NS_LOOP].present) {
		check_writable(&g_ns[NS_LOOP]);
	}
	check_vwc_off(&g_ns[NS_FILE]);
	check_read_only(&g_ns[NS_RO], ro_data);
	check_resize(&g_ns[NS_FILE]);
	check_create_errors();
	check(bdev_direct("File0"), "File0 still uses O_DIRECT after all this I/O");
}

static void *
driver(void *arg)
{
	struct call c = { .fn = connect_msg };

	call_run(&c, "connect");
	if (c.rc != 0 || g_qpair == NULL) {
		check(false, "connect to 127.0.0.1:%d %s: %s", g_port, SUBNQN, strerror(-c.rc));
	} else {
		run_checks(arg);
	}
	c = (struct call){ .fn = disconnect_msg };
	call_run(&c, "disconnect");
	nvt_app_stop(0);
	return NULL;
}

static void
app_started(void *arg)
{
	g_app_thread = nvt_get_thread();
	g_driver_started = pthread_create(&g_driver, NULL, driver, arg) == 0;
	if (!g_driver_started) {
		check(false, "driver thread could not start");
		nvt_app_stop(1);
	}
}

static int
dir_create(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(g_dir, sizeof(g_dir), "%s/nvtcp-storage-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/var/tmp");
	if (mkdtemp(g_dir) == NULL) {
		g_dir[0] = '\0';
		return -1;
	}
	return 0;
}

/* Prepare the backings and nvtcpd; the data of the read-only file in \p ro_data. */
static void
setup(uint8_t *ro_data)
{
	g_wbuf = aligned_alloc(4096, BUF_SIZE);
	g_rbuf = aligned_alloc(4096, BUF_SIZE);
	g_fbuf = aligned_alloc(4096, BUF_SIZE);
	if (g_wbuf == NULL || g_rbuf == NULL || g_fbuf == NULL || dir_create() != 0 ||
	    images_create() != 0) {
		fatal("cannot set up the backing files in %s: %s", g_dir, strerror(errno));
	}
	/* images_create() left the read-only file's data in g_wbuf. */
	memcpy(ro_data, g_wbuf, RO_SIZE);
	g_port = unused_port();
	if (g_port < 0 || !daemon_start()) {
		fatal("nvtcpd did not start (port %d, socket %s)", g_port, g_sock);
	}
	printf("nvtcpd pid %d on 127.0.0.1:%d, RPC %s, files in %s\n", (int)g_pid, g_port, g_sock,
	       g_dir);
}

int
main(int argc, char **argv)
{
	static uint8_t ro_data[RO_SIZE];
	struct nvt_app_opts opts;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s <nvtcpd> <nvtcp>\n", argv[0]);
		return 2;
	}
	g_nvtcpd = argv[1];
	g_cli = argv[2];
	if (access(g_nvtcpd, X_OK) != 0 || access(g_cli, X_OK) != 0) {
		printf("skip: %s or %s is missing\n", g_nvtcpd, g_cli);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The data and the LBAs follow from the seed: STORAGE_TEST_SEED=N repeats a run. */
	g_seed = getenv("STORAGE_TEST_SEED") != NULL
			 ? strtoull(getenv("STORAGE_TEST_SEED"), NULL, 0)
			 : (uint64_t)time(NULL);
	printf("seed %#lx\n", (unsigned long)g_seed);
	setup(ro_data);
	nvt_app_opts_init(&opts, sizeof(opts));
	opts.name = "storage_test";
	rc = nvt_app_start(&opts, app_started, ro_data);
	nvt_app_fini();
	if (g_driver_started) {
		pthread_join(g_driver, NULL);
	}
	rc = daemon_stop();
	check(rc == 0, "nvtcpd exits with status 0 on SIGTERM (%d)", rc);
	cleanup();
	free(g_wbuf);
	free(g_rbuf);
	free(g_fbuf);
	printf("%u passed, %u failed\n", g_passed, g_failed);
	return g_failed == 0 ? 0 : 1;
}
