/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The interface a bdev module (module/bdev/<name>) provides to lib/bdev, and
 * what lib/bdev gives it back. Not for applications, which use nvtcp/bdev.h.
 *
 * A module embeds struct nvt_bdev in its own device struct, fills the
 * public part (name, sizes, fn_table, ctxt) and registers it on the app
 * thread. lib/bdev owns the rest: the registry, descriptors, the bdev's
 * io-channels (each holds the module's channel from fn_table->get_io_channel)
 * and the bdev_io objects, recycled per channel.
 *
 * I/O: lib/bdev checks the range, the access mode and the I/O type before
 * calling submit_request() on the submitting thread; the module completes
 * every bdev_io exactly once with nvt_bdev_io_complete(), on that same
 * thread, from inside submit_request() (synchronous modules) or later (from
 * a poller). lib/bdev never runs the user's callback inside the submit call.
 */
#ifndef NVTCP_INTERNAL_BDEV_MODULE_H
#define NVTCP_INTERNAL_BDEV_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "nvtcp/bdev.h"
#include "nvtcp/queue.h"
#include "nvtcp/thread.h"
#include "nvtcp/uuid.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nvt_bdev_io;
struct nvt_io_channel;
/* jansson's json_t, so modules that write configuration need not include it here. */
struct json_t;
struct nvt_jsonrpc_request;

/** A module's description, shared by all its bdevs. */
struct nvt_bdev_module {
	/** Short name ("malloc", "null"). */
	const char *name;
	/** Bytes of driver_ctx each bdev_io of this module's bdevs carries. */
	size_t io_ctx_size;
};

/** What lib/bdev calls in a module; every entry is required unless noted. */
struct nvt_bdev_fn_table {
	/**
	 * Release the device once no descriptor and no channel is left. App thread.
	 * Return 0 when done (the bdev may then already be freed), or 1 when the
	 * module finishes later with nvt_bdev_destruct_done(), which it must call
	 * before it frees the memory of the bdev.
	 */
	int (*destruct)(void *ctxt);

	/** Carry out \p bdev_io; \p ch is the module's channel of this thread. */
	void (*submit_request)(struct nvt_io_channel *ch, struct nvt_bdev_io *bdev_io);

	/** Whether the device supports I/O of \p type. */
	bool (*io_type_supported)(void *ctxt, enum nvt_bdev_io_type type);

	/** The calling thread's module channel (a reference, put by lib/bdev). */
	struct nvt_io_channel *(*get_io_channel)(void *ctxt);

	/**
	 * Optional: append the {"method", "params"} object that recreates the bdev
	 * to the JSON array \p config (configuration save). App thread.
	 */
	void (*write_config_json)(struct nvt_bdev *bdev, struct json_t *config);

	/**
	 * Optional: add the module's own description to the JSON object \p obj
	 * (bdev_get_bdevs' "driver_specific"), as {"<module>": {...}}. App thread.
	 */
	void (*dump_info_json)(struct nvt_bdev *bdev, struct json_t *obj);
};

/**
 * A block device. The fields above `internal` are set by the module before
 * nvt_bdev_register() and are read-only afterwards; `internal` is lib/bdev's.
 */
struct nvt_bdev {
	/** Unique name, copied at registration. */
	char name[NVT_BDEV_NAME_LEN];
	/** Constant string owned by the module ("Malloc disk"). */
	const char *product_name;
	/** Bytes per block: a power of two, 512 .. 4096. */
	uint32_t blocklen;
	/** Size in blocks, > 0. */
	uint64_t blockcnt;
	/** All zero: lib/bdev generates a random (version 4) UUID at registration. */
	uint8_t uuid[16];
	/** Whether written data needs a flush (or a FUA write) to be durable. */
	bool write_cache;
	/** The backing takes no writes: write opens are refused. */
	bool read_only;
	/** Blocks deallocated by an unmap read back as zeroes. */
	bool unmap_zeroes;
	/** Most blocks one write-zeroes or unmap may cover; 0: no limit. */
	uint64_t max_zeroes_blocks;
	/** The module's context, given to every fn_table call. */
	void *ctxt;
	const struct nvt_bdev_fn_table *fn_table;
	const struct nvt_bdev_module *module;

	/** Owned by lib/bdev. */
	struct {
		/** Descriptors open on the bdev; under the registry lock. */
		TAILQ_HEAD(, nvt_bdev_desc) open_descs;
		/** Deletion started: no new opens, lookups skip it. */
		bool removing;
		/** The thread that deletes it, where the deletion finishes. */
		struct nvt_thread *remove_thread;
		nvt_bdev_delete_cb delete_cb;
		void *delete_cb_arg;
		/** Once every descriptor is closed: the deletion goes on, on remove_thread. */
		struct nvt_thread_msg unregister_msg;
		/** I/O statistics that outlive channels; lib/bdev's bdev_stat.c. */
		struct bdev_stat_dev *stat;
		TAILQ_ENTRY(nvt_bdev) link;
	} internal;
};

/** One I/O as a module sees it. Owned by lib/bdev; valid until completed. */
struct nvt_bdev_io {
	struct nvt_bdev *bdev;
	enum nvt_bdev_io_type type;
	/** Data of read, write and compare (NULL, 0 for the others). */
	struct iovec *iovs;
	int iovcnt;
	uint64_t offset_blocks;
	uint64_t num_blocks;
	/** NVT_BDEV_IO_FLAG_FUA (writes only). */
	uint32_t flags;
	/**
	 * Compare-and-write only: the data to write once the bdev's data matched
	 * iovs (num_blocks blocks both); the module writes nothing on a mismatch.
	 */
	struct iovec *fused_iovs;
	int fused_iovcnt;

	/** Owned by lib/bdev. */
	struct {
		struct nvt_bdev_channel *ch;
		nvt_bdev_io_cb cb;
		void *cb_arg;
		int status;
		/** Ticks at submission, for the latency statistics. */
		uint64_t submit_tsc;
		STAILQ_ENTRY(nvt_bdev_io) link;
	} internal;

	/** The module's per-I/O context, nvt_bdev_module.io_ctx_size bytes. */
	uint8_t driver_ctx[] __attribute__((aligned(16)));
};

/**
 * Register a bdev on the app thread. Generates its UUID when all zero.
 *
 * \return 0, -EEXIST (name taken, or UUID taken), -EINVAL (bad name, size or
 * table) or -ENOMEM.
 */
int nvt_bdev_register(struct nvt_bdev *bdev);

/**
 * Unregister a bdev on the app thread (what nvt_bdev_delete() does once it
 * found it): openers get NVT_BDEV_EVENT_REMOVE; once every descriptor is
 * closed and every channel released, destruct() runs and then \p cb. \p cb
 * never runs inside this call.
 *
 * \return 0, or -ENODEV when the bdev is already being unregistered.
 */
int nvt_bdev_unregister(struct nvt_bdev *bdev, nvt_bdev_delete_cb cb, void *cb_arg);

/** The creation options modules share (a module may take more of its own). */
struct nvt_bdev_create_opts {
	size_t opts_size;
	const char *name;    /**< required */
	uint64_t num_blocks; /**< required, > 0 */
	uint32_t block_size; /**< a power of two, 512 .. 4096 (default 512) */
	const uint8_t *uuid; /**< 16 bytes, or NULL to generate one */
};

void nvt_bdev_create_opts_init(struct nvt_bdev_create_opts *opts, size_t opts_size);

/**
 * A module's SPDK create method (bdev_malloc_create, ...), served by
 * nvt_bdev_rpc_create(). lib/bdev holds the one rule of each SPDK creation
 * parameter (applied, accepted at SPDK's default only, or a hint accepted
 * without being applied); the module names those its method takes.
 */
struct nvt_bdev_rpc_create_method {
	/** The method's name: "bdev_malloc_create", ... */
	const char *method;
	/**
	 * SPDK's parameters of the method, NULL-terminated; others are refused as
	 * unknown. A saved configuration writes them all, in this order.
	 */
	const char *const *params;
	/** Unnamed bdevs get PREFIX0, PREFIX1, ... (the first free); NULL: name required. */
	const char *name_prefix;
	/** Creates the bdev: nvt_bdev_malloc_create(), ... */
	int (*create)(const struct nvt_bdev_create_opts *opts, struct nvt_bdev **bdev);
};

/**
 * Serve a module's SPDK create method: decode \p params by \p m's rules,
 * create the bdev and answer its name, as SPDK does. App thread.
 */
void nvt_bdev_rpc_create(struct nvt_jsonrpc_request *request, const struct json_t *params,
			 const struct nvt_bdev_rpc_create_method *m);

/**
 * Append the {"method": ..., "params": {...}} entry of \p m that recreates
 * \p bdev to a saved configuration: every parameter of \p m with nvtcp's
 * value (the bdev's own, or what nvtcp does), so that it loads back.
 */
void nvt_bdev_write_create_config(const struct nvt_bdev *bdev,
				  const struct nvt_bdev_rpc_create_method *m,
				  struct json_t *config);

/**
 * Serve an SPDK-style "<module>_delete" RPC ({"name": ...}): unregister the
 * bdev of that name if \p module owns it and answer once it is gone. App thread.
 */
void nvt_bdev_rpc_delete(struct nvt_jsonrpc_request *request, const struct json_t *params,
			 const char *method, const struct nvt_bdev_module *module);

/**
 * The bdev now has \p blockcnt blocks (its backing grew or shrank): openers
 * get NVT_BDEV_EVENT_RESIZE on their threads. App thread.
 * \return 0, or -EINVAL (0 blocks, or beyond the address space).
 */
int nvt_bdev_notify_blockcnt_change(struct nvt_bdev *bdev, uint64_t blockcnt);

/** End an asynchronous destruct() with 0 or -errno; call before freeing the bdev. */
void nvt_bdev_destruct_done(struct nvt_bdev *bdev, int status);

/**
 * Complete \p bdev_io with 0 or a negative errno (see nvt_bdev_io_cb). On the
 * thread it was submitted on, exactly once; the bdev_io is not to be touched
 * afterwards.
 */
void nvt_bdev_io_complete(struct nvt_bdev_io *bdev_io, int status);

/** Bytes per block of \p bdev_io's device. */
static inline uint32_t
nvt_bdev_io_block_size(const struct nvt_bdev_io *bdev_io)
{
	return bdev_io->bdev->blocklen;
}

/**
 * Validate the creation options of a module and copy them, with
 * defaults for the fields beyond \p in->opts_size, into \p out. The name
 * stays the caller's.
 *
 * \return 0, or -EINVAL (no name or too long, no blocks, block size not a
 * power of two in 512 .. 4096, size beyond the address space).
 */
int nvt_bdev_create_opts_check(const struct nvt_bdev_create_opts *in,
			       struct nvt_bdev_create_opts *out);

/**
 * What a module holds beyond its bdevs (a connection its bdevs share, ...),
 * registered once at load time with NVT_BDEV_MODULE_HOOKS_REGISTER().
 */
struct nvt_bdev_module_hooks {
	/**
	 * Optional: append the module's own {"method", "params"} entries to the
	 * "bdev" part of a saved configuration, before every bdev's (bdevs may
	 * name what these create). App thread.
	 */
	void (*write_config_json)(struct json_t *config);
	/**
	 * Optional: at nvt_bdev_fini(), once every bdev is gone, release what
	 * the module holds, then call \p done(\p arg) on the app thread (inside
	 * this call or later). Modules run one after the other.
	 */
	void (*fini)(void (*done)(void *arg), void *arg);
	/**
	 * Optional: an orderly shutdown began (nvt_bdev_shutdown_begin()), before
	 * the users of bdevs are torn down; for bounding what may never end (I/O
	 * to a backing that stopped answering). App thread.
	 */
	void (*shutdown_begin)(void);
	/** lib/bdev's. */
	struct nvt_bdev_module_hooks *next;
};

/**
 * Copy \p len bytes between the flat \p buf and the iovecs: from the iovecs
 * into \p buf when \p to_buf, else from \p buf into them. Any thread.
 * \return the bytes the iovecs were short of \p len (0: all copied).
 */
size_t nvt_bdev_iov_copy(uint8_t *buf, const struct iovec *iov, int iovcnt, size_t len,
			 bool to_buf);

/**
 * Compare \p len bytes of \p buf with the iovecs (as far as they reach).
 * \return 0 when equal, -EILSEQ (the compare status) when they differ.
 */
int nvt_bdev_iov_compare(const uint8_t *buf, const struct iovec *iov, int iovcnt, size_t len);

/** Register \p hooks (static storage); at load time. */
void nvt_bdev_module_hooks_register(struct nvt_bdev_module_hooks *hooks);

#define NVT_BDEV_MODULE_HOOKS_REGISTER(hooks)                                        \
	__attribute__((constructor)) static void nvt_bdev_module_hooks_##hooks(void) \
	{                                                                            \
		nvt_bdev_module_hooks_register(&(hooks));                            \
	}

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_INTERNAL_BDEV_MODULE_H */
