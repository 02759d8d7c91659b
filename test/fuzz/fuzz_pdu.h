/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe/TCP PDUs on the host's side of a fuzz_conn: building well-formed
 * host PDUs (ICReq, command capsules, H2C data), and reading what the
 * target sends with a check that every PDU is well formed - a malformed
 * PDU from the target fails the run, whatever the input was.
 */
#ifndef NVT_FUZZ_PDU_H
#define NVT_FUZZ_PDU_H

#include <stdbool.h>
#include <stdint.h>

#include "nvtcp/nvme_spec.h"
#include "nvtcp/nvme_tcp.h"

#include "fuzz_env.h"

/* What one connection negotiated, as the target's ICResp says. */
struct fuzz_pdu_state {
	bool ic_done;	     /* an ICResp came */
	bool hdgst, ddgst;   /* digests on */
	bool term;	     /* a C2HTermReq came: nothing may follow */
	bool hpda_known;     /* the host's ICReq is known (alignment of C2H data) */
	uint8_t hpda;	     /* its HPDA */
	uint32_t maxh2cdata; /* from the ICResp */
};

/* One PDU from the target: its header, and its data (valid during the callback). */
typedef void (*fuzz_pdu_cb)(void *ctx, const union nvt_nvme_tcp_pdu_hdr *hdr, const uint8_t *data,
			    uint32_t data_len);

/*
 * Consume the complete PDUs recorded in \p conn->out (conn->record set),
 * check each, and hand it to \p cb (may be NULL). A partial PDU stays for
 * the next call. The run fails on a malformed PDU.
 */
void fuzz_pdu_read(struct fuzz_conn *conn, struct fuzz_pdu_state *st, fuzz_pdu_cb cb, void *ctx);

/* Push an ICReq asking for \p hdgst / \p ddgst with host data alignment \p hpda. */
void fuzz_pdu_push_icreq(struct fuzz_conn *conn, struct fuzz_pdu_state *st, bool hdgst, bool ddgst,
			 uint8_t hpda);

/*
 * Push a command capsule with \p len bytes of in-capsule data, digests as
 * negotiated; \p bad_ddgst flips the data digest.
 */
void fuzz_pdu_push_capsule(struct fuzz_conn *conn, const struct fuzz_pdu_state *st,
			   const union nvt_nvme_sqe *sqe, const void *data, uint32_t len,
			   bool bad_ddgst);

/* Push one H2C data PDU of \p len bytes at \p datao. */
void fuzz_pdu_push_h2c(struct fuzz_conn *conn, const struct fuzz_pdu_state *st, uint16_t cccid,
		       uint16_t ttag, uint32_t datao, const void *data, uint32_t len, bool last);

#endif /* NVT_FUZZ_PDU_H */
