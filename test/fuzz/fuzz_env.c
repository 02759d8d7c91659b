/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The harnesses' environment: threads polled by hand, the virtual clock,
 * synchronous RPC and configuration loads, the target of the stream and
 * command harnesses, and the check that a run left it idle.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvtcp/auth.h"
#include "nvtcp/bdev.h"
#include "nvtcp/jsonrpc.h"
#include "nvtcp/log.h"
#include "nvtcp/nvmf.h"
#include "nvtcp/thread.h"
#include "nvtcp/ticks.h"

#include "fuzz_env.h"

#define FUZZ_MAX_THREADS 16
/* Busy polls in a row after which the target counts as spinning for ever. */
#define FUZZ_BUSY_LIMIT 1000000u
#define NS_PER_US	1000ull

/*
 * Sanitizer defaults (the environment's ASAN_OPTIONS/UBSAN_OPTIONS add to
 * them): an allocation larger than a real machine would grant fails as
 * it would there (NULL) instead of ending the run, since RPC parameters
 * size some allocations; undefined behaviour is a crash, not a line of log.
 */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1:max_allocation_size_mb=1024";
}

const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

/* ---- the virtual clock ---- */

/*
 * These replace lib/util/ticks.c in the harnesses (the linker takes them
 * first, so ticks.o is never pulled from the archive): pollers, keep alive
 * and deadlines see only the time the harness gives them.
 */
static uint64_t g_ticks = 1000000000ull;

uint64_t
nvt_get_ticks(void)
{
	return g_ticks;
}

uint64_t
nvt_get_ticks_hz(void)
{
	return 1000000000ull;
}

uint64_t
nvt_us_to_ticks(uint64_t us)
{
	return us > UINT64_MAX / NS_PER_US ? UINT64_MAX : us * NS_PER_US;
}

uint64_t
nvt_ticks_to_us(uint64_t ticks)
{
	return ticks / NS_PER_US;
}

uint64_t
nvt_ticks_to_ns(uint64_t ticks)
{
	return ticks;
}

uint64_t
fuzz_env_now_us(void)
{
	return nvt_ticks_to_us(g_ticks);
}

/* ---- threads ---- */

static void tgt_opts_reset(void);

static struct nvt_thread *g_threads[FUZZ_MAX_THREADS];
static struct nvt_thread *g_app;
static bool g_env_ready;

/* The scheduler hook: every new thread is polled by fuzz_env_poll(). */
static int
fuzz_thread_op(struct nvt_thread *thread, enum nvt_thread_op op)
{
	int i;

	if (op != NVT_THREAD_OP_NEW) {
		return 0;
	}
	for (i = 0; i < FUZZ_MAX_THREADS; i++) {
		if (g_threads[i] == NULL) {
			g_threads[i] = thread;
			return 0;
		}
	}
	return -ENOMEM;
}

void
fuzz_env_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

void
fuzz_env_init(void)
{
	const char *log = getenv("NVT_FUZZ_LOG");

	if (g_env_ready) {
		return;
	}
	/* A malformed input is logged by the target: thousands of lines a second. */
	nvt_log_set_level(log != NULL && log[0] == '1' ? NVT_LOG_NOTICE : NVT_LOG_DISABLED);
	if (nvt_thread_lib_init(fuzz_thread_op, 0) != 0) {
		fuzz_env_fail("thread library init failed");
	}
	g_app = nvt_thread_create("app", NULL);
	if (g_app == NULL) {
		fuzz_env_fail("cannot create the app thread");
	}
	nvt_set_thread(g_app);
	tgt_opts_reset();
	g_env_ready = true;
}

uint32_t
fuzz_env_thread_count(void)
{
	uint32_t i, n = 0;

	for (i = 0; i < FUZZ_MAX_THREADS; i++) {
		n += g_threads[i] != NULL;
	}
	return n;
}

/* One poll of every thread; whether any did work. */
static bool
poll_round(void)
{
	bool busy = false;
	int i;

	for (i = 0; i < FUZZ_MAX_THREADS; i++) {
		if (g_threads[i] == NULL) {
			continue;
		}
		if (nvt_thread_poll(g_threads[i], 0, g_ticks) != 0) {
			busy = true;
		}
		if (nvt_thread_is_exited(g_threads[i])) {
			if (g_threads[i] == g_app) {
				fuzz_env_fail("the app thread exited");
			}
			nvt_thread_destroy(&g_threads[i]);
			busy = true;
		}
	}
	nvt_set_thread(g_app);
	return busy;
}

