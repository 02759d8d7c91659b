/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvtcp-perf: NVMe/TCP I/O load generator.
 *
 * The app thread connects the controllers (through discovery when a
 * transport ID has no subnqn). One worker thread per core of the core mask
 * owns a poll group and, for every namespace, -P I/O queues, each kept at -q
 * outstanding I/Os for -t seconds. Workers report back to the app thread,
 * which prints the results and detaches the controllers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/likely.h"
#include "nvtcp/event.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"
#include "perf.h"

static struct perf_opts g_opts;
static struct nvt_nvme_ctrlr *g_ctrlrs[PERF_MAX_CTRLRS];
static uint32_t g_num_ctrlrs;
static struct nvt_nvme_trid g_targets[PERF_MAX_CTRLRS];
static uint32_t g_num_targets;
static uint32_t g_next_trid;
static uint32_t g_next_target;
static struct perf_worker *g_workers[NVT_CPUSET_SIZE];
static uint32_t g_num_workers;
static uint32_t g_workers_pending;
static struct nvt_poller *g_timer;
static uint64_t g_start_ticks;
static uint64_t g_end_ticks;
static bool g_stopping;
static char g_failure[256];
static int g_rc;
static uint32_t g_detach_pending;

static void connect_next_trid(void);
static void connect_next_target(void);
static void workers_start(void);
static void run_stop(void);

/* The run's steps travel in storage of the worker or queue they concern: none is lost. */
static int
perf_send(struct nvt_thread *thread, struct nvt_thread_msg *msg, nvt_msg_fn fn, void *arg)
{
	int rc = nvt_thread_send_msg_prealloc(thread, msg, fn, arg);

	if (rc != 0) {
		fprintf(stderr, "nvtcp-perf: a step for thread %s is lost: %s\n",
			nvt_thread_get_name(thread), nvt_strerror(rc));
	}
	return rc;
}

static void
ctrlr_opts(struct nvt_nvme_ctrlr_opts *o)
{
	nvt_nvme_ctrlr_get_default_opts(o, sizeof(*o));
	o->header_digest = g_opts.hdgst;
	o->data_digest = g_opts.ddgst;
	o->kato_ms = g_opts.kato_ms;
	sec_args_apply(&g_opts.sec, o);
}

static void
report_connect_error(const struct nvt_nvme_trid *trid, int rc, uint16_t status)
{
	char t[512], st[128];

	nvt_nvme_trid_fmt(trid, t, sizeof(t));
	if (rc == -EREMOTEIO) {
		fprintf(stderr, "nvtcp-perf: connect to '%s' failed: %s\n", t,
			nvt_nvme_status_fmt(status, st, sizeof(st)));
	} else {
		fprintf(stderr, "nvtcp-perf: connect to '%s' failed: %s\n", t,
			nvt_nvme_strerror(rc));
	}
}

/* ---- tear-down ---- */

static void
detach_done(void *arg)
{
	(void)arg;
	if (--g_detach_pending == 0) {
		nvt_app_stop(g_rc);
	}
}

static void
finish(int rc)
{
	uint32_t i;

	if (rc != 0 && g_rc == 0) {
		g_rc = rc;
	}
	g_detach_pending = 1;
	for (i = 0; i < g_num_ctrlrs; i++) {
		if (g_ctrlrs[i] != NULL) {
			g_detach_pending++;
			nvt_nvme_ctrlr_detach(&g_ctrlrs[i], detach_done, NULL);
		}
	}
	detach_done(NULL);
}

/* ---- connecting: discovery first, then every target ---- */

static void
add_target(const struct nvt_nvme_trid *trid)
{
	uint32_t i;

	for (i = 0; i < g_num_targets; i++) {
		if (strcmp(g_targets[i].subnqn, trid->subnqn) == 0 &&
		    strcmp(g_targets[i].traddr, trid->traddr) == 0 &&
		    strcmp(g_targets[i].trsvcid, trid->trsvcid) == 0) {
			return;
		}
	}
	if (g_num_targets < PERF_MAX_CTRLRS) {
		g_targets[g_num_targets++] = *trid;
	}
}

