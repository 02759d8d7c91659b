/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP transport: ops table, listeners and accept, poll groups (one
 * socket group each, polled by the core's period-0 group poller), and the
 * life of a qpair from accept to qpair_fini.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/thread.h"

#include "tcp_internal.h"

NVT_LOG_REGISTER_COMPONENT(nvmf_tcp)

#define TCP_MAXH2CDATA	  (128u * 1024u)
#define TCP_ADMIN_ICD_MIN 8192u
#define TCP_ACCEPT_BATCH  32

static const struct nvmf_transport_ops g_tcp_ops;

static struct tcp_transport *
to_tcp_transport(struct nvmf_transport *t)
{
	return TCP_CONTAINER_OF(t, struct tcp_transport, base);
}

static struct tcp_qpair *
to_tcp_qpair(struct nvmf_qpair *q)
{
	return TCP_CONTAINER_OF(q, struct tcp_qpair, base);
}

static struct tcp_poll_group *
to_tcp_group(struct nvmf_transport_poll_group *g)
{
	return TCP_CONTAINER_OF(g, struct tcp_poll_group, base);
}

/* ---- transport ---- */

static int
tcp_create(const struct nvt_nvmf_transport_opts *opts, struct nvmf_transport **out)
{
	uint32_t max_bufs = (opts->max_io_size + opts->io_unit_size - 1) / opts->io_unit_size;
	struct tcp_transport *t;

	if (max_bufs == 0 || max_bufs > TCP_REQ_MAX_BUFS) {
		NVT_ERRLOG("max_io_size %u needs %u buffers of %u bytes, at most %u allowed\n",
			   opts->max_io_size, max_bufs, opts->io_unit_size, TCP_REQ_MAX_BUFS);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return -ENOMEM;
	}
	t->max_bufs = max_bufs;
	t->icd_max = opts->in_capsule_data_size > TCP_ADMIN_ICD_MIN ? opts->in_capsule_data_size
								    : TCP_ADMIN_ICD_MIN;
	t->opts.max_queue_depth = opts->max_queue_depth;
	t->opts.max_io_size = opts->max_io_size;
	t->opts.in_capsule_data_size = opts->in_capsule_data_size;
	t->opts.io_unit_size = opts->io_unit_size;
	t->opts.num_shared_buffers = opts->num_shared_buffers;
	t->opts.buf_cache_size = opts->buf_cache_size;
	t->opts.c2h_success = opts->c2h_success;
	t->opts.maxh2cdata = TCP_MAXH2CDATA;
	t->opts.hdgst_allowed = true;
	t->opts.ddgst_allowed = true;
	t->opts.max_connections = opts->max_connections;
	t->opts.max_connections_per_host = opts->max_connections_per_host;
	t->opts.connect_timeout_ms = opts->connect_timeout_ms;
	t->opts.pdu_timeout_ms = opts->pdu_timeout_ms;
	t->opts.max_queued_send = opts->max_queued_send;
	t->opts.send_timeout_ms = opts->send_timeout_ms;
	if (tcp_conn_table_create(t) != 0) {
		free(t);
		return -ENOMEM;
	}
	TAILQ_INIT(&t->listeners);
	*out = &t->base;
	return 0;
}

static void
tcp_destroy(struct nvmf_transport *transport)
{
	struct tcp_transport *t = to_tcp_transport(transport);
	struct tcp_listener *l;

	while ((l = TAILQ_FIRST(&t->listeners)) != NULL) {
		TAILQ_REMOVE(&t->listeners, l, link);
		nvt_sock_close(&l->sock);
		free(l);
	}
	tcp_conn_table_destroy(t);
	free(t);
}

static int
tcp_listen(struct nvmf_transport *transport, const struct nvt_nvmf_trid *trid,
	   const struct nvmf_listen_opts *opts)
{
	struct tcp_transport *t = to_tcp_transport(transport);
	struct nvt_sock_opts sopts;
	struct tcp_listener *l;
	char *end = NULL;
	int port, rc;

	port = (int)strtol(trid->trsvcid, &end, 10);
	if (end == trid->trsvcid || *end != '\0') {
		return -EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return -ENOMEM;
	}
	nvt_sock_get_default_opts(&sopts, sizeof(sopts));
	sopts.priority = transport->opts.sock_priority;
	l->secure = opts->secure_channel;
	if (l->secure) {
		/* The accepted sockets keep pointing at the listener's settings. */
		l->tls.psk_find = opts->psk_find;
		sopts.tls = &l->tls;
	}
	rc = nvt_sock_listen(trid->traddr, port, l->secure ? "ssl" : NULL, &sopts, &l->sock);
	if (rc != 0) {
		free(l);
		return rc;
	}
	/* A waiting connection wakes this (the accept poller's) thread from sleep. */
	rc = nvt_thread_add_wakeup_fd(nvt_sock_get_fd(l->sock), EPOLLIN);
	if (rc != 0) {
		NVT_ERRLOG("listening on %s port %s: cannot wake for connections: %s\n",
			   trid->traddr, trid->trsvcid, nvt_strerror(-rc));
		nvt_sock_close(&l->sock);
		free(l);
		return rc;
	}
	l->trid = *trid;
	TAILQ_INSERT_TAIL(&t->listeners, l, link);
	NVT_NOTICELOG("NVMe/TCP target listening on %s port %s%s\n", trid->traddr, trid->trsvcid,
		      l->secure ? " (TLS 1.3 only)" : "");
	return 0;
}

static void
tcp_stop_listen(struct nvmf_transport *transport, const struct nvt_nvmf_trid *trid)
{
	struct tcp_transport *t = to_tcp_transport(transport);
	struct tcp_listener *l;

	TAILQ_FOREACH(l, &t->listeners, link) {
		if (nvt_nvmf_trid_equal(&l->trid, trid)) {
			TAILQ_REMOVE(&t->listeners, l, link);
			nvt_thread_del_wakeup_fd(nvt_sock_get_fd(l->sock));
			nvt_sock_close(&l->sock);
			free(l);
			return;
		}
	}
}

static void
qpair_fill_trids(struct tcp_qpair *qpair, const struct tcp_listener *l)
{
	char caddr[NVT_SOCK_ADDR_LEN];
	uint16_t cport = 0;

	qpair->base.listen_trid = l->trid;
	qpair->base.peer_trid.trtype = l->trid.trtype;
	qpair->base.peer_trid.adrfam = l->trid.adrfam;
	if (nvt_sock_getaddr(qpair->sock, NULL, 0, NULL, caddr, sizeof(caddr), &cport) == 0) {
		snprintf(qpair->base.peer_trid.traddr, sizeof(qpair->base.peer_trid.traddr), "%s",
			 caddr);
		snprintf(qpair->base.peer_trid.trsvcid, sizeof(qpair->base.peer_trid.trsvcid), "%u",
			 cport);
	}
}

/* Counted against the connection limits, or refused (closed at once). */
static bool
qpair_admit(struct tcp_transport *t, struct tcp_qpair *qpair)
{
	if (tcp_conn_admit(t, qpair->base.peer_trid.traddr) != 0) {
		tcp_qpair_fini(qpair, NULL, NULL);
		return false;
	}
	qpair->conn_counted = true;
	return true;
}

static uint32_t
accept_on(struct tcp_transport *t, struct tcp_listener *l)
{
	struct tcp_qpair *qpair;
	struct nvt_sock *sock;
	uint32_t n = 0;

	while (n < TCP_ACCEPT_BATCH && nvt_sock_accept(l->sock, &sock) == 0) {
		n++;
		qpair = tcp_qpair_create(t, sock);
		if (qpair == NULL) {
			NVT_ERRLOG("out of memory for a new connection\n");
			nvt_sock_close(&sock);
			continue;
		}
		qpair_fill_trids(qpair, l);
		qpair->secure = l->secure;
		if (!qpair_admit(t, qpair)) {
			continue;
		}
		NVT_DEBUGLOG(nvmf_tcp, "qpair %u: new connection from %s:%s\n", qpair->id,
			     qpair->base.peer_trid.traddr, qpair->base.peer_trid.trsvcid);
		nvmf_transport_new_qpair(&t->base, &qpair->base);
	}
	return n;
}

static uint32_t
tcp_accept(struct nvmf_transport *transport)
{
	struct tcp_transport *t = to_tcp_transport(transport);
	struct tcp_listener *l;
	uint32_t n = 0;

	TAILQ_FOREACH(l, &t->listeners, link) {
		n += accept_on(t, l);
	}
	return n;
}

static void
fill_padded(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len);

	memset(dst, ' ', len);
	memcpy(dst, src, n);
}

