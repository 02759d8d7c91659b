/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JSON-RPC server: a Unix stream socket served by one poller of the app
 * thread. The listen socket and the clients sit in a private epoll set, and
 * that set is a wakeup fd of the thread, so a sleeping reactor wakes when a
 * client connects or writes. The poller only asks the set when it may have
 * something (at most every RPC_CHECK_US, or at once after an asynchronous
 * answer), so a busy app thread pays one clock read per iteration.
 *
 * A connection runs one request at a time: the next one is parsed only once
 * the previous one answered, which keeps responses in request order and lets
 * a client pipeline "create" then "use" safely.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/log.h"
#include "nvtcp/queue.h"
#include "nvtcp/string.h"
#include "nvtcp/thread.h"
#include "nvtcp/ticks.h"
#include "jsonrpc_internal.h"

#define RPC_CHECK_US	   100
#define RPC_MAX_EVENTS	   32
#define RPC_MAX_CONNS	   64
#define RPC_LISTEN_BACKLOG 16
#define RPC_RECV_CHUNK	   (64u * 1024)
/* Bytes read from one client per poll, so one cannot starve the others. */
#define RPC_RECV_BUDGET (1024u * 1024)
/* Stop taking requests from a client that does not read its answers. */
#define RPC_SEND_HIGH_WATER (4u * 1024 * 1024)

/* Where a connection's receive buffer is in finding the end of a request. */
struct frame_scan {
	size_t pos;  /* next byte to look at, as an offset into rbuf */
	int depth;   /* open { and [ */
	bool in_str; /* inside a string */
	bool escape; /* after a backslash inside a string */
};

struct rpc_conn {
	TAILQ_ENTRY(rpc_conn) link;
	int fd;		 /* -1 once closed */
	uint32_t events; /* epoll interest now set */
	uint32_t refs;	 /* the server's list, a running request, a poll batch */
	char *rbuf;	 /* received bytes; [roff, rlen) not yet parsed */
	size_t roff, rlen, rcap;
	struct frame_scan scan;
	char *wbuf; /* answers not yet written; [woff, wlen) */
	size_t woff, wlen, wcap;
	bool busy;	 /* a request of this connection runs */
	bool processing; /* inside conn_process(): answers do not re-enter it */
	bool wake;	 /* answered later: the poller goes on with the next request */
	bool eof;	 /* the client shut down its sending side */
	bool close_after_flush;
};

struct rpc_server {
	bool running;
	int listen_fd;
	int epfd;
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	struct nvt_thread *thread;
	struct nvt_poller *poller;
	uint64_t next_check; /* ticks */
	uint64_t check_ticks;
	bool work_pending; /* a connection waits for conn_process() */
	uint32_t nconns;
	TAILQ_HEAD(, rpc_conn) conns;
};

/* Static, not heap: a handler may stop the server while the poller runs. */
static struct rpc_server g_server = { .listen_fd = -1, .epfd = -1 };

static void conn_process(struct rpc_conn *conn);

/* ---- connection lifetime ---- */

static void
conn_get(struct rpc_conn *conn)
{
	conn->refs++;
}

static void
conn_put(struct rpc_conn *conn)
{
	if (--conn->refs > 0) {
		return;
	}
	free(conn->rbuf);
	free(conn->wbuf);
	free(conn);
}

static void
conn_close(struct rpc_conn *conn)
{
	if (conn->fd < 0) {
		return;
	}
	epoll_ctl(g_server.epfd, EPOLL_CTL_DEL, conn->fd, NULL);
	close(conn->fd);
	conn->fd = -1;
	TAILQ_REMOVE(&g_server.conns, conn, link);
	g_server.nconns--;
	conn_put(conn);
}

static void
conn_set_events(struct rpc_conn *conn)
{
	struct epoll_event ev = { .data.ptr = conn };
	bool want_read = !conn->eof && !conn->close_after_flush &&
			 conn->rlen - conn->roff <= NVT_RPC_MAX_REQUEST_SIZE;

	ev.events = (want_read ? EPOLLIN : 0) | (conn->wlen > conn->woff ? EPOLLOUT : 0);
	if (ev.events == conn->events || conn->fd < 0) {
		return;
	}
	if (epoll_ctl(g_server.epfd, EPOLL_CTL_MOD, conn->fd, &ev) != 0) {
		NVT_ERRLOG("rpc: epoll_ctl: %s\n", nvt_strerror(errno));
		conn_close(conn);
		return;
	}
	conn->events = ev.events;
}

