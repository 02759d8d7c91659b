/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The storage test's admin checks: Identify Namespace, the namespaces
 * connected, a file grown under a served namespace (the asynchronous event,
 * the Changed Namespace List, the new size), and bdev creations that must be
 * refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nvtcp/nvme.h"

#include "test_nvme.h"
#include "test_util.h"

#include "storage_internal.h"

/* ---- identify ---- */

void
check_identify(const struct ns_info *ns, bool read_zeroes)
{
	struct nvt_nvme_id_ns d;
	int status = identify_ns(ns->nsid, &d);
	uint32_t lbads = d.lbaf[nvt_nvme_flbas_index(d.flbas)].lbads;

	nvt_test_check(status == 0 && d.nsze == ns_blocks(ns) && (1u << lbads) == ns->block_size,
		       "%s: Identify Namespace: %lu blocks of %u B", ns->bdev,
		       (unsigned long)d.nsze, 1u << lbads);
	nvt_test_check(status == 0 &&
			       ((d.dlfeat & 0x7u) == NVT_NVME_DLFEAT_READ_ZEROES) == read_zeroes,
		       "%s: DLFEAT %#x: deallocated blocks %s", ns->bdev, d.dlfeat,
		       read_zeroes ? "read as zeroes" : "not claimed to read as zeroes");
	nvt_test_check(status == 0 &&
			       ((d.nsattr & NVT_NVME_NSATTR_WRITE_PROTECTED) != 0) == ns->read_only,
		       "%s: NSATTR %#x: %swrite protected", ns->bdev, d.nsattr,
		       ns->read_only ? "" : "not ");
}

void
check_connected(void)
{
	uint32_t want = 0, i;

	for (i = 0; i < NUM_NS; i++) {
		want += g_ns[i].present ? 1 : 0;
	}
	nvt_test_check(nvt_nvme_ctrlr_get_active_ns_count(g_ctrlr) == want,
		       "connected: %u active namespaces",
		       nvt_nvme_ctrlr_get_active_ns_count(g_ctrlr));
}

/* ---- resize ---- */

/* Static: it completes (aborted) at the disconnect when no event came. */
static struct op g_aer;
static struct call g_aer_call;

void
aer_start(void)
{
	g_aer = (struct op){ .kind = OP_ADMIN, .cmd.opc = NVT_NVME_OPC_ASYNC_EVENT_REQUEST };
	g_aer_call = (struct call){ .fn = ops_submit_msg, .ops = &g_aer, .nops = 1 };
	call_start(&g_aer_call);
}

/* The Changed Namespace List (log page 04h): its first two entries. */
static int
changed_ns_list(uint32_t nsid[2])
{
	static struct nvt_nvme_changed_ns_list_log log;
	uint32_t numd = sizeof(log) / 4 - 1;
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_GET_LOG_PAGE,
				    .nsid = NVT_NVME_NSID_ALL,
				    .cdw10 = NVT_NVME_LOG_CHANGED_NS_LIST | (numd & 0xffffu) << 16,
				    .cdw11 = numd >> 16 };
	int status;

	memset(&log, 0xff, sizeof(log));
	status = admin(&cmd, &log, sizeof(log), NULL);
	nsid[0] = log.nsid[0];
	nsid[1] = log.nsid[1];
	return status;
}

/* Write one block at \p lba; the status. */
static int
write_block(const struct ns_info *ns, uint64_t lba)
{
	pattern_fill(g_wbuf, ns->block_size);
	return io(OP_WRITE, ns, lba, 1, g_wbuf, 0);
}

