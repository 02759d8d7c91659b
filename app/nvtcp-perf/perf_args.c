/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command line of nvtcp-perf. The flags follow spdk_nvme_perf, so -r is a
 * transport ID and -c the core mask; the framework's common option set (where
 * -r is the RPC socket and -c a config file) is therefore not used here.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "nvtcp/string.h"
#include "perf.h"

enum {
	OPT_JSON = 0x1000,
	OPT_VERIFY,
};

static const struct option g_long_opts[] = {
	{ "queue-depth", required_argument, NULL, 'q' },
	{ "io-size", required_argument, NULL, 'o' },
	{ "io-pattern", required_argument, NULL, 'w' },
	{ "rwmixread", required_argument, NULL, 'M' },
	{ "time", required_argument, NULL, 't' },
	{ "core-mask", required_argument, NULL, 'c' },
	{ "transport", required_argument, NULL, 'r' },
	{ "enable-sw-latency-tracking", no_argument, NULL, 'L' },
	{ "num-qpairs", required_argument, NULL, 'P' },
	{ "enable-tcp-hdgst", no_argument, NULL, 'H' },
	{ "enable-tcp-ddgst", no_argument, NULL, 'I' },
	{ "keepalive", required_argument, NULL, 'k' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	SEC_ARGS_LONG_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
usage(const char *prog)
{
	printf("usage: %s -r TRID [-r TRID ...] [options]\n"
	       "NVMe/TCP host I/O load generator; flags as in spdk_nvme_perf.\n"
	       " -r, --transport TRID   'trtype:TCP adrfam:IPv4 traddr:A trsvcid:P subnqn:NQN'\n"
	       "                        (repeatable; no subnqn: discover and use every NVM\n"
	       "                        subsystem found; optional hostnqn:NQN)\n"
	       " -q, --queue-depth N    outstanding I/Os per queue (default 32); an I/O above\n"
	       "                        the max transfer size is split into several commands,\n"
	       "                        and the queue is made deep enough for them all\n"
	       " -o, --io-size BYTES    I/O size, a multiple of the block size (default 4096)\n"
	       " -w, --io-pattern P     read, write, randread, randwrite, rw, randrw (default randread)\n"
	       " -M, --rwmixread PCT    read percentage of rw/randrw (default 50)\n"
	       " -t, --time SEC         run time in seconds (default 10)\n"
	       " -c, --core-mask MASK   cores of the poll-group threads (default 0x1); -m works too\n"
	       " -P, --num-qpairs N     I/O queues per namespace and core (default 1)\n"
	       " -L                     latency percentiles per queue; -LL adds the histogram\n"
	       " -H, -I                 request TCP header / data digests\n"
	       " -k, --keepalive MS     keep alive timeout (default 10000)\n"
	       "     --verify           write a pattern tagged with LBA and generation, check reads\n"
	       "     --json             print the results as JSON\n"
	       "%s"
	       " -h, --help             this help\n"
	       "Exit status: 0 ok, 1 I/O errors, verify mismatches or a lost target, 2 bad usage\n"
	       "or connection failure (authentication and TLS failures included).\n",
	       prog, g_sec_args_usage);
}

static int
parse_workload(struct perf_opts *opts, const char *w)
{
	static const struct {
		const char *name;
		bool random;
		int read_pct;
	} tab[] = {
		{ "read", false, 100 },	  { "write", false, 0 }, { "randread", true, 100 },
		{ "randwrite", true, 0 }, { "rw", false, -1 },	 { "randrw", true, -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strcmp(w, tab[i].name) == 0) {
			opts->is_random = tab[i].random;
			if (tab[i].read_pct >= 0) {
				opts->read_pct = tab[i].read_pct;
			} else if (opts->read_pct == 100 || opts->read_pct == 0) {
				opts->read_pct = -1; /* -M decides; default 50 */
			}
			return 0;
		}
	}
	fprintf(stderr, "unknown workload '%s'\n", w);
	return -EINVAL;
}

static int
parse_num(const char *opt, const char *arg, uint64_t min, uint64_t max, uint32_t *out)
{
	uint64_t v;

	if (nvt_parse_capacity(arg, &v) != 0 || v < min || v > max) {
		fprintf(stderr, "%s wants a number from %llu to %llu, not '%s'\n", opt,
			(unsigned long long)min, (unsigned long long)max, arg);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
add_trid(struct perf_opts *opts, const char *arg)
{
	char err[128];

	if (opts->num_trids == PERF_MAX_TRIDS) {
		fprintf(stderr, "at most %d -r options\n", PERF_MAX_TRIDS);
		return -EINVAL;
	}
	if (nvt_nvme_trid_parse(&opts->trids[opts->num_trids], arg, err, sizeof(err)) != 0) {
		fprintf(stderr, "bad transport ID '%s': %s\n", arg, err);
		return -EINVAL;
	}
	opts->num_trids++;
	return 0;
}

static int
parse_one(struct perf_opts *opts, int ch, const char *arg, int *mix)
{
	uint32_t v;

	switch (ch) {
	case 'q':
		return parse_num("-q", arg, 1, 65535, &opts->queue_depth);
	case 'o':
		return parse_num("-o", arg, 512, 128u << 20, &opts->io_size);
	case 'w':
		return parse_workload(opts, arg);
	case 'M':
		if (parse_num("-M", arg, 0, 100, &v) != 0) {
			return -EINVAL;
		}
		*mix = (int)v;
		return 0;
	case 't':
		return parse_num("-t", arg, 1, 86400, &opts->time_s);
	case 'c':
	case 'm':
		opts->core_mask = arg;
		return 0;
	case 'r':
		return add_trid(opts, arg);
	case 'L':
		opts->latency_level++;
		return 0;
	case 'P':
		return parse_num("-P", arg, 1, 64, &opts->queues_per_ns);
	case 'H':
		opts->hdgst = true;
		return 0;
	case 'I':
		opts->ddgst = true;
		return 0;
	case 'k':
		return parse_num("-k", arg, 0, 3600000, &opts->kato_ms);
	case OPT_JSON:
		opts->json = true;
		return 0;
	case OPT_VERIFY:
		opts->verify = true;
		return 0;
	default:
		return sec_args_parse(&opts->sec, ch, arg) == 1 ? 0 : -EINVAL;
	}
}

int
perf_parse_args(int argc, char **argv, struct perf_opts *opts)
{
	int ch, mix = 50;

	memset(opts, 0, sizeof(*opts));
	opts->queue_depth = 32;
	opts->io_size = 4096;
	opts->is_random = true;
	opts->read_pct = 100;
	opts->time_s = 10;
	opts->core_mask = "0x1";
	opts->queues_per_ns = 1;
	opts->kato_ms = 10000;
	while ((ch = getopt_long(argc, argv, "q:o:w:M:t:c:m:r:LP:HIk:S:h", g_long_opts, NULL)) !=
	       -1) {
		if (ch == 'h') {
			usage(argv[0]);
			return 1;
		}
		if (ch == '?' || parse_one(opts, ch, optarg, &mix) != 0) {
			fprintf(stderr, "try '%s --help'\n", argv[0]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (opts->num_trids == 0) {
		fprintf(stderr, "at least one -r TRID is needed; try '%s --help'\n", argv[0]);
		return -EINVAL;
	}
	if (opts->read_pct < 0) {
		opts->read_pct = mix;
	}
	return 0;
}
