/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The seam between the NVMe-oF target core (lib/nvmf) and a transport
 * (lib/nvmf/tcp): the transport's ops table, and the request, queue pair,
 * transport and transport poll group structures both sides share.
 *
 * Division of labour
 * - The transport owns its memory: transport, poll groups, queue pairs and
 *   requests (preallocated per queue pair, queue-depth many). It embeds the
 *   structures below in its own and gets back with container_of.
 * - The core owns the shared data buffer pool of each transport (created
 *   from io_unit_size x num_shared_buffers) and one iobuf cache per
 *   transport poll group (buf_cache_size buffers). The transport takes data
 *   buffers from tgroup->buf_cache for every command with data - admin
 *   commands (Identify, Get Log Page, Connect) included - and puts them back
 *   after the request completed.
 * - The core interprets commands: Fabrics (Connect, Property Get/Set,
 *   Disconnect), admin and I/O. The transport parses PDUs, checks the SGL
 *   (type, length <= max_io_size, in-capsule size), moves the data and
 *   sends the completion.
 *
 * Threads
 * - ops->create/destroy/listen/stop_listen/accept/listener_discover/
 *   dump_opts run on the app thread.
 * - Everything about a poll group, its queue pairs and their requests runs
 *   on that poll group's thread (nvmf_tgt_poll_group_<i>).
 * - Reactors sleep when idle: the transport registers its socket group's fd
 *   (nvt_thread_add_wakeup_fd) on the poll-group thread in
 *   poll_group_create and removes it in poll_group_destroy.
 *
 * Life of a request
 *   transport fills cmd (64 B), iov/iovcnt/length/xfer (host data already
 *   received for host-to-controller) -> nvmf_request_exec(req)
 *   -> core runs it (maybe asynchronously: bdev I/O, AER held for long)
 *   -> core writes rsp (status, cdw0, cid, sqid, sqhd) and, for
 *   controller-to-host, exactly req->length bytes into iov
 *   -> nvmf_request_complete(req) -> ops->req_complete(req) -> transport
 *   sends data + response, then recycles the request and its buffers.
 *   A transport that fails a command before exec (bad SGL, ...) sets
 *   rsp->status itself and calls nvmf_request_complete(req) too, so cid and
 *   sqhd are filled the same way.
 *
 * Life of a queue pair
 *   ops->accept (app thread) finds a new connection, allocates a qpair and
 *   calls nvmf_transport_new_qpair(transport, qpair). The core picks the
 *   poll group with the fewest queue pairs and, on its thread, calls
 *   ops->poll_group_add(tgroup, qpair); qpair->group is set before that
 *   call. The first command must be a Fabrics Connect. Either side calls
 *   nvmf_qpair_disconnect(qpair) on the group thread; after it the
 *   transport must not call nvmf_request_exec() for that qpair (it may still
 *   complete requests it failed itself). The core waits until it holds no
 *   request of the qpair, detaches it from its controller, calls
 *   ops->poll_group_remove() (if it was added) and finally ops->qpair_fini()
 *   exactly once; after qpair_fini the core never touches the qpair again.
 */
#ifndef NVTCP_INTERNAL_NVMF_TRANSPORT_H
#define NVTCP_INTERNAL_NVMF_TRANSPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "nvtcp/iobuf.h"
#include "nvtcp/nvme_spec.h"
#include "nvtcp/nvmf.h"
#include "nvtcp/queue.h"
#include "nvtcp/sock.h"
#include "nvtcp/thread.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nvmf_transport;
struct nvmf_transport_poll_group;
struct nvmf_qpair;
struct nvmf_request;
/** Core-private objects, opaque to the transport. */
struct nvmf_poll_group;
struct nvmf_ctrlr;
struct nvmf_ns;
struct nvmf_io_stats;

/** Most iovec entries of one request (one per data buffer). */
#define NVMF_REQ_MAX_IOVS NVT_IOBUF_MAX_BUFS

/** Direction of a request's data. */
enum nvmf_xfer {
	/** No data. */
	NVMF_XFER_NONE = 0,
	/** Host to controller (write, Connect data, DSM ranges, Set Features data). */
	NVMF_XFER_HOST_TO_CTRLR,
	/** Controller to host (read, Identify, Get Log Page). */
	NVMF_XFER_CTRLR_TO_HOST,
};

/**
 * Data direction of a command, as the transport must compute it before it
 * gets buffers: from the opcode, or from FCTYPE for Fabrics commands.
 */