void
fuzz_env_poll(void)
{
	uint32_t rounds = 0;

	while (poll_round()) {
		if (++rounds == FUZZ_BUSY_LIMIT) {
			fuzz_env_fail("the target never goes idle (%u busy polls in a row)",
				      rounds);
		}
	}
}

void
fuzz_env_advance(uint64_t us)
{
	g_ticks += nvt_us_to_ticks(us);
	fuzz_env_poll();
}

static uint64_t
next_timer(void)
{
	uint64_t next = UINT64_MAX, t;
	int i;

	for (i = 0; i < FUZZ_MAX_THREADS; i++) {
		if (g_threads[i] != NULL) {
			t = nvt_thread_next_poller_expiration(g_threads[i]);
			next = t < next ? t : next;
		}
	}
	return next;
}

bool
fuzz_env_run_until(bool (*cond)(void *ctx), void *ctx, uint64_t max_us)
{
	uint64_t deadline = g_ticks + nvt_us_to_ticks(max_us), next;

	for (;;) {
		fuzz_env_poll();
		if (cond(ctx)) {
			return true;
		}
		if (g_ticks >= deadline) {
			return false;
		}
		next = next_timer();
		next = next < deadline ? next : deadline;
		/* A timer due now already ran in the poll: step past it. */
		g_ticks = next > g_ticks ? next : g_ticks + 1;
	}
}

/* ---- RPC and configuration ---- */

/* Heap-held: an answer that comes after the wait gave up must not hit a dead stack. */
struct rpc_wait {
	bool done;
	char *response;
};

static void
rpc_done(const char *response, void *ctx)
{
	struct rpc_wait *w = ctx;

	w->done = true;
	w->response = response != NULL ? strdup(response) : NULL;
}

static bool
rpc_is_done(void *ctx)
{
	return ((struct rpc_wait *)ctx)->done;
}

char *
fuzz_env_rpc(const char *request, bool *answered)
{
	struct rpc_wait *w = calloc(1, sizeof(*w));
	char *response;

	if (w == NULL) {
		fuzz_env_fail("out of memory");
	}
	nvt_set_thread(g_app);
	nvt_rpc_call(request, rpc_done, w);
	*answered = fuzz_env_run_until(rpc_is_done, w, FUZZ_SETTLE_US);
	if (!*answered) {
		/* Left for the late answer; the caller fails the run anyway. */
		return NULL;
	}
	response = w->response;
	free(w);
	return response;
}

struct load_wait {
	bool done;
	int rc;
};

static void
load_done(int rc, void *ctx)
{
	struct load_wait *w = ctx;

	w->done = true;
	w->rc = rc;
}

static bool
load_is_done(void *ctx)
{
	return ((struct load_wait *)ctx)->done;
}

int
fuzz_env_load_config(const json_t *config)
{
	struct load_wait *w = calloc(1, sizeof(*w));
	int rc;

	if (w == NULL) {
		fuzz_env_fail("out of memory");
	}
	nvt_set_thread(g_app);
	nvt_config_load_json(config, load_done, w);
	if (!fuzz_env_run_until(load_is_done, w, FUZZ_SETTLE_US)) {
		return -ETIMEDOUT;
	}
	rc = w->rc;
	free(w);
	return rc;
}

static json_t *
method(const char *name, json_t *params)
{
	return json_pack("{s:s, s:o}", "method", name, "params", params);
}