static void
disc_detached(void *arg)
{
	(void)arg;
	connect_next_trid();
}

static void
disc_log_done(void *arg, int rc, uint16_t status, const struct nvt_nvmf_disc_log_hdr *log)
{
	struct nvt_nvme_ctrlr *ctrlr = arg;
	const struct nvt_nvme_trid *dtrid = &g_opts.trids[g_next_trid - 1];
	char st[128];
	uint64_t i;

	if (rc != 0) {
		fprintf(stderr, "nvtcp-perf: discovery log failed: %s\n",
			rc == -EREMOTEIO ? nvt_nvme_status_fmt(status, st, sizeof(st))
					 : nvt_strerror(rc));
		g_rc = 2;
	} else {
		for (i = 0; i < log->numrec; i++) {
			const struct nvt_nvmf_disc_log_entry *e =
				nvt_nvmf_disc_log_get_entry((struct nvt_nvmf_disc_log_hdr *)log, i);
			struct nvt_nvme_trid t;

			if (e->subtype != NVT_NVMF_SUBTYPE_NVME ||
			    e->trtype != NVT_NVMF_TRTYPE_TCP) {
				continue;
			}
			nvt_nvme_trid_from_disc_entry(&t, e);
			memcpy(t.hostnqn, dtrid->hostnqn, sizeof(t.hostnqn));
			add_target(&t);
		}
	}
	nvt_nvme_ctrlr_detach(&ctrlr, disc_detached, NULL);
}

static void
disc_connected(void *arg, struct nvt_nvme_ctrlr *ctrlr, int rc, uint16_t status)
{
	const struct nvt_nvme_trid *trid = arg;

	if (rc != 0) {
		report_connect_error(trid, rc, status);
		g_rc = 2;
		connect_next_trid();
		return;
	}
	rc = nvt_nvme_ctrlr_get_discovery_log(ctrlr, disc_log_done, ctrlr);
	if (rc != 0) {
		fprintf(stderr, "nvtcp-perf: discovery log: %s\n", nvt_strerror(rc));
		nvt_nvme_ctrlr_detach(&ctrlr, disc_detached, NULL);
	}
}

static void
connect_next_trid(void)
{
	struct nvt_nvme_ctrlr_opts o;
	struct nvt_nvme_trid *trid;
	int rc;

	if (g_next_trid == g_opts.num_trids) {
		if (g_num_targets == 0) {
			fprintf(stderr, "nvtcp-perf: no NVM subsystem to run on\n");
			finish(2);
			return;
		}
		connect_next_target();
		return;
	}
	trid = &g_opts.trids[g_next_trid++];
	if (!nvt_nvme_trid_is_discovery(trid)) {
		add_target(trid);
		connect_next_trid();
		return;
	}
	ctrlr_opts(&o);
	rc = nvt_nvme_ctrlr_connect(trid, &o, disc_connected, trid);
	if (rc != 0) {
		report_connect_error(trid, rc, 0);
		finish(2);
	}
}

static void
target_connected(void *arg, struct nvt_nvme_ctrlr *ctrlr, int rc, uint16_t status)
{
	const struct nvt_nvme_trid *trid = arg;

	if (rc != 0) {
		report_connect_error(trid, rc, status);
		finish(2);
		return;
	}
	g_ctrlrs[g_num_ctrlrs++] = ctrlr;
	connect_next_target();
}

static void
connect_next_target(void)
{
	struct nvt_nvme_ctrlr_opts o;
	const struct nvt_nvme_trid *trid;
	int rc;

	if (g_next_target == g_num_targets) {
		workers_start();
		return;
	}
	trid = &g_targets[g_next_target++];
	ctrlr_opts(&o);
	/*
	 * One queue per namespace, core and -P: the namespaces are not known
	 * before the controller is, so ask for as many as SPDK's host does; the
	 * controller grants what it has, and what is not used costs nothing.
	 */
	o.num_io_queues = PERF_MAX_IO_QUEUES;
	rc = nvt_nvme_ctrlr_connect(trid, &o, target_connected, (void *)trid);
	if (rc != 0) {
		report_connect_error(trid, rc, 0);
		finish(2);
	}
}

