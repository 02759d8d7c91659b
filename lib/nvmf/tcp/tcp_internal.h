/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared between the files of the NVMe/TCP transport; not part of any API.
 *
 * Four state machines, one enum and one validated setter each:
 *   - qpair lifetime (qpair.c): accepted .. running .. closed -> fini, and
 *     freed by its last reference;
 *   - PDU receive (per qpair, pdu_rx.c): common header, rest of the header,
 *     data buffers, payload;
 *   - PDU send (per request and per qpair management PDU, pdu_tx.c): whether
 *     the PDU is owned by the socket layer;
 *   - request (req.c): NEW .. COMPLETED -> FREE.
 *
 * Everything here belongs to the poll group thread that owns the qpair,
 * except a qpair that is not yet added to a group (owned by whoever holds it).
 */
#ifndef NVT_NVMF_TCP_INTERNAL_H
#define NVT_NVMF_TCP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "nvtcp/internal/nvmf_transport.h"
#include "nvtcp/iobuf.h"
#include "nvtcp/nvme_spec.h"
#include "nvtcp/nvme_tcp.h"
#include "nvtcp/queue.h"
#include "nvtcp/sock.h"
#include "nvtcp/thread.h"

/*
 * The poll group's receive buffer, shared by its qpairs in turn: one recv
 * takes many PDUs (fewer system calls per I/O) and an idle qpair holds no
 * receive memory.
 */
#define TCP_GROUP_RX_BUF_SIZE (64u * 1024u)
/* Payload of at least this many bytes is read straight into the data buffers. */
#define TCP_RX_DIRECT_MIN 1024
/* Requests of a qpair are allocated this many at a time (see tcp_qpair). */
#define TCP_REQ_CHUNK 16
/* PDUs one readable callback handles before giving the other qpairs a turn. */
#define TCP_RECV_BUDGET 128
/* Most data buffers one request holds (the seam's limit; per transport: max_bufs). */
#define TCP_REQ_MAX_BUFS NVMF_REQ_MAX_IOVS
/* Extra iovec entries of a request's send: C2H header, padding, data digest, response. */
#define TCP_REQ_TX_EXTRA_IOVS 4
/* Period of the poller that retries buffer waits from the shared pool (us). */
/* Spill buffers (in-capsule data when the pool is dry) a poll group may hold. */
#define TCP_SPILL_MAX_PER_GROUP 256
/* Room for the offending header copied into a C2HTermReq. */
#define TCP_TERM_REQ_DATA_MAX (NVT_NVME_TCP_MAX_HLEN + NVT_NVME_TCP_DIGEST_LEN)

/* Options of the transport (defaults in tcp_opts_init()). */
struct tcp_opts {
	uint16_t max_queue_depth;      /* requests per qpair */
	uint32_t max_io_size;	       /* bytes per command */
	uint32_t in_capsule_data_size; /* largest in-capsule data accepted */
	uint32_t io_unit_size;	       /* size of a pool buffer */
	uint32_t maxh2cdata;	       /* MAXH2CDATA advertised in ICResp */
	uint32_t num_shared_buffers;   /* buffers in the shared pool */
	uint32_t buf_cache_size;       /* buffers each poll group reserves */
	bool c2h_success;	       /* skip the response after a successful read */
	bool hdgst_allowed;	       /* grant header digests when asked */
	bool ddgst_allowed;	       /* grant data digests when asked */
	/* Limits against misbehaving hosts (0: off); see struct nvt_nvmf_transport_opts. */
	uint32_t max_connections;
	uint32_t max_connections_per_host;
	uint32_t connect_timeout_ms;
	uint32_t pdu_timeout_ms;
	uint32_t max_queued_send;
	uint32_t send_timeout_ms;
};

/* What the connection negotiated in ICReq/ICResp; what the PDU checks need. */
struct tcp_conn_params {
	bool ic_done;	     /* ICReq received and answered */
	bool hdgst;	     /* header digests on */
	bool ddgst;	     /* data digests on */
	uint8_t cpda;	     /* our data alignment (0's based dwords), always 0 */
	uint8_t hpda;	     /* the host's data alignment */
	uint32_t max_icd;    /* in-capsule data limit */
	uint32_t maxh2cdata; /* H2C data limit per PDU */
};

