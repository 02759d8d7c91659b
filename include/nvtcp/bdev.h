/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * Block devices (bdevs): what namespaces are backed by.
 *
 * A bdev is opened into a descriptor; each thread that does I/O gets its
 * own io-channel from the descriptor (nvt_bdev_get_io_channel()) and submits
 * through it, lock-free. Offsets and lengths are in blocks.
 *
 * Asynchronous contract of every submit function: a non-zero return means
 * the callback will not run; 0 means it runs exactly once, on the submitting
 * thread, never inside the submit call. Submit returns -EINVAL (range beyond
 * the bdev, 0 blocks - except for flush -, iovecs shorter than the blocks, a
 * channel of another bdev, no callback), -EBADF (write, write zeroes or unmap
 * through a read-only descriptor), -ENOTSUP (I/O type not supported) or
 * -ENOMEM. Completions of a synchronous device are delivered by one message
 * per batch, so a sleeping reactor wakes for them.
 *
 * Bdevs are created by modules (module/bdev/<name>, each with its own
 * header and RPC methods); this layer knows none of them by name.
 *
 * Threads: bdevs are created and deleted on the app thread (by their
 * module's functions or RPC), and the registry is the app thread's. Lookup,
 * open and close are also safe on other nvt_threads (the registry is
 * guarded by a lock that the I/O path never takes), but in practice opens
 * happen on the app thread and only channels are got on the I/O threads.
 */
#ifndef NVTCP_BDEV_H
#define NVTCP_BDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nvt_bdev;
struct nvt_bdev_desc;
struct nvt_io_channel;

#define NVT_BDEV_NAME_LEN 64

enum nvt_bdev_io_type {
	NVT_BDEV_IO_TYPE_READ,
	NVT_BDEV_IO_TYPE_WRITE,
	NVT_BDEV_IO_TYPE_FLUSH,
	NVT_BDEV_IO_TYPE_WRITE_ZEROES,
	NVT_BDEV_IO_TYPE_UNMAP,
	NVT_BDEV_IO_TYPE_COMPARE,
	/** Compare, and write only if the data matched, as one atomic step (fused). */
	NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE,
	NVT_BDEV_NUM_IO_TYPES,
};

enum nvt_bdev_event_type {
	/** The bdev is being deleted: close every descriptor to it. */
	NVT_BDEV_EVENT_REMOVE,
	/** The bdev's size changed. */
	NVT_BDEV_EVENT_RESIZE,
};

/** Called on the thread that opened the descriptor. */
typedef void (*nvt_bdev_event_cb)(enum nvt_bdev_event_type type, struct nvt_bdev *bdev, void *ctx);

/**
 * I/O completion. \p status is 0, -EIO (media or device error), -ENOSPC
 * (the backing ran out of space), -EROFS (the backing refused a write),
 * -EILSEQ (compare: data differ), -EINVAL (out of range or unsupported),
 * -ENOMEM, -ENODEV (the backing is gone for good, e.g. its image was deleted:
 * the namespace cannot serve I/O any more; retrying is pointless),
 * -ESHUTDOWN (this process may no longer reach the backing, e.g. it was
 * fenced off a shared image: another target of the same data may serve it).
 */
typedef void (*nvt_bdev_io_cb)(void *cb_arg, int status);

/**
 * Find a bdev by name or by UUID string (as SPDK's aliases); NULL if none or
 * being deleted. The pointer stays valid until the bdev is deleted: hold a
 * descriptor to keep it.
 */
struct nvt_bdev *nvt_bdev_get_by_name(const char *name);

/**
 * First registered bdev and the one after \p prev (NULL at the end), in
 * creation order, skipping those being deleted; app thread.
 */
struct nvt_bdev *nvt_bdev_first(void);
struct nvt_bdev *nvt_bdev_next(struct nvt_bdev *prev);

const char *nvt_bdev_get_name(const struct nvt_bdev *bdev);
/** The module's product name ("Malloc disk", "Null disk", ...). */
const char *nvt_bdev_get_product_name(const struct nvt_bdev *bdev);
uint32_t nvt_bdev_get_block_size(const struct nvt_bdev *bdev);
uint64_t nvt_bdev_get_num_blocks(const struct nvt_bdev *bdev);
/** 16-byte UUID, never all zero (random, version 4, when not given). */
const uint8_t *nvt_bdev_get_uuid(const struct nvt_bdev *bdev);
/** Whether writes are cached and need a flush (or FUA) to be durable. */
bool nvt_bdev_has_write_cache(const struct nvt_bdev *bdev);
/** Whether the bdev takes no writes (its backing is read-only). */
bool nvt_bdev_is_read_only(const struct nvt_bdev *bdev);
/** Whether blocks deallocated by an unmap are guaranteed to read back as zeroes. */
bool nvt_bdev_unmap_reads_zeroes(const struct nvt_bdev *bdev);
bool nvt_bdev_io_type_supported(const struct nvt_bdev *bdev, enum nvt_bdev_io_type type);
/** Most blocks one write-zeroes or unmap may cover (0: no limit). */
uint64_t nvt_bdev_get_max_zeroes_blocks(const struct nvt_bdev *bdev);

/**
 * Open a bdev by name (or UUID string) on the calling nvt_thread, which
 * receives \p event_cb (may be NULL: then the opener is not told of a
 * deletion, which waits for its close, nor of a resize).
 *
 * \return 0, -ENODEV (no such bdev, or being deleted), -EPERM (write open of
 * a read-only bdev), -EINVAL (no current thread), -ENOMEM.
 */
int nvt_bdev_open(const char *name, bool write, nvt_bdev_event_cb event_cb, void *event_ctx,
		  struct nvt_bdev_desc **desc);

/** Close a descriptor; on the thread that opened it. All I/O must have completed. */
void nvt_bdev_close(struct nvt_bdev_desc *desc);

struct nvt_bdev *nvt_bdev_desc_get_bdev(struct nvt_bdev_desc *desc);

/**
 * The calling thread's channel for I/O on \p desc's bdev (put with
 * nvt_put_io_channel()); any thread may use the descriptor this way. NULL
 * when out of memory or the bdev is being deleted and has no channel left.
 */
struct nvt_io_channel *nvt_bdev_get_io_channel(struct nvt_bdev_desc *desc);

int nvt_bdev_readv_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch, struct iovec *iov,
			  int iovcnt, uint64_t offset_blocks, uint64_t num_blocks,
			  nvt_bdev_io_cb cb, void *cb_arg);