/* ---- sending ---- */

/* Write what is queued; 0, or -errno when the client is gone. */
static int
conn_flush(struct rpc_conn *conn)
{
	ssize_t n;

	while (conn->woff < conn->wlen) {
		n = send(conn->fd, conn->wbuf + conn->woff, conn->wlen - conn->woff,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		}
		conn->woff += (size_t)n;
	}
	conn->woff = 0;
	conn->wlen = 0;
	return 0;
}

static int
conn_queue(struct rpc_conn *conn, const char *text, size_t len)
{
	size_t need = conn->wlen + len;
	char *buf;

	if (need > conn->wcap) {
		buf = realloc(conn->wbuf, need * 2);
		if (buf == NULL) {
			return -ENOMEM;
		}
		conn->wbuf = buf;
		conn->wcap = need * 2;
	}
	memcpy(conn->wbuf + conn->wlen, text, len);
	conn->wlen += len;
	return 0;
}

/* Queue one response and its newline, and try to write it at once. */
static void
conn_send(struct rpc_conn *conn, json_t *resp)
{
	char *text = json_dumps(resp, JSON_COMPACT);
	int rc = text != NULL ? 0 : -ENOMEM;

	if (rc == 0) {
		rc = conn_queue(conn, text, strlen(text));
	}
	if (rc == 0) {
		rc = conn_queue(conn, "\n", 1);
	}
	free(text);
	if (rc == 0) {
		rc = conn_flush(conn);
	}
	if (rc != 0) {
		NVT_DEBUGLOG(jsonrpc, "rpc: client fd %d: dropped (%s)\n", conn->fd,
			     nvt_strerror(rc));
		conn_close(conn);
	}
}

static void
conn_send_error(struct rpc_conn *conn, int code, const char *msg)
{
	json_t *resp = rpc_error_response(NULL, code, msg);

	if (resp != NULL) {
		conn_send(conn, resp);
		json_decref(resp);
	}
}

/* ---- receiving and framing ---- */

/* Advance the scan over rbuf; true when a complete top-level value ends before pos. */
static bool
frame_scan_step(struct frame_scan *s, char c)
{
	if (s->in_str) {
		if (s->escape) {
			s->escape = false;
		} else if (c == '\\') {
			s->escape = true;
		} else if (c == '"') {
			s->in_str = false;
		}
		return false;
	}
	if (c == '"') {
		s->in_str = true;
	} else if (c == '{' || c == '[') {
		s->depth++;
	} else if (c == '}' || c == ']') {
		s->depth--;
		return s->depth == 0;
	}
	return false;
}

static bool
is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

enum frame_rc {
	FRAME_NONE,    /* need more bytes */
	FRAME_FOUND,   /* [*start, *start + *len) is one request */
	FRAME_GARBAGE, /* bytes that cannot start a request were dropped */
	FRAME_TOO_LARGE,
};

/*
 * Find the next request in the buffer by matching brackets outside strings;
 * jansson then parses exactly those bytes. Scanning once keeps a request
 * that arrives in many reads linear, and a bad request can be skipped
 * without losing the ones after it.
 */
static enum frame_rc
conn_next_frame(struct rpc_conn *conn, size_t *start, size_t *len)
{
	struct frame_scan *s = &conn->scan;

	while (s->depth == 0 && conn->roff < conn->rlen && is_json_space(conn->rbuf[conn->roff])) {
		conn->roff++;
	}
	if (conn->roff == conn->rlen) {
		return FRAME_NONE;
	}
	if (s->depth == 0 && conn->rbuf[conn->roff] != '{' && conn->rbuf[conn->roff] != '[') {
		/* Resynchronise on the next thing that may start a request. */
		while (conn->roff < conn->rlen && conn->rbuf[conn->roff] != '{' &&
		       conn->rbuf[conn->roff] != '[') {
			conn->roff++;
		}
		return FRAME_GARBAGE;
	}
	if (s->pos < conn->roff) {
		s->pos = conn->roff;
	}
	while (s->pos < conn->rlen) {
		if (frame_scan_step(s, conn->rbuf[s->pos++])) {
			*start = conn->roff;
			*len = s->pos - conn->roff;
			conn->roff = s->pos;
			memset(s, 0, sizeof(*s));
			return FRAME_FOUND;
		}
	}
	return conn->rlen - conn->roff > NVT_RPC_MAX_REQUEST_SIZE ? FRAME_TOO_LARGE : FRAME_NONE;
}