/* ---- I/O (worker threads) ---- */

static uint64_t
rand_next(struct perf_qctx *q)
{
	uint64_t x = q->rand_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	q->rand_state = x;
	return x;
}

/* Pick the next unit; with --verify skip units that have an I/O in flight. */
static uint64_t
pick_unit(struct perf_qctx *q)
{
	uint64_t u, i;

	if (g_opts.is_random) {
		u = rand_next(q) % q->num_units;
	} else {
		u = q->seq_unit++ % q->num_units;
	}
	if (q->busy == NULL) {
		return u;
	}
	for (i = 0; i < q->num_units && q->busy[u]; i++) {
		u = (u + 1) % q->num_units;
	}
	return u;
}

static bool
pick_read(struct perf_qctx *q)
{
	if (g_opts.read_pct >= 100) {
		return true;
	}
	if (g_opts.read_pct <= 0) {
		return false;
	}
	return (int)(rand_next(q) % 100) < g_opts.read_pct;
}

static void io_done(void *arg, const struct nvt_nvme_cpl *cpl);

static int
submit_one(struct perf_slot *s)
{
	struct perf_qctx *q = s->q;
	uint64_t u = pick_unit(q);
	int rc;

	s->unit = (uint32_t)u;
	s->lba = (q->first_unit + u) * q->io_blocks;
	s->is_read = pick_read(q);
	if (q->gen != NULL) {
		/* Read back only what this run wrote: unwritten units get a write first. */
		if (q->gen[u] == 0) {
			s->is_read = false;
		}
		q->busy[u] = 1;
		if (!s->is_read) {
			perf_pattern_fill(s->buf, q->block_size, q->io_blocks, q->nsid, s->lba,
					  ++q->next_gen);
		}
	}
	s->submit_ticks = nvt_get_ticks();
	if (s->is_read) {
		rc = nvt_nvme_ns_cmd_read(q->qpair, q->nsid, s->buf, s->lba, q->io_blocks, io_done,
					  s);
	} else {
		rc = nvt_nvme_ns_cmd_write(q->qpair, q->nsid, s->buf, s->lba, q->io_blocks, io_done,
					   s);
	}
	if (rc == 0) {
		q->outstanding++;
	} else if (q->busy != NULL) {
		q->busy[u] = 0;
	}
	return rc;
}

static void worker_check_drained(struct perf_worker *w);

static void
qctx_fail_msg(void *arg)
{
	(void)arg;
	if (g_failure[0] == '\0') {
		snprintf(g_failure, sizeof(g_failure),
			 "the target went away (connection lost) after %.1f s: partial results",
			 (double)nvt_ticks_to_us(nvt_get_ticks() - g_start_ticks) / 1e6);
	}
	run_stop();
}

static void
io_verify(struct perf_slot *s)
{
	struct perf_qctx *q = s->q;
	uint32_t first = 0, bad;

	if (!s->is_read) {
		/* The generation written is the one filled into the buffer. */
		q->gen[s->unit] = ((const struct perf_pattern_hdr *)s->buf)->gen;
		return;
	}
	bad = perf_pattern_check(s->buf, q->block_size, q->io_blocks, q->nsid, s->lba,
				 q->gen[s->unit], &first);
	q->verified++;
	if (bad > 0) {
		if (q->mismatches == 0) {
			fprintf(stderr,
				"nvtcp-perf: verify mismatch nsid %u lba %llu (%u bad blocks)\n",
				q->nsid, (unsigned long long)(s->lba + first), bad);
		}
		q->mismatches += bad;
	}
}

