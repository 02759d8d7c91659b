/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Malformed-PDU suite. Starts nvtcpd (path in argv[1]) on 127.0.0.1 with a
 * free port and a small JSON config (a RAM namespace), talks raw NVMe/TCP to
 * it and checks, for every malformed input, the target's reaction (a
 * C2HTermReq with the right FES/FEI, or an NVMe status), that a healthy
 * connection opened before still serves a read, and that the daemon lives.
 * Ends with SIGTERM and expects exit status 0.
 *
 * Usage: pdu_test <nvtcpd> [extra nvtcpd args...]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nvtcp/crc32c.h"
#include "nvtcp/nvme_spec.h"
#include "nvtcp/nvme_tcp.h"

#include "test_daemon.h"
#include "test_util.h"

#define SUBNQN	  "nqn.2016-06.io.nvtcp:pdu-test"
#define HOSTNQN	  "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
#define NS_BLOCKS 2048 /* 1 MiB of 512-byte blocks */
#define BLK	  512

static int g_port;
static struct nvt_test_daemon g_daemon;
static char g_dir[PATH_MAX];
static int g_failures;

#define CHECK(cond, ...)                                                                \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "FAIL %s:%d: %s: ", __func__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                   \
			fprintf(stderr, "\n");                                          \
			g_failures++;                                                   \
			return -1;                                                      \
		}                                                                       \
	} while (0)

struct conn {
	int fd;
	bool hdgst, ddgst;
	uint16_t cntlid;
	uint16_t cid;
};

/* ---- raw socket helpers ---- */

