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

#include "nvtcp/auth.h"
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
/*
 * Most data segments in one PDU. A write whose data spans more is not sent in
 * the capsule, and an H2C Data PDU ends early at the last segment that fits.
 */
#define NVME_PDU_MAX_DATA_IOVS 16
/* Socket iovecs of one PDU: header, data segments, data digest. */
#define NVME_PDU_MAX_IOVS (NVME_PDU_MAX_DATA_IOVS + 2)
/* Most blocks in one Read, Write or Write Zeroes (NLB is 16 bits, 0's based). */
#define NVME_CMD_MAX_NLB 65536u

/* Life of a queue pair. */
enum nvme_qpair_state {
	/* TCP connect in progress. */
	NVME_QPAIR_STATE_CONNECTING,
	/* ICReq sent, waiting for ICResp. */
	NVME_QPAIR_STATE_IC_WAIT,
	/* Fabrics Connect sent. */
	NVME_QPAIR_STATE_FABRIC_CONNECT,
	/* Connected; DH-HMAC-CHAP runs (only its commands are sent). */
	NVME_QPAIR_STATE_AUTHENTICATING,
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
struct nvme_auth;

/*
 * Where the data of a command or an I/O starts in a scatter list: iov[0] holds
 * its first byte at offset off, and the data runs on through iov[1..iovcnt-1].
 * The elements themselves belong to the caller (or to the request or I/O that
 * embeds a single one) and are never written.
 */
struct nvme_payload {
	const struct iovec *iov;
	uint32_t iovcnt;
	size_t off;
};

/*
 * One I/O of the caller (read, write, write zeroes, flush, dataset
 * management), carried by one or more child commands. A read, write or write
 * zeroes larger than the per-command limit is split: child k moves blocks
 * [k * max_nlb, (k + 1) * max_nlb) of the range and the matching slice of the
 * data. Children are submitted in LBA order as requests free up; the I/O
 * completes once every submitted child has, with the first error seen (after
 * which no more children are sent).
 */
struct nvme_io {
	struct nvt_nvme_qpair *qpair;
	/* Template of every child: opcode, nsid, dwords other than the LBA range. */
	struct nvt_nvme_cmd cmd;
	/* Data of the whole I/O; one is the caller's buffer when not a vector. */
	struct nvme_payload payload;
	struct iovec one;
	/* Bytes of data in total (block_size x nlb when split by blocks). */
	uint32_t len;
	bool h2c;
	/* Children carry an LBA range (slba + next_blk, up to max_nlb blocks). */
	bool has_lba;
	/* Data bytes per block; 0 when no data moves (write zeroes). */
	uint32_t block_size;
	uint64_t slba;
	/* Blocks of the whole I/O (1 for commands without an LBA range). */
	uint32_t nlb;
	uint32_t max_nlb;
	/* First block not yet given to a child. */
	uint32_t next_blk;
	/* Children submitted and not yet finished. */
	uint32_t inflight;
	/* On the queue's list of I/Os waiting for a free request. */
	bool queued;
	/* A child or the queue failed: no further child is submitted. */
	bool failed;
	/* Completion handed to the caller: the first error, else the last child's. */
	struct nvt_nvme_cpl cpl;
	nvt_nvme_cmd_cb cb_fn;
	void *cb_arg;
	/* Free list or waiting list of the queue. */
	TAILQ_ENTRY(nvme_io) link;
};

struct nvme_req {
	struct nvt_nvme_qpair *qpair;
	enum nvme_req_state state;
	uint16_t cid;
	/* Data of the command: where it lies, its length, and direction. */
	struct nvme_payload payload;
	struct iovec one;
	uint32_t len;
	bool h2c;
	/* The I/O this command is a child of; NULL for a command of its own (admin). */
	struct nvme_io *io;
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
	struct iovec iov[NVME_PDU_MAX_IOVS];
	struct nvt_sock_request sreq;
	TAILQ_ENTRY(nvme_req) link;
};

struct nvt_nvme_qpair {
	struct nvt_nvme_ctrlr *ctrlr;
	struct nvt_nvme_poll_group *group;
	struct nvt_sock *sock;
	uint16_t qid;
	enum nvme_qpair_state state;
	/*
	 * Outstanding commands allowed (sqsize, 0's based on the wire); also the
	 * number of requests (command ids) and of I/Os of the caller.
	 */
	uint32_t depth;
	/* Commands and I/Os of the caller not yet completed, at most depth. */
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
	/* I/Os of the caller; those with children left to send wait in order. */
	struct nvme_io *ios;
	TAILQ_HEAD(, nvme_io) free_ios;
	TAILQ_HEAD(, nvme_io) waiting_ios;
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
	/*
	 * Deferred destruction: non-zero inside the rx path and while being
	 * destroyed, whose callbacks (completions, cancelled sends) must not free us.
	 */
	uint32_t busy;
	bool free_pending;
	/* Set-up timeout. */
	struct nvt_poller *timer;
	/* Completion dword 0 of Fabrics Connect (the controller ID). */
	uint32_t connect_cdw0;
	/* An I/O queue whose set-up failed is destroyed through it (once). */
	struct nvt_thread_msg destroy_msg;
	/* DH-HMAC-CHAP while it runs on the queue (set-up or re-authentication). */
	struct nvme_auth *auth;
	/* What the last DH-HMAC-CHAP run on the queue did. */
	struct nvt_nvme_auth_info auth_info;
	/* Bytes of C2H data the command being completed received; valid in its callback. */
	uint32_t cpl_data_len;
};

/*
 * A controller's secrets and what was derived from them, in the secure heap
 * (nvt_auth_secure_alloc()), wiped when freed. Read-only once made, so the
 * queues of every thread read it.
 */
struct nvme_keys {
	/* Transformed DH-HMAC-CHAP keys: Kh (host NQN) and Kc (subsystem NQN); 0 = none. */
	uint8_t kh[NVT_AUTH_MAX_HASH_LEN];
	size_t kh_len;
	uint8_t kc[NVT_AUTH_MAX_HASH_LEN];
	size_t kc_len;
	/* Hash functions and DH groups to offer (masks as in the options). */
	uint32_t digests;
	uint32_t dhgroups;
	/* TLS: the PSK of the handshake and the socket options that point at it. */
	bool tls;
	struct nvt_sock_tls_psk psk;
	struct nvt_sock_tls_opts tls_opts;
};

/* Most qids one controller hands out. */
#define NVME_MAX_QID 1024

enum nvme_ctrlr_state {
	/* Admin queue: TCP, ICReq, Fabrics Connect. */
	NVME_CTRLR_STATE_CONNECT_ADMINQ,
	NVME_CTRLR_STATE_GET_CAP,
	NVME_CTRLR_STATE_GET_VS,
	/* Property Set CC.EN = 1. */
	NVME_CTRLR_STATE_ENABLE,
	/* Property Get CSTS until RDY (bounded by CAP.TO). */
	NVME_CTRLR_STATE_WAIT_RDY,
	NVME_CTRLR_STATE_IDENTIFY,
	/* Identify controller of the NVM command set (CNS 06h): WZSL. Optional. */
	NVME_CTRLR_STATE_IDENTIFY_IOCS,
	NVME_CTRLR_STATE_SET_NUM_QUEUES,
	NVME_CTRLR_STATE_ACTIVE_NS_LIST,
	/* Identify Namespace of ns_index. */
	NVME_CTRLR_STATE_IDENTIFY_NS,
	/* Connected: I/O queues may be created. */
	NVME_CTRLR_STATE_READY,
	/* Property Set CC.SHN. */
	NVME_CTRLR_STATE_SHUTDOWN,
	/* Property Get CSTS until SHST complete. */
	NVME_CTRLR_STATE_WAIT_SHST,
	/* Set-up failed or detached: being freed. */
	NVME_CTRLR_STATE_DEAD,
	NVME_CTRLR_NUM_STATES,
};

struct nvt_nvme_ctrlr {
	struct nvt_nvme_trid trid;
	struct nvt_nvme_ctrlr_opts opts;
	enum nvme_ctrlr_state state;
	struct nvt_thread *thread;
	struct nvt_nvme_poll_group *group;
	struct nvt_nvme_qpair *adminq;
	uint16_t cntlid;
	uint64_t cap;
	uint32_t vs;
	uint32_t cc;
	uint32_t num_io_queues;
	struct nvt_nvme_id_ctrl cdata;
	/* Write Zeroes Size Limit: 2^n minimum pages, 0 = none. */
	uint8_t wzsl;
	/* Set-up data: the NVM command set's Identify controller, then the namespace list. */
	union {
		uint8_t id_ctrl_nvm[NVT_NVME_IDENTIFY_DATA_SIZE];
		struct nvt_nvme_ns_list ns_list;
	};
	uint32_t num_ns;
	uint32_t ns_index;
	uint32_t *nsids;
	struct nvt_nvme_id_ns *nsdata;
	_Atomic bool failed;
	_Atomic uint64_t qid_map[NVME_MAX_QID / 64];
	struct nvt_poller *timer;
	struct nvt_poller *ka_poller;
	bool ka_outstanding;
	uint64_t deadline;
	int rc;
	uint16_t status;
	nvt_nvme_ctrlr_connect_cb connect_cb;
	void *connect_cb_arg;
	nvt_nvme_ctrlr_detach_cb detach_cb;
	void *detach_cb_arg;
	/* The teardown's steps, one after the other: failure or detach, then free. */
	struct nvt_thread_msg msg;
	/* Secrets and what was derived from them; NULL without DH-HMAC-CHAP or TLS. */
	struct nvme_keys *keys;
	/* Transaction ID of the next DH-HMAC-CHAP run (of any queue, from any thread). */
	_Atomic uint32_t auth_tid;
	/* Completion of nvt_nvme_ctrlr_authenticate(), while it runs. */
	nvt_nvme_ctrlr_auth_cb reauth_cb;
	void *reauth_cb_arg;
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
/* Whether a request is free for a child command. */
bool nvme_qpair_has_free_req(const struct nvt_nvme_qpair *qpair);
/*
 * Send one child command of \p io: \p len bytes of \p payload. The request
 * finishes through nvme_io_child_finish(). 0, or -EAGAIN when no request is
 * free, -ENXIO when the queue is not ready.
 */
int nvme_qpair_submit_child(struct nvt_nvme_qpair *qpair, const struct nvt_nvme_cmd *cmd,
			    const struct nvme_payload *payload, uint32_t len, struct nvme_io *io);
void nvme_qpair_set_state(struct nvt_nvme_qpair *qpair, enum nvme_qpair_state state);
/* Readable callback of the queue's socket: runs the receive machine. */
void nvme_qpair_sock_cb(void *arg, struct nvt_sock_group *group, struct nvt_sock *sock);
/* Free a closing queue once nothing of it runs or is queued any more. */
void nvme_qpair_try_free(struct nvt_nvme_qpair *qpair);

/* Queue set-up (connect.c) */
/*
 * Start the TCP (or TLS) connection; ready_fn runs when Fabrics Connect, and
 * DH-HMAC-CHAP when asked for, completed.
 */
int nvme_qpair_connect(struct nvt_nvme_qpair *qpair);
/* End the set-up: stop its timer and run ready_fn once. */
void nvme_qpair_setup_done(struct nvt_nvme_qpair *qpair, int rc, uint16_t status);
/* An ICResp arrived (receive machine): 1 or -errno. */
int nvme_qpair_rx_ic_resp(struct nvt_nvme_qpair *qpair);

/* DH-HMAC-CHAP, the host's side (auth.c) */
/* Completion of nvme_auth_start(): 0 or a -errno of nvtcp/nvme.h's list. */
typedef void (*nvme_auth_done_fn)(void *arg, int rc, uint16_t status);
/*
 * Whether a queue whose Connect answered \p authreq (AUTHREQ, cdw0 bits 31:16)
 * authenticates: 1 yes, 0 no, or -ENOKEY / -ENOTSUP when it cannot.
 */
int nvme_auth_needed(const struct nvt_nvme_qpair *qpair, uint16_t authreq);
/*
 * Run DH-HMAC-CHAP on the queue. \p done_fn runs once, from a command
 * completion, never inside this call. 0, or -EBUSY (one runs), -EINVAL (no
 * host key), -ENOMEM, or the error of the first submission.
 */
int nvme_auth_start(struct nvt_nvme_qpair *qpair, nvme_auth_done_fn done_fn, void *done_arg);
/* Free what a run holds; for a queue freed while one was running. */
void nvme_auth_free(struct nvt_nvme_qpair *qpair);

/* Secrets (keys.c) */
/* Copy the secrets of \p ctrlr's options and derive what the queues need. */
int nvme_keys_create(struct nvt_nvme_ctrlr *ctrlr);
void nvme_keys_destroy(struct nvme_keys **keys);

/* I/Os of the caller and their children (io.c) */
/* Set up the queue's I/O pool (qpair->depth entries); 0 or -ENOMEM. */
int nvme_qpair_ios_init(struct nvt_nvme_qpair *qpair);
void nvme_qpair_ios_fini(struct nvt_nvme_qpair *qpair);
/* A child of \p io finished with \p cpl (its request is free again). */
void nvme_io_child_finish(struct nvme_io *io, const struct nvt_nvme_cpl *cpl);
/* Send children of waiting I/Os, oldest first, while requests are free. */
void nvme_qpair_kick_ios(struct nvt_nvme_qpair *qpair);
/* The queue failed: waiting I/Os send nothing more and complete with \p status. */
void nvme_qpair_fail_ios(struct nvt_nvme_qpair *qpair, uint16_t status);
/* Split arithmetic, exported for the unit tests. */
uint32_t nvme_split_max_nlb(uint32_t block_size, uint64_t max_bytes);
void nvme_io_init(struct nvme_io *io, const struct nvt_nvme_cmd *cmd, uint64_t slba, uint32_t nlb,
		  uint32_t max_nlb, uint32_t block_size);
bool nvme_io_has_next(const struct nvme_io *io);
/* The next child: its command, data and length; counts it in flight. */
void nvme_io_next_child(struct nvme_io *io, struct nvt_nvme_cmd *cmd, struct nvme_payload *payload,
			uint32_t *len);
/* Note a child's completion; true when the whole I/O is complete. */
bool nvme_io_child_done(struct nvme_io *io, const struct nvt_nvme_cpl *cpl);
/* Stop sending children, completing with \p status unless a child failed first. */
bool nvme_io_abort(struct nvme_io *io, uint16_t status);

/* Scatter lists (payload.c) */
/* Total bytes of an iovec array. */
uint64_t nvme_iov_bytes(const struct iovec *iov, uint32_t iovcnt);
/* \p out: the data of \p pl from byte \p off on; false when off is past its end. */
bool nvme_payload_sub(const struct nvme_payload *pl, uint64_t off, struct nvme_payload *out);
/*
 * Describe bytes [off, off + len) of \p pl in at most \p max iovecs of \p out.
 * Returns the iovecs used; *bytes the bytes they hold (short of len when max
 * was reached or the payload ended).
 */
uint32_t nvme_payload_slice(const struct nvme_payload *pl, uint64_t off, uint32_t len,
			    struct iovec *out, uint32_t max, uint32_t *bytes);
/* Copy \p n bytes of \p src into \p pl from byte \p off on. */
void nvme_payload_copy_in(const struct nvme_payload *pl, uint64_t off, const void *src, uint32_t n);
/* CRC32C of bytes [off, off + n) of \p pl, continuing \p crc. */
uint32_t nvme_payload_crc32c(const struct nvme_payload *pl, uint64_t off, uint32_t n, uint32_t crc);

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
/* Most blocks per Write Zeroes of \p ns (WZSL, else the NLB field's limit). */
uint32_t nvme_ctrlr_get_write_zeroes_max_nlb(const struct nvt_nvme_ctrlr *ctrlr,
					     const struct nvt_nvme_id_ns *ns);

#endif /* NVME_INTERNAL_H */
