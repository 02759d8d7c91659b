/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe/TCP transport's sources with the sock, iobuf, thread and core
 * functions they call stubbed, and a qpair in a fake poll group: included
 * once by each unit test program of the transport (one translation unit,
 * so the tests reach the transport's static functions).
 */
#ifndef NVT_TCP_UT_ENV_H
#define NVT_TCP_UT_ENV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../../lib/nvmf/tcp/pdu_rx.c"
#include "../../../lib/nvmf/tcp/pdu_tx.c"
#include "../../../lib/nvmf/tcp/req.c"
#include "../../../lib/nvmf/tcp/transport.c"
#include "../../../lib/nvmf/tcp/qpair.c"
#include "../../../lib/nvmf/tcp/limits.c"

#define UT_UNUSED __attribute__((unused))

/* ---- stubs ---- */

static int g_exec_count;
static int g_writev_count;
static struct nvt_sock_request *g_last_sreq;
static uint8_t g_buf[4][8192];

void
nvmf_transport_register(const struct nvmf_transport_ops *ops)
{
	(void)ops;
}
void
nvmf_transport_new_qpair(struct nvmf_transport *t, struct nvmf_qpair *q)
{
	(void)t;
	(void)q;
}
void
nvmf_request_exec(struct nvmf_request *req)
{
	(void)req;
	g_exec_count++;
}
void
nvmf_request_arrived(struct nvmf_request *req)
{
	(void)req;
}
void
nvmf_request_complete(struct nvmf_request *req)
{
	req->rsp->cid = req->cmd->cmd.cid;
	g_tcp_ops.req_complete(req);
}
void
nvmf_qpair_disconnect(struct nvmf_qpair *q)
{
	(void)q;
}
bool
nvt_nvmf_trid_equal(const struct nvt_nvmf_trid *a, const struct nvt_nvmf_trid *b)
{
	return a == b;
}
void
nvt_sock_writev_async(struct nvt_sock *sock, struct nvt_sock_request *req)
{
	(void)sock;
	g_writev_count++;
	g_last_sreq = req;
}
/* Bytes the fake socket returns to recv, then -EAGAIN. */
static uint8_t g_rx_stream[16384];
static uint32_t g_rx_len, g_rx_pos;

ssize_t
nvt_sock_recv(struct nvt_sock *sock, void *buf, size_t len)
{
	size_t n = g_rx_len - g_rx_pos;

	(void)sock;
	if (n == 0) {
		return -EAGAIN;
	}
	n = n < len ? n : len;
	memcpy(buf, g_rx_stream + g_rx_pos, n);
	g_rx_pos += (uint32_t)n;
	return (ssize_t)n;
}
ssize_t
nvt_sock_readv(struct nvt_sock *sock, struct iovec *iov, int iovcnt)
{
	ssize_t total = 0, n;
	int i;

	for (i = 0; i < iovcnt; i++) {
		n = nvt_sock_recv(sock, iov[i].iov_base, iov[i].iov_len);
		if (n < 0) {
			return total > 0 ? total : n;
		}
		total += n;
		if ((size_t)n < iov[i].iov_len) {
			break;
		}
	}
	return total;
}
int
nvt_sock_close(struct nvt_sock **sock)
{
	*sock = NULL;
	return 0;
}
int
nvt_sock_listen(const char *ip, int port, const char *impl, const struct nvt_sock_opts *o,
		struct nvt_sock **s)
{
	(void)ip, (void)port, (void)impl, (void)o, (void)s;
	return -ENOTSUP;
}
void
nvt_sock_get_default_opts(struct nvt_sock_opts *o, size_t sz)
{
	memset(o, 0, sz);
}
int
nvt_sock_accept(struct nvt_sock *l, struct nvt_sock **s)
{
	(void)l, (void)s;
	return -EAGAIN;
}
int
nvt_sock_getaddr(struct nvt_sock *s, char *a, size_t al, uint16_t *ap, char *c, size_t cl,
		 uint16_t *cp)
{
	(void)s, (void)a, (void)al, (void)ap, (void)c, (void)cl, (void)cp;
	return -ENOTCONN;
}
int
nvt_sock_get_tls_info(const struct nvt_sock *s, struct nvt_sock_tls_info *info)
{
	(void)s;
	(void)info;
	return -ENOTSUP;
}
struct nvt_sock_group *
nvt_sock_group_create(void *ctx)
{
	(void)ctx;
	return NULL;
}
int
nvt_sock_group_close(struct nvt_sock_group **g)
{
	*g = NULL;
	return 0;
}
static int g_add_sock_count, g_remove_sock_count;
static bool g_pending_writes;

int
nvt_sock_group_add_sock(struct nvt_sock_group *g, struct nvt_sock *s, nvt_sock_cb cb, void *a)
{
	(void)g, (void)s, (void)cb, (void)a;
	g_add_sock_count++;
	return 0;
}
int
nvt_sock_group_remove_sock(struct nvt_sock_group *g, struct nvt_sock *s)
{
	(void)g, (void)s;
	g_remove_sock_count++;
	return 0;
}
bool
nvt_sock_has_pending_writes(const struct nvt_sock *s)
{
	(void)s;
	return g_pending_writes;
}
int
nvt_sock_flush(struct nvt_sock *s)
{
	(void)s;
	g_pending_writes = false;
	return 0;
}
int
nvt_sock_group_poll(struct nvt_sock_group *g)
{
	(void)g;
	return 0;
}
/* When set, gets wait: the entry and callback are kept for the test to serve. */
static bool g_iobuf_wait;
static struct nvt_iobuf_entry *g_wait_entry;
static void **g_wait_bufs;
static uint32_t g_wait_count, g_put_count;

int
nvt_iobuf_get(struct nvt_iobuf_cache *c, uint32_t count, void **bufs, struct nvt_iobuf_entry *e,
	      nvt_iobuf_get_cb cb)
{
	uint32_t i;

	(void)c;
	if (g_iobuf_wait) {
		e->cb = cb;
		g_wait_entry = e;
		g_wait_bufs = bufs;
		g_wait_count = count;
		return 0;
	}
	for (i = 0; i < count; i++) {
		bufs[i] = g_buf[i % 4];
	}
	return (int)count;
}

/* Serve the waiting get, as a put of another request would. */
static UT_UNUSED void
iobuf_serve_waiter(void)
{
	struct nvt_iobuf_entry *e = g_wait_entry;
	uint32_t i;

	for (i = 0; i < g_wait_count; i++) {
		g_wait_bufs[i] = g_buf[i % 4];
	}
	g_wait_entry = NULL;
	e->cb(e, g_wait_bufs);
}

void
nvt_iobuf_put(struct nvt_iobuf_cache *c, void **bufs, uint32_t count)
{
	(void)c, (void)bufs;
	g_put_count += count;
}
void
nvt_iobuf_entry_abort(struct nvt_iobuf_cache *c, struct nvt_iobuf_entry *e)
{
	(void)c, (void)e;
}
void
nvt_iobuf_cache_get_stats(const struct nvt_iobuf_cache *c, struct nvt_iobuf_cache_stats *s)
{
	(void)c;
	memset(s, 0, sizeof(*s));
	s->waiting = g_wait_entry != NULL ? 1 : 0;
}
struct nvt_thread *
nvt_get_thread(void)
{
	return NULL;
}
/* The watchdog's poller: registered paused; the tests read its state. */
static struct nvt_poller *g_poller_fake = (struct nvt_poller *)&g_poller_fake;
static bool g_poller_running;
struct nvt_poller *
nvt_poller_register(nvt_poller_fn fn, void *arg, uint64_t period_us, const char *name)
{
	(void)fn, (void)arg, (void)period_us, (void)name;
	return g_poller_fake;
}
void
nvt_poller_unregister(struct nvt_poller **p)
{
	*p = NULL;
}
void
nvt_poller_pause(struct nvt_poller *p)
{
	(void)p;
	g_poller_running = false;
}
void
nvt_poller_resume(struct nvt_poller *p)
{
	(void)p;
	g_poller_running = true;
}
static uint64_t g_now;
uint64_t
nvt_get_ticks(void)
{
	return g_now;
}
uint64_t
nvt_us_to_ticks(uint64_t us)
{
	return us;
}

/* Pending messages, run by the test (the transport sends at most one of each kind). */
#define MAX_MSGS 8
static struct {
	nvt_msg_fn fn;
	void *ctx;
	struct nvt_thread_msg *msg; /* preallocated storage, or NULL */
} g_msgs[MAX_MSGS];
static int g_num_msgs;
static bool g_msgs_enabled;

int
nvt_thread_send_msg(const struct nvt_thread *t, nvt_msg_fn fn, void *ctx)
{
	(void)t;
	if (!g_msgs_enabled || g_num_msgs == MAX_MSGS) {
		return -ENOMEM;
	}
	g_msgs[g_num_msgs].fn = fn;
	g_msgs[g_num_msgs].ctx = ctx;
	g_msgs[g_num_msgs].msg = NULL;
	g_num_msgs++;
	return 0;
}

/* Disabled messages stand for an exiting thread (-EIO), as the library's do. */
int
nvt_thread_send_msg_prealloc(const struct nvt_thread *t, struct nvt_thread_msg *msg, nvt_msg_fn fn,
			     void *ctx)
{
	if (msg->in_flight) {
		return -EBUSY;
	}
	if (nvt_thread_send_msg(t, fn, ctx) != 0) {
		return -EIO;
	}
	msg->in_flight = 1;
	g_msgs[g_num_msgs - 1].msg = msg;
	return 0;
}

/* Forget the pending messages without running them. */
static UT_UNUSED void
drop_msgs(void)
{
	while (g_num_msgs > 0) {
		g_num_msgs--;
		if (g_msgs[g_num_msgs].msg != NULL) {
			g_msgs[g_num_msgs].msg->in_flight = 0;
		}
	}
}

static UT_UNUSED void
run_msgs(void)
{
	while (g_num_msgs > 0) {
		nvt_msg_fn fn = g_msgs[0].fn;
		void *ctx = g_msgs[0].ctx;

		if (g_msgs[0].msg != NULL) {
			g_msgs[0].msg->in_flight = 0;
		}
		memmove(&g_msgs[0], &g_msgs[1], (size_t)(g_num_msgs - 1) * sizeof(g_msgs[0]));
		g_num_msgs--;
		fn(ctx);
	}
}

/* A qpair with a fake poll group, enough for the request machine. */
struct fixture {
	struct tcp_transport t;
	struct tcp_poll_group g;
	struct tcp_qpair q;
};

static struct fixture *
fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->t.opts.max_queue_depth = 4;
	f->t.opts.max_io_size = 131072;
	f->t.opts.io_unit_size = 8192;
	f->t.opts.c2h_success = true;
	f->t.max_bufs = 16;
	f->g.transport = &f->t;
	STAILQ_INIT(&f->g.free_ctxs);
	STAILQ_INIT(&f->g.free_spills);
	f->g.rxbuf = malloc(TCP_GROUP_RX_BUF_SIZE);
	assert_non_null(f->g.rxbuf);
	assert_int_equal(tcp_watchdog_init(&f->g), 0);
	f->t.icd_max = 8192;
	f->q.transport = &f->t;
	f->q.group = &f->g;
	f->q.depth = 4;
	f->q.sock = (struct nvt_sock *)f;
	f->q.state = TCP_QPAIR_STATE_RUNNING;
	assert_int_equal(tcp_qpair_reqs_alloc(&f->q), 0);
	return f;
}

static void
fixture_free(struct fixture *f)
{
	struct tcp_data_ctx *ctx;

	while ((ctx = STAILQ_FIRST(&f->g.free_ctxs)) != NULL) {
		STAILQ_REMOVE_HEAD(&f->g.free_ctxs, link);
		free(ctx);
	}
	tcp_group_free_spills(&f->g);
	tcp_qpair_reqs_free(&f->q);
	free(f->q.rx_stash);
	free(f->g.rxbuf);
	free(f);
}

#endif /* NVT_TCP_UT_ENV_H */
