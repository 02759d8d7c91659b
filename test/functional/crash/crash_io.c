/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The crash test's I/O, a state machine on the reactor's thread over
 * NUM_QPAIRS x QDEPTH slots (one command id each): after a restart, every
 * block read back and checked against the model (PH_VERIFY); a Flush that
 * makes what was read durable (PH_SETTLE); writes, FUA writes and Flushes
 * recorded in the model as they are submitted and complete (PH_WRITE) until
 * the kill poller sends SIGKILL at the round's moment; then every command
 * completing or failing (PH_DRAIN) before the host is torn down.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "nvtcp/ticks.h"

#include "test_nvme.h"

#include "crash_internal.h"

static const char *const g_trigger_names[NUM_TRIGGERS] = { "any I/O", "a Flush", "a FUA write" };

static bool read_next(struct slot *s);
static void write_next(struct slot *s);
static void write_start(void *arg);
static void verify_done(void *arg);

/* ---- completions ---- */

static void
cpl_fatal(const struct slot *s, const struct nvt_nvme_cpl *cpl)
{
	char st[64], health[64];

	fatal("%s at LBA %" PRIu64 " failed while nvtcpd ran (%s); nvtcpd %s",
	      s->op == OP_READ	  ? "read"
	      : s->op == OP_WRITE ? "write"
				  : "flush",
	      s->lba, nvt_test_status_str(cpl->status, st, sizeof(st)),
	      daemon_health(health, sizeof(health)));
}

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
	if (kill(g.d.proc.pid, SIGKILL) != 0) {
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

void
io_start(void)
{
	if (g.round > 0) {
		verify_start();
	} else {
		settle_start();
	}
}