/* Make room for one more chunk, moving the unparsed bytes to the front. */
static int
conn_recv_room(struct rpc_conn *conn)
{
	size_t keep = conn->rlen - conn->roff;
	size_t cap;
	char *buf;

	if (conn->roff > 0) {
		memmove(conn->rbuf, conn->rbuf + conn->roff, keep);
		conn->scan.pos = conn->scan.pos > conn->roff ? conn->scan.pos - conn->roff : 0;
		conn->roff = 0;
		conn->rlen = keep;
	}
	if (conn->rcap - conn->rlen >= RPC_RECV_CHUNK) {
		return 0;
	}
	cap = conn->rcap ? conn->rcap * 2 : RPC_RECV_CHUNK;
	while (cap - conn->rlen < RPC_RECV_CHUNK) {
		cap *= 2;
	}
	buf = realloc(conn->rbuf, cap);
	if (buf == NULL) {
		return -ENOMEM;
	}
	conn->rbuf = buf;
	conn->rcap = cap;
	return 0;
}

/* Read what the client sent; 0, or -errno when the connection is broken. */
static int
conn_read(struct rpc_conn *conn)
{
	size_t budget = RPC_RECV_BUDGET;
	ssize_t n;
	int rc;

	while (budget > 0 && !conn->eof && conn->rlen - conn->roff <= NVT_RPC_MAX_REQUEST_SIZE) {
		rc = conn_recv_room(conn);
		if (rc != 0) {
			return rc;
		}
		n = recv(conn->fd, conn->rbuf + conn->rlen, conn->rcap - conn->rlen, MSG_DONTWAIT);
		if (n < 0) {
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		}
		if (n == 0) {
			conn->eof = true;
			break;
		}
		conn->rlen += (size_t)n;
		budget = (size_t)n < budget ? budget - (size_t)n : 0;
	}
	return 0;
}

/* ---- running requests ---- */

static void
conn_request_done(json_t *resp, bool notification, void *arg)
{
	struct rpc_conn *conn = arg;

	/* A client that went away gets nothing: the answer is dropped. */
	if (!notification && resp != NULL && conn->fd >= 0) {
		conn_send(conn, resp);
	}
	json_decref(resp);
	conn->busy = false;
	if (!conn->processing && conn->fd >= 0) {
		/* Answered later, from a message or a poller: let the poller go on. */
		conn->wake = true;
		g_server.work_pending = true;
		if (g_server.running) {
			nvt_thread_wakeup(g_server.thread);
		}
	}
	conn_put(conn);
}

static void
conn_run_frame(struct rpc_conn *conn, size_t start, size_t len)
{
	json_error_t jerr;
	json_t *obj;
	char msg[256];

	obj = json_loadb(conn->rbuf + start, len, JSON_DISABLE_EOF_CHECK, &jerr);
	if (obj == NULL) {
		snprintf(msg, sizeof(msg), "Parse error: %s (at byte %d of the request)", jerr.text,
			 jerr.position);
		conn_send_error(conn, NVT_JSONRPC_ERROR_PARSE_ERROR, msg);
		return;
	}
	conn->busy = true;
	conn_get(conn);
	rpc_dispatch(obj, conn_request_done, conn);
}

/* Whether the connection may start its next request. */
static bool
conn_can_run(const struct rpc_conn *conn)
{
	return conn->fd >= 0 && !conn->busy && !conn->close_after_flush &&
	       conn->wlen - conn->woff < RPC_SEND_HIGH_WATER;
}

/* Take the next request from the buffer; false when none is complete. */
static bool
conn_step(struct rpc_conn *conn)
{
	size_t start = 0, len = 0;
	char msg[96];

	switch (conn_next_frame(conn, &start, &len)) {
	case FRAME_FOUND:
		conn_run_frame(conn, start, len);
		return true;
	case FRAME_GARBAGE:
		conn_send_error(conn, NVT_JSONRPC_ERROR_PARSE_ERROR,
				"Parse error: a request must be a JSON object");
		return true;
	case FRAME_TOO_LARGE:
		snprintf(msg, sizeof(msg), "Invalid request: larger than the limit of %u bytes",
			 NVT_RPC_MAX_REQUEST_SIZE);
		conn_send_error(conn, NVT_JSONRPC_ERROR_INVALID_REQUEST, msg);
		conn->close_after_flush = true;
		return false;
	case FRAME_NONE:
		break;
	}
	return false;
}