static void
tcp_listener_discover(struct nvmf_transport *transport, const struct nvt_nvmf_trid *trid,
		      bool secure_channel, struct nvt_nvmf_disc_log_entry *entry)
{
	(void)transport;
	entry->trtype = NVT_NVMF_TRTYPE_TCP;
	entry->adrfam = (uint8_t)trid->adrfam;
	entry->treq = secure_channel ? NVT_NVMF_TREQ_SECURE_CHANNEL_REQUIRED
				     : NVT_NVMF_TREQ_SECURE_CHANNEL_NOT_SPECIFIED;
	fill_padded(entry->trsvcid, sizeof(entry->trsvcid), trid->trsvcid);
	fill_padded(entry->traddr, sizeof(entry->traddr), trid->traddr);
	memset(&entry->tsas, 0, sizeof(entry->tsas));
	entry->tsas.tcp.sectype =
		secure_channel ? NVT_NVMF_TCP_SECTYPE_TLS13 : NVT_NVMF_TCP_SECTYPE_NONE;
}

/* ---- poll groups ---- */

static struct nvmf_transport_poll_group *
tcp_poll_group_create(struct nvmf_transport *transport)
{
	struct tcp_poll_group *group = calloc(1, sizeof(*group));

	if (group == NULL) {
		return NULL;
	}
	group->transport = to_tcp_transport(transport);
	TAILQ_INIT(&group->qpairs);
	STAILQ_INIT(&group->free_ctxs);
	STAILQ_INIT(&group->free_spills);
	group->max_spills = TCP_SPILL_MAX_PER_GROUP;
	group->rxbuf = malloc(TCP_GROUP_RX_BUF_SIZE);
	if (group->rxbuf == NULL) {
		free(group);
		return NULL;
	}
	/* The socket group registers its own fds for interrupt mode once it holds sockets. */
	group->sock_group = nvt_sock_group_create(group);
	if (group->sock_group == NULL || tcp_watchdog_init(group) != 0) {
		nvt_sock_group_close(&group->sock_group);
		free(group->rxbuf);
		free(group);
		return NULL;
	}
	return &group->base;
}