/* Result of checking a received common header. */
struct tcp_pdu_check {
	uint16_t fes;	   /* enum nvt_nvme_tcp_fes when the PDU is rejected */
	uint32_t fei;	   /* fatal error information */
	uint32_t psh_len;  /* header bytes after the common header, digest included */
	uint32_t pad_len;  /* bytes between header (and digest) and data */
	uint32_t data_len; /* data bytes (no digest) */
};

/*
 * Poll group: one per poll-group thread. Every field belongs to that thread;
 * stats are read by other threads only through a message.
 */
struct tcp_poll_group_stats {
	uint64_t pdus_rx;
	uint64_t pdus_tx;
	uint64_t bytes_rx;
	uint64_t bytes_tx;
	uint64_t fatal_errors;
	uint64_t ddgst_errors;
	uint64_t rx_pauses;	   /* receive stopped to wait for buffers or requests */
	uint64_t icd_spills;	   /* in-capsule data taken outside the pool (pool dry) */
	uint64_t send_cap_pauses;  /* receive stopped: max_queued_send bytes wait to be sent */
	uint64_t connect_timeouts; /* no Fabrics Connect within connect_timeout_ms */
	uint64_t pdu_timeouts;	   /* a PDU not received whole within pdu_timeout_ms */
	uint64_t send_timeouts;	   /* nothing sent for send_timeout_ms with data queued */
	uint32_t qpairs;	   /* current */
};

/* Counted by the accepting thread; read by others (relaxed atomics). */
struct tcp_transport_stats {
	uint64_t accepted;
	uint64_t rejected_max_connections;
	uint64_t rejected_max_per_host;
};

/*
 * Life of a connection (qpair.c holds the transition table). Every way
 * out - host close, fatal error, timeout, the core's teardown - is a
 * transition towards CLOSED and FINI, whose entry actions do the teardown.
 */
enum tcp_qpair_state {
	TCP_QPAIR_STATE_NEW,	     /* accepted, not yet in a poll group */
	TCP_QPAIR_STATE_AWAIT_ICREQ, /* in its group, nothing negotiated yet */
	TCP_QPAIR_STATE_RUNNING,     /* ICResp sent, commands flow */
	TCP_QPAIR_STATE_TERMINATING, /* fatal error: C2HTermReq queued, the socket closes after it */
	TCP_QPAIR_STATE_CLOSED,	     /* socket closed, requests aborted; the core knows */
	TCP_QPAIR_STATE_FINI,	     /* qpair_fini called: freed by its last reference */
	TCP_QPAIR_NUM_STATES,
};

/* The deadline a qpair is watched for (limits.c); at most one at a time. */
enum tcp_watch {
	TCP_WATCH_NONE,
	TCP_WATCH_CONNECT, /* ICReq and Fabrics Connect not done yet: connect_timeout_ms */
	TCP_WATCH_PDU,	   /* a PDU partly received, or R2Ts unanswered: pdu_timeout_ms */
	TCP_WATCH_SEND,	   /* sending stalled (at the cap, or terminating): send_timeout_ms */
	TCP_WATCH_NUM,
};

enum tcp_pdu_recv_state {
	TCP_PDU_RECV_STATE_AWAIT_CH,	  /* reading the 8-byte common header */
	TCP_PDU_RECV_STATE_AWAIT_PSH,	  /* reading the rest of the header, digest, padding */
	TCP_PDU_RECV_STATE_AWAIT_REQ,	  /* capsule parsed, no free request: paused */
	TCP_PDU_RECV_STATE_AWAIT_BUF,	  /* in-capsule data waits for pool buffers: paused */
	TCP_PDU_RECV_STATE_AWAIT_PAYLOAD, /* reading data and data digest */
	TCP_PDU_RECV_STATE_ERROR,	  /* fatal error: nothing more is read */
	TCP_PDU_RECV_NUM_STATES,
};

enum tcp_pdu_send_state {
	TCP_PDU_SEND_STATE_IDLE,   /* free for the next PDU */
	TCP_PDU_SEND_STATE_QUEUED, /* owned by the socket layer until its callback */
	TCP_PDU_SEND_NUM_STATES,
};

