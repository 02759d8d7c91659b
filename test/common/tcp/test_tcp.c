/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The raw NVMe/TCP host (test_tcp.h): bytes and PDUs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nvtcp/crc32c.h"

#include "test_tcp.h"
#include "test_tcp_internal.h"

/* Header, header digest and padding up to a pdo, which is one byte. */
#define HEAD_MAX 256

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
test_tcp_deadline(const struct nvt_test_conn *c)
{
	return now_ms() + (c->timeout_ms > 0 ? c->timeout_ms : NVT_TEST_TCP_TIMEOUT_MS);
}

/* Wait until \p fd is ready for \p events (or failed: the next call says how). */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		n = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (n > 0) {
			return 0;
		}
		if (n == 0) {
			return -ETIMEDOUT;
		}
		if (errno != EINTR) {
			return -errno;
		}
	}
}

/* ---- bytes ---- */

void
nvt_test_tcp_init(struct nvt_test_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = NVT_TEST_TCP_TIMEOUT_MS;
}

int
nvt_test_tcp_open_start(struct nvt_test_conn *c, const char *addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1, rc, timeout_ms = c->timeout_ms;

	if (c->fd >= 0) {
		return -EBUSY;
	}
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		return -EINVAL;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	/* PDUs are small and answered one by one: never wait for Nagle. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		rc = -errno;
		close(fd);
		return rc;
	}
	nvt_test_tcp_init(c);
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	return 0;
}

int
nvt_test_tcp_open(struct nvt_test_conn *c, const char *addr, uint16_t port)
{
	socklen_t len = sizeof(int);
	int rc, err = 0;

	rc = nvt_test_tcp_open_start(c, addr, port);
	if (rc != 0) {
		return rc;
	}
	rc = wait_fd(c->fd, POLLOUT, test_tcp_deadline(c));
	if (rc == 0 && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
		err = errno;
	}
	if (rc == 0 && err != 0) {
		rc = -err;
	}
	if (rc != 0) {
		nvt_test_tcp_close(c);
	}
	return rc;
}

void
nvt_test_tcp_close(struct nvt_test_conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

void
nvt_test_tcp_close_rst(struct nvt_test_conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (c->fd >= 0) {
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	nvt_test_tcp_close(c);
}

/* Drop the first \p n bytes of the iovec (*iov, *cnt), and the empty entries they leave in front. */
static void
iov_advance(struct iovec **iov, int *cnt, size_t n)
{
	while (*cnt > 0 && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt > 0) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

/* Send the iovec, which this changes. */
int
test_tcp_send_iov(struct nvt_test_conn *c, struct iovec *iov, int cnt, int64_t deadline)
{
	struct msghdr msg = { 0 };
	ssize_t n;
	int rc;

	if (c->fd < 0) {
		return -EBADF;
	}
	iov_advance(&iov, &cnt, 0);
	while (cnt > 0) {
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)cnt;
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			iov_advance(&iov, &cnt, (size_t)n);
			continue;
		}
		if (errno == EINTR) {
			continue;
		}
		/* Also while connecting: the socket turns writable once connected. */
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return -errno;
		}
		rc = wait_fd(c->fd, POLLOUT, deadline);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

int
nvt_test_tcp_sendv(struct nvt_test_conn *c, const struct iovec *iov, int iovcnt)
{
	struct iovec copy[NVT_TEST_TCP_IOV_MAX];

	if (iovcnt < 0 || iovcnt > NVT_TEST_TCP_IOV_MAX) {
		return -EINVAL;
	}
	memcpy(copy, iov, (size_t)iovcnt * sizeof(*iov));
	return test_tcp_send_iov(c, copy, iovcnt, test_tcp_deadline(c));
}

int
nvt_test_tcp_send(struct nvt_test_conn *c, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return test_tcp_send_iov(c, &iov, 1, test_tcp_deadline(c));
}

/* Up to \p len bytes, waiting for the first: how many, 0 at the end of the stream, or -errno. */
static ssize_t
recv_some(struct nvt_test_conn *c, void *buf, size_t len, int64_t deadline)
{
	ssize_t n;
	int rc;

	if (c->fd < 0) {
		return -EBADF;
	}
	for (;;) {
		n = recv(c->fd, buf, len, MSG_DONTWAIT);
		if (n >= 0) {
			return n;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return -errno;
		}
		rc = wait_fd(c->fd, POLLIN, deadline);
		if (rc != 0) {
			return rc;
		}
	}
}

int
test_tcp_recv_until(struct nvt_test_conn *c, void *buf, size_t len, int64_t deadline)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = recv_some(c, p, len, deadline);
		if (n <= 0) {
			return n == 0 ? -ECONNRESET : (int)n;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
nvt_test_tcp_recv(struct nvt_test_conn *c, void *buf, size_t len)
{
	return test_tcp_recv_until(c, buf, len, test_tcp_deadline(c));
}

int
nvt_test_tcp_expect_closed(struct nvt_test_conn *c)
{
	uint8_t b;
	ssize_t n = recv_some(c, &b, 1, test_tcp_deadline(c));

	if (n > 0) {
		return -EISCONN;
	}
	return (int)n;
}

/* ---- receiving PDUs ---- */

/* Digest flags as negotiated: a header digest exactly when due, a data digest never unasked. */
static int
hdr_check_flags(const struct nvt_test_conn *c, const struct nvt_nvme_tcp_common_hdr *ch)
{
	bool dg = nvt_nvme_tcp_pdu_type_has_digests(ch->type);
	bool hd = (ch->flags & NVT_NVME_TCP_F_HDGSTF) != 0;
	bool dd = (ch->flags & NVT_NVME_TCP_F_DDGSTF) != 0;

	if (hd != (dg && c->hdgst) || (dd && !(dg && c->ddgst))) {
		return -EPROTO;
	}
	return 0;
}

/* Where the data is: p->pad and p->data_len from hlen, pdo, plen and the digests. */
static int
hdr_layout(const struct nvt_test_conn *c, struct nvt_test_pdu *p)
{
	const struct nvt_nvme_tcp_common_hdr *ch = &p->h.ch;
	uint32_t full = ch->hlen + nvt_nvme_tcp_hdgst_len(ch);
	uint32_t dd = nvt_nvme_tcp_ddgst_len(ch);
	/* A TermReq has pdo 0 and its data right behind its header. */
	uint32_t start = ch->pdo != 0 ? ch->pdo : full;

	p->pad = 0;
	p->data_len = 0;
	if (ch->plen == full) {
		return dd == 0 && ch->pdo == 0 ? 0 : -EPROTO;
	}
	if (ch->plen < full || start < full || ch->plen <= start + dd) {
		return -EPROTO;
	}
	/* Data on a connection with data digests must carry one. */
	if (c->ddgst && nvt_nvme_tcp_pdu_type_has_digests(ch->type) && dd == 0) {
		return -EPROTO;
	}
	p->pad = start - full;
	p->data_len = ch->plen - start - dd;
	return 0;
}

/* What the header of a known type says about its data must agree with it. */
static int
hdr_check_type(const struct nvt_test_pdu *p)
{
	const struct nvt_nvme_tcp_common_hdr *ch = &p->h.ch;

	switch (ch->type) {
	case NVT_NVME_TCP_PDU_IC_RESP:
	case NVT_NVME_TCP_PDU_CAPSULE_RESP:
	case NVT_NVME_TCP_PDU_R2T:
		return p->data_len == 0 ? 0 : -EPROTO;
	case NVT_NVME_TCP_PDU_C2H_DATA:
		return p->h.c2h_data.datal == p->data_len ? 0 : -EPROTO;
	default:
		return 0;
	}
}

static int
hdgst_check(struct nvt_test_conn *c, const struct nvt_test_pdu *p, int64_t deadline)
{
	uint32_t want, got;
	int rc;

	if (nvt_nvme_tcp_hdgst_len(&p->h.ch) == 0) {
		return 0;
	}
	rc = test_tcp_recv_until(c, &got, sizeof(got), deadline);
	if (rc != 0) {
		return rc;
	}
	want = nvt_crc32c(p->h.raw, p->h.ch.hlen);
	return got == want ? 0 : -EBADMSG;
}

int
test_tcp_recv_hdr_until(struct nvt_test_conn *c, struct nvt_test_pdu *p, int64_t deadline)
{
	struct nvt_nvme_tcp_common_hdr *ch = &p->h.ch;
	uint8_t hlen;
	int rc;

	p->pad = 0;
	p->data_len = 0;
	rc = test_tcp_recv_until(c, ch, sizeof(*ch), deadline);
	if (rc != 0) {
		return rc;
	}
	/* Checked before reading on, so a wrong hlen never waits for bytes that do not come. */
	hlen = nvt_nvme_tcp_pdu_hlen(ch->type);
	if (ch->hlen < sizeof(*ch) || ch->hlen > sizeof(p->h) || (hlen != 0 && ch->hlen != hlen)) {
		return -EPROTO;
	}
	rc = test_tcp_recv_until(c, p->h.raw + sizeof(*ch), ch->hlen - sizeof(*ch), deadline);
	if (rc == 0) {
		rc = hdr_check_flags(c, ch);
	}
	if (rc == 0) {
		rc = hdgst_check(c, p, deadline);
	}
	if (rc == 0) {
		rc = hdr_layout(c, p);
	}
	return rc != 0 ? rc : hdr_check_type(p);
}

int
nvt_test_tcp_recv_hdr(struct nvt_test_conn *c, struct nvt_test_pdu *p)
{
	return test_tcp_recv_hdr_until(c, p, test_tcp_deadline(c));
}

/* Read \p len bytes and drop them; their CRC32C continues *crc. */
static int
recv_drop(struct nvt_test_conn *c, uint32_t len, uint32_t *crc, int64_t deadline)
{
	uint8_t chunk[4096];
	uint32_t n;
	int rc = 0;

	while (rc == 0 && len > 0) {
		n = len < sizeof(chunk) ? len : (uint32_t)sizeof(chunk);
		rc = test_tcp_recv_until(c, chunk, n, deadline);
		*crc = nvt_crc32c_update(chunk, n, *crc);
		len -= n;
	}
	return rc;
}

int
test_tcp_recv_data_until(struct nvt_test_conn *c, const struct nvt_test_pdu *p, void *buf,
			 int64_t deadline)
{
	uint32_t crc = NVT_CRC32C_INIT, got;
	uint8_t pad[HEAD_MAX];
	int rc;

	if (p->data_len == 0) {
		return 0;
	}
	rc = test_tcp_recv_until(c, pad, p->pad, deadline);
	if (rc != 0) {
		return rc;
	}
	if (buf != NULL) {
		rc = test_tcp_recv_until(c, buf, p->data_len, deadline);
		crc = nvt_crc32c_update(buf, p->data_len, crc);
	} else {
		rc = recv_drop(c, p->data_len, &crc, deadline);
	}
	if (rc != 0 || nvt_nvme_tcp_ddgst_len(&p->h.ch) == 0) {
		return rc;
	}
	rc = test_tcp_recv_until(c, &got, sizeof(got), deadline);
	if (rc != 0) {
		return rc;
	}
	return got == (crc ^ NVT_CRC32C_XOR) ? 0 : -EBADMSG;
}

int
nvt_test_tcp_recv_data(struct nvt_test_conn *c, const struct nvt_test_pdu *p, void *buf)
{
	return test_tcp_recv_data_until(c, p, buf, test_tcp_deadline(c));
}

int
nvt_test_tcp_recv_pdu(struct nvt_test_conn *c, struct nvt_test_pdu *p, void *buf, size_t size)
{
	int64_t deadline = test_tcp_deadline(c);
	int rc;

	rc = test_tcp_recv_hdr_until(c, p, deadline);
	if (rc != 0) {
		return rc;
	}
	if (buf != NULL && p->data_len > size) {
		return -EMSGSIZE;
	}
	return test_tcp_recv_data_until(c, p, buf, deadline);
}

/* ---- building and sending PDUs ---- */

void
nvt_test_tcp_hdr_init(union nvt_nvme_tcp_pdu_hdr *h, uint8_t type)
{
	memset(h, 0, sizeof(*h));
	h->ch.type = type;
	h->ch.hlen = nvt_nvme_tcp_pdu_hlen(type);
}

void
nvt_test_tcp_icreq_init(struct nvt_nvme_tcp_ic_req *req, uint8_t hpda, bool hdgst, bool ddgst)
{
	memset(req, 0, sizeof(*req));
	req->ch.type = NVT_NVME_TCP_PDU_IC_REQ;
	req->ch.hlen = sizeof(*req);
	req->ch.plen = sizeof(*req);
	req->pfv = NVT_NVME_TCP_PFV_1_0;
	req->hpda = hpda;
	req->dgst = (uint8_t)((hdgst ? NVT_NVME_TCP_DGST_HDGST_ENABLE : 0) |
			      (ddgst ? NVT_NVME_TCP_DGST_DDGST_ENABLE : 0));
}

static bool
is_term_req(uint8_t type)
{
	return type == NVT_NVME_TCP_PDU_H2C_TERM_REQ || type == NVT_NVME_TCP_PDU_C2H_TERM_REQ;
}

/*
 * Complete \p h for \p len bytes of data and write into \p head what comes
 * before the data: header, header digest, padding. Its length, or -EINVAL.
 */
static int
pdu_head(const struct nvt_test_conn *c, union nvt_nvme_tcp_pdu_hdr *h, uint32_t len,
	 unsigned int bad, uint8_t head[HEAD_MAX])
{
	struct nvt_nvme_tcp_common_hdr *ch = &h->ch;
	bool dg = nvt_nvme_tcp_pdu_type_has_digests(ch->type);
	bool hd = dg && c->hdgst, dd = dg && c->ddgst && len > 0;
	uint32_t full, start, crc;

	if (ch->hlen == 0) {
		ch->hlen = nvt_nvme_tcp_pdu_hlen(ch->type);
	}
	if (ch->hlen < sizeof(*ch) || ch->hlen > sizeof(*h)) {
		return -EINVAL;
	}
	ch->flags &= (uint8_t) ~(NVT_NVME_TCP_F_HDGSTF | NVT_NVME_TCP_F_DDGSTF);
	ch->flags |= (uint8_t)((hd ? NVT_NVME_TCP_F_HDGSTF : 0) | (dd ? NVT_NVME_TCP_F_DDGSTF : 0));
	full = ch->hlen + (hd ? NVT_NVME_TCP_DIGEST_LEN : 0u);
	start = len > 0 && !is_term_req(ch->type) ? nvt_nvme_tcp_pdo(ch->hlen, hd, c->cpda) : full;
	if (start < full) {
		/* The aligned data offset is past what the one byte of pdo can say. */
		return -EINVAL;
	}
	ch->pdo = (uint8_t)(len > 0 && !is_term_req(ch->type) ? start : 0);
	ch->plen = start + len + (dd ? NVT_NVME_TCP_DIGEST_LEN : 0u);
	memcpy(head, h->raw, ch->hlen);
	if (hd) {
		crc = nvt_crc32c(head, ch->hlen) ^ ((bad & NVT_TEST_TCP_BAD_HDGST) ? 1u : 0u);
		memcpy(head + ch->hlen, &crc, sizeof(crc));
	}
	memset(head + full, 0, start - full);
	return (int)start;
}

static uint32_t
ddgst_of(const void *data, uint32_t len, unsigned int bad)
{
	return nvt_crc32c(data, len) ^ ((bad & NVT_TEST_TCP_BAD_DDGST) ? 1u : 0u);
}

ssize_t
nvt_test_tcp_pdu_build(const struct nvt_test_conn *c, union nvt_nvme_tcp_pdu_hdr *h,
		       const void *data, uint32_t len, unsigned int bad, void *buf, size_t size)
{
	uint8_t head[HEAD_MAX], *out = buf;
	uint32_t crc;
	int start = pdu_head(c, h, len, bad, head);

	if (start < 0) {
		return start;
	}
	if (h->ch.plen > size) {
		return -ENOSPC;
	}
	memcpy(out, head, (size_t)start);
	if (data != NULL) {
		memcpy(out + start, data, len);
	} else {
		memset(out + start, 0, len);
	}
	if (h->ch.flags & NVT_NVME_TCP_F_DDGSTF) {
		crc = ddgst_of(out + start, len, bad);
		memcpy(out + start + len, &crc, sizeof(crc));
	}
	return (ssize_t)h->ch.plen;
}

int
test_tcp_pdu_send_until(struct nvt_test_conn *c, union nvt_nvme_tcp_pdu_hdr *h, const void *data,
			uint32_t len, unsigned int bad, int64_t deadline)
{
	uint8_t head[HEAD_MAX];
	uint32_t crc = 0;
	int start = pdu_head(c, h, len, bad, head);
	struct iovec iov[3] = {
		{ .iov_base = head, .iov_len = start > 0 ? (size_t)start : 0 },
		{ .iov_base = (void *)data, .iov_len = len },
		{ .iov_base = &crc, .iov_len = 0 },
	};

	if (start < 0) {
		return start;
	}
	if (data == NULL && len > 0) {
		return -EINVAL;
	}
	if (h->ch.flags & NVT_NVME_TCP_F_DDGSTF) {
		crc = ddgst_of(data, len, bad);
		iov[2].iov_len = sizeof(crc);
	}
	return test_tcp_send_iov(c, iov, 3, deadline);
}

int
nvt_test_tcp_pdu_send(struct nvt_test_conn *c, union nvt_nvme_tcp_pdu_hdr *h, const void *data,
		      uint32_t len, unsigned int bad)
{
	return test_tcp_pdu_send_until(c, h, data, len, bad, test_tcp_deadline(c));
}

ssize_t
nvt_test_tcp_capsule_build(const struct nvt_test_conn *c, const union nvt_nvme_sqe *sqe,
			   const void *data, uint32_t len, unsigned int bad, void *buf, size_t size)
{
	union nvt_nvme_tcp_pdu_hdr h;

	nvt_test_tcp_hdr_init(&h, NVT_NVME_TCP_PDU_CAPSULE_CMD);
	h.capsule_cmd.sqe = *sqe;
	return nvt_test_tcp_pdu_build(c, &h, data, len, bad, buf, size);
}

int
nvt_test_tcp_capsule_send(struct nvt_test_conn *c, const union nvt_nvme_sqe *sqe, const void *data,
			  uint32_t len, unsigned int bad)
{
	union nvt_nvme_tcp_pdu_hdr h;

	nvt_test_tcp_hdr_init(&h, NVT_NVME_TCP_PDU_CAPSULE_CMD);
	h.capsule_cmd.sqe = *sqe;
	return nvt_test_tcp_pdu_send(c, &h, data, len, bad);
}

int
nvt_test_tcp_send_hdr_raw(struct nvt_test_conn *c, uint8_t type, uint8_t flags, uint8_t hlen,
			  uint8_t pdo, uint32_t plen, size_t send_len)
{
	struct nvt_nvme_tcp_common_hdr ch = {
		.type = type, .flags = flags, .hlen = hlen, .pdo = pdo, .plen = plen
	};
	uint8_t buf[1024] = { 0 };
	int64_t deadline = test_tcp_deadline(c);
	struct iovec iov;
	size_t n;
	int rc = 0;

	memcpy(buf, &ch, sizeof(ch));
	while (rc == 0 && send_len > 0) {
		n = send_len < sizeof(buf) ? send_len : sizeof(buf);
		iov = (struct iovec){ .iov_base = buf, .iov_len = n };
		rc = test_tcp_send_iov(c, &iov, 1, deadline);
		/* Zeros after the header. */
		memset(buf, 0, sizeof(ch));
		send_len -= n;
	}
	return rc;
}

int
test_tcp_h2c_send_until(struct nvt_test_conn *c, const struct nvt_nvme_tcp_r2t *r2t,
			const void *wbuf, uint32_t len, int64_t deadline)
{
	uint32_t max = c->maxh2cdata ? c->maxh2cdata : r2t->r2tl, off = 0, n;
	union nvt_nvme_tcp_pdu_hdr h;
	int rc = 0;

	if (wbuf == NULL || r2t->r2tl == 0 || r2t->r2to > len || r2t->r2tl > len - r2t->r2to) {
		return -EPROTO;
	}
	while (rc == 0 && off < r2t->r2tl) {
		n = r2t->r2tl - off < max ? r2t->r2tl - off : max;
		nvt_test_tcp_hdr_init(&h, NVT_NVME_TCP_PDU_H2C_DATA);
		h.h2c_data.cccid = r2t->cccid;
		h.h2c_data.ttag = r2t->ttag;
		h.h2c_data.datao = r2t->r2to + off;
		h.h2c_data.datal = n;
		if (off + n == r2t->r2tl) {
			h.ch.flags = NVT_NVME_TCP_F_LAST_PDU;
		}
		rc = test_tcp_pdu_send_until(c, &h, (const uint8_t *)wbuf + h.h2c_data.datao, n, 0,
					     deadline);
		off += n;
	}
	return rc;
}

int
nvt_test_tcp_h2c_send(struct nvt_test_conn *c, const struct nvt_nvme_tcp_r2t *r2t, const void *wbuf,
		      uint32_t len)
{
	return test_tcp_h2c_send_until(c, r2t, wbuf, len, test_tcp_deadline(c));
}