static void
tcp_poll_group_destroy(struct nvmf_transport_poll_group *tgroup)
{
	struct tcp_poll_group *group = to_tcp_group(tgroup);
	struct tcp_data_ctx *ctx;

	tcp_watchdog_fini(group);
	nvt_sock_group_close(&group->sock_group);
	tcp_group_free_spills(group);
	while ((ctx = STAILQ_FIRST(&group->free_ctxs)) != NULL) {
		STAILQ_REMOVE_HEAD(&group->free_ctxs, link);
		free(ctx);
	}
	free(group->rxbuf);
	free(group);
}

static int
tcp_poll_group_add(struct nvmf_transport_poll_group *tgroup, struct nvmf_qpair *q)
{
	struct tcp_poll_group *group = to_tcp_group(tgroup);
	struct tcp_qpair *qpair = to_tcp_qpair(q);
	int rc;

	rc = tcp_qpair_group_add(group, qpair);
	if (rc != 0) {
		return rc;
	}
	TAILQ_INSERT_TAIL(&group->qpairs, qpair, link);
	group->stats.qpairs++;
	return 0;
}

/*
 * The core is done with the qpair (qpair_fini follows): it closes for good.
 * Closing here, rather than only leaving the group, is safe inside the
 * socket's own callback: the group defers that close.
 */
static void
tcp_poll_group_remove(struct nvmf_transport_poll_group *tgroup, struct nvmf_qpair *q)
{
	struct tcp_poll_group *group = to_tcp_group(tgroup);
	struct tcp_qpair *qpair = to_tcp_qpair(q);

	tcp_qpair_close(qpair);
	TAILQ_REMOVE(&group->qpairs, qpair, link);
	group->stats.qpairs--;
}

static int
tcp_poll_group_poll(struct nvmf_transport_poll_group *tgroup)
{
	struct tcp_poll_group *group = to_tcp_group(tgroup);
	int rc;

	rc = nvt_sock_group_poll(group->sock_group);
	return rc > 0 ? NVT_POLLER_BUSY : NVT_POLLER_IDLE;
}

