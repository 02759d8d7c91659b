/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Raw-TCP floor for bench/host/run.sh: what loopback TCP costs with the
 * target's syscall pattern and no NVMe logic at all, so that nvtcpd's IOPS
 * can be read as a fraction of what the sockets alone allow.
 *
 *   tcp_floor server [-C core] [-p port]
 *       One thread on one core. An epoll loop polled with a zero timeout
 *       (sleeping after 1 ms without work, as a reactor does), bulk recv() of
 *       headers into an 8 KiB buffer per connection (payloads of 1 KiB or
 *       more straight into a sink), and one sendmsg() of up to 64 iovecs per
 *       connection and pass. Prints "port=N" once listening; runs until
 *       SIGINT or SIGTERM.
 *   tcp_floor client -p port [-C core] [-q depth] [-o bytes] [-w read|write]
 *                    [-t seconds] [-n conns] [-i icd_bytes]
 *       Keeps depth requests in flight on each of conns connections, with the
 *       same loop, and prints one line of key=value pairs: iops, mib_s,
 *       avg_us, p50_us, p99_us, cpu_us_per_io, ios.
 *
 * Framing, sized like NVMe/TCP's PDUs (an 8-byte common header: type, hlen,
 * plen), with no meaning beyond the tag:
 *   request  72-byte header, like a command capsule; a write of at most
 *            icd bytes (default 4096) carries its data in the same PDU
 *   read     answered by a 24-byte data header, the data (one static
 *            buffer) and a 24-byte response, queued together
 *   write    with inline data: a 24-byte response; larger: a 24-byte
 *            ready-to-transfer, then the client sends a 24-byte header and
 *            the data, then the response
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FLOOR_REQ_HLEN	 72
#define FLOOR_SHORT_HLEN 24
#define FLOOR_RX_BUF	 8192
#define FLOOR_DIRECT_MIN 1024
#define FLOOR_IOV_BATCH	 64
#define FLOOR_MAX_EVENTS 32
#define FLOOR_OUTQ	 8192 /* queued iovecs per connection (a power of two) */
#define FLOOR_SLOTS	 4096 /* header slots per connection (a power of two) */
#define FLOOR_MAX_QD	 1024
#define FLOOR_MAX_IO	 (1024 * 1024)
#define FLOOR_IDLE_NS	 1000000ull /* poll this long without work before sleeping */

/* Hist buckets: 32 per power of two of nanoseconds (about 3 % wide). */
#define HIST_SUB_BITS 5
#define HIST_BUCKETS  (64 << HIST_SUB_BITS)

enum floor_type {
	FLOOR_READ = 1,	  /* request: read len bytes */
	FLOOR_WRITE = 2,  /* request: write len bytes, inline if plen > hlen */
	FLOOR_H2C = 3,	  /* write data after a ready-to-transfer */
	FLOOR_C2H = 0x10, /* read data */
	FLOOR_RSP = 0x11, /* completion of tag */
	FLOOR_R2T = 0x12, /* ready to transfer the data of tag */
};

struct floor_hdr {
	uint8_t type;
	uint8_t hlen;
	uint16_t rsvd;
	uint32_t plen; /* header and data bytes of this PDU */
	uint32_t tag;
	uint32_t len; /* data bytes of the I/O */
	uint8_t pad[FLOOR_REQ_HLEN - 16];
};

struct floor_conn;

/* Called with a whole PDU received (its header in conn->hdr, its payload consumed). */
typedef int (*floor_pdu_cb)(struct floor_conn *conn);

struct floor_conn {
	int fd;
	uint32_t events;  /* what the fd is registered for in epoll */
	bool drained;	  /* a short read since epoll last reported input */
	bool out_blocked; /* the send buffer was full: wait for EPOLLOUT */
	bool dead;	  /* the peer left or broke the framing: close after this pass */

	/* Receive: bytes [rx_head, rx_tail) of rx are read but not consumed. */
	uint8_t rx[FLOOR_RX_BUF];
	uint32_t rx_head;
	uint32_t rx_tail;
	struct floor_hdr hdr;
	uint32_t hdr_got;
	uint32_t payload_left;

	/* Send: a ring of iovecs, out_off bytes of the first already sent. */
	struct iovec outq[FLOOR_OUTQ];
	uint32_t out_head;
	uint32_t out_tail;
	size_t out_off;
	struct floor_hdr slots[FLOOR_SLOTS];
	uint32_t slot_next;

