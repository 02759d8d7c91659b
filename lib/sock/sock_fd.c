/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Addresses and socket fds, shared by every implementation: all of them
 * use ordinary non-blocking TCP sockets and differ only in how they learn
 * about readiness and how they send.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "sock_internal.h"

void
sock_fmt_endpoint(const char *ip, int port, char *buf, size_t len)
{
	if (ip != NULL && strchr(ip, ':') != NULL && ip[0] != '[') {
		snprintf(buf, len, "[%s]:%d", ip, port);
	} else {
		snprintf(buf, len, "%s:%d", ip != NULL ? ip : "(null)", port);
	}
}

/* "[::1]" is accepted as well as "::1", as it is written in URLs and traddr. */
static int
sock_addr_strip(const char *ip, char *host, size_t len)
{
	size_t n = strlen(ip);

	if (n > 2 && ip[0] == '[' && ip[n - 1] == ']') {
		if (n - 2 >= len) {
			return -EINVAL;
		}
		memcpy(host, ip + 1, n - 2);
		host[n - 2] = '\0';
		return 0;
	}
	return nvt_strcpy_trunc(host, len, ip) == 0 ? 0 : -EINVAL;
}

/* IPv4 in dotted-quad form only: inet_aton's "127.1" or "1.2.3" are typos more often than not. */
static int
sock_addr_parse_v4(const char *host, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		return -EINVAL;
	}
	sin->sin_family = AF_INET;
	*len = sizeof(*sin);
	return 0;
}

/* getaddrinfo() rather than inet_pton() for the scope of link-local addresses ("fe80::1%eth0"). */
static int
sock_addr_parse_v6(const char *host, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { 0 }, *res = NULL;

	/* Numeric only: a name lookup could block the reactor for seconds. */
	hints.ai_family = AF_INET6;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
		return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int
sock_addr_parse(const char *ip, int port, bool passive, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[NI_MAXHOST];
	int rc;

	if (ip == NULL || ip[0] == '\0' || port < (passive ? 0 : 1) || port > 65535) {
		return -EINVAL;
	}
	if (sock_addr_strip(ip, host, sizeof(host)) != 0) {
		return -EINVAL;
	}
	if (strchr(host, ':') != NULL) {
		rc = sock_addr_parse_v6(host, ss, len);
	} else {
		rc = sock_addr_parse_v4(host, ss, len);
	}
	if (rc != 0) {
		return rc;
	}
	if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	} else {
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	}
	return 0;
}

int
sock_fd_set_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) == 0 ? 0 : -errno;
}

static int
sock_fd_apply_opts(int fd, const struct nvt_sock_opts *opts)
{
	int rc = 0;

	if (opts->recv_buf_size > 0) {
		rc = sock_fd_set_int(fd, SOL_SOCKET, SO_RCVBUF, opts->recv_buf_size);
	}
	if (rc == 0 && opts->send_buf_size > 0) {
		rc = sock_fd_set_int(fd, SOL_SOCKET, SO_SNDBUF, opts->send_buf_size);
	}
	if (rc == 0 && opts->priority != 0) {
		rc = sock_fd_set_int(fd, SOL_SOCKET, SO_PRIORITY, opts->priority);
	}
	if (rc == 0 && opts->nodelay) {
		rc = sock_fd_set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	}
	return rc;
}

static int
sock_fd_create(int family, const struct nvt_sock_opts *opts)
{
	int fd, rc;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		return -errno;
	}
	rc = sock_fd_apply_opts(fd, opts);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int
sock_fd_listen(const struct sockaddr_storage *ss, socklen_t len, const struct nvt_sock_opts *opts)
{
	int fd, rc;

	fd = sock_fd_create(ss->ss_family, opts);
	if (fd < 0) {
		return fd;
	}
	rc = sock_fd_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (rc == 0 && ss->ss_family == AF_INET6) {
		/* "::" must not take the IPv4 port too: a v4 listener may want it. */
		rc = sock_fd_set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	}
	if (rc == 0 && bind(fd, (const struct sockaddr *)ss, len) != 0) {
		rc = -errno;
	}
	if (rc == 0 && listen(fd, opts->backlog > 0 ? opts->backlog : 128) != 0) {
		rc = -errno;
	}
	if (rc != 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int
sock_fd_connect(const struct sockaddr_storage *ss, socklen_t len, const struct nvt_sock_opts *opts,
		bool *in_progress)
{
	int fd, rc = 0;

	fd = sock_fd_create(ss->ss_family, opts);
	if (fd < 0) {
		return fd;
	}
	*in_progress = false;
	if (connect(fd, (const struct sockaddr *)ss, len) != 0) {
		rc = -errno;
	}
	if (rc == -EINPROGRESS) {
		*in_progress = true;
		rc = 0;
	}
	if (rc != 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int
sock_fd_accept(int lfd, const struct nvt_sock_opts *opts, int *family)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd, rc;

	fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	/* Buffer sizes and priority are not inherited from the listener on every kernel. */
	rc = sock_fd_apply_opts(fd, opts);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	*family = ss.ss_family;
	return fd;
}
