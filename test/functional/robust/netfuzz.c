/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A network fuzzer against a running nvtcpd. Worker threads each open
 * controllers (valid ICReq, with or without digests, and valid Connects),
 * then send mostly valid PDU sequences with mutations: random opcodes,
 * namespaces, LBAs, lengths and SGLs; in-capsule data of the wrong size;
 * headers with fields flipped (plen, hlen, pdo, flags, type); bad header and
 * data digests; PDUs cut short; R2Ts answered with data at wrong offsets,
 * wrong lengths or to the wrong tag, or not at all. Whatever the daemon
 * answers is read and dropped (R2Ts answered as above); a connection it
 * closes is opened again. Meanwhile a verified host writes, reads back and
 * compares. At the end: the daemon still runs, the verified host saw no
 * error, every connection and buffer comes back, and nvtcpd exits cleanly
 * (no leak under ASan).
 *
 * Usage: netfuzz <nvtcpd> [-t SECONDS] [-s SEED] [-w WORKERS]
 * The seed is printed; a run with the same seed sends the same choices
 * (what the daemon answers, and so the exact stream, depends on timing).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "robust.h"
#include "test_rpc.h"

#define WORKERS_MAX   16
#define PDU_MAX	      (16u * 1024u)
#define CMDS_PER_CONN 64
#define FUZZ_HOSTNQN  "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000f022"

struct worker {
	struct robust_target *t;
	pthread_t thread;
	uint64_t rng;
	uint64_t pdus;	    /* PDUs (or parts of) sent */
	uint64_t conns;	    /* controllers opened */
	uint64_t answers;   /* PDUs received from the daemon */
	uint64_t terms;	    /* C2HTermReqs received */
	uint64_t r2ts;	    /* R2Ts answered (one way or another) */
	uint64_t open_fail; /* controllers that could not be opened */
	bool *stop;
};

static uint64_t
rnd(struct worker *w)
{
	/* xorshift64*: reproducible from the seed. */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 2685821657736338717ull;
}

static uint32_t
rnd_below(struct worker *w, uint32_t n)
{
	return n != 0 ? (uint32_t)(rnd(w) % n) : 0;
}

static bool
chance(struct worker *w, uint32_t percent)
{
	return rnd_below(w, 100) < percent;
}

/* Something a field could hold: small, around a boundary, or anything. */
static uint32_t
rnd_value(struct worker *w)
{
	static const uint32_t edges[] = { 0,	  1,	   7,	       8,	  24,	  64,
					  72,	  4095,	   4096,       8192,	  131072, 131073,
					  0xffff, 0x10000, 0x7fffffff, 0xffffffff };

	switch (rnd_below(w, 3)) {
	case 0:
		return edges[rnd_below(w, sizeof(edges) / sizeof(edges[0]))];
	case 1:
		return rnd_below(w, 256);
	default:
		return (uint32_t)rnd(w);
	}
}

static const uint8_t g_io_opcodes[] = {
	0x00, 0x01, 0x02, 0x04, 0x05, 0x08, 0x09, 0x0c, 0x0d, 0x11
};
static const uint8_t g_admin_opcodes[] = { 0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a,
					   0x0c, 0x10, 0x18, 0x7f, 0x80, 0xc0 };

