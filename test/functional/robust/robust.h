/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the robustness tests share: nvtcpd on a RAM namespace with transport
 * options of the test's choosing, its stats, a controller opened by the raw
 * host, and a verified host - a thread that writes, reads back and compares
 * for as long as the test runs, to prove that other connections keep being
 * served whatever the test does to the daemon.
 */
#ifndef NVT_ROBUST_H
#define NVT_ROBUST_H

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "test_daemon.h"
#include "test_tcp.h"

#define ROBUST_SUBNQN "nqn.2016-06.io.nvtcp:robust"
#define ROBUST_BLK    512
#define ROBUST_BLOCKS (64u * 1024u) /* 32 MiB */
/* The verified host's namespace (1,024 blocks), which nothing else touches. */
#define ROBUST_HOST_NSID 2
#define ROBUST_HOSTNQN	 "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000c0de"

struct robust_target {
	struct nvt_test_daemon d;
	char dir[PATH_MAX];
	char rpc[108];
	int port;
};

/*
 * Start nvtcpd (\p nvtcpd, cores 0x3) with one subsystem, any host allowed:
 * namespace 1 a malloc bdev of ROBUST_BLOCKS blocks, namespace 2 the
 * verified host's, listening on 127.0.0.1, and
 * \p transport_opts (JSON members, may be "") added to nvmf_create_transport.
 * 0, or -errno (reported on stderr).
 */
int robust_start(struct robust_target *t, const char *nvtcpd, const char *transport_opts);

/* SIGTERM, wait, remove the directory: 0 when nvtcpd exited cleanly (no leak under ASan). */
int robust_stop(struct robust_target *t);

/* nvmf_get_stats' result (the caller's reference), or NULL. */
json_t *robust_stats(struct robust_target *t);

/*
 * Wait up to \p timeout_ms until every poll group's buffers are back (iobuf
 * in_use 0) and nvtcpd counts \p conns connections: 0, or -ETIMEDOUT.
 */
int robust_wait_idle(struct robust_target *t, json_int_t conns, int timeout_ms);

/* Open admin queue (KATO \p kato_ms) + CC.EN + I/O queue 1 on \p t: 0 or -errno. */
int robust_ctrl_open(struct robust_target *t, const char *hostnqn, uint32_t kato_ms,
		     struct nvt_test_conn *admin, struct nvt_test_conn *io);

/* The same, asking for digests: ROBUST_HDGST and/or ROBUST_DDGST. */
#define ROBUST_HDGST (1u << 0)
#define ROBUST_DDGST (1u << 1)
int robust_ctrl_open_digests(struct robust_target *t, const char *hostnqn, uint32_t kato_ms,
			     unsigned int digests, struct nvt_test_conn *admin,
			     struct nvt_test_conn *io);

/* A verified host on its own controller, over blocks [lba, lba + 256) of namespace 2. */
struct robust_host {
	struct robust_target *t;
	struct nvt_test_conn admin, io;
	uint64_t lba;
	pthread_t thread;
	bool running;
	bool stop;    /* atomic: set by the test */
	uint64_t ios; /* atomic: verified I/Os */
	char error[256];
};

/* Connect it and start its thread: 0 or -errno. */
int robust_host_start(struct robust_host *h, struct robust_target *t, uint64_t lba);

/* Verified I/Os so far. */
uint64_t robust_host_ios(struct robust_host *h);

/* Stop and join it, close its queues: 0 when every I/O verified, else -1 (reported). */
int robust_host_stop(struct robust_host *h);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t robust_now_ms(void);

#endif /* NVT_ROBUST_H */
