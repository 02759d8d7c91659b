/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "robust.h"
#include "test_rpc.h"
#include "test_util.h"

#define HOST_BLOCKS 256u
#define HOST_IO_MAX (8u * ROBUST_BLK)

static const char *g_config =
	"{ \"subsystems\": [\n"
	"%s"
	"  { \"subsystem\": \"bdev\", \"config\": [\n"
	"    { \"method\": \"bdev_malloc_create\", \"params\": { \"name\": \"Malloc0\",\n"
	"      \"num_blocks\": %u, \"block_size\": %u } },\n"
	"    { \"method\": \"bdev_malloc_create\", \"params\": { \"name\": \"Malloc1\",\n"
	"      \"num_blocks\": 1024, \"block_size\": %u } } ] },\n"
	"  { \"subsystem\": \"nvmf\", \"config\": [\n"
	"    { \"method\": \"nvmf_create_transport\", \"params\": { \"trtype\": \"TCP\"%s%s } },\n"
	"    { \"method\": \"nvmf_create_subsystem\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"allow_any_host\": true, \"max_namespaces\": 4 } },\n"
	"    { \"method\": \"nvmf_subsystem_add_ns\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"namespace\": { \"bdev_name\": \"Malloc0\", \"nsid\": 1 } } },\n"
	"    { \"method\": \"nvmf_subsystem_add_ns\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"namespace\": { \"bdev_name\": \"Malloc1\", \"nsid\": 2 } } },\n"
	"    { \"method\": \"nvmf_subsystem_add_listener\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"listen_address\": { \"trtype\": \"TCP\", \"adrfam\": \"IPv4\",\n"
	"        \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%d\" } } } ] } ] }\n";

int64_t
robust_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
robust_start(struct robust_target *t, const char *nvtcpd, const char *transport_opts)
{
	char *extra[] = { "-m", "0x3", "-r", t->rpc, NULL };
	const char *sock = nvt_test_sock_config();
	char text[4096];
	int rc;

	memset(t, 0, sizeof(*t));
	t->port = nvt_test_free_port();
	if (sock == NULL || t->port < 0) {
		fprintf(stderr, "FAIL: no socket implementation or no free port\n");
		return -EINVAL;
	}
	snprintf(text, sizeof(text), g_config, sock, ROBUST_BLOCKS, ROBUST_BLK, ROBUST_BLK,
		 transport_opts[0] != '\0' ? ", " : "", transport_opts, ROBUST_SUBNQN,
		 ROBUST_SUBNQN, ROBUST_SUBNQN, ROBUST_SUBNQN, t->port);
	rc = nvt_test_tmpdir_create(t->dir, sizeof(t->dir), "/tmp", "nvtcp-robust-test");
	if (rc == 0) {
		rc = nvt_test_path(t->rpc, sizeof(t->rpc), t->dir, "rpc.sock");
	}
	if (rc == 0) {
		rc = nvt_test_daemon_start_config(&t->d, nvtcpd, t->dir, text, extra);
	}
	if (rc != 0) {
		fprintf(stderr, "FAIL: nvtcpd did not start: %s\n", strerror(-rc));
		nvt_test_tmpdir_remove(t->dir);
	}
	return rc;
}

int
robust_stop(struct robust_target *t)
{
	int rc = nvt_test_daemon_stop(&t->d);

	if (rc != 0) {
		fprintf(stderr, "FAIL: nvtcpd did not exit cleanly: status %d\n", rc);
	}
	nvt_test_tmpdir_remove(t->dir);
	return rc;
}

json_t *
robust_stats(struct robust_target *t)
{
	return nvt_test_rpc_call(t->rpc, "nvmf_get_stats", NULL);
}

int
robust_wait_idle(struct robust_target *t, json_int_t conns, int timeout_ms)
{
	int64_t end = robust_now_ms() + timeout_ms;
	json_int_t in_use = -1, now = -1;
	json_t *st;

	do {
		st = robust_stats(t);
		in_use = nvt_test_stats_iobuf_sum(st, "in_use");
		now = nvt_test_stats_transport(st, "current_connections");
		json_decref(st);
		if (st != NULL && in_use == 0 && now == conns) {
			return 0;
		}
		usleep(20 * 1000);
	} while (robust_now_ms() < end);
	fprintf(stderr, "not idle after %d ms: %lld buffers in use, %lld connections (want %lld)\n",
		timeout_ms, (long long)in_use, (long long)now, (long long)conns);
	return -ETIMEDOUT;
}

static int
queue_open(struct robust_target *t, struct nvt_test_conn *q, const char *hostnqn, uint16_t qid,
	   uint32_t kato_ms, uint16_t cntlid, unsigned int digests)
{
	struct nvt_test_connect_opts o = {
		.subnqn = ROBUST_SUBNQN,
		.hostnqn = hostnqn,
		.qid = qid,
		.sqsize = 31,
		.kato_ms = kato_ms,
		.cntlid = cntlid,
	};
	int rc;

	rc = nvt_test_tcp_open(q, "127.0.0.1", (uint16_t)t->port);
	if (rc == 0) {
		rc = nvt_test_tcp_icreq(q, 0, digests & ROBUST_HDGST, digests & ROBUST_DDGST);
	}
	if (rc == 0) {
		rc = nvt_test_tcp_fabrics_connect(q, &o);
	}
	return rc > 0 ? -EPROTO : rc;
}

