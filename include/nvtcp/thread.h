/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * Lightweight threads, messages, pollers and io-channels.
 *
 * An nvt_thread is a unit of run-to-completion work: a message ring and a
 * set of pollers, owned by whichever OS thread calls nvt_thread_poll() on
 * it (a reactor of lib/event, or a test). Everything an nvt_thread owns is
 * touched only from that thread; other threads send it messages.
 *
 * Interrupt mode: a scheduler that finds a thread idle may sleep on the
 * thread's interrupt fd (nvt_thread_get_interrupt_fd()) after
 * nvt_thread_prepare_sleep(). The fd becomes readable when a message
 * arrives, when the next timed poller is due, or when a file descriptor added
 * with nvt_thread_add_wakeup_fd() is ready. Period-0 pollers do not run
 * while the thread sleeps: a poller that waits for I/O adds its fd.
 */
#ifndef NVTCP_THREAD_H
#define NVTCP_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvtcp/cpuset.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nvt_thread;
struct nvt_poller;
struct nvt_io_channel;
struct nvt_io_channel_iter;

/** Poller return values: whether the poller did work this time. */
enum nvt_poller_rc {
	NVT_POLLER_IDLE = 0,
	NVT_POLLER_BUSY = 1,
};

/** Longest thread name, NUL included. */
#define NVT_THREAD_NAME_LEN 64

/** A message or any work to run on a thread. */
typedef void (*nvt_msg_fn)(void *ctx);

/** A poller body; returns NVT_POLLER_BUSY if it did work, else NVT_POLLER_IDLE. */
typedef int (*nvt_poller_fn)(void *ctx);

/** What the scheduler is asked to do with a thread. */
enum nvt_thread_op {
	/** A new thread was created: place it on a core its cpumask allows. */
	NVT_THREAD_OP_NEW,
	/** The thread's cpumask changed: move it if its core is no longer allowed. */
	NVT_THREAD_OP_RESCHED,
};

/**
 * Scheduler hook given to nvt_thread_lib_init(). Called on the creating (or
 * rescheduled) thread's OS thread. Returns 0, or -errno to fail the creation.
 */
typedef int (*nvt_thread_op_fn)(struct nvt_thread *thread, enum nvt_thread_op op);

/** Busy and idle time of a thread, in ticks (see nvtcp/ticks.h). */
struct nvt_thread_stats {
	uint64_t busy_tsc; /**< time in polls that did work */
	uint64_t idle_tsc; /**< time in polls that did none */
};

/**
 * Initialise the thread library. Call once, before any other function here.
 *
 * \param op_fn Scheduler hook, or NULL: threads are then polled by the caller.
 * \param ctx_sz Bytes of scheduler context reserved in every thread
 *               (nvt_thread_get_ctx()).
 * \return 0, or -EALREADY.
 */
int nvt_thread_lib_init(nvt_thread_op_fn op_fn, size_t ctx_sz);

/**
 * Release the thread library. Every thread must have been destroyed and every
 * io-device unregistered; what is left is reported as an error.
 */
void nvt_thread_lib_fini(void);

/**
 * Create a thread. Any OS thread may call this.
 *
 * \param name Copied; NULL gives "thread<id>".
 * \param cpumask Cores the thread may run on; NULL means any core.
 * \return the thread, or NULL (out of memory, or the scheduler refused it).
 */
struct nvt_thread *nvt_thread_create(const char *name, const struct nvt_cpuset *cpumask);

/**
 * Ask the thread to exit. Only from the thread itself. The thread keeps
 * running messages and its pollers until every poller is unregistered and
 * every io-channel put, then becomes exited (nvt_thread_is_exited()). After
 * a grace period (5 s) it is forced to exit and what it still held is logged.
 */
void nvt_thread_exit(struct nvt_thread *thread);

/** Whether nvt_thread_exit() was called on the thread. */
bool nvt_thread_is_exiting(const struct nvt_thread *thread);

/** Whether the thread has finished exiting and may be destroyed. */
bool nvt_thread_is_exited(const struct nvt_thread *thread);