	/* Client side. */
	uint64_t submit_ns[FLOOR_MAX_QD];
};

struct floor_opts {
	bool server;
	int core;
	int port;
	uint32_t depth;
	uint32_t io_size;
	bool write;
	double seconds;
	int conns;
	uint32_t icd;
};

static struct floor_opts g_opts = {
	.core = -1, .depth = 32, .io_size = 4096, .seconds = 10, .conns = 1, .icd = 4096
};
static volatile sig_atomic_t g_stop;
static uint8_t g_data[FLOOR_MAX_IO];
static uint8_t g_sink[FLOOR_MAX_IO];
static int g_epfd;

/* Client results. */
static uint64_t g_hist[HIST_BUCKETS];
static uint64_t g_ios;
static uint64_t g_lat_sum_ns;
static bool g_running;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* ---- latency histogram ---- */

static uint32_t
hist_index(uint64_t v)
{
	uint32_t msb, shift;

	if (v < (2u << HIST_SUB_BITS)) {
		return (uint32_t)v;
	}
	msb = 63u - (uint32_t)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return (shift + 1u) * (1u << HIST_SUB_BITS) + (uint32_t)(v >> shift) -
	       (1u << HIST_SUB_BITS);
}

/* Middle of bucket i, in ns. */
static double
hist_value(uint32_t i)
{
	uint32_t shift;
	uint64_t lo;

	if (i < (2u << HIST_SUB_BITS)) {
		return i;
	}
	shift = i / (1u << HIST_SUB_BITS) - 1u;
	lo = (uint64_t)(i - (shift + 1u) * (1u << HIST_SUB_BITS) + (1u << HIST_SUB_BITS)) << shift;
	return (double)lo + (double)(1ull << shift) / 2.0;
}

static double
hist_percentile(double pct)
{
	uint64_t want = (uint64_t)((double)g_ios * pct / 100.0), seen = 0;
	uint32_t i;

	if (want == 0) {
		want = 1;
	}
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += g_hist[i];
		if (seen >= want) {
			return hist_value(i);
		}
	}
	return 0;
}

/* ---- sockets ---- */

static int
set_events(struct floor_conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events) {
		return 0;
	}
	if (epoll_ctl(g_epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
		return -errno;
	}
	c->events = events;
	return 0;
}