/* Run the requests already received, one after the other, then settle the connection. */
static void
conn_process(struct rpc_conn *conn)
{
	bool more = true;

	conn_get(conn);
	conn->processing = true;
	while (more && conn_can_run(conn)) {
		more = conn_step(conn);
	}
	conn->processing = false;
	if (conn->fd >= 0 && !conn->busy && conn->wlen == conn->woff &&
	    (conn->close_after_flush || (conn->eof && !more))) {
		/* Everything asked was answered and written. */
		conn_close(conn);
	}
	if (conn->fd >= 0) {
		conn_set_events(conn);
	}
	conn_put(conn);
}

static void
conn_handle_event(struct rpc_conn *conn, uint32_t events)
{
	int rc = 0;

	if (conn->fd < 0) {
		return;
	}
	if (events & EPOLLOUT) {
		rc = conn_flush(conn);
	}
	if (rc == 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		rc = conn_read(conn);
	}
	if (rc != 0 || ((events & (EPOLLHUP | EPOLLERR)) && conn->busy)) {
		/* Broken, or gone while a request runs: its answer will be dropped. */
		conn_close(conn);
		return;
	}
	conn_process(conn);
}

/* ---- accepting ---- */

static void
server_accept(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct rpc_conn *conn;
	int fd, i;

	for (i = 0; i < RPC_LISTEN_BACKLOG; i++) {
		fd = accept4(g_server.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				NVT_ERRLOG("rpc: accept on %s: %s\n", g_server.path,
					   nvt_strerror(errno));
			}
			return;
		}
		conn = g_server.nconns < RPC_MAX_CONNS ? calloc(1, sizeof(*conn)) : NULL;
		if (conn == NULL) {
			NVT_ERRLOG("rpc: refusing a client on %s (%u clients, or out of memory)\n",
				   g_server.path, g_server.nconns);
			close(fd);
			continue;
		}
		conn->fd = fd;
		conn->refs = 1;
		conn->events = ev.events;
		ev.data.ptr = conn;
		if (epoll_ctl(g_server.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			NVT_ERRLOG("rpc: epoll_ctl: %s\n", nvt_strerror(errno));
			close(fd);
			free(conn);
			continue;
		}
		TAILQ_INSERT_TAIL(&g_server.conns, conn, link);
		g_server.nconns++;
	}
}

/* ---- the poller ---- */

static void
server_resume_conns(void)
{
	struct rpc_conn *woken[RPC_MAX_CONNS];
	struct rpc_conn *conn;
	uint32_t i, n = 0;

	g_server.work_pending = false;
	/* Collected first: processing one may close others (a handler stopping the server). */
	TAILQ_FOREACH(conn, &g_server.conns, link) {
		if (conn->wake && n < RPC_MAX_CONNS) {
			conn->wake = false;
			conn_get(conn);
			woken[n++] = conn;
		}
	}
	for (i = 0; i < n; i++) {
		if (g_server.running) {
			conn_process(woken[i]);
		}
		conn_put(woken[i]);
	}
}

static void
server_handle_events(struct epoll_event *events, int n)
{
	int i;

	/* A handler may close any connection, or stop the server: keep the batch alive. */
	for (i = 0; i < n; i++) {
		if (events[i].data.ptr != NULL) {
			conn_get(events[i].data.ptr);
		}
	}
	for (i = 0; i < n; i++) {
		if (!g_server.running) {
			/* Fall through to release the references taken above. */
		} else if (events[i].data.ptr == NULL) {
			server_accept();
		} else {
			conn_handle_event(events[i].data.ptr, events[i].events);
		}
	}
	for (i = 0; i < n; i++) {
		if (events[i].data.ptr != NULL) {
			conn_put(events[i].data.ptr);
		}
	}
}

static int
server_poll(void *arg)
{
	struct epoll_event events[RPC_MAX_EVENTS];
	uint64_t now;
	int n;

	(void)arg;
	if (nvt_thread_is_exiting(g_server.thread)) {
		nvt_rpc_server_stop();
		return NVT_POLLER_BUSY;
	}
	now = nvt_get_ticks();
	if (!g_server.work_pending && now < g_server.next_check) {
		return NVT_POLLER_IDLE;
	}
	g_server.next_check = now + g_server.check_ticks;
	if (g_server.work_pending) {
		server_resume_conns();
	}
	n = epoll_wait(g_server.epfd, events, RPC_MAX_EVENTS, 0);
	if (n <= 0) {
		return NVT_POLLER_IDLE;
	}
	server_handle_events(events, n);
	return NVT_POLLER_BUSY;
}