json_t *
fuzz_env_target_config(void)
{
	json_t *bdev, *nvmf;

	bdev = json_pack("[o, o]",
			 method("bdev_malloc_create",
				json_pack("{s:s, s:i, s:i, s:s}", "name", "Malloc0", "num_blocks",
					  FUZZ_NS1_BLOCKS, "block_size", FUZZ_NS1_BLOCK_SIZE,
					  "uuid", "f0220000-0000-4000-8000-000000000001")),
			 method("bdev_null_create",
				json_pack("{s:s, s:i, s:i, s:s}", "name", "Null0", "num_blocks",
					  FUZZ_NS2_BLOCKS, "block_size", FUZZ_NS2_BLOCK_SIZE,
					  "uuid", "f0220000-0000-4000-8000-000000000002")));
	nvmf = json_pack(
		"[o, o, o, o, o]",
		method("nvmf_create_transport",
		       json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "trtype", "TCP",
				 "max_queue_depth", FUZZ_QUEUE_DEPTH, "in_capsule_data_size",
				 FUZZ_ICD_SIZE, "max_io_size", FUZZ_MAX_IO_SIZE, "io_unit_size",
				 FUZZ_IO_UNIT_SIZE, "num_shared_buffers", FUZZ_POOL_BUFFERS,
				 "buf_cache_size", FUZZ_BUF_CACHE, "acceptor_poll_rate",
				 FUZZ_ACCEPT_POLL_US)),
		method("nvmf_create_subsystem",
		       json_pack("{s:s, s:s, s:s, s:b}", "nqn", FUZZ_SUBNQN, "serial_number",
				 "NVTCPFUZZ0000000001", "model_number", "nvtcp fuzz",
				 "allow_any_host", 1)),
		method("nvmf_subsystem_add_ns", json_pack("{s:s, s:{s:s}}", "nqn", FUZZ_SUBNQN,
							  "namespace", "bdev_name", "Malloc0")),
		method("nvmf_subsystem_add_ns", json_pack("{s:s, s:{s:s}}", "nqn", FUZZ_SUBNQN,
							  "namespace", "bdev_name", "Null0")),
		method("nvmf_subsystem_add_listener",
		       json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "nqn", FUZZ_SUBNQN,
				 "listen_address", "trtype", "TCP", "adrfam", "IPv4", "traddr",
				 "127.0.0.1", "trsvcid", "4420")));
	return json_pack("{s:[{s:s, s:o}, {s:s, s:o}]}", "subsystems", "subsystem", "bdev",
			 "config", bdev, "subsystem", "nvmf", "config", nvmf);
}

/* ---- what idle looks like ---- */

struct idle_baseline {
	uint32_t threads;
	struct nvt_thread *thread[FUZZ_MAX_THREADS];
	uint32_t pollers[FUZZ_MAX_THREADS];
	uint32_t channels[FUZZ_MAX_THREADS];
	json_int_t cached; /* buffers in every cache, summed */
};

static struct idle_baseline g_idle;

static json_t *
get_stats(void)
{
	char *text = NULL;
	json_t *rsp, *result;
	bool answered;

	text = fuzz_env_rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nvmf_get_stats\"}",
			    &answered);
	rsp = text != NULL ? json_loads(text, 0, NULL) : NULL;
	free(text);
	result = json_incref(json_object_get(rsp, "result"));
	json_decref(rsp);
	if (result == NULL) {
		fuzz_env_fail("nvmf_get_stats gave no result");
	}
	return result;
}

static json_int_t
field(const json_t *obj, const char *name)
{
	return json_integer_value(json_object_get(obj, name));
}

/* What is not idle in the stats, into \p why; the buffers cached in \p cached. */
static bool
stats_idle(const json_t *stats, json_int_t *cached, char *why, size_t len)
{
	static const char *const group_gauges[] = { "qpairs", "current_admin_qpairs",
						    "current_io_qpairs", "pending_bdev_io",
						    "pending_requests" };
	const json_t *g, *t, *io;
	size_t i, j, k;

	*cached = 0;
	json_array_foreach(json_object_get(stats, "poll_groups"), i, g)
	{
		for (k = 0; k < sizeof(group_gauges) / sizeof(group_gauges[0]); k++) {
			if (field(g, group_gauges[k]) != 0) {
				snprintf(why, len, "poll group %zu: %s %lld", i, group_gauges[k],
					 (long long)field(g, group_gauges[k]));
				return false;
			}
		}
		json_array_foreach(json_object_get(g, "transports"), j, t)
		{
			io = json_object_get(t, "iobuf");
			if (field(t, "current_qpairs") != 0 || field(io, "in_use") != 0 ||
			    field(io, "waiting") != 0) {
				snprintf(why, len,
					 "poll group %zu: TCP current_qpairs %lld, buffers in use "
					 "%lld, gets waiting %lld",
					 i, (long long)field(t, "current_qpairs"),
					 (long long)field(io, "in_use"),
					 (long long)field(io, "waiting"));
				return false;
			}
			*cached += field(io, "cached");
		}
	}
	return true;
}

static void
baseline_record(void)
{
	json_t *stats;
	char why[256];
	int i;

	memset(&g_idle, 0, sizeof(g_idle));
	g_idle.threads = fuzz_env_thread_count();
	for (i = 0; i < FUZZ_MAX_THREADS; i++) {
		g_idle.thread[i] = g_threads[i];
		if (g_threads[i] != NULL) {
			g_idle.pollers[i] = nvt_thread_get_poller_count(g_threads[i]);
			g_idle.channels[i] = nvt_thread_get_channel_count(g_threads[i]);
		}
	}
	stats = get_stats();
	if (!stats_idle(stats, &g_idle.cached, why, sizeof(why))) {
		fuzz_env_fail("the target is not idle after its start: %s", why);
	}
	json_decref(stats);
}

