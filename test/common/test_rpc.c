/* SPDX-License-Identifier: BSD-3-Clause */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "test_rpc.h"
#include "test_util.h"

#define RPC_TIMEOUT_MS 10000
#define RPC_ANSWER_MAX (4u << 20)

static int
rpc_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Read until the bytes parse as one JSON document; NULL on timeout, end or error. */
static json_t *
rpc_read(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char *buf = malloc(RPC_ANSWER_MAX);
	json_t *rsp = NULL;
	size_t got = 0;
	ssize_t n;

	while (buf != NULL && rsp == NULL && got < RPC_ANSWER_MAX &&
	       poll(&pfd, 1, RPC_TIMEOUT_MS) == 1) {
		n = recv(fd, buf + got, RPC_ANSWER_MAX - got, 0);
		if (n <= 0) {
			break;
		}
		got += (size_t)n;
		rsp = json_loadb(buf, got, JSON_DISABLE_EOF_CHECK, NULL);
	}
	free(buf);
	return rsp;
}

json_t *
nvt_test_rpc_call(const char *path, const char *method, const json_t *params)
{
	json_t *req = json_pack("{s:s, s:s, s:i}", "jsonrpc", "2.0", "method", method, "id", 1);
	json_t *rsp = NULL, *result;
	char *text = NULL;
	int fd = -1;

	if (req != NULL && params != NULL) {
		json_object_set(req, "params", (json_t *)params);
	}
	text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	if (text != NULL) {
		fd = rpc_connect(path);
	}
	/* A short request on a blocking Unix socket goes in one send. */
	if (fd >= 0 && send(fd, text, strlen(text), MSG_NOSIGNAL) == (ssize_t)strlen(text)) {
		rsp = rpc_read(fd);
	}
	if (fd >= 0) {
		close(fd);
	}
	free(text);
	json_decref(req);
	result = json_incref(json_object_get(rsp, "result"));
	json_decref(rsp);
	return result;
}

/* Sum \p field over every TCP transport entry of every poll group (in \p sub when given). */
static json_int_t
tcp_sum(const json_t *stats, const char *sub, const char *field)
{
	json_t *g, *t, *obj;
	json_int_t sum = 0;
	size_t i, j;

	json_array_foreach(json_object_get(stats, "poll_groups"), i, g)
	{
		json_array_foreach(json_object_get(g, "transports"), j, t)
		{
			obj = sub != NULL ? json_object_get(t, sub) : t;
			sum += json_integer_value(json_object_get(obj, field));
		}
	}
	return sum;
}

json_int_t
nvt_test_stats_tcp_sum(const json_t *stats, const char *field)
{
	return tcp_sum(stats, NULL, field);
}

json_int_t
nvt_test_stats_iobuf_sum(const json_t *stats, const char *field)
{
	return tcp_sum(stats, "iobuf", field);
}

json_int_t
nvt_test_stats_group_sum(const json_t *stats, const char *field)
{
	json_int_t sum = 0;
	json_t *g;
	size_t i;

	json_array_foreach(json_object_get(stats, "poll_groups"), i, g)
	{
		sum += json_integer_value(json_object_get(g, field));
	}
	return sum;
}

json_int_t
nvt_test_stats_transport(const json_t *stats, const char *field)
{
	json_t *t, *v;
	size_t i;

	json_array_foreach(json_object_get(stats, "transports"), i, t)
	{
		v = json_object_get(t, field);
		if (json_is_integer(v)) {
			return json_integer_value(v);
		}
	}
	return -1;
}

long
nvt_test_rss_kb(pid_t pid)
{
	char path[64], text[8192];
	const char *line;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (nvt_test_read_file(path, text, sizeof(text)) < 0) {
		return -1;
	}
	line = strstr(text, "\nVmRSS:");
	if (line == NULL || sscanf(line + 1, "VmRSS: %ld kB", &kb) != 1) {
		return -1;
	}
	return kb;
}
