/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket stand-in of the harnesses: a socket implementation "fuzz",
 * registered above posix and uring (which the harnesses do not link), so
 * that the target's listeners and connections are all of it.
 *
 * lib/sock still makes real fds (listen, accept), so a connection is a real
 * loopback TCP connection that carries no byte: the accepted socket's reads
 * are served from the harness's fuzz_conn and its writes are recorded and
 * completed here. The group reports a socket readable while it has bytes
 * (or end of stream) for the target, at most one chunk per group poll.
 *
 * bind() is replaced for the whole harness: every address becomes a private
 * port of the loopback, so no input can take a real port of the machine,
 * and parallel fuzzers never collide.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "nvtcp/internal/sock_module.h"

#include "fuzz_env.h"

#define FUZZ_SOCK_PRIORITY 100
/* Virtual time a new connection gets to be accepted and placed. */
#define FUZZ_ACCEPT_US (100ull * 1000)

struct fuzz_sock {
	struct nvt_sock base;
	struct fuzz_conn *conn; /* NULL: listening, or the harness let go of it */
	bool in_group;
	/* A chunk ended: the next bytes come on the next group poll. */
	bool read_wait;
	/* The send budget of this group poll is spent. */
	bool out_blocked;
	uint32_t budget_left;
	TAILQ_ENTRY(fuzz_sock) link;
	TAILQ_ENTRY(fuzz_sock) group_link;
};

struct fuzz_group {
	struct nvt_sock_group_impl base;
	TAILQ_HEAD(, fuzz_sock) socks;
};

/* Every socket of the implementation, in creation order. */
static TAILQ_HEAD(, fuzz_sock) g_socks = TAILQ_HEAD_INITIALIZER(g_socks);
/* Connections of the harness not yet matched with an accepted socket. */
static TAILQ_HEAD(, fuzz_conn) g_pending = TAILQ_HEAD_INITIALIZER(g_pending);

/* ---- bind ---- */

int
bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	if (addr != NULL && addr->sa_family == AF_INET) {
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return (int)syscall(SYS_bind, fd, &sin, sizeof(sin));
	}
	if (addr != NULL && addr->sa_family == AF_INET6) {
		return (int)syscall(SYS_bind, fd, &sin6, sizeof(sin6));
	}
	return (int)syscall(SYS_bind, fd, addr, len);
}

/* ---- sockets ---- */

static struct fuzz_sock *
fuzz_sock(struct nvt_sock *sock)
{
	return (struct fuzz_sock *)sock;
}