static void
io_done(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct perf_slot *s = arg;
	struct perf_qctx *q = s->q;
	struct perf_worker *w = q->worker;

	q->outstanding--;
	perf_hist_add(&q->hist, nvt_ticks_to_ns(nvt_get_ticks() - s->submit_ticks));
	if (nvt_nvme_cpl_is_error(cpl)) {
		if (q->errors++ == 0) {
			q->first_error_status = cpl->status;
		}
		if (q->busy != NULL) {
			q->busy[s->unit] = 0;
		}
		if (nvt_nvme_qpair_is_failed(q->qpair) && !q->failed) {
			q->failed = true;
			perf_send(nvt_app_get_thread(), &q->fail_msg, qctx_fail_msg, q);
		}
	} else {
		s->is_read ? q->reads++ : q->writes++;
		if (q->gen != NULL) {
			io_verify(s);
			q->busy[s->unit] = 0;
		}
	}
	if (w->running && !q->failed && submit_one(s) == 0) {
		return;
	}
	if (q->outstanding == 0) {
		worker_check_drained(w);
	}
}

static void
worker_teardown_msg(void *arg)
{
	struct perf_worker *w = arg;
	struct perf_qctx *q;

	TAILQ_FOREACH(q, &w->qctxs, link) {
		if (q->qpair != NULL) {
			nvt_nvme_qpair_get_stats(q->qpair, &q->qstats);
			nvt_nvme_qpair_disconnect(&q->qpair);
		}
	}
	nvt_nvme_poll_group_destroy(&w->group);
	perf_send(nvt_app_get_thread(), &w->end_msg, (nvt_msg_fn)run_stop, NULL);
	nvt_thread_exit(w->thread);
}

static void
worker_check_drained(struct perf_worker *w)
{
	struct perf_qctx *q;

	if (w->running || w->drained) {
		return;
	}
	TAILQ_FOREACH(q, &w->qctxs, link) {
		if (q->outstanding > 0) {
			return;
		}
	}
	w->drained = 1;
	perf_send(w->thread, &w->end_msg, worker_teardown_msg, w);
}

static void
worker_stop_msg(void *arg)
{
	struct perf_worker *w = arg;

	w->running = false;
	worker_check_drained(w);
}

static void
worker_stop(struct perf_worker *w)
{
	int rc = nvt_thread_send_msg_prealloc(w->thread, &w->stop_msg, worker_stop_msg, w);

	/* -EBUSY: a stop is still queued, and does the same. */
	if (rc != 0 && rc != -EBUSY) {
		fprintf(stderr, "nvtcp-perf: worker %u: stop lost: %s\n", w->core,
			nvt_strerror(rc));
	}
}

static void
worker_go_msg(void *arg)
{
	struct perf_worker *w = arg;
	struct perf_qctx *q;
	uint32_t i;

	w->running = true;
	TAILQ_FOREACH(q, &w->qctxs, link) {
		for (i = 0; i < q->io_depth && !q->failed; i++) {
			if (submit_one(&q->slots[i]) != 0) {
				break;
			}
		}
	}
	worker_check_drained(w);
}

/* ---- worker set-up ---- */

static void
worker_ready_msg(void *arg)
{
	struct perf_worker *w = arg;
	struct perf_qctx *q;
	uint32_t i;

	TAILQ_FOREACH(q, &w->qctxs, link) {
		if (q->connect_rc != 0 && g_rc == 0) {
			report_connect_error(nvt_nvme_ctrlr_get_trid(q->ctrlr), q->connect_rc,
					     q->connect_status);
			g_rc = 2;
		}
	}
	if (--g_workers_pending > 0) {
		return;
	}
	if (g_rc != 0) {
		g_stopping = true;
		for (i = 0; i < g_num_workers; i++) {
			worker_stop(g_workers[i]);
		}
		return;
	}
	g_start_ticks = nvt_get_ticks();
	for (i = 0; i < g_num_workers; i++) {
		perf_send(g_workers[i]->thread, &g_workers[i]->start_msg, worker_go_msg,
			  g_workers[i]);
	}
}

