/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A raw NVMe/TCP host for the functional tests and the benches: a connection
 * is a socket plus what ICReq/ICResp and Fabrics Connect negotiated, and
 * every PDU is built and parsed here from the wire structures of
 * nvtcp/nvme_tcp.h, so that a test can also send what no real host would: a
 * prefix of a PDU, a wrong digest, a header with any field, a write whose R2T
 * is never answered. Three layers, each built from the one before:
 *
 *  - bytes: open (waiting, or not for many at once), close (orderly or by
 *    RST), send, receive;
 *  - PDUs: build one into a buffer without sending it, send one, receive one
 *    (its header and data digests checked);
 *  - commands: ICReq, Fabrics Connect, Property Set CC.EN, Keep Alive, reads,
 *    writes in the capsule or through R2T and H2CData, waiting for a
 *    response, expecting a C2HTermReq.
 *
 * What holds for every function:
 *  - Threads: a connection is used by one thread at a time. There is no
 *    global state: any number of connections may live in one process.
 *  - Waiting: a call waits with poll(), at most c->timeout_ms milliseconds in
 *    all, then returns -ETIMEDOUT. The stream may then stand in the middle of
 *    a PDU; only closing it is safe.
 *  - Errors are negative errno values. -ECONNRESET: the stream ended (the
 *    peer closed or reset it; nvt_test_tcp_expect_closed() tells the two
 *    apart). -EPROTO: the peer sent what an NVMe/TCP controller must not (a
 *    malformed PDU, a PDU or data this host did not ask for). -EBADMSG: a
 *    header or data digest did not match. -ECONNABORTED: a C2HTermReq came
 *    where a command's answer was awaited. -EBADF: the connection is closed.
 *  - Commands return their NVMe status once their response arrives: the
 *    completion's status field without its phase bit (0 is success, see
 *    nvt_nvme_status_sc()), so >= 0 is an answer and < 0 is -errno.
 *  - Nothing here prints or exits: the caller reports.
 */
#ifndef NVT_TEST_TCP_H
#define NVT_TEST_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "nvtcp/nvme_spec.h"
#include "nvtcp/nvme_tcp.h"

/* What nvt_test_tcp_init() sets as the longest wait of each call, in milliseconds. */
#define NVT_TEST_TCP_TIMEOUT_MS 10000

/* The most iovec entries nvt_test_tcp_sendv() takes. */
#define NVT_TEST_TCP_IOV_MAX 16

/* For the PDU builders: a header / data digest that does not match (when negotiated). */
#define NVT_TEST_TCP_BAD_HDGST (1u << 0)
#define NVT_TEST_TCP_BAD_DDGST (1u << 1)

/*
 * One NVMe/TCP connection (one queue). The caller owns the storage and calls
 * nvt_test_tcp_init() once before anything else. It may read every field,
 * set timeout_ms, and poll() fd; the rest changes only through these
 * functions.
 */
struct nvt_test_conn {
	/* The socket (non-blocking), -1 while closed. */
	int fd;
	/* The longest a call waits, in milliseconds; <= 0: NVT_TEST_TCP_TIMEOUT_MS. */
	int timeout_ms;
	/* Digests the ICResp enabled: PDUs are sent with them and must arrive with them. */
	bool hdgst;
	bool ddgst;
	/* The controller's PDU data alignment from the ICResp (0's based dwords). */
	uint8_t cpda;
	/* Most data bytes per H2CData PDU, from the ICResp. */
	uint32_t maxh2cdata;
	/* The queue the last Fabrics Connect on this connection named. */
	uint16_t qid;
	/* The controller: from the admin queue's Connect response, or the one an I/O queue joins. */
	uint16_t cntlid;
	/* The command id used last; nvt_test_tcp_next_cid() takes the next one. */
	uint16_t cid;
};

/*
 * A PDU being received: its header, then (nvt_test_tcp_recv_data()) its data.
 * The caller owns it; it holds no pointer.
 */
struct nvt_test_pdu {
	/* The header as received: hlen bytes are valid. */
	union nvt_nvme_tcp_pdu_hdr h;
	/* Bytes of data it carries (digest excluded); 0 when none. */
	uint32_t data_len;
	/* Bytes of padding between the header (and its digest) and the data. */
	uint32_t pad;
};

/*
 * How a Fabrics Connect introduces a queue. The strings are the caller's and
 * are copied into the command.
 */
