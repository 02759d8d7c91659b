/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The crash test's durability model (see crash_model.h): per-LBA histories
 * cut at each durable write, the acknowledged writes a Flush will make
 * durable, and the block format.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/crc32c.h"

#include "crash_model.h"

int
cm_init(struct cm_model *m, uint64_t nblocks, uint32_t block_size, uint64_t run_id)
{
	memset(m, 0, sizeof(*m));
	m->nblocks = nblocks;
	m->block_size = block_size;
	m->run_id = run_id;
	m->next_gen = 1;
	m->lbas = calloc(nblocks, sizeof(*m->lbas));
	return m->lbas != NULL ? 0 : -ENOMEM;
}

void
cm_fini(struct cm_model *m)
{
	uint64_t i;

	for (i = 0; m->lbas != NULL && i < m->nblocks; i++) {
		free(m->lbas[i].e);
	}
	free(m->lbas);
	free(m->acks);
	memset(m, 0, sizeof(*m));
}

bool
cm_range_busy(const struct cm_model *m, uint64_t lba, uint32_t nlb)
{
	uint32_t i;

	for (i = 0; i < nlb; i++) {
		if (m->lbas[lba + i].busy) {
			return true;
		}
	}
	return false;
}

static int
lba_push(struct cm_lba *l, uint64_t gen)
{
	struct cm_entry *e;

	if (l->n == l->cap) {
		e = realloc(l->e, (l->cap * 2 + 4) * sizeof(*e));
		if (e == NULL) {
			return -ENOMEM;
		}
		l->e = e;
		l->cap = l->cap * 2 + 4;
	}
	l->e[l->n++] = (struct cm_entry){ .gen = gen, .state = CM_SUBMITTED };
	return 0;
}

static struct cm_entry *
lba_find(const struct cm_lba *l, uint64_t gen)
{
	uint32_t i;

	for (i = 0; i < l->n; i++) {
		if (l->e[i].gen == gen) {
			return &l->e[i];
		}
	}
	return NULL;
}

/* \p gen is durable at \p l: nothing older may be found any more. */
static void
lba_durable(struct cm_lba *l, uint64_t gen)
{
	uint32_t drop = 0;

	if (gen <= l->base) {
		/* A newer write of this LBA became durable first. */
		return;
	}
	while (drop < l->n && l->e[drop].gen <= gen) {
		drop++;
	}
	memmove(l->e, l->e + drop, (l->n - drop) * sizeof(*l->e));
	l->n -= drop;
	l->base = gen;
}

uint64_t
cm_write_submitted(struct cm_model *m, uint64_t lba, uint32_t nlb)
{
	uint64_t gen = m->next_gen;
	uint32_t i;

	for (i = 0; i < nlb; i++) {
		if (lba_push(&m->lbas[lba + i], gen) != 0) {
			return 0;
		}
		m->lbas[lba + i].busy = true;
	}
	m->next_gen++;
	return gen;
}

static void
range_set_state(struct cm_model *m, uint64_t lba, uint32_t nlb, uint64_t gen, enum cm_state st)
{
	struct cm_entry *e;
	uint32_t i;

	for (i = 0; i < nlb; i++) {
		e = lba_find(&m->lbas[lba + i], gen);
		/* In flight, so never cut: nothing newer can be durable yet. */
		if (e != NULL) {
			e->state = st;
		}
		m->lbas[lba + i].busy = false;
	}
}

/* Room for one more acknowledgement: move the live ones down, or grow. */
static int
acks_reserve(struct cm_model *m)
{
	struct cm_ack *a;

	if (m->acks_head > 0) {
		memmove(m->acks, m->acks + m->acks_head,
			(m->acks_n - m->acks_head) * sizeof(*m->acks));
		m->acks_n -= m->acks_head;
		m->acks_head = 0;
	}
	if (m->acks_n < m->acks_cap) {
		return 0;
	}
	a = realloc(m->acks, (m->acks_cap * 2 + 64) * sizeof(*a));
	if (a == NULL) {
		return -ENOMEM;
	}
	m->acks = a;
	m->acks_cap = m->acks_cap * 2 + 64;
	return 0;
}

int
cm_write_acked(struct cm_model *m, uint64_t lba, uint32_t nlb, uint64_t gen, bool fua)
{
	uint32_t i;

	range_set_state(m, lba, nlb, gen, CM_ACKED);
	if (fua) {
		for (i = 0; i < nlb; i++) {
			lba_durable(&m->lbas[lba + i], gen);
		}
		return 0;
	}
	if (m->acks_n == m->acks_cap && acks_reserve(m) != 0) {
		return -ENOMEM;
	}
	m->acks[m->acks_n++] =
		(struct cm_ack){ .no = m->acks_total++, .lba = lba, .gen = gen, .nlb = nlb };
	return 0;
}

void
cm_write_failed(struct cm_model *m, uint64_t lba, uint32_t nlb, uint64_t gen)
{
	range_set_state(m, lba, nlb, gen, CM_FAILED);
}

uint64_t
cm_flush_submitted(const struct cm_model *m)
{
	/* It covers every write acknowledged so far, on any queue. */
	return m->acks_total;
}

