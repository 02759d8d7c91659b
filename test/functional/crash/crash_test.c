/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crash safety of nvtcpd's write path. Starts nvtcpd (argv) on a sparse
 * 64 MiB file through bdev_uring_create (fixed UUID, block size 512 or 4096
 * by the seed), saves its configuration with save_config (the nvtcp CLI,
 * argv) and then, for each of KILLS rounds: writes through lib/nvme from 4
 * I/O queues of depth 8, kills nvtcpd with SIGKILL at a random moment while
 * commands are in flight, restarts it from the saved configuration,
 * reconnects and reads every block back.
 *
 * Every written block carries (magic, LBA, generation, run id) and a CRC32C;
 * a write covers 1 to 8 blocks and no two writes of one LBA are in flight
 * at once. Mixed in: FUA writes and Flushes. By NVMe's rules a write is
 * durable when it was acknowledged with FUA, or when its acknowledgement came
 * before the submission of a Flush that was acknowledged. After a restart,
 * each block must hold its newest durable write, or a write submitted after
 * that one (acknowledged or not: it may have landed); zeroes only where no
 * write is durable; never a bad checksum, another LBA's block or a
 * generation never submitted for it (crash_model.h). The first bad blocks
 * are printed with what they may hold and what they hold; exit 1. After
 * each check and a Flush, what was read is the durable state.
 *
 * Writes stay inside groups of 16 blocks, and every 16th group is never
 * written (stray writes show there as non-zero blocks); half of the writes go
 * to the first 15 groups, so blocks are rewritten while older versions are in
 * flight or unflushed. The kill waits for a moment
 * with I/O in flight, for a Flush or for a FUA write in flight (by the seed).
 *
 * What this tests: SIGKILL ends the daemon, not the kernel: the page cache
 * keeps every write the kernel took. So this checks nvtcpd's ordering and
 * acknowledgements (never an ack of a write or a Flush before the kernel has
 * the data; nothing lost or torn across a restart), not power loss.
 *
 * Usage: crash_test [-k KILLS] [-s SEED] NVTCPD NVTCP. KILLS defaults to
 * NVT_CRASH_KILLS or 6; SEED to NVT_CRASH_SEED or the clock (printed). A
 * seed fixes the block size, the run id and each round's kill delay and
 * trigger; the I/O mix follows completion order, so it varies from run to run.
 * NVT_CRASH_KEEP=1 keeps the temporary directory. Exit 0 pass, 1 fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nvtcp/event.h"
#include "nvtcp/nvme.h"
#include "nvtcp/thread.h"
#include "nvtcp/ticks.h"

#include "crash_model.h"

#define SUBNQN		"nqn.2016-06.io.nvtcp:crash-test"
#define NS_UUID		"3c1f5e2a-7b4d-4c8e-9f10-2a6b8d4e0c31"
#define FILE_BYTES	(64ull << 20)
#define NUM_QPAIRS	4u
#define QDEPTH		8u
#define MAX_NLB		8u
#define READ_BYTES	65536u
#define GROUP_BLOCKS	16u
#define HOLE_EVERY	16u /* group n is never written when n % HOLE_EVERY is the last */
#define HOT_GROUPS	(HOLE_EVERY - 1)
#define FUA_PCT		15u
#define FLUSH_PCT	4u
#define KILL_MIN_MS	20u
#define KILL_SPREAD_MS	700u
#define KILL_GRACE_MS	300u /* a trigger not met by then: kill with whatever is in flight */
#define DRAIN_S		20u
#define START_S		60
#define DEFAULT_KILLS	6u
#define MAX_BAD_PRINTED 8u

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

enum phase {
	PH_CONNECT,
	PH_VERIFY,
	PH_SETTLE,
	PH_WRITE,
	PH_DRAIN, /* nvtcpd killed: waiting for every command to complete or fail */
};

enum op {
	OP_NONE,
	OP_READ,
	OP_WRITE,
	OP_FLUSH,
};

enum trigger {
	TRIG_ANY,
	TRIG_FLUSH,
	TRIG_FUA,
	NUM_TRIGGERS,
};

static const char *const g_trigger_names[NUM_TRIGGERS] = { "any I/O", "a Flush", "a FUA write" };