static int
tcp_open(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)g_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int
send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0) {
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 1 read, 0 EOF, -1 error/timeout */
static int
recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n == 0) {
			return 0;
		}
		if (n < 0) {
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

static uint32_t
crc(const void *buf, size_t len)
{
	return nvt_crc32c(buf, len);
}

/* A received PDU: header (up to 128 bytes) and data. */
struct pdu {
	union nvt_nvme_tcp_pdu_hdr h;
	uint8_t data[65536];
	uint32_t data_len;
};

static int
recv_pdu(struct conn *c, struct pdu *p)
{
	uint32_t rest, hd, dd, pad;
	uint8_t skip[256];

	if (recv_all(c->fd, &p->h.ch, 8) != 1) {
		return -1;
	}
	if (p->h.ch.hlen < 8 || p->h.ch.hlen > 128 || p->h.ch.plen < p->h.ch.hlen) {
		return -1;
	}
	rest = p->h.ch.hlen - 8u;
	if (recv_all(c->fd, p->h.raw + 8, rest) != 1) {
		return -1;
	}
	hd = nvt_nvme_tcp_hdgst_len(&p->h.ch);
	dd = nvt_nvme_tcp_ddgst_len(&p->h.ch);
	if (hd && recv_all(c->fd, skip, hd) != 1) {
		return -1;
	}
	p->data_len = 0;
	if (p->h.ch.plen > p->h.ch.hlen + hd) {
		uint32_t start = p->h.ch.pdo ? p->h.ch.pdo : p->h.ch.hlen + hd;

		pad = start - p->h.ch.hlen - hd;
		if (pad && recv_all(c->fd, skip, pad) != 1) {
			return -1;
		}
		p->data_len = p->h.ch.plen - start - dd;
		if (p->data_len > sizeof(p->data) || recv_all(c->fd, p->data, p->data_len) != 1) {
			return -1;
		}
		if (dd && recv_all(c->fd, skip, dd) != 1) {
			return -1;
		}
	}
	return 0;
}

static int
icreq(struct conn *c, bool hdgst, bool ddgst, uint8_t hpda)
{
	struct nvt_nvme_tcp_ic_req req;
	struct pdu *p = malloc(sizeof(*p));
	int rc = -1;

	memset(&req, 0, sizeof(req));
	req.ch.type = NVT_NVME_TCP_PDU_IC_REQ;
	req.ch.hlen = req.ch.plen = sizeof(req);
	req.hpda = hpda;
	req.dgst = (uint8_t)((hdgst ? 1 : 0) | (ddgst ? 2 : 0));
	if (send_all(c->fd, &req, sizeof(req)) == 0 && recv_pdu(c, p) == 0 &&
	    p->h.ch.type == NVT_NVME_TCP_PDU_IC_RESP) {
		c->hdgst = p->h.ic_resp.dgst & 1;
		c->ddgst = p->h.ic_resp.dgst & 2;
		rc = p->h.ic_resp.maxh2cdata >= 4096 ? 0 : -1;
	}
	free(p);
	return rc;
}

/* Send a capsule with optional in-capsule data; flags to corrupt digests. */
static int
send_capsule_ex(struct conn *c, const union nvt_nvme_sqe *sqe, const void *data, uint32_t len,
		bool bad_hdgst, bool bad_ddgst)
{
	uint8_t buf[72 + 4 + 8192 + 4];
	struct nvt_nvme_tcp_capsule_cmd *cmd = (void *)buf;
	uint32_t off = 72, d;

	memset(buf, 0, 76);
	cmd->ch.type = NVT_NVME_TCP_PDU_CAPSULE_CMD;
	cmd->ch.hlen = 72;
	cmd->sqe = *sqe;
	if (c->hdgst) {
		cmd->ch.flags |= NVT_NVME_TCP_F_HDGSTF;
		off += 4;
	}
	if (len > 0) {
		cmd->ch.pdo = (uint8_t)off;
		if (c->ddgst) {
			cmd->ch.flags |= NVT_NVME_TCP_F_DDGSTF;
		}
	}
	cmd->ch.plen = off + len + (len && c->ddgst ? 4 : 0);
	if (c->hdgst) {
		d = crc(buf, 72) ^ (bad_hdgst ? 1u : 0u);
		memcpy(buf + 72, &d, 4);
	}
	if (len > 0) {
		memcpy(buf + off, data, len);
	}
	if (len && c->ddgst) {
		d = crc(data, len) ^ (bad_ddgst ? 1u : 0u);
		memcpy(buf + off + len, &d, 4);
	}
	return send_all(c->fd, buf, cmd->ch.plen);
}

static int
send_capsule(struct conn *c, const union nvt_nvme_sqe *sqe, const void *data, uint32_t len)
{
	return send_capsule_ex(c, sqe, data, len, false, false);
}

static void
sgl_icd(union nvt_nvme_sqe *sqe, uint32_t len)
{
	nvt_nvme_sgl_set_unkeyed(&sqe->cmd.dptr.sgl1, NVT_NVME_SGL_TYPE_DATA_BLOCK,
				 NVT_NVME_SGL_SUBTYPE_OFFSET, 0, len);
	sqe->cmd.flags = 1u << NVT_NVME_CMD_PSDT_SHIFT;
}

static void
sgl_transport(union nvt_nvme_sqe *sqe, uint32_t len)
{
	nvt_nvme_sgl_set_unkeyed(&sqe->cmd.dptr.sgl1, NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
				 NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, len);
	sqe->cmd.flags = 1u << NVT_NVME_CMD_PSDT_SHIFT;
}

/* Wait for the response of a command; C2H data lands in \p data. Returns status or -1. */
static int
wait_rsp(struct conn *c, uint16_t cid, void *data, struct nvt_nvme_cpl *cpl_out)
{
	struct pdu *p = malloc(sizeof(*p));
	int rc = -1;

	while (recv_pdu(c, p) == 0) {
		if (p->h.ch.type == NVT_NVME_TCP_PDU_C2H_DATA && p->h.c2h_data.cccid == cid) {
			if (data) {
				memcpy((uint8_t *)data + p->h.c2h_data.datao, p->data, p->data_len);
			}
			if (p->h.ch.flags & NVT_NVME_TCP_F_SUCCESS) {
				rc = 0;
				break;
			}
		} else if (p->h.ch.type == NVT_NVME_TCP_PDU_CAPSULE_RESP &&
			   p->h.capsule_resp.cqe.cid == cid) {
			if (cpl_out) {
				*cpl_out = p->h.capsule_resp.cqe;
			}
			rc = p->h.capsule_resp.cqe.status & 0xfffe;
			break;
		} else if (p->h.ch.type == NVT_NVME_TCP_PDU_C2H_TERM_REQ) {
			break;
		}
	}
	free(p);
	return rc;
}

static int
fabrics_connect(struct conn *c, uint16_t qid, uint16_t sqsize)
{
	struct nvt_nvmf_connect_data data;
	union nvt_nvme_sqe sqe;
	struct nvt_nvme_cpl cpl;
	int st;

	memset(&sqe, 0, sizeof(sqe));
	memset(&data, 0, sizeof(data));
	sqe.connect.opc = NVT_NVME_OPC_FABRICS;
	sqe.connect.fctype = NVT_NVMF_FCTYPE_CONNECT;
	sqe.connect.cid = ++c->cid;
	sqe.connect.qid = qid;
	sqe.connect.sqsize = sqsize;
	sqe.connect.kato = qid ? 0 : 30000;
	sgl_icd(&sqe, sizeof(data));
	data.cntlid = qid ? c->cntlid : NVT_NVMF_CNTLID_DYNAMIC;
	snprintf(data.subnqn, sizeof(data.subnqn), "%s", SUBNQN);
	snprintf(data.hostnqn, sizeof(data.hostnqn), "%s", HOSTNQN);
	if (send_capsule(c, &sqe, &data, sizeof(data)) != 0) {
		return -1;
	}
	st = wait_rsp(c, sqe.connect.cid, NULL, &cpl);
	if (st == 0 && qid == 0) {
		c->cntlid = nvt_nvmf_connect_rsp_cntlid(&cpl);
	}
	return st;
}

static int
prop_set_cc_en(struct conn *c)
{
	union nvt_nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.prop_set.opc = NVT_NVME_OPC_FABRICS;
	sqe.prop_set.fctype = NVT_NVMF_FCTYPE_PROPERTY_SET;
	sqe.prop_set.cid = ++c->cid;
	sqe.prop_set.attrib = NVT_NVMF_PROP_SIZE_4;
	sqe.prop_set.ofst = NVT_NVME_PROP_CC;
	sqe.prop_set.value = NVT_NVME_CC_EN | (6u << NVT_NVME_CC_IOSQES_SHIFT) |
			     (4u << NVT_NVME_CC_IOCQES_SHIFT);
	if (send_capsule(c, &sqe, NULL, 0) != 0) {
		return -1;
	}
	return wait_rsp(c, sqe.prop_set.cid, NULL, NULL);
}

/* A connection with an admin queue and one I/O queue (a second socket). */
struct ctrl {
	struct conn admin;
	struct conn io;
};

static int
ctrl_open(struct ctrl *ctl, bool hdgst, bool ddgst)
{
	memset(ctl, 0, sizeof(*ctl));
	ctl->admin.fd = tcp_open();
	ctl->io.fd = tcp_open();
	if (ctl->admin.fd < 0 || ctl->io.fd < 0 || icreq(&ctl->admin, hdgst, ddgst, 0) != 0 ||
	    fabrics_connect(&ctl->admin, 0, 31) != 0 || prop_set_cc_en(&ctl->admin) != 0) {
		return -1;
	}
	usleep(100 * 1000);
	ctl->io.cntlid = ctl->admin.cntlid;
	if (icreq(&ctl->io, hdgst, ddgst, 0) != 0 || fabrics_connect(&ctl->io, 1, 31) != 0) {
		return -1;
	}
	return 0;
}

static void
ctrl_close(struct ctrl *ctl)
{
	close(ctl->io.fd);
	close(ctl->admin.fd);
}

static void
rw_sqe(union nvt_nvme_sqe *sqe, uint8_t opc, uint16_t cid, uint32_t nsid, uint64_t lba,
       uint32_t nblocks)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->cmd.opc = opc;
	sqe->cmd.cid = cid;
	sqe->cmd.nsid = nsid;
	sqe->cmd.cdw10 = (uint32_t)lba;
	sqe->cmd.cdw11 = (uint32_t)(lba >> 32);
	sqe->cmd.cdw12 = nblocks - 1;
}

