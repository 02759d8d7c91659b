/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The generic socket layer: the registry of implementations, the life of a
 * socket, and its queue of write requests.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "sock_internal.h"

NVT_LOG_REGISTER_COMPONENT(sock)

static TAILQ_HEAD(, nvt_sock_impl) g_impls = TAILQ_HEAD_INITIALIZER(g_impls);
static const struct nvt_sock_impl *g_default_impl;

void
nvt_sock_impl_register(struct nvt_sock_impl *impl)
{
	assert(impl->sock_size >= sizeof(struct nvt_sock));
	TAILQ_INSERT_TAIL(&g_impls, impl, link);
	if (g_default_impl == NULL || impl->priority > g_default_impl->priority) {
		g_default_impl = impl;
	}
}

const struct nvt_sock_impl *
sock_impl_find(const char *name)
{
	const struct nvt_sock_impl *impl;

	if (name == NULL) {
		return g_default_impl;
	}
	TAILQ_FOREACH(impl, &g_impls, link) {
		if (strcmp(impl->name, name) == 0) {
			return impl;
		}
	}
	return NULL;
}

int
nvt_sock_set_default_impl(const char *impl_name)
{
	const struct nvt_sock_impl *impl;

	impl = impl_name != NULL ? sock_impl_find(impl_name) : NULL;
	if (impl == NULL) {
		NVT_ERRLOG("sock: no implementation named '%s'", impl_name ? impl_name : "(null)");
		return -EINVAL;
	}
	g_default_impl = impl;
	return 0;
}

const char *
nvt_sock_get_default_impl(void)
{
	return g_default_impl != NULL ? g_default_impl->name : NULL;
}

bool
nvt_sock_impl_is_registered(const char *impl_name)
{
	return impl_name != NULL && sock_impl_find(impl_name) != NULL;
}

void
nvt_sock_get_default_opts(struct nvt_sock_opts *opts, size_t opts_size)
{
	struct nvt_sock_opts def = {
		.opts_size = opts_size,
		.nodelay = true,
		.priority = 0,
		.recv_buf_size = 0,
		.send_buf_size = 0,
		.backlog = 128,
	};

	memcpy(opts, &def, NVT_MIN(opts_size, sizeof(def)));
}

/* Copy what the caller's (maybe older, smaller) struct holds over the defaults. */
static void
sock_opts_copy(struct nvt_sock_opts *dst, const struct nvt_sock_opts *src)
{
	nvt_sock_get_default_opts(dst, sizeof(*dst));
	if (src != NULL) {
		memcpy(dst, src, NVT_MIN(src->opts_size, sizeof(*dst)));
	}
	dst->opts_size = sizeof(*dst);
}

/* What a new socket is; the implementation's sock_init sees it. */
enum sock_kind {
	/* nvt_sock_listen() */
	SOCK_KIND_LISTEN,
	/* nvt_sock_accept(): connected */
	SOCK_KIND_ACCEPTED,
	/* nvt_sock_connect(): its group reports the outcome */
	SOCK_KIND_CONNECTING,
};

/* On failure the fd stays the caller's. */
static int
sock_alloc(const struct nvt_sock_impl *impl, int fd, int family, const struct nvt_sock_opts *opts,
	   enum sock_kind kind, struct nvt_sock **psock)
{
	struct nvt_sock *sock;
	int rc;

	sock = calloc(1, impl->sock_size);
	if (sock == NULL) {
		return -ENOMEM;
	}
	sock->impl = impl;
	sock->fd = fd;
	sock->family = family;
	sock->opts = *opts;
	sock->is_listen = kind == SOCK_KIND_LISTEN;
	/* Even a connect that finished at once is reported by the group, never by the call. */
	sock->connecting = kind == SOCK_KIND_CONNECTING;
	TAILQ_INIT(&sock->queued_reqs);
	rc = impl->sock_init != NULL ? impl->sock_init(sock) : 0;
	if (rc != 0) {
		free(sock);
		return rc;
	}
	*psock = sock;
	return 0;
}

static const struct nvt_sock_impl *
sock_impl_or_log(const char *impl_name, const char *what, const char *endpoint)
{
	const struct nvt_sock_impl *impl = sock_impl_find(impl_name);

	if (impl == NULL) {
		NVT_ERRLOG("sock: %s %s: no socket implementation named '%s'", what, endpoint,
			   impl_name != NULL ? impl_name : "(default)");
	}
	return impl;
}