/* One command id of a queue, and what it carries. */
struct slot {
	uint32_t q;
	uint8_t *buf;
	enum op op;
	uint64_t lba;
	uint32_t nlb;
	uint64_t gen;
	uint64_t covers;
	bool fua;
};

struct round_stats {
	uint64_t writes;
	uint64_t fua;
	uint64_t flushes;
	uint64_t cut_blocks;
	uint32_t kill_ms;
	uint32_t kill_writes;
	uint32_t kill_blocks;
	uint32_t kill_fua;
	uint32_t kill_flushes;
	uint64_t zeroes;
	uint64_t landed;
	uint64_t bad;
};

struct daemon {
	const char *exe;
	const char *cli;
	pid_t pid;
	int out;
	int port;
	char mask[8];
	cpu_set_t cpus;
	char dir[80];
	char file[96];
	char cfg[96];
	char saved[96];
	char sock[96];
};

static struct {
	uint32_t kills;
	uint64_t seed;
	uint64_t rng;
	uint32_t block_size;
	uint64_t nblocks;
	struct cm_model model;
	struct daemon d;
	struct nvt_nvme_ctrlr *ctrlr;
	struct nvt_nvme_poll_group *group;
	struct nvt_nvme_qpair *qpairs[NUM_QPAIRS];
	uint32_t connected;
	struct slot slots[NUM_QPAIRS][QDEPTH];
	enum phase phase;
	uint32_t round;
	uint32_t outstanding;
	uint32_t flushes_out;
	uint32_t fua_out;
	uint64_t cursor;
	struct nvt_poller *kill_poller;
	struct nvt_poller *drain_poller;
	uint64_t write_t0;
	uint64_t kill_at;
	enum trigger trigger;
	struct round_stats st;
	uint64_t t0;
} g;

static void round_start(void);
static void write_next(struct slot *s);

/* ---- helpers ---- */

static uint64_t
rnd(uint64_t n)
{
	return cm_mix64(&g.rng) % n;
}

static uint64_t
ms_since(uint64_t ticks)
{
	return nvt_ticks_to_us(nvt_get_ticks() - ticks) / 1000;
}

static void
cleanup(void)
{
	const char *keep = getenv("NVT_CRASH_KEEP");

	if (keep != NULL && strcmp(keep, "1") == 0) {
		fprintf(stderr, "crash_test: kept %s\n", g.d.dir);
		return;
	}
	unlink(g.d.file);
	unlink(g.d.cfg);
	unlink(g.d.saved);
	unlink(g.d.sock);
	rmdir(g.d.dir);
}

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Report, kill nvtcpd, clean up and exit 1 at once: nothing of the run is worth finishing. */
static void
fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr,
		"\nFAIL crash_test round %u, seed %" PRIu64 " (NVT_CRASH_SEED=%" PRIu64
		" to rerun)\n",
		g.round, g.seed, g.seed);
	if (g.d.pid > 0) {
		kill(g.d.pid, SIGKILL);
		waitpid(g.d.pid, NULL, 0);
	}
	cleanup();
	_exit(1);
}

/* ---- nvtcpd ---- */

static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, len) == 0 &&
		 getsockname(fd, (struct sockaddr *)&sa, &len) == 0;

	if (fd >= 0) {
		close(fd);
	}
	return ok ? ntohs(sa.sin_port) : -1;
}

/*
 * Two reactors where the test may use CPUs 0 and 1: Flushes and writes then
 * meet on two rings. Taken before our reactor pins itself; nvtcpd gets it back.
 */
static void
daemon_pick_mask(void)
{
	g.d.mask[0] = '\0';
	if (sched_getaffinity(0, sizeof(g.d.cpus), &g.d.cpus) == 0 && CPU_ISSET(0, &g.d.cpus) &&
	    CPU_ISSET(1, &g.d.cpus)) {
		snprintf(g.d.mask, sizeof(g.d.mask), "0x3");
	}
}

static int
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL) {
		return -1;
	}
	rc = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) != 0 ? -1 : rc;
}