static void
qpair_connected(void *arg, struct nvt_nvme_qpair *qpair, int rc, uint16_t status)
{
	struct perf_qctx *q = arg;

	q->qpair = qpair;
	q->qid = qpair != NULL ? nvt_nvme_qpair_get_id(qpair) : 0;
	q->connect_rc = rc;
	q->connect_status = status;
	if (rc != 0) {
		q->failed = true;
	}
	if (--q->worker->pending_connects == 0) {
		perf_send(nvt_app_get_thread(), &q->worker->start_msg, worker_ready_msg, q->worker);
	}
}

static void
worker_init_msg(void *arg)
{
	struct perf_worker *w = arg;
	struct perf_qctx *q;
	int rc;

	w->group = nvt_nvme_poll_group_create();
	w->pending_connects = 1;
	TAILQ_FOREACH(q, &w->qctxs, link) {
		if (w->group == NULL) {
			q->connect_rc = -ENOMEM;
			continue;
		}
		w->pending_connects++;
		rc = nvt_nvme_ctrlr_connect_io_qpair(q->ctrlr, w->group, q->qpair_depth,
						     qpair_connected, q);
		if (rc != 0) {
			w->pending_connects--;
			q->connect_rc = rc;
			q->failed = true;
		}
	}
	if (--w->pending_connects == 0) {
		perf_send(nvt_app_get_thread(), &w->start_msg, worker_ready_msg, w);
	}
}

static int
qctx_alloc_slots(struct perf_qctx *q)
{
	uint32_t i;

	q->slots = calloc(g_opts.queue_depth, sizeof(*q->slots));
	if (q->slots == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < g_opts.queue_depth; i++) {
		q->slots[i].q = q;
		q->slots[i].buf = aligned_alloc(4096, (g_opts.io_size + 4095) / 4096 * 4096);
		if (q->slots[i].buf == NULL) {
			return -ENOMEM;
		}
		memset(q->slots[i].buf, 0xa5, g_opts.io_size);
	}
	return 0;
}

/* Split the namespace among its queues when verifying, so no two queues share an LBA. */
static int
qctx_setup_range(struct perf_qctx *q, uint64_t nunits, uint32_t index, uint32_t count)
{
	if (!g_opts.verify) {
		q->first_unit = 0;
		q->num_units = nunits;
		return 0;
	}
	q->num_units = nunits / count;
	if (q->num_units > PERF_VERIFY_MAX_UNITS) {
		q->num_units = PERF_VERIFY_MAX_UNITS;
	}
	if (q->num_units < g_opts.queue_depth) {
		fprintf(stderr, "nvtcp-perf: namespace too small for --verify with -q %u\n",
			g_opts.queue_depth);
		return -EINVAL;
	}
	q->first_unit = (uint64_t)index * (nunits / count);
	q->gen = calloc(q->num_units, sizeof(*q->gen));
	q->busy = calloc(q->num_units, 1);
	return q->gen != NULL && q->busy != NULL ? 0 : -ENOMEM;
}

/*
 * -q counts I/Os; one larger than the controller's max transfer is split by
 * the host library into several commands. Ask for a queue deep enough to
 * keep all of them on the wire (up to CAP.MQES; beyond, children wait for
 * free command ids in the library).
 */
static uint32_t
qctx_qpair_depth(const struct nvt_nvme_ctrlr *ctrlr, uint32_t nsid, uint32_t io_blocks)
{
	uint32_t max_blocks = nvt_nvme_ctrlr_get_ns_max_io_blocks(ctrlr, nsid);
	uint64_t mqes = nvt_nvme_ctrlr_get_cap(ctrlr) & NVT_NVME_CAP_MQES_MASK;
	uint64_t cmds = (io_blocks + (uint64_t)max_blocks - 1) / max_blocks;
	uint64_t depth = g_opts.queue_depth * cmds;

	if (depth < g_opts.queue_depth) {
		depth = g_opts.queue_depth;
	}
	if (depth > mqes) {
		depth = mqes;
	}
	return (uint32_t)depth;
}