struct nvt_test_connect_opts {
	const char *subnqn;
	const char *hostnqn;
	/* 0: the admin queue; else an I/O queue. */
	uint16_t qid;
	/* Submission queue size, 0's based. */
	uint16_t sqsize;
	/* Keep Alive timeout in milliseconds, as sent (hosts send 0 on I/O queues). */
	uint32_t kato_ms;
	/* The controller an I/O queue joins; the admin queue asks for a dynamic one. */
	uint16_t cntlid;
	/* The 128-bit Host Identifier sent; NULL sends zeros. */
	const uint8_t *hostid;
};

/* ---- bytes (test_tcp.c) ---- */

/* Make \p c a closed connection with the default timeout. Nothing to undo. */
void nvt_test_tcp_init(struct nvt_test_conn *c);

/*
 * Connect \p c to IPv4 \p addr : \p port and wait until the connection is up.
 * \p c must be closed; everything negotiated before is forgotten (but
 * timeout_ms). 0, or -EINVAL (not an IPv4 address), -EBUSY (\p c is open),
 * -ETIMEDOUT, -ECONNREFUSED or another -errno, with \p c closed.
 */
int nvt_test_tcp_open(struct nvt_test_conn *c, const char *addr, uint16_t port);

/*
 * As nvt_test_tcp_open(), without waiting: the first send or receive waits
 * for the connection and reports its failure. For opening many at once.
 */
int nvt_test_tcp_open_start(struct nvt_test_conn *c, const char *addr, uint16_t port);

/* Close \p c in order (FIN after what was sent); nothing when it is closed. */
void nvt_test_tcp_close(struct nvt_test_conn *c);

/* Close \p c by a reset (SO_LINGER 0: RST, unsent bytes dropped); nothing when closed. */
void nvt_test_tcp_close_rst(struct nvt_test_conn *c);

/* Send all \p len bytes of \p buf: 0 or -errno (-EPIPE or -ECONNRESET: the peer is gone). */
int nvt_test_tcp_send(struct nvt_test_conn *c, const void *buf, size_t len);

/* Send all bytes of \p iov in order (at most NVT_TEST_TCP_IOV_MAX entries, else -EINVAL). */
int nvt_test_tcp_sendv(struct nvt_test_conn *c, const struct iovec *iov, int iovcnt);

/* Receive exactly \p len bytes into \p buf: 0 or -errno. */
int nvt_test_tcp_recv(struct nvt_test_conn *c, void *buf, size_t len);

/*
 * Wait until the peer closes \p c: 0 when it did in order with nothing more
 * to read, -ECONNRESET when it reset it, -EISCONN when a byte arrived
 * instead, -ETIMEDOUT when it stayed open. \p c stays open either way.
 */
int nvt_test_tcp_expect_closed(struct nvt_test_conn *c);

/* ---- PDUs (test_tcp.c) ---- */

/*
 * The next PDU's header and its header digest. 0 with \p p filled: when
 * p->data_len > 0 the data must be taken next by nvt_test_tcp_recv_data().
 * -EPROTO for a header no controller may send: hlen outside 8..128 or not
 * that of its type, plen or pdo that do not add up, digest flags unlike what
 * was negotiated, data on a PDU type without any, C2HData datal unlike its
 * data length. -EBADMSG for a wrong header digest.
 */
int nvt_test_tcp_recv_hdr(struct nvt_test_conn *c, struct nvt_test_pdu *p);

/*
 * The data of the PDU whose header nvt_test_tcp_recv_hdr() just took: its
 * padding, p->data_len bytes into \p buf (NULL: read and dropped), its data
 * digest. 0, -EBADMSG (wrong data digest, the data is in \p buf) or -errno.
 */
int nvt_test_tcp_recv_data(struct nvt_test_conn *c, const struct nvt_test_pdu *p, void *buf);

/*
 * A whole PDU: header, then its data into \p buf of \p size bytes (NULL:
 * dropped). -EMSGSIZE when the data does not fit (the stream is then
 * unusable); otherwise as the two calls above.
 */
int nvt_test_tcp_recv_pdu(struct nvt_test_conn *c, struct nvt_test_pdu *p, void *buf, size_t size);

/* A zeroed header of \p type with its hlen (0 for an unknown type). */
void nvt_test_tcp_hdr_init(union nvt_nvme_tcp_pdu_hdr *h, uint8_t type);