/* The temporary directory, the sparse backing file and the first configuration. */
static void
daemon_prepare(void)
{
	const char *tmp = getenv("TMPDIR");
	char text[4096];
	int fd;

	snprintf(g.d.dir, sizeof(g.d.dir), "%s/nvtcp-crash-XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(g.d.dir) == NULL) {
		fatal("mkdtemp %s: %s", g.d.dir, strerror(errno));
	}
	snprintf(g.d.file, sizeof(g.d.file), "%s/backing.img", g.d.dir);
	snprintf(g.d.cfg, sizeof(g.d.cfg), "%s/config.json", g.d.dir);
	snprintf(g.d.saved, sizeof(g.d.saved), "%s/saved.json", g.d.dir);
	snprintf(g.d.sock, sizeof(g.d.sock), "%s/rpc.sock", g.d.dir);
	fd = open(g.d.file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)FILE_BYTES) != 0) {
		fatal("backing file %s: %s", g.d.file, strerror(errno));
	}
	close(fd);
	g.d.port = free_port();
	snprintf(text, sizeof(text), g_config, g.d.file, g.block_size, NS_UUID, SUBNQN, SUBNQN,
		 SUBNQN, g.d.port);
	if (g.d.port < 0 || write_text(g.d.cfg, text) != 0) {
		fatal("configuration %s: %s", g.d.cfg, strerror(errno));
	}
	daemon_pick_mask();
}

/* Wait for the banner's "listening on": the listener is up. Echoes what nvtcpd printed. */
static int
daemon_wait_banner(void)
{
	char buf[4096];
	size_t len = 0;
	uint64_t t0 = nvt_get_ticks();
	struct pollfd pfd = { .fd = g.d.out, .events = POLLIN };
	ssize_t n;

	buf[0] = '\0';
	while (strstr(buf, "listening on") == NULL && len < sizeof(buf) - 1) {
		if (ms_since(t0) > START_S * 1000 || poll(&pfd, 1, 100) < 0) {
			return -ETIMEDOUT;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP))) {
			continue;
		}
		n = read(g.d.out, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0) {
			/* nvtcpd exited before it listened. */
			return -EPIPE;
		}
		len += (size_t)n;
		buf[len] = '\0';
	}
	fputs(buf, stderr);
	return strstr(buf, "listening on") != NULL ? 0 : -EPROTO;
}