/**
 * Free an exited thread and set the caller's pointer to NULL. Called by
 * whoever polls the thread (the reactor); no message may be sent to it after.
 */
void nvt_thread_destroy(struct nvt_thread **thread);

/**
 * Run one iteration of a thread: up to \p max_msgs messages (0 = a default
 * batch), every period-0 poller, and the timed pollers that are due.
 *
 * \param now Current ticks; 0 reads the clock.
 * \return 1 if anything did work, 0 if the thread was idle.
 */
int nvt_thread_poll(struct nvt_thread *thread, uint32_t max_msgs, uint64_t now);

/** The thread running on this OS thread, or NULL. */
struct nvt_thread *nvt_get_thread(void);

/**
 * Make \p thread the current one of this OS thread (nvt_thread_poll() does so
 * for its duration). For tests and schedulers; NULL clears it.
 */
void nvt_set_thread(struct nvt_thread *thread);

const char *nvt_thread_get_name(const struct nvt_thread *thread);

/** Unique id, never 0, never reused while the library is initialised. */
uint64_t nvt_thread_get_id(const struct nvt_thread *thread);

/** Find a live thread by id; NULL if none. Any OS thread. */
struct nvt_thread *nvt_thread_get_by_id(uint64_t id);

/** The thread's cpumask (owned by the thread). */
const struct nvt_cpuset *nvt_thread_get_cpumask(const struct nvt_thread *thread);

/**
 * Change the current thread's cpumask; the scheduler moves it if needed
 * (NVT_THREAD_OP_RESCHED). Only from the thread itself.
 *
 * \return 0, -EINVAL (empty mask), -ENOTSUP (no scheduler).
 */
int nvt_thread_set_cpumask(const struct nvt_cpuset *cpumask);

/** The scheduler context area (ctx_sz bytes given to nvt_thread_lib_init()). */
void *nvt_thread_get_ctx(struct nvt_thread *thread);

/** The thread whose scheduler context is \p ctx. */
struct nvt_thread *nvt_thread_get_from_ctx(void *ctx);

/**
 * The ticks read when \p thread's current poll began: a clock for what runs
 * in it (messages, pollers) that costs no clock read, as coarse as one poll.
 * Owning thread.
 */
uint64_t nvt_thread_get_last_tsc(const struct nvt_thread *thread);

/** Busy and idle time of \p thread; other threads get a recent snapshot. */
void nvt_thread_get_stats(const struct nvt_thread *thread, struct nvt_thread_stats *stats);

/** Number of live threads. */
uint32_t nvt_thread_get_count(void);

/**
 * Send a message: \p fn(\p ctx) runs once on \p thread, after every message
 * sent to it earlier by the same sender (with either send function). Any OS
 * thread. Lock-free while the thread keeps up; when its ring is full the
 * message waits in an overflow list instead, so a burst never loses one.
 *
 * \return 0 (fn will run, never inside this call), -ENOMEM (no memory for
 * the message: fn will not run), -EIO (thread already exited).
 */
int nvt_thread_send_msg(const struct nvt_thread *thread, nvt_msg_fn fn, void *ctx);

/**
 * Storage for one message, owned by the caller: embedded in the object the
 * message concerns, it lets nvt_thread_send_msg_prealloc() send without
 * allocating. Zero it (calloc, `= { 0 }`, memset) before its first send.
 * Every field is private to the thread library.
 */
struct nvt_thread_msg {
	nvt_msg_fn fn;
	void *ctx;
	struct nvt_thread_msg *next; /* ring overflow list, or the free cache */
	int in_flight;		     /* 1 from the send until fn starts (__atomic) */
	bool prealloc;		     /* caller-owned storage, never freed or cached */
};