int
nvt_sock_listen(const char *ip, int port, const char *impl_name, const struct nvt_sock_opts *opts,
		struct nvt_sock **sock)
{
	const struct nvt_sock_impl *impl;
	struct sockaddr_storage ss;
	struct nvt_sock_opts o;
	char ep[NVT_SOCK_ADDR_LEN + 16];
	socklen_t len;
	int fd, rc;

	sock_fmt_endpoint(ip, port, ep, sizeof(ep));
	impl = sock_impl_or_log(impl_name, "listen on", ep);
	if (impl == NULL) {
		return -EINVAL;
	}
	if (sock_addr_parse(ip, port, true, &ss, &len) != 0) {
		NVT_ERRLOG("sock: listen on %s: not a numeric IPv4/IPv6 address and port 0-65535",
			   ep);
		return -EINVAL;
	}
	sock_opts_copy(&o, opts);
	fd = sock_fd_listen(&ss, len, &o);
	if (fd < 0) {
		NVT_ERRLOG("sock: listen on %s (%s) failed: rc %d (%s)", ep, impl->name, fd,
			   nvt_strerror(fd));
		return fd;
	}
	rc = sock_alloc(impl, fd, ss.ss_family, &o, SOCK_KIND_LISTEN, sock);
	if (rc != 0) {
		NVT_ERRLOG("sock: listen on %s (%s) failed: rc %d (%s)", ep, impl->name, rc,
			   nvt_strerror(rc));
		close(fd);
		return rc;
	}
	NVT_DEBUGLOG(sock, "listening on %s (%s), fd %d", ep, impl->name, fd);
	return 0;
}

int
nvt_sock_get_fd(const struct nvt_sock *sock)
{
	return sock->fd;
}

int
nvt_sock_accept(struct nvt_sock *lsock, struct nvt_sock **sock)
{
	int fd, rc, family = lsock->family;

	fd = sock_fd_accept(lsock->fd, &lsock->opts, &family);
	if (fd == -EAGAIN && lsock->impl->sock_drained != NULL) {
		lsock->impl->sock_drained(lsock);
	}
	if (fd < 0) {
		if (fd != -EAGAIN && fd != -ECONNABORTED) {
			NVT_ERRLOG("sock: accept on fd %d failed: rc %d (%s)", lsock->fd, fd,
				   nvt_strerror(fd));
		}
		return fd;
	}
	rc = sock_alloc(lsock->impl, fd, family, &lsock->opts, SOCK_KIND_ACCEPTED, sock);
	if (rc != 0) {
		NVT_ERRLOG("sock: accept on fd %d (%s): cannot set up the connection: rc %d (%s)",
			   lsock->fd, lsock->impl->name, rc, nvt_strerror(rc));
		close(fd);
	}
	return rc;
}

int
nvt_sock_connect(const char *ip, int port, const char *impl_name, const struct nvt_sock_opts *opts,
		 nvt_sock_connect_cb cb_fn, void *cb_arg, struct nvt_sock **sock)
{
	const struct nvt_sock_impl *impl;
	struct sockaddr_storage ss;
	struct nvt_sock_opts o;
	char ep[NVT_SOCK_ADDR_LEN + 16];
	bool in_progress;
	socklen_t len;
	int fd, rc;

	sock_fmt_endpoint(ip, port, ep, sizeof(ep));
	impl = sock_impl_or_log(impl_name, "connect to", ep);
	if (impl == NULL) {
		return -EINVAL;
	}
	if (sock_addr_parse(ip, port, false, &ss, &len) != 0) {
		NVT_ERRLOG("sock: connect to %s: not a numeric IPv4/IPv6 address and port 1-65535",
			   ep);
		return -EINVAL;
	}
	sock_opts_copy(&o, opts);
	fd = sock_fd_connect(&ss, len, &o, &in_progress);
	if (fd < 0) {
		NVT_ERRLOG("sock: connect to %s (%s) failed: rc %d (%s)", ep, impl->name, fd,
			   nvt_strerror(fd));
		return fd;
	}
	rc = sock_alloc(impl, fd, ss.ss_family, &o, SOCK_KIND_CONNECTING, sock);
	if (rc != 0) {
		NVT_ERRLOG("sock: connect to %s (%s) failed: rc %d (%s)", ep, impl->name, rc,
			   nvt_strerror(rc));
		close(fd);
		return rc;
	}
	(*sock)->connect_cb = cb_fn;
	(*sock)->connect_cb_arg = cb_arg;
	NVT_DEBUGLOG(sock, "connecting to %s (%s), fd %d%s", ep, impl->name, fd,
		     in_progress ? "" : ", connected at once");
	return 0;
}

