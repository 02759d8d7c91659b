/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the NVMe/TCP connection's lifetime and limits: the qpair
 * state machine and its last reference, the connection table, the send cap
 * and the deadlines (on a fake clock).
 */
#include "tcp_ut_env.h"

static int g_fini_calls;

static void
fini_cb(void *arg)
{
	(void)arg;
	g_fini_calls++;
}

/* The fixture group's deadlines again, after the test set its timeouts. */
static void
watchdog_restart(struct fixture *f)
{
	tcp_watchdog_fini(&f->g);
	assert_int_equal(tcp_watchdog_init(&f->g), 0);
}

static void
test_qpair_transitions(void **state)
{
	enum tcp_qpair_state s;

	(void)state;
	for (s = 0; s < TCP_QPAIR_STATE_FINI; s++) {
		assert_true(tcp_qpair_transition_valid(s, TCP_QPAIR_STATE_FINI));
	}
	for (s = 0; s < TCP_QPAIR_NUM_STATES; s++) {
		assert_false(tcp_qpair_transition_valid(TCP_QPAIR_STATE_FINI, s));
	}
	assert_false(tcp_qpair_transition_valid(TCP_QPAIR_STATE_NEW, TCP_QPAIR_STATE_RUNNING));
	assert_false(tcp_qpair_transition_valid(TCP_QPAIR_STATE_CLOSED, TCP_QPAIR_STATE_RUNNING));
	assert_false(
		tcp_qpair_transition_valid(TCP_QPAIR_STATE_TERMINATING, TCP_QPAIR_STATE_RUNNING));
	assert_true(tcp_qpair_transition_valid(TCP_QPAIR_STATE_RUNNING, TCP_QPAIR_STATE_CLOSED));
	assert_false(tcp_qpair_transition_valid(TCP_QPAIR_NUM_STATES, TCP_QPAIR_STATE_FINI));
}

/* A qpair of the fixture's transport made as accept makes it, in the fixture's group. */
static struct tcp_qpair *
new_qpair(struct fixture *f)
{
	struct tcp_qpair *q = tcp_qpair_create(&f->t, (struct nvt_sock *)f);

	assert_non_null(q);
	assert_int_equal(q->state, TCP_QPAIR_STATE_NEW);
	assert_int_equal(tcp_qpair_group_add(&f->g, q), 0);
	assert_int_equal(q->state, TCP_QPAIR_STATE_AWAIT_ICREQ);
	return q;
}

/* The core finishes a qpair with a request still in the core: freed with that request. */
static void
test_fini_waits_for_last_ref(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_qpair *q = new_qpair(f);
	struct tcp_req *req = tcp_req_get(q);
	struct nvt_nvme_status st;

	(void)state;
	q->state = TCP_QPAIR_STATE_RUNNING;
	memset(&req->cmd, 0, sizeof(req->cmd));
	req->cmd.cmd.opc = NVT_NVME_OPC_FLUSH;
	assert_int_equal(tcp_req_parse_sgl(req, 0, 131072, &st), 0);
	tcp_req_process(req);
	assert_int_equal(req->state, TCP_REQ_STATE_EXECUTING);
	assert_int_equal(q->refs, 1);

	g_fini_calls = 0;
	tcp_qpair_close(q);
	assert_int_equal(q->state, TCP_QPAIR_STATE_CLOSED);
	assert_null(q->sock);
	tcp_qpair_fini(q, fini_cb, NULL);
	assert_int_equal(g_fini_calls, 0);
	/* The core completes it: the response is dropped, the request's reference frees. */
	g_tcp_ops.req_complete(&req->base);
	assert_int_equal(g_fini_calls, 1);
	fixture_free(f);
}

/* A qpair finished before it joined a group (refused, or the target stopping). */
static void
test_fini_new_qpair(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_qpair *q = tcp_qpair_create(&f->t, (struct nvt_sock *)f);

	(void)state;
	g_fini_calls = 0;
	tcp_qpair_fini(q, fini_cb, NULL);
	assert_int_equal(g_fini_calls, 1);
	fixture_free(f);
}