/**
 * Send a message in caller-owned storage: \p fn(\p ctx) runs once on
 * \p thread, in the same order as nvt_thread_send_msg() (after every message
 * sent to \p thread earlier by the same sender, with either function). It
 * never allocates: for the steps that must not be lost, such as a teardown or
 * the answer that completes an operation. Any OS thread.
 *
 * Ownership: \p msg is in flight from this call until \p fn starts. It must
 * stay valid and untouched that long; from then on it is the caller's again
 * and may be sent anew, also from \p fn itself. One storage carries one
 * message at a time: give each message that can be in flight at the same
 * time its own. A message still queued when its thread is destroyed is
 * dropped (fn never runs).
 *
 * \return 0 (fn will run, never inside this call), -EBUSY (\p msg is still
 * in flight: nothing changed, the message queued earlier runs as sent),
 * -EIO (thread already exited: fn will not run, \p msg is free).
 */
int nvt_thread_send_msg_prealloc(const struct nvt_thread *thread, struct nvt_thread_msg *msg,
				 nvt_msg_fn fn, void *ctx);

/**
 * Run \p fn(\p ctx) on every thread, one after the other, then \p cpl(\p ctx)
 * on the calling thread. Only from an nvt_thread.
 *
 * \return 0, or -ENOMEM (nothing runs).
 */
int nvt_for_each_thread(nvt_msg_fn fn, void *ctx, nvt_msg_fn cpl);

/**
 * Register a poller on the current thread.
 *
 * \param period_us 0: run on every iteration; otherwise at most once per
 *                  period, timed pollers running in order of expiry.
 * \param name Copied, for statistics and leak reports; NULL uses the address.
 * \return the poller, or NULL (no current thread, or out of memory).
 */
struct nvt_poller *nvt_poller_register(nvt_poller_fn fn, void *arg, uint64_t period_us,
				       const char *name);

/**
 * Unregister a poller and set the caller's pointer to NULL. Only from the
 * owning thread, also from inside the poller's own callback: the poller is
 * then freed after the callback returns and never runs again. NULL is a no-op.
 */
void nvt_poller_unregister(struct nvt_poller **poller);

/**
 * Make a timed poller one that never wakes a sleeping thread (interrupt
 * mode): while the thread polls it runs on its period; while the thread
 * sleeps it waits, and a wakeup through the thread's interrupt fd
 * (nvt_thread_end_sleep()) makes it due, so it runs at the first poll after
 * something woke the thread. For work that a wakeup fd announces (nvt_thread_add_wakeup_fd()),
 * such as a listening socket: the poller then costs no wakeup while idle,
 * and its work waits for no period once the fd woke the thread.
 * Owning thread only.
 */
void nvt_poller_no_wakeup(struct nvt_poller *poller);

/**
 * Let a timed poller wake a sleeping thread up to \p slack_us late (interrupt
 * mode; 0, the default: at once). It still runs when due while the thread
 * polls, and at the first poll after something else woke the thread; so
 * timers whose precision does not matter (deadlines such as keep alive)
 * share the wakeups that other work causes instead of each causing its own.
 * Owning thread only.
 */
void nvt_poller_set_slack(struct nvt_poller *poller, uint64_t slack_us);

/**
 * Stop running a poller until nvt_poller_resume(). Owning thread only; also
 * from the poller's own callback. Pausing a paused poller is a no-op.
 */
void nvt_poller_pause(struct nvt_poller *poller);

/**
 * Resume a paused poller. A timed poller next runs one full period after the
 * resume. Owning thread only.
 */
void nvt_poller_resume(struct nvt_poller *poller);

/** Whether the poller is paused (or being paused). */
bool nvt_poller_is_paused(const struct nvt_poller *poller);

/** Number of pollers registered on \p thread (paused ones included). */
uint32_t nvt_thread_get_poller_count(const struct nvt_thread *thread);

/** Per-poller statistics. */
struct nvt_poller_stats {
	uint64_t run_count;  /**< times the callback ran */
	uint64_t busy_count; /**< times it returned NVT_POLLER_BUSY */
};

void nvt_poller_get_stats(const struct nvt_poller *poller, struct nvt_poller_stats *stats);

/** Which of its thread's lists a poller is in, as SPDK's thread_get_pollers groups them. */
enum nvt_poller_kind {
	NVT_POLLER_KIND_ACTIVE = 0, /**< runs every iteration (period 0) */
	NVT_POLLER_KIND_TIMED,	    /**< runs every period_ticks */
	NVT_POLLER_KIND_PAUSED,	    /**< paused (nvt_poller_pause()) */
	NVT_POLLER_NUM_KINDS,
};