/* Start nvtcpd from \p cfg; its stdout comes to us through a pipe (the banner). */
static void
daemon_start(const char *cfg)
{
	char *argv[] = { (char *)g.d.exe, "-c", (char *)cfg, "-r", g.d.sock, "-m", g.d.mask, NULL };
	int p[2], rc;

	if (g.d.mask[0] == '\0') {
		argv[5] = NULL;
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		fatal("pipe: %s", strerror(errno));
	}
	g.d.pid = fork();
	if (g.d.pid == 0) {
		/* Never outlive the test, even when it crashes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sched_setaffinity(0, sizeof(g.d.cpus), &g.d.cpus);
		dup2(p[1], STDOUT_FILENO);
		execv(g.d.exe, argv);
		_exit(127);
	}
	close(p[1]);
	g.d.out = p[0];
	rc = g.d.pid < 0 ? -errno : daemon_wait_banner();
	if (rc != 0) {
		fatal("nvtcpd -c %s did not start listening: %s", cfg, strerror(-rc));
	}
}

static void
file_read(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f != NULL ? fread(buf, 1, len - 1, f) : 0;

	buf[n] = '\0';
	if (f != NULL) {
		fclose(f);
	}
}

/* save_config through the nvtcp CLI into the file every restart loads. */
static void
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
	file_read(g.d.saved, text, sizeof(text));
	if (strstr(text, "\"bdev_uring_create\"") == NULL || strstr(text, NS_UUID) == NULL ||
	    strstr(text, g.d.file) == NULL) {
		fatal("save_config lacks the uring bdev, its UUID or its file:\n%s", text);
	}
	fprintf(stderr, "crash_test: saved the configuration to %s (%zu bytes)\n", g.d.saved,
		strlen(text));
}

static const char *
status_str(int status, char *buf, size_t len)
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

/* Reap nvtcpd, which must have died of our \p sig and nothing else, or exited 0. */
static void
daemon_reap(int sig)
{
	char why[64];
	int status = 0;
	bool ok;

	if (waitpid(g.d.pid, &status, 0) != g.d.pid) {
		fatal("waitpid nvtcpd: %s", strerror(errno));
	}
	ok = sig == SIGKILL ? WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL
			    : WIFEXITED(status) && WEXITSTATUS(status) == 0;
	g.d.pid = 0;
	close(g.d.out);
	if (!ok) {
		fatal("nvtcpd %s (expected %s)", status_str(status, why, sizeof(why)),
		      sig == SIGKILL ? "SIGKILL" : "exit 0 on SIGTERM");
	}
}

/* Why I/O failed while nvtcpd should have been running. */
static const char *
daemon_health(char *buf, size_t len)
{
	int status;

	if (waitpid(g.d.pid, &status, WNOHANG) == g.d.pid) {
		g.d.pid = 0;
		return status_str(status, buf, len);
	}
	snprintf(buf, len, "still running");
	return buf;
}

/* ---- completions ---- */

static void
cpl_fatal(const struct slot *s, const struct nvt_nvme_cpl *cpl)
{
	char st[64], health[64];

	fatal("%s at LBA %" PRIu64 " failed while nvtcpd ran (%s); nvtcpd %s",
	      s->op == OP_READ	  ? "read"
	      : s->op == OP_WRITE ? "write"
				  : "flush",
	      s->lba, nvt_nvme_status_fmt(cpl->status, st, sizeof(st)),
	      daemon_health(health, sizeof(health)));
}

static void verify_done(void *arg);
static void host_teardown(void *arg);
static void write_start(void *arg);

static void
bad_block(uint64_t lba, const char *why, const struct cm_found *found)
{
	char allowed[512], holds[160];

	if (g.st.bad++ >= MAX_BAD_PRINTED) {
		return;
	}
	cm_fmt_allowed(&g.model, lba, allowed, sizeof(allowed));
	cm_fmt_found(found, holds, sizeof(holds));
	fprintf(stderr, "FAIL: LBA %" PRIu64 ": %s\n  may hold: %s\n  holds:    %s\n", lba, why,
		allowed, holds);
}

static void
read_check(const struct slot *s)
{
	struct cm_found found;
	const char *why;
	uint32_t i;

	for (i = 0; i < s->nlb; i++) {
		why = cm_check_block(&g.model, s->buf + (size_t)i * g.block_size, s->lba + i,
				     &found);
		if (why != NULL) {
			bad_block(s->lba + i, why, &found);
			continue;
		}
		g.st.zeroes += found.zeroes;
		g.st.landed += found.entry != NULL && found.entry->state == CM_FAILED;
	}
}

static bool read_next(struct slot *s);

static void
read_done(struct slot *s, const struct nvt_nvme_cpl *cpl)
{
	if (nvt_nvme_cpl_is_error(cpl)) {
		cpl_fatal(s, cpl);
	}
	read_check(s);
	if (!read_next(s) && g.outstanding == 0) {
		nvt_thread_send_msg(nvt_get_thread(), verify_done, NULL);
	}
}

static void
write_done(struct slot *s, const struct nvt_nvme_cpl *cpl)
{
	g.fua_out -= s->fua;
	if (nvt_nvme_cpl_is_error(cpl)) {
		if (g.phase != PH_DRAIN) {
			cpl_fatal(s, cpl);
		}
		cm_write_failed(&g.model, s->lba, s->nlb, s->gen);
		g.st.cut_blocks += s->nlb;
		return;
	}
	if (cm_write_acked(&g.model, s->lba, s->nlb, s->gen, s->fua) != 0) {
		fatal("out of memory");
	}
	g.st.writes++;
	g.st.fua += s->fua;
}

static void
flush_done(struct slot *s, const struct nvt_nvme_cpl *cpl)
{
	g.flushes_out--;
	if (nvt_nvme_cpl_is_error(cpl)) {
		if (g.phase != PH_DRAIN) {
			cpl_fatal(s, cpl);
		}
		return;
	}
	if (g.phase == PH_SETTLE) {
		/* Every block was read and this Flush came after: what was read is durable. */
		cm_settle(&g.model);
		nvt_thread_send_msg(nvt_get_thread(), write_start, NULL);
		return;
	}
	cm_flush_acked(&g.model, s->covers);
	g.st.flushes++;
}

static void
io_done(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct slot *s = arg;

	g.outstanding--;
	if (s->op == OP_READ) {
		read_done(s, cpl);
		return;
	}
	if (s->op == OP_WRITE) {
		write_done(s, cpl);
	} else {
		flush_done(s, cpl);
	}
	s->op = OP_NONE;
	if (g.phase == PH_WRITE) {
		write_next(s);
	} else if (g.phase == PH_DRAIN && g.outstanding == 0) {
		/* Not from inside the queue's completion path: it is torn down next. */
		nvt_thread_send_msg(nvt_get_thread(), host_teardown, NULL);
	}
}

/* ---- submissions ---- */

static void
submitted(struct slot *s, int rc)
{
	if (rc != 0) {
		fatal("submit on queue %u: %s", s->q, strerror(-rc));
	}
	g.outstanding++;
}

static void
flush_submit(struct slot *s)
{
	s->op = OP_FLUSH;
	s->fua = false;
	s->lba = 0;
	s->covers = cm_flush_submitted(&g.model);
	g.flushes_out++;
	submitted(s, nvt_nvme_ns_cmd_flush(g.qpairs[s->q], 1, io_done, s));
}

static bool
read_next(struct slot *s)
{
	uint64_t nlb = READ_BYTES / g.block_size;

	if (g.cursor >= g.nblocks) {
		s->op = OP_NONE;
		return false;
	}
	s->op = OP_READ;
	s->lba = g.cursor;
	s->nlb = (uint32_t)(nlb < g.nblocks - g.cursor ? nlb : g.nblocks - g.cursor);
	g.cursor += s->nlb;
	submitted(s, nvt_nvme_ns_cmd_read(g.qpairs[s->q], 1, s->buf, s->lba, s->nlb, io_done, s));
	return true;
}

/* A range of free blocks to write, inside one group that is not a hole; false: none found. */
static bool
pick_range(uint64_t *lba, uint32_t *nlb)
{
	uint64_t groups = g.nblocks / GROUP_BLOCKS, grp;
	uint32_t off, n, i;

	for (i = 0; i < 16; i++) {
		grp = rnd(2) == 0 ? rnd(HOT_GROUPS) : rnd(groups);
		if (grp % HOLE_EVERY == HOLE_EVERY - 1) {
			continue;
		}
		off = (uint32_t)rnd(GROUP_BLOCKS);
		n = rnd(2) == 0 ? 1 : 1 + (uint32_t)rnd(MAX_NLB);
		n = n < GROUP_BLOCKS - off ? n : GROUP_BLOCKS - off;
		*lba = grp * GROUP_BLOCKS + off;
		*nlb = n;
		if (!cm_range_busy(&g.model, *lba, n)) {
			return true;
		}
	}
	return false;
}

static void
write_submit(struct slot *s, uint64_t lba, uint32_t nlb)
{
	uint32_t i;

	s->op = OP_WRITE;
	s->lba = lba;
	s->nlb = nlb;
	s->fua = rnd(100) < FUA_PCT;
	s->gen = cm_write_submitted(&g.model, lba, nlb);
	if (s->gen == 0) {
		fatal("out of memory");
	}
	for (i = 0; i < nlb; i++) {
		cm_fill_block(&g.model, s->buf + (size_t)i * g.block_size, lba + i, s->gen);
	}
	g.fua_out += s->fua;
	submitted(s, nvt_nvme_ns_cmd_write_flags(g.qpairs[s->q], 1, s->buf, lba, nlb,
						 s->fua ? NVT_NVME_IO_FLAG_FUA : 0, io_done, s));
}

static void
write_next(struct slot *s)
{
	uint64_t lba;
	uint32_t nlb;

	if (rnd(100) >= FLUSH_PCT && pick_range(&lba, &nlb)) {
		write_submit(s, lba, nlb);
	} else {
		flush_submit(s);
	}
}

/* ---- the kill ---- */

static bool
trigger_met(void)
{
	switch (g.trigger) {
	case TRIG_FLUSH:
		return g.flushes_out > 0;
	case TRIG_FUA:
		return g.fua_out > 0;
	default:
		return true;
	}
}

/* What was in flight when nvtcpd died. */
static void
kill_count_inflight(void)
{
	uint32_t q, i;

	for (q = 0; q < NUM_QPAIRS; q++) {
		for (i = 0; i < QDEPTH; i++) {
			const struct slot *s = &g.slots[q][i];

			g.st.kill_writes += s->op == OP_WRITE;
			g.st.kill_blocks += s->op == OP_WRITE ? s->nlb : 0;
			g.st.kill_fua += s->op == OP_WRITE && s->fua;
			g.st.kill_flushes += s->op == OP_FLUSH;
		}
	}
}

static int
drain_timeout(void *arg)
{
	(void)arg;
	fatal("%u commands still outstanding %u s after the kill", g.outstanding, DRAIN_S);
}

static int
kill_poll(void *arg)
{
	uint64_t now = nvt_get_ticks();

	(void)arg;
	if (now < g.kill_at || g.outstanding == 0) {
		return NVT_POLLER_IDLE;
	}
	if (!trigger_met() && now < g.kill_at + nvt_us_to_ticks(KILL_GRACE_MS * 1000ull)) {
		return NVT_POLLER_IDLE;
	}
	if (kill(g.d.pid, SIGKILL) != 0) {
		fatal("kill nvtcpd: %s", strerror(errno));
	}
	g.phase = PH_DRAIN;
	g.st.kill_ms = (uint32_t)ms_since(g.write_t0);
	kill_count_inflight();
	nvt_poller_unregister(&g.kill_poller);
	g.drain_poller = nvt_poller_register(drain_timeout, NULL, DRAIN_S * 1000000ull, "drain");
	fprintf(stderr,
		"round %u: SIGKILL %u ms into the writes (waiting for %s), in flight: %u "
		"writes of %u blocks (%u FUA), %u flushes\n",
		g.round, g.st.kill_ms, g_trigger_names[g.trigger], g.st.kill_writes,
		g.st.kill_blocks, g.st.kill_fua, g.st.kill_flushes);
	return NVT_POLLER_BUSY;
}

/* ---- phases ---- */

static void
write_start(void *arg)
{
	uint64_t rs;
	uint32_t q, i;

	(void)arg;
	g.phase = PH_WRITE;
	/* From (seed, round) alone: the I/O stream's choices depend on completion order. */
	rs = g.seed ^ (0xa0761d6478bd642full * (g.round + 1));
	g.write_t0 = nvt_get_ticks();
	g.kill_at = g.write_t0 +
		    nvt_us_to_ticks((KILL_MIN_MS + cm_mix64(&rs) % KILL_SPREAD_MS) * 1000ull);
	g.trigger = (enum trigger)(cm_mix64(&rs) % NUM_TRIGGERS);
	g.kill_poller = nvt_poller_register(kill_poll, NULL, 0, "kill");
	if (g.kill_poller == NULL) {
		fatal("out of memory");
	}
	for (q = 0; q < NUM_QPAIRS; q++) {
		for (i = 0; i < QDEPTH; i++) {
			write_next(&g.slots[q][i]);
		}
	}
}

static void
settle_start(void)
{
	g.phase = PH_SETTLE;
	flush_submit(&g.slots[0][0]);
}

static void
verify_start(void)
{
	uint32_t q, i;

	g.phase = PH_VERIFY;
	g.cursor = 0;
	for (q = 0; q < NUM_QPAIRS; q++) {
		for (i = 0; i < QDEPTH; i++) {
			read_next(&g.slots[q][i]);
		}
	}
}

static void
verify_done(void *arg)
{
	(void)arg;
	if (g.st.bad > 0) {
		fatal("%" PRIu64 " of %" PRIu64 " blocks hold what they may not after restart %u",
		      g.st.bad, g.nblocks, g.round);
	}
	fprintf(stderr,
		"round %u: all %" PRIu64 " blocks as allowed (%" PRIu64 " zeroes); %" PRIu64
		" blocks of cut-off writes landed\n",
		g.round, g.nblocks, g.st.zeroes, g.st.landed);
	if (g.round == g.kills) {
		host_teardown(NULL);
		return;
	}
	settle_start();
}

/* ---- the host ---- */

static void
host_detached(void *arg)
{
	(void)arg;
	if (g.round == g.kills) {
		kill(g.d.pid, SIGTERM);
		daemon_reap(SIGTERM);
		nvt_app_stop(0);
		return;
	}
	daemon_reap(SIGKILL);
	fprintf(stderr,
		"round %u: acknowledged %" PRIu64 " writes (%" PRIu64 " FUA), %" PRIu64
		" flushes; %" PRIu64 " blocks of writes cut off\n",
		g.round, g.st.writes, g.st.fua, g.st.flushes, g.st.cut_blocks);
	g.round++;
	round_start();
}

static void
host_teardown(void *arg)
{
	uint32_t q;

	(void)arg;
	nvt_poller_unregister(&g.drain_poller);
	for (q = 0; q < NUM_QPAIRS; q++) {
		if (g.qpairs[q] != NULL) {
			nvt_nvme_qpair_disconnect(&g.qpairs[q]);
		}
	}
	if (g.group != NULL && nvt_nvme_poll_group_destroy(&g.group) != 0) {
		fatal("poll group busy after disconnect");
	}
	nvt_nvme_ctrlr_detach(&g.ctrlr, host_detached, NULL);
}

static void
host_ready(void)
{
	if (g.round > 0) {
		verify_start();
	} else {
		settle_start();
	}
}

static void
qpair_connected(void *arg, struct nvt_nvme_qpair *qpair, int rc, uint16_t status)
{
	char st[64];

	if (rc != 0) {
		fatal("I/O queue connect: %s (%s)", strerror(-rc),
		      nvt_nvme_status_fmt(status, st, sizeof(st)));
	}
	g.qpairs[(uintptr_t)arg] = qpair;
	if (++g.connected == NUM_QPAIRS) {
		host_ready();
	}
}

static void
ns_check(void)
{
	const struct nvt_nvme_id_ns *ns = nvt_nvme_ctrlr_get_ns_data(g.ctrlr, 1);

	if (ns == NULL || ns->nsze != g.nblocks || nvt_nvme_id_ns_block_size(ns) != g.block_size) {
		fatal("namespace 1: %" PRIu64 " blocks of %u bytes, expected %" PRIu64 " of %u",
		      ns != NULL ? ns->nsze : 0, ns != NULL ? nvt_nvme_id_ns_block_size(ns) : 0,
		      g.nblocks, g.block_size);
	}
}

static void
ctrlr_connected(void *arg, struct nvt_nvme_ctrlr *ctrlr, int rc, uint16_t status)
{
	char st[64];
	uintptr_t q;

	(void)arg;
	if (rc != 0) {
		fatal("connect: %s (%s)", strerror(-rc),
		      nvt_nvme_status_fmt(status, st, sizeof(st)));
	}
	g.ctrlr = ctrlr;
	ns_check();
	g.group = nvt_nvme_poll_group_create();
	if (g.group == NULL) {
		fatal("poll group: out of memory");
	}
	g.connected = 0;
	for (q = 0; q < NUM_QPAIRS; q++) {
		rc = nvt_nvme_ctrlr_connect_io_qpair(ctrlr, g.group, QDEPTH, qpair_connected,
						     (void *)q);
		if (rc != 0) {
			fatal("I/O queue %u: %s", (unsigned)q, strerror(-rc));
		}
	}
}

static void
host_connect(void)
{
	struct nvt_nvme_trid trid;
	char str[256], err[128];
	int rc;

	snprintf(str, sizeof(str), "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d subnqn:%s",
		 g.d.port, SUBNQN);
	rc = nvt_nvme_trid_parse(&trid, str, err, sizeof(err));
	if (rc == 0) {
		rc = nvt_nvme_ctrlr_connect(&trid, NULL, ctrlr_connected, NULL);
	}
	if (rc != 0) {
		fatal("connect %s: %s", str, strerror(-rc));
	}
}

static void
round_start(void)
{
	memset(&g.st, 0, sizeof(g.st));
	g.phase = PH_CONNECT;
	fprintf(stderr, "round %u: nvtcpd -c %s (%.1f s)\n", g.round,
		g.round == 0 ? g.d.cfg : g.d.saved, (double)ms_since(g.t0) / 1000);
	daemon_start(g.round == 0 ? g.d.cfg : g.d.saved);
	if (g.round == 0) {
		daemon_save_config();
	}
	host_connect();
}

/* SIGINT or SIGTERM (a timeout, a user): a run cut short is no pass. */
static void
interrupted(void)
{
	fatal("interrupted by a signal");
}

static void
start(void *arg)
{
	(void)arg;
	round_start();
}

/* ---- main ---- */

/* A number from the command line or the environment; a bad one ends the program (usage). */
static uint64_t
parse_u64(const char *what, const char *v)
{
	char *end;
	uint64_t x;

	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno != 0 || *v == '\0' || *end != '\0') {
		fprintf(stderr, "crash_test: bad %s '%s'\n", what, v);
		exit(2);
	}
	return x;
}

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v == NULL || *v == '\0' ? dflt : parse_u64(name, v);
}

