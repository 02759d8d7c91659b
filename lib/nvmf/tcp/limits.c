/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What keeps a misbehaving host from growing the target's memory or holding
 * its resources for ever:
 *   - connection counts, in total and per host address, checked at accept
 *     (the connection table: the accepting thread adds, poll-group threads
 *     remove, under one lock - connection set-up, never the I/O path);
 *   - deadlines per poll group (the watchdog): finishing ICReq and Connect,
 *     receiving a PDU whole, sending with data queued. Each qpair is on at
 *     most one list; each list has one timeout, so it stays in deadline
 *     order by appending. The poller runs only while some list is not empty.
 * Each limit logs once per offender (a host address, or a connection) and
 * counts in nvmf_get_stats.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/thread.h"
#include "nvtcp/ticks.h"

#include "tcp_internal.h"

#define CONN_BUCKETS 64
/* The watchdog looks this many times per shortest timeout, within these bounds (us). */
#define WATCH_CHECKS_PER_TIMEOUT 4
#define WATCH_PERIOD_MIN_US	 1000u
#define WATCH_PERIOD_MAX_US	 1000000u

/* ---- connections per host address ---- */

struct conn_host {
	char addr[NVT_SOCK_ADDR_LEN];
	uint32_t count;
	bool logged; /* refused since it was last under the limit */
	struct conn_host *next;
};

struct tcp_conn_table {
	pthread_mutex_t lock;
	uint32_t total;
	bool total_logged;
	struct conn_host *buckets[CONN_BUCKETS];
};