/** One poller as a stats reader sees it; valid during the visit only. */
struct nvt_poller_info {
	const char *name;
	uint64_t id;	   /**< unique on its thread, from 1, never reused */
	const char *state; /**< SPDK's words: "waiting", "running", "pausing", "paused" */
	enum nvt_poller_kind kind;
	uint64_t period_ticks; /**< 0 for active pollers */
	struct nvt_poller_stats stats;
};

/** Called by nvt_thread_foreach_poller() for each poller. */
typedef void (*nvt_poller_info_fn)(const struct nvt_poller_info *info, void *ctx);

/**
 * Visit the calling thread's registered pollers: active ones, then timed
 * ones, then paused ones. Reads the owner's own
 * counters, so only from the thread that owns them (say, in a message sent
 * there); \p fn must not register, unregister, pause or resume pollers.
 * Does nothing off any thread.
 */
void nvt_thread_foreach_poller(nvt_poller_info_fn fn, void *ctx);

/**
 * The calling thread's registered pollers per kind (counts[kind]); zeroes off
 * any thread. Owning thread only, as nvt_thread_foreach_poller().
 */
void nvt_thread_get_poller_counts(uint32_t counts[NVT_POLLER_NUM_KINDS]);

/* ---- interrupt mode (for schedulers) ---- */

/**
 * The thread's interrupt fd: an epoll fd that is readable when the thread
 * has work while it sleeps. Owned by the thread; do not close it.
 */
int nvt_thread_get_interrupt_fd(const struct nvt_thread *thread);

/**
 * Prepare the thread for sleep: arm its timer for the next timed poller and
 * make senders of messages write its eventfd. Owning OS thread only.
 *
 * \return true if the caller may sleep; false if work arrived meanwhile (the
 * thread is then not sleeping and the caller must poll it again).
 */
bool nvt_thread_prepare_sleep(struct nvt_thread *thread);

/**
 * End a sleep begun by nvt_thread_prepare_sleep(); drains the wakeup sources.
 * Its pollers that do not wake (nvt_poller_no_wakeup()) become due: one of
 * their wakeup fds may be what ended the sleep.
 */
void nvt_thread_end_sleep(struct nvt_thread *thread);

/**
 * nvt_thread_end_sleep(), for a caller that knows whether the thread's
 * interrupt fd was reported readable (a reactor sleeping on several threads'
 * fds at once): only if \p fd_ready may one of its wakeup fds have fired, and
 * only then do its pollers that do not wake become due (saving the system
 * call each would make to find nothing). Owning OS thread only.
 */
void nvt_thread_end_sleep_ready(struct nvt_thread *thread, bool fd_ready);

/**
 * Wake a sleeping thread without a message. Async-signal-safe; any thread.
 */
void nvt_thread_wakeup(struct nvt_thread *thread);

/**
 * Make readiness of \p fd (EPOLLIN, EPOLLOUT, ...) wake the current thread
 * while it sleeps. The caller keeps owning \p fd and must delete it before
 * closing it.
 *
 * \return 0 or -errno (-EEXIST when already added; -EINVAL off any thread).
 */
int nvt_thread_add_wakeup_fd(int fd, uint32_t epoll_events);

/** Change the events of an fd added with nvt_thread_add_wakeup_fd(). */
int nvt_thread_mod_wakeup_fd(int fd, uint32_t epoll_events);

/** Stop waking the current thread for \p fd. */
int nvt_thread_del_wakeup_fd(int fd);

/** Next tick at which a timed poller of \p thread is due; UINT64_MAX if none. */
uint64_t nvt_thread_next_poller_expiration(const struct nvt_thread *thread);

/* ---- io-devices and io-channels ---- */

/** Build the per-thread context \p ctx_buf of \p io_device; 0 or -errno. */
typedef int (*nvt_io_channel_create_cb)(void *io_device, void *ctx_buf);

