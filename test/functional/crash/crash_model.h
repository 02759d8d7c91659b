/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The crash test's model of what each block may hold after the target died:
 * the writer's log of the writes it submitted, which of them were
 * acknowledged, and which are durable by NVMe's rules, and the block format
 * that lets a read name the write it holds.
 *
 * Durable: a write acknowledged with FUA; a write whose acknowledgement came
 * before the submission of a Flush that was itself acknowledged. The writer
 * never has two writes to one LBA in flight, so an LBA's writes complete in
 * the order they were submitted and its history is a list. After a crash a
 * block may hold its newest durable write (the "base"; zeroes when it has
 * none) or any write submitted after it, acknowledged or not; nothing else.
 */
#ifndef CRASH_MODEL_H
#define CRASH_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CM_MAGIC 0x6e76742d63726173ull /* "nvt-cras" */

/* What became of a write to one LBA after the base. */
enum cm_state {
	CM_SUBMITTED,
	CM_ACKED,
	CM_FAILED, /* completed with an error: the target died; it may have landed */
};

struct cm_entry {
	uint64_t gen;
	enum cm_state state;
};

struct cm_lba {
	/* The newest durable generation; 0: never durably written, zeroes allowed. */
	uint64_t base;
	/* Writes submitted after the base, oldest first. */
	struct cm_entry *e;
	uint32_t n;
	uint32_t cap;
	/* A write to this LBA is in flight. */
	bool busy;
	/* The generation the last check found (0: zeroes). */
	uint64_t seen;
};

/* An acknowledged write not yet known durable; ack numbers count up from 0. */
struct cm_ack {
	uint64_t no;
	uint64_t lba;
	uint64_t gen;
	uint32_t nlb;
};

struct cm_model {
	uint64_t nblocks;
	uint32_t block_size;
	/* In every block written: data of another run never passes as ours. */
	uint64_t run_id;
	uint64_t next_gen;
	struct cm_lba *lbas;
	/* Acknowledged, not yet durable, in the order acknowledged: [head, n). */
	struct cm_ack *acks;
	size_t acks_head;
	size_t acks_n;
	size_t acks_cap;
	uint64_t acks_total;
};

/* The header at the start of every written block; a CRC32C ends the block. */
struct cm_hdr {
	uint64_t magic;
	uint64_t lba;
	uint64_t gen;
	uint64_t run_id;
};

/* What a check found in a block. */
struct cm_found {
	bool zeroes;
	bool crc_ok;
	struct cm_hdr hdr;
	/* The entry of the generation found, when it is one after the base. */
	const struct cm_entry *entry;
};

/* splitmix64: the test's PRNG and the blocks' filler. */
static inline uint64_t
cm_mix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int cm_init(struct cm_model *m, uint64_t nblocks, uint32_t block_size, uint64_t run_id);
void cm_fini(struct cm_model *m);

/* Whether a write to any block of [lba, lba + nlb) is in flight. */
bool cm_range_busy(const struct cm_model *m, uint64_t lba, uint32_t nlb);

/* A write of [lba, lba + nlb) is being submitted: its generation, 0 when out of memory. */
uint64_t cm_write_submitted(struct cm_model *m, uint64_t lba, uint32_t nlb);

/* A write completed: acknowledged (durable now when \p fua), or failed. 0 or -ENOMEM. */
int cm_write_acked(struct cm_model *m, uint64_t lba, uint32_t nlb, uint64_t gen, bool fua);
void cm_write_failed(struct cm_model *m, uint64_t lba, uint32_t nlb, uint64_t gen);

/* A Flush is being submitted: what it covers, to pass to cm_flush_acked(). */
uint64_t cm_flush_submitted(const struct cm_model *m);
void cm_flush_acked(struct cm_model *m, uint64_t covers);

/* After a check of every block and an acknowledged Flush: what was found is durable. */
void cm_settle(struct cm_model *m);

/* Fill one block of write \p gen at \p lba. */
void cm_fill_block(const struct cm_model *m, uint8_t *blk, uint64_t lba, uint64_t gen);

/*
 * Check a block read at \p lba: NULL when it holds what it may (and it is
 * remembered as seen), else why not. \p found says what it holds either way.
 */
const char *cm_check_block(struct cm_model *m, const uint8_t *blk, uint64_t lba,
			   struct cm_found *found);

/* "base 12 (durable), 40 acked, 57 failed": what \p lba may hold. */
void cm_fmt_allowed(const struct cm_model *m, uint64_t lba, char *buf, size_t len);

/* "magic ... lba ... gen ... run ... crc ok": what a check found. */
void cm_fmt_found(const struct cm_found *found, char *buf, size_t len);

#endif /* CRASH_MODEL_H */
