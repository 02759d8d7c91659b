/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals shared by the files of the thread library. Every field of an
 * nvt_thread is owned by the OS thread that polls it, except where a field
 * says otherwise.
 */
#ifndef NVT_THREAD_INTERNAL_H
#define NVT_THREAD_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "nvtcp/queue.h"
#include "nvtcp/ring.h"
#include "nvtcp/thread.h"

#define POLLER_NAME_LEN 64

/* Slots of a thread's message ring: big enough that its overflow list (msg.c) stays rare. */
#define MSG_RING_SIZE 16384

/* Grace period of nvt_thread_exit() before a thread is forced out. */
#define THREAD_EXIT_TIMEOUT_SEC 5

enum poller_state {
	POLLER_STATE_WAITING,	   /* in the active list or the timer heap */
	POLLER_STATE_RUNNING,	   /* its callback is executing */
	POLLER_STATE_UNREGISTERED, /* freed by the loop that next meets it */
	POLLER_STATE_PAUSING,	   /* moved to the paused list by the loop */
	POLLER_STATE_PAUSED,	   /* in the paused list */
};

struct nvt_poller {
	TAILQ_ENTRY(nvt_poller) link; /* active or paused list */
	struct nvt_thread *thread;
	enum poller_state state;
	uint64_t period_ticks; /* 0: runs every iteration */
	uint64_t next_run;     /* timed pollers: tick at which it is due */
	uint64_t seq;	       /* timed pollers: orders equal expiries FIFO */
	uint32_t heap_idx;     /* position in the timer heap, or HEAP_NONE */
	bool no_wakeup;	       /* timed: never wakes a sleeping thread (nvt_poller_no_wakeup()) */
	uint64_t id;	       /* unique on its thread, from 1 (thread_get_pollers) */
	uint64_t slack_ticks;  /* timed: how late it may wake a sleeping thread (set_slack) */
	nvt_poller_fn fn;
	void *arg;
	struct nvt_poller_stats stats;
	char name[POLLER_NAME_LEN];
};

#define HEAP_NONE UINT32_MAX

enum thread_state {
	THREAD_STATE_RUNNING,
	THREAD_STATE_EXITING, /* nvt_thread_exit() called, waiting for releases */
	THREAD_STATE_EXITED,  /* may be destroyed */
};

TAILQ_HEAD(poller_list, nvt_poller);

struct nvt_thread {
	uint64_t id;
	char name[NVT_THREAD_NAME_LEN];
	struct nvt_cpuset cpumask;
	_Atomic int state; /* enum thread_state; read by any thread */
	/*
	 * Messages in the overflow list; read by every sender (next to state,
	 * which they read too), changed under overflow_lock. See msg.c.
	 */
	_Atomic uint32_t overflow_count;
	uint64_t exit_deadline;

	struct nvt_ring *msgs; /* MPSC: any thread enqueues */
	/* Messages that found the ring full (or overflow_count set), oldest first. */
	pthread_mutex_t overflow_lock;
	struct nvt_thread_msg *overflow_head; /* under overflow_lock */
	struct nvt_thread_msg *overflow_tail; /* under overflow_lock */
	/* Heap messages this thread ran, kept for its own sends. */
	struct nvt_thread_msg *msg_cache;
	uint32_t msg_cache_count;

	struct poller_list active_pollers;
	struct poller_list paused_pollers;
	struct nvt_poller **timers; /* min-heap by (next_run, seq) */
	uint32_t timer_count;
	uint32_t timer_cap;
	uint32_t poller_count; /* registered and not unregistered */
	uint64_t poller_seq;
	uint64_t last_poller_id; /* ids given out on this thread */

	/* io-channels: changed under g_lock so for_each_channel can look */
	TAILQ_HEAD(, nvt_io_channel) io_channels;
	uint32_t channel_count;

	/* written by the owner, read racily (whole words) by others */
	struct nvt_thread_stats stats;
	/* Ticks at the start of the current (or last) poll; owning thread. */
	uint64_t last_tsc;

	/* interrupt mode */
	int epfd;	      /* the interrupt fd: efd + tfd + wakeup fds */
	int efd;	      /* eventfd kicked by senders while sleeping */
	int tfd;	      /* timerfd for the next timed poller */
	uint64_t timer_armed; /* absolute tick the timerfd is set to; 0: none */
	_Atomic int sleeping; /* 1 between prepare_sleep and a kick/end_sleep */
	_Atomic int woken;    /* set by nvt_thread_wakeup() before it writes efd */
	bool efd_pending;     /* efd was (or is about to be) written: read it */

	TAILQ_ENTRY(nvt_thread) link; /* g_threads, under g_lock */

	/* scheduler context, ctx_sz bytes */
	uint8_t ctx[] __attribute__((aligned(16)));
};

/* Protects the thread list and the io-device list (never the I/O path). */
extern pthread_mutex_t g_lock;
extern TAILQ_HEAD(thread_list, nvt_thread) g_threads;
/* The thread this OS thread is polling (nvt_get_thread()). */
extern __thread struct nvt_thread *tls_thread;

/* msg.c */
/* Run up to max_msgs messages (0: a default batch); returns how many ran. */
uint32_t thread_run_msgs(struct nvt_thread *thread, uint32_t max_msgs);
/* Whether messages wait, in the ring or the overflow list (a snapshot for others). */
bool thread_has_msgs(struct nvt_thread *thread);
/* Drop what is still queued and free the message cache; on destroy. */
void thread_free_msgs(struct nvt_thread *thread);

/* poller.c */
int thread_run_pollers(struct nvt_thread *thread, uint64_t now);
uint64_t thread_next_timer(const struct nvt_thread *thread);
/* The earliest expiry of the timed pollers that may wake the thread; UINT64_MAX if none. */
uint64_t thread_next_wakeup_timer(const struct nvt_thread *thread);
void thread_release_pollers(struct nvt_thread *thread, bool report);
/* Make the timed pollers that do not wake due at \p now; on a wakeup from sleep. */
void thread_due_lazy_pollers(struct nvt_thread *thread, uint64_t now);

/* io_channel.c */
void thread_report_channels(struct nvt_thread *thread);
void thread_release_devices(void);

#endif /* NVT_THREAD_INTERNAL_H */