static struct floor_conn *
conn_create(int fd)
{
	struct floor_conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int one = 1;

	if (c == NULL) {
		return NULL;
	}
	c->fd = fd;
	c->events = EPOLLIN;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

static void
conn_destroy(struct floor_conn *c)
{
	epoll_ctl(g_epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Refill the empty receive buffer: 1 if bytes came, 0 if none, <0 if the peer is gone. */
static int
rx_fill(struct floor_conn *c)
{
	ssize_t n;

	if (c->drained) {
		return 0;
	}
	c->rx_head = c->rx_tail = 0;
	n = recv(c->fd, c->rx, sizeof(c->rx), MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			c->drained = true;
			return 0;
		}
		return -errno;
	}
	if (n == 0) {
		return -ECONNRESET;
	}
	c->drained = (size_t)n < sizeof(c->rx);
	c->rx_tail = (uint32_t)n;
	return 1;
}

/* A large payload with nothing buffered goes straight into the sink. */
static int
rx_direct(struct floor_conn *c)
{
	size_t want = c->payload_left < sizeof(g_sink) ? c->payload_left : sizeof(g_sink);
	ssize_t n;

	if (c->drained) {
		return 0;
	}
	n = recv(c->fd, g_sink, want, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			c->drained = true;
			return 0;
		}
		return -errno;
	}
	if (n == 0) {
		return -ECONNRESET;
	}
	c->drained = (size_t)n < want;
	c->payload_left -= (uint32_t)n;
	return 1;
}

/* Header bytes from the buffer; <0 on a header that makes no sense. */
static int
rx_header(struct floor_conn *c, floor_pdu_cb cb)
{
	uint32_t avail = c->rx_tail - c->rx_head;
	uint32_t need = c->hdr_got < 8 ? 8 : c->hdr.hlen;
	uint32_t take = need - c->hdr_got < avail ? need - c->hdr_got : avail;

	memcpy((uint8_t *)&c->hdr + c->hdr_got, c->rx + c->rx_head, take);
	c->rx_head += take;
	c->hdr_got += take;
	if (c->hdr_got == 8 &&
	    (c->hdr.hlen < FLOOR_SHORT_HLEN || c->hdr.hlen > FLOOR_REQ_HLEN ||
	     c->hdr.plen < c->hdr.hlen || c->hdr.plen - c->hdr.hlen > FLOOR_MAX_IO)) {
		return -EPROTO;
	}
	if (c->hdr_got < 8 || c->hdr_got < c->hdr.hlen) {
		return 0;
	}
	c->hdr_got = 0;
	c->payload_left = c->hdr.plen - c->hdr.hlen;
	return c->payload_left == 0 ? cb(c) : 0;
}

/* Everything readable now; 0, or <0 if the connection is finished. */
static int
conn_rx(struct floor_conn *c, floor_pdu_cb cb)
{
	uint32_t avail, take;
	int rc;

	for (;;) {
		avail = c->rx_tail - c->rx_head;
		if (c->payload_left > 0) {
			if (avail > 0) {
				take = c->payload_left < avail ? c->payload_left : avail;
				c->rx_head += take;
				c->payload_left -= take;
			} else {
				rc = c->payload_left >= FLOOR_DIRECT_MIN ? rx_direct(c)
									 : rx_fill(c);
				if (rc <= 0) {
					return rc;
				}
			}
			if (c->payload_left == 0) {
				rc = cb(c);
				if (rc < 0) {
					return rc;
				}
			}
			continue;
		}
		rc = avail == 0 ? rx_fill(c) : rx_header(c, cb);
		if (rc < 0 || (rc == 0 && avail == 0)) {
			return rc;
		}
	}
}

static void
queue_iov(struct floor_conn *c, void *base, size_t len)
{
	c->outq[c->out_tail & (FLOOR_OUTQ - 1)] =
		(struct iovec){ .iov_base = base, .iov_len = len };
	c->out_tail++;
}

static struct floor_hdr *
queue_hdr(struct floor_conn *c, uint8_t type, uint8_t hlen, uint32_t tag, uint32_t len,
	  uint32_t data_len)
{
	struct floor_hdr *h = &c->slots[c->slot_next++ & (FLOOR_SLOTS - 1)];

	h->type = type;
	h->hlen = hlen;
	h->plen = hlen + data_len;
	h->tag = tag;
	h->len = len;
	queue_iov(c, h, hlen);
	return h;
}

/* Send what is queued, up to 64 iovecs a call, until done or the socket is full. */
static int
conn_flush(struct floor_conn *c)
{
	struct iovec iov[FLOOR_IOV_BATCH];
	struct msghdr msg = { .msg_iov = iov };
	uint32_t i, n;
	ssize_t sent;

	while (!c->out_blocked && c->out_head != c->out_tail) {
		n = c->out_tail - c->out_head < FLOOR_IOV_BATCH ? c->out_tail - c->out_head
								: FLOOR_IOV_BATCH;
		for (i = 0; i < n; i++) {
			iov[i] = c->outq[(c->out_head + i) & (FLOOR_OUTQ - 1)];
		}
		iov[0].iov_base = (uint8_t *)iov[0].iov_base + c->out_off;
		iov[0].iov_len -= c->out_off;
		msg.msg_iovlen = n;
		sent = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				c->out_blocked = true;
				return set_events(c, EPOLLIN | EPOLLOUT);
			}
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		for (i = 0; i < n && (size_t)sent >= iov[i].iov_len; i++) {
			sent -= (ssize_t)iov[i].iov_len;
			c->out_head++;
			c->out_off = 0;
		}
		if (i < n) {
			c->out_off += (size_t)sent;
		}
	}
	return 0;
}

static void
pin(int core)
{
	cpu_set_t set;

	if (core < 0) {
		return;
	}
	CPU_ZERO(&set);
	CPU_SET(core, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fprintf(stderr, "tcp_floor: cannot pin to core %d: %s\n", core, strerror(errno));
		exit(1);
	}
}

/* ---- server ---- */

