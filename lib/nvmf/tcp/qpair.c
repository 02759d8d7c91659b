/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The life of a connection: one state machine (enum tcp_qpair_state, the
 * table below) whose transitions do the teardown, and one reference count
 * that frees the qpair once the core is done with it and nothing can call
 * back into it any more. Also the scheduling of receive: readable
 * callbacks, pauses (the socket leaves its group), resume messages.
 *
 * Everything here runs on the thread of the qpair's poll group, except
 * tcp_qpair_create() (the accepting thread, before the qpair is handed on).
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/thread.h"

#include "tcp_internal.h"

/* Reads of unread host bytes before a close (of TCP_CLOSE_DRAIN_SIZE each). */
#define TCP_CLOSE_DRAIN_READS 64
#define TCP_CLOSE_DRAIN_SIZE  4096u

#define BIT(s) (1u << (s))
/* Every state may end in FINI: the core may finish a qpair at any time. */
static const uint32_t g_qpair_transitions[TCP_QPAIR_NUM_STATES] = {
	[TCP_QPAIR_STATE_NEW] = BIT(TCP_QPAIR_STATE_AWAIT_ICREQ) | BIT(TCP_QPAIR_STATE_FINI),
	[TCP_QPAIR_STATE_AWAIT_ICREQ] = BIT(TCP_QPAIR_STATE_RUNNING) |
					BIT(TCP_QPAIR_STATE_TERMINATING) |
					BIT(TCP_QPAIR_STATE_CLOSED) | BIT(TCP_QPAIR_STATE_FINI),
	[TCP_QPAIR_STATE_RUNNING] = BIT(TCP_QPAIR_STATE_TERMINATING) | BIT(TCP_QPAIR_STATE_CLOSED) |
				    BIT(TCP_QPAIR_STATE_FINI),
	[TCP_QPAIR_STATE_TERMINATING] = BIT(TCP_QPAIR_STATE_CLOSED) | BIT(TCP_QPAIR_STATE_FINI),
	[TCP_QPAIR_STATE_CLOSED] = BIT(TCP_QPAIR_STATE_FINI),
	[TCP_QPAIR_STATE_FINI] = 0,
};

bool
tcp_qpair_transition_valid(enum tcp_qpair_state from, enum tcp_qpair_state to)
{
	if (from >= TCP_QPAIR_NUM_STATES || to >= TCP_QPAIR_NUM_STATES) {
		return false;
	}
	return (g_qpair_transitions[from] & BIT(to)) != 0;
}

void
tcp_qpair_set_state(struct tcp_qpair *qpair, enum tcp_qpair_state next)
{
	assert(tcp_qpair_transition_valid(qpair->state, next));
	qpair->state = next;
}

const struct tcp_opts *
tcp_qpair_opts(const struct tcp_qpair *qpair)
{
	return &qpair->transport->opts;
}

/* ---- creation and freeing ---- */

struct tcp_qpair *
tcp_qpair_create(struct tcp_transport *t, struct nvt_sock *sock)
{
	struct tcp_qpair *qpair = calloc(1, sizeof(*qpair));

	if (qpair == NULL) {
		return NULL;
	}
	qpair->depth = t->opts.max_queue_depth;
	qpair->transport = t;
	qpair->sock = sock;
	if (tcp_qpair_reqs_alloc(qpair) != 0) {
		free(qpair);
		return NULL;
	}
	qpair->id = ++t->next_qpair_id;
	qpair->base.transport = &t->base;
	qpair->state = TCP_QPAIR_STATE_NEW;
	qpair->recv_state = TCP_PDU_RECV_STATE_AWAIT_CH;
	qpair->params.max_icd = t->icd_max;
	qpair->params.maxh2cdata = t->opts.maxh2cdata;
	return qpair;
}

static void
qpair_free(struct tcp_qpair *qpair)
{
	nvmf_qpair_fini_cb cb = qpair->fini_cb;
	void *cb_arg = qpair->fini_cb_arg;

	assert(qpair->state == TCP_QPAIR_STATE_FINI && qpair->refs == 0);
	assert(qpair->sock == NULL && qpair->watch == TCP_WATCH_NONE);
	if (qpair->conn_counted) {
		tcp_conn_release(qpair->transport, qpair->base.peer_trid.traddr);
	}
	tcp_qpair_reqs_free(qpair);
	free(qpair->rx_stash);
	free((char *)qpair->base.tls_identity);
	free(qpair);
	if (cb != NULL) {
		cb(cb_arg);
	}
}

