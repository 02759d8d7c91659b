/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the NVMe/TCP host: the queue pair (one TCP connection), its
 * requests and PDU machines, and the controller set-up sequence.
 */
#ifndef NVME_INTERNAL_H
#define NVME_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "nvtcp/nvme.h"
#include "nvtcp/nvme_tcp.h"
#include "nvtcp/queue.h"
#include "nvtcp/sock.h"
#include "nvtcp/thread.h"

/* Size of the staging receive buffer of a queue. */
#define NVME_RX_BUF_SIZE (64 * 1024)
/* Default and admin in-capsule data sizes: 8 KiB must be supported on the admin queue. */
#define NVME_ADMIN_ICD_SIZE 8192
/* Largest capsule header buffer: 72 bytes, digest, padding to a 128-byte CPDA. */
#define NVME_HDR_BUF_SIZE 256

/* Life of a queue pair. */
enum nvme_qpair_state {
	/* TCP connect in progress. */
	NVME_QPAIR_STATE_CONNECTING,
	/* ICReq sent, waiting for ICResp. */
	NVME_QPAIR_STATE_IC_WAIT,
	/* Fabrics Connect sent. */
	NVME_QPAIR_STATE_FABRIC_CONNECT,
	/* Commands may be submitted. */
	NVME_QPAIR_STATE_READY,
	/* A fatal error: every command failed, nothing more is accepted. */
	NVME_QPAIR_STATE_FAILED,
	NVME_QPAIR_NUM_STATES,
};

/* Receive side of a queue: where in the next PDU the byte stream is. */
enum nvme_rx_state {
	/* Reading the 8-byte common header. */
	NVME_RX_STATE_CH,
	/* Reading the rest of the header, its digest and the padding up to pdo. */
	NVME_RX_STATE_PSH,
	/* Reading C2H data into the request's buffer. */
	NVME_RX_STATE_DATA,
	/* Reading the data digest. */
	NVME_RX_STATE_DDGST,
	/* Stream broken: nothing more is parsed. */
	NVME_RX_STATE_ERROR,
	NVME_RX_NUM_STATES,
};

/* Life of one request. */
enum nvme_req_state {
	/* On the free list. */
	NVME_REQ_STATE_FREE,
	/* Capsule queued or sent; waiting for data, R2T or the response. */
	NVME_REQ_STATE_SUBMITTED,
	/* Sending H2C Data for an R2T. */
	NVME_REQ_STATE_H2C,
	/* Response received; waiting for our own sends to finish before completing. */
	NVME_REQ_STATE_DONE_WAIT_SEND,
	NVME_REQ_NUM_STATES,
};

struct nvt_nvme_qpair;

struct nvme_req {
	struct nvt_nvme_qpair *qpair;
	enum nvme_req_state state;
	uint16_t cid;
	/* Data of the command: caller's buffer, length, and direction. */
	uint8_t *buf;
	uint32_t len;
	bool h2c;
	/* C2H: bytes received so far; H2C: offset and end of the current R2T. */
	uint32_t data_done;
	uint32_t r2t_off;
	uint32_t r2t_end;
	uint16_t ttag;
	/* Socket write requests of this request still queued. */
	uint8_t sends;
	struct nvt_nvme_cpl cpl;
	nvt_nvme_cmd_cb cb_fn;
	void *cb_arg;
	/* Capsule or H2C header, its digest and padding; data digest. */
	union {
		union nvt_nvme_tcp_pdu_hdr hdr;
		uint8_t raw[NVME_HDR_BUF_SIZE];
	} tx;
	uint32_t ddgst;
	struct iovec iov[3];
	struct nvt_sock_request sreq;
	TAILQ_ENTRY(nvme_req) link;
};

