/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Idle NVMe/TCP queue pairs for bench/nvmf/qpair_mem.sh: a raw host that opens
 * controllers, each an admin queue and some I/O queues (ICReq, Fabrics Connect
 * and, for the admin queue, CC.EN), then holds them open doing nothing, or
 * sending a Keep Alive on every admin queue at a fixed interval.
 *
 *   idle_qpairs -p port [-a addr] [-n subnqn] [-c ctrlrs] [-q io_queues]
 *               [-s sqsize] [-k kato_ms] [-i keep_alive_interval_ms]
 *
 * Defaults: 10 controllers of 99 I/O queues (1,000 queue pairs with the admin
 * queues), SQSIZE 127 (depth 128) on every queue, KATO 0 (no keep alive).
 * Prints "connected=N" once all N queue pairs are up, then runs until SIGINT
 * or SIGTERM; exits 1 if a connection fails or the target drops one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nvtcp/nvme_spec.h"
#include "nvtcp/nvme_tcp.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6e767463-702d-6265-6e63-680000000001"

struct idle_opts {
	const char *addr;
	int port;
	const char *subnqn;
	int ctrlrs;
	int io_queues;
	uint16_t sqsize;
	uint32_t kato_ms;
	uint32_t ka_interval_ms;
};

struct idle_conn {
	int fd;
	uint16_t cid;
};

struct idle_ctrlr {
	struct idle_conn admin;
	struct idle_conn *io;
	uint16_t cntlid;
};

static struct idle_opts g_opts = {
	.addr = "127.0.0.1",
	.subnqn = "nqn.2016-06.io.nvtcp:cnode1",
	.ctrlrs = 10,
	.io_queues = 99,
	.sqsize = 127,
};
static volatile sig_atomic_t g_stop;

static void
on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* ---- raw socket helpers ---- */