/* What differs from the baseline in threads, pollers and channels. */
static bool
threads_idle(char *why, size_t len)
{
	int i;

	for (i = 0; i < FUZZ_MAX_THREADS; i++) {
		if (g_threads[i] != g_idle.thread[i]) {
			snprintf(why, len, "threads: %u live, %u at the start",
				 fuzz_env_thread_count(), g_idle.threads);
			return false;
		}
		if (g_threads[i] == NULL) {
			continue;
		}
		if (nvt_thread_get_poller_count(g_threads[i]) != g_idle.pollers[i] ||
		    nvt_thread_get_channel_count(g_threads[i]) != g_idle.channels[i]) {
			snprintf(why, len,
				 "thread %s: %u pollers, %u io-channels (%u and %u at the start)",
				 nvt_thread_get_name(g_threads[i]),
				 nvt_thread_get_poller_count(g_threads[i]),
				 nvt_thread_get_channel_count(g_threads[i]), g_idle.pollers[i],
				 g_idle.channels[i]);
			return false;
		}
	}
	return true;
}

static bool
target_idle(char *why, size_t len)
{
	json_int_t cached;
	json_t *stats;
	bool idle;

	if (!threads_idle(why, len)) {
		return false;
	}
	stats = get_stats();
	idle = stats_idle(stats, &cached, why, len);
	json_decref(stats);
	if (idle && cached != g_idle.cached) {
		snprintf(why, len, "%lld buffers in the poll groups' caches, %lld at the start",
			 (long long)cached, (long long)g_idle.cached);
		idle = false;
	}
	return idle;
}

void
fuzz_env_check_idle(void)
{
	char why[256] = "";
	uint64_t start = fuzz_env_now_us();
	int tries;

	/* Teardown may wait for timers (deferred frees, abort timeouts): give it time. */
	for (tries = 0; tries < 64; tries++) {
		fuzz_env_poll();
		if (target_idle(why, sizeof(why))) {
			return;
		}
		if (fuzz_env_now_us() - start > FUZZ_SETTLE_US) {
			break;
		}
		fuzz_env_advance(FUZZ_SETTLE_US / 32);
	}
	fuzz_env_fail("the target did not return to idle after the run: %s", why);
}

void
fuzz_env_start_target(void)
{
	json_t *config = fuzz_env_target_config();
	int rc;

	rc = fuzz_env_load_config(config);
	json_decref(config);
	if (rc != 0) {
		fuzz_env_fail("the target's configuration failed: %d (NVT_FUZZ_LOG=1 shows why)",
			      rc);
	}
	fuzz_env_poll();
	baseline_record();
}

/* ---- the target with a host that must authenticate ---- */

struct key_files {
	char dir[PATH_MAX];
	char host[PATH_MAX + 16];
	char ctrlr[PATH_MAX + 16];
};

/* \p text into a new file \p path that only this user may read, as the keyring demands. */
static void
key_file_write(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) != 0) {
		fuzz_env_fail("cannot write the key file %s: %s", path, strerror(errno));
	}
}