int
robust_ctrl_open(struct robust_target *t, const char *hostnqn, uint32_t kato_ms,
		 struct nvt_test_conn *admin, struct nvt_test_conn *io)
{
	return robust_ctrl_open_digests(t, hostnqn, kato_ms, 0, admin, io);
}

int
robust_ctrl_open_digests(struct robust_target *t, const char *hostnqn, uint32_t kato_ms,
			 unsigned int digests, struct nvt_test_conn *admin,
			 struct nvt_test_conn *io)
{
	int rc;

	rc = queue_open(t, admin, hostnqn, 0, kato_ms, 0xffff, digests);
	if (rc == 0) {
		rc = nvt_test_tcp_enable_ctrlr(admin);
		rc = rc > 0 ? -EPROTO : rc;
	}
	if (rc == 0 && io != NULL) {
		rc = queue_open(t, io, hostnqn, 1, 0, admin->cntlid, digests);
	}
	return rc;
}

/* ---- the verified host ---- */

static void
fill(uint8_t *buf, uint32_t len, uint64_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (uint8_t)(seed >> 56);
	}
}

/* One write (in the capsule or by R2T, 1..8 blocks) and its read back: 0 or -1 (error set). */
static int
host_round(struct robust_host *h, uint64_t n, uint8_t *wbuf, uint8_t *rbuf)
{
	uint32_t blocks = 1 + (uint32_t)(n % 8), len = blocks * ROBUST_BLK;
	uint64_t lba = h->lba + (n * 8) % (HOST_BLOCKS - 8);
	int rc;

	fill(wbuf, len, n + 1);
	rc = n % 2 ? nvt_test_tcp_write(&h->io, ROBUST_HOST_NSID, lba, blocks, ROBUST_BLK, wbuf)
		   : nvt_test_tcp_write_icd(&h->io, ROBUST_HOST_NSID, lba, blocks, ROBUST_BLK, wbuf,
					    false);
	if (rc == 0) {
		rc = nvt_test_tcp_read(&h->io, ROBUST_HOST_NSID, lba, blocks, ROBUST_BLK, rbuf);
	}
	if (rc != 0) {
		snprintf(h->error, sizeof(h->error), "I/O %llu: %s %d", (unsigned long long)n,
			 rc < 0 ? strerror(-rc) : "NVMe status", rc);
		return -1;
	}
	if (memcmp(wbuf, rbuf, len) != 0) {
		snprintf(h->error, sizeof(h->error), "I/O %llu: data read back differs",
			 (unsigned long long)n);
		return -1;
	}
	return 0;
}

static void *
host_run(void *arg)
{
	struct robust_host *h = arg;
	uint8_t wbuf[HOST_IO_MAX], rbuf[HOST_IO_MAX];
	uint64_t n = 0;

	while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED)) {
		if (host_round(h, n++, wbuf, rbuf) != 0) {
			break;
		}
		__atomic_store_n(&h->ios, n, __ATOMIC_RELAXED);
		/* Keep alive: the admin queue is idle otherwise (KATO below). */
		if (n % 256 == 0 && nvt_test_tcp_keep_alive(&h->admin) != 0) {
			snprintf(h->error, sizeof(h->error), "keep alive failed");
			break;
		}
	}
	return NULL;
}

int
robust_host_start(struct robust_host *h, struct robust_target *t, uint64_t lba)
{
	int rc;

	memset(h, 0, sizeof(*h));
	h->t = t;
	h->lba = lba;
	nvt_test_tcp_init(&h->admin);
	nvt_test_tcp_init(&h->io);
	rc = robust_ctrl_open(t, ROBUST_HOSTNQN, 120000, &h->admin, &h->io);
	if (rc == 0) {
		rc = -pthread_create(&h->thread, NULL, host_run, h);
	}
	if (rc != 0) {
		fprintf(stderr, "FAIL: verified host: %s\n", strerror(-rc));
		nvt_test_tcp_close(&h->io);
		nvt_test_tcp_close(&h->admin);
		return rc;
	}
	h->running = true;
	return 0;
}

uint64_t
robust_host_ios(struct robust_host *h)
{
	return __atomic_load_n(&h->ios, __ATOMIC_RELAXED);
}

int
robust_host_stop(struct robust_host *h)
{
	if (!h->running) {
		return -1;
	}
	__atomic_store_n(&h->stop, true, __ATOMIC_RELAXED);
	pthread_join(h->thread, NULL);
	h->running = false;
	nvt_test_tcp_close(&h->io);
	nvt_test_tcp_close(&h->admin);
	if (h->error[0] != '\0') {
		fprintf(stderr, "FAIL: verified host after %llu I/Os: %s\n",
			(unsigned long long)robust_host_ios(h), h->error);
		return -1;
	}
	fprintf(stderr, "verified host: %llu I/Os written, read back and compared\n",
		(unsigned long long)robust_host_ios(h));
	return 0;
}