enum tcp_req_state {
	TCP_REQ_STATE_FREE,		/* on the qpair's free list */
	TCP_REQ_STATE_NEW,		/* capsule received, not yet parsed */
	TCP_REQ_STATE_NEED_BUFFER,	/* waits for pool buffers (never an error) */
	TCP_REQ_STATE_AWAIT_ICD,	/* buffers held, in-capsule data being received */
	TCP_REQ_STATE_TRANSFERRING_H2C, /* R2T sent, H2C data arriving */
	TCP_REQ_STATE_READY_TO_EXECUTE, /* command and data complete */
	TCP_REQ_STATE_EXECUTING,	/* owned by the target core */
	TCP_REQ_STATE_EXECUTED,		/* the core completed it */
	TCP_REQ_STATE_TRANSFERRING_C2H, /* data and/or response queued on the socket */
	TCP_REQ_STATE_COMPLETED,	/* sent (or dropped): release and free */
	TCP_REQ_NUM_STATES,
};

struct tcp_qpair;

/* A PDU being sent: header storage, iovec and the socket request. */
struct tcp_tx {
	struct nvt_sock_request sreq;
	enum tcp_pdu_send_state state;
	uint32_t bytes;
};

/*
 * Data descriptors of a request that holds (or waits for) pool buffers. Kept
 * per poll group and taken only while needed, so an idle qpair owns none.
 * The three arrays are sized for the transport's largest I/O (max_bufs) and
 * live in the same allocation, right behind the structure.
 */
struct tcp_data_ctx {
	void **bufs;	      /* pool buffers: max_bufs */
	struct iovec *iov;    /* the core's data iovec (req->base.iov): max_bufs */
	struct iovec *tx_iov; /* C2H header, padding, data, digest, response */
	STAILQ_ENTRY(tcp_data_ctx) link;
};

/*
 * In-capsule data of a command that found the pool dry. The data sits in the
 * byte stream before the H2C data of requests that already hold pool buffers,
 * so waiting for buffers there (and not reading on) could wait for ever: it
 * goes here instead. Per poll group, grows to its peak, then recycles.
 */
struct tcp_spill {
	STAILQ_ENTRY(tcp_spill) link;
	struct iovec iov; /* the request's data iovec (req->base.iov) */
	uint8_t data[];	  /* icd_max bytes */
};

/*
 * What a request sends when its current send completes. A completed
 * command whose R2T the socket still owns sends its data and response
 * then (C2H); a read's response follows its data in a later send while
 * other commands of the queue are in flight (RSP): the host then takes
 * the responses of many commands in one receive and submits as many
 * commands in one send (see doc/nvmf.md, "Responses to reads").
 */
enum tcp_tx_next {
	TCP_TX_NEXT_NONE,
	TCP_TX_NEXT_C2H,
	TCP_TX_NEXT_RSP,
};

struct tcp_req {
	/* The core's view; the core and container_of() reach us through it. */
	struct nvmf_request base;
	struct tcp_qpair *qpair;
	union nvt_nvme_sqe cmd;
	struct nvt_nvme_cpl cpl;
	enum tcp_req_state state;
	uint16_t ttag;		  /* index + 1: the R2T transfer tag */
	bool has_icd;		  /* data came in the capsule */
	bool ddgst_error;	  /* data digest mismatch: complete with an error */
	bool in_core;		  /* between nvmf_request_exec() and req_complete */
	enum tcp_tx_next tx_next; /* what the completion of the current send sends */
	uint32_t h2c_offset;	  /* next expected H2C data offset */
	uint32_t nbufs;		  /* pool buffers wanted or held */
	bool bufs_held;		  /* the buffers in ctx->bufs are ours */
	bool bufs_waiting;	  /* an iobuf get is pending (iobuf_entry in use) */
	struct tcp_data_ctx *ctx;
	struct tcp_spill *spill; /* in-capsule data held outside the pool, or NULL */
	struct nvt_iobuf_entry iobuf_entry;
	struct tcp_tx tx;
	struct iovec rsp_iov; /* send iovec of a response without data */
	/* C2H data or R2T header with its digest, then the response with its digest. */
	union {
		struct nvt_nvme_tcp_c2h_data c2h;
		struct nvt_nvme_tcp_r2t r2t;
	} tx_hdr;
	uint32_t tx_hdgst;
	struct nvt_nvme_tcp_capsule_resp rsp_hdr;
	uint32_t rsp_hdgst;
	uint32_t tx_ddgst;
	STAILQ_ENTRY(tcp_req) link;
};

