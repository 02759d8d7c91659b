/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * Bounded lock-free rings of pointers.
 *
 * A ring holds up to its capacity of `void *` elements. Producers and
 * consumers never take a lock; a producer that finds the ring full gets a
 * short count back, never blocks. The type says who may call what:
 *
 * - NVT_RING_SPSC: one producer thread and one consumer thread.
 * - NVT_RING_MPSC: any number of producer threads, one consumer thread.
 *   A producer preempted half-way through an enqueue never blocks other
 *   producers (each slot carries its own sequence number).
 * - NVT_RING_MPMC: any number of producer and consumer threads. Consumers
 *   claim positions the way producers do, so a dequeue may come back short
 *   while another thread is half-way through its enqueue or dequeue.
 */
#ifndef NVTCP_RING_H
#define NVTCP_RING_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum nvt_ring_type {
	/** One producer thread, one consumer thread. */
	NVT_RING_SPSC,
	/** Many producer threads, one consumer thread. */
	NVT_RING_MPSC,
	/** Many producer threads, many consumer threads. */
	NVT_RING_MPMC,
};

struct nvt_ring;

/**
 * Create a ring.
 *
 * \param type Who may enqueue and dequeue, see enum nvt_ring_type.
 * \param count Minimum capacity; rounded up to a power of two (at least 2).
 * \return the ring, or NULL when \p count is 0, too large, or memory is short.
 */
struct nvt_ring *nvt_ring_create(enum nvt_ring_type type, size_t count);

/**
 * Free a ring and set the caller's pointer to NULL. Elements still queued are
 * dropped, not freed. No thread may use the ring concurrently.
 *
 * \param ring Address of the ring pointer; NULL or a NULL ring is a no-op.
 */
void nvt_ring_free(struct nvt_ring **ring);

/**
 * Enqueue up to \p count elements, in order.
 *
 * \return how many were enqueued, from 0 (full) to \p count. The first n
 * elements of \p objs went in; the caller still owns the rest.
 */
size_t nvt_ring_enqueue(struct nvt_ring *ring, void **objs, size_t count);

/**
 * Dequeue up to \p count elements, oldest first. Only the consumer thread
 * (any thread for NVT_RING_MPMC).
 *
 * \return how many were stored in \p objs (0 when the ring is empty).
 */
size_t nvt_ring_dequeue(struct nvt_ring *ring, void **objs, size_t count);

/**
 * Number of elements queued. Exact for the consumer thread when no producer
 * is active; otherwise a snapshot.
 */
size_t nvt_ring_count(struct nvt_ring *ring);

/** Capacity of the ring (a power of two). */
size_t nvt_ring_capacity(const struct nvt_ring *ring);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_RING_H */