static int
io_read(struct conn *c, uint32_t nsid, uint64_t lba, uint32_t nblocks, void *buf)
{
	union nvt_nvme_sqe sqe;

	rw_sqe(&sqe, NVT_NVME_OPC_READ, ++c->cid, nsid, lba, nblocks);
	sgl_transport(&sqe, nblocks * BLK);
	if (send_capsule(c, &sqe, NULL, 0) != 0) {
		return -1;
	}
	return wait_rsp(c, sqe.cmd.cid, buf, NULL);
}

static int
io_write_icd(struct conn *c, uint32_t nsid, uint64_t lba, uint32_t nblocks, const void *buf,
	     bool bad_ddgst)
{
	union nvt_nvme_sqe sqe;

	rw_sqe(&sqe, NVT_NVME_OPC_WRITE, ++c->cid, nsid, lba, nblocks);
	sgl_icd(&sqe, nblocks * BLK);
	if (send_capsule_ex(c, &sqe, buf, nblocks * BLK, false, bad_ddgst) != 0) {
		return -1;
	}
	return wait_rsp(c, sqe.cmd.cid, NULL, NULL);
}

/* Expect a C2HTermReq with \p fes (and \p fei unless UINT32_MAX), then the close. */
static int
expect_term(struct conn *c, uint16_t fes, uint32_t fei)
{
	struct pdu *p = malloc(sizeof(*p));
	uint8_t b;
	int rc;

	rc = recv_pdu(c, p);
	if (rc != 0 || p->h.ch.type != NVT_NVME_TCP_PDU_C2H_TERM_REQ) {
		fprintf(stderr, "  expected C2HTermReq, got rc %d type %u\n", rc, p->h.ch.type);
		free(p);
		return -1;
	}
	rc = 0;
	if (p->h.term_req.fes != fes ||
	    (fei != UINT32_MAX && nvt_nvme_tcp_term_req_fei(&p->h.term_req) != fei)) {
		fprintf(stderr, "  C2HTermReq fes %u fei %u, expected fes %u fei %u\n",
			p->h.term_req.fes, nvt_nvme_tcp_term_req_fei(&p->h.term_req), fes, fei);
		rc = -1;
	}
	if (p->h.ch.hlen != 24 || p->h.ch.plen < 24 || p->h.ch.plen > 24 + 128) {
		rc = -1;
	}
	free(p);
	if (recv(c->fd, &b, 1, 0) != 0) {
		fprintf(stderr, "  connection not closed after C2HTermReq\n");
		rc = -1;
	}
	return rc;
}