/* ICResp or C2HTermReq (one of each per qpair). */
struct tcp_mgmt_pdu {
	union nvt_nvme_tcp_pdu_hdr hdr;
	uint8_t term_data[TCP_TERM_REQ_DATA_MAX];
	struct iovec iov[2];
	struct tcp_tx tx;
};

struct tcp_poll_group;

struct tcp_listener {
	struct nvt_nvmf_trid trid;
	struct nvt_sock *sock;
	/* TLS only: the settings every accepted socket refers to (the sockets' opts). */
	bool secure;
	struct nvt_sock_tls_opts tls;
	TAILQ_ENTRY(tcp_listener) link;
};

struct tcp_conn_table;

struct tcp_transport {
	struct nvmf_transport base;
	struct tcp_opts opts;
	TAILQ_HEAD(, tcp_listener) listeners;
	uint16_t next_qpair_id;
	uint32_t max_bufs; /* pool buffers of the largest I/O (max_io_size) */
	uint32_t icd_max;  /* in-capsule data accepted (admin queues take at least 8 KiB) */
	/* Live connections, per host address (limits.c; any thread, locked). */
	struct tcp_conn_table *conns;
	struct tcp_transport_stats stats;
};

struct tcp_qpair;
/* ICReq on a TLS listener: keep the session's PSK identity for Connect. */
bool tcp_qpair_take_tls_identity(struct tcp_qpair *qpair);

struct tcp_qpair {
	/* The core's view; must stay reachable by container_of(). */
	struct nvmf_qpair base;
	/* Came through a TLS-only listener: its PSK identity is read at ICReq. */
	bool secure;
	struct tcp_transport *transport;
	struct tcp_poll_group *group;
	struct nvt_sock *sock;
	enum tcp_qpair_state state;
	enum tcp_pdu_recv_state recv_state;
	struct tcp_conn_params params;
	uint16_t id;
	uint16_t depth;	     /* requests */
	bool rx_detached;    /* receive paused: the socket is out of the group */
	bool conn_counted;   /* counted in the transport's connection table */
	bool rx_send_capped; /* receive paused: max_queued_send bytes wait to be sent */
	bool tx_err_logged;  /* a failed send was logged (once per connection) */
	/*
	 * What may still call back into the qpair: requests not FREE, messages
	 * on their way, management PDUs owned by the socket, callers on the
	 * stack. In FINI the last reference frees the qpair.
	 */
	uint32_t refs;
	/* Messages to its own thread, at most one of each on its way (busy: -EBUSY). */
	struct nvt_thread_msg kick_msg;	 /* resume receiving */
	struct nvt_thread_msg flush_msg; /* flush a socket out of its group */
	struct nvt_thread_msg term_msg;	 /* close once the C2HTermReq is sent */
	nvmf_qpair_fini_cb fini_cb;	 /* set by qpair_fini: called once freed */
	void *fini_cb_arg;
	uint32_t tx_queued; /* bytes queued on the socket and not yet sent */
	uint32_t rd_held;   /* bytes of data buffers held by reads (max_queued_send) */

	/* The deadline watched for (limits.c). */
	enum tcp_watch watch;
	uint64_t watch_deadline; /* ticks */
	TAILQ_ENTRY(tcp_qpair) watch_link;

	/*
	 * Bytes [rx_head, rx_tail) of rxbuf are read but not consumed. While
	 * tcp_qpair_recv() runs, rxbuf is the group's buffer or the stash; in
	 * between, only the stash holds bytes (rxbuf == rx_stash, or NULL).
	 */
	uint8_t *rxbuf;
	uint32_t rx_head;
	uint32_t rx_tail;
	/* Bytes left in the group's buffer when receiving paused (heap; usually NULL). */
	uint8_t *rx_stash;