void
tcp_qpair_get(struct tcp_qpair *qpair)
{
	qpair->refs++;
}

/* Drop a reference; the last one of a finished qpair frees it. */
void
tcp_qpair_put(struct tcp_qpair *qpair)
{
	assert(qpair->refs > 0);
	if (--qpair->refs == 0 && qpair->state == TCP_QPAIR_STATE_FINI) {
		qpair_free(qpair);
	}
}

/* ---- receive scheduling ---- */

static void tcp_sock_cb(void *cb_arg, struct nvt_sock_group *sgroup, struct nvt_sock *sock);

static bool
rx_is_paused(const struct tcp_qpair *qpair)
{
	return qpair->recv_state == TCP_PDU_RECV_STATE_AWAIT_BUF ||
	       qpair->recv_state == TCP_PDU_RECV_STATE_AWAIT_REQ;
}

/*
 * Receive waits for pool buffers or a free request: take the socket out of
 * the group, or its readable callback would run on every poll (and keep an
 * interrupt-mode thread awake) until then. Only with nothing queued to send:
 * the group sends the queued writes of its sockets only, and those writes
 * (responses, read data) are what gives buffers and requests back.
 */
static void
rx_detach(struct tcp_qpair *qpair)
{
	if (qpair->rx_detached || qpair->sock == NULL || nvt_sock_has_pending_writes(qpair->sock)) {
		return;
	}
	nvt_sock_group_remove_sock(qpair->group->sock_group, qpair->sock);
	qpair->rx_detached = true;
	qpair->group->stats.rx_pauses++;
}

/* Back in the group: readable callbacks and the group's sending resume. */
static int
rx_attach(struct tcp_qpair *qpair)
{
	int rc;

	if (!qpair->rx_detached || qpair->sock == NULL) {
		return 0;
	}
	rc = nvt_sock_group_add_sock(qpair->group->sock_group, qpair->sock, tcp_sock_cb, qpair);
	if (rc != 0) {
		NVT_ERRLOG("qpair %u: cannot resume receiving: %d (%s)\n", qpair->id, rc,
			   nvt_strerror(-rc));
		return rc;
	}
	qpair->rx_detached = false;
	return 0;
}

/* Receive what there is: from a readable callback or a resume message. */
void
tcp_qpair_rx_run(struct tcp_qpair *qpair)
{
	int rc;

	/* Held: receiving or disconnecting may finish the qpair under us. */
	tcp_qpair_get(qpair);
	rc = rx_attach(qpair);
	if (rc == 0) {
		rc = tcp_qpair_recv(qpair);
	}
	if (rc < 0) {
		tcp_qpair_disconnect(qpair);
	} else {
		tcp_watch_rx(qpair);
		if (rx_is_paused(qpair)) {
			rx_detach(qpair);
		}
	}
	tcp_qpair_put(qpair);
}

/* No message could be sent: the socket's next readable callback resumes receiving. */
void
tcp_qpair_rx_resume_later(struct tcp_qpair *qpair)
{
	(void)rx_attach(qpair);
}

static void
tcp_sock_cb(void *cb_arg, struct nvt_sock_group *sgroup, struct nvt_sock *sock)
{
	(void)sgroup;
	(void)sock;
	tcp_qpair_rx_run(cb_arg);
}

int
tcp_qpair_group_add(struct tcp_poll_group *group, struct tcp_qpair *qpair)
{
	int rc;

	qpair->group = group;
	rc = nvt_sock_group_add_sock(group->sock_group, qpair->sock, tcp_sock_cb, qpair);
	if (rc != 0) {
		NVT_ERRLOG("qpair %u: cannot add to socket group: %d (%s)\n", qpair->id, rc,
			   nvt_strerror(-rc));
		return rc;
	}
	tcp_qpair_set_state(qpair, TCP_QPAIR_STATE_AWAIT_ICREQ);
	tcp_watch(qpair, TCP_WATCH_CONNECT);
	return 0;
}

static void
flush_msg(void *ctx)
{
	struct tcp_qpair *qpair = ctx;

	if (qpair->sock != NULL && qpair->rx_detached) {
		(void)nvt_sock_flush(qpair->sock);
		/* The send buffer is full: the group waits for room (and receives again). */
		if (qpair->sock != NULL && nvt_sock_has_pending_writes(qpair->sock)) {
			(void)rx_attach(qpair);
		}
	}
	tcp_qpair_put(qpair);
}