static uint64_t
clock_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
}

static int
parse_args(int argc, char **argv)
{
	int ch;

	g.kills = (uint32_t)env_u64("NVT_CRASH_KILLS", DEFAULT_KILLS);
	g.seed = env_u64("NVT_CRASH_SEED", clock_seed());
	while ((ch = getopt(argc, argv, "k:s:")) != -1) {
		switch (ch) {
		case 'k':
			g.kills = (uint32_t)parse_u64("-k", optarg);
			break;
		case 's':
			g.seed = parse_u64("-s", optarg);
			break;
		default:
			return -1;
		}
	}
	if (argc - optind != 2 || g.kills == 0) {
		return -1;
	}
	g.d.exe = argv[optind];
	g.d.cli = argv[optind + 1];
	return 0;
}

/* The seed decides everything the test chooses: block size, run id, I/O, kill moments. */
static void
setup(void)
{
	uint32_t q, i;

	g.rng = g.seed;
	g.block_size = rnd(2) == 0 ? 512 : 4096;
	g.nblocks = FILE_BYTES / g.block_size;
	if (cm_init(&g.model, g.nblocks, g.block_size, cm_mix64(&g.rng)) != 0) {
		fatal("out of memory");
	}
	for (q = 0; q < NUM_QPAIRS; q++) {
		for (i = 0; i < QDEPTH; i++) {
			g.slots[q][i].q = q;
			g.slots[q][i].buf = aligned_alloc(4096, READ_BYTES);
			if (g.slots[q][i].buf == NULL) {
				fatal("out of memory");
			}
		}
	}
	daemon_prepare();
}

