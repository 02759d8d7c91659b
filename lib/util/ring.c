/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/likely.h"
#include "nvtcp/ring.h"

#define RING_CACHE_LINE 64
/* Keeps the slot array size far from overflow and the indices far from wrapping in practice. */
#define RING_MAX_COUNT ((size_t)1 << 30)

struct ring_slot {
	/*
	 * MPSC and MPMC: position + 1 once a producer has published obj, position + capacity once
	 * a consumer has taken it (Vyukov's bounded queue). Unused by SPSC rings.
	 */
	atomic_size_t seq;
	void *obj;
};

struct nvt_ring {
	enum nvt_ring_type type;
	size_t mask;

	/* Next position to enqueue; written by the producer(s) only. */
	alignas(RING_CACHE_LINE) atomic_size_t tail;

	/* Next position to dequeue; written by the consumer (MPMC: claimed by CAS). */
	alignas(RING_CACHE_LINE) atomic_size_t head;

	alignas(RING_CACHE_LINE) struct ring_slot slots[];
};

static size_t
round_up_pow2(size_t n)
{
	size_t v = 2;

	while (v < n) {
		v <<= 1;
	}
	return v;
}

struct nvt_ring *
nvt_ring_create(enum nvt_ring_type type, size_t count)
{
	struct nvt_ring *ring;
	size_t cap, i;

	if (count == 0 || count > RING_MAX_COUNT ||
	    (type != NVT_RING_SPSC && type != NVT_RING_MPSC && type != NVT_RING_MPMC)) {
		return NULL;
	}
	cap = round_up_pow2(count);
	if (posix_memalign((void **)&ring, RING_CACHE_LINE,
			   sizeof(*ring) + cap * sizeof(struct ring_slot)) != 0) {
		return NULL;
	}
	memset(ring, 0, sizeof(*ring));
	ring->type = type;
	ring->mask = cap - 1;
	atomic_init(&ring->tail, 0);
	atomic_init(&ring->head, 0);
	for (i = 0; i < cap; i++) {
		atomic_init(&ring->slots[i].seq, i);
		ring->slots[i].obj = NULL;
	}
	return ring;
}

void
nvt_ring_free(struct nvt_ring **ring)
{
	if (ring == NULL) {
		return;
	}
	free(*ring);
	*ring = NULL;
}

static size_t
spsc_enqueue(struct nvt_ring *ring, void **objs, size_t count)
{
	size_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
	/* Pairs with the release in spsc_dequeue: the consumer is done with freed slots. */
	size_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
	size_t n = NVT_MIN(count, ring->mask + 1 - (tail - head));
	size_t i;

	for (i = 0; i < n; i++) {
		ring->slots[(tail + i) & ring->mask].obj = objs[i];
	}
	/* Pairs with the acquire in spsc_dequeue: publishes the objects written above. */
	atomic_store_explicit(&ring->tail, tail + n, memory_order_release);
	return n;
}

static size_t
spsc_dequeue(struct nvt_ring *ring, void **objs, size_t count)
{
	size_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
	/* Pairs with the release in spsc_enqueue. */
	size_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
	size_t n = NVT_MIN(count, tail - head);
	size_t i;

	for (i = 0; i < n; i++) {
		objs[i] = ring->slots[(head + i) & ring->mask].obj;
	}
	/* Pairs with the acquire in spsc_enqueue: the slots may now be overwritten. */
	atomic_store_explicit(&ring->head, head + n, memory_order_release);
	return n;
}

/* Number of consecutive slots from pos that the consumer has released for this lap. */
static size_t
mpsc_free_run(struct nvt_ring *ring, size_t pos, size_t count, intptr_t *first_dif)
{
	size_t i, seq;

	for (i = 0; i < count; i++) {
		/* Pairs with the release in mpsc_dequeue or mpmc_dequeue that freed the slot. */
		seq = atomic_load_explicit(&ring->slots[(pos + i) & ring->mask].seq,
					   memory_order_acquire);
		if (i == 0) {
			*first_dif = (intptr_t)(seq - pos);
		}
		if (seq != pos + i) {
			break;
		}
	}
	return i;
}

/* Also the enqueue of MPMC rings: producers claim positions the same way. */
static size_t
mpsc_enqueue(struct nvt_ring *ring, void **objs, size_t count)
{
	size_t pos = atomic_load_explicit(&ring->tail, memory_order_relaxed);
	intptr_t dif = 0;
	size_t n, i;
	struct ring_slot *slot;

	for (;;) {
		n = mpsc_free_run(ring, pos, count, &dif);
		if (n == 0 && dif < 0) {
			/* The slot still holds the element from the previous lap: full. */
			return 0;
		}
		/*
		 * Positions are only ever claimed through this CAS, so winning it makes
		 * pos .. pos + n - 1 ours; their slots were free and nobody else can fill them.
		 * A failed CAS reloads pos.
		 */
		if (n > 0 && atomic_compare_exchange_weak_explicit(&ring->tail, &pos, pos + n,
								   memory_order_relaxed,
								   memory_order_relaxed)) {
			break;
		}
		if (n == 0) {
			/* Another producer already claimed pos; catch up. */
			pos = atomic_load_explicit(&ring->tail, memory_order_relaxed);
		}
	}
	for (i = 0; i < n; i++) {
		slot = &ring->slots[(pos + i) & ring->mask];
		slot->obj = objs[i];
		/* Pairs with the acquire in mpsc_dequeue: publishes obj. */
		atomic_store_explicit(&slot->seq, pos + i + 1, memory_order_release);
	}
	return n;
}