static int
add_qctx(struct perf_worker *w, struct nvt_nvme_ctrlr *ctrlr, uint32_t nsid, uint32_t index,
	 uint32_t count)
{
	const struct nvt_nvme_id_ns *ns = nvt_nvme_ctrlr_get_ns_data(ctrlr, nsid);
	struct perf_qctx *q = calloc(1, sizeof(*q));
	uint32_t bs = nvt_nvme_id_ns_block_size(ns);

	if (q == NULL) {
		return -ENOMEM;
	}
	TAILQ_INSERT_TAIL(&w->qctxs, q, link);
	q->worker = w;
	q->ctrlr = ctrlr;
	q->nsid = nsid;
	q->block_size = bs;
	perf_hist_init(&q->hist);
	q->rand_state = 0x853c49e6748fea9bull ^ ((uint64_t)w->core << 32) ^ index ^ nsid;
	if (g_opts.io_size % bs != 0 || nvt_nvme_ctrlr_get_ns_max_io_blocks(ctrlr, nsid) == 0) {
		fprintf(stderr,
			"nvtcp-perf: -o %u does not fit nsid %u (block %u, max transfer %u)\n",
			g_opts.io_size, nsid, bs, nvt_nvme_ctrlr_get_max_xfer_size(ctrlr));
		return -EINVAL;
	}
	q->io_blocks = g_opts.io_size / bs;
	q->qpair_depth = qctx_qpair_depth(ctrlr, nsid, q->io_blocks);
	/* Like spdk_nvme_perf, a -q above what the controller takes is cut to its limit. */
	q->io_depth = NVT_MIN(g_opts.queue_depth, q->qpair_depth);
	if (q->io_depth < g_opts.queue_depth && index == 0) {
		fprintf(stderr,
			"nvtcp-perf: -q %u exceeds the queue size of nsid %u's controller "
			"(%u commands): using %u\n",
			g_opts.queue_depth, nsid, q->qpair_depth, q->io_depth);
	}
	if (ns->nsze < q->io_blocks) {
		return -EINVAL;
	}
	if (qctx_setup_range(q, ns->nsze / q->io_blocks, index, count) != 0) {
		return -EINVAL;
	}
	w->num_q++;
	return qctx_alloc_slots(q);
}

/* Every namespace of every controller gets -P queues on every worker. */
static int
plan_queues(void)
{
	uint32_t c, n, wi, p, count, index;
	int rc;

	for (c = 0; c < g_num_ctrlrs; c++) {
		for (n = 0; n < nvt_nvme_ctrlr_get_active_ns_count(g_ctrlrs[c]); n++) {
			uint32_t nsid = nvt_nvme_ctrlr_get_active_nsid(g_ctrlrs[c], n);

			count = g_num_workers * g_opts.queues_per_ns;
			index = 0;
			for (wi = 0; wi < g_num_workers; wi++) {
				for (p = 0; p < g_opts.queues_per_ns; p++) {
					rc = add_qctx(g_workers[wi], g_ctrlrs[c], nsid, index++,
						      count);
					if (rc != 0) {
						return rc;
					}
				}
			}
		}
	}
	return 0;
}

static int
create_workers(void)
{
	uint32_t core;

	NVT_ENV_FOREACH_CORE(core)
	{
		struct perf_worker *w = calloc(1, sizeof(*w));
		struct nvt_cpuset mask;
		char name[32];

		if (w == NULL) {
			return -ENOMEM;
		}
		TAILQ_INIT(&w->qctxs);
		w->core = core;
		nvt_cpuset_zero(&mask);
		nvt_cpuset_set_cpu(&mask, core, true);
		snprintf(name, sizeof(name), "perf_worker_%u", core);
		w->thread = nvt_thread_create(name, &mask);
		g_workers[g_num_workers++] = w;
		if (w->thread == NULL) {
			return -ENOMEM;
		}
	}
	return 0;
}