int
nvt_sock_connect_error(const struct nvt_sock *sock)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(sock->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
		err = errno;
	}
	return -err;
}

void
nvt_sock_connect_finish(struct nvt_sock *sock, int status)
{
	sock->connect_status = status;
	sock->connect_done = true;
}

int
nvt_sock_connect_check(struct nvt_sock *sock)
{
	if (sock->connecting && !sock->connect_done) {
		nvt_sock_connect_finish(sock, nvt_sock_connect_error(sock));
	}
	return sock->connect_status;
}

/* Run one request's callback; the socket may be closed by it. */
static int
sock_request_put(struct nvt_sock *sock, struct nvt_sock_request *req, int err)
{
	TAILQ_REMOVE(&sock->queued_reqs, req, internal.link);
	if (sock->group_impl != NULL) {
		sock->group_impl->group->completions++;
	}
	sock->cb_depth++;
	req->cb_fn(req->cb_arg, err);
	sock->cb_depth--;
	if (nvt_unlikely(sock->close_pending)) {
		if (sock->cb_depth == 0 && !sock->close_listed) {
			sock_close_now(sock);
			return -EBADF;
		}
		/* Its close finishes later; stop sending on it meanwhile. */
		return -ECANCELED;
	}
	return 0;
}

int
sock_abort_requests(struct nvt_sock *sock, int err)
{
	struct nvt_sock_request *req;
	int rc;

	while ((req = TAILQ_FIRST(&sock->queued_reqs)) != NULL) {
		rc = sock_request_put(sock, req, err);
		if (rc == -EBADF) {
			return rc;
		}
	}
	return 0;
}

int
nvt_sock_fail_requests(struct nvt_sock *sock, int err)
{
	if (sock->write_err == 0) {
		sock->write_err = err;
	}
	return sock_abort_requests(sock, sock->write_err) == -EBADF ? -EBADF : 0;
}

static size_t
sock_request_len(const struct nvt_sock_request *req)
{
	size_t len = 0;
	int i;

	for (i = 0; i < req->iovcnt; i++) {
		len += req->iov[i].iov_len;
	}
	return len;
}

int
nvt_sock_prep_iovs(struct nvt_sock *sock, struct iovec *iovs, int max, size_t *len)
{
	struct nvt_sock_request *req;
	size_t total = 0, skip;
	int i, cnt = 0;

	TAILQ_FOREACH(req, &sock->queued_reqs, internal.link) {
		skip = req->internal.offset;
		for (i = 0; i < req->iovcnt && cnt < max; i++) {
			if (skip >= req->iov[i].iov_len) {
				skip -= req->iov[i].iov_len;
				continue;
			}
			iovs[cnt].iov_base = (uint8_t *)req->iov[i].iov_base + skip;
			iovs[cnt].iov_len = req->iov[i].iov_len - skip;
			total += iovs[cnt].iov_len;
			skip = 0;
			cnt++;
		}
		if (cnt == max) {
			break;
		}
	}
	if (len != NULL) {
		*len = total;
	}
	return cnt;
}

int
nvt_sock_complete_bytes(struct nvt_sock *sock, size_t bytes)
{
	struct nvt_sock_request *req;
	size_t left;
	int rc, done = 0;

	while (bytes > 0 && (req = TAILQ_FIRST(&sock->queued_reqs)) != NULL) {
		left = sock_request_len(req) - req->internal.offset;
		if (bytes < left) {
			req->internal.offset += bytes;
			break;
		}
		bytes -= left;
		rc = sock_request_put(sock, req, 0);
		done++;
		if (rc != 0) {
			return rc == -EBADF ? rc : done;
		}
	}
	/* Zero-length requests behind the sent ones are complete too. */
	while ((req = TAILQ_FIRST(&sock->queued_reqs)) != NULL && req->internal.offset == 0 &&
	       sock_request_len(req) == 0) {
		rc = sock_request_put(sock, req, 0);
		done++;
		if (rc != 0) {
			return rc == -EBADF ? rc : done;
		}
	}
	return done;
}

