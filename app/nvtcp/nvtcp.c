/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvtcp: the command line in front of the JSON-RPC socket.
 *
 *     nvtcp [-s SOCK] [-t SECONDS] METHOD [key=value ...]
 *     nvtcp [-s SOCK] [-t SECONDS] METHOD --json '{...}'
 *
 * A plain blocking client: one request, one answer, printed as indented
 * JSON. Method names pass straight through, so SPDK rpc.py names work as
 * they are ("nvtcp bdev_get_bdevs").
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "nvtcp/jsonrpc.h"
#include "cli.h"

#define DEFAULT_TIMEOUT_S 60.0
#define RECV_CHUNK	  65536
#define REQUEST_ID	  1

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: nvtcp [-s SOCK] [-t SECONDS] METHOD [key=value ...]\n"
		"       nvtcp [-s SOCK] [-t SECONDS] METHOD --json '{...}'\n"
		"\n"
		"Calls METHOD on the JSON-RPC server and prints its result as JSON.\n"
		"\n"
		" -s, --socket SOCK    server socket (default %s)\n"
		" -t, --timeout SECS   give up after SECS seconds (default %.0f)\n"
		" -j, --json JSON      the params object, as JSON text\n"
		" -h, --help           show this help\n"
		"\n"
		"Values: integers and numbers, true, false and null are sent as such,\n"
		"anything else as a string; key:=JSON sends any JSON value\n"
		"(name:='\"123\"' sends the string \"123\"). SPDK rpc.py method names work\n"
		"as they are: nvtcp bdev_get_bdevs. Exit status: 0, or 1 on any error.\n"
		"\n"
		"nvtcp stats [-i SECONDS] [-n COUNT]: a summary of the target (reactors\n"
		"busy, per-bdev IOPS and latency, buffer pool) over each interval.\n",
		NVT_RPC_DEFAULT_SOCK, DEFAULT_TIMEOUT_S);
}

