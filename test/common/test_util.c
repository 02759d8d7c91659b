/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports, temporary directories and text files for the functional tests
 * (test_util.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_util.h"

int
nvt_test_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0) {
		return -errno;
	}
	if (bind(fd, (struct sockaddr *)&sa, len) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		rc = -errno;
	}
	close(fd);
	return rc != 0 ? rc : ntohs(sa.sin_port);
}

int
nvt_test_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n >= 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

int
nvt_test_tmpdir_create(char *dir, size_t len, const char *fallback, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	char leaf[256];
	int rc;

	snprintf(leaf, sizeof(leaf), "%s-XXXXXX", name);
	rc = nvt_test_path(dir, len, tmp != NULL && tmp[0] != '\0' ? tmp : fallback, leaf);
	if (rc == 0 && mkdtemp(dir) == NULL) {
		rc = -errno;
	}
	if (rc != 0 && len > 0) {
		dir[0] = '\0';
	}
	return rc;
}

/* nftw() passes no argument to its callback: the first error of the walk under way. */
static int g_remove_rc;

static int
remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	if (remove(path) != 0 && g_remove_rc == 0) {
		g_remove_rc = -errno;
	}
	return 0;
}

int
nvt_test_tmpdir_remove(const char *dir)
{
	if (dir[0] == '\0') {
		return 0;
	}
	g_remove_rc = 0;
	/* Children before their directory, links as links. */
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && g_remove_rc == 0) {
		g_remove_rc = -errno;
	}
	return g_remove_rc;
}

int
nvt_test_write_file(const char *path, const char *text)
{
	size_t len = strlen(text), done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), rc = 0;
	ssize_t n;

	if (fd < 0) {
		return -errno;
	}
	while (rc == 0 && done < len) {
		n = write(fd, text + done, len - done);
		if (n > 0) {
			done += (size_t)n;
		} else if (n < 0 && errno != EINTR) {
			rc = -errno;
		}
	}
	if (close(fd) != 0 && rc == 0) {
		rc = -errno;
	}
	return rc;
}

ssize_t
nvt_test_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n = 0, rc;

	buf[0] = '\0';
	if (fd < 0) {
		return -errno;
	}
	/* /proc files come in pieces: read to the end or to a full buffer. */
	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		got += (size_t)n;
	}
	rc = n < 0 ? -errno : (ssize_t)got;
	close(fd);
	buf[rc < 0 ? 0 : got] = '\0';
	return rc;
}

static unsigned int g_checks_passed;
static unsigned int g_checks_failed;

bool
nvt_test_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(ok ? "ok: " : "FAIL: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
	if (ok) {
		g_checks_passed++;
	} else {
		g_checks_failed++;
	}
	return ok;
}

unsigned int
nvt_test_checks_passed(void)
{
	return g_checks_passed;
}

unsigned int
nvt_test_checks_failed(void)
{
	return g_checks_failed;
}