/* A command: mostly a plausible one for its queue, sometimes anything. */
static void
make_sqe(struct worker *w, const struct nvt_test_conn *c, union nvt_nvme_sqe *sqe,
	 uint32_t *icd_len, bool *transport)
{
	uint32_t nblocks = 1 + rnd_below(w, chance(w, 80) ? 16 : 512);
	uint32_t len = nblocks * ROBUST_BLK;

	*icd_len = 0;
	*transport = false;
	if (c->qid != 0) {
		nvt_test_tcp_sqe_rw(sqe, g_io_opcodes[rnd_below(w, sizeof(g_io_opcodes))], 0,
				    chance(w, 90) ? 1 : rnd_value(w),
				    chance(w, 90) ? rnd_below(w, ROBUST_BLOCKS) : rnd(w), nblocks);
	} else {
		memset(sqe, 0, sizeof(*sqe));
		sqe->cmd.opc = g_admin_opcodes[rnd_below(w, sizeof(g_admin_opcodes))];
		sqe->cmd.nsid = chance(w, 50) ? 1 : rnd_value(w);
		sqe->cmd.cdw10 = chance(w, 50) ? rnd_below(w, 32) : rnd_value(w);
		sqe->cmd.cdw11 = rnd_value(w);
		len = chance(w, 70) ? 4096 : rnd_value(w) % PDU_MAX;
	}
	if (chance(w, 40) && len <= 8192) {
		*icd_len = chance(w, 85) ? len : rnd_below(w, 8192);
		nvt_test_tcp_sqe_sgl_icd(sqe, chance(w, 90) ? len : rnd_value(w));
	} else {
		*transport = true;
		nvt_test_tcp_sqe_sgl_transport(sqe, chance(w, 90) ? len : rnd_value(w));
	}
	if (chance(w, 10)) {
		sqe->raw[rnd_below(w, sizeof(*sqe))] = (uint8_t)rnd(w);
	}
	if (sqe->cmd.nsid == ROBUST_HOST_NSID) {
		/* The verified host's data must stay as it wrote it. */
		sqe->cmd.nsid = 1;
	}
}

/* Flip what a host could get wrong in a built PDU of \p len bytes. */
static size_t
mutate(struct worker *w, uint8_t *pdu, size_t len)
{
	struct nvt_nvme_tcp_common_hdr *ch = (void *)pdu;

	switch (rnd_below(w, 8)) {
	case 0:
		ch->plen = chance(w, 50) ? rnd_value(w) : ch->plen + rnd_below(w, 9) - 4;
		break;
	case 1:
		ch->hlen = (uint8_t)rnd_value(w);
		break;
	case 2:
		ch->pdo = (uint8_t)rnd_value(w);
		break;
	case 3:
		ch->flags ^= (uint8_t)(1u << rnd_below(w, 8));
		break;
	case 4:
		ch->type = (uint8_t)rnd_below(w, 16);
		break;
	case 5:
		pdu[rnd_below(w, (uint32_t)len)] ^= (uint8_t)(1u << rnd_below(w, 8));
		break;
	case 6:
		/* Cut short: the rest never comes (the PDU deadline's case). */
		return 1 + rnd_below(w, (uint32_t)len);
	default:
		pdu[8 + rnd_below(w, 64)] = (uint8_t)rnd(w);
		break;
	}
	return len;
}

/* Answer an R2T: all of it, with a mutation, or partly. */
static int
answer_r2t(struct worker *w, struct nvt_test_conn *c, struct nvt_test_pdu *p)
{
	static __thread uint8_t data[PDU_MAX * 8];
	struct nvt_nvme_tcp_r2t r2t = p->h.r2t;
	union nvt_nvme_tcp_pdu_hdr h;
	uint8_t pdu[PDU_MAX + 256];
	uint32_t len;
	ssize_t n;

	w->r2ts++;
	if (chance(w, 70) && r2t.r2tl <= sizeof(data)) {
		return nvt_test_tcp_h2c_send(c, &r2t, data, r2t.r2tl);
	}
	if (chance(w, 20)) {
		return 0; /* never answered */
	}
	nvt_test_tcp_hdr_init(&h, NVT_NVME_TCP_PDU_H2C_DATA);
	h.h2c_data.cccid = chance(w, 80) ? r2t.cccid : (uint16_t)rnd(w);
	h.h2c_data.ttag = chance(w, 80) ? r2t.ttag : (uint16_t)rnd(w);
	h.h2c_data.datao = chance(w, 60) ? r2t.r2to : rnd_value(w);
	len = chance(w, 60) ? r2t.r2tl : rnd_value(w);
	len = len < PDU_MAX ? len : PDU_MAX;
	h.h2c_data.datal = len;
	n = nvt_test_tcp_pdu_build(c, &h, data, len, chance(w, 20) ? NVT_TEST_TCP_BAD_DDGST : 0,
				   pdu, sizeof(pdu));
	if (n <= 0) {
		return 0;
	}
	return nvt_test_tcp_send(c, pdu, chance(w, 30) ? mutate(w, pdu, (size_t)n) : (size_t)n);
}