static int
server_pdu(struct floor_conn *c)
{
	const struct floor_hdr *h = &c->hdr;

	switch (h->type) {
	case FLOOR_READ:
		if (h->len > FLOOR_MAX_IO) {
			return -EPROTO;
		}
		queue_hdr(c, FLOOR_C2H, FLOOR_SHORT_HLEN, h->tag, h->len, h->len);
		queue_iov(c, g_data, h->len);
		queue_hdr(c, FLOOR_RSP, FLOOR_SHORT_HLEN, h->tag, 0, 0);
		return 0;
	case FLOOR_WRITE:
		if (h->plen > h->hlen) {
			queue_hdr(c, FLOOR_RSP, FLOOR_SHORT_HLEN, h->tag, 0, 0);
		} else {
			queue_hdr(c, FLOOR_R2T, FLOOR_SHORT_HLEN, h->tag, h->len, 0);
		}
		return 0;
	case FLOOR_H2C:
		queue_hdr(c, FLOOR_RSP, FLOOR_SHORT_HLEN, h->tag, 0, 0);
		return 0;
	default:
		return -EPROTO;
	}
}

static int
listen_on(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0) {
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 128) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		close(fd);
		return -errno;
	}
	printf("port=%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

static void
server_accept(int lfd, struct floor_conn **conns, int *nconns)
{
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		if (*nconns == 1024 || (conns[*nconns] = conn_create(fd)) == NULL) {
			close(fd);
			continue;
		}
		(*nconns)++;
	}
}

static int
server_run(void)
{
	struct epoll_event evs[FLOOR_MAX_EVENTS], ev = { .events = EPOLLIN };
	static struct floor_conn *conns[1024];
	uint64_t last_busy = now_ns();
	int lfd, n, i, nconns = 0;
	struct floor_conn *c;

	lfd = listen_on(g_opts.port);
	if (lfd < 0) {
		fprintf(stderr, "tcp_floor: listen on port %d: %s\n", g_opts.port, strerror(-lfd));
		return 1;
	}
	ev.data.ptr = NULL;
	epoll_ctl(g_epfd, EPOLL_CTL_ADD, lfd, &ev);
	while (!g_stop) {
		n = epoll_wait(g_epfd, evs, FLOOR_MAX_EVENTS,
			       now_ns() - last_busy > FLOOR_IDLE_NS ? 100 : 0);
		for (i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (c == NULL) {
				server_accept(lfd, conns, &nconns);
				continue;
			}
			if ((evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->out_blocked) {
				c->out_blocked = false;
				set_events(c, EPOLLIN);
			}
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
				c->drained = false;
				c->dead = conn_rx(c, server_pdu) < 0;
			}
		}
		for (i = 0; i < nconns; i++) {
			c = conns[i];
			if (c->dead || conn_flush(c) < 0) {
				conn_destroy(c);
				conns[i--] = conns[--nconns];
			}
		}
		if (n > 0) {
			last_busy = now_ns();
		}
	}
	while (nconns > 0) {
		conn_destroy(conns[--nconns]);
	}
	close(lfd);
	return 0;
}

/* ---- client ---- */

static void
client_submit(struct floor_conn *c, uint32_t tag)
{
	uint32_t len = g_opts.io_size;

	c->submit_ns[tag] = now_ns();
	if (!g_opts.write) {
		queue_hdr(c, FLOOR_READ, FLOOR_REQ_HLEN, tag, len, 0);
	} else if (len <= g_opts.icd) {
		queue_hdr(c, FLOOR_WRITE, FLOOR_REQ_HLEN, tag, len, len);
		queue_iov(c, g_data, len);
	} else {
		queue_hdr(c, FLOOR_WRITE, FLOOR_REQ_HLEN, tag, len, 0);
	}
}

static int
client_pdu(struct floor_conn *c)
{
	const struct floor_hdr *h = &c->hdr;
	uint64_t lat;

	switch (h->type) {
	case FLOOR_C2H:
		return 0;
	case FLOOR_R2T:
		queue_hdr(c, FLOOR_H2C, FLOOR_SHORT_HLEN, h->tag, h->len, h->len);
		queue_iov(c, g_data, h->len);
		return 0;
	case FLOOR_RSP:
		if (h->tag >= g_opts.depth) {
			return -EPROTO;
		}
		if (!g_running) {
			return 0;
		}
		lat = now_ns() - c->submit_ns[h->tag];
		g_hist[hist_index(lat)]++;
		g_lat_sum_ns += lat;
		g_ios++;
		client_submit(c, h->tag);
		return 0;
	default:
		return -EPROTO;
	}
}

static int
client_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
client_report(double secs, double cpu)
{
	double ios = (double)g_ios;

	printf("iops=%.0f mib_s=%.2f avg_us=%.2f p50_us=%.2f p99_us=%.2f cpu_us_per_io=%.3f "
	       "ios=%llu\n",
	       ios / secs, ios * g_opts.io_size / secs / 1048576.0,
	       g_ios ? (double)g_lat_sum_ns / ios / 1000.0 : 0.0, hist_percentile(50) / 1000.0,
	       hist_percentile(99) / 1000.0, g_ios ? cpu * 1e6 / ios : 0.0,
	       (unsigned long long)g_ios);
}