static inline enum nvmf_xfer
nvmf_cmd_get_xfer(const union nvt_nvme_sqe *cmd)
{
	uint8_t bits = cmd->cmd.opc == NVT_NVME_OPC_FABRICS ? cmd->fabrics.fctype : cmd->cmd.opc;

	switch (bits & 0x3u) {
	case NVT_NVME_DATA_HOST_TO_CONTROLLER:
		return NVMF_XFER_HOST_TO_CTRLR;
	case NVT_NVME_DATA_CONTROLLER_TO_HOST:
		return NVMF_XFER_CTRLR_TO_HOST;
	default:
		/* Bidirectional is not used by any command we serve: treat as none. */
		return NVMF_XFER_NONE;
	}
}

/**
 * One command in flight. Embedded in the transport's request; preallocated
 * per queue pair. Fields marked "transport" are filled by the transport
 * before nvmf_request_exec(); "core" fields are private to the core.
 */
struct nvmf_request {
	/** transport: the queue pair the command arrived on. */
	struct nvmf_qpair *qpair;
	/** transport: the 64-byte submission queue entry (stable until completion). */
	union nvt_nvme_sqe *cmd;
	/** transport: the 16-byte completion the core fills. */
	struct nvt_nvme_cpl *rsp;
	/**
	 * transport: data buffers; total of iov_len == length. Points at
	 * transport-owned storage of at least NVMF_REQ_MAX_IOVS entries (or
	 * iovcnt), valid from nvmf_request_exec() until ops->req_complete(),
	 * so an idle request needs no data descriptors.
	 */
	struct iovec *iov;
	/** transport: used entries of iov (0 when length is 0). */
	uint32_t iovcnt;
	/** transport: data length in bytes (the SGL length; 0 when no data). */
	uint32_t length;
	/** transport: direction of the data (nvmf_cmd_get_xfer()). */
	enum nvmf_xfer xfer;

	/** core: link in the qpair's outstanding list or the controller's AER list. */
	TAILQ_ENTRY(nvmf_request) link;
	/** core: namespace of an I/O command. */
	struct nvmf_ns *ns;
	/** core: sub-operations still running (DSM ranges) and first error seen. */
	uint32_t sub_pending;
	uint16_t sub_status;
	/** core: when an I/O command went to its bdev, in ticks (0: not counted). */
	uint64_t io_start_tsc;
	/** core: whether the request is on the qpair's outstanding list. */
	bool in_core;
	/** core: the reservation drain epoch it was admitted in (lib/nvmf/resv_drain.c). */
	uint8_t resv_epoch;
	/** core: fused command state and the other command of its pair (lib/nvmf/fused.c). */
	uint8_t fused_state;
	bool fused_held;
	struct nvmf_request *fused_pair;
};

/** Queue pair states (set by the core only, through one setter). */
enum nvmf_qpair_state {
	/** Added to a poll group, no Connect yet. */
	NVMF_QPAIR_UNINITIALIZED = 0,
	/** Connect in progress (messages to the subsystem/controller threads). */
	NVMF_QPAIR_CONNECTING,
	/** Connected to a controller. */
	NVMF_QPAIR_ACTIVE,
	/** Being disconnected: waiting for outstanding requests. */
	NVMF_QPAIR_DEACTIVATING,
	/** Handed to ops->qpair_fini(). */
	NVMF_QPAIR_FINI,
	NVMF_QPAIR_NUM_STATES,
};

/** One queue pair (connection). Embedded in the transport's connection. */
struct nvmf_qpair {
	/** transport: the transport that accepted it. */
	struct nvmf_transport *transport;
	/** transport: the listen address the connection arrived on. */
	struct nvt_nvmf_trid listen_trid;
	/** transport: the peer address (for logs and get_qpairs). */
	struct nvt_nvmf_trid peer_trid;
	/**
	 * transport: the PSK identity of the connection's TLS session, NULL over
	 * plain TCP. Owned by the transport; valid until ops->qpair_fini().
	 */
	const char *tls_identity;

