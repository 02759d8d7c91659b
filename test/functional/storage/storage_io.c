/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The storage test's data checks: writes of every size read back and stand
 * in the backing, concurrent I/O, the backing read through the target,
 * Flush, FUA and the write cache turned off, write zeroes and deallocate
 * without touching their neighbours, and a read-only namespace refusing
 * every kind of write.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvtcp/nvme.h"

#include "test_nvme.h"

#include "storage_internal.h"

/* ---- what the backing holds ---- */

/* Whether the backing holds \p len bytes of \p want at \p offset (read past the target). */
static bool
backing_holds(const struct ns_info *ns, uint64_t offset, const uint8_t *want, size_t len)
{
	int fd = open(ns->dev, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && pread(fd, g_fbuf, len, (off_t)offset) == (ssize_t)len &&
		  memcmp(g_fbuf, want, len) == 0;

	if (fd >= 0) {
		close(fd);
	}
	return ok;
}

const char *
write_verify(const struct ns_info *ns, uint64_t lba, uint32_t nlb, uint32_t io_flags)
{
	static char why[256];
	size_t len = (size_t)nlb * ns->block_size;
	char st[64];
	int status;

	pattern_fill(g_wbuf, len);
	status = io(OP_WRITE, ns, lba, nlb, g_wbuf, io_flags);
	if (status != 0) {
		snprintf(why, sizeof(why), "write at %lu: %s", (unsigned long)lba,
			 nvt_test_status_str(status, st, sizeof(st)));
		return why;
	}
	memset(g_rbuf, 0xee, len);
	status = io(OP_READ, ns, lba, nlb, g_rbuf, 0);
	if (status != 0 || memcmp(g_rbuf, g_wbuf, len) != 0) {
		snprintf(why, sizeof(why), "read back at %lu: %s", (unsigned long)lba,
			 status != 0 ? nvt_test_status_str(status, st, sizeof(st))
				     : "data differs");
		return why;
	}
	if (!backing_holds(ns, lba * ns->block_size, g_wbuf, len)) {
		snprintf(why, sizeof(why), "the backing does not hold the data at byte %lu",
			 (unsigned long)(lba * ns->block_size));
		return why;
	}
	return NULL;
}

uint64_t
ns_blocks(const struct ns_info *ns)
{
	return ns->size / ns->block_size;
}

/* ---- checks: writable namespaces ---- */

static void
check_random_io(const struct ns_info *ns)
{
	static const uint32_t sizes[] = { 512, 4096, 65536, MIB };
	const char *why;
	uint32_t i, j, nlb;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i] < ns->block_size) {
			continue;
		}
		nlb = sizes[i] / ns->block_size;
		why = NULL;
		for (j = 0; j < ITERS && why == NULL; j++) {
			why = write_verify(ns, rand_below(ns_blocks(ns) - nlb + 1), nlb, 0);
		}
		nvt_test_check(why == NULL,
			       "%s: %u random writes of %u B read back equal and stand in %s%s%s",
			       ns->bdev, ITERS, sizes[i], ns->dev, why != NULL ? ": " : "",
			       why != NULL ? why : "");
	}
}

/* PARALLEL writes of 64 KiB at once into slots of their own, then PARALLEL reads. */
static void
check_parallel_io(const struct ns_info *ns)
{
	uint32_t nlb = 65536 / ns->block_size, i;
	uint64_t slot = ns_blocks(ns) / PARALLEL;
	struct op ops[PARALLEL];
	bool ok = true;

	memset(ops, 0, sizeof(ops));
	pattern_fill(g_wbuf, PARALLEL * 65536);
	memset(g_rbuf, 0xee, PARALLEL * 65536);
	for (i = 0; i < PARALLEL; i++) {
		ops[i] = (struct op){ .kind = OP_WRITE,
				      .nsid = ns->nsid,
				      .slba = i * slot + rand_below(slot - nlb + 1),
				      .nlb = nlb,
				      .buf = g_wbuf + i * 65536 };
	}
	ops_run(ops, PARALLEL);
	for (i = 0; i < PARALLEL; i++) {
		ok = ok && ops[i].status == 0;
		ops[i].kind = OP_READ;
		ops[i].buf = g_rbuf + i * 65536;
	}
	ops_run(ops, PARALLEL);
	for (i = 0; i < PARALLEL; i++) {
		ok = ok && ops[i].status == 0;
	}
	nvt_test_check(ok && memcmp(g_rbuf, g_wbuf, PARALLEL * 65536) == 0,
		       "%s: %u concurrent 64 KiB writes, then reads, all equal", ns->bdev,
		       PARALLEL);
}