static int
client_run(void)
{
	struct floor_conn *conns[64];
	struct epoll_event evs[FLOOR_MAX_EVENTS];
	uint64_t start, end, now, last_busy;
	double cpu0;
	int i, n, fd, rc = 0;
	uint32_t t;

	for (i = 0; i < g_opts.conns; i++) {
		fd = client_connect(g_opts.port);
		if (fd < 0 || (conns[i] = conn_create(fd)) == NULL) {
			fprintf(stderr, "tcp_floor: connect to port %d failed\n", g_opts.port);
			return 1;
		}
	}
	cpu0 = cpu_seconds();
	start = last_busy = now_ns();
	end = start + (uint64_t)(g_opts.seconds * 1e9);
	g_running = true;
	for (i = 0; i < g_opts.conns; i++) {
		for (t = 0; t < g_opts.depth; t++) {
			client_submit(conns[i], t);
		}
	}
	while (!g_stop) {
		for (i = 0; i < g_opts.conns && rc == 0; i++) {
			rc = conn_flush(conns[i]);
		}
		now = now_ns();
		if (rc != 0 || now >= end) {
			break;
		}
		n = epoll_wait(g_epfd, evs, FLOOR_MAX_EVENTS,
			       now - last_busy > FLOOR_IDLE_NS ? 100 : 0);
		for (i = 0; i < n && rc == 0; i++) {
			struct floor_conn *c = evs[i].data.ptr;

			if ((evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->out_blocked) {
				c->out_blocked = false;
				set_events(c, EPOLLIN);
			}
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
				c->drained = false;
				rc = conn_rx(c, client_pdu);
			}
		}
		if (n > 0) {
			last_busy = now;
		}
	}
	g_running = false;
	now = now_ns();
	if (rc != 0) {
		fprintf(stderr, "tcp_floor: connection failed: %s\n", strerror(-rc));
		return 1;
	}
	client_report((double)(now - start) / 1e9, cpu_seconds() - cpu0);
	for (i = 0; i < g_opts.conns; i++) {
		conn_destroy(conns[i]);
	}
	return 0;
}

/* ---- command line ---- */

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s server [-C core] [-p port]\n"
		"       %s client -p port [-C core] [-q depth] [-o bytes] [-w read|write]\n"
		"                 [-t seconds] [-n conns] [-i icd_bytes]\n",
		prog, prog);
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	int ch;

	if (argc < 2 || (strcmp(argv[1], "server") != 0 && strcmp(argv[1], "client") != 0)) {
		usage(argv[0]);
	}
	g_opts.server = strcmp(argv[1], "server") == 0;
	optind = 2;
	while ((ch = getopt(argc, argv, "C:p:q:o:w:t:n:i:")) != -1) {
		switch (ch) {
		case 'C':
			g_opts.core = (int)strtol(optarg, NULL, 0);
			break;
		case 'p':
			g_opts.port = (int)strtol(optarg, NULL, 0);
			break;
		case 'q':
			g_opts.depth = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'o':
			g_opts.io_size = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'w':
			g_opts.write = strcmp(optarg, "write") == 0;
			if (!g_opts.write && strcmp(optarg, "read") != 0) {
				usage(argv[0]);
			}
			break;
		case 't':
			g_opts.seconds = atof(optarg);
			break;
		case 'n':
			g_opts.conns = (int)strtol(optarg, NULL, 0);
			break;
		case 'i':
			g_opts.icd = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (g_opts.depth == 0 || g_opts.depth > FLOOR_MAX_QD || g_opts.io_size == 0 ||
	    g_opts.io_size > FLOOR_MAX_IO || g_opts.conns < 1 || g_opts.conns > 64 ||
	    g_opts.seconds <= 0 || (!g_opts.server && g_opts.port <= 0)) {
		usage(argv[0]);
	}
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	parse_args(argc, argv);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	memset(g_data, 0x5a, sizeof(g_data));
	pin(g_opts.core);
	g_epfd = epoll_create1(0);
	if (g_epfd < 0) {
		perror("tcp_floor: epoll_create1");
		return 1;
	}
	return g_opts.server ? server_run() : client_run();
}