/* An ICReq: PFV 1.0, the host data alignment \p hpda, the digests asked, MAXR2T 0. */
void nvt_test_tcp_icreq_init(struct nvt_nvme_tcp_ic_req *req, uint8_t hpda, bool hdgst, bool ddgst);

/*
 * Complete \p h for \p len bytes of data on \p c and write the whole PDU into
 * \p buf (\p size bytes) without sending it: the digest flags as negotiated
 * (other flags are the caller's), pdo at the controller's alignment (0 for a
 * TermReq, whose data follows its header), plen, the header digest, the
 * padding, the data (\p data, or zeros when NULL) and the data digest; \p bad
 * (NVT_TEST_TCP_BAD_*) spoils digests. h->ch.hlen 0 takes that of the type.
 * The PDU's length, or -EINVAL (hlen outside 8..128, or data past what pdo can
 * say), -ENOSPC (\p buf too small).
 */
ssize_t nvt_test_tcp_pdu_build(const struct nvt_test_conn *c, union nvt_nvme_tcp_pdu_hdr *h,
			       const void *data, uint32_t len, unsigned int bad, void *buf,
			       size_t size);

/*
 * Complete \p h as nvt_test_tcp_pdu_build() does and send the PDU with the
 * \p len bytes at \p data (not copied; NULL only when \p len is 0): 0 or -errno.
 */
int nvt_test_tcp_pdu_send(struct nvt_test_conn *c, union nvt_nvme_tcp_pdu_hdr *h, const void *data,
			  uint32_t len, unsigned int bad);

/* A command capsule of \p sqe with \p len bytes of in-capsule data, built as above. */
ssize_t nvt_test_tcp_capsule_build(const struct nvt_test_conn *c, const union nvt_nvme_sqe *sqe,
				   const void *data, uint32_t len, unsigned int bad, void *buf,
				   size_t size);

/* Send a command capsule of \p sqe with \p len bytes of in-capsule data: 0 or -errno. */
int nvt_test_tcp_capsule_send(struct nvt_test_conn *c, const union nvt_nvme_sqe *sqe,
			      const void *data, uint32_t len, unsigned int bad);

/*
 * Send \p send_len bytes: a common header with exactly these fields, then
 * zeros (fewer than 8 bytes send a prefix of the header). 0 or -errno.
 */
int nvt_test_tcp_send_hdr_raw(struct nvt_test_conn *c, uint8_t type, uint8_t flags, uint8_t hlen,
			      uint8_t pdo, uint32_t plen, size_t send_len);

/*
 * Answer \p r2t with the bytes it asks for from \p wbuf (the command's data,
 * \p len bytes): H2CData PDUs of at most c->maxh2cdata bytes, the last one
 * flagged. -EPROTO when the R2T asks for nothing or for bytes beyond \p len.
 */
int nvt_test_tcp_h2c_send(struct nvt_test_conn *c, const struct nvt_nvme_tcp_r2t *r2t,
			  const void *wbuf, uint32_t len);

/* ---- commands (test_tcp_cmd.c) ---- */

/* The next command id of \p c (it wraps). */
uint16_t nvt_test_tcp_next_cid(struct nvt_test_conn *c);

/* A zeroed Read or Write (\p opc) of \p nblocks blocks at \p lba of \p nsid. */
void nvt_test_tcp_sqe_rw(union nvt_nvme_sqe *sqe, uint8_t opc, uint16_t cid, uint32_t nsid,
			 uint64_t lba, uint32_t nblocks);

/* SGL 1 of \p sqe: \p len bytes in the capsule. */
void nvt_test_tcp_sqe_sgl_icd(union nvt_nvme_sqe *sqe, uint32_t len);

/* SGL 1 of \p sqe: \p len bytes through the transport (C2HData, or R2T and H2CData). */
void nvt_test_tcp_sqe_sgl_transport(union nvt_nvme_sqe *sqe, uint32_t len);

/* Send an ICReq (see nvt_test_tcp_icreq_init()): 0 or -errno. */
int nvt_test_tcp_icreq_send(struct nvt_test_conn *c, uint8_t hpda, bool hdgst, bool ddgst);

/*
 * Receive the ICResp and take what it negotiated (digests, CPDA, MAXH2CDATA).
 * 0; -ECONNABORTED for a C2HTermReq; -EPROTO for another PDU, a PFV other
 * than 1.0 or a MAXH2CDATA below 4096; or -errno.
 */