static size_t
mpsc_dequeue(struct nvt_ring *ring, void **objs, size_t count)
{
	size_t pos = atomic_load_explicit(&ring->head, memory_order_relaxed);
	struct ring_slot *slot;
	size_t i;

	for (i = 0; i < count; i++) {
		slot = &ring->slots[(pos + i) & ring->mask];
		/*
		 * Pairs with the release in mpsc_enqueue. A slot claimed but not yet published
		 * ends the batch: order is kept even if a later producer has finished.
		 */
		if (atomic_load_explicit(&slot->seq, memory_order_acquire) != pos + i + 1) {
			break;
		}
		objs[i] = slot->obj;
		/* Pairs with the acquire in mpsc_free_run: the slot is free for the next lap. */
		atomic_store_explicit(&slot->seq, pos + i + ring->mask + 1, memory_order_release);
	}
	atomic_store_explicit(&ring->head, pos + i, memory_order_relaxed);
	return i;
}

/* Number of consecutive slots from pos published for this lap and not yet taken. */
static size_t
mpmc_ready_run(struct nvt_ring *ring, size_t pos, size_t count, intptr_t *first_dif)
{
	size_t i, seq;

	for (i = 0; i < count; i++) {
		/* Pairs with the release in mpsc_enqueue that published the slot. */
		seq = atomic_load_explicit(&ring->slots[(pos + i) & ring->mask].seq,
					   memory_order_acquire);
		if (i == 0) {
			*first_dif = (intptr_t)(seq - (pos + 1));
		}
		if (seq != pos + i + 1) {
			break;
		}
	}
	return i;
}

static size_t
mpmc_dequeue(struct nvt_ring *ring, void **objs, size_t count)
{
	size_t pos = atomic_load_explicit(&ring->head, memory_order_relaxed);
	struct ring_slot *slot;
	intptr_t dif = 0;
	size_t n, i;

	for (;;) {
		n = mpmc_ready_run(ring, pos, count, &dif);
		if (n == 0 && dif < 0) {
			/* Not published yet for this lap: empty, or a producer is mid-enqueue. */
			return 0;
		}
		/*
		 * head only grows and a slot is released only by the consumer that claimed it, so
		 * while head is still pos the run found above stays published; winning the CAS
		 * makes it ours. A failed CAS reloads pos.
		 */
		if (n > 0 && atomic_compare_exchange_weak_explicit(&ring->head, &pos, pos + n,
								   memory_order_relaxed,
								   memory_order_relaxed)) {
			break;
		}
		if (n == 0) {
			/* Another consumer already took pos; catch up. */
			pos = atomic_load_explicit(&ring->head, memory_order_relaxed);
		}
	}
	for (i = 0; i < n; i++) {
		slot = &ring->slots[(pos + i) & ring->mask];
		objs[i] = slot->obj;
		/* Pairs with the acquire in mpsc_free_run: the slot is free for the next lap. */
		atomic_store_explicit(&slot->seq, pos + i + ring->mask + 1, memory_order_release);
	}
	return n;
}

size_t
nvt_ring_enqueue(struct nvt_ring *ring, void **objs, size_t count)
{
	if (count == 0) {
		return 0;
	}
	if (ring->type == NVT_RING_SPSC) {
		return spsc_enqueue(ring, objs, count);
	}
	return mpsc_enqueue(ring, objs, count);
}

size_t
nvt_ring_dequeue(struct nvt_ring *ring, void **objs, size_t count)
{
	if (count == 0) {
		return 0;
	}
	if (ring->type == NVT_RING_SPSC) {
		return spsc_dequeue(ring, objs, count);
	}
	if (ring->type == NVT_RING_MPMC) {
		return mpmc_dequeue(ring, objs, count);
	}
	return mpsc_dequeue(ring, objs, count);
}

size_t
nvt_ring_count(struct nvt_ring *ring)
{
	size_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
	size_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);

	/* head may have moved on after we read it, so tail - head can overshoot briefly. */
	return NVT_MIN(tail - head, ring->mask + 1);
}

size_t
nvt_ring_capacity(const struct nvt_ring *ring)
{
	return ring->mask + 1;
}