void
cm_flush_acked(struct cm_model *m, uint64_t covers)
{
	struct cm_ack *a;
	uint32_t i;

	/* Flushes may complete out of order: one covering less finds nothing left. */
	while (m->acks_head < m->acks_n && m->acks[m->acks_head].no < covers) {
		a = &m->acks[m->acks_head++];
		for (i = 0; i < a->nlb; i++) {
			lba_durable(&m->lbas[a->lba + i], a->gen);
		}
	}
	if (m->acks_head == m->acks_n) {
		m->acks_head = m->acks_n = 0;
	}
}

void
cm_settle(struct cm_model *m)
{
	uint64_t i;

	for (i = 0; i < m->nblocks; i++) {
		m->lbas[i].base = m->lbas[i].seen;
		m->lbas[i].n = 0;
	}
	/* What was acknowledged before is in the blocks as seen, durable now. */
	m->acks_head = m->acks_n = 0;
}

static uint32_t
block_crc(const struct cm_model *m, const uint8_t *blk)
{
	return nvt_crc32c(blk, m->block_size - sizeof(uint32_t));
}

void
cm_fill_block(const struct cm_model *m, uint8_t *blk, uint64_t lba, uint64_t gen)
{
	struct cm_hdr h = { .magic = CM_MAGIC, .lba = lba, .gen = gen, .run_id = m->run_id };
	uint64_t state = gen * 0x100000001b3ull ^ lba ^ m->run_id, v;
	uint32_t off, crc;

	memcpy(blk, &h, sizeof(h));
	for (off = sizeof(h); off + sizeof(v) <= m->block_size - sizeof(crc); off += sizeof(v)) {
		v = cm_mix64(&state);
		memcpy(blk + off, &v, sizeof(v));
	}
	crc = block_crc(m, blk);
	memcpy(blk + m->block_size - sizeof(crc), &crc, sizeof(crc));
}

static bool
block_is_zero(const uint8_t *blk, uint32_t len)
{
	return blk[0] == 0 && memcmp(blk, blk + 1, len - 1) == 0;
}

/* The verdict on a block with a valid header for \p lba, by its generation. */
static const char *
check_gen(const struct cm_lba *l, struct cm_found *found)
{
	uint64_t gen = found->hdr.gen;

	if (gen == l->base) {
		return NULL;
	}
	found->entry = lba_find(l, gen);
	if (found->entry != NULL) {
		return NULL;
	}
	return gen < l->base ? "a write older than the durable one (durability lost)"
			     : "a generation never submitted for this LBA";
}

const char *
cm_check_block(struct cm_model *m, const uint8_t *blk, uint64_t lba, struct cm_found *found)
{
	struct cm_lba *l = &m->lbas[lba];
	const char *why;
	uint32_t crc;

	memset(found, 0, sizeof(*found));
	found->zeroes = block_is_zero(blk, m->block_size);
	if (found->zeroes) {
		l->seen = 0;
		return l->base == 0 ? NULL : "zeroes, though a write of it is durable";
	}
	memcpy(&found->hdr, blk, sizeof(found->hdr));
	memcpy(&crc, blk + m->block_size - sizeof(crc), sizeof(crc));
	found->crc_ok = crc == block_crc(m, blk);
	if (!found->crc_ok || found->hdr.magic != CM_MAGIC || found->hdr.run_id != m->run_id) {
		return "data never written (bad checksum, magic or run id: torn or garbage)";
	}
	if (found->hdr.lba != lba) {
		return "the block of another LBA (misplaced write)";
	}
	why = check_gen(l, found);
	if (why == NULL) {
		l->seen = found->hdr.gen;
	}
	return why;
}

static const char *
state_name(enum cm_state st)
{
	switch (st) {
	case CM_SUBMITTED:
		return "in flight";
	case CM_ACKED:
		return "acked";
	default:
		return "failed";
	}
}

void
cm_fmt_allowed(const struct cm_model *m, uint64_t lba, char *buf, size_t len)
{
	const struct cm_lba *l = &m->lbas[lba];
	size_t off;
	uint32_t i;
	int n;

	n = l->base == 0 ? snprintf(buf, len, "zeroes (nothing durable)")
			 : snprintf(buf, len, "gen %" PRIu64 " (durable)", l->base);
	off = n > 0 ? (size_t)n : 0;
	for (i = 0; i < l->n && off < len; i++) {
		n = snprintf(buf + off, len - off, ", gen %" PRIu64 " (%s)", l->e[i].gen,
			     state_name(l->e[i].state));
		off += n > 0 ? (size_t)n : 0;
	}
}

void
cm_fmt_found(const struct cm_found *f, char *buf, size_t len)
{
	if (f->zeroes) {
		snprintf(buf, len, "zeroes");
		return;
	}
	snprintf(buf, len,
		 "magic 0x%016" PRIx64 " lba %" PRIu64 " gen %" PRIu64 " run 0x%016" PRIx64
		 ", crc %s",
		 f->hdr.magic, f->hdr.lba, f->hdr.gen, f->hdr.run_id, f->crc_ok ? "ok" : "BAD");
}