void
check_resize(struct ns_info *ns)
{
	uint64_t old_blocks = ns_blocks(ns), new_blocks = GROWN_SIZE / ns->block_size;
	char out[OUT_LEN], arg[64], st[64];
	struct nvt_nvme_id_ns d;
	uint32_t nsid[2], want;
	int status, rc;
	const char *why;

	status = write_block(ns, old_blocks);
	nvt_test_check(status_is(status, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_LBA_OUT_OF_RANGE),
		       "%s: before the resize, a write at block %lu is out of range (%s)", ns->bdev,
		       (unsigned long)old_blocks, nvt_test_status_str(status, st, sizeof(st)));
	nvt_test_check(truncate(ns->image, (off_t)GROWN_SIZE) == 0, "%s: %s grown to %llu MiB",
		       ns->bdev, ns->image, GROWN_SIZE / MIB);
	snprintf(arg, sizeof(arg), "name=%s", ns->bdev);
	rc = cli(out, sizeof(out), "bdev_uring_rescan", arg, NULL);
	out[strcspn(out, "\n")] = '\0';
	nvt_test_check(rc == 0, "%s: bdev_uring_rescan answers (exit %d) %s", ns->bdev, rc, out);
	ns->size = GROWN_SIZE;
	want = nvt_nvme_aer_cdw0(NVT_NVME_AER_TYPE_NOTICE, NVT_NVME_AER_INFO_NOTICE_NS_ATTR_CHANGED,
				 NVT_NVME_LOG_CHANGED_NS_LIST);
	rc = call_wait(&g_aer_call, 10) ? 0 : -ETIMEDOUT;
	nvt_test_check(
		rc == 0 && g_aer.status == 0 && g_aer.cdw0 == want,
		"asynchronous event: namespace attribute changed, log page 04h (cdw0 %#x, %s)",
		g_aer.cdw0, rc == 0 ? "completed" : "none within 10 s");
	status = changed_ns_list(nsid);
	nvt_test_check(status == 0 && nsid[0] == ns->nsid && nsid[1] == 0,
		       "Changed Namespace List lists nsid %u only (%#x, %#x)", ns->nsid, nsid[0],
		       nsid[1]);
	status = changed_ns_list(nsid);
	nvt_test_check(status == 0 && nsid[0] == 0,
		       "Changed Namespace List is empty once read (%#x)", nsid[0]);
	status = identify_ns(ns->nsid, &d);
	nvt_test_check(status == 0 && d.nsze == new_blocks && d.ncap == new_blocks,
		       "%s: Identify Namespace NSZE %lu after the resize (%lu before)", ns->bdev,
		       (unsigned long)d.nsze, (unsigned long)old_blocks);
	why = write_verify(ns, old_blocks, 8, 0);
	nvt_test_check(why == NULL, "%s: the grown part is written and read back%s%s", ns->bdev,
		       why != NULL ? ": " : "", why != NULL ? why : "");
	why = write_verify(ns, new_blocks - 1, 1, 0);
	status = write_block(ns, new_blocks);
	nvt_test_check(why == NULL && status_is(status, NVT_NVME_SCT_GENERIC,
						NVT_NVME_SC_LBA_OUT_OF_RANGE),
		       "%s: the new last block is served, the one past it is out of range",
		       ns->bdev);
}

/* ---- refused creation ---- */

static void
check_create_refused(const char *method, const char *name, const char *path, const char *reason)
{
	char out[OUT_LEN], n[64], f[PATH_MAX + 16];
	int rc;

	snprintf(n, sizeof(n), "name=%s", name);
	snprintf(f, sizeof(f), "filename=%s", path);
	rc = cli(out, sizeof(out), method, n, f, NULL);
	out[strcspn(out, "\n")] = '\0';
	nvt_test_check(rc != 0 && strstr(out, path) != NULL && strstr(out, reason) != NULL,
		       "%s over %s refused naming the file: %s", method, path, out);
	rc = cli(out, sizeof(out), "bdev_get_bdevs", n, NULL);
	nvt_test_check(rc != 0, "no bdev %s was left behind", name);
}

void
check_create_errors(void)
{
	char missing[PATH_MAX], small[PATH_MAX];
	const char *why;

	if (nvt_test_path(missing, sizeof(missing), g_dir, "missing.img") != 0 ||
	    nvt_test_path(small, sizeof(small), g_dir, "small.img") != 0) {
		fatal("paths too long in %s", g_dir);
	}
	nvt_test_check(nvt_test_write_file(small, "tiny") == 0, "%s: 4 bytes", small);
	check_create_refused("bdev_uring_create", "Missing0", missing, "No such file");
	check_create_refused("bdev_aio_create", "Missing1", missing, "No such file");
	check_create_refused("bdev_uring_create", "Small0", small, "not one block");
	why = write_verify(&g_ns[NS_FILE], 0, 8, 0);
	nvt_test_check(why == NULL, "%s still serves I/O after the refusals%s%s",
		       g_ns[NS_FILE].bdev, why != NULL ? ": " : "", why != NULL ? why : "");
}