static int
timer_expired(void *arg)
{
	(void)arg;
	nvt_poller_unregister(&g_timer);
	run_stop();
	return NVT_POLLER_BUSY;
}

static void
workers_start(void)
{
	uint32_t i, total_ns = 0;

	for (i = 0; i < g_num_ctrlrs; i++) {
		total_ns += nvt_nvme_ctrlr_get_active_ns_count(g_ctrlrs[i]);
	}
	if (total_ns == 0) {
		fprintf(stderr, "nvtcp-perf: the controllers have no active namespace\n");
		finish(2);
		return;
	}
	if (create_workers() != 0 || plan_queues() != 0) {
		fprintf(stderr, "nvtcp-perf: cannot set up the I/O queues\n");
		/* Workers without queues exit at once through the normal path. */
		g_rc = 2;
	}
	g_workers_pending = g_num_workers;
	for (i = 0; i < g_num_workers; i++) {
		/* A worker that is not started is not waited for. */
		if (g_workers[i]->thread == NULL ||
		    perf_send(g_workers[i]->thread, &g_workers[i]->start_msg, worker_init_msg,
			      g_workers[i]) != 0) {
			g_workers_pending--;
		}
	}
	g_timer = nvt_poller_register(timer_expired, NULL, (uint64_t)g_opts.time_s * 1000000,
				      "perf_timer");
}

/*
 * Called on the app thread when the time is up, on a lost target, on a
 * signal, and each time a worker finished; the last finishes the run.
 */
static void
run_stop(void)
{
	static uint32_t s_done;
	uint32_t i;

	if (!g_stopping) {
		g_stopping = true;
		g_end_ticks = nvt_get_ticks();
		nvt_poller_unregister(&g_timer);
		for (i = 0; i < g_num_workers; i++) {
			if (g_workers[i]->thread != NULL) {
				worker_stop(g_workers[i]);
			}
		}
		return;
	}
	/* Called once per worker that finished (worker_teardown_msg), plus duplicates. */
	s_done = 0;
	for (i = 0; i < g_num_workers; i++) {
		s_done += g_workers[i]->drained && g_workers[i]->group == NULL;
	}
	if (s_done < g_num_workers) {
		return;
	}
	if (g_start_ticks != 0) {
		if (g_end_ticks == 0) {
			g_end_ticks = nvt_get_ticks();
		}
		if (perf_report(&g_opts, g_workers, g_num_workers,
				(double)nvt_ticks_to_us(g_end_ticks - g_start_ticks) / 1e6,
				g_failure[0] ? g_failure : NULL) != 0) {
			finish(1);
			return;
		}
	}
	finish(0);
}

static void
perf_start(void *arg)
{
	(void)arg;
	connect_next_trid();
}

static void
perf_shutdown(void)
{
	if (g_failure[0] == '\0') {
		snprintf(g_failure, sizeof(g_failure), "interrupted: partial results");
	}
	if (g_num_workers == 0) {
		finish(1);
		return;
	}
	run_stop();
}

int
main(int argc, char **argv)
{
	struct nvt_app_opts opts;
	int rc;

	rc = perf_parse_args(argc, argv, &g_opts);
	if (rc != 0) {
		return rc > 0 ? 0 : 2;
	}
	if (sec_args_load(&g_opts.sec, "nvtcp-perf") != 0) {
		sec_args_free(&g_opts.sec);
		return 2;
	}
	nvt_app_opts_init(&opts, sizeof(opts));
	opts.name = "nvtcp-perf";
	opts.reactor_mask = g_opts.core_mask;
	opts.shutdown_cb = perf_shutdown;
	rc = nvt_app_start(&opts, perf_start, NULL);
	nvt_app_fini();
	sec_args_free(&g_opts.sec);
	if (rc < 0) {
		fprintf(stderr, "nvtcp-perf: %s\n", nvt_strerror(rc));
		return 2;
	}
	return rc;
}