/** Release what nvt_io_channel_create_cb built. */
typedef void (*nvt_io_channel_destroy_cb)(void *io_device, void *ctx_buf);

/** Called once an unregistered device has no channel left. */
typedef void (*nvt_io_device_unregister_cb)(void *io_device);

/** Called by nvt_for_each_channel() on each channel's thread. */
typedef void (*nvt_channel_msg)(struct nvt_io_channel_iter *iter);

/** Called by nvt_for_each_channel() when the iteration ends. */
typedef void (*nvt_channel_for_each_cpl)(struct nvt_io_channel_iter *iter, int status);

/**
 * Register an io-device: any unique pointer, usually the device object.
 * Any OS thread. Channels get \p ctx_size bytes of context, built by
 * \p create_cb on the thread that first gets a channel.
 *
 * \return 0, -EEXIST (already registered) or -ENOMEM.
 */
int nvt_io_device_register(void *io_device, nvt_io_channel_create_cb create_cb,
			   nvt_io_channel_destroy_cb destroy_cb, uint32_t ctx_size,
			   const char *name);

/**
 * Unregister an io-device. New channels can no longer be got; once the last
 * channel is destroyed, \p unregister_cb (may be NULL) runs on the calling
 * thread. Only from an nvt_thread.
 */
void nvt_io_device_unregister(void *io_device, nvt_io_device_unregister_cb unregister_cb);

/**
 * Get the current thread's channel to \p io_device, creating it on first use.
 * Each get takes one reference.
 *
 * \return the channel, or NULL (not registered, being unregistered, no
 * current thread, or create_cb failed).
 */
struct nvt_io_channel *nvt_get_io_channel(void *io_device);

/**
 * Drop one reference to a channel. When the count reaches 0 the channel is
 * destroyed by a message on its thread (a get before then cancels that).
 * Only on the channel's thread.
 */
void nvt_put_io_channel(struct nvt_io_channel *ch);

/** The per-thread context of a channel. */
void *nvt_io_channel_get_ctx(struct nvt_io_channel *ch);

/** The channel whose context is \p ctx. */
struct nvt_io_channel *nvt_io_channel_from_ctx(void *ctx);

struct nvt_thread *nvt_io_channel_get_thread(const struct nvt_io_channel *ch);
void *nvt_io_channel_get_io_device(const struct nvt_io_channel *ch);

/** Current reference count of a channel (for tests and leak reports). */
uint32_t nvt_io_channel_get_ref_count(const struct nvt_io_channel *ch);

/** Number of channels \p thread holds. */
uint32_t nvt_thread_get_channel_count(const struct nvt_thread *thread);

/** Called by nvt_thread_foreach_io_channel() with a channel's device name and references. */
typedef void (*nvt_io_channel_info_fn)(const char *name, uint32_t ref, void *ctx);

/**
 * Visit the calling thread's io-channels, oldest first. Owning thread only
 * (the list changes only there); \p fn must not get or put channels. Does
 * nothing off any thread.
 */
void nvt_thread_foreach_io_channel(nvt_io_channel_info_fn fn, void *ctx);

/**
 * Call \p fn on the thread of every channel of \p io_device, one at a time;
 * each call must end with nvt_for_each_channel_continue(). Then \p cpl runs
 * on the calling thread with the first non-zero status (which also stops the
 * iteration), or 0. Only from an nvt_thread.
 */
void nvt_for_each_channel(void *io_device, nvt_channel_msg fn, void *ctx,
			  nvt_channel_for_each_cpl cpl);

/** Go on to the next channel (\p status 0) or stop the iteration (non-zero). */
void nvt_for_each_channel_continue(struct nvt_io_channel_iter *iter, int status);

void *nvt_io_channel_iter_get_io_device(struct nvt_io_channel_iter *iter);
struct nvt_io_channel *nvt_io_channel_iter_get_channel(struct nvt_io_channel_iter *iter);
void *nvt_io_channel_iter_get_ctx(struct nvt_io_channel_iter *iter);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_THREAD_H */