static int
parse_opts(int argc, char **argv, struct cli_opts *opts)
{
	static const struct option long_opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int ch;

	/* '+': stop at the method, so values such as "-1" are not taken for options. */
	while ((ch = getopt_long(argc, argv, "+s:t:j:h", long_opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			opts->sock = optarg;
			break;
		case 't':
			opts->timeout_s = strtod(optarg, &end);
			if (*end != '\0' || end == optarg || !(opts->timeout_s > 0)) {
				fprintf(stderr, "nvtcp: -t wants a positive number of seconds\n");
				return -EINVAL;
			}
			break;
		case 'j':
			opts->json = optarg;
			break;
		case 'h':
			opts->help = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		opts->method = argv[optind++];
	}
	/* --json may also come after the method, where rpc.py users put options. */
	if (optind + 1 < argc && strcmp(argv[optind], "--json") == 0) {
		opts->json = argv[optind + 1];
		optind += 2;
	}
	opts->kv = argv + optind;
	opts->nkv = argc - optind;
	return 0;
}

/* ---- building the request ---- */

/* A command-line value: JSON scalars as they are, anything else a string. */
static json_t *
parse_value(const char *text)
{
	json_t *val = json_loads(text, JSON_DECODE_ANY, NULL);

	if (val != NULL && (json_is_number(val) || json_is_boolean(val) || json_is_null(val))) {
		return val;
	}
	json_decref(val);
	return json_string(text);
}

static int
add_kv(json_t *params, const char *arg)
{
	const char *eq = strchr(arg, '=');
	bool raw = eq != NULL && eq > arg && eq[-1] == ':';
	size_t keylen = eq != NULL ? (size_t)(eq - arg) - (raw ? 1 : 0) : 0;
	json_error_t jerr;
	char key[256];
	json_t *val;

	if (eq == NULL || keylen == 0 || keylen >= sizeof(key)) {
		fprintf(stderr, "nvtcp: '%s': expected key=value or key:=JSON\n", arg);
		return -EINVAL;
	}
	memcpy(key, arg, keylen);
	key[keylen] = '\0';
	val = raw ? json_loads(eq + 1, JSON_DECODE_ANY, &jerr) : parse_value(eq + 1);
	if (val == NULL) {
		fprintf(stderr, "nvtcp: '%s': the value is not JSON: %s\n", arg,
			raw ? jerr.text : "out of memory");
		return -EINVAL;
	}
	json_object_set_new(params, key, val);
	return 0;
}

static json_t *
build_params(const struct cli_opts *opts)
{
	json_error_t jerr;
	json_t *params;
	int i;

	if (opts->json != NULL) {
		if (opts->nkv > 0) {
			fprintf(stderr, "nvtcp: use either --json or key=value, not both\n");
			return NULL;
		}
		params = json_loads(opts->json, 0, &jerr);
		if (!json_is_object(params)) {
			fprintf(stderr, "nvtcp: --json: %s\n",
				params == NULL ? jerr.text : "expected an object");
			json_decref(params);
			return NULL;
		}
		return params;
	}
	params = json_object();
	for (i = 0; params != NULL && i < opts->nkv; i++) {
		if (add_kv(params, opts->kv[i]) != 0) {
			json_decref(params);
			return NULL;
		}
	}
	return params;
}

/* ---- talking to the server ---- */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
connect_sock(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		return -ENAMETOOLONG;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

static int
send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Wait for readability until \p deadline; 0, -ETIMEDOUT or -errno. */
static int
wait_readable(int fd, double deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	double left = deadline - now_s();
	int rc;

	if (left <= 0) {
		return -ETIMEDOUT;
	}
	rc = poll(&pfd, 1, (int)(left * 1000) + 1);
	if (rc < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	return rc == 0 ? -ETIMEDOUT : 0;
}

/* Read until one complete JSON value arrived. */
static int
recv_response(int fd, double deadline, json_t **out)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *tmp;
	json_error_t jerr;
	ssize_t n;
	int rc;

	for (;;) {
		rc = wait_readable(fd, deadline);
		if (rc != 0) {
			break;
		}
		if (cap - len < RECV_CHUNK) {
			cap = cap * 2 + RECV_CHUNK;
			tmp = realloc(buf, cap);
			if (tmp == NULL) {
				rc = -ENOMEM;
				break;
			}
			buf = tmp;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n <= 0) {
			rc = n == 0 ? -ECONNRESET : -errno;
			if (rc == -EINTR) {
				continue;
			}
			break;
		}
		len += (size_t)n;
		*out = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, &jerr);
		if (*out != NULL) {
			break;
		}
		if (json_error_code(&jerr) != json_error_premature_end_of_input) {
			fprintf(stderr, "nvtcp: the server sent bad JSON: %s\n", jerr.text);
			rc = -EPROTO;
			break;
		}
	}
	free(buf);
	return rc;
}

/* Send \p req and receive its response; 0 or -errno (reported). */
static int
call(const struct cli_opts *opts, json_t *req, json_t **resp)
{
	double deadline = now_s() + opts->timeout_s;
	char *text;
	int fd, rc;

	fd = connect_sock(opts->sock);
	if (fd < 0) {
		fprintf(stderr, "nvtcp: cannot connect to %s: %s\n", opts->sock, strerror(-fd));
		return fd;
	}
	text = json_dumps(req, JSON_COMPACT);
	rc = text != NULL ? send_all(fd, text, strlen(text)) : -ENOMEM;
	free(text);
	if (rc == 0) {
		rc = recv_response(fd, deadline, resp);
	}
	close(fd);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "nvtcp: no answer from %s within %g s\n", opts->sock,
			opts->timeout_s);
	} else if (rc != 0 && rc != -EPROTO) {
		fprintf(stderr, "nvtcp: %s: %s\n", opts->sock, strerror(-rc));
	}
	return rc;
}