/* A PDU was queued on the socket: a socket out of its group is flushed by a message. */
void
tcp_qpair_tx_queued(struct tcp_qpair *qpair)
{
	int rc;

	if (!qpair->rx_detached) {
		return;
	}
	rc = nvt_thread_send_msg_prealloc(nvt_get_thread(), &qpair->flush_msg, flush_msg, qpair);
	if (rc == 0) {
		tcp_qpair_get(qpair);
	} else if (rc != -EBUSY) {
		/* Back in the group, which sends it (an error is logged by rx_attach). */
		(void)rx_attach(qpair);
	}
}

/*
 * Whether the read data the qpair holds - read from the namespace, queued
 * or being sent - reached max_queued_send: the host does not read as fast
 * as it asks. Receive then pauses before the next command, so the buffers
 * its reads hold stay bounded, and the send deadline runs: a host that
 * reads nothing at all is dropped.
 */
bool
tcp_qpair_send_capped(struct tcp_qpair *qpair)
{
	uint32_t cap = tcp_qpair_opts(qpair)->max_queued_send;

	if (cap == 0 || qpair->rd_held < cap) {
		return false;
	}
	if (!qpair->rx_send_capped) {
		qpair->rx_send_capped = true;
		qpair->group->stats.send_cap_pauses++;
		tcp_watch(qpair, TCP_WATCH_SEND);
	}
	return true;
}

/* \p bytes of a PDU left (sent, or dropped with the socket). */
void
tcp_qpair_tx_done(struct tcp_qpair *qpair, uint32_t bytes)
{
	assert(qpair->tx_queued >= bytes);
	qpair->tx_queued -= bytes;
	if (qpair->rx_send_capped && qpair->state == TCP_QPAIR_STATE_RUNNING) {
		/* Sending moves: the deadline starts again from now. */
		tcp_watch(qpair, TCP_WATCH_SEND);
	}
}

/* A read gave back \p bytes of data buffers: below the cap, receive goes on. */
void
tcp_qpair_rd_released(struct tcp_qpair *qpair, uint32_t bytes)
{
	assert(qpair->rd_held >= bytes);
	qpair->rd_held -= bytes;
	if (!qpair->rx_send_capped || qpair->rd_held >= tcp_qpair_opts(qpair)->max_queued_send) {
		return;
	}
	qpair->rx_send_capped = false;
	if (qpair->state != TCP_QPAIR_STATE_RUNNING) {
		return;
	}
	tcp_unwatch(qpair);
	if (qpair->recv_state == TCP_PDU_RECV_STATE_AWAIT_REQ) {
		tcp_qpair_kick_rx(qpair);
	}
}

/* ---- teardown ---- */

/*
 * Bytes the host sent that nobody will read would make close() answer with a
 * reset, which may overtake a C2HTermReq still in flight: read (and drop) what
 * is already there first, so the host sees an orderly end of stream.
 */
static void
qpair_drain_sock(struct tcp_qpair *qpair)
{
	/* Not the group's buffer: another qpair may be in the middle of it. */
	uint8_t junk[TCP_CLOSE_DRAIN_SIZE];
	int i;

	for (i = 0; i < TCP_CLOSE_DRAIN_READS; i++) {
		if (nvt_sock_recv(qpair->sock, junk, sizeof(junk)) <= 0) {
			return;
		}
	}
}

/*
 * What entering CLOSED (or FINI straight from a live state) does: nothing
 * more is received, the socket is closed (its queued writes complete,
 * cancelled, through their callbacks; the group defers a close inside one
 * of its callbacks), and requests the core does not hold are finished.
 */
static void
qpair_shut(struct tcp_qpair *qpair)
{
	tcp_unwatch(qpair);
	if (qpair->recv_state != TCP_PDU_RECV_STATE_ERROR) {
		tcp_pdu_recv_set_state(qpair, TCP_PDU_RECV_STATE_ERROR);
	}
	if (qpair->sock != NULL) {
		qpair_drain_sock(qpair);
		nvt_sock_close(&qpair->sock);
		qpair->rx_detached = false;
	}
	tcp_qpair_abort_reqs(qpair);
}

/* Before CLOSED: the socket may be open and the core has not been told. */
bool
tcp_qpair_is_live(const struct tcp_qpair *qpair)
{
	return qpair->state < TCP_QPAIR_STATE_CLOSED;
}

/*
 * The core finishes the qpair (poll_group_remove): CLOSED without telling
 * the core, which asked.
 */