	/** core: owning poll group (set before ops->poll_group_add()). */
	struct nvmf_poll_group *group;
	/** core: transport poll group of group for this transport. */
	struct nvmf_transport_poll_group *tgroup;
	/** core: controller after a successful Connect, else NULL. */
	struct nvmf_ctrlr *ctrlr;
	/** core: queue id from Connect (0 = admin). */
	uint16_t qid;
	/** core: queue size from Connect (SQSIZE + 1 entries). */
	uint16_t sq_size;
	/** core: submission queue head reported in completions. */
	uint16_t sq_head;
	/** core: whether the host disabled SQ flow control (SQHD then 0xffff). */
	bool sqflow_disabled;
	/** core: state, see nvmf_qpair_set_state(). */
	enum nvmf_qpair_state state;
	/** core: requests between exec and complete. */
	TAILQ_HEAD(, nvmf_request) outstanding;
	uint32_t outstanding_count;
	/** core: whether ops->poll_group_add() succeeded. */
	bool added;
	/** core: DH-HMAC-CHAP state when the host must authenticate, else NULL. */
	struct nvmf_qpair_auth *auth;
	/** core: the I/O counters of its host in its poll group (lib/nvmf/io_stats.c). */
	struct nvmf_io_stats *io_stats;
	/** core: a disconnect was asked for while a Connect was in flight. */
	bool disconnect_pending;
	/** core: the teardown after the last outstanding request has begun. */
	bool teardown_started;
	/** core: a first fused command whose second has not arrived (lib/nvmf/fused.c). */
	struct nvmf_request *fused_first;
	/** core: a first fused command failed before its second arrived. */
	bool fused_first_failed;
	/**
	 * core: carries the qpair's steps between threads, one after the other:
	 * the hand-over to its poll group, then (I/O queues) the removal from
	 * the controller and the return to the poll group.
	 */
	struct nvt_thread_msg msg;
	/** core: the controller's request to disconnect (sent once, when it is torn down). */
	struct nvt_thread_msg disconnect_msg;
	/** core: link in the poll group's list. */
	TAILQ_ENTRY(nvmf_qpair) link;
	/** core: link in the controller's list of I/O qpairs. */
	TAILQ_ENTRY(nvmf_qpair) ctrlr_link;
};

/** How to listen on an address. */
struct nvmf_listen_opts {
	/** TLS 1.3 with PSKs only. */
	bool secure_channel;
	/** Finds the PSK of a host's identity during handshakes (any thread). */
	nvt_sock_tls_psk_find_cb psk_find;
};

/** A transport. Embedded (anywhere) in the transport's own structure. */
struct nvmf_transport {
	/** core: the ops table. */
	const struct nvmf_transport_ops *ops;
	/** core: the options it was created with (validated). */
	struct nvt_nvmf_transport_opts opts;
	/** core: shared data buffer pool (io_unit_size x num_shared_buffers). */
	struct nvt_iobuf_pool *data_buf_pool;
	/** core: the accept poller (app thread). */
	struct nvt_poller *accept_poller;
	/** core: link in the target's list. */
	TAILQ_ENTRY(nvmf_transport) link;
};

/** A transport's poll group on one poll-group thread. Embedded in the transport's. */
struct nvmf_transport_poll_group {
	/** core: the transport (set after poll_group_create returns). */
	struct nvmf_transport *transport;
	/** core: the core's poll group. */
	struct nvmf_poll_group *group;
	/**
	 * core: this thread's data buffer cache (created before
	 * poll_group_create, destroyed after poll_group_destroy; every buffer
	 * must be back by then).
	 */
	struct nvt_iobuf_cache *buf_cache;
	/** core: link in the poll group's list. */
	TAILQ_ENTRY(nvmf_transport_poll_group) link;
};

/** Completion of ops->qpair_fini(). */
typedef void (*nvmf_qpair_fini_cb)(void *cb_arg);

/** A transport's operations. Every op is required unless marked optional. */
struct nvmf_transport_ops {
	/** "TCP" (matched case-insensitively against nvmf_create_transport's trtype). */
	const char *name;
	enum nvt_nvmf_trtype type;

	/** optional: adjust the generic defaults of nvt_nvmf_transport_opts_init(). */
	void (*opts_init)(struct nvt_nvmf_transport_opts *opts);

	/**
	 * App thread. \p opts is validated by the core (ranges, zcopy and
	 * dif_insert_or_strip false, num_shared_buffers >= groups x cache).
	 * \return 0 and *transport, or -errno. The core then fills ops, opts,
	 * data_buf_pool.
	 */
	int (*create)(const struct nvt_nvmf_transport_opts *opts,
		      struct nvmf_transport **transport);

	/**
	 * App thread, after every poll group and qpair is gone. Frees the
	 * transport (listeners still open are closed). The core destroys the
	 * pool afterwards.
	 */
	void (*destroy)(struct nvmf_transport *transport);

	/**
	 * App thread: start listening; 0 or -errno (-EADDRINUSE, -EINVAL ...).
	 * \p opts is only valid during the call.
	 */
	int (*listen)(struct nvmf_transport *transport, const struct nvt_nvmf_trid *trid,
		      const struct nvmf_listen_opts *opts);

	/** App thread: stop listening; connections already accepted stay. */
	void (*stop_listen)(struct nvmf_transport *transport, const struct nvt_nvmf_trid *trid);

	/**
	 * App thread, from the core's periodic accept poller: accept what is
	 * pending and call nvmf_transport_new_qpair() for each new connection.
	 * \return the number of connections accepted.
	 */
	uint32_t (*accept)(struct nvmf_transport *transport);