int
tcp_conn_table_create(struct tcp_transport *t)
{
	t->conns = calloc(1, sizeof(*t->conns));
	if (t->conns == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_init(&t->conns->lock, NULL);
	return 0;
}

void
tcp_conn_table_destroy(struct tcp_transport *t)
{
	struct conn_host *h;
	uint32_t i;

	if (t->conns == NULL) {
		return;
	}
	for (i = 0; i < CONN_BUCKETS; i++) {
		while ((h = t->conns->buckets[i]) != NULL) {
			t->conns->buckets[i] = h->next;
			free(h);
		}
	}
	pthread_mutex_destroy(&t->conns->lock);
	free(t->conns);
	t->conns = NULL;
}

static struct conn_host **
host_slot(struct tcp_conn_table *tab, const char *addr)
{
	uint32_t hash = 2166136261u; /* FNV-1a */
	struct conn_host **h;
	const char *c;

	for (c = addr; *c != '\0'; c++) {
		hash = (hash ^ (uint8_t)*c) * 16777619u;
	}
	for (h = &tab->buckets[hash % CONN_BUCKETS]; *h != NULL; h = &(*h)->next) {
		if (strcmp((*h)->addr, addr) == 0) {
			break;
		}
	}
	return h;
}

/* Locked: 0 and counted, or -EBUSY (logged once per offender) or -ENOMEM. */
static int
admit_locked(struct tcp_transport *t, const char *addr)
{
	struct tcp_conn_table *tab = t->conns;
	const struct tcp_opts *o = &t->opts;
	struct conn_host **slot = host_slot(tab, addr), *h = *slot;

	if (o->max_connections != 0 && tab->total >= o->max_connections) {
		if (!tab->total_logged) {
			NVT_ERRLOG("connection from %s refused: %u connections, the most allowed "
				   "(max_connections)\n",
				   addr, tab->total);
			tab->total_logged = true;
		}
		__atomic_fetch_add(&t->stats.rejected_max_connections, 1, __ATOMIC_RELAXED);
		return -EBUSY;
	}
	if (h != NULL && o->max_connections_per_host != 0 &&
	    h->count >= o->max_connections_per_host) {
		if (!h->logged) {
			NVT_ERRLOG(
				"connection from %s refused: it has %u, the most allowed per host "
				"(max_connections_per_host)\n",
				addr, h->count);
			h->logged = true;
		}
		__atomic_fetch_add(&t->stats.rejected_max_per_host, 1, __ATOMIC_RELAXED);
		return -EBUSY;
	}
	if (h == NULL) {
		h = calloc(1, sizeof(*h));
		if (h == NULL) {
			return -ENOMEM;
		}
		snprintf(h->addr, sizeof(h->addr), "%s", addr);
		*slot = h;
	}
	h->count++;
	tab->total++;
	return 0;
}

int
tcp_conn_admit(struct tcp_transport *t, const char *addr)
{
	int rc;

	pthread_mutex_lock(&t->conns->lock);
	rc = admit_locked(t, addr);
	pthread_mutex_unlock(&t->conns->lock);
	if (rc == 0) {
		__atomic_fetch_add(&t->stats.accepted, 1, __ATOMIC_RELAXED);
	}
	return rc;
}

void
tcp_conn_release(struct tcp_transport *t, const char *addr)
{
	struct tcp_conn_table *tab = t->conns;
	struct conn_host **slot, *h;

	pthread_mutex_lock(&tab->lock);
	slot = host_slot(tab, addr);
	h = *slot;
	if (h != NULL) {
		h->logged = false;
		if (--h->count == 0) {
			*slot = h->next;
			free(h);
		}
	}
	tab->total--;
	tab->total_logged = false;
	pthread_mutex_unlock(&tab->lock);
}

uint32_t
tcp_conn_count(struct tcp_transport *t)
{
	uint32_t n;

	pthread_mutex_lock(&t->conns->lock);
	n = t->conns->total;
	pthread_mutex_unlock(&t->conns->lock);
	return n;
}

/* ---- deadlines ---- */

static int watchdog_poll(void *ctx);

int
tcp_watchdog_init(struct tcp_poll_group *group)
{
	struct tcp_watchdog *wd = &group->watchdog;
	const struct tcp_opts *o = &group->transport->opts;
	uint32_t ms[TCP_WATCH_NUM] = { 0, o->connect_timeout_ms, o->pdu_timeout_ms,
				       o->send_timeout_ms };
	uint64_t period_us = WATCH_PERIOD_MAX_US, p;
	uint32_t i;

	for (i = 0; i < TCP_WATCH_NUM; i++) {
		TAILQ_INIT(&wd->lists[i]);
		wd->timeout_ticks[i] = nvt_us_to_ticks((uint64_t)ms[i] * 1000);
		p = (uint64_t)ms[i] * 1000 / WATCH_CHECKS_PER_TIMEOUT;
		if (ms[i] != 0 && p < period_us) {
			period_us = p;
		}
	}
	if (period_us < WATCH_PERIOD_MIN_US) {
		period_us = WATCH_PERIOD_MIN_US;
	}
	wd->poller = nvt_poller_register(watchdog_poll, group, period_us, "nvmf_tcp_watchdog");
	if (wd->poller == NULL) {
		return -ENOMEM;
	}
	nvt_poller_pause(wd->poller);
	return 0;
}

void
tcp_watchdog_fini(struct tcp_poll_group *group)
{
	nvt_poller_unregister(&group->watchdog.poller);
}

static bool
watchdog_empty(const struct tcp_watchdog *wd)
{
	uint32_t i;

	for (i = TCP_WATCH_NONE + 1; i < TCP_WATCH_NUM; i++) {
		if (!TAILQ_EMPTY(&wd->lists[i])) {
			return false;
		}
	}
	return true;
}

/* Off its list, if on one; the poller keeps running (the caller decides). */
static void
watch_remove(struct tcp_watchdog *wd, struct tcp_qpair *qpair)
{
	if (qpair->watch != TCP_WATCH_NONE) {
		TAILQ_REMOVE(&wd->lists[qpair->watch], qpair, watch_link);
		qpair->watch = TCP_WATCH_NONE;
	}
}

void
tcp_unwatch(struct tcp_qpair *qpair)
{
	struct tcp_watchdog *wd;

	if (qpair->watch == TCP_WATCH_NONE) {
		return;
	}
	wd = &qpair->group->watchdog;
	watch_remove(wd, qpair);
	if (watchdog_empty(wd)) {
		nvt_poller_pause(wd->poller);
	}
}

/*
 * Watch \p what from now on (again: a new deadline); nothing when its
 * timeout is 0. The poller is paused or resumed only when the lists turn
 * empty or not: a deadline moved on every write costs a clock read and a
 * list move, no poller churn.
 */
void
tcp_watch(struct tcp_qpair *qpair, enum tcp_watch what)
{
	struct tcp_watchdog *wd = &qpair->group->watchdog;
	bool was_empty = watchdog_empty(wd);

	watch_remove(wd, qpair);
	if (wd->timeout_ticks[what] != 0) {
		qpair->watch = what;
		qpair->watch_deadline = nvt_get_ticks() + wd->timeout_ticks[what];
		TAILQ_INSERT_TAIL(&wd->lists[what], qpair, watch_link);
	}
	if (was_empty != watchdog_empty(wd)) {
		if (was_empty) {
			nvt_poller_resume(wd->poller);
		} else {
			nvt_poller_pause(wd->poller);
		}
	}
}

/* Bytes of a PDU that is not whole yet (not counting our own pauses). */
static bool
rx_partial(const struct tcp_qpair *qpair)
{
	switch (qpair->recv_state) {
	case TCP_PDU_RECV_STATE_AWAIT_CH:
		return qpair->rx_head != qpair->rx_tail;
	case TCP_PDU_RECV_STATE_AWAIT_PSH:
	case TCP_PDU_RECV_STATE_AWAIT_PAYLOAD:
		return true;
	default:
		return false;
	}
}

/* Writes whose R2T went out and whose data has not all arrived. */
static bool
r2t_outstanding(const struct tcp_qpair *qpair)
{
	return qpair->state_cnt[TCP_REQ_STATE_TRANSFERRING_H2C] != 0;
}

/* Connected: the core took the Fabrics Connect (this runs on the qpair's thread). */
static bool
qpair_connected(const struct tcp_qpair *qpair)
{
	return qpair->state == TCP_QPAIR_STATE_RUNNING && qpair->base.state == NVMF_QPAIR_ACTIVE;
}

/*
 * After receiving, or sending an R2T: a PDU left partly received, or write
 * data the host owes, starts the PDU deadline. It is kept while the same
 * PDU goes on arriving; a whole PDU ends it (pdu_rx.c) unless data is still
 * owed, and a write whose data all came starts it again
 * (tcp_watch_h2c_done): a host that answers no R2T loses the connection,
 * its buffers come back. The connect deadline, once connected, gives way.
 */
void
tcp_watch_rx(struct tcp_qpair *qpair)
{
	if (qpair->watch == TCP_WATCH_CONNECT && qpair_connected(qpair)) {
		tcp_unwatch(qpair);
	}
	if (qpair->state != TCP_QPAIR_STATE_RUNNING ||
	    (qpair->watch != TCP_WATCH_NONE && qpair->watch != TCP_WATCH_PDU)) {
		return;
	}
	if (!rx_partial(qpair) && !r2t_outstanding(qpair)) {
		tcp_unwatch(qpair);
	} else if (qpair->watch == TCP_WATCH_NONE) {
		tcp_watch(qpair, TCP_WATCH_PDU);
	}
}

/* A whole PDU arrived: its deadline ends, unless write data is still owed. */
void
tcp_watch_pdu_done(struct tcp_qpair *qpair)
{
	if (qpair->watch == TCP_WATCH_PDU && !r2t_outstanding(qpair)) {
		tcp_unwatch(qpair);
	}
}

/* A write's data all came: the host answers R2Ts, the deadline starts again. */
void
tcp_watch_h2c_done(struct tcp_qpair *qpair)
{
	if (qpair->watch == TCP_WATCH_PDU) {
		tcp_watch(qpair, TCP_WATCH_PDU);
	}
}

static void
watch_expired(struct tcp_qpair *qpair, enum tcp_watch what)
{
	struct tcp_poll_group_stats *st = &qpair->group->stats;
	const struct nvt_nvmf_trid *p = &qpair->base.peer_trid;

	switch (what) {
	case TCP_WATCH_CONNECT:
		st->connect_timeouts++;
		NVT_ERRLOG("qpair %u from %s:%s: no Connect within %u ms (connect_timeout_ms): "
			   "closing\n",
			   qpair->id, p->traddr, p->trsvcid,
			   tcp_qpair_opts(qpair)->connect_timeout_ms);
		break;
	case TCP_WATCH_PDU:
		st->pdu_timeouts++;
		if (rx_partial(qpair)) {
			NVT_ERRLOG("qpair %u from %s:%s: PDU type 0x%02x not received whole within "
				   "%u ms (pdu_timeout_ms): closing\n",
				   qpair->id, p->traddr, p->trsvcid, qpair->rx_hdr.ch.type,
				   tcp_qpair_opts(qpair)->pdu_timeout_ms);
		} else {
			NVT_ERRLOG("qpair %u from %s:%s: no write data for %u R2Ts within %u ms "
				   "(pdu_timeout_ms): closing\n",
				   qpair->id, p->traddr, p->trsvcid,
				   qpair->state_cnt[TCP_REQ_STATE_TRANSFERRING_H2C],
				   tcp_qpair_opts(qpair)->pdu_timeout_ms);
		}
		break;
	default:
		st->send_timeouts++;
		NVT_ERRLOG("qpair %u from %s:%s: host reads nothing, %u bytes queued, for %u ms "
			   "(send_timeout_ms): closing\n",
			   qpair->id, p->traddr, p->trsvcid, qpair->tx_queued,
			   tcp_qpair_opts(qpair)->send_timeout_ms);
		break;
	}
	tcp_qpair_drop(qpair);
}

/* One list: the qpairs whose deadline passed; 1 when any did. */
static int
watchdog_check(struct tcp_watchdog *wd, enum tcp_watch what, uint64_t now)
{
	struct tcp_qpair *qpair;
	int busy = 0;

	while ((qpair = TAILQ_FIRST(&wd->lists[what])) != NULL) {
		if (what == TCP_WATCH_CONNECT && qpair_connected(qpair)) {
			/* Connected: a PDU it is in the middle of now has its own deadline. */
			tcp_watch_rx(qpair);
			continue;
		}
		if ((int64_t)(now - qpair->watch_deadline) < 0) {
			break;
		}
		tcp_unwatch(qpair);
		watch_expired(qpair, what);
		busy = 1;
	}
	return busy;
}

static int
watchdog_poll(void *ctx)
{
	struct tcp_poll_group *group = ctx;
	uint64_t now = nvt_get_ticks();
	int busy = 0;
	uint32_t i;

	for (i = TCP_WATCH_NONE + 1; i < TCP_WATCH_NUM; i++) {
		busy |= watchdog_check(&group->watchdog, i, now);
	}
	return busy ? NVT_POLLER_BUSY : NVT_POLLER_IDLE;
}
