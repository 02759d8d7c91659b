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
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nvtcp/nvme_spec.h"
#include "nvtcp/nvme_tcp.h"

#include "test_daemon.h"
#include "test_tcp.h"
#include "test_util.h"

#define SUBNQN	  "nqn.2016-06.io.nvtcp:pdu-test"
#define HOSTNQN	  "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
#define NS_BLOCKS 2048 /* 1 MiB of 512-byte blocks */
#define BLK	  512
/* The longest wait for anything from the target, in milliseconds. */
#define TIMEOUT_MS 5000

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

/* A connection with an admin queue and one I/O queue (a second socket). */
struct ctrl {
	struct nvt_test_conn admin;
	struct nvt_test_conn io;
};

/* A connection to the daemon, not yet initialised by ICReq. */
static int
conn_open(struct nvt_test_conn *c)
{
	nvt_test_tcp_init(c);
	c->timeout_ms = TIMEOUT_MS;
	return nvt_test_tcp_open(c, "127.0.0.1", (uint16_t)g_port);
}

/* Fabrics Connect of queue \p qid as this suite's host (\p cntlid: the controller an I/O queue joins). */
static int
queue_connect(struct nvt_test_conn *c, uint16_t qid, uint16_t cntlid)
{
	struct nvt_test_connect_opts o = {
		.subnqn = SUBNQN,
		.hostnqn = HOSTNQN,
		.qid = qid,
		.sqsize = 31,
		.kato_ms = qid ? 0 : 30000,
		.cntlid = cntlid,
	};

	return nvt_test_tcp_fabrics_connect(c, &o);
}

static int
ctrl_open(struct ctrl *ctl, bool hdgst, bool ddgst)
{
	int rc_admin = conn_open(&ctl->admin), rc_io = conn_open(&ctl->io);

	if (rc_admin != 0 || rc_io != 0 || nvt_test_tcp_icreq(&ctl->admin, 0, hdgst, ddgst) != 0 ||
	    queue_connect(&ctl->admin, 0, 0) != 0 || nvt_test_tcp_enable_ctrlr(&ctl->admin) != 0) {
		return -1;
	}
	usleep(100 * 1000);
	if (nvt_test_tcp_icreq(&ctl->io, 0, hdgst, ddgst) != 0 ||
	    queue_connect(&ctl->io, 1, ctl->admin.cntlid) != 0) {
		return -1;
	}
	return 0;
}

static void
ctrl_close(struct ctrl *ctl)
{
	nvt_test_tcp_close(&ctl->io);
	nvt_test_tcp_close(&ctl->admin);
}