	/**
	 * App thread: fill the transport fields of a discovery log entry
	 * (trtype, adrfam, treq, traddr, trsvcid, tsas). The core fills subtype,
	 * portid, cntlid, asqsz and subnqn.
	 */
	void (*listener_discover)(struct nvmf_transport *transport,
				  const struct nvt_nvmf_trid *trid, bool secure_channel,
				  struct nvt_nvmf_disc_log_entry *entry);

	/** Poll-group thread: create this thread's poll group; NULL on failure. */
	struct nvmf_transport_poll_group *(*poll_group_create)(struct nvmf_transport *transport);

	/** Poll-group thread: free it; it has no qpair left. */
	void (*poll_group_destroy)(struct nvmf_transport_poll_group *tgroup);

	/** Poll-group thread: start serving \p qpair here; 0 or -errno (core calls qpair_fini). */
	int (*poll_group_add)(struct nvmf_transport_poll_group *tgroup, struct nvmf_qpair *qpair);

	/** Poll-group thread: stop serving \p qpair (before qpair_fini). */
	void (*poll_group_remove)(struct nvmf_transport_poll_group *tgroup,
				  struct nvmf_qpair *qpair);

	/**
	 * Poll-group thread, from the core's period-0 group poller: poll the
	 * socket group. \return NVT_POLLER_BUSY if anything happened, else IDLE.
	 */
	int (*poll_group_poll)(struct nvmf_transport_poll_group *tgroup);

	/**
	 * Poll-group thread: the core is done with \p req (rsp filled, data in
	 * iov for controller-to-host). Called in any qpair state; on a closing
	 * qpair the transport may drop the response. 0 or -errno (logged only).
	 */
	int (*req_complete)(struct nvmf_request *req);

	/**
	 * Poll-group thread: close the connection and release the qpair and its
	 * requests (returning their buffers to tgroup->buf_cache, aborting iobuf
	 * waits). \p cb (may be NULL) runs once done, possibly at once.
	 */
	void (*qpair_fini)(struct nvmf_qpair *qpair, nvmf_qpair_fini_cb cb, void *cb_arg);

	/** optional, app thread: add transport-specific fields to the nvmf_get_transports object. */
	void (*dump_opts)(struct nvmf_transport *transport, json_t *obj);

	/** optional, poll-group thread: add transport counters to the nvmf_get_stats object. */
	void (*poll_group_dump_stat)(struct nvmf_transport_poll_group *tgroup, json_t *obj);
	/** optional, any thread: add the transport's own counters (accept, limits) to \p obj. */
	void (*dump_stat)(struct nvmf_transport *transport, json_t *obj);
};

/** Register a transport (from a constructor; see NVMF_TRANSPORT_REGISTER). */
void nvmf_transport_register(const struct nvmf_transport_ops *ops);

/**
 * Register \p ops at load time. The transport's objects must be linked
 * whole (meson link_whole) so the constructor is kept.
 */
#define NVMF_TRANSPORT_REGISTER(name, ops)                                            \
	__attribute__((constructor)) static void nvmf_transport_register_##name(void) \
	{                                                                             \
		nvmf_transport_register(ops);                                         \
	}

/* ---- core functions the transport calls ---- */

/** App thread, from ops->accept: hand a new connection to the core. */
void nvmf_transport_new_qpair(struct nvmf_transport *transport, struct nvmf_qpair *qpair);

/**
 * Poll-group thread: a command capsule arrived (cmd filled, before its data
 * and before any failure the transport gives it). Called for every command
 * of the queue pair in the order they arrive: fused commands are paired by
 * arrival, as their data (and so their nvmf_request_exec()) may come in any
 * order. Every such request is then executed or completed as usual.
 */
void nvmf_request_arrived(struct nvmf_request *req);

/** Poll-group thread: run a command whose capsule (and host data) is complete. */
void nvmf_request_exec(struct nvmf_request *req);

/**
 * Poll-group thread: finish \p req: fill cid, sqid and sqhd in rsp and
 * call ops->req_complete(). Used by the core and by the transport for
 * commands it failed itself.
 */
void nvmf_request_complete(struct nvmf_request *req);

/** Poll-group thread: start disconnecting \p qpair (idempotent). */
void nvmf_qpair_disconnect(struct nvmf_qpair *qpair);

/** Whether the qpair takes commands (not deactivating or finished). */
bool nvmf_qpair_is_active(const struct nvmf_qpair *qpair);

/**
 * Copy \p len bytes at \p offset of the request's data from/to a flat
 * buffer; returns the bytes copied (less when the data is shorter).
 */
size_t nvmf_request_copy_to_iov(struct nvmf_request *req, size_t offset, const void *buf,
				size_t len);
size_t nvmf_request_copy_from_iov(const struct nvmf_request *req, size_t offset, void *buf,
				  size_t len);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_INTERNAL_NVMF_TRANSPORT_H */
