/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Load generator for an echo server (hello_sock -S), on plain kernel sockets
 * so that only the server's socket implementation differs between runs.
 *
 *   sock_bench -H host -P port -m lat  -s size [-n iterations]
 *       one connection, one message in flight: round-trip times
 *   sock_bench -H host -P port -m tput -s size [-t seconds] [-c conns] [-w window]
 *       conns connections, each keeping window messages in flight: echoed bytes/s
 *
 * Prints one line of key=value pairs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct bench_opts {
	const char *host;
	const char *port;
	const char *mode;
	size_t size;
	long iters;
	double seconds;
	int conns;
	int window;
};

struct bench_conn {
	int fd;
	uint64_t sent;
	uint64_t received;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
bench_connect(const struct bench_opts *o)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST };
	struct addrinfo *res;
	int fd, one = 1;

	if (getaddrinfo(o->host, o->port, &hints, &res) != 0) {
		fprintf(stderr, "sock_bench: bad address %s port %s\n", o->host, o->port);
		exit(2);
	}
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		fprintf(stderr, "sock_bench: connect %s port %s: %s\n", o->host, o->port,
			strerror(errno));
		exit(1);
	}
	freeaddrinfo(res);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void
xfer_all(int fd, uint8_t *buf, size_t len, bool do_send)
{
	ssize_t n;

	while (len > 0) {
		n = do_send ? send(fd, buf, len, MSG_NOSIGNAL) : recv(fd, buf, len, 0);
		if (n <= 0) {
			fprintf(stderr, "sock_bench: %s: %s\n", do_send ? "send" : "recv",
				n == 0 ? "connection closed" : strerror(errno));
			exit(1);
		}
		buf += n;
		len -= (size_t)n;
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
bench_latency(const struct bench_opts *o)
{
	uint64_t *rtt = calloc((size_t)o->iters, sizeof(*rtt)), t;
	uint8_t *buf = calloc(1, o->size);
	int fd = bench_connect(o);
	long i, warmup = o->iters / 10;

	if (rtt == NULL || buf == NULL) {
		exit(1);
	}
	for (i = -warmup; i < o->iters; i++) {
		t = now_ns();
		xfer_all(fd, buf, o->size, true);
		xfer_all(fd, buf, o->size, false);
		if (i >= 0) {
			rtt[i] = now_ns() - t;
		}
	}
	qsort(rtt, (size_t)o->iters, sizeof(*rtt), cmp_u64);
	printf("mode=lat size=%zu iters=%ld p50_us=%.2f p99_us=%.2f\n", o->size, o->iters,
	       (double)rtt[o->iters / 2] / 1000.0, (double)rtt[o->iters * 99 / 100] / 1000.0);
	close(fd);
	free(rtt);
	free(buf);
}

/* Keep the window full, read whatever came back. */
static void
tput_service(struct bench_conn *c, uint8_t *buf, size_t bufsz, const struct bench_opts *o)
{
	uint64_t limit = (uint64_t)o->window * o->size;
	ssize_t n;

	while ((n = recv(c->fd, buf, bufsz, MSG_DONTWAIT)) > 0) {
		c->received += (uint64_t)n;
	}
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		fprintf(stderr, "sock_bench: recv: %s\n", n == 0 ? "closed" : strerror(errno));
		exit(1);
	}
	while (c->sent - c->received < limit) {
		n = send(c->fd, buf,
			 (size_t)(limit - (c->sent - c->received)) < bufsz
				 ? (size_t)(limit - (c->sent - c->received))
				 : bufsz,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0) {
			break;
		}
		c->sent += (uint64_t)n;
	}
}

static void
bench_throughput(const struct bench_opts *o)
{
	struct bench_conn *conns = calloc((size_t)o->conns, sizeof(*conns));
	size_t bufsz = 256 * 1024;
	uint8_t *buf = calloc(1, bufsz);
	struct epoll_event ev, evs[64];
	uint64_t start, end, total = 0;
	int i, n, ep = epoll_create1(0);

	for (i = 0; i < o->conns; i++) {
		conns[i].fd = bench_connect(o);
		ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
		ev.data.ptr = &conns[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
		tput_service(&conns[i], buf, bufsz, o);
	}
	start = now_ns();
	end = start + (uint64_t)(o->seconds * 1e9);
	while (now_ns() < end) {
		n = epoll_wait(ep, evs, 64, 100);
		for (i = 0; i < n; i++) {
			tput_service(evs[i].data.ptr, buf, bufsz, o);
		}
	}
	for (i = 0; i < o->conns; i++) {
		total += conns[i].received;
		close(conns[i].fd);
	}
	printf("mode=tput size=%zu conns=%d window=%d MiBps=%.1f msgs_per_s=%.0f\n", o->size,
	       o->conns, o->window, (double)total / (1 << 20) / o->seconds,
	       (double)total / (double)o->size / o->seconds);
	close(ep);
	free(conns);
	free(buf);
}

int
main(int argc, char **argv)
{
	struct bench_opts o = { "127.0.0.1", "12345", "lat", 64, 20000, 2.0, 4, 8 };
	int ch;

	while ((ch = getopt(argc, argv, "H:P:m:s:n:t:c:w:")) != -1) {
		switch (ch) {
		case 'H':
			o.host = optarg;
			break;
		case 'P':
			o.port = optarg;
			break;
		case 'm':
			o.mode = optarg;
			break;
		case 's':
			o.size = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			o.iters = strtol(optarg, NULL, 0);
			break;
		case 't':
			o.seconds = strtod(optarg, NULL);
			break;
		case 'c':
			o.conns = (int)strtol(optarg, NULL, 0);
			break;
		case 'w':
			o.window = (int)strtol(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr,
				"usage: %s -H host -P port -m lat|tput -s size [-n iters] "
				"[-t seconds] [-c conns] [-w window]\n",
				argv[0]);
			return 2;
		}
	}
	if (o.size == 0 || o.iters <= 0 || o.conns <= 0 || o.window <= 0) {
		fprintf(stderr, "sock_bench: sizes and counts must be positive\n");
		return 2;
	}
	if (strcmp(o.mode, "lat") == 0) {
		bench_latency(&o);
	} else {
		bench_throughput(&o);
	}
	return 0;
}