void
nvt_sock_writev_async(struct nvt_sock *sock, struct nvt_sock_request *req)
{
	req->internal.offset = 0;
	TAILQ_INSERT_TAIL(&sock->queued_reqs, req, internal.link);
	/* Failed, closing and ungrouped sockets complete it on their next flush or close. */
	nvt_sock_mark_dirty(sock);
}

int
sock_flush_one(struct nvt_sock *sock)
{
	if (sock->is_listen || sock->close_pending || sock->connecting) {
		return 0;
	}
	if (sock->write_err != 0) {
		if (TAILQ_EMPTY(&sock->queued_reqs)) {
			return 0;
		}
		return nvt_sock_fail_requests(sock, sock->write_err) == -EBADF ? -EBADF : 1;
	}
	if (TAILQ_EMPTY(&sock->queued_reqs)) {
		return 0;
	}
	return sock->impl->flush(sock);
}

int
nvt_sock_flush(struct nvt_sock *sock)
{
	struct nvt_sock_group_impl *gi = sock->group_impl;
	int rc;

	rc = sock_flush_one(sock);
	if (rc == -EBADF) {
		/* A callback closed the socket; that is not an error of the flush. */
		return 0;
	}
	if (rc >= 0 && gi != NULL && gi->impl->group_impl_commit != NULL) {
		gi->impl->group_impl_commit(gi);
	}
	if (rc >= 0 && sock->write_err != 0) {
		rc = sock->write_err;
	}
	return rc < 0 ? rc : 0;
}

bool
nvt_sock_has_pending_writes(const struct nvt_sock *sock)
{
	return !TAILQ_EMPTY(&sock->queued_reqs);
}

ssize_t
nvt_sock_readv(struct nvt_sock *sock, struct iovec *iov, int iovcnt)
{
	if (nvt_unlikely(sock->connecting)) {
		return -EAGAIN;
	}
	return sock->impl->readv(sock, iov, iovcnt);
}

ssize_t
nvt_sock_recv(struct nvt_sock *sock, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	return nvt_sock_readv(sock, &iov, 1);
}

void
sock_close_now(struct nvt_sock *sock)
{
	/* Callbacks below (detach may complete requests) may not close it again. */
	sock->close_pending = true;
	sock->close_listed = true;
	sock->cb_depth++;
	sock_group_detach(sock);
	sock_abort_requests(sock, -ECANCELED);
	if (sock->impl->sock_fini != NULL) {
		sock->impl->sock_fini(sock);
	}
	if (sock->fd >= 0) {
		close(sock->fd);
	}
	NVT_DEBUGLOG(sock, "closed fd %d", sock->fd);
	free(sock);
}

int
nvt_sock_close(struct nvt_sock **psock)
{
	struct nvt_sock *sock = *psock;

	if (sock == NULL) {
		return 0;
	}
	*psock = NULL;
	if (sock->close_pending) {
		return 0;
	}
	sock->close_pending = true;
	if (sock_group_defers_close(sock) || sock->cb_depth > 0) {
		return 0;
	}
	sock_close_now(sock);
	return 0;
}

static int
sock_fmt_addr(const struct sockaddr_storage *ss, char *buf, size_t len, uint16_t *port)
{
	const void *addr;

	if (ss->ss_family == AF_INET) {
		addr = &((const struct sockaddr_in *)ss)->sin_addr;
		*port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		addr = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		*port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	if (buf != NULL && inet_ntop(ss->ss_family, addr, buf, (socklen_t)len) == NULL) {
		return -errno;
	}
	return 0;
}

static int
sock_get_endpoint(int fd, bool peer, char *buf, size_t len, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	uint16_t p = 0;
	int rc;

	memset(&ss, 0, sizeof(ss));
	rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &sslen)
		  : getsockname(fd, (struct sockaddr *)&ss, &sslen);
	if (rc != 0) {
		return -errno;
	}
	rc = sock_fmt_addr(&ss, buf, len, &p);
	if (rc == 0 && port != NULL) {
		*port = p;
	}
	return rc;
}

