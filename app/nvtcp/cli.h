/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the nvtcp CLI's commands share: its options and one blocking call.
 * Single-threaded; nothing here is kept between calls.
 */
#ifndef NVTCP_CLI_H
#define NVTCP_CLI_H

#include <stdbool.h>

#include <jansson.h>

struct cli_opts {
	const char *sock;
	double timeout_s;
	const char *json;
	const char *method;
	char **kv; /* key=value arguments */
	int nkv;
	bool help;
};

/*
 * Call \p method with \p params (borrowed; NULL or empty: none). 0: the answer arrived, and *result or
 * *error holds a reference (the caller puts it); -errno (reported on
 * stderr) when the server could not be reached or did not answer.
 */
int cli_call_method(const struct cli_opts *opts, const char *method, json_t *params,
		    json_t **result, json_t **error);

/* nvtcp stats [-i SECONDS] [-n COUNT] (stats.c); \p argv[0] is "stats". The exit status. */
int stats_main(const struct cli_opts *opts, int argc, char **argv);

#endif /* NVTCP_CLI_H */