void
tcp_qpair_close(struct tcp_qpair *qpair)
{
	if (!tcp_qpair_is_live(qpair)) {
		return;
	}
	tcp_qpair_get(qpair);
	tcp_qpair_set_state(qpair, TCP_QPAIR_STATE_CLOSED);
	qpair_shut(qpair);
	tcp_qpair_put(qpair);
}

static void
qpair_disconnect(struct tcp_qpair *qpair, bool wait_term)
{
	if (!tcp_qpair_is_live(qpair)) {
		return;
	}
	if (qpair->recv_state != TCP_PDU_RECV_STATE_ERROR) {
		tcp_pdu_recv_set_state(qpair, TCP_PDU_RECV_STATE_ERROR);
	}
	if (wait_term && qpair->state == TCP_QPAIR_STATE_TERMINATING &&
	    qpair->term.tx.state == TCP_PDU_SEND_STATE_QUEUED) {
		return;
	}
	tcp_qpair_get(qpair);
	tcp_qpair_set_state(qpair, TCP_QPAIR_STATE_CLOSED);
	qpair_shut(qpair);
	nvmf_qpair_disconnect(&qpair->base);
	tcp_qpair_put(qpair);
}

/*
 * The connection is over (the host closed it, a fatal error's C2HTermReq
 * went out): CLOSED, and the core is told once. While a C2HTermReq is on
 * its way, the socket stays open until it is sent.
 */
void
tcp_qpair_disconnect(struct tcp_qpair *qpair)
{
	qpair_disconnect(qpair, true);
}

/* A deadline passed: CLOSED now, a C2HTermReq still queued or not. */
void
tcp_qpair_drop(struct tcp_qpair *qpair)
{
	qpair_disconnect(qpair, false);
}

void
tcp_qpair_fatal_error(struct tcp_qpair *qpair, uint16_t fes, uint32_t fei)
{
	uint32_t len;

	if (qpair->state != TCP_QPAIR_STATE_AWAIT_ICREQ &&
	    qpair->state != TCP_QPAIR_STATE_RUNNING) {
		return;
	}
	qpair->group->stats.fatal_errors++;
	tcp_pdu_recv_set_state(qpair, TCP_PDU_RECV_STATE_ERROR);
	tcp_qpair_set_state(qpair, TCP_QPAIR_STATE_TERMINATING);
	/* A host that does not read the C2HTermReq is closed when the send deadline passes. */
	tcp_watch(qpair, TCP_WATCH_SEND);
	len = qpair->rx_hdr_got < sizeof(qpair->rx_hdr) ? qpair->rx_hdr_got : sizeof(qpair->rx_hdr);
	if (len > qpair->rx_hdr.ch.hlen && qpair->rx_hdr_got > sizeof(qpair->rx_hdr.ch)) {
		len = qpair->rx_hdr.ch.hlen;
	}
	tcp_send_term_req(qpair, fes, fei, qpair->rx_hdr.raw, len);
}

/* The core is done with the qpair: FINI, freed by its last reference. */
void
tcp_qpair_fini(struct tcp_qpair *qpair, nvmf_qpair_fini_cb cb, void *cb_arg)
{
	bool live = tcp_qpair_is_live(qpair);

	tcp_qpair_get(qpair);
	qpair->fini_cb = cb;
	qpair->fini_cb_arg = cb_arg;
	tcp_qpair_set_state(qpair, TCP_QPAIR_STATE_FINI);
	if (live) {
		qpair_shut(qpair);
	}
	tcp_qpair_put(qpair);
}

bool
tcp_qpair_take_tls_identity(struct tcp_qpair *qpair)
{
	struct nvt_sock_tls_info info;

	if (nvt_sock_get_tls_info(qpair->sock, &info) != 0 || !info.established) {
		NVT_ERRLOG("qpair %u: ICReq on a TLS listener without a TLS session\n", qpair->id);
		return false;
	}
	qpair->base.tls_identity = strdup(info.identity);
	if (qpair->base.tls_identity == NULL) {
		NVT_ERRLOG("qpair %u: out of memory for the TLS identity\n", qpair->id);
		return false;
	}
	NVT_INFOLOG("qpair %u: TLS 1.3 %s (%s), PSK identity %s\n", qpair->id,
		    nvt_sock_tls_cipher_name(info.cipher),
		    info.ktls ? "kernel TLS" : "OpenSSL record layer", info.identity);
	return true;
}