/* Data put in the backing behind the target's back reads back through it. */
static void
check_read_backing(const struct ns_info *ns)
{
	uint64_t lba = rand_below(ns_blocks(ns) - 64);
	size_t len = 8u * ns->block_size;
	int fd = open(ns->dev, O_WRONLY | O_CLOEXEC), status = -1;
	bool put;

	pattern_fill(g_wbuf, len);
	put = fd >= 0 && pwrite(fd, g_wbuf, len, (off_t)(lba * ns->block_size)) == (ssize_t)len &&
	      fsync(fd) == 0;
	if (fd >= 0) {
		close(fd);
	}
	memset(g_rbuf, 0xee, len);
	if (put) {
		status = io(OP_READ, ns, lba, 8, g_rbuf, 0);
	}
	nvt_test_check(put && status == 0 && memcmp(g_rbuf, g_wbuf, len) == 0,
		       "%s: data written to %s at block %lu reads back", ns->bdev, ns->dev,
		       (unsigned long)lba);
}

static void
check_flush_fua(const struct ns_info *ns)
{
	const char *why;
	char st[64];
	int status = io(OP_FLUSH, ns, 0, 0, NULL, 0);

	nvt_test_check(status == 0, "%s: flush succeeds (%s)", ns->bdev,
		       nvt_test_status_str(status, st, sizeof(st)));
	why = write_verify(ns, rand_below(ns_blocks(ns) - 64), 64 * 512 / ns->block_size,
			   NVT_NVME_IO_FLAG_FUA);
	nvt_test_check(why == NULL, "%s: FUA write of 32 KiB succeeds and reads back%s%s", ns->bdev,
		       why != NULL ? ": " : "", why != NULL ? why : "");
	why = write_verify(ns, ns_blocks(ns) - 1, 1, NVT_NVME_IO_FLAG_FUA);
	nvt_test_check(why == NULL, "%s: FUA write of the last block succeeds and reads back%s%s",
		       ns->bdev, why != NULL ? ": " : "", why != NULL ? why : "");
}

/* Set Features Volatile Write Cache (WCE \p on); the status. */
static int
set_vwc(bool on)
{
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_SET_FEATURES,
				    .cdw10 = NVT_NVME_FEAT_VOLATILE_WRITE_CACHE,
				    .cdw11 = on ? NVT_NVME_FEAT_VWC_WCE : 0 };

	return admin(&cmd, NULL, 0, NULL);
}

void
check_vwc_off(const struct ns_info *ns)
{
	struct nvt_nvme_cmd get = { .opc = NVT_NVME_OPC_GET_FEATURES,
				    .cdw10 = NVT_NVME_FEAT_VOLATILE_WRITE_CACHE };
	const struct nvt_nvme_id_ctrl *cd = nvt_nvme_ctrlr_get_data(g_ctrlr);
	const char *why = NULL;
	uint32_t cdw0 = 1;
	int off, got, on;

	nvt_test_check((cd->vwc & NVT_NVME_VWC_PRESENT) != 0,
		       "controller reports a volatile write cache (its backings cache writes)");
	off = set_vwc(false);
	got = admin(&get, NULL, 0, &cdw0);
	if (off == 0) {
		why = write_verify(ns, rand_below(ns_blocks(ns) - 256), 256 * 512 / ns->block_size,
				   0);
	}
	on = set_vwc(true);
	nvt_test_check(
		off == 0 && got == 0 && cdw0 == 0 && on == 0 && why == NULL,
		"%s: write cache turned off (Get Features says %u): writes succeed and read back%s%s",
		ns->bdev, cdw0, why != NULL ? ": " : "", why != NULL ? why : "");
}

/* Fresh data over [lba, lba + nlb); false when it did not go in. */
static bool
region_fill(const struct ns_info *ns, uint64_t lba, uint32_t nlb)
{
	pattern_fill(g_wbuf, (size_t)nlb * ns->block_size);
	return io(OP_WRITE, ns, lba, nlb, g_wbuf, 0) == 0;
}

/*
 * Whether the region region_fill() wrote at \p lba reads back as it was
 * written outside the ranges \p r, and inside them as zeroes (when \p zeroes;
 * else anything). Turns g_wbuf into what was expected.
 */
static bool
region_reads(const struct ns_info *ns, uint64_t lba, uint32_t nlb,
	     const struct nvt_nvme_dsm_range *r, uint32_t nr, bool zeroes)
{
	size_t bs = ns->block_size, len = (size_t)nlb * bs, off;
	uint32_t i;

	memset(g_rbuf, 0xee, len);
	if (io(OP_READ, ns, lba, nlb, g_rbuf, 0) != 0) {
		return false;
	}
	for (i = 0; i < nr; i++) {
		off = (size_t)(r[i].slba - lba) * bs;
		if (zeroes) {
			memset(g_wbuf + off, 0, (size_t)r[i].nlb * bs);
		} else {
			memcpy(g_wbuf + off, g_rbuf + off, (size_t)r[i].nlb * bs);
		}
	}
	return memcmp(g_rbuf, g_wbuf, len) == 0;
}

