/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Set-up of one queue pair: the TCP connection (TLS 1.3 with a PSK when the
 * controller has one), ICReq/ICResp, Fabrics Connect and, when the
 * controller asks for it or the host wants to check the controller,
 * DH-HMAC-CHAP (auth.c). The connect timeout bounds all of it; the queue's
 * ready_fn learns the outcome once.
 */
#include <errno.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvme_internal.h"

void
nvme_qpair_setup_done(struct nvt_nvme_qpair *qpair, int rc, uint16_t status)
{
	void (*fn)(struct nvt_nvme_qpair *, int, uint16_t) = qpair->ready_fn;

	nvt_poller_unregister(&qpair->timer);
	qpair->ready_fn = NULL;
	if (fn != NULL) {
		fn(qpair, rc, status);
	}
}

static void
auth_done(void *arg, int rc, uint16_t status)
{
	struct nvt_nvme_qpair *qpair = arg;

	if (qpair->state != NVME_QPAIR_STATE_AUTHENTICATING) {
		/* The queue failed or closed first, which told ready_fn already. */
		return;
	}
	if (rc == 0) {
		nvme_qpair_set_state(qpair, NVME_QPAIR_STATE_READY);
		nvme_qpair_setup_done(qpair, 0, 0);
		return;
	}
	nvme_qpair_setup_done(qpair, rc, status);
	/* The controller drops the whole association after a failed authentication. */
	nvme_qpair_fail(qpair, rc);
}

/* Connect succeeded: authenticate when the controller or the host wants it. */
static void
connect_accepted(struct nvt_nvme_qpair *qpair, uint32_t cdw0)
{
	int rc;

	qpair->connect_cdw0 = cdw0;
	rc = nvme_auth_needed(qpair, (uint16_t)(cdw0 >> 16));
	if (rc == 0) {
		nvme_qpair_set_state(qpair, NVME_QPAIR_STATE_READY);
		nvme_qpair_setup_done(qpair, 0, 0);
		return;
	}
	if (rc > 0) {
		nvme_qpair_set_state(qpair, NVME_QPAIR_STATE_AUTHENTICATING);
		rc = nvme_auth_start(qpair, auth_done, qpair);
		if (rc == 0) {
			return;
		}
	}
	nvme_qpair_setup_done(qpair, rc, 0);
}

static void
connect_done(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct nvt_nvme_qpair *qpair = arg;

	if (qpair->state != NVME_QPAIR_STATE_FABRIC_CONNECT) {
		return;
	}
	if (nvt_nvme_cpl_is_error(cpl)) {
		nvme_qpair_setup_done(qpair, -EREMOTEIO, cpl->status);
		return;
	}
	connect_accepted(qpair, cpl->cdw0);
}

static int
send_fabric_connect(struct nvt_nvme_qpair *qpair)
{
	union nvt_nvme_sqe sqe = { 0 };

	nvme_ctrlr_fill_connect(qpair->ctrlr, qpair->qid, qpair->depth, &sqe.connect,
				&qpair->connect_data);
	return nvme_qpair_submit(qpair, &sqe.cmd, &qpair->connect_data, sizeof(qpair->connect_data),
				 true, connect_done, qpair);
}

int
nvme_qpair_rx_ic_resp(struct nvt_nvme_qpair *qpair)
{
	const struct nvt_nvme_tcp_ic_resp *resp = &qpair->rx_hdr.ic_resp;
	const struct nvt_nvme_ctrlr_opts *opts = nvme_ctrlr_get_opts(qpair->ctrlr);
	int rc;

	if (qpair->state != NVME_QPAIR_STATE_IC_WAIT) {
		return -EPROTO;
	}
	rc = nvme_pdu_check_icresp(resp, opts->header_digest, opts->data_digest);
	if (rc != 0) {
		NVT_ERRLOG("qpair %u: invalid ICResp\n", qpair->qid);
		return rc;
	}
	qpair->hdgst = (resp->dgst & NVT_NVME_TCP_DGST_HDGST_ENABLE) != 0;
	qpair->ddgst = (resp->dgst & NVT_NVME_TCP_DGST_DDGST_ENABLE) != 0;
	qpair->cpda = resp->cpda;
	qpair->maxh2cdata = resp->maxh2cdata;
	nvme_qpair_set_state(qpair, NVME_QPAIR_STATE_FABRIC_CONNECT);
	rc = send_fabric_connect(qpair);
	return rc < 0 ? rc : 1;
}