int nvt_bdev_writev_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch, struct iovec *iov,
			   int iovcnt, uint64_t offset_blocks, uint64_t num_blocks,
			   nvt_bdev_io_cb cb, void *cb_arg);

/** Flags of nvt_bdev_writev_blocks_flags(). */
#define NVT_BDEV_IO_FLAG_FUA (1u << 0) /**< durable when it completes (NVMe FUA) */

/** A write with flags: NVT_BDEV_IO_FLAG_FUA; others are -EINVAL. */
int nvt_bdev_writev_blocks_flags(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch,
				 struct iovec *iov, int iovcnt, uint64_t offset_blocks,
				 uint64_t num_blocks, uint32_t flags, nvt_bdev_io_cb cb,
				 void *cb_arg);

/** Compare the bdev's data with \p iov; status -EILSEQ when they differ. */
int nvt_bdev_comparev_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch,
			     struct iovec *iov, int iovcnt, uint64_t offset_blocks,
			     uint64_t num_blocks, nvt_bdev_io_cb cb, void *cb_arg);

/**
 * Compare the bdev's data with \p cmp_iov and, only if they are equal,
 * write \p write_iov over the same blocks, as one atomic step: no other
 * write of the bdev lands between the two (NVMe's fused Compare and Write).
 * Both cover \p num_blocks blocks and stay the caller's until \p cb runs.
 * Only for bdevs that do it themselves (nvt_bdev_io_type_supported() with
 * NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE): lib/bdev does not emulate it. A
 * write for the descriptor's access mode. Thread of \p ch.
 * \return 0 (cb runs: 0, or -EILSEQ when the data differed and nothing was
 * written, or an I/O error), -ENOTSUP (the bdev cannot), -EBADF (read-only
 * descriptor), -EINVAL (out of range, iovecs short), -ENOMEM.
 */