int nvt_test_tcp_icresp_recv(struct nvt_test_conn *c);

/* ICReq, then its ICResp: as the two calls above. */
int nvt_test_tcp_icreq(struct nvt_test_conn *c, uint8_t hpda, bool hdgst, bool ddgst);

/*
 * Wait for the response to command \p cid, meanwhile taking its C2HData into
 * \p rbuf and answering its R2Ts from \p wbuf (each NULL when the command
 * moves no data that way; \p len bytes of data). PDUs of other commands are
 * read and dropped. The NVMe status, with the completion in \p cpl (may be
 * NULL; a C2HData with SUCCESS makes one of status 0); -EPROTO for data
 * beyond \p len or not asked for, a SUCCESS before all \p len bytes came, a
 * PDU type no controller sends; -ECONNABORTED for a C2HTermReq; or -errno.
 */
int nvt_test_tcp_wait_rsp(struct nvt_test_conn *c, uint16_t cid, void *rbuf, const void *wbuf,
			  uint32_t len, struct nvt_nvme_cpl *cpl);

/* Send a Fabrics Connect as \p o says, with command id nvt_test_tcp_next_cid(): 0 or -errno. */
int nvt_test_tcp_connect_send(struct nvt_test_conn *c, const struct nvt_test_connect_opts *o);

/*
 * Wait for the response of the Connect sent with command id \p cid; on
 * success an admin queue takes its cntlid. The status, or -errno.
 */
int nvt_test_tcp_connect_wait(struct nvt_test_conn *c, uint16_t cid);

/* Fabrics Connect: send, then wait. The status, or -errno. */
int nvt_test_tcp_fabrics_connect(struct nvt_test_conn *c, const struct nvt_test_connect_opts *o);

/* Property Set CC: EN, 64-byte SQ and 16-byte CQ entries. The status, or -errno. */
int nvt_test_tcp_enable_ctrlr(struct nvt_test_conn *c);

/* Keep Alive. The status, or -errno. */
int nvt_test_tcp_keep_alive(struct nvt_test_conn *c);

/*
 * Read \p nblocks blocks of \p block_size bytes at \p lba of \p nsid into
 * \p buf (transport SGL, data by C2HData). The status, or -errno.
 */
int nvt_test_tcp_read(struct nvt_test_conn *c, uint32_t nsid, uint64_t lba, uint32_t nblocks,
		      uint32_t block_size, void *buf);

/*
 * Write \p nblocks blocks from \p buf with the data in the capsule, its data
 * digest spoilt when \p bad_ddgst (and negotiated). The status, or -errno.
 */
int nvt_test_tcp_write_icd(struct nvt_test_conn *c, uint32_t nsid, uint64_t lba, uint32_t nblocks,
			   uint32_t block_size, const void *buf, bool bad_ddgst);

/* Write \p nblocks blocks from \p buf through R2T and H2CData. The status, or -errno. */
int nvt_test_tcp_write(struct nvt_test_conn *c, uint32_t nsid, uint64_t lba, uint32_t nblocks,
		       uint32_t block_size, const void *buf);

/*
 * Any command \p sqe (opcode and fields set by the caller; the command id and
 * SGL 1 are set here) with \p len bytes of data through the transport: into
 * \p rbuf (C2HData) when it is not NULL, else from \p wbuf (R2T and
 * H2CData); no data when \p len is 0. \p cpl (may be NULL) gets the
 * completion. The status, or -errno.
 */
int nvt_test_tcp_cmd(struct nvt_test_conn *c, union nvt_nvme_sqe *sqe, void *rbuf, const void *wbuf,
		     uint32_t len, struct nvt_nvme_cpl *cpl);

/*
 * Expect the next PDU to be a C2HTermReq of \p fes (and \p fei, unless
 * UINT32_MAX) with its header and at most 128 bytes of data, and the
 * connection to be closed after it. 0; -ENOMSG for another PDU, -EPROTO for
 * a TermReq with other fields (both: what came is in \p p); the errors of
 * nvt_test_tcp_expect_closed() when it is not closed after; or -errno.
 */
int nvt_test_tcp_expect_term(struct nvt_test_conn *c, uint16_t fes, uint32_t fei,
			     struct nvt_test_pdu *p);

#endif /* NVT_TEST_TCP_H */