static void
test_conn_table(void **state)
{
	struct fixture *f = fixture_new();
	uint32_t i;

	(void)state;
	f->t.opts.max_connections = 5;
	f->t.opts.max_connections_per_host = 3;
	assert_int_equal(tcp_conn_table_create(&f->t), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(tcp_conn_admit(&f->t, "10.0.0.1"), 0);
	}
	assert_int_equal(tcp_conn_admit(&f->t, "10.0.0.1"), -EBUSY);
	assert_int_equal(tcp_conn_admit(&f->t, "10.0.0.1"), -EBUSY);
	assert_int_equal(f->t.stats.rejected_max_per_host, 2);
	assert_int_equal(tcp_conn_admit(&f->t, "10.0.0.2"), 0);
	assert_int_equal(tcp_conn_admit(&f->t, "10.0.0.3"), 0);
	assert_int_equal(tcp_conn_admit(&f->t, "10.0.0.4"), -EBUSY);
	assert_int_equal(f->t.stats.rejected_max_connections, 1);
	assert_int_equal(tcp_conn_count(&f->t), 5);
	tcp_conn_release(&f->t, "10.0.0.1");
	assert_int_equal(tcp_conn_admit(&f->t, "10.0.0.1"), 0);
	assert_int_equal(f->t.stats.accepted, 6);
	for (i = 0; i < 3; i++) {
		tcp_conn_release(&f->t, "10.0.0.1");
	}
	tcp_conn_release(&f->t, "10.0.0.2");
	tcp_conn_release(&f->t, "10.0.0.3");
	assert_int_equal(tcp_conn_count(&f->t), 0);
	tcp_conn_table_destroy(&f->t);
	fixture_free(f);
}

/* Read data the host does not take stops receive at the cap; draining resumes it. */
static void
test_send_cap(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_qpair *q = &f->q;

	(void)state;
	f->t.opts.max_queued_send = 8192;
	f->t.opts.send_timeout_ms = 100;
	watchdog_restart(f);
	g_msgs_enabled = true;
	q->rd_held = 4096;
	assert_false(tcp_qpair_send_capped(q));
	q->rd_held = 9000;
	assert_true(tcp_qpair_send_capped(q));
	assert_int_equal(q->watch, TCP_WATCH_SEND);
	assert_true(g_poller_running);
	assert_int_equal(f->g.stats.send_cap_pauses, 1);
	q->recv_state = TCP_PDU_RECV_STATE_AWAIT_REQ;
	/* A send that completes moves the deadline; reads giving back data resume receive. */
	g_now = 50 * 1000;
	q->tx_queued = 100;
	tcp_qpair_tx_done(q, 10);
	assert_int_equal(q->watch_deadline, g_now + 100 * 1000);
	tcp_qpair_rd_released(q, 100);
	assert_true(q->rx_send_capped);
	tcp_qpair_rd_released(q, 8000);
	assert_int_equal(q->watch, TCP_WATCH_NONE);
	assert_false(g_poller_running);
	assert_false(q->rx_send_capped);
	assert_int_equal(g_num_msgs, 1);
	drop_msgs();
	tcp_qpair_put(q);
	g_msgs_enabled = false;
	g_now = 0;
	fixture_free(f);
}

/* A PDU left half received past pdu_timeout_ms closes the connection, once, counted. */
static void
test_pdu_deadline(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_qpair *q = &f->q;

	(void)state;
	f->t.opts.pdu_timeout_ms = 200;
	watchdog_restart(f);
	q->recv_state = TCP_PDU_RECV_STATE_AWAIT_PSH;
	g_now = 1000;
	tcp_watch_rx(q);
	assert_int_equal(q->watch, TCP_WATCH_PDU);
	assert_int_equal(q->watch_deadline, 1000 + 200 * 1000);
	/* Still the same PDU: the deadline stays. */
	g_now = 150 * 1000;
	tcp_watch_rx(q);
	assert_int_equal(q->watch_deadline, 1000 + 200 * 1000);
	assert_int_equal(watchdog_poll(&f->g), NVT_POLLER_IDLE);
	assert_int_equal(q->state, TCP_QPAIR_STATE_RUNNING);
	g_now = 201 * 1000 + 1;
	assert_int_equal(watchdog_poll(&f->g), NVT_POLLER_BUSY);
	assert_int_equal(q->state, TCP_QPAIR_STATE_CLOSED);
	assert_int_equal(q->watch, TCP_WATCH_NONE);
	assert_int_equal(f->g.stats.pdu_timeouts, 1);
	assert_false(g_poller_running);
	g_now = 0;
	fixture_free(f);
}