static void
check_write_zeroes(const struct ns_info *ns)
{
	uint32_t nlb = MIB / ns->block_size;
	uint64_t lba = rand_below(ns_blocks(ns) - nlb);
	struct nvt_nvme_dsm_range r = { .slba = lba + 1, .nlb = nlb - 3 };
	bool filled = region_fill(ns, lba, nlb);
	int status = io(OP_WRITE_ZEROES, ns, r.slba, r.nlb, NULL, 0);
	char st[64];

	nvt_test_check(
		filled && status == 0 && region_reads(ns, lba, nlb, &r, 1, true),
		"%s: write zeroes of %u blocks reads back as zeroes, its neighbours intact (%s)",
		ns->bdev, nlb - 3, nvt_test_status_str(status, st, sizeof(st)));
}

static int64_t
file_blocks(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int64_t)st.st_blocks : -1;
}

/*
 * Deallocate 1 MiB (aligned) and one odd block: on a file both read back as
 * zeroes and the MiB is freed; on a block device (best effort) only the
 * neighbours are checked.
 */
static void
check_deallocate(const struct ns_info *ns)
{
	uint32_t nlb = 2 * MIB / ns->block_size, half = nlb / 2;
	uint64_t lba = rand_below(ns_blocks(ns) / nlb) * nlb;
	struct nvt_nvme_dsm_range r[2] = { { .slba = lba + half, .nlb = half },
					   { .slba = lba + 3, .nlb = 1 } };
	bool filled = region_fill(ns, lba, nlb);
	int64_t before = file_blocks(ns->image), after;
	int status = deallocate(ns, r, 2);
	bool ok;
	char st[64];

	after = file_blocks(ns->image);
	ok = region_reads(ns, lba, nlb, r, 2, ns->file);
	if (ns->file) {
		nvt_test_check(
			filled && status == 0 && ok,
			"%s: deallocated blocks read back as zeroes, their neighbours intact (%s)",
			ns->bdev, nvt_test_status_str(status, st, sizeof(st)));
		nvt_test_check(after >= 0 && after + (int64_t)(MIB / 512) <= before,
			       "%s: deallocate punched a hole: %ld -> %ld sectors allocated",
			       ns->bdev, (long)before, (long)after);
		return;
	}
	nvt_test_check(filled && status == 0 && ok,
		       "%s: deallocate succeeds (best effort), its neighbours intact (%s)",
		       ns->bdev, nvt_test_status_str(status, st, sizeof(st)));
}

void
check_writable(const struct ns_info *ns)
{
	check_identify(ns, ns->file);
	check_random_io(ns);
	check_parallel_io(ns);
	check_read_backing(ns);
	check_flush_fua(ns);
	check_write_zeroes(ns);
	check_deallocate(ns);
}

/* ---- checks: read-only ---- */

static bool
is_write_protected(int status)
{
	return status_is(status, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_NAMESPACE_WRITE_PROTECTED);
}

void
check_read_only(const struct ns_info *ns, const uint8_t *data)
{
	struct nvt_nvme_dsm_range r = { .slba = 0, .nlb = 8 };
	uint32_t nlb = (uint32_t)(ns->size / ns->block_size);
	char st[4][64];
	int status[4];

	check_identify(ns, false);
	memset(g_rbuf, 0xee, ns->size);
	status[0] = io(OP_READ, ns, 0, nlb, g_rbuf, 0);
	nvt_test_check(status[0] == 0 && memcmp(g_rbuf, data, ns->size) == 0,
		       "%s: reads return the file's data", ns->bdev);
	pattern_fill(g_wbuf, 8u * ns->block_size);
	status[0] = io(OP_WRITE, ns, 0, 8, g_wbuf, 0);
	status[1] = io(OP_WRITE, ns, 0, 8, g_wbuf, NVT_NVME_IO_FLAG_FUA);
	status[2] = io(OP_WRITE_ZEROES, ns, 0, 8, NULL, 0);
	status[3] = deallocate(ns, &r, 1);
	nvt_test_check(is_write_protected(status[0]) && is_write_protected(status[1]),
		       "%s: write and FUA write fail: %s; %s", ns->bdev,
		       nvt_test_status_str(status[0], st[0], sizeof(st[0])),
		       nvt_test_status_str(status[1], st[1], sizeof(st[1])));
	nvt_test_check(is_write_protected(status[2]), "%s: write zeroes fails: %s", ns->bdev,
		       nvt_test_status_str(status[2], st[2], sizeof(st[2])));
	nvt_test_check(is_write_protected(status[3]), "%s: deallocate fails: %s", ns->bdev,
		       nvt_test_status_str(status[3], st[3], sizeof(st[3])));
	status[0] = io(OP_FLUSH, ns, 0, 0, NULL, 0);
	nvt_test_check(status[0] == 0, "%s: flush succeeds (%s)", ns->bdev,
		       nvt_test_status_str(status[0], st[0], sizeof(st[0])));
	nvt_test_check(backing_holds(ns, 0, data, ns->size), "%s: the file is unchanged", ns->bdev);
}