	/* The PDU being received. */
	union nvt_nvme_tcp_pdu_hdr rx_hdr;
	uint32_t rx_hdgst;
	uint32_t rx_hdr_got; /* bytes of rx_hdr + digest + padding received */
	struct tcp_pdu_check rx_check;
	struct tcp_req *rx_req;	 /* request the payload belongs to, or NULL: discard */
	uint32_t rx_data_off;	 /* offset in the request's data of the payload */
	uint32_t rx_payload_got; /* payload bytes received (data, then digest) */
	uint32_t rx_ddgst;	 /* received data digest */
	uint32_t rx_crc;	 /* running CRC of the payload */

	/*
	 * Requests come in chunks of TCP_REQ_CHUNK, allocated as the host's
	 * queue fills and kept until the qpair goes: an idle qpair holds one.
	 * req_chunks has room for depth requests; req_count are allocated.
	 */
	struct tcp_req **req_chunks;
	uint16_t req_count;
	STAILQ_HEAD(, tcp_req) free_reqs;
	uint32_t state_cnt[TCP_REQ_NUM_STATES];

	struct tcp_mgmt_pdu icresp;
	struct tcp_mgmt_pdu term;
	TAILQ_ENTRY(tcp_qpair) link;
};

/* Qpairs of a poll group with a deadline, one list per kind (each in deadline order). */
struct nvt_poller;

struct tcp_watchdog {
	TAILQ_HEAD(, tcp_qpair) lists[TCP_WATCH_NUM];
	uint64_t timeout_ticks[TCP_WATCH_NUM];
	/* Checks the deadlines; paused while no qpair has one (no idle wake-ups). */
	struct nvt_poller *poller;
};

struct tcp_poll_group {
	struct nvmf_transport_poll_group base;
	struct tcp_transport *transport;
	struct nvt_sock_group *sock_group;
	TAILQ_HEAD(, tcp_qpair) qpairs;
	STAILQ_HEAD(, tcp_data_ctx) free_ctxs;
	uint32_t num_ctxs;
	STAILQ_HEAD(, tcp_spill) free_spills;
	uint32_t num_spills;
	uint32_t max_spills; /* TCP_SPILL_MAX_PER_GROUP */
	/* TCP_GROUP_RX_BUF_SIZE bytes: the receive buffer of the qpair receiving now. */
	uint8_t *rxbuf;
	struct tcp_watchdog watchdog;
	struct tcp_poll_group_stats stats;
};

/* pdu_rx.c */
void tcp_pdu_recv_set_state(struct tcp_qpair *qpair, enum tcp_pdu_recv_state next);
int tcp_pdu_ch_check(const struct tcp_conn_params *p, const struct nvt_nvme_tcp_common_hdr *ch,
		     struct tcp_pdu_check *chk);
int tcp_icreq_negotiate(const struct tcp_opts *opts, const struct nvt_nvme_tcp_ic_req *icreq,
			struct tcp_conn_params *p, struct nvt_nvme_tcp_ic_resp *icresp,
			uint32_t *fei);
uint32_t tcp_hdgst_calc(const void *hdr, uint32_t hlen);
bool tcp_hdgst_ok(const void *hdr, uint32_t hlen, uint32_t digest);
int tcp_qpair_recv(struct tcp_qpair *qpair);
void tcp_qpair_kick_rx(struct tcp_qpair *qpair);
void tcp_qpair_icd_ready(struct tcp_qpair *qpair, struct tcp_req *req);

/* pdu_tx.c */
void tcp_pdu_send_set_state(struct tcp_tx *tx, enum tcp_pdu_send_state next);
void tcp_send_icresp(struct tcp_qpair *qpair, const struct nvt_nvme_tcp_ic_resp *icresp);
void tcp_send_term_req(struct tcp_qpair *qpair, uint16_t fes, uint32_t fei, const void *hdr,
		       uint32_t hdr_len);
void tcp_send_r2t(struct tcp_req *req);
void tcp_send_c2h(struct tcp_req *req);
uint32_t tcp_build_term_req(struct nvt_nvme_tcp_term_req *term, uint16_t fes, uint32_t fei,
			    uint32_t data_len);