/* ---- start and stop ---- */

/* Whether a process accepts connections on \p addr. */
static bool
socket_is_served(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool served;

	if (fd < 0) {
		return false;
	}
	served = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
	close(fd);
	return served;
}

/* Bind \p fd to \p addr, replacing a stale socket file left by a dead server. */
static int
server_bind(int fd, const struct sockaddr_un *addr)
{
	struct stat st;

	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0) {
		return 0;
	}
	if (errno != EADDRINUSE) {
		return -errno;
	}
	if (lstat(addr->sun_path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		NVT_ERRLOG("rpc: %s exists and is not a socket\n", addr->sun_path);
		return -EEXIST;
	}
	if (socket_is_served(addr)) {
		NVT_ERRLOG("rpc: %s is in use by another process\n", addr->sun_path);
		return -EADDRINUSE;
	}
	NVT_NOTICELOG("rpc: removing stale socket %s\n", addr->sun_path);
	if (unlink(addr->sun_path) != 0 && errno != ENOENT) {
		return -errno;
	}
	return bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ? 0 : -errno;
}

static int
server_listen(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, rc;

	if (nvt_strcpy_trunc(addr.sun_path, sizeof(addr.sun_path), path) != 0) {
		NVT_ERRLOG("rpc: socket path too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	rc = server_bind(fd, &addr);
	if (rc == 0 && listen(fd, RPC_LISTEN_BACKLOG) != 0) {
		rc = -errno;
		unlink(path);
	}
	if (rc != 0) {
		if (rc != -EADDRINUSE && rc != -EEXIST) {
			NVT_ERRLOG("rpc: cannot listen on %s: %s\n", path, nvt_strerror(rc));
		}
		close(fd);
		return rc;
	}
	return fd;
}

/* The private epoll set, holding the listen socket, woken on by the thread. */
static int
server_setup_epoll(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int rc;

	g_server.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g_server.epfd < 0) {
		return -errno;
	}
	if (epoll_ctl(g_server.epfd, EPOLL_CTL_ADD, g_server.listen_fd, &ev) != 0) {
		return -errno;
	}
	rc = nvt_thread_add_wakeup_fd(g_server.epfd, EPOLLIN);
	if (rc != 0) {
		return rc;
	}
	g_server.poller = nvt_poller_register(server_poll, NULL, 0, "rpc_server");
	if (g_server.poller == NULL) {
		nvt_thread_del_wakeup_fd(g_server.epfd);
		return -ENOMEM;
	}
	return 0;
}

int
nvt_rpc_server_start(const char *path)
{
	int rc;

	if (g_server.running) {
		return -EALREADY;
	}
	g_server.thread = nvt_get_thread();
	if (g_server.thread == NULL) {
		return -EINVAL;
	}
	g_server.listen_fd = server_listen(path);
	if (g_server.listen_fd < 0) {
		rc = g_server.listen_fd;
		g_server.listen_fd = -1;
		return rc;
	}
	nvt_strcpy_trunc(g_server.path, sizeof(g_server.path), path);
	TAILQ_INIT(&g_server.conns);
	g_server.nconns = 0;
	g_server.work_pending = false;
	g_server.check_ticks = nvt_us_to_ticks(RPC_CHECK_US);
	g_server.next_check = 0;
	rc = server_setup_epoll();
	if (rc != 0) {
		NVT_ERRLOG("rpc: cannot serve %s: %s\n", path, nvt_strerror(rc));
		close(g_server.epfd);
		close(g_server.listen_fd);
		unlink(path);
		g_server.epfd = g_server.listen_fd = -1;
		return rc;
	}
	g_server.running = true;
	NVT_NOTICELOG("rpc: listening on %s\n", path);
	return 0;
}

void
nvt_rpc_server_stop(void)
{
	struct rpc_conn *conn;

	if (!g_server.running) {
		return;
	}
	g_server.running = false;
	while ((conn = TAILQ_FIRST(&g_server.conns)) != NULL) {
		conn_close(conn);
	}
	nvt_poller_unregister(&g_server.poller);
	nvt_thread_del_wakeup_fd(g_server.epfd);
	close(g_server.epfd);
	close(g_server.listen_fd);
	g_server.epfd = g_server.listen_fd = -1;
	unlink(g_server.path);
	NVT_NOTICELOG("rpc: stopped serving %s\n", g_server.path);
}