int nvt_bdev_comparev_and_writev_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch,
					struct iovec *cmp_iov, int cmp_iovcnt,
					struct iovec *write_iov, int write_iovcnt,
					uint64_t offset_blocks, uint64_t num_blocks,
					nvt_bdev_io_cb cb, void *cb_arg);

int nvt_bdev_write_zeroes_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch,
				 uint64_t offset_blocks, uint64_t num_blocks, nvt_bdev_io_cb cb,
				 void *cb_arg);

int nvt_bdev_unmap_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch,
			  uint64_t offset_blocks, uint64_t num_blocks, nvt_bdev_io_cb cb,
			  void *cb_arg);

int nvt_bdev_flush_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch,
			  uint64_t offset_blocks, uint64_t num_blocks, nvt_bdev_io_cb cb,
			  void *cb_arg);

/* ---- deletion ---- */

/** Called when a deletion finished: 0 or -errno. */
typedef void (*nvt_bdev_delete_cb)(void *cb_arg, int status);

/**
 * Delete a bdev by name: openers get NVT_BDEV_EVENT_REMOVE on their threads
 * and must close; once every descriptor is closed and channel released, the
 * bdev is freed and \p cb (may be NULL) runs on this thread, never inside
 * this call. Until then lookups and opens no longer find it, but its name
 * and UUID stay taken. App thread. Returns 0, or -ENODEV (no such bdev, or
 * already being deleted; then cb does not run).
 */
int nvt_bdev_delete(const char *name, nvt_bdev_delete_cb cb, void *cb_arg);

/**
 * Delete every bdev (orderly shutdown), as nvt_bdev_delete() does; \p cb runs
 * on this thread once all are gone (also those whose deletion was already
 * under way), never inside this call. App thread.
 */
void nvt_bdev_fini(nvt_bdev_delete_cb cb, void *cb_arg);

/**
 * Tell the modules that an orderly shutdown began, before the bdevs' users
 * (namespaces) are torn down: a module whose backing may never answer
 * bounds how long it lets the exit wait. App thread.
 */
void nvt_bdev_shutdown_begin(void);

/* ---- I/O statistics ---- */

struct nvt_histogram;

/** What the statistics tell apart (SPDK's bdev_get_iostat groups). */
enum nvt_bdev_stat_kind {
	NVT_BDEV_STAT_READ,  /**< reads */
	NVT_BDEV_STAT_WRITE, /**< writes and write zeroes */
	NVT_BDEV_STAT_UNMAP, /**< unmaps */
	NVT_BDEV_STAT_COPY,  /**< copies (no nvtcp module copies yet: always 0) */
	NVT_BDEV_STAT_NUM_KINDS,
};

/** Failed I/O by completion status (SPDK's "io_error" names in comments). */
enum nvt_bdev_io_error {
	NVT_BDEV_IO_ERROR_FAILED,     /**< "failed": -EIO, -ENOSPC, -EROFS, -EINVAL, ... */
	NVT_BDEV_IO_ERROR_NOMEM,      /**< "nomem": -ENOMEM */
	NVT_BDEV_IO_ERROR_MISCOMPARE, /**< "miscompare": -EILSEQ */
	NVT_BDEV_NUM_IO_ERRORS,
};

