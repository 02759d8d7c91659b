/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the files of the storage test share (storage_test.c says what it
 * checks): the namespaces under test, host commands run from the driver
 * thread on the reactor's thread (storage_host.c), nvtcpd and its backings
 * (storage_env.c), the data checks (storage_io.c) and the admin checks
 * (storage_admin.c).
 */
#ifndef STORAGE_INTERNAL_H
#define STORAGE_INTERNAL_H

#include <limits.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvtcp/nvme.h"
#include "nvtcp/thread.h"

#include "test_daemon.h"
#include "test_util.h"

#define SUBNQN	   "nqn.2016-06.io.nvtcp:storage-test"
#define MIB	   (1024u * 1024u)
#define FILE_SIZE  (64ull * MIB)
#define GROWN_SIZE (96ull * MIB)
#define RO_SIZE	   (1ull * MIB)
#define MDTS	   (128u * 1024u)
#define DEPTH	   32u
#define BUF_SIZE   (2u * MIB)
#define ITERS	   8u
#define PARALLEL   16u
#define WAIT_S	   30
#define OUT_LEN	   8192

/* A namespace under test and its backing. */
struct ns_info {
	const char *bdev;
	const char *method;
	uint32_t nsid;
	/* The block_size of the create method (0: the backing's). */
	uint32_t asked_bs;
	/* The block size the namespace must have. */
	uint32_t block_size;
	uint64_t size;
	bool read_only;
	bool file;
	bool present;
	/* The file; for the loop namespace its loop device's backing file. */
	char image[PATH_MAX];
	/* What the bdev opens: the file, or the loop device. */
	char dev[PATH_MAX];
};

enum {
	NS_FILE,
	NS_FILE4K,
	NS_RO,
	NS_LOOP,
	NUM_NS
};

/* One host command and its outcome. */
enum op_kind {
	OP_READ,
	OP_WRITE,
	OP_FLUSH,
	OP_WRITE_ZEROES,
	OP_DEALLOCATE,
	OP_ADMIN,
};

struct call;

struct op {
	enum op_kind kind;
	uint32_t nsid;
	uint64_t slba;
	uint32_t nlb;
	uint32_t io_flags;
	void *buf;
	/* OP_ADMIN: the command and its data length. */
	struct nvt_nvme_cmd cmd;
	uint32_t len;
	const struct nvt_nvme_dsm_range *ranges;
	uint16_t nr;
	/* -errno of the submission, or the status word (phase bit cleared). */
	int status;
	uint32_t cdw0;
	struct call *call;
};

/* Work for the reactor's thread: \p fn runs there; the driver waits for \p done. */
struct call {
	nvt_msg_fn fn;
	sem_t done;
	struct op *ops;
	uint32_t nops;
	uint32_t pending;
	int rc;
};

/* ---- storage_test.c ---- */

extern struct ns_info g_ns[NUM_NS];
extern const char *g_nvtcpd;
extern const char *g_cli;
/* BUF_SIZE each, 4 KiB aligned: data to write, data read, data read from the backing. */
extern uint8_t *g_wbuf;
extern uint8_t *g_rbuf;
extern uint8_t *g_fbuf;

/* Something the test cannot go on from: clean up and exit 1 at once. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A number below \p n, from the seed. */
uint64_t rand_below(uint64_t n);

/* \p len bytes of data no other call gives (a fresh stream each time). */
void pattern_fill(uint8_t *buf, size_t len);

/* ---- storage_env.c ---- */

/* The test's directory, nvtcpd's port and its RPC socket. */
extern char g_dir[PATH_MAX];
extern int g_port;
extern char g_sock[PATH_MAX];
extern struct nvt_test_daemon g_daemon;

/* The backing files (and the loop device); the read-only file's data left in g_wbuf. */
int images_create(void);

/* Start nvtcpd on the namespaces present and wait until it listens. */
bool daemon_start(void);

/* Kill nvtcpd if it runs, detach the loop device, remove the directory. */
void cleanup(void);

/* The CLI: METHOD then key=value arguments, NULL-terminated; its exit status. */
int cli(char *out, size_t outlen, const char *method, ...) __attribute__((sentinel));

/* driver_specific.uring.direct of bdev \p name from bdev_get_bdevs. */
bool bdev_direct(const char *name);

/* ---- storage_host.c ---- */

extern struct nvt_thread *g_app_thread;
extern struct nvt_nvme_ctrlr *g_ctrlr;

/* Submit every op of the call; the call is done once each completed or failed to submit. */
void ops_submit_msg(void *arg);

/* Send \p c to the reactor's thread; wait for it with call_wait(). */
void call_start(struct call *c);

/* Wait for \p c; false when it did not end within \p seconds. */
bool call_wait(struct call *c, int seconds);

/* Run \p c on the reactor's thread and wait for it (fatal after WAIT_S). */
void call_run(struct call *c, const char *what);

/* Run \p n ops at once; the status of the first (or -EINVAL for none). */
int ops_run(struct op *ops, uint32_t n);

/* One command on \p ns; its status (-errno of the submission, or the NVMe status). */
int io(enum op_kind kind, const struct ns_info *ns, uint64_t slba, uint32_t nlb, void *buf,
       uint32_t io_flags);
int deallocate(const struct ns_info *ns, const struct nvt_nvme_dsm_range *ranges, uint16_t nr);
int admin(const struct nvt_nvme_cmd *cmd, void *buf, uint32_t len, uint32_t *cdw0);

/* Identify Namespace, asked now (lib/nvme keeps the data of connect time). */
int identify_ns(uint32_t nsid, struct nvt_nvme_id_ns *data);

bool status_is(int status, uint8_t sct, uint8_t sc);

/*
 * Connect the host (the controller and one I/O queue; c->rc 0 once both are
 * up) and disconnect it: the fn of a call run with call_run().
 */
void connect_msg(void *arg);
void disconnect_msg(void *arg);

/* ---- storage_io.c ---- */

uint64_t ns_blocks(const struct ns_info *ns);

/*
 * Write \p nlb blocks of fresh data at \p lba (with \p io_flags), read them
 * back and look at the backing; NULL, or what went wrong.
 */
const char *write_verify(const struct ns_info *ns, uint64_t lba, uint32_t nlb, uint32_t io_flags);

/* Every data check on a writable namespace. */
void check_writable(const struct ns_info *ns);

/* With the write cache off every write is durable on completion (FUA in the bdev). */
void check_vwc_off(const struct ns_info *ns);

/* \p data: what the read-only file holds. */
void check_read_only(const struct ns_info *ns, const uint8_t *data);

/* ---- storage_admin.c ---- */

/* Identify Namespace: size, block size, DLFEAT (\p read_zeroes) and NSATTR. */
void check_identify(const struct ns_info *ns, bool read_zeroes);

void check_connected(void);

/* An Asynchronous Event Request, left outstanding until check_resize(). */
void aer_start(void);

/* Grow the file behind \p ns and rescan it: the event, the log page, the new size. */
void check_resize(struct ns_info *ns);

/* Creating a bdev over a missing or too small file is refused; the rest serves on. */
void check_create_errors(void);

#endif /* STORAGE_INTERNAL_H */
