/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Between the two halves of the raw NVMe/TCP host (test_tcp.h): the calls
 * that wait until an absolute deadline (test_tcp_deadline()), so that a
 * command waits c->timeout_ms in all, not per PDU. Errors as test_tcp.h says.
 */
#ifndef NVT_TEST_TCP_INTERNAL_H
#define NVT_TEST_TCP_INTERNAL_H

#include <stdint.h>
#include <sys/uio.h>

#include "test_tcp.h"

/* CLOCK_MONOTONIC milliseconds at which a call on \p c starting now gives up. */
int64_t test_tcp_deadline(const struct nvt_test_conn *c);

/* Send all of \p iov (\p cnt entries, changed as they are sent). */
int test_tcp_send_iov(struct nvt_test_conn *c, struct iovec *iov, int cnt, int64_t deadline);

/* Receive exactly \p len bytes. */
int test_tcp_recv_until(struct nvt_test_conn *c, void *buf, size_t len, int64_t deadline);

/* nvt_test_tcp_recv_hdr(), _recv_data() and _pdu_send() until \p deadline. */
int test_tcp_recv_hdr_until(struct nvt_test_conn *c, struct nvt_test_pdu *p, int64_t deadline);
int test_tcp_recv_data_until(struct nvt_test_conn *c, const struct nvt_test_pdu *p, void *buf,
			     int64_t deadline);
int test_tcp_pdu_send_until(struct nvt_test_conn *c, union nvt_nvme_tcp_pdu_hdr *h,
			    const void *data, uint32_t len, unsigned int bad, int64_t deadline);

/* nvt_test_tcp_h2c_send() until \p deadline. */
int test_tcp_h2c_send_until(struct nvt_test_conn *c, const struct nvt_nvme_tcp_r2t *r2t,
			    const void *wbuf, uint32_t len, int64_t deadline);

#endif /* NVT_TEST_TCP_INTERNAL_H */