/** Successful I/O of one kind. Latencies are submit-to-completion, in ticks. */
struct nvt_bdev_op_stat {
	uint64_t ops;		    /**< I/Os completed successfully */
	uint64_t bytes;		    /**< bytes they covered */
	uint64_t latency_ticks;	    /**< sum of their latencies */
	uint64_t max_latency_ticks; /**< 0 when ops is 0 */
	uint64_t min_latency_ticks; /**< UINT64_MAX when ops is 0 */
};

/** Totals of a bdev since it was registered (or of one channel). */
struct nvt_bdev_iostat {
	struct nvt_bdev_op_stat op[NVT_BDEV_STAT_NUM_KINDS];
	/** Failed I/O (not counted in op[]). */
	uint64_t io_error[NVT_BDEV_NUM_IO_ERRORS];
};

/**
 * Result of nvt_bdev_get_iostat(), on the caller's thread. \p status is 0 or
 * -errno (then \p stat and \p hist are NULL). \p stat and \p hist (NULL when
 * histograms are off for the bdev) are lent for the call only: copy what is
 * kept. Histogram values are latencies in ticks (nvtcp/ticks.h).
 */
typedef void (*nvt_bdev_iostat_cb)(void *ctx, int status, const struct nvt_bdev_iostat *stat,
				   const struct nvt_histogram *hist);

/**
 * Gather the I/O statistics of bdev \p name: totals over every channel
 * (also those already released) and, when enabled, the latency histogram
 * merged the same way. Counting costs no lock and no atomic on the I/O
 * path: each channel counts on its own thread, and this call visits the
 * channels by messages, so the figures are a consistent sum of per-thread
 * snapshots taken a moment apart, never torn, never counted twice.
 *
 * From an nvt_thread (the app thread); \p cb runs there, once, never inside
 * this call. The bdev cannot finish its deletion meanwhile (a descriptor is
 * held until \p cb returns).
 *
 * \return 0, -ENODEV (no such bdev, or being deleted), -EINVAL (no current
 * thread, NULL \p cb), -ENOMEM; on error \p cb does not run.
 */
int nvt_bdev_get_iostat(const char *name, nvt_bdev_iostat_cb cb, void *ctx);

/** Histogram settings; init with nvt_bdev_histogram_opts_init(). */
struct nvt_bdev_histogram_opts {
	size_t opts_size;
	/** Only I/O of this type (NVT_BDEV_IO_TYPE_*), or -1 for all (default). */
	int io_type;
	/** log2 of buckets per power of two, 1 .. 12 (default 7, as SPDK). */
	uint32_t granularity;
	/** Latencies stored without clamping: min_nsec .. max_nsec (default all). */
	uint64_t min_nsec;
	uint64_t max_nsec;
};

void nvt_bdev_histogram_opts_init(struct nvt_bdev_histogram_opts *opts, size_t opts_size);

/** Completion of nvt_bdev_enable_histogram(): 0 or -errno. */
typedef void (*nvt_bdev_stat_done_cb)(void *ctx, int status);

/**
 * Turn the latency histogram of bdev \p name on (\p opts may be NULL for the
 * defaults) or off. Enabling allocates a histogram in every channel (by a
 * message to its thread) and in channels created later; an enabled
 * histogram with other settings starts over; disabling frees them and the
 * counts. When off, the I/O path pays one pointer test.
 *
 * App thread; \p cb (may be NULL) runs there once every channel follows
 * the setting, never inside this call.
 * \return 0, -ENODEV, -EINVAL (bad opts, no current thread), -ENOMEM; on
 * error \p cb does not run.
 */
int nvt_bdev_enable_histogram(const char *name, bool enable,
			      const struct nvt_bdev_histogram_opts *opts, nvt_bdev_stat_done_cb cb,
			      void *ctx);

/** Whether bdev \p bdev's histogram is on. App thread. */
bool nvt_bdev_histogram_is_enabled(struct nvt_bdev *bdev);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_BDEV_H */