static void
ic_send_done(void *arg, int err)
{
	struct nvt_nvme_qpair *qpair = arg;

	qpair->ic_send_pending = false;
	if (err != 0 && !qpair->closing) {
		nvme_qpair_fail(qpair, err);
	}
	if (qpair->closing) {
		nvme_qpair_try_free(qpair);
	}
}

static bool
qpair_uses_tls(const struct nvt_nvme_qpair *qpair)
{
	return qpair->ctrlr->keys != NULL && qpair->ctrlr->keys->tls;
}

static void
sock_connect_done(void *arg, struct nvt_sock *sock, int status)
{
	struct nvt_nvme_qpair *qpair = arg;
	const struct nvt_nvme_ctrlr_opts *opts = nvme_ctrlr_get_opts(qpair->ctrlr);

	(void)sock;
	if (status != 0) {
		if (qpair_uses_tls(qpair)) {
			/* The handshake is part of the connect: a wrong PSK ends here. */
			NVT_ERRLOG("qpair %u: TLS connection failed (PSK identity '%s'): %s\n",
				   qpair->qid, qpair->ctrlr->keys->psk.identity,
				   nvt_strerror(status));
		}
		nvme_qpair_fail(qpair, status);
		return;
	}
	nvme_pdu_build_icreq(&qpair->icreq, opts->header_digest, opts->data_digest);
	qpair->ic_iov.iov_base = &qpair->icreq;
	qpair->ic_iov.iov_len = sizeof(qpair->icreq);
	qpair->ic_sreq.cb_fn = ic_send_done;
	qpair->ic_sreq.cb_arg = qpair;
	qpair->ic_sreq.iov = &qpair->ic_iov;
	qpair->ic_sreq.iovcnt = 1;
	qpair->ic_send_pending = true;
	nvme_qpair_set_state(qpair, NVME_QPAIR_STATE_IC_WAIT);
	nvt_sock_writev_async(qpair->sock, &qpair->ic_sreq);
}

static int
qpair_timeout(void *arg)
{
	struct nvt_nvme_qpair *qpair = arg;

	NVT_ERRLOG("qpair %u: connection set-up timed out\n", qpair->qid);
	nvme_qpair_fail(qpair, -ETIMEDOUT);
	return NVT_POLLER_BUSY;
}

/* The socket: TLS keyed by the controller's PSK when it has one, else plain TCP. */
static int
qpair_sock_connect(struct nvt_nvme_qpair *qpair, int port)
{
	const struct nvt_nvme_trid *trid = nvt_nvme_ctrlr_get_trid(qpair->ctrlr);
	const char *impl = nvme_ctrlr_get_opts(qpair->ctrlr)->sock_impl;
	struct nvt_sock_opts sopts;

	nvt_sock_get_default_opts(&sopts, sizeof(sopts));
	if (qpair_uses_tls(qpair)) {
		sopts.tls = &qpair->ctrlr->keys->tls_opts;
		impl = "ssl";
	}
	return nvt_sock_connect(trid->traddr, port, impl, &sopts, sock_connect_done, qpair,
				&qpair->sock);
}

int
nvme_qpair_connect(struct nvt_nvme_qpair *qpair)
{
	const struct nvt_nvme_trid *trid = nvt_nvme_ctrlr_get_trid(qpair->ctrlr);
	const struct nvt_nvme_ctrlr_opts *opts = nvme_ctrlr_get_opts(qpair->ctrlr);
	uint64_t port;
	int rc;

	if (nvt_parse_u64(trid->trsvcid, 65535, &port) != 0 || port == 0) {
		return -EINVAL;
	}
	rc = qpair_sock_connect(qpair, (int)port);
	if (rc != 0) {
		return rc;
	}
	rc = nvt_sock_group_add_sock(qpair->group->sgroup, qpair->sock, nvme_qpair_sock_cb, qpair);
	if (rc != 0) {
		nvt_sock_close(&qpair->sock);
		return rc;
	}
	qpair->group->num_qpairs++;
	qpair->timer = nvt_poller_register(qpair_timeout, qpair,
					   (uint64_t)opts->connect_timeout_ms * 1000, "nvme_conn");
	return 0;
}

int
nvt_nvme_ctrlr_get_tls_info(const struct nvt_nvme_ctrlr *ctrlr, struct nvt_sock_tls_info *info)
{
	if (ctrlr->keys == NULL || !ctrlr->keys->tls) {
		return -ENOTSUP;
	}
	if (ctrlr->adminq == NULL || ctrlr->adminq->sock == NULL) {
		return -ENXIO;
	}
	return nvt_sock_get_tls_info(ctrlr->adminq->sock, info);
}
