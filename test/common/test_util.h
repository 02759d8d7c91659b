/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the functional tests in C share besides the daemon (test_daemon.h):
 * a free TCP port, a temporary directory, small text files and the report of
 * checks. Errors are negative errno values; nothing here exits, and only
 * nvt_test_check() prints.
 */
#ifndef NVT_TEST_UTIL_H
#define NVT_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * A TCP port on 127.0.0.1 that nobody listens on now (the kernel's pick for a
 * socket bound to port 0), or -errno. Another process may take it before the
 * test's daemon binds it: the functional tests run one at a time.
 */
int nvt_test_free_port(void);

/*
 * Create the directory "<base>/<name>-XXXXXX" (mkdtemp) and put its path in
 * \p dir (\p len bytes): <base> is $TMPDIR when set and not empty, else
 * \p fallback. 0, or -errno (-ENAMETOOLONG when the path does not fit), with
 * \p dir "" then. The caller owns the directory: nvt_test_tmpdir_remove().
 */
int nvt_test_tmpdir_create(char *dir, size_t len, const char *fallback, const char *name);

/*
 * Remove \p dir and everything below it; links are removed, never followed.
 * 0 (also for ""), or the -errno of the first entry that could not be
 * removed (the others are still removed).
 */
int nvt_test_tmpdir_remove(const char *dir);

/* "\p dir/\p name" into \p buf (\p len bytes): 0, or -ENAMETOOLONG. */
int nvt_test_path(char *buf, size_t len, const char *dir, const char *name);

/* Create or truncate \p path (mode 0644 less the umask) and write \p text: 0 or -errno. */
int nvt_test_write_file(const char *path, const char *text);

/*
 * One check of a test that goes on after a failure: prints "ok: <what>" or
 * "FAIL: <what>" on stdout (flushed, so that it interleaves with the
 * daemon's output) and counts it. Returns \p ok. Any thread, one at a time.
 */
bool nvt_test_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The checks counted so far by nvt_test_check(). */
unsigned int nvt_test_checks_passed(void);
unsigned int nvt_test_checks_failed(void);

/*
 * Read up to \p len - 1 bytes of \p path into \p buf, NUL-terminated ("" on
 * error): the bytes read, or -errno. A longer file is cut; /proc files work.
 */
ssize_t nvt_test_read_file(const char *path, char *buf, size_t len);

#endif /* NVT_TEST_UTIL_H */
