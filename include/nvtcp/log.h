/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * Logging with levels and per-component debug flags.
 *
 * Messages at or above the current level go to the log sink (stderr by
 * default), one write per line so lines from different threads never mix.
 * Debug messages of a component print only while that component's flag is
 * on (`-L thread` on the command line of every program, as in SPDK).
 * All functions are thread-safe.
 */
#ifndef NVTCP_LOG_H
#define NVTCP_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

enum nvt_log_level {
	NVT_LOG_DISABLED = -1,
	NVT_LOG_ERROR = 0,
	NVT_LOG_WARN = 1,
	NVT_LOG_NOTICE = 2,
	NVT_LOG_INFO = 3,
	NVT_LOG_DEBUG = 4,
};

/** A component's debug switch; define one with NVT_LOG_REGISTER_COMPONENT(). */
struct nvt_log_flag {
	struct nvt_log_flag *next; /**< registry link, owned by the log library */
	const char *name;
	bool enabled;
};

/**
 * Sink for formatted lines. \p line carries no trailing newline. Called from
 * whichever thread logged; must be thread-safe.
 */
typedef void (*nvt_log_sink_fn)(enum nvt_log_level level, const char *line, void *ctx);

/** Messages below \p level (less severe) are dropped. Default NVT_LOG_NOTICE. */
void nvt_log_set_level(enum nvt_log_level level);
enum nvt_log_level nvt_log_get_level(void);

/** Parse "error", "warn", "notice", "info", "debug" (case-insensitive); -1 if unknown. */
enum nvt_log_level nvt_log_level_from_str(const char *str);

/**
 * Redirect log lines to \p sink (NULL restores stderr). Used by tests to
 * check that an error was reported.
 */
void nvt_log_set_sink(nvt_log_sink_fn sink, void *ctx);

/** Register a component flag; called by NVT_LOG_REGISTER_COMPONENT() at load time. */
void nvt_log_register_flag(struct nvt_log_flag *flag);

/**
 * Turn a component's debug flag on or off. "all" matches every component.
 * Turning a flag on also lowers the level to NVT_LOG_DEBUG when needed.
 *
 * \return 0, or -EINVAL when no component of that name exists.
 */
int nvt_log_set_flag(const char *name, bool enabled);

/** Whether the named component's flag is on (false when unknown). */
bool nvt_log_get_flag(const char *name);

/** Call \p fn for every registered component flag, in name order. */
void nvt_log_foreach_flag(void (*fn)(const struct nvt_log_flag *flag, void *ctx), void *ctx);

/** Format and emit one message; use the NVT_*LOG macros instead. */
void nvt_log(enum nvt_log_level level, const char *file, int line, const char *func,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void nvt_vlog(enum nvt_log_level level, const char *file, int line, const char *func,
	      const char *fmt, va_list ap);

/**
 * Define the debug flag of a component, e.g. NVT_LOG_REGISTER_COMPONENT(thread),
 * once in one .c file; NVT_DEBUGLOG(thread, ...) then uses it.
 */
#define NVT_LOG_REGISTER_COMPONENT(flagname)                                       \
	struct nvt_log_flag nvt_log_flag_##flagname = { .name = #flagname };       \
	__attribute__((constructor)) static void nvt_log_register_##flagname(void) \
	{                                                                          \
		nvt_log_register_flag(&nvt_log_flag_##flagname);                   \
	}

#define NVT_ERRLOG(...)	   nvt_log(NVT_LOG_ERROR, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define NVT_WARNLOG(...)   nvt_log(NVT_LOG_WARN, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define NVT_NOTICELOG(...) nvt_log(NVT_LOG_NOTICE, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define NVT_INFOLOG(...)   nvt_log(NVT_LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)

/** Debug message of component \p flagname; costs one branch while the flag is off. */
#define NVT_DEBUGLOG(flagname, ...)                                                        \
	do {                                                                               \
		extern struct nvt_log_flag nvt_log_flag_##flagname;                        \
		if (__builtin_expect(nvt_log_flag_##flagname.enabled, 0)) {                \
			nvt_log(NVT_LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__); \
		}                                                                          \
	} while (0)

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_LOG_H */