static void
tcp_poll_group_dump_stat(struct nvmf_transport_poll_group *tgroup, json_t *obj)
{
	struct tcp_poll_group *group = to_tcp_group(tgroup);
	struct tcp_poll_group_stats *s = &group->stats;

	json_object_set_new(obj, "trtype", json_string("TCP"));
	json_object_set_new(obj, "current_qpairs", json_integer(s->qpairs));
	json_object_set_new(obj, "pdus_received", json_integer((json_int_t)s->pdus_rx));
	json_object_set_new(obj, "pdus_sent", json_integer((json_int_t)s->pdus_tx));
	json_object_set_new(obj, "bytes_received", json_integer((json_int_t)s->bytes_rx));
	json_object_set_new(obj, "bytes_sent", json_integer((json_int_t)s->bytes_tx));
	json_object_set_new(obj, "fatal_errors", json_integer((json_int_t)s->fatal_errors));
	json_object_set_new(obj, "data_digest_errors", json_integer((json_int_t)s->ddgst_errors));
	json_object_set_new(obj, "data_contexts", json_integer(group->num_ctxs));
	json_object_set_new(obj, "rx_pauses", json_integer((json_int_t)s->rx_pauses));
	json_object_set_new(obj, "icd_spills", json_integer((json_int_t)s->icd_spills));
	json_object_set_new(obj, "spill_buffers", json_integer(group->num_spills));
	json_object_set_new(obj, "send_cap_pauses", json_integer((json_int_t)s->send_cap_pauses));
	json_object_set_new(obj, "connect_timeouts", json_integer((json_int_t)s->connect_timeouts));
	json_object_set_new(obj, "pdu_timeouts", json_integer((json_int_t)s->pdu_timeouts));
	json_object_set_new(obj, "send_timeouts", json_integer((json_int_t)s->send_timeouts));
	/* The core dumps the iobuf cache counters of the poll group itself. */
}

static void
tcp_dump_stat(struct nvmf_transport *transport, json_t *obj)
{
	struct tcp_transport *t = to_tcp_transport(transport);
	struct tcp_transport_stats *s = &t->stats;

	json_object_set_new(obj, "current_connections", json_integer(tcp_conn_count(t)));
	json_object_set_new(
		obj, "connections_accepted",
		json_integer((json_int_t)__atomic_load_n(&s->accepted, __ATOMIC_RELAXED)));
	json_object_set_new(obj, "refused_max_connections",
			    json_integer((json_int_t)__atomic_load_n(&s->rejected_max_connections,
								     __ATOMIC_RELAXED)));
	json_object_set_new(obj, "refused_max_connections_per_host",
			    json_integer((json_int_t)__atomic_load_n(&s->rejected_max_per_host,
								     __ATOMIC_RELAXED)));
}

static void
tcp_dump_opts(struct nvmf_transport *transport, json_t *obj)
{
	struct tcp_transport *t = to_tcp_transport(transport);

	json_object_set_new(obj, "maxh2cdata", json_integer(t->opts.maxh2cdata));
	json_object_set_new(obj, "hdgst_allowed", json_boolean(t->opts.hdgst_allowed));
	json_object_set_new(obj, "ddgst_allowed", json_boolean(t->opts.ddgst_allowed));
}

/* ---- requests and qpairs ---- */

static int
tcp_req_complete(struct nvmf_request *r)
{
	struct tcp_req *req = TCP_CONTAINER_OF(r, struct tcp_req, base);

	if (req->state == TCP_REQ_STATE_EXECUTING) {
		req->in_core = false;
		tcp_req_set_state(req, TCP_REQ_STATE_EXECUTED);
	}
	tcp_req_process(req);
	return 0;
}

static void
tcp_qpair_fini_op(struct nvmf_qpair *q, nvmf_qpair_fini_cb cb, void *cb_arg)
{
	tcp_qpair_fini(to_tcp_qpair(q), cb, cb_arg);
}

static void
tcp_opts_init(struct nvt_nvmf_transport_opts *opts)
{
	(void)opts;
}

static const struct nvmf_transport_ops g_tcp_ops = {
	.name = "TCP",
	.type = NVT_NVMF_TRTYPE_TCP,
	.opts_init = tcp_opts_init,
	.create = tcp_create,
	.destroy = tcp_destroy,
	.listen = tcp_listen,
	.stop_listen = tcp_stop_listen,
	.accept = tcp_accept,
	.listener_discover = tcp_listener_discover,
	.poll_group_create = tcp_poll_group_create,
	.poll_group_destroy = tcp_poll_group_destroy,
	.poll_group_add = tcp_poll_group_add,
	.poll_group_remove = tcp_poll_group_remove,
	.poll_group_poll = tcp_poll_group_poll,
	.req_complete = tcp_req_complete,
	.qpair_fini = tcp_qpair_fini_op,
	.dump_opts = tcp_dump_opts,
	.poll_group_dump_stat = tcp_poll_group_dump_stat,
	.dump_stat = tcp_dump_stat,
};

NVMF_TRANSPORT_REGISTER(tcp, &g_tcp_ops)
