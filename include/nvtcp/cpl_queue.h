/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * A completion hand-off from foreign OS threads (a library's callback
 * threads) to one nvt_thread, without locks: a multi-producer,
 * single-consumer stack of entries the caller embeds in its own objects.
 *
 * Producers push with a compare-and-swap; the producer that finds the stack
 * empty sends the queue's one caller-owned message (nvt_thread_send_msg_prealloc),
 * which also wakes the thread when it sleeps in interrupt mode: no poller,
 * no allocation. The message takes the whole stack with one exchange and
 * hands its entries to the consumer callback in push order.
 *
 * Why the one message is never found in flight: a push sends only onto an
 * empty stack; the stack stays non-empty from that push until the message's
 * exchange, and the thread library clears the message's in-flight mark before
 * the message function (the exchange) starts. So each send happens after the
 * previous message has started, and -EBUSY cannot occur.
 *
 * Lifetime: the consumer side runs exactly one exchange per message, so an
 * entry pushed onto an empty stack is not consumed before its producer's send
 * returned. The owner may destroy the queue once every entry it expects was
 * consumed (it counts them: each entry is one outstanding operation).
 */
#ifndef NVTCP_CPL_QUEUE_H
#define NVTCP_CPL_QUEUE_H

#include <stdint.h>

#include "nvtcp/thread.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Embed in the object a producer completes. */
struct nvt_cpl_entry {
	struct nvt_cpl_entry *next;
};

/** Called on the queue's thread for each entry, in push order. */
typedef void (*nvt_cpl_fn)(struct nvt_cpl_entry *entry, void *ctx);

struct nvt_cpl_queue {
	/* Private. The stack's top (atomic exchange only). */
	struct nvt_cpl_entry *top;
	struct nvt_thread *thread;
	nvt_cpl_fn fn;
	void *ctx;
	struct nvt_thread_msg msg;
	/* Sends that failed (the thread exited): entries then are lost. */
	uint64_t send_failures;
};

/** Set up \p q for \p thread (the consumer). On any thread, before any push. */
void nvt_cpl_queue_init(struct nvt_cpl_queue *q, struct nvt_thread *thread, nvt_cpl_fn fn,
			void *ctx);

/**
 * Hand \p entry to the queue's thread; \p fn runs for it there, never inside
 * this call. Any OS thread; lock-free (a compare-and-swap loop) but for the
 * one send.
 */
void nvt_cpl_queue_push(struct nvt_cpl_queue *q, struct nvt_cpl_entry *entry);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_CPL_QUEUE_H */