static void
key_files_create(struct key_files *k)
{
	const char *tmp = getenv("TMPDIR");
	char templ[PATH_MAX];

	snprintf(templ, sizeof(templ), "%s/nvtcp-fuzz-keys.XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	/* The keyring takes absolute paths only; TMPDIR may be relative. */
	if (mkdtemp(templ) == NULL || realpath(templ, k->dir) == NULL) {
		fuzz_env_fail("cannot create a directory for the key files: %s", strerror(errno));
	}
	snprintf(k->host, sizeof(k->host), "%s/host.key", k->dir);
	snprintf(k->ctrlr, sizeof(k->ctrlr), "%s/ctrlr.key", k->dir);
	key_file_write(k->host, FUZZ_AUTH_HOST_KEY "\n");
	key_file_write(k->ctrlr, FUZZ_AUTH_CTRLR_KEY "\n");
}

static void
key_files_remove(const struct key_files *k)
{
	unlink(k->host);
	unlink(k->ctrlr);
	rmdir(k->dir);
}

static json_t *
auth_host(const char *hostnqn, bool ctrlr_key)
{
	json_t *params = json_pack("{s:s, s:s, s:s}", "nqn", FUZZ_SUBNQN, "host", hostnqn,
				   "dhchap_key", "fuzz_host_key");

	if (ctrlr_key) {
		json_object_set_new(params, "dhchap_ctrlr_key", json_string("fuzz_ctrlr_key"));
	}
	return method("nvmf_subsystem_add_host", params);
}

/* The nvmf section of the target with keys: the DH groups first (a start-up setting), the hosts last. */
static void
auth_config_nvmf(json_t *nvmf)
{
	json_t *groups = json_array();
	const char *name;
	int g;

	for (g = NVT_AUTH_DHGROUP_NULL; g <= NVT_AUTH_DHGROUP_8192; g++) {
		name = nvt_auth_dhgroup_name((enum nvt_auth_dhgroup)g);
		if (strcmp(name, FUZZ_AUTH_REFUSED_DHGROUP) != 0) {
			json_array_append_new(groups, json_string(name));
		}
	}
	json_array_insert_new(
		nvmf, 0, method("nvmf_set_config", json_pack("{s:o}", "dhchap_dhgroups", groups)));
	json_array_append_new(nvmf, auth_host(FUZZ_AUTH_HOSTNQN, true));
	json_array_append_new(nvmf, auth_host(FUZZ_AUTH_UNI_HOSTNQN, false));
}

/* fuzz_env_target_config() with the keys and the hosts that use them. */
static json_t *
auth_config(const struct key_files *k)
{
	json_t *config = fuzz_env_target_config(), *sub, *keyring;
	size_t i;

	keyring = json_pack(
		"{s:s, s:[o, o]}", "subsystem", "keyring", "config",
		method("keyring_file_add_key",
		       json_pack("{s:s, s:s}", "name", "fuzz_host_key", "path", k->host)),
		method("keyring_file_add_key",
		       json_pack("{s:s, s:s}", "name", "fuzz_ctrlr_key", "path", k->ctrlr)));
	json_array_foreach(json_object_get(config, "subsystems"), i, sub)
	{
		if (strcmp(json_string_value(json_object_get(sub, "subsystem")), "nvmf") == 0) {
			auth_config_nvmf(json_object_get(sub, "config"));
		}
	}
	/* First: the hosts of the nvmf subsystem name the keys. */
	json_array_insert_new(json_object_get(config, "subsystems"), 0, keyring);
	return config;
}

void
fuzz_env_start_auth_target(void)
{
	struct key_files k;
	json_t *config;
	int rc;

	key_files_create(&k);
	config = auth_config(&k);
	rc = fuzz_env_load_config(config);
	json_decref(config);
	key_files_remove(&k);
	if (rc != 0) {
		fuzz_env_fail("the target's configuration with keys failed: %d (NVT_FUZZ_LOG=1 "
			      "shows why)",
			      rc);
	}
	fuzz_env_poll();
	baseline_record();
}

/* ---- reset ---- */

static void
done_cb(void *ctx, int status)
{
	(void)status;
	*(bool *)ctx = true;
}

static bool
flag_is_set(void *ctx)
{
	return *(bool *)ctx;
}

static void
tgt_opts_reset(void)
{
	struct nvt_nvmf_tgt_opts opts;

	nvt_nvmf_tgt_opts_init(&opts, sizeof(opts));
	nvt_cpuset_zero(&opts.cores);
	nvt_cpuset_set_cpu(&opts.cores, 0, true);
	nvt_nvmf_tgt_set_opts(&opts);
}

void
fuzz_env_reset(void)
{
	bool *done = calloc(2, sizeof(bool));

	if (done == NULL) {
		fuzz_env_fail("out of memory");
	}
	nvt_set_thread(g_app);
	nvt_nvmf_tgt_fini(done_cb, &done[0]);
	if (!fuzz_env_run_until(flag_is_set, &done[0], FUZZ_SETTLE_US)) {
		fuzz_env_fail("the target's shutdown never finished");
	}
	nvt_bdev_fini(done_cb, &done[1]);
	if (!fuzz_env_run_until(flag_is_set, &done[1], FUZZ_SETTLE_US)) {
		fuzz_env_fail("deleting the bdevs never finished");
	}
	free(done);
	fuzz_env_poll();
	nvt_rpc_set_state(NVT_RPC_STARTUP);
	tgt_opts_reset();
	if (fuzz_env_thread_count() != 1 || nvt_bdev_first() != NULL) {
		fuzz_env_fail("after the shutdown: %u threads (1 expected)%s",
			      fuzz_env_thread_count(),
			      nvt_bdev_first() != NULL ? ", bdevs left" : "");
	}
}

char *
fuzz_env_config_text(void)
{
	json_t *config = nvt_config_save();
	char *text = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(config);
	if (text == NULL) {
		fuzz_env_fail("save_config failed");
	}
	return text;
}