/* A whole PDU ends its deadline; a connection waiting for our buffers is not the host's fault. */
static void
test_pdu_deadline_ends(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_qpair *q = &f->q;

	(void)state;
	f->t.opts.pdu_timeout_ms = 200;
	watchdog_restart(f);
	q->recv_state = TCP_PDU_RECV_STATE_AWAIT_PSH;
	tcp_watch_rx(q);
	assert_int_equal(q->watch, TCP_WATCH_PDU);
	tcp_pdu_recv_set_state(q, TCP_PDU_RECV_STATE_AWAIT_CH);
	assert_int_equal(q->watch, TCP_WATCH_NONE);
	q->recv_state = TCP_PDU_RECV_STATE_AWAIT_BUF;
	tcp_watch_rx(q);
	assert_int_equal(q->watch, TCP_WATCH_NONE);
	fixture_free(f);
}

/* Write data owed after an R2T keeps the deadline; data coming in moves it; none owed ends it. */
static void
test_r2t_deadline(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_qpair *q = &f->q;

	(void)state;
	f->t.opts.pdu_timeout_ms = 200;
	watchdog_restart(f);
	q->state_cnt[TCP_REQ_STATE_TRANSFERRING_H2C] = 1;
	g_now = 1000;
	tcp_watch_rx(q);
	assert_int_equal(q->watch, TCP_WATCH_PDU);
	/* Other PDUs arriving whole do not end it. */
	tcp_watch_pdu_done(q);
	assert_int_equal(q->watch, TCP_WATCH_PDU);
	assert_int_equal(q->watch_deadline, 1000 + 200 * 1000);
	g_now = 100 * 1000;
	tcp_watch_h2c_done(q);
	assert_int_equal(q->watch_deadline, 100 * 1000 + 200 * 1000);
	q->state_cnt[TCP_REQ_STATE_TRANSFERRING_H2C] = 0;
	tcp_watch_rx(q);
	assert_int_equal(q->watch, TCP_WATCH_NONE);
	g_now = 0;
	fixture_free(f);
}

/* A write aborted while the socket still holds its R2T is freed by that send's completion. */
static void
test_abort_with_r2t_queued(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_qpair *q = tcp_qpair_create(&f->t, (struct nvt_sock *)f);
	struct tcp_req *req;
	struct nvt_sock_request *r2t;
	struct nvt_nvme_status st;

	(void)state;
	assert_int_equal(tcp_qpair_group_add(&f->g, q), 0);
	q->state = TCP_QPAIR_STATE_RUNNING;
	req = tcp_req_get(q);
	memset(&req->cmd, 0, sizeof(req->cmd));
	req->cmd.cmd.opc = NVT_NVME_OPC_WRITE;
	nvt_nvme_sgl_set_unkeyed(&req->cmd.cmd.dptr.sgl1, NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
				 NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, 8192);
	assert_int_equal(tcp_req_parse_sgl(req, 0, 131072, &st), 0);
	tcp_req_process(req);
	assert_int_equal(req->state, TCP_REQ_STATE_TRANSFERRING_H2C);
	r2t = g_last_sreq;
	g_fini_calls = 0;
	tcp_qpair_close(q);
	tcp_qpair_fini(q, fini_cb, NULL);
	/* The socket still owns the R2T: the request, and so the qpair, stay. */
	assert_int_equal(req->state, TCP_REQ_STATE_COMPLETED);
	assert_int_equal(g_fini_calls, 0);
	r2t->cb_fn(r2t->cb_arg, -ECANCELED);
	assert_int_equal(g_fini_calls, 1);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qpair_transitions),
		cmocka_unit_test(test_fini_waits_for_last_ref),
		cmocka_unit_test(test_fini_new_qpair),
		cmocka_unit_test(test_conn_table),
		cmocka_unit_test(test_send_cap),
		cmocka_unit_test(test_pdu_deadline),
		cmocka_unit_test(test_pdu_deadline_ends),
		cmocka_unit_test(test_r2t_deadline),
		cmocka_unit_test(test_abort_with_r2t_queued),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