static void
teardown(void)
{
	uint32_t q, i;

	for (q = 0; q < NUM_QPAIRS; q++) {
		for (i = 0; i < QDEPTH; i++) {
			free(g.slots[q][i].buf);
		}
	}
	cm_fini(&g.model);
	cleanup();
}

int
main(int argc, char **argv)
{
	struct nvt_app_opts opts;
	int rc;

	if (parse_args(argc, argv) != 0) {
		fprintf(stderr, "usage: %s [-k KILLS] [-s SEED] NVTCPD NVTCP\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setup();
	fprintf(stderr,
		"crash_test: seed %" PRIu64 " (NVT_CRASH_SEED=%" PRIu64 " to rerun), %u kills, "
		"%" PRIu64 " blocks of %u bytes, %s, nvtcpd -m %s\n",
		g.seed, g.seed, g.kills, g.nblocks, g.block_size, g.d.dir,
		g.d.mask[0] != '\0' ? g.d.mask : "(default)");
	nvt_app_opts_init(&opts, sizeof(opts));
	opts.name = "crash_test";
	opts.shutdown_cb = interrupted;
	g.t0 = nvt_get_ticks();
	rc = nvt_app_start(&opts, start, NULL);
	nvt_app_fini();
	fprintf(stderr, "%s: %u kills in %.1f s, seed %" PRIu64 "\n", rc == 0 ? "PASS" : "FAIL",
		g.kills, (double)ms_since(g.t0) / 1000, g.seed);
	teardown();
	return rc == 0 ? 0 : 1;
}
