/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * Reactors, events and the application framework.
 *
 * One reactor runs per core of the core mask, each a pthread pinned to its
 * core, polling the nvt_threads placed on it. A reactor receives work from
 * other OS threads as events on its lock-free MPSC ring. New threads are
 * placed by cpumask: the creator picks an allowed core and sends that core's
 * reactor a "schedule thread" event.
 *
 * By default a reactor whose threads stay idle for idle_us sleeps in
 * epoll_wait() and wakes on the first event, message, due timer or ready fd
 * (interrupt mode); `polling` keeps it spinning.
 */
#ifndef NVTCP_EVENT_H
#define NVTCP_EVENT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvtcp/thread.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nvt_event;

/** An event handler; runs on the reactor's pthread, outside any nvt_thread. */
typedef void (*nvt_event_fn)(void *arg1, void *arg2);

/** Called on the app thread when SIGINT/SIGTERM arrives (or on nvt_app_start_shutdown()). */
typedef void (*nvt_app_shutdown_cb)(void);

/** Options of nvt_app_start(). Initialise with nvt_app_opts_init(). */
struct nvt_app_opts {
	/** sizeof(struct nvt_app_opts) as the caller knows it. */
	size_t opts_size;
	/** Program name for logs. */
	const char *name;
	/** Cores to run reactors on (see nvt_cpuset_parse()); default "0x1". */
	const char *reactor_mask;
	/** Keep polling even when idle (no interrupt mode). */
	bool polling;
	/** Idle time after which a reactor sleeps, in microseconds. */
	uint64_t idle_us;
	/** Log level; default NVT_LOG_NOTICE. */
	int log_level;
	/** Called on the app thread on SIGINT/SIGTERM; NULL stops the app with rc 0. */
	nvt_app_shutdown_cb shutdown_cb;
	/** JSON configuration file (-c), or NULL. Read by the application. */
	const char *json_config_file;
	/** JSON-RPC listen address (-r), or NULL. Used by the application. */
	const char *rpc_addr;
};

/** Fill \p opts with defaults; \p opts_size is sizeof(*opts) of the caller. */
void nvt_app_opts_init(struct nvt_app_opts *opts, size_t opts_size);

enum nvt_app_parse_args_rvals {
	NVT_APP_PARSE_ARGS_HELP = 0,	/**< --help was printed; exit 0 */
	NVT_APP_PARSE_ARGS_SUCCESS = 1, /**< go on */
	NVT_APP_PARSE_ARGS_FAIL = 2,	/**< bad arguments (reported); exit non-zero */
};

/**
 * Parse the common options (-m/--cpumask, -L/--logflag, --log-level,
 * --polling, --idle-us, -c/--config, -r/--rpc-socket, -h/--help) and the
 * application's own: \p app_getopt_str and \p app_long_opts are handed to
 * \p app_parse (which returns 0 or -EINVAL) and described by \p app_usage.
 * Non-option arguments are refused.
 */
enum nvt_app_parse_args_rvals nvt_app_parse_args(int argc, char **argv, struct nvt_app_opts *opts,
						 const char *app_getopt_str,
						 const struct option *app_long_opts,
						 int (*app_parse)(int ch, char *arg),
						 void (*app_usage)(void));

/** Print the common options (what --help prints before the application's). */
void nvt_app_usage(void);

/**
 * Start the reactors and run \p start_fn(\p ctx) on the app thread (an
 * nvt_thread on the first core). Blocks the calling OS thread, which becomes
 * the first core's reactor, until nvt_app_stop(); by then every thread has
 * exited and every reactor has stopped.
 *
 * \return the rc given to nvt_app_stop(), or -errno when start-up failed
 * (bad core mask, unavailable core, ...), reported in the log.
 */
int nvt_app_start(const struct nvt_app_opts *opts, nvt_msg_fn start_fn, void *ctx);

/**
 * Stop the application: every thread is asked to exit; reactors stop once
 * their threads have exited. Any OS thread; first call's \p rc wins.
 */
void nvt_app_stop(int rc);

/** Run the shutdown callback on the app thread, as a signal would. */
void nvt_app_start_shutdown(void);

/** Release what nvt_app_start() left (thread library, logs). */
void nvt_app_fini(void);

/** The app thread, or NULL when no app runs. */
struct nvt_thread *nvt_app_get_thread(void);

/** Whether the app is stopping. */
bool nvt_app_is_stopping(void);

/**
 * Allocate an event that runs \p fn(\p arg1, \p arg2) on the reactor of
 * \p lcore. Any OS thread.
 *
 * \return the event, or NULL (no such reactor, or out of memory).
 */
struct nvt_event *nvt_event_allocate(uint32_t lcore, nvt_event_fn fn, void *arg1, void *arg2);

/** Queue the event on its reactor; the event is freed after it ran. Any OS thread. */
void nvt_event_call(struct nvt_event *event);

/** The core of the calling reactor, or UINT32_MAX off reactors. */
uint32_t nvt_env_get_current_core(void);

/** Lowest core of the running app's mask (the app thread's core). */
uint32_t nvt_env_get_first_core(void);

/** Next core of the mask after \p prev, or UINT32_MAX. */
uint32_t nvt_env_get_next_core(uint32_t prev);

/** Number of reactors. */
uint32_t nvt_env_get_core_count(void);

/** The running app's core mask. */
const struct nvt_cpuset *nvt_env_get_core_mask(void);

#define NVT_ENV_FOREACH_CORE(i) \
	for ((i) = nvt_env_get_first_core(); (i) < UINT32_MAX; (i) = nvt_env_get_next_core(i))

/** Reactor accounting, in ticks. busy + idle + sleep covers its whole life. */
struct nvt_reactor_stats {
	uint64_t busy_tsc;     /**< iterations where some thread did work */
	uint64_t idle_tsc;     /**< iterations where none did (polling) */
	uint64_t sleep_tsc;    /**< time spent asleep in epoll_wait() */
	uint64_t sleep_count;  /**< times it went to sleep */
	uint32_t thread_count; /**< threads placed on it now */
	bool interrupt_mode;   /**< whether it may sleep */
	bool sleeping;	       /**< asleep in epoll_wait() when read */
};

/** Read the accounting of the reactor of \p lcore; 0 or -ENOENT. Any OS thread. */
int nvt_reactor_get_stats(uint32_t lcore, struct nvt_reactor_stats *stats);

/** One reactor in a snapshot of nvt_reactors_get_stats(). */
struct nvt_reactor_snapshot {
	uint32_t lcore;
	struct nvt_reactor_stats stats;
};

/**
 * Receives the reactors' accounting, one entry per core of the mask in
 * core order; \p snaps is valid during the call only (NULL and \p count 0
 * when \p status is a negative errno).
 */
typedef void (*nvt_reactors_stats_cb)(const struct nvt_reactor_snapshot *snaps, uint32_t count,
				      int status, void *ctx);

/**
 * Read every reactor's accounting without waking any (a sleeping reactor
 * stays asleep: its words are read as nvt_reactor_get_stats() reads them)
 * and hand it to \p cb, later, on the calling thread. Call from an
 * nvt_thread; \p cb runs exactly once.
 *
 * \return 0 (\p cb will run), -EINVAL off any nvt_thread or with no app
 * running, -ENOMEM; \p cb never runs then.
 */
int nvt_reactors_get_stats(nvt_reactors_stats_cb cb, void *ctx);

/** Move the current thread to \p lcore (a thin wrapper on nvt_thread_set_cpumask()). */
int nvt_thread_move_to_core(uint32_t lcore);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_EVENT_H */