/* Expect a C2HTermReq with \p fes (and \p fei unless UINT32_MAX), then the close. */
static int
expect_term(struct nvt_test_conn *c, uint16_t fes, uint32_t fei)
{
	struct nvt_test_pdu p;
	int rc;

	memset(&p, 0, sizeof(p));
	rc = nvt_test_tcp_expect_term(c, fes, fei, &p);
	if (rc == -ENOMSG || rc == -EPROTO || rc == -EBADMSG) {
		fprintf(stderr,
			"  got type %u fes %u fei %u hlen %u plen %u, expected fes %u fei %u\n",
			p.h.ch.type, p.h.term_req.fes, nvt_nvme_tcp_term_req_fei(&p.h.term_req),
			p.h.ch.hlen, p.h.ch.plen, fes, fei);
	} else if (rc != 0) {
		fprintf(stderr, "  C2HTermReq and close: rc %d (%s)\n", rc, strerror(-rc));
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
	CHECK(nvt_test_tcp_read(&h->io, 1, 0, 8, BLK, buf) == 0, "healthy read failed");
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
	struct nvt_test_conn c;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fprintf(stderr, "  %s\n", t[i].name);
		CHECK(conn_open(&c) == 0, "connect");
		if (t[i].ic) {
			CHECK(nvt_test_tcp_icreq(&c, 0, false, false) == 0, "icreq");
		}
		CHECK(nvt_test_tcp_send_hdr_raw(&c, t[i].type, t[i].flags, t[i].hlen, t[i].pdo,
						t[i].plen, t[i].send) == 0,
		      "send");
		CHECK(expect_term(&c, t[i].fes, t[i].fei) == 0, "%s", t[i].name);
		nvt_test_tcp_close(&c);
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
	struct nvt_test_conn c;

	CHECK(conn_open(&c) == 0, "connect");
	nvt_test_tcp_icreq_init(&req, 0, false, false);
	req.pfv = 1;
	CHECK(nvt_test_tcp_send(&c, &req, sizeof(req)) == 0, "send");
	CHECK(expect_term(&c, 1, 8) == 0, "bad pfv");
	nvt_test_tcp_close(&c);
	return check_healthy(h);
}

static int
test_bad_hdgst(struct ctrl *h)
{
	union nvt_nvme_sqe sqe;
	struct nvt_test_conn c;

	CHECK(conn_open(&c) == 0, "connect");
	CHECK(nvt_test_tcp_icreq(&c, 0, true, false) == 0 && c.hdgst, "icreq with hdgst");
	memset(&sqe, 0, sizeof(sqe));
	sqe.cmd.opc = NVT_NVME_OPC_KEEP_ALIVE;
	CHECK(nvt_test_tcp_capsule_send(&c, &sqe, NULL, 0, NVT_TEST_TCP_BAD_HDGST) == 0, "send");
	CHECK(expect_term(&c, NVT_NVME_TCP_FES_HEADER_DIGEST_ERROR, UINT32_MAX) == 0, "hdgst");
	nvt_test_tcp_close(&c);
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
	st = nvt_test_tcp_write_icd(&d.io, 1, 100, 8, BLK, buf, true);
	CHECK(st >= 0 && nvt_nvme_status_sc((uint16_t)st) == NVT_NVME_SC_TRANSIENT_TRANSPORT_ERROR,
	      "status 0x%x", st);
	CHECK(nvt_test_tcp_write_icd(&d.io, 1, 100, 8, BLK, buf, false) == 0,
	      "good write after bad digest");
	memset(buf, 0, sizeof(buf));
	CHECK(nvt_test_tcp_read(&d.io, 1, 100, 8, BLK, buf) == 0 && buf[0] == 0x3c,
	      "read back with digests");
	ctrl_close(&d);
	return check_healthy(h);
}

/* H2C data beyond the R2T's transfer: Data Transfer Out of Range. */
static int
test_h2c_out_of_range(struct ctrl *h)
{
	static uint8_t buf[24 + 8192 + 512];
	union nvt_nvme_tcp_pdu_hdr h2c;
	union nvt_nvme_sqe sqe;
	struct nvt_test_pdu p;
	struct ctrl d;
	ssize_t len;

	CHECK(ctrl_open(&d, false, false) == 0, "connect");
	nvt_test_tcp_sqe_rw(&sqe, NVT_NVME_OPC_WRITE, nvt_test_tcp_next_cid(&d.io), 1, 0, 16);
	nvt_test_tcp_sqe_sgl_transport(&sqe, 8192);
	CHECK(nvt_test_tcp_capsule_send(&d.io, &sqe, NULL, 0, 0) == 0, "send write");
	CHECK(nvt_test_tcp_recv_pdu(&d.io, &p, NULL, 0) == 0 && p.h.ch.type == NVT_NVME_TCP_PDU_R2T,
	      "R2T expected");
	CHECK(p.h.r2t.r2tl == 8192 && p.h.r2t.r2to == 0, "R2T range");
	/* All of the R2T's data and 512 bytes more, in one PDU of zeros. */
	nvt_test_tcp_hdr_init(&h2c, NVT_NVME_TCP_PDU_H2C_DATA);
	h2c.ch.flags = NVT_NVME_TCP_F_LAST_PDU;
	h2c.h2c_data.cccid = sqe.cmd.cid;
	h2c.h2c_data.ttag = p.h.r2t.ttag;
	h2c.h2c_data.datal = 8192 + 512;
	len = nvt_test_tcp_pdu_build(&d.io, &h2c, NULL, 8192 + 512, 0, buf, sizeof(buf));
	CHECK(len == (ssize_t)sizeof(buf), "build h2c: %zd", len);
	CHECK(nvt_test_tcp_send(&d.io, buf, (size_t)len) == 0, "send h2c");
	CHECK(expect_term(&d.io, NVT_NVME_TCP_FES_DATA_OUT_OF_RANGE, UINT32_MAX) == 0, "range");
	ctrl_close(&d);
	return check_healthy(h);
}

/* Send \p sqe without data and wait for its status. */
static int
command_status(struct nvt_test_conn *c, const union nvt_nvme_sqe *sqe)
{
	int rc = nvt_test_tcp_capsule_send(c, sqe, NULL, 0, 0);

	return rc != 0 ? rc : nvt_test_tcp_wait_rsp(c, sqe->cmd.cid, NULL, NULL, 0, NULL);
}

/* Command-level errors: an NVMe status each, and the queue goes on. */
static int
test_command_errors(struct ctrl *h)
{
	static uint8_t buf[4096];
	union nvt_nvme_sqe sqe;
	int st;

	memset(buf, 0x11, sizeof(buf));
	nvt_test_tcp_sqe_rw(&sqe, 0x7e, nvt_test_tcp_next_cid(&h->io), 1, 0, 1);
	st = command_status(&h->io, &sqe);
	CHECK(st > 0 && nvt_nvme_status_sc((uint16_t)st) == NVT_NVME_SC_INVALID_OPCODE,
	      "unknown opcode status 0x%x", st);

	st = nvt_test_tcp_read(&h->io, 99, 0, 1, BLK, buf);
	CHECK(st > 0 && nvt_nvme_status_sc((uint16_t)st) == NVT_NVME_SC_INVALID_NAMESPACE,
	      "invalid nsid status 0x%x", st);

	st = nvt_test_tcp_read(&h->io, 1, NS_BLOCKS, 1, BLK, buf);
	CHECK(st > 0 && nvt_nvme_status_sc((uint16_t)st) == NVT_NVME_SC_LBA_OUT_OF_RANGE,
	      "lba out of range status 0x%x", st);

	st = nvt_test_tcp_write_icd(&h->io, 1, NS_BLOCKS - 1, 2, BLK, buf, false);
	CHECK(st > 0 && nvt_nvme_status_sc((uint16_t)st) == NVT_NVME_SC_LBA_OUT_OF_RANGE,
	      "write lba out of range status 0x%x", st);

	/* SGL longer than max_io_size */
	nvt_test_tcp_sqe_rw(&sqe, NVT_NVME_OPC_READ, nvt_test_tcp_next_cid(&h->io), 1, 0, 1);
	nvt_test_tcp_sqe_sgl_transport(&sqe, 64u << 20);
	st = command_status(&h->io, &sqe);
	CHECK(st > 0 && nvt_nvme_status_sc((uint16_t)st) == NVT_NVME_SC_DATA_SGL_LENGTH_INVALID,
	      "sgl too long status 0x%x", st);
	return check_healthy(h);
}

/* H2CTermReq: the target closes without answering. */
static int
test_h2c_term_req(struct ctrl *h)
{
	struct nvt_test_conn c;

	CHECK(conn_open(&c) == 0, "connect");
	CHECK(nvt_test_tcp_icreq(&c, 0, false, false) == 0, "icreq");
	CHECK(nvt_test_tcp_send_hdr_raw(&c, NVT_NVME_TCP_PDU_H2C_TERM_REQ, 0, 24, 0, 24, 24) == 0,
	      "send");
	CHECK(nvt_test_tcp_expect_closed(&c) == 0, "closed");
	nvt_test_tcp_close(&c);
	return check_healthy(h);
}

/* Peer vanishes mid-PDU and mid-transfer: the target cleans up. */
static int
test_abrupt_close(struct ctrl *h)
{
	union nvt_nvme_sqe sqe;
	struct ctrl d;

	CHECK(ctrl_open(&d, false, false) == 0, "connect");
	nvt_test_tcp_sqe_rw(&sqe, NVT_NVME_OPC_WRITE, nvt_test_tcp_next_cid(&d.io), 1, 0, 16);
	nvt_test_tcp_sqe_sgl_transport(&sqe, 8192);
	CHECK(nvt_test_tcp_capsule_send(&d.io, &sqe, NULL, 0, 0) == 0, "send write");
	CHECK(nvt_test_tcp_send_hdr_raw(&d.io, 4, 0, 72, 0, 72, 30) == 0, "half a header");
	ctrl_close(&d);
	usleep(100 * 1000);
	return check_healthy(h);
}

static int
test_hpda_padding(struct ctrl *h)
{
	struct nvt_test_conn c;

	(void)h;
	CHECK(conn_open(&c) == 0, "connect");
	CHECK(nvt_test_tcp_icreq(&c, 7, false, false) == 0, "icreq hpda 7");
	CHECK(queue_connect(&c, 0, 0) == 0, "connect with hpda");
	nvt_test_tcp_close(&c);
	return 0;
}

/*
 * A well-formed write through R2T and H2CData, with both digests, for
 * contrast. Run last: after a completed R2T write, test_abrupt_close() far
 * more often catches nvtcpd aborting the transfer in the window where it
 * frees the qpair while still walking its requests (a use-after-free).
 */
static int
test_r2t_write_digests(struct ctrl *h)
{
	static uint8_t buf[4096];
	struct ctrl d;

	CHECK(ctrl_open(&d, true, true) == 0, "connect with digests");
	memset(buf, 0x4b, sizeof(buf));
	CHECK(nvt_test_tcp_write(&d.io, 1, 200, 8, BLK, buf) == 0, "R2T write with digests");
	memset(buf, 0, sizeof(buf));
	CHECK(nvt_test_tcp_read(&d.io, 1, 200, 8, BLK, buf) == 0 && buf[0] == 0x4b &&
		      buf[4095] == 0x4b,
	      "read back the R2T write");
	ctrl_close(&d);
	return check_healthy(h);
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
	if (nvt_test_tcp_write_icd(&h.io, 1, 0, 8, BLK, buf, false) != 0) {
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
	test_r2t_write_digests(&h);
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