static int
tcp_open(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)g_opts.port) };
	struct timeval tv = { .tv_sec = 10 };
	int fd, one = 1;

	if (inet_pton(AF_INET, g_opts.addr, &sa.sin_addr) != 1) {
		return -EINVAL;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int
send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0) {
			return n == 0 ? -EPIPE : -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = recv(fd, p, len, 0);
		if (n <= 0) {
			return n == 0 ? -ECONNRESET : -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One PDU header (no digests are negotiated); any data behind it is skipped. */
static int
recv_pdu(int fd, union nvt_nvme_tcp_pdu_hdr *h)
{
	uint8_t skip[512];
	uint32_t rest;
	int rc;

	rc = recv_all(fd, &h->ch, sizeof(h->ch));
	if (rc != 0) {
		return rc;
	}
	if (h->ch.hlen < sizeof(h->ch) || h->ch.hlen > sizeof(*h) || h->ch.plen < h->ch.hlen) {
		return -EPROTO;
	}
	rc = recv_all(fd, h->raw + sizeof(h->ch), h->ch.hlen - sizeof(h->ch));
	for (rest = h->ch.plen - h->ch.hlen; rc == 0 && rest > 0;) {
		uint32_t n = rest < sizeof(skip) ? rest : (uint32_t)sizeof(skip);

		rc = recv_all(fd, skip, n);
		rest -= n;
	}
	return rc;
}

/* ---- NVMe/TCP ---- */

static int
icreq_send(struct idle_conn *c)
{
	struct nvt_nvme_tcp_ic_req req;

	memset(&req, 0, sizeof(req));
	req.ch.type = NVT_NVME_TCP_PDU_IC_REQ;
	req.ch.hlen = req.ch.plen = sizeof(req);
	req.pfv = NVT_NVME_TCP_PFV_1_0;
	return send_all(c->fd, &req, sizeof(req));
}

static int
icresp_recv(struct idle_conn *c)
{
	union nvt_nvme_tcp_pdu_hdr h;
	int rc = recv_pdu(c->fd, &h);

	if (rc == 0 && h.ch.type != NVT_NVME_TCP_PDU_IC_RESP) {
		rc = -EPROTO;
	}
	return rc;
}

static int
capsule_send(struct idle_conn *c, const union nvt_nvme_sqe *sqe, const void *data, uint32_t len)
{
	uint8_t buf[sizeof(struct nvt_nvme_tcp_capsule_cmd) + sizeof(struct nvt_nvmf_connect_data)];
	struct nvt_nvme_tcp_capsule_cmd *cmd = (void *)buf;

	if (len > sizeof(buf) - sizeof(*cmd)) {
		return -EINVAL;
	}
	memset(cmd, 0, sizeof(*cmd));
	cmd->ch.type = NVT_NVME_TCP_PDU_CAPSULE_CMD;
	cmd->ch.hlen = sizeof(*cmd);
	cmd->ch.pdo = len > 0 ? sizeof(*cmd) : 0;
	cmd->ch.plen = (uint32_t)sizeof(*cmd) + len;
	cmd->sqe = *sqe;
	memcpy(buf + sizeof(*cmd), data, len);
	return send_all(c->fd, buf, cmd->ch.plen);
}

/* The response to command cid: 0, the NVMe status (>0) or -errno. */
static int
rsp_recv(struct idle_conn *c, uint16_t cid, struct nvt_nvme_cpl *cpl)
{
	union nvt_nvme_tcp_pdu_hdr h;
	int rc;

	for (;;) {
		rc = recv_pdu(c->fd, &h);
		if (rc != 0) {
			return rc;
		}
		if (h.ch.type == NVT_NVME_TCP_PDU_C2H_TERM_REQ) {
			return -EPROTO;
		}
		if (h.ch.type == NVT_NVME_TCP_PDU_CAPSULE_RESP && h.capsule_resp.cqe.cid == cid) {
			if (cpl != NULL) {
				*cpl = h.capsule_resp.cqe;
			}
			return (h.capsule_resp.cqe.status & 0xfffe) >> 1;
		}
	}
}

static void
sgl_icd(union nvt_nvme_sqe *sqe, uint32_t len)
{
	nvt_nvme_sgl_set_unkeyed(&sqe->cmd.dptr.sgl1, NVT_NVME_SGL_TYPE_DATA_BLOCK,
				 NVT_NVME_SGL_SUBTYPE_OFFSET, 0, len);
	sqe->cmd.flags = 1u << NVT_NVME_CMD_PSDT_SHIFT;
}

static int
connect_send(struct idle_conn *c, uint16_t qid, uint16_t cntlid)
{
	struct nvt_nvmf_connect_data data;
	union nvt_nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	memset(&data, 0, sizeof(data));
	sqe.connect.opc = NVT_NVME_OPC_FABRICS;
	sqe.connect.fctype = NVT_NVMF_FCTYPE_CONNECT;
	sqe.connect.cid = ++c->cid;
	sqe.connect.qid = qid;
	sqe.connect.sqsize = g_opts.sqsize;
	sqe.connect.kato = qid == 0 ? g_opts.kato_ms : 0;
	sgl_icd(&sqe, sizeof(data));
	data.cntlid = cntlid;
	snprintf(data.subnqn, sizeof(data.subnqn), "%s", g_opts.subnqn);
	snprintf(data.hostnqn, sizeof(data.hostnqn), "%s", HOSTNQN);
	return capsule_send(c, &sqe, &data, sizeof(data));
}

static int
cc_enable(struct idle_conn *c)
{
	union nvt_nvme_sqe sqe;
	int rc;

	memset(&sqe, 0, sizeof(sqe));
	sqe.prop_set.opc = NVT_NVME_OPC_FABRICS;
	sqe.prop_set.fctype = NVT_NVMF_FCTYPE_PROPERTY_SET;
	sqe.prop_set.cid = ++c->cid;
	sqe.prop_set.attrib = NVT_NVMF_PROP_SIZE_4;
	sqe.prop_set.ofst = NVT_NVME_PROP_CC;
	sqe.prop_set.value = NVT_NVME_CC_EN | (6u << NVT_NVME_CC_IOSQES_SHIFT) |
			     (4u << NVT_NVME_CC_IOCQES_SHIFT);
	rc = capsule_send(c, &sqe, NULL, 0);
	return rc != 0 ? rc : rsp_recv(c, sqe.prop_set.cid, NULL);
}

static int
keep_alive(struct idle_conn *c)
{
	union nvt_nvme_sqe sqe;
	int rc;

	memset(&sqe, 0, sizeof(sqe));
	sqe.cmd.opc = NVT_NVME_OPC_KEEP_ALIVE;
	sqe.cmd.cid = ++c->cid;
	rc = capsule_send(c, &sqe, NULL, 0);
	return rc != 0 ? rc : rsp_recv(c, sqe.cmd.cid, NULL);
}

static int
ctrlr_open_admin(struct idle_ctrlr *ctrlr)
{
	struct nvt_nvme_cpl cpl;
	int rc;

	ctrlr->admin.fd = tcp_open();
	if (ctrlr->admin.fd < 0) {
		return ctrlr->admin.fd;
	}
	rc = icreq_send(&ctrlr->admin);
	rc = rc != 0 ? rc : icresp_recv(&ctrlr->admin);
	rc = rc != 0 ? rc : connect_send(&ctrlr->admin, 0, NVT_NVMF_CNTLID_DYNAMIC);
	rc = rc != 0 ? rc : rsp_recv(&ctrlr->admin, ctrlr->admin.cid, &cpl);
	if (rc != 0) {
		return rc;
	}
	ctrlr->cntlid = nvt_nvmf_connect_rsp_cntlid(&cpl);
	return cc_enable(&ctrlr->admin);
}

/* The I/O queues of a controller, each step on all of them before the next. */
static int
ctrlr_open_io(struct idle_ctrlr *ctrlr)
{
	int i, rc = 0;

	for (i = 0; i < g_opts.io_queues && rc == 0; i++) {
		ctrlr->io[i].fd = tcp_open();
		rc = ctrlr->io[i].fd < 0 ? ctrlr->io[i].fd : icreq_send(&ctrlr->io[i]);
	}
	for (i = 0; i < g_opts.io_queues && rc == 0; i++) {
		rc = icresp_recv(&ctrlr->io[i]);
		rc = rc != 0 ? rc : connect_send(&ctrlr->io[i], (uint16_t)(i + 1), ctrlr->cntlid);
	}
	for (i = 0; i < g_opts.io_queues && rc == 0; i++) {
		rc = rsp_recv(&ctrlr->io[i], ctrlr->io[i].cid, NULL);
		if (rc != 0) {
			fprintf(stderr, "idle_qpairs: cntlid %u qid %d: connect: %s%d\n",
				ctrlr->cntlid, i + 1, rc > 0 ? "NVMe status 0x" : "rc ", rc);
		}
	}
	return rc;
}

/* ---- main loop ---- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Any readable socket while idle means the target closed it (or sent a termination). */
static int
watch(struct pollfd *pfds, int n, int timeout_ms)
{
	int i, rc = poll(pfds, (nfds_t)n, timeout_ms);

	if (rc < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	for (i = 0; i < n && rc > 0; i++) {
		if (pfds[i].revents != 0) {
			fprintf(stderr, "idle_qpairs: connection %d closed by the target\n", i);
			return -ECONNRESET;
		}
	}
	return 0;
}

static int
hold(struct idle_ctrlr *ctrlrs, int nqpairs)
{
	struct pollfd *pfds = calloc((size_t)nqpairs, sizeof(*pfds));
	uint64_t next_ka = now_ms() + g_opts.ka_interval_ms;
	int c, i, n = 0, rc = 0;

	if (pfds == NULL) {
		return -ENOMEM;
	}
	for (c = 0; c < g_opts.ctrlrs; c++) {
		pfds[n++] = (struct pollfd){ .fd = ctrlrs[c].admin.fd, .events = POLLIN };
		for (i = 0; i < g_opts.io_queues; i++) {
			pfds[n++] = (struct pollfd){ .fd = ctrlrs[c].io[i].fd, .events = POLLIN };
		}
	}
	while (!g_stop && rc == 0) {
		rc = watch(pfds, n, g_opts.ka_interval_ms ? 100 : 1000);
		if (rc != 0 || g_opts.ka_interval_ms == 0 || now_ms() < next_ka) {
			continue;
		}
		for (c = 0; c < g_opts.ctrlrs && rc == 0; c++) {
			rc = keep_alive(&ctrlrs[c].admin);
			if (rc != 0) {
				fprintf(stderr, "idle_qpairs: cntlid %u: keep alive: %d\n",
					ctrlrs[c].cntlid, rc);
			}
		}
		next_ka += g_opts.ka_interval_ms;
	}
	free(pfds);
	return rc;
}

static void
raise_nofile(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		rl.rlim_cur =
			rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -p port [-a addr] [-n subnqn] [-c ctrlrs] [-q io_queues] [-s sqsize]\n"
		"          [-k kato_ms] [-i keep_alive_interval_ms]\n",
		prog);
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "a:p:n:c:q:s:k:i:h")) != -1) {
		switch (ch) {
		case 'a':
			g_opts.addr = optarg;
			break;
		case 'p':
			g_opts.port = (int)strtol(optarg, NULL, 0);
			break;
		case 'n':
			g_opts.subnqn = optarg;
			break;
		case 'c':
			g_opts.ctrlrs = (int)strtol(optarg, NULL, 0);
			break;
		case 'q':
			g_opts.io_queues = (int)strtol(optarg, NULL, 0);
			break;
		case 's':
			g_opts.sqsize = (uint16_t)strtol(optarg, NULL, 0);
			break;
		case 'k':
			g_opts.kato_ms = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'i':
			g_opts.ka_interval_ms = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (g_opts.port <= 0 || g_opts.ctrlrs < 1 || g_opts.io_queues < 0 ||
	    g_opts.io_queues > 1024 || g_opts.sqsize == 0) {
		usage(argv[0]);
	}
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct idle_ctrlr *ctrlrs;
	int c, i, rc = 0, nqpairs;

	parse_args(argc, argv);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	nqpairs = g_opts.ctrlrs * (g_opts.io_queues + 1);
	raise_nofile((rlim_t)nqpairs + 64);
	ctrlrs = calloc((size_t)g_opts.ctrlrs, sizeof(*ctrlrs));
	if (ctrlrs == NULL) {
		return 1;
	}
	for (c = 0; c < g_opts.ctrlrs && rc == 0; c++) {
		ctrlrs[c].io = calloc((size_t)g_opts.io_queues + 1, sizeof(*ctrlrs[c].io));
		if (ctrlrs[c].io == NULL) {
			return 1;
		}
		rc = ctrlr_open_admin(&ctrlrs[c]);
		if (rc != 0) {
			fprintf(stderr, "idle_qpairs: controller %d: admin queue: %d\n", c, rc);
			break;
		}
		rc = ctrlr_open_io(&ctrlrs[c]);
	}
	if (rc != 0) {
		return 1;
	}
	printf("connected=%d\n", nqpairs);
	fflush(stdout);
	rc = hold(ctrlrs, nqpairs);
	for (c = 0; c < g_opts.ctrlrs; c++) {
		for (i = 0; i < g_opts.io_queues; i++) {
			close(ctrlrs[c].io[i].fd);
		}
		close(ctrlrs[c].admin.fd);
		free(ctrlrs[c].io);
	}
	free(ctrlrs);
	return rc == 0 ? 0 : 1;
}
