/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the libFuzzer harnesses of test/fuzz share: the real target in the
 * harness's own process, on nvt_threads that the harness polls by hand on
 * its one OS thread, under a virtual clock; and the one stand-in, the
 * socket implementation "fuzz" (fuzz_sock.c), through which connections
 * arrive and whose bytes the harness writes and reads.
 *
 * Determinism: nothing waits in real time. Time only moves when the harness
 * moves it (fuzz_env_advance(), fuzz_env_run_until()), so timers (accept
 * poller, keep alive, deferred deletions) fire in the same order on every
 * run of an input, however fast the machine is.
 *
 * Every function runs on the harness's OS thread; after each of them the
 * current nvt_thread is the app thread again.
 */
#ifndef NVT_FUZZ_ENV_H
#define NVT_FUZZ_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "nvtcp/queue.h"

/* Subsystem, namespaces and host of fuzz_env_target_config(). */
#define FUZZ_SUBNQN  "nqn.2016-06.io.nvtcp:fuzz"
#define FUZZ_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:f0220000-0000-0000-0000-000000000001"
/*
 * The host that must authenticate (fuzz_env_start_auth_target()), and its
 * DH-HMAC-CHAP secrets as nvme gen-dhchap-key writes them: the host's
 * (transformed with SHA-256) and the controller's (used as it is).
 */
#define FUZZ_AUTH_HOSTNQN   "nqn.2014-08.org.nvmexpress:uuid:f0220000-0000-0000-0000-000000000002"
#define FUZZ_AUTH_HOST_KEY  "DHHC-1:01:dpb2pzQnxgXoNkZMXQnGlcn4s9VFqaLvvXShthBKayKBJpd2:"
#define FUZZ_AUTH_CTRLR_KEY "DHHC-1:00:RZJVkkcxLxJ85s/3xN7QVEGxQTK6NeommKL0qDxSgGkOl2Oc:"
/* A host with FUZZ_AUTH_HOST_KEY only: the controller has nothing to prove itself with. */
#define FUZZ_AUTH_UNI_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:f0220000-0000-0000-0000-000000000003"
/* The DH group the target's configuration leaves out (nvmf_set_config dhchap_dhgroups). */
#define FUZZ_AUTH_REFUSED_DHGROUP "ffdhe6144"
/* Namespace 1: a RAM disk of 2048 blocks of 512 bytes; namespace 2: a null disk, 4 KiB blocks. */
#define FUZZ_NS1_BLOCKS	    2048
#define FUZZ_NS1_BLOCK_SIZE 512
#define FUZZ_NS2_BLOCKS	    256
#define FUZZ_NS2_BLOCK_SIZE 4096
/* Transport options of fuzz_env_target_config(): a small pool, so it can run dry. */
#define FUZZ_QUEUE_DEPTH    32
#define FUZZ_POOL_BUFFERS   96
#define FUZZ_BUF_CACHE	    16
#define FUZZ_ICD_SIZE	    4096
#define FUZZ_MAX_IO_SIZE    131072
#define FUZZ_IO_UNIT_SIZE   8192
#define FUZZ_ACCEPT_POLL_US 1000

/* Virtual time a harness gives the target to finish something before calling it stuck. */
#define FUZZ_SETTLE_US (60ull * 1000 * 1000)

/* ---- environment ---- */

/*
 * Set up once per process: logs off (NVT_FUZZ_LOG=1 keeps them on stderr),
 * sanitizer-friendly defaults, the thread library and the app thread.
 * Later calls do nothing.
 */
void fuzz_env_init(void);

/* Print "fuzz: <message>" and abort(): libFuzzer saves the input as a crash. */
void fuzz_env_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* save_config's output as canonical text (sorted keys; the caller frees it); fails the run on error. */
char *fuzz_env_config_text(void);

/* ---- polling and time ---- */

/*
 * Poll every thread until none does any work, without moving time.
 * Threads that exited are destroyed. A target that stays busy beyond a
 * large bound (a livelock) fails the run.
 */
void fuzz_env_poll(void);

/* Move the virtual clock \p us microseconds ahead, then fuzz_env_poll(). */
void fuzz_env_advance(uint64_t us);

/*
 * Poll, and while \p cond(\p ctx) is false move time to the next due timer,
 * for at most \p max_us of virtual time. \return whether cond became true.
 */
bool fuzz_env_run_until(bool (*cond)(void *ctx), void *ctx, uint64_t max_us);

/* The current virtual time in microseconds. */
uint64_t fuzz_env_now_us(void);

/* Live nvt_threads (the app thread included). */
uint32_t fuzz_env_thread_count(void);

/* ---- RPC and configuration ---- */

/*
 * Run one JSON-RPC request on the app thread and wait (in virtual time, at
 * most FUZZ_SETTLE_US) for its answer. \return the response text (free()
 * it), NULL for a notification; \p answered says whether it finished.
 */
char *fuzz_env_rpc(const char *request, bool *answered);