static json_t *
build_request(const char *method, json_t *params)
{
	json_t *req =
		json_pack("{s:s, s:i, s:s}", "jsonrpc", "2.0", "id", REQUEST_ID, "method", method);

	if (req != NULL && params != NULL && json_object_size(params) > 0) {
		json_object_set(req, "params", params);
	}
	return req;
}

/* Print the result, or the error; the exit status. */
static int
print_response(const json_t *resp)
{
	const json_t *err = json_object_get(resp, "error");
	const json_t *result = json_object_get(resp, "result");
	const char *msg;
	char *text;

	if (err != NULL) {
		msg = json_string_value(json_object_get(err, "message"));
		fprintf(stderr, "error %lld: %s\n",
			(long long)json_integer_value(json_object_get(err, "code")),
			msg != NULL ? msg : "(no message)");
		return 1;
	}
	if (result == NULL) {
		fprintf(stderr, "nvtcp: the response has neither result nor error\n");
		return 1;
	}
	text = json_dumps(result, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		return 1;
	}
	printf("%s\n", text);
	free(text);
	return 0;
}

static int
run_method(const struct cli_opts *opts)
{
	json_t *params, *req, *resp = NULL;
	int status = 1;

	params = build_params(opts);
	if (params == NULL) {
		return 1;
	}
	req = build_request(opts->method, params);
	if (req != NULL && call(opts, req, &resp) == 0) {
		status = print_response(resp);
	}
	json_decref(resp);
	json_decref(req);
	json_decref(params);
	return status;
}

int
cli_call_method(const struct cli_opts *opts, const char *method, json_t *params, json_t **result,
		json_t **error)
{
	json_t *req = build_request(method, params), *resp = NULL;
	int rc = req != NULL ? call(opts, req, &resp) : -ENOMEM;

	json_decref(req);
	*result = NULL;
	*error = NULL;
	if (rc == 0) {
		*result = json_incref(json_object_get(resp, "result"));
		*error = json_incref(json_object_get(resp, "error"));
	}
	json_decref(resp);
	return rc;
}

/* --help also says what the server offers, when one answers. */
static void
help_methods(const struct cli_opts *opts)
{
	struct cli_opts probe = *opts;
	json_t *req, *resp = NULL;
	const json_t *name;
	size_t i;
	int fd;

	fd = connect_sock(opts->sock);
	if (fd < 0) {
		printf("\nNo server answers on %s now; once one runs, `nvtcp rpc_get_methods`\n"
		       "lists its methods.\n",
		       opts->sock);
		return;
	}
	close(fd);
	probe.timeout_s = opts->timeout_s < 5 ? opts->timeout_s : 5;
	req = build_request("rpc_get_methods", NULL);
	if (req != NULL && call(&probe, req, &resp) == 0 &&
	    json_is_array(json_object_get(resp, "result"))) {
		printf("\nMethods served on %s (nvtcp rpc_get_methods):\n", opts->sock);
		json_array_foreach(json_object_get(resp, "result"), i, name)
		{
			printf("  %s\n", json_string_value(name));
		}
	}
	json_decref(resp);
	json_decref(req);
}

int
main(int argc, char **argv)
{
	struct cli_opts opts = {
		.sock = NVT_RPC_DEFAULT_SOCK,
		.timeout_s = DEFAULT_TIMEOUT_S,
	};

	if (parse_opts(argc, argv, &opts) != 0) {
		usage(stderr);
		return 1;
	}
	if (opts.help || opts.method == NULL) {
		if (!opts.help) {
			fprintf(stderr, "nvtcp: no METHOD given\n\n");
		}
		usage(opts.help ? stdout : stderr);
		if (opts.help) {
			help_methods(&opts);
		}
		return opts.help ? 0 : 1;
	}
	if (strcmp(opts.method, "stats") == 0) {
		return stats_main(&opts, opts.nkv + 1, opts.kv - 1);
	}
	return run_method(&opts);
}