/* Read what the daemon sent, answering R2Ts: 0, or <0 when the connection is done. */
static int
drain(struct worker *w, struct nvt_test_conn *c, int wait_ms)
{
	static __thread uint8_t data[256 * 1024];
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	struct nvt_test_pdu p;
	int rc;

	while (poll(&pfd, 1, wait_ms) == 1) {
		rc = nvt_test_tcp_recv_hdr(c, &p);
		if (rc == 0) {
			rc = nvt_test_tcp_recv_data(c, &p,
						    p.data_len <= sizeof(data) ? data : NULL);
		}
		if (rc != 0) {
			return rc;
		}
		w->answers++;
		if (p.h.ch.type == NVT_NVME_TCP_PDU_C2H_TERM_REQ) {
			w->terms++;
			return -ECONNABORTED;
		}
		if (p.h.ch.type == NVT_NVME_TCP_PDU_R2T && answer_r2t(w, c, &p) != 0) {
			return -EPIPE;
		}
	}
	return 0;
}

/* One mutated (or valid) command capsule on \p c. */
static int
send_one(struct worker *w, struct nvt_test_conn *c)
{
	static __thread uint8_t icd[8192], pdu[PDU_MAX + 256];
	union nvt_nvme_sqe sqe;
	uint32_t icd_len;
	bool transport;
	size_t len;
	ssize_t n;

	make_sqe(w, c, &sqe, &icd_len, &transport);
	sqe.cmd.cid = nvt_test_tcp_next_cid(c);
	n = nvt_test_tcp_capsule_build(
		c, &sqe, icd, icd_len,
		chance(w, 1) ? NVT_TEST_TCP_BAD_HDGST | NVT_TEST_TCP_BAD_DDGST : 0, pdu,
		sizeof(pdu));
	if (n <= 0) {
		return 0;
	}
	/* Few framing errors: most commands should reach the command handlers. */
	len = chance(w, 3) ? mutate(w, pdu, (size_t)n) : (size_t)n;
	w->pdus++;
	return nvt_test_tcp_send(c, pdu, len);
}

static void
fuzz_ctrl(struct worker *w)
{
	struct nvt_test_conn admin, io, *c;
	unsigned int dg = rnd_below(w, 4);
	int i;

	nvt_test_tcp_init(&admin);
	nvt_test_tcp_init(&io);
	admin.timeout_ms = io.timeout_ms = 3000;
	if (robust_ctrl_open_digests(w->t, FUZZ_HOSTNQN, 0, dg, &admin, &io) != 0) {
		w->open_fail++;
	} else {
		w->conns++;
	}
	for (i = 0; i < CMDS_PER_CONN && !__atomic_load_n(w->stop, __ATOMIC_RELAXED); i++) {
		c = chance(w, 75) ? &io : &admin;
		/* Now and then wait a little for answers: R2Ts come back, queues drain. */
		if (c->fd < 0 || send_one(w, c) != 0 || drain(w, c, i % 8 == 7 ? 1 : 0) != 0) {
			break;
		}
	}
	if (chance(w, 50)) {
		nvt_test_tcp_close_rst(&io);
		nvt_test_tcp_close_rst(&admin);
	} else {
		nvt_test_tcp_close(&io);
		nvt_test_tcp_close(&admin);
	}
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;

	while (!__atomic_load_n(w->stop, __ATOMIC_RELAXED)) {
		fuzz_ctrl(w);
	}
	return NULL;
}

static int
check(bool ok, const char *what)
{
	fprintf(stderr, "%s: %s\n", ok ? "ok" : "FAIL", what);
	return ok ? 0 : 1;
}