/*
 * Load \p config with nvt_config_load_json() and wait for it (at most
 * FUZZ_SETTLE_US of virtual time). \return the load's rc; -ETIMEDOUT when
 * it never finished.
 */
int fuzz_env_load_config(const json_t *config);

/*
 * The configuration of the stream and command harnesses: a TCP transport
 * (the FUZZ_* options), a RAM and a null bdev as namespaces 1 and 2 of
 * FUZZ_SUBNQN (any host), listening on 127.0.0.1 (fuzz_sock.c confines
 * every listener to a private loopback port). Caller owns the result.
 */
json_t *fuzz_env_target_config(void);

/*
 * Load fuzz_env_target_config() and record what idle looks like
 * (fuzz_env_check_idle()); fails the process when it cannot.
 */
void fuzz_env_start_target(void);

/*
 * fuzz_env_start_target(), and FUZZ_AUTH_HOSTNQN added to FUZZ_SUBNQN with
 * FUZZ_AUTH_HOST_KEY as dhchap_key and FUZZ_AUTH_CTRLR_KEY as
 * dhchap_ctrlr_key, FUZZ_AUTH_UNI_HOSTNQN with the dhchap_key only, and
 * every DH group allowed but FUZZ_AUTH_REFUSED_DHGROUP (so that the target's
 * choice is checked against its configuration, at no cost to coverage: the
 * groups share their code). The keys come in as a host's keys do: files of mode
 * 0600 in a new temporary directory, added by keyring_file_add_key (the
 * harness must link the keyring's RPC methods). The directory is removed
 * as soon as the configuration is loaded (the keyring holds the secrets
 * from then on), so that a run that ends in a crash leaves nothing behind.
 * FUZZ_HOSTNQN keeps no keys: it connects as with fuzz_env_start_target().
 */
void fuzz_env_start_auth_target(void);

/*
 * The target is back where fuzz_env_start_target() left it: no queue pair
 * in any poll group or transport, no request or bdev I/O pending, every
 * data buffer back in its cache, and as many threads, pollers and
 * io-channels as then. Otherwise the run fails, naming what differs.
 */
void fuzz_env_check_idle(void);

/*
 * Shut the target and every bdev down (nvt_nvmf_tgt_fini(), nvt_bdev_fini()),
 * put the RPC layer back in its start-up state and the target options back
 * to the defaults (with core 0), and check that only the app thread is left.
 * The default socket implementation is the caller's business.
 */
void fuzz_env_reset(void);

/* ---- the socket stand-in (fuzz_sock.c) ---- */

/*
 * The far end of one connection to the target: a real loopback TCP
 * connection, so that the target's listener accepts it as any other, but no
 * byte goes through it. The target's reads get what the harness pushes,
 * cut into chunks (one chunk per poll of the socket's group, so PDUs are
 * split at the chunk bounds); its writes are recorded (when \p record) and
 * completed at once, or a few bytes per poll when \p send_budget is set.
 */
struct fuzz_conn {
	int fd;		       /* the harness's end of the loopback connection */
	uint16_t port;	       /* its local port, to match the accepted socket */
	struct nvt_sock *sock; /* the target's socket; NULL before accept and after close */
	bool accepted;	       /* the target's listener accepted it */
	bool closed;	       /* the target closed its socket */

	uint8_t *in; /* bytes for the target; [in_off, in_len) not yet read */
	size_t in_len, in_off, in_cap;
	bool eof; /* after the last byte the target reads end of stream */

	/* Chunks: 1 + a pseudo-random number below chunk_max bytes (0: no cutting). */
	uint32_t chunk_max;
	uint32_t chunk_left;
	uint32_t rng;

	uint32_t send_budget; /* bytes the target may send per group poll; 0: any */
	bool record;	      /* keep what the target sends in out */
	uint8_t *out;	      /* [out_off, out_len) not yet consumed by the harness */
	size_t out_len, out_off, out_cap;
	uint64_t sent; /* bytes the target sent in all */

	TAILQ_ENTRY(fuzz_conn) link;
};

/*
 * Open a connection to the listener on \p port (fuzz_sock_listen_port())
 * and wait until the target accepted it and added it to a poll group.
 * \return the connection, or NULL (the run fails when the target never
 * takes it).
 */
struct fuzz_conn *fuzz_conn_open(uint16_t port);

/* Queue \p len bytes for the target's reads. */
void fuzz_conn_push(struct fuzz_conn *conn, const void *data, size_t len);

/*
 * End of stream: after what is queued the target reads 0, then wait until
 * it closed its socket (the run fails when it never does).
 */
void fuzz_conn_shutdown(struct fuzz_conn *conn);

/* Free the connection (after fuzz_conn_shutdown(), or at any time to abandon it). */
void fuzz_conn_free(struct fuzz_conn *conn);

/* The port of the \p index-th listening socket (in creation order); 0 if none. */
uint16_t fuzz_sock_listen_port(uint32_t index);

#endif /* NVT_FUZZ_ENV_H */