/* ---- daemon ---- */

/* The healthy controller still reads, and the daemon lives. */
static int
check_healthy(struct ctrl *h)
{
	static uint8_t buf[4096];

	CHECK(nvt_test_daemon_alive(&g_daemon), "nvtcpd died");
	CHECK(io_read(&h->io, 1, 0, 8, buf) == 0, "healthy read failed");
	CHECK(buf[0] == 0xa5 && buf[4095] == 0xa5, "healthy read data wrong");
	return 0;
}

static const char *g_config =
	"{ \"subsystems\": [\n"
	"%s"
	"  { \"subsystem\": \"bdev\", \"config\": [\n"
	"    { \"method\": \"bdev_malloc_create\", \"params\": { \"name\": \"Malloc0\",\n"
	"      \"num_blocks\": %d, \"block_size\": %d } } ] },\n"
	"  { \"subsystem\": \"nvmf\", \"config\": [\n"
	"    { \"method\": \"nvmf_create_transport\", \"params\": { \"trtype\": \"TCP\" } },\n"
	"    { \"method\": \"nvmf_create_subsystem\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"allow_any_host\": true } },\n"
	"    { \"method\": \"nvmf_subsystem_add_ns\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"namespace\": { \"bdev_name\": \"Malloc0\", \"nsid\": 1 } } },\n"
	"    { \"method\": \"nvmf_subsystem_add_listener\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"listen_address\": { \"trtype\": \"TCP\", \"adrfam\": \"IPv4\",\n"
	"        \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%d\" } } } ] } ] }\n";

/* nvtcpd on a configuration of its own in a temporary directory, listening. */
static int
daemon_start(char **argv)
{
	const char *sock = nvt_test_sock_config();
	char text[4096];
	int rc;

	if (sock == NULL) {
		fprintf(stderr, "FAIL: NVT_TEST_SOCK_IMPL names no socket implementation\n");
		return -EINVAL;
	}
	snprintf(text, sizeof(text), g_config, sock, NS_BLOCKS, BLK, SUBNQN, SUBNQN, SUBNQN,
		 g_port);
	rc = nvt_test_tmpdir_create(g_dir, sizeof(g_dir), "/tmp", "nvtcp-pdu-test");
	return rc == 0 ? nvt_test_daemon_start_config(&g_daemon, argv[1], g_dir, text, argv + 2)
		       : rc;
}

/* ---- malformed inputs ---- */