static uint16_t
fd_port(int fd, bool peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int rc;

	rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		  : getsockname(fd, (struct sockaddr *)&ss, &len);
	if (rc != 0) {
		return 0;
	}
	if (ss.ss_family == AF_INET6) {
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int
fuzz_sock_init(struct nvt_sock *sock)
{
	struct fuzz_sock *fs = fuzz_sock(sock);
	struct fuzz_conn *conn;
	uint16_t port = fd_port(sock->fd, true);

	TAILQ_INSERT_TAIL(&g_socks, fs, link);
	/* A listening socket has no peer; an accepted one is a connection of the harness. */
	TAILQ_FOREACH(conn, &g_pending, link) {
		if (port != 0 && conn->port == port) {
			TAILQ_REMOVE(&g_pending, conn, link);
			conn->sock = sock;
			conn->accepted = true;
			fs->conn = conn;
			break;
		}
	}
	return 0;
}

static void
fuzz_sock_fini(struct nvt_sock *sock)
{
	struct fuzz_sock *fs = fuzz_sock(sock);

	TAILQ_REMOVE(&g_socks, fs, link);
	if (fs->conn != NULL) {
		fs->conn->sock = NULL;
		fs->conn->closed = true;
	}
}

static uint32_t
chunk_next(struct fuzz_conn *conn)
{
	/* xorshift32: the chunk sizes follow from the seed the input gave. */
	conn->rng ^= conn->rng << 13;
	conn->rng ^= conn->rng >> 17;
	conn->rng ^= conn->rng << 5;
	return conn->chunk_max == 0 ? UINT32_MAX : 1 + conn->rng % conn->chunk_max;
}

static ssize_t
fuzz_sock_readv(struct nvt_sock *sock, struct iovec *iov, int iovcnt)
{
	struct fuzz_sock *fs = fuzz_sock(sock);
	struct fuzz_conn *conn = fs->conn;
	size_t avail, want, n, done = 0;
	int i;

	if (conn == NULL) {
		return 0;
	}
	avail = conn->in_len - conn->in_off;
	if (avail == 0) {
		return conn->eof ? 0 : -EAGAIN;
	}
	if (fs->read_wait) {
		return -EAGAIN;
	}
	if (conn->chunk_left == 0) {
		conn->chunk_left = chunk_next(conn);
	}
	want = avail < conn->chunk_left ? avail : conn->chunk_left;
	for (i = 0; i < iovcnt && done < want; i++) {
		n = iov[i].iov_len < want - done ? iov[i].iov_len : want - done;
		memcpy(iov[i].iov_base, conn->in + conn->in_off + done, n);
		done += n;
	}
	conn->in_off += done;
	conn->chunk_left -= (uint32_t)done;
	if (conn->chunk_left == 0 && fs->in_group) {
		fs->read_wait = true;
	}
	return (ssize_t)done;
}

static void
out_append(struct fuzz_conn *conn, const struct iovec *iov, int cnt, size_t len)
{
	size_t cap = conn->out_cap;
	int i;

	if (conn->out_off == conn->out_len) {
		conn->out_off = conn->out_len = 0;
	}
	while (conn->out_len + len > cap) {
		cap = cap != 0 ? cap * 2 : 65536;
	}
	if (cap != conn->out_cap) {
		conn->out = realloc(conn->out, cap);
		if (conn->out == NULL) {
			fuzz_env_fail("out of memory");
		}
		conn->out_cap = cap;
	}
	for (i = 0; i < cnt && len > 0; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(conn->out + conn->out_len, iov[i].iov_base, n);
		conn->out_len += n;
		len -= n;
	}
}

/* Where out_take() leaves what it read, so that the compiler keeps the reads. */
static volatile uint8_t g_out_sink;

/* What the target sends is read in full, recorded or not: its buffers must be valid memory. */
static void
out_take(struct fuzz_conn *conn, struct iovec *iov, int cnt, size_t len)
{
	uint8_t x = 0;
	size_t left = len, j;
	int i;

	if (conn != NULL && conn->record) {
		out_append(conn, iov, cnt, len);
	} else {
		for (i = 0; i < cnt && left > 0; i++) {
			for (j = 0; j < iov[i].iov_len && j < left; j++) {
				x ^= ((const uint8_t *)iov[i].iov_base)[j];
			}
			left -= j;
		}
		g_out_sink = x;
	}
	if (conn != NULL) {
		conn->sent += len;
	}
}

/* Trim \p iov to \p max bytes; returns the entries still used. */
static int
iov_trim(struct iovec *iov, int cnt, size_t max)
{
	int i;

	for (i = 0; i < cnt; i++) {
		if (iov[i].iov_len >= max) {
			iov[i].iov_len = max;
			return max > 0 ? i + 1 : i;
		}
		max -= iov[i].iov_len;
	}
	return cnt;
}

static int
fuzz_sock_flush(struct nvt_sock *sock)
{
	struct fuzz_sock *fs = fuzz_sock(sock);
	struct iovec iovs[NVT_SOCK_IOV_BATCH];
	struct fuzz_conn *conn = fs->conn;
	int cnt, rc, progress = 0;
	size_t len;

	while (!TAILQ_EMPTY(&sock->queued_reqs)) {
		cnt = nvt_sock_prep_iovs(sock, iovs, NVT_SOCK_IOV_BATCH, &len);
		if (conn != NULL && conn->send_budget != 0 && fs->in_group) {
			if (fs->budget_left == 0 && len > 0) {
				/* Full, as a kernel send buffer gets: the next group poll resumes. */
				fs->out_blocked = true;
				return progress;
			}
			len = len < fs->budget_left ? len : fs->budget_left;
			fs->budget_left -= (uint32_t)len;
			cnt = iov_trim(iovs, cnt, len);
		}
		out_take(conn, iovs, cnt, len);
		progress = 1;
		rc = nvt_sock_complete_bytes(sock, len);
		if (rc < 0) {
			return rc;
		}
		if (sock->close_pending || (rc == 0 && len == 0)) {
			break;
		}
	}
	return progress;
}

/* ---- groups ---- */

static struct nvt_sock_group_impl *
fuzz_group_create(void)
{
	struct fuzz_group *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		return NULL;
	}
	TAILQ_INIT(&g->socks);
	return &g->base;
}

static int
fuzz_group_get_fd(struct nvt_sock_group_impl *gi)
{
	(void)gi;
	/* The harness never sleeps: no fd to wake it. */
	return -1;
}

static int
fuzz_group_add_sock(struct nvt_sock_group_impl *gi, struct nvt_sock *sock)
{
	struct fuzz_group *g = (struct fuzz_group *)gi;
	struct fuzz_sock *fs = fuzz_sock(sock);

	TAILQ_INSERT_TAIL(&g->socks, fs, group_link);
	fs->in_group = true;
	fs->read_wait = false;
	fs->out_blocked = false;
	fs->budget_left = fs->conn != NULL ? fs->conn->send_budget : 0;
	return 0;
}

static int
fuzz_group_remove_sock(struct nvt_sock_group_impl *gi, struct nvt_sock *sock)
{
	struct fuzz_group *g = (struct fuzz_group *)gi;
	struct fuzz_sock *fs = fuzz_sock(sock);

	TAILQ_REMOVE(&g->socks, fs, group_link);
	fs->in_group = false;
	fs->read_wait = false;
	fs->out_blocked = false;
	return 0;
}

static bool
fuzz_sock_readable(const struct fuzz_sock *fs)
{
	const struct fuzz_conn *conn = fs->conn;

	return conn == NULL || conn->in_off < conn->in_len || conn->eof;
}

static int
fuzz_group_poll(struct nvt_sock_group_impl *gi, int max_events, struct nvt_sock **socks)
{
	struct fuzz_group *g = (struct fuzz_group *)gi;
	struct fuzz_sock *fs;
	int count = 0;

	TAILQ_FOREACH(fs, &g->socks, group_link) {
		fs->read_wait = false;
		fs->budget_left = fs->conn != NULL ? fs->conn->send_budget : 0;
		if (fs->out_blocked) {
			fs->out_blocked = false;
			nvt_sock_mark_dirty(&fs->base);
		}
		if (count < max_events && fuzz_sock_readable(fs)) {
			socks[count++] = &fs->base;
		}
	}
	return count;
}

static void
fuzz_group_close(struct nvt_sock_group_impl *gi)
{
	free(gi);
}

static struct nvt_sock_impl g_fuzz_impl = {
	.name = "fuzz",
	.priority = FUZZ_SOCK_PRIORITY,
	.sock_size = sizeof(struct fuzz_sock),
	.sock_init = fuzz_sock_init,
	.sock_fini = fuzz_sock_fini,
	.readv = fuzz_sock_readv,
	.flush = fuzz_sock_flush,
	.group_impl_create = fuzz_group_create,
	.group_impl_get_fd = fuzz_group_get_fd,
	.group_impl_add_sock = fuzz_group_add_sock,
	.group_impl_remove_sock = fuzz_group_remove_sock,
	.group_impl_poll = fuzz_group_poll,
	.group_impl_close = fuzz_group_close,
};

NVT_SOCK_IMPL_REGISTER(fuzz, &g_fuzz_impl)

/* ---- the harness's side ---- */

uint16_t
fuzz_sock_listen_port(uint32_t index)
{
	struct fuzz_sock *fs;

	TAILQ_FOREACH(fs, &g_socks, link) {
		if (fs->base.is_listen && index-- == 0) {
			return fd_port(fs->base.fd, false);
		}
	}
	return 0;
}

static bool
conn_is_placed(void *ctx)
{
	struct fuzz_conn *conn = ctx;

	return conn->closed || (conn->sock != NULL && fuzz_sock(conn->sock)->in_group);
}

/* libFuzzer's timer signal interrupted connect(): the connection goes on; wait for it. */
static int
conn_wait_connected(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0, rc;

	do {
		rc = poll(&pfd, 1, 5000);
	} while (rc < 0 && errno == EINTR);
	if (rc != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
		errno = err != 0 ? err : ETIMEDOUT;
		return -1;
	}
	return 0;
}

static int
conn_connect(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0) {
		return -1;
	}
	/*
	 * Blocking: once connect() returns, the connection waits in the
	 * listener's queue, whatever the virtual clock says, so the accept
	 * that follows does not depend on real time.
	 */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 &&
	    (errno != EINTR || conn_wait_connected(fd) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

struct fuzz_conn *
fuzz_conn_open(uint16_t port)
{
	struct fuzz_conn *conn = calloc(1, sizeof(*conn));

	if (conn == NULL) {
		fuzz_env_fail("out of memory");
	}
	conn->rng = 0x9e3779b9u;
	conn->fd = conn_connect(port);
	if (conn->fd < 0) {
		fuzz_env_fail("cannot connect to 127.0.0.1:%u: %s", port, strerror(errno));
	}
	conn->port = fd_port(conn->fd, false);
	TAILQ_INSERT_TAIL(&g_pending, conn, link);
	if (!fuzz_env_run_until(conn_is_placed, conn, FUZZ_ACCEPT_US)) {
		fuzz_env_fail("the target did not accept a connection on port %u", port);
	}
	return conn;
}

void
fuzz_conn_push(struct fuzz_conn *conn, const void *data, size_t len)
{
	size_t cap = conn->in_cap;

	if (len == 0) {
		return;
	}
	if (conn->in_off == conn->in_len) {
		conn->in_off = conn->in_len = 0;
	}
	while (conn->in_len + len > cap) {
		cap = cap != 0 ? cap * 2 : 4096;
	}
	if (cap != conn->in_cap) {
		conn->in = realloc(conn->in, cap);
		if (conn->in == NULL) {
			fuzz_env_fail("out of memory");
		}
		conn->in_cap = cap;
	}
	memcpy(conn->in + conn->in_len, data, len);
	conn->in_len += len;
}

static bool
conn_is_closed(void *ctx)
{
	return ((struct fuzz_conn *)ctx)->closed;
}

void
fuzz_conn_shutdown(struct fuzz_conn *conn)
{
	conn->eof = true;
	if (!fuzz_env_run_until(conn_is_closed, conn, FUZZ_SETTLE_US)) {
		fuzz_env_fail("the target kept its socket after the end of the stream "
			      "(%zu of %zu bytes read)",
			      conn->in_off, conn->in_len);
	}
}

void
fuzz_conn_free(struct fuzz_conn *conn)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (!conn->accepted) {
		TAILQ_REMOVE(&g_pending, conn, link);
	}
	if (conn->sock != NULL) {
		/* The target still holds it: from now on it reads end of stream. */
		fuzz_sock(conn->sock)->conn = NULL;
	}
	/* A reset, not a FIN: no TIME_WAIT left behind by millions of runs. */
	setsockopt(conn->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(conn->fd);
	free(conn->in);
	free(conn->out);
	free(conn);
}