/* req.c */
void tcp_req_set_state(struct tcp_req *req, enum tcp_req_state next);
bool tcp_req_transition_valid(enum tcp_req_state from, enum tcp_req_state to);
int tcp_qpair_reqs_alloc(struct tcp_qpair *qpair);
void tcp_qpair_reqs_free(struct tcp_qpair *qpair);
struct tcp_req *tcp_req_get(struct tcp_qpair *qpair);
struct tcp_req *tcp_qpair_req(struct tcp_qpair *qpair, uint16_t ttag);
int tcp_req_parse_sgl(struct tcp_req *req, uint32_t icd_len, uint32_t max_io_size,
		      struct nvt_nvme_status *st);
int tcp_req_get_bufs(struct tcp_req *req, nvt_iobuf_get_cb cb);
void tcp_req_bufs_held(struct tcp_req *req);
bool tcp_req_spill_icd(struct tcp_req *req);
void tcp_group_free_spills(struct tcp_poll_group *group);
void tcp_req_process(struct tcp_req *req);
void tcp_req_data_done(struct tcp_req *req);
void tcp_req_tx_done(struct tcp_req *req, int err);
void tcp_req_fail(struct tcp_req *req, uint8_t sct, uint8_t sc);
void tcp_req_data_iov(struct tcp_req *req, uint32_t offset, uint32_t len, struct iovec *iov,
		      int *iovcnt, int max);
void tcp_qpair_abort_reqs(struct tcp_qpair *qpair);

/* qpair.c: lifetime, references, receive scheduling. */
struct tcp_qpair *tcp_qpair_create(struct tcp_transport *t, struct nvt_sock *sock);
void tcp_qpair_set_state(struct tcp_qpair *qpair, enum tcp_qpair_state next);
bool tcp_qpair_transition_valid(enum tcp_qpair_state from, enum tcp_qpair_state to);
void tcp_qpair_get(struct tcp_qpair *qpair);
void tcp_qpair_put(struct tcp_qpair *qpair);
void tcp_qpair_fatal_error(struct tcp_qpair *qpair, uint16_t fes, uint32_t fei);
void tcp_qpair_disconnect(struct tcp_qpair *qpair);
void tcp_qpair_drop(struct tcp_qpair *qpair);
bool tcp_qpair_is_live(const struct tcp_qpair *qpair);
void tcp_qpair_close(struct tcp_qpair *qpair);
void tcp_qpair_fini(struct tcp_qpair *qpair, nvmf_qpair_fini_cb cb, void *cb_arg);
int tcp_qpair_group_add(struct tcp_poll_group *group, struct tcp_qpair *qpair);
const struct tcp_opts *tcp_qpair_opts(const struct tcp_qpair *qpair);
void tcp_qpair_rx_run(struct tcp_qpair *qpair);
void tcp_qpair_rx_resume_later(struct tcp_qpair *qpair);
void tcp_qpair_tx_queued(struct tcp_qpair *qpair);
void tcp_qpair_tx_done(struct tcp_qpair *qpair, uint32_t bytes);
void tcp_qpair_rd_released(struct tcp_qpair *qpair, uint32_t bytes);
bool tcp_qpair_send_capped(struct tcp_qpair *qpair);

/* limits.c: connection counts per host, deadlines, the send cap. */
int tcp_conn_table_create(struct tcp_transport *t);
void tcp_conn_table_destroy(struct tcp_transport *t);
int tcp_conn_admit(struct tcp_transport *t, const char *addr);
void tcp_conn_release(struct tcp_transport *t, const char *addr);
uint32_t tcp_conn_count(struct tcp_transport *t);
int tcp_watchdog_init(struct tcp_poll_group *group);
void tcp_watchdog_fini(struct tcp_poll_group *group);
void tcp_watch(struct tcp_qpair *qpair, enum tcp_watch what);
void tcp_unwatch(struct tcp_qpair *qpair);
void tcp_watch_rx(struct tcp_qpair *qpair);
void tcp_watch_pdu_done(struct tcp_qpair *qpair);
void tcp_watch_h2c_done(struct tcp_qpair *qpair);

#define TCP_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif /* NVT_NVMF_TCP_INTERNAL_H */