static int
raw_hdr(struct conn *c, uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo, uint32_t plen,
	uint32_t send_len)
{
	uint8_t buf[1024];
	struct nvt_nvme_tcp_common_hdr *ch = (void *)buf;

	if (send_len > sizeof(buf)) {
		return -1;
	}
	memset(buf, 0, sizeof(buf));
	ch->type = type;
	ch->flags = flags;
	ch->hlen = hlen;
	ch->pdo = pdo;
	ch->plen = plen;
	return send_all(c->fd, buf, send_len);
}

static int
test_header_errors(struct ctrl *h)
{
	const struct {
		const char *name;
		bool ic; /* ICReq first */
		uint8_t type, flags, hlen, pdo;
		uint32_t plen, send;
		uint16_t fes;
		uint32_t fei;
	} t[] = {
		{ "unknown type", true, 0x0a, 0, 24, 0, 24, 24, 1, 0 },
		{ "type 0x08", true, 0x08, 0, 24, 0, 24, 24, 1, 0 },
		{ "controller-to-host type", true, NVT_NVME_TCP_PDU_C2H_DATA, 0, 24, 24, 28, 28, 1,
		  0 },
		{ "capsule before ICReq", false, 4, 0, 72, 0, 72, 72, 2, UINT32_MAX },
		{ "H2CData before ICReq", false, 6, 0, 24, 24, 28, 28, 2, UINT32_MAX },
		{ "second ICReq", true, 0, 0, 128, 0, 128, 128, 2, UINT32_MAX },
		{ "ICReq bad plen", false, 0, 0, 128, 0, 132, 132, 1, 4 },
		{ "ICReq bad hlen", false, 0, 0, 64, 0, 128, 128, 1, 2 },
		{ "capsule bad hlen", true, 4, 0, 64, 0, 72, 72, 1, 2 },
		{ "capsule bad pdo", true, 4, 0, 72, 40, 72 + 512, 72 + 512, 1, 3 },
		{ "capsule plen < hlen", true, 4, 0, 72, 0, 60, 72, 1, 4 },
		{ "capsule huge icd", true, 4, 0, 72, 72, 72 + 1000000, 72, 5, UINT32_MAX },
		{ "capsule digest flag not negotiated", true, 4, 1, 72, 0, 76, 76, 1, 1 },
		{ "H2CData unknown ttag", true, 6, 4, 24, 24, 24 + 512, 24 + 512, 1, 10 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct conn c = { .fd = tcp_open() };

		fprintf(stderr, "  %s\n", t[i].name);
		CHECK(c.fd >= 0, "connect");
		if (t[i].ic) {
			CHECK(icreq(&c, false, false, 0) == 0, "icreq");
		}
		CHECK(raw_hdr(&c, t[i].type, t[i].flags, t[i].hlen, t[i].pdo, t[i].plen,
			      t[i].send) == 0,
		      "send");
		CHECK(expect_term(&c, t[i].fes, t[i].fei) == 0, "%s", t[i].name);
		close(c.fd);
		if (check_healthy(h) != 0) {
			return -1;
		}
	}
	return 0;
}

static int
test_icreq_bad_pfv(struct ctrl *h)
{
	struct nvt_nvme_tcp_ic_req req;
	struct conn c = { .fd = tcp_open() };

	memset(&req, 0, sizeof(req));
	req.ch.type = NVT_NVME_TCP_PDU_IC_REQ;
	req.ch.hlen = req.ch.plen = sizeof(req);
	req.pfv = 1;
	CHECK(send_all(c.fd, &req, sizeof(req)) == 0, "send");
	CHECK(expect_term(&c, 1, 8) == 0, "bad pfv");
	close(c.fd);
	return check_healthy(h);
}

static int
test_bad_hdgst(struct ctrl *h)
{
	union nvt_nvme_sqe sqe;
	struct conn c = { .fd = tcp_open() };

	CHECK(icreq(&c, true, false, 0) == 0 && c.hdgst, "icreq with hdgst");
	memset(&sqe, 0, sizeof(sqe));
	sqe.cmd.opc = NVT_NVME_OPC_KEEP_ALIVE;
	CHECK(send_capsule_ex(&c, &sqe, NULL, 0, true, false) == 0, "send");
	CHECK(expect_term(&c, NVT_NVME_TCP_FES_HEADER_DIGEST_ERROR, UINT32_MAX) == 0, "hdgst");
	close(c.fd);
	return check_healthy(h);
}

/* Data digest error: the command fails with Transient Transport Error, the queue lives. */
static int
test_bad_ddgst(struct ctrl *h)
{
	static uint8_t buf[4096];
	struct ctrl d;
	int st;

	memset(buf, 0x3c, sizeof(buf));
	CHECK(ctrl_open(&d, true, true) == 0, "connect with digests");
	CHECK(d.io.hdgst && d.io.ddgst, "digests granted");
	st = io_write_icd(&d.io, 1, 100, 8, buf, true);
	CHECK(nvt_nvme_status_sc((uint16_t)st) == NVT_NVME_SC_TRANSIENT_TRANSPORT_ERROR,
	      "status 0x%x", st);
	CHECK(io_write_icd(&d.io, 1, 100, 8, buf, false) == 0, "good write after bad digest");
	memset(buf, 0, sizeof(buf));
	CHECK(io_read(&d.io, 1, 100, 8, buf) == 0 && buf[0] == 0x3c, "read back with digests");
	ctrl_close(&d);
	return check_healthy(h);
}

/* H2C data beyond the R2T's transfer: Data Transfer Out of Range. */
static int
test_h2c_out_of_range(struct ctrl *h)
{
	static uint8_t buf[24 + 8192 + 512];
	struct nvt_nvme_tcp_h2c_data *h2c = (void *)buf;
	union nvt_nvme_sqe sqe;
	struct pdu *p = malloc(sizeof(*p));
	struct ctrl d;
	int rc;

	CHECK(ctrl_open(&d, false, false) == 0, "connect");
	rw_sqe(&sqe, NVT_NVME_OPC_WRITE, ++d.io.cid, 1, 0, 16);
	sgl_transport(&sqe, 8192);
	CHECK(send_capsule(&d.io, &sqe, NULL, 0) == 0, "send write");
	rc = recv_pdu(&d.io, p);
	CHECK(rc == 0 && p->h.ch.type == NVT_NVME_TCP_PDU_R2T, "R2T expected");
	CHECK(p->h.r2t.r2tl == 8192 && p->h.r2t.r2to == 0, "R2T range");
	memset(buf, 0, sizeof(buf));
	h2c->ch.type = NVT_NVME_TCP_PDU_H2C_DATA;
	h2c->ch.flags = NVT_NVME_TCP_F_LAST_PDU;
	h2c->ch.hlen = 24;
	h2c->ch.pdo = 24;
	h2c->ch.plen = 24 + 8192 + 512;
	h2c->cccid = sqe.cmd.cid;
	h2c->ttag = p->h.r2t.ttag;
	h2c->datal = 8192 + 512;
	free(p);
	CHECK(send_all(d.io.fd, buf, sizeof(buf)) == 0, "send h2c");
	CHECK(expect_term(&d.io, NVT_NVME_TCP_FES_DATA_OUT_OF_RANGE, UINT32_MAX) == 0, "range");
	ctrl_close(&d);
	return check_healthy(h);
}

/* A full R2T write that is correct, for contrast, then command-level errors. */
static int
test_command_errors(struct ctrl *h)
{
	static uint8_t buf[4096];
	union nvt_nvme_sqe sqe;
	int st;

	memset(buf, 0x11, sizeof(buf));
	rw_sqe(&sqe, 0x7e, ++h->io.cid, 1, 0, 1);
	CHECK(send_capsule(&h->io, &sqe, NULL, 0) == 0, "send");
	st = wait_rsp(&h->io, sqe.cmd.cid, NULL, NULL);
	CHECK(st > 0 && nvt_nvme_status_sc((uint16_t)st) == NVT_NVME_SC_INVALID_OPCODE,
	      "unknown opcode status 0x%x", st);

	st = io_read(&h->io, 99, 0, 1, buf);
	CHECK(st > 0 && nvt_nvme_status_sc((uint16_t)st) == NVT_NVME_SC_INVALID_NAMESPACE,
	      "invalid nsid status 0x%x", st);

	st = io_read(&h->io, 1, NS_BLOCKS, 1, buf);
	CHECK(st > 0 && nvt_nvme_status_sc((uint16_t)st) == NVT_NVME_SC_LBA_OUT_OF_RANGE,
	      "lba out of range status 0x%x", st);

	st = io_write_icd(&h->io, 1, NS_BLOCKS - 1, 2, buf, false);
	CHECK(st > 0 && nvt_nvme_status_sc((uint16_t)st) == NVT_NVME_SC_LBA_OUT_OF_RANGE,
	      "write lba out of range status 0x%x", st);

	/* SGL longer than max_io_size */
	rw_sqe(&sqe, NVT_NVME_OPC_READ, ++h->io.cid, 1, 0, 1);
	sgl_transport(&sqe, 64u << 20);
	CHECK(send_capsule(&h->io, &sqe, NULL, 0) == 0, "send");
	st = wait_rsp(&h->io, sqe.cmd.cid, NULL, NULL);
	CHECK(st > 0 && nvt_nvme_status_sc((uint16_t)st) == NVT_NVME_SC_DATA_SGL_LENGTH_INVALID,
	      "sgl too long status 0x%x", st);
	return check_healthy(h);
}

/* H2CTermReq: the target closes without answering. */
static int
test_h2c_term_req(struct ctrl *h)
{
	struct conn c = { .fd = tcp_open() };
	uint8_t b;

	CHECK(icreq(&c, false, false, 0) == 0, "icreq");
	CHECK(raw_hdr(&c, NVT_NVME_TCP_PDU_H2C_TERM_REQ, 0, 24, 0, 24, 24) == 0, "send");
	CHECK(recv(c.fd, &b, 1, 0) == 0, "closed");
	close(c.fd);
	return check_healthy(h);
}

/* Peer vanishes mid-PDU and mid-transfer: the target cleans up. */
static int
test_abrupt_close(struct ctrl *h)
{
	union nvt_nvme_sqe sqe;
	struct ctrl d;

	CHECK(ctrl_open(&d, false, false) == 0, "connect");
	rw_sqe(&sqe, NVT_NVME_OPC_WRITE, ++d.io.cid, 1, 0, 16);
	sgl_transport(&sqe, 8192);
	CHECK(send_capsule(&d.io, &sqe, NULL, 0) == 0, "send write");
	CHECK(raw_hdr(&d.io, 4, 0, 72, 0, 72, 30) == 0, "half a header");
	ctrl_close(&d);
	usleep(100 * 1000);
	return check_healthy(h);
}

static int
test_hpda_padding(struct ctrl *h)
{
	static uint8_t buf[4096];
	struct ctrl d;

	(void)h;
	memset(&d, 0, sizeof(d));
	d.admin.fd = tcp_open();
	CHECK(icreq(&d.admin, false, false, 7) == 0, "icreq hpda 7");
	CHECK(fabrics_connect(&d.admin, 0, 31) == 0, "connect with hpda");
	close(d.admin.fd);
	(void)buf;
	return 0;
}

int
main(int argc, char **argv)
{
	static uint8_t buf[4096];
	struct ctrl h;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: %s <nvtcpd> [args...]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	g_port = nvt_test_free_port();
	if (g_port < 0 || daemon_start(argv) != 0) {
		fprintf(stderr, "nvtcpd did not start listening on port %d\n", g_port);
		nvt_test_tmpdir_remove(g_dir);
		return 1;
	}
	if (ctrl_open(&h, false, false) != 0) {
		fprintf(stderr, "healthy controller: connect failed\n");
		g_failures++;
		goto out;
	}
	memset(buf, 0xa5, sizeof(buf));
	if (io_write_icd(&h.io, 1, 0, 8, buf, false) != 0) {
		fprintf(stderr, "healthy controller: write failed\n");
		g_failures++;
		goto out;
	}
	if (nvt_test_daemon_check_sock(&g_daemon) != 0) {
		fprintf(stderr, "FAIL: nvtcpd does not use the socket implementation asked for\n");
		g_failures++;
	}
	test_header_errors(&h);
	test_icreq_bad_pfv(&h);
	test_bad_hdgst(&h);
	test_bad_ddgst(&h);
	test_h2c_out_of_range(&h);
	test_command_errors(&h);
	test_h2c_term_req(&h);
	test_abrupt_close(&h);
	test_hpda_padding(&h);
	check_healthy(&h);
	ctrl_close(&h);
out:
	rc = nvt_test_daemon_stop(&g_daemon);
	nvt_test_tmpdir_remove(g_dir);
	if (rc != 0) {
		fprintf(stderr, "nvtcpd did not exit with status 0 on SIGTERM\n");
		g_failures++;
	}
	fprintf(stderr, "%s: %d failure(s)\n", argv[0], g_failures);
	return g_failures ? 1 : 0;
}