struct nvt_nvme_qpair {
	struct nvt_nvme_ctrlr *ctrlr;
	struct nvt_nvme_poll_group *group;
	struct nvt_sock *sock;
	uint16_t qid;
	enum nvme_qpair_state state;
	/* Outstanding commands allowed (sqsize, 0's based on the wire). */
	uint32_t depth;
	uint32_t outstanding;
	/* Negotiated in ICResp. */
	bool hdgst;
	bool ddgst;
	uint8_t cpda;
	uint32_t maxh2cdata;
	/* Largest write sent in the capsule. */
	uint32_t icd_size;
	int fatal_rc;
	/* Receive machine. */
	enum nvme_rx_state rx_state;
	uint8_t *rx_buf;
	uint32_t rx_rd;
	uint32_t rx_wr;
	union nvt_nvme_tcp_pdu_hdr rx_hdr;
	uint32_t rx_need;
	uint32_t rx_pad;
	uint32_t rx_ddgst_calc;
	uint32_t rx_ddgst_got;
	uint32_t rx_ddgst_have;
	struct nvme_req *rx_req;
	uint32_t rx_data_left;
	/* Requests, cid = index. */
	struct nvme_req *reqs;
	uint32_t num_reqs;
	TAILQ_HEAD(, nvme_req) free_reqs;
	/* ICReq, sent once. */
	struct nvt_nvme_tcp_ic_req icreq;
	struct iovec ic_iov;
	struct nvt_sock_request ic_sreq;
	bool ic_send_pending;
	/* Connect data of the Fabrics Connect command. */
	struct nvt_nvmf_connect_data connect_data;
	/* Set-up completion (connect of an I/O queue; the admin queue reports to ctrlr). */
	nvt_nvme_qpair_connect_cb connect_cb;
	void *connect_cb_arg;
	/* Called once when the queue becomes ready or fails during set-up. */
	void (*ready_fn)(struct nvt_nvme_qpair *qpair, int rc, uint16_t status);
	struct nvt_nvme_qpair_stats stats;
	/* Set while the queue is being closed, so callbacks do not reenter. */
	bool closing;
	/* Deferred destruction: completion callbacks ran inside the rx path. */
	uint32_t in_rx;
	bool free_pending;
	/* Set-up timeout. */
	struct nvt_poller *timer;
	/* Completion dword 0 of Fabrics Connect (the controller ID). */
	uint32_t connect_cdw0;
};

struct nvt_nvme_poll_group {
	struct nvt_thread *thread;
	struct nvt_sock_group *sgroup;
	struct nvt_poller *poller;
	uint32_t num_qpairs;
};

/* Queue pair (qpair.c) */
struct nvt_nvme_qpair *nvme_qpair_create(struct nvt_nvme_ctrlr *ctrlr,
					 struct nvt_nvme_poll_group *group, uint16_t qid,
					 uint32_t depth);
void nvme_qpair_destroy(struct nvt_nvme_qpair *qpair);
void nvme_qpair_fail(struct nvt_nvme_qpair *qpair, int rc);
int nvme_qpair_submit(struct nvt_nvme_qpair *qpair, const struct nvt_nvme_cmd *cmd, void *buf,
		      uint32_t len, bool h2c, nvt_nvme_cmd_cb cb_fn, void *cb_arg);
void nvme_qpair_set_state(struct nvt_nvme_qpair *qpair, enum nvme_qpair_state state);
/* Start the TCP connection; ready_fn runs when Fabrics Connect completed. */
int nvme_qpair_connect(struct nvt_nvme_qpair *qpair);

/* PDU building (pdu.c): exported for the unit tests. */
void nvme_pdu_build_icreq(struct nvt_nvme_tcp_ic_req *icreq, bool hdgst, bool ddgst);
int nvme_pdu_check_icresp(const struct nvt_nvme_tcp_ic_resp *resp, bool hdgst, bool ddgst);
/* Build the capsule header of a command; returns the header bytes to send (pdo or hlen+hd). */
uint32_t nvme_pdu_build_capsule(union nvt_nvme_tcp_pdu_hdr *hdr, const struct nvt_nvme_cmd *cmd,
				uint32_t icd_len, bool hdgst, bool ddgst, uint8_t cpda);
uint32_t nvme_pdu_build_h2c(union nvt_nvme_tcp_pdu_hdr *hdr, uint16_t cid, uint16_t ttag,
			    uint32_t datao, uint32_t datal, bool last, bool hdgst, bool ddgst,
			    uint8_t cpda);
/* Whether a received header's digest matches. */
bool nvme_pdu_hdgst_ok(const union nvt_nvme_tcp_pdu_hdr *hdr);
/* Basic consistency checks of a received header; 0 or -EPROTO. */
int nvme_pdu_check_rx_hdr(const struct nvt_nvme_tcp_common_hdr *ch, bool hdgst, bool ddgst);

/* Controller (ctrlr.c) */
void nvme_ctrlr_mark_failed(struct nvt_nvme_ctrlr *ctrlr);
const struct nvt_nvme_ctrlr_opts *nvme_ctrlr_get_opts(const struct nvt_nvme_ctrlr *ctrlr);
void nvme_ctrlr_fill_connect(const struct nvt_nvme_ctrlr *ctrlr, uint16_t qid, uint32_t sqsize,
			     struct nvt_nvmf_connect_cmd *cmd, struct nvt_nvmf_connect_data *data);
uint32_t nvme_ctrlr_get_io_icd_size(const struct nvt_nvme_ctrlr *ctrlr);

#endif /* NVME_INTERNAL_H */