struct args {
	const char *nvtcpd;
	int seconds;
	uint64_t seed;
	int workers;
};

static int
parse_args(int argc, char **argv, struct args *a)
{
	int opt;

	a->seconds = 10;
	a->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	a->workers = 4;
	while ((opt = getopt(argc, argv, "t:s:w:")) != -1) {
		switch (opt) {
		case 't':
			a->seconds = atoi(optarg);
			break;
		case 's':
			a->seed = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			a->workers = atoi(optarg);
			break;
		default:
			return -1;
		}
	}
	if (optind != argc - 1 || a->workers < 1 || a->workers > WORKERS_MAX || a->seconds < 1) {
		return -1;
	}
	a->nvtcpd = argv[optind];
	a->seed |= 1; /* xorshift needs a non-zero state */
	return 0;
}

/* Run the workers for the time asked, checking that the daemon stays up. */
static int
run_workers(struct robust_target *t, struct worker *w, int n, int seconds, uint64_t seed)
{
	int64_t end = robust_now_ms() + (int64_t)seconds * 1000;
	bool stop = false;
	int i, failures = 0;

	for (i = 0; i < n; i++) {
		w[i].t = t;
		w[i].rng = seed + (uint64_t)i * 0x9e3779b97f4a7c15ull;
		w[i].stop = &stop;
		pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
	}
	while (robust_now_ms() < end && nvt_test_daemon_alive(&t->d)) {
		usleep(100 * 1000);
	}
	failures += check(nvt_test_daemon_alive(&t->d), "nvtcpd stayed up");
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
	}
	return failures;
}

static void
report(const struct worker *w, int n, int seconds)
{
	uint64_t pdus = 0, conns = 0, answers = 0, terms = 0, r2ts = 0, fails = 0;
	int i;

	for (i = 0; i < n; i++) {
		pdus += w[i].pdus;
		conns += w[i].conns;
		answers += w[i].answers;
		terms += w[i].terms;
		r2ts += w[i].r2ts;
		fails += w[i].open_fail;
	}
	fprintf(stderr,
		"netfuzz: %d s, %d workers: %llu commands sent (%llu/s), %llu controllers "
		"(%llu refused), %llu PDUs received, %llu C2HTermReqs, %llu R2Ts answered\n",
		seconds, n, (unsigned long long)pdus,
		(unsigned long long)(pdus / (uint64_t)seconds), (unsigned long long)conns,
		(unsigned long long)fails, (unsigned long long)answers, (unsigned long long)terms,
		(unsigned long long)r2ts);
}

int
main(int argc, char **argv)
{
	static struct worker w[WORKERS_MAX];
	struct robust_target t;
	struct robust_host h;
	struct args a;
	int failures = 0;

	if (parse_args(argc, argv, &a) != 0) {
		fprintf(stderr, "usage: %s <nvtcpd> [-t SECONDS] [-s SEED] [-w WORKERS (1..%d)]\n",
			argv[0], WORKERS_MAX);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "netfuzz: seed 0x%llx\n", (unsigned long long)a.seed);
	if (robust_start(&t, a.nvtcpd,
			 "\"connect_timeout_ms\": 2000, \"pdu_timeout_ms\": 2000, "
			 "\"send_timeout_ms\": 2000") != 0) {
		return 1;
	}
	failures += check(robust_host_start(&h, &t, 0) == 0, "verified host connected");
	failures += run_workers(&t, w, a.workers, a.seconds, a.seed);
	report(w, a.workers, a.seconds);
	failures += check(robust_host_ios(&h) > 0, "verified host did I/O");
	failures += check(robust_host_stop(&h) == 0, "verified host: no error");
	failures += check(robust_wait_idle(&t, 0, 10000) == 0, "every connection and buffer back");
	failures += check(robust_stop(&t) == 0, "nvtcpd exits cleanly");
	fprintf(stderr, "%s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