int
nvt_sock_getaddr(struct nvt_sock *sock, char *saddr, size_t slen, uint16_t *sport, char *caddr,
		 size_t clen, uint16_t *cport)
{
	int rc = 0;

	if (saddr != NULL || sport != NULL) {
		rc = sock_get_endpoint(sock->fd, false, saddr, slen, sport);
	}
	if (rc == 0 && (caddr != NULL || cport != NULL)) {
		rc = sock_get_endpoint(sock->fd, true, caddr, clen, cport);
	}
	return rc;
}

int
nvt_sock_set_recvbuf(struct nvt_sock *sock, int sz)
{
	return sock_fd_set_int(sock->fd, SOL_SOCKET, SO_RCVBUF, sz);
}

int
nvt_sock_set_sendbuf(struct nvt_sock *sock, int sz)
{
	return sock_fd_set_int(sock->fd, SOL_SOCKET, SO_SNDBUF, sz);
}

int
nvt_sock_set_recvlowat(struct nvt_sock *sock, int nbytes)
{
	return sock_fd_set_int(sock->fd, SOL_SOCKET, SO_RCVLOWAT, nbytes);
}

int
nvt_sock_set_nodelay(struct nvt_sock *sock, bool enable)
{
	return sock_fd_set_int(sock->fd, IPPROTO_TCP, TCP_NODELAY, enable ? 1 : 0);
}

int
nvt_sock_set_priority(struct nvt_sock *sock, int priority)
{
	return sock_fd_set_int(sock->fd, SOL_SOCKET, SO_PRIORITY, priority);
}

bool
nvt_sock_is_ipv6(const struct nvt_sock *sock)
{
	return sock->family == AF_INET6;
}

bool
nvt_sock_is_ipv4(const struct nvt_sock *sock)
{
	return sock->family == AF_INET;
}

bool
nvt_sock_is_connected(const struct nvt_sock *sock)
{
	if (sock->is_listen || sock->close_pending) {
		return false;
	}
	if (sock->connecting) {
		return sock->connect_done && sock->connect_status == 0;
	}
	return sock->connect_status == 0;
}

const char *
nvt_sock_get_impl_name(const struct nvt_sock *sock)
{
	return sock->impl->name;
}

int
nvt_sock_get_tls_info(const struct nvt_sock *sock, struct nvt_sock_tls_info *info)
{
	if (sock->impl->get_tls_info == NULL) {
		return -ENOTSUP;
	}
	return sock->impl->get_tls_info(sock, info);
}

void
nvt_sock_impl_get_default_opts(struct nvt_sock_impl_opts *opts, size_t opts_size)
{
	struct nvt_sock_impl_opts def = {
		.opts_size = opts_size,
		.tls_version = 0,
		.enable_ktls = true,
	};

	memcpy(opts, &def, NVT_MIN(opts_size, sizeof(def)));
}

static const struct nvt_sock_impl *
sock_impl_with_opts(const char *impl_name)
{
	const struct nvt_sock_impl *impl = impl_name != NULL ? sock_impl_find(impl_name) : NULL;

	return impl != NULL && impl->get_opts != NULL ? impl : NULL;
}

int
nvt_sock_impl_get_opts(const char *impl_name, struct nvt_sock_impl_opts *opts, size_t opts_size)
{
	const struct nvt_sock_impl *impl = sock_impl_with_opts(impl_name);
	struct nvt_sock_impl_opts o;

	if (impl == NULL) {
		return nvt_sock_impl_is_registered(impl_name) ? -ENOTSUP : -EINVAL;
	}
	impl->get_opts(&o);
	o.opts_size = opts_size;
	memcpy(opts, &o, NVT_MIN(opts_size, sizeof(o)));
	return 0;
}

int
nvt_sock_impl_set_opts(const char *impl_name, const struct nvt_sock_impl_opts *opts,
		       size_t opts_size)
{
	const struct nvt_sock_impl *impl = sock_impl_with_opts(impl_name);
	struct nvt_sock_impl_opts o;

	if (impl == NULL) {
		return nvt_sock_impl_is_registered(impl_name) ? -ENOTSUP : -EINVAL;
	}
	/* Fields beyond what the caller knows keep their current values. */
	impl->get_opts(&o);
	memcpy(&o, opts, NVT_MIN(opts_size, sizeof(o)));
	o.opts_size = sizeof(o);
	return impl->set_opts(&o);
}
