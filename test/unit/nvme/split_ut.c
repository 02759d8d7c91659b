/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split I/O of the host library: the arithmetic of children (blocks, bytes,
 * slices of the caller's scatter list), error propagation to the parent, and
 * the queueing of children that find no free command id. io.c and payload.c
 * are compiled in; the wire (qpair.c) and the controller (ctrlr.c) are stubs
 * that record each child sent and hand out a settable number of command ids.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvtcp/crc32c.h"
#include "../../../lib/nvme/io.c"
#include "../../../lib/nvme/payload.c"

/* ---- stubs of the wire and the controller ---- */

#define UT_MAX_CHILDREN 64

struct ut_child {
	struct nvt_nvme_cmd cmd;
	struct nvme_payload payload;
	uint32_t len;
	struct nvme_io *io;
};

static struct ut_child g_children[UT_MAX_CHILDREN];
static uint32_t g_num_children;
static uint32_t g_free_reqs;
static uint32_t g_max_xfer = 131072;
static uint32_t g_wz_max_nlb = NVME_CMD_MAX_NLB;
static struct nvt_nvme_id_ns g_ns;

bool
nvme_qpair_has_free_req(const struct nvt_nvme_qpair *qpair)
{
	(void)qpair;
	return g_free_reqs > 0;
}

int
nvme_qpair_submit_child(struct nvt_nvme_qpair *qpair, const struct nvt_nvme_cmd *cmd,
			const struct nvme_payload *payload, uint32_t len, struct nvme_io *io)
{
	struct ut_child *c = &g_children[g_num_children++];

	(void)qpair;
	assert_true(g_free_reqs > 0);
	assert_true(g_num_children <= UT_MAX_CHILDREN);
	g_free_reqs--;
	c->cmd = *cmd;
	c->payload = *payload;
	c->len = len;
	c->io = io;
	return 0;
}

const struct nvt_nvme_id_ns *
nvt_nvme_ctrlr_get_ns_data(const struct nvt_nvme_ctrlr *ctrlr, uint32_t nsid)
{
	(void)ctrlr;
	return nsid == 1 ? &g_ns : NULL;
}

uint32_t
nvt_nvme_ctrlr_get_max_xfer_size(const struct nvt_nvme_ctrlr *ctrlr)
{
	(void)ctrlr;
	return g_max_xfer;
}

uint32_t
nvme_ctrlr_get_write_zeroes_max_nlb(const struct nvt_nvme_ctrlr *ctrlr,
				    const struct nvt_nvme_id_ns *ns)
{
	(void)ctrlr;
	(void)ns;
	return g_wz_max_nlb;
}

/* ---- helpers ---- */

struct ut_done {
	uint32_t calls;
	struct nvt_nvme_cpl cpl;
};

static void
ut_cb(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct ut_done *d = arg;

	d->calls++;
	d->cpl = *cpl;
}

static struct nvt_nvme_qpair *
ut_qpair(uint32_t depth, uint32_t free_reqs)
{
	struct nvt_nvme_qpair *qpair = calloc(1, sizeof(*qpair));

	assert_non_null(qpair);
	qpair->qid = 1;
	qpair->depth = depth;
	qpair->state = NVME_QPAIR_STATE_READY;
	assert_int_equal(nvme_qpair_ios_init(qpair), 0);
	g_free_reqs = free_reqs;
	g_num_children = 0;
	g_max_xfer = 131072;
	g_wz_max_nlb = NVME_CMD_MAX_NLB;
	/* 512-byte blocks: LBADS 9 in format 0. */
	memset(&g_ns, 0, sizeof(g_ns));
	g_ns.lbaf[0].lbads = 9;
	g_ns.nsze = 1u << 20;
	return qpair;
}

static void
ut_qpair_free(struct nvt_nvme_qpair *qpair)
{
	nvme_qpair_ios_fini(qpair);
	free(qpair);
}

/* Child \p i of the record completes with \p status; its command id is free again. */
static void
ut_finish(uint32_t i, uint16_t status)
{
	struct nvt_nvme_cpl cpl = { .cid = (uint16_t)i, .status = status, .cdw0 = i };

	g_free_reqs++;
	nvme_io_child_finish(g_children[i].io, &cpl);
}

static uint64_t
ut_slba(uint32_t i)
{
	return nvt_nvme_rw_slba(&g_children[i].cmd);
}

static uint32_t
ut_nlb(uint32_t i)
{
	return nvt_nvme_rw_nlb(&g_children[i].cmd);
}

/* First byte of child \p i's data. */
static const uint8_t *
ut_data(uint32_t i)
{
	const struct nvme_payload *p = &g_children[i].payload;

	return (const uint8_t *)p->iov[0].iov_base + p->off;
}

/* ---- split arithmetic ---- */

static void
test_max_nlb(void **state)
{
	(void)state;
	assert_int_equal(nvme_split_max_nlb(512, 131072), 256);
	assert_int_equal(nvme_split_max_nlb(4096, 131072), 32);
	/* MDTS not a multiple of the block: round down. */
	assert_int_equal(nvme_split_max_nlb(520, 131072), 252);
	/* The NLB field caps it: 65536 blocks exactly, and above. */
	assert_int_equal(nvme_split_max_nlb(512, 65536ull * 512), 65536);
	assert_int_equal(nvme_split_max_nlb(512, 65537ull * 512), 65536);
	assert_int_equal(nvme_split_max_nlb(512, UINT32_MAX), 65536);
	/* A block larger than MDTS: no I/O possible. */
	assert_int_equal(nvme_split_max_nlb(4096, 2048), 0);
	assert_int_equal(nvme_split_max_nlb(4096, 4096), 1);
	/* No data (Write Zeroes): only the NLB field. */
	assert_int_equal(nvme_split_max_nlb(0, 4096), 65536);
}

static void
test_children_boundaries(void **state)
{
	static const struct {
		uint32_t nlb, max, children, last;
	} cases[] = {
		{ 1, 256, 1, 1 },	    { 255, 256, 1, 255 },      { 256, 256, 1, 256 },
		{ 257, 256, 2, 1 },	    { 512, 256, 2, 256 },      { 2048, 256, 8, 256 },
		{ 601, 32, 19, 25 },	    { 70000, 65536, 2, 4464 }, { 7, 1, 7, 1 },
		{ 65536, 65536, 1, 65536 },
	};
	struct nvme_io io;
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_READ, .nsid = 1 };
	struct nvt_nvme_cmd child;
	struct nvme_payload pl;
	uint32_t c, n, len;
	uint64_t next;

	(void)state;
	/* Bits of CDW12 above NLB (FUA here) go to every child. */
	cmd.cdw12 = 1u << 30;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		io.qpair = NULL;
		nvme_io_init(&io, &cmd, 1000, cases[c].nlb, cases[c].max, 512);
		io.one = (struct iovec){ .iov_base = (void *)0x100000, .iov_len = io.len };
		next = 1000;
		for (n = 0; nvme_io_has_next(&io); n++) {
			nvme_io_next_child(&io, &child, &pl, &len);
			assert_int_equal(nvt_nvme_rw_slba(&child), next);
			assert_int_equal(child.cdw12 & (1u << 30), 1u << 30);
			assert_int_equal(child.nsid, 1);
			assert_int_equal(len, nvt_nvme_rw_nlb(&child) * 512);
			assert_ptr_equal((const uint8_t *)pl.iov[0].iov_base + pl.off,
					 (uint8_t *)0x100000 + (next - 1000) * 512);
			next += nvt_nvme_rw_nlb(&child);
			if (nvme_io_has_next(&io)) {
				assert_int_equal(nvt_nvme_rw_nlb(&child), cases[c].max);
			} else {
				assert_int_equal(nvt_nvme_rw_nlb(&child), cases[c].last);
			}
		}
		assert_int_equal(n, cases[c].children);
		assert_int_equal(io.inflight, cases[c].children);
		assert_int_equal(next, 1000 + cases[c].nlb);
	}
}

/* ---- scatter lists ---- */

static uint8_t g_mem[8192];

/* Segments of 1, 7, 0, 500, 3, 1000, 0, 2585 bytes: 4096 in all. */
static const size_t g_seg_lens[] = { 1, 7, 0, 500, 3, 1000, 0, 2585 };
#define UT_NSEG (sizeof(g_seg_lens) / sizeof(g_seg_lens[0]))

static void
ut_make_iov(struct iovec *iov)
{
	size_t off = 0;
	uint32_t i;

	for (i = 0; i < UT_NSEG; i++) {
		iov[i].iov_base = g_mem + off;
		iov[i].iov_len = g_seg_lens[i];
		off += g_seg_lens[i];
	}
}

static void
test_payload_sub(void **state)
{
	struct iovec iov[UT_NSEG];
	struct nvme_payload pl = { .iov = iov, .iovcnt = UT_NSEG }, sub, sub2;

	(void)state;
	ut_make_iov(iov);
	assert_int_equal(nvme_iov_bytes(iov, UT_NSEG), 4096);
	/* Start of a segment; the empty one after 8 bytes is skipped. */
	assert_true(nvme_payload_sub(&pl, 8, &sub));
	assert_ptr_equal(sub.iov, &iov[3]);
	assert_int_equal(sub.off, 0);
	assert_int_equal(sub.iovcnt, UT_NSEG - 3);
	/* Inside a segment, and a slice of a slice. */
	assert_true(nvme_payload_sub(&pl, 600, &sub));
	assert_ptr_equal(sub.iov, &iov[5]);
	assert_int_equal(sub.off, 600 - 511);
	assert_true(nvme_payload_sub(&sub, 1000, &sub2));
	assert_ptr_equal(sub2.iov, &iov[7]);
	assert_int_equal(sub2.off, 1600 - 1511);
	/* The last byte, the end, past the end. */
	assert_true(nvme_payload_sub(&pl, 4095, &sub));
	assert_ptr_equal(sub.iov, &iov[7]);
	assert_int_equal(sub.off, 2584);
	assert_true(nvme_payload_sub(&pl, 4096, &sub));
	assert_int_equal(sub.iovcnt, 0);
	assert_false(nvme_payload_sub(&pl, 4097, &sub));
}

static void
test_payload_slice(void **state)
{
	struct iovec iov[UT_NSEG], out[8];
	struct nvme_payload pl = { .iov = iov, .iovcnt = UT_NSEG };
	uint32_t n, bytes;

	(void)state;
	ut_make_iov(iov);
	/* Bytes 5..514: tail of seg 1, segs 3 and 4, head of seg 5; empty seg 2 left out. */
	n = nvme_payload_slice(&pl, 5, 510, out, 8, &bytes);
	assert_int_equal(n, 4);
	assert_int_equal(bytes, 510);
	assert_ptr_equal(out[0].iov_base, g_mem + 5);
	assert_int_equal(out[0].iov_len, 3);
	assert_ptr_equal(out[1].iov_base, g_mem + 8);
	assert_int_equal(out[1].iov_len, 500);
	assert_ptr_equal(out[2].iov_base, g_mem + 508);
	assert_int_equal(out[2].iov_len, 3);
	assert_ptr_equal(out[3].iov_base, g_mem + 511);
	assert_int_equal(out[3].iov_len, 4);
	/* Too few iovecs: short, ending on a segment boundary. */
	n = nvme_payload_slice(&pl, 0, 4096, out, 2, &bytes);
	assert_int_equal(n, 2);
	assert_int_equal(bytes, 8);
	/* Whole list; then asking beyond its end gives what there is. */
	n = nvme_payload_slice(&pl, 0, 4096, out, 8, &bytes);
	assert_int_equal(n, 6);
	assert_int_equal(bytes, 4096);
	n = nvme_payload_slice(&pl, 4000, 500, out, 8, &bytes);
	assert_int_equal(n, 1);
	assert_int_equal(bytes, 96);
	n = nvme_payload_slice(&pl, 5000, 10, out, 8, &bytes);
	assert_int_equal(n, 0);
	assert_int_equal(bytes, 0);
}

static void
test_payload_copy_crc(void **state)
{
	struct iovec iov[UT_NSEG];
	struct nvme_payload pl = { .iov = iov, .iovcnt = UT_NSEG };
	uint8_t src[4096];
	uint32_t i, crc;

	(void)state;
	ut_make_iov(iov);
	for (i = 0; i < sizeof(src); i++) {
		src[i] = (uint8_t)(i * 13 + 1);
	}
	memset(g_mem, 0, sizeof(g_mem));
	/* In two pieces whose boundary falls inside a segment. */
	nvme_payload_copy_in(&pl, 0, src, 700);
	nvme_payload_copy_in(&pl, 700, src + 700, 4096 - 700);
	assert_memory_equal(g_mem, src, 4096);
	assert_int_equal(g_mem[4096], 0);
	crc = nvme_payload_crc32c(&pl, 0, 4096, NVT_CRC32C_INIT);
	assert_int_equal(crc ^ NVT_CRC32C_XOR, nvt_crc32c(src, 4096));
	crc = nvme_payload_crc32c(&pl, 6, 2000, NVT_CRC32C_INIT);
	assert_int_equal(crc ^ NVT_CRC32C_XOR, nvt_crc32c(src + 6, 2000));
}

/* Children of a vectored I/O: 4096 bytes in 4 children of 2 blocks. */
static void
test_children_iov(void **state)
{
	struct nvt_nvme_qpair *qpair = ut_qpair(4, 8);
	struct iovec iov[UT_NSEG], out[8];
	struct ut_done d = { 0 };
	uint32_t i, n, bytes, total;

	(void)state;
	ut_make_iov(iov);
	g_max_xfer = 1024;
	assert_int_equal(nvt_nvme_ns_cmd_writev(qpair, 1, iov, UT_NSEG, 50, 8, ut_cb, &d), 0);
	assert_int_equal(g_num_children, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(ut_slba(i), 50 + 2 * i);
		assert_int_equal(ut_nlb(i), 2);
		assert_int_equal(g_children[i].len, 1024);
		assert_ptr_equal(ut_data(i), g_mem + 1024 * i);
		/* Each child's slice covers its bytes and only those. */
		n = nvme_payload_slice(&g_children[i].payload, 0, 1024, out, 8, &bytes);
		assert_int_equal(bytes, 1024);
		for (total = 0; n > 0; n--) {
			total += (uint32_t)out[n - 1].iov_len;
		}
		assert_int_equal(total, 1024);
	}
	/* Child 1 (bytes 1024..2047) ends segment 5 and starts 7; empty 6 is skipped. */
	n = nvme_payload_slice(&g_children[1].payload, 0, 1024, out, 8, &bytes);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].iov_len, 1511 - 1024);
	assert_int_equal(out[1].iov_len, 1024 - (1511 - 1024));
	for (i = 0; i < 4; i++) {
		ut_finish(i, 0);
	}
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.cpl.status, 0);
	/* On success the caller sees the last child's completion. */
	assert_int_equal(d.cpl.cdw0, 3);
	assert_int_equal(qpair->outstanding, 0);
	ut_qpair_free(qpair);
}

/* ---- errors ---- */

static void
test_child_done_errors(void **state)
{
	struct nvt_nvme_qpair qpair = { .qid = 3 };
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_WRITE, .nsid = 1 };
	struct nvt_nvme_cpl ok = { .status = 0 };
	struct nvt_nvme_cpl e1 = { .status = nvt_nvme_status_make(NVT_NVME_SCT_GENERIC, 0x80, 1) };
	struct nvt_nvme_cpl e2 = { .status = nvt_nvme_status_make(NVT_NVME_SCT_MEDIA_ERROR, 0x81,
								  0) };
	struct nvt_nvme_cmd child;
	struct nvme_payload pl;
	struct nvme_io io;
	uint32_t len;

	(void)state;
	io.qpair = &qpair;
	nvme_io_init(&io, &cmd, 0, 10, 2, 512);
	nvme_io_next_child(&io, &child, &pl, &len);
	nvme_io_next_child(&io, &child, &pl, &len);
	nvme_io_next_child(&io, &child, &pl, &len);
	assert_false(nvme_io_child_done(&io, &ok));
	/* The first error wins; nothing more is sent after it. */
	assert_false(nvme_io_child_done(&io, &e1));
	assert_false(nvme_io_has_next(&io));
	assert_true(nvme_io_child_done(&io, &e2));
	assert_int_equal(io.cpl.status, e1.status);
	assert_int_equal(io.next_blk, 6);
	/* An abort after an error keeps the error. */
	assert_true(nvme_io_abort(&io, 0x1234));
	assert_int_equal(io.cpl.status, e1.status);

	/* Abort with children in flight: their success does not clear it. */
	nvme_io_init(&io, &cmd, 0, 10, 2, 512);
	nvme_io_next_child(&io, &child, &pl, &len);
	assert_false(nvme_io_abort(&io, NVT_NVME_STATUS_HOST_PATH_ERROR));
	assert_true(nvme_io_child_done(&io, &ok));
	assert_int_equal(io.cpl.status, NVT_NVME_STATUS_HOST_PATH_ERROR);
	assert_int_equal(io.cpl.sqid, 3);
}

/* ---- queueing ---- */

static void
test_queue_order(void **state)
{
	struct nvt_nvme_qpair *qpair = ut_qpair(3, 3);
	struct ut_done a = { 0 }, b = { 0 }, c = { 0 };
	static uint8_t buf[300 * 512];

	(void)state;
	g_max_xfer = 32 * 512;
	/* A: 100 blocks = 4 children; 3 command ids: A waits with one child left. */
	assert_int_equal(nvt_nvme_ns_cmd_write(qpair, 1, buf, 0, 100, ut_cb, &a), 0);
	assert_int_equal(g_num_children, 3);
	assert_true(qpair->ios[0].queued);
	/* B (one command) and C wait behind A although they are small. */
	assert_int_equal(nvt_nvme_ns_cmd_read(qpair, 1, buf, 500, 8, ut_cb, &b), 0);
	assert_int_equal(nvt_nvme_ns_cmd_flush(qpair, 1, ut_cb, &c), 0);
	assert_int_equal(g_num_children, 3);
	/* Depth 3 counts I/Os, not commands. */
	assert_int_equal(qpair->outstanding, 3);
	assert_int_equal(nvt_nvme_ns_cmd_read(qpair, 1, buf, 0, 1, ut_cb, &c), -EAGAIN);
	assert_int_equal(qpair->stats.split_ios, 1);
	assert_int_equal(qpair->stats.queued_ios, 3);

	/* A freed id goes to A's last child, then B, then C, in order. */
	ut_finish(1, 0);
	assert_int_equal(g_num_children, 4);
	assert_int_equal(ut_slba(3), 96);
	assert_int_equal(ut_nlb(3), 4);
	assert_ptr_equal(ut_data(3), buf + 96 * 512);
	ut_finish(0, 0);
	assert_int_equal(g_num_children, 5);
	assert_ptr_equal(g_children[4].io->cb_arg, &b);
	assert_int_equal(ut_slba(4), 500);
	ut_finish(2, 0);
	assert_int_equal(g_num_children, 6);
	assert_int_equal(g_children[5].cmd.opc, NVT_NVME_OPC_FLUSH);
	assert_int_equal(a.calls, 0);
	ut_finish(3, 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.cpl.status, 0);
	ut_finish(5, 0);
	ut_finish(4, 0);
	assert_int_equal(b.calls, 1);
	assert_int_equal(c.calls, 1);
	assert_int_equal(qpair->outstanding, 0);
	assert_true(TAILQ_EMPTY(&qpair->waiting_ios));
	ut_qpair_free(qpair);
}

/* A waiting I/O whose child fails stops waiting; the next one moves up. */
static void
test_queue_error(void **state)
{
	struct nvt_nvme_qpair *qpair = ut_qpair(4, 2);
	struct ut_done a = { 0 }, b = { 0 };
	static uint8_t buf[1024 * 512];
	uint16_t err = nvt_nvme_status_make(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_LBA_OUT_OF_RANGE, 1);

	(void)state;
	g_max_xfer = 256 * 512;
	assert_int_equal(nvt_nvme_ns_cmd_read(qpair, 1, buf, 0, 1024, ut_cb, &a), 0);
	assert_int_equal(nvt_nvme_ns_cmd_read(qpair, 1, buf, 4096, 512, ut_cb, &b), 0);
	assert_int_equal(g_num_children, 2);
	/* A's second child fails: its 2 unsent children are dropped, B gets the id. */
	ut_finish(1, err);
	assert_int_equal(g_num_children, 3);
	assert_ptr_equal(g_children[2].io->cb_arg, &b);
	assert_int_equal(ut_slba(2), 4096);
	assert_int_equal(a.calls, 0);
	/* A's first child succeeds later: A completes with the error. */
	ut_finish(0, 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.cpl.status, err);
	assert_int_equal(g_num_children, 4);
	ut_finish(2, 0);
	ut_finish(3, 0);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.cpl.status, 0);
	assert_int_equal(qpair->outstanding, 0);
	ut_qpair_free(qpair);
}

/* The queue fails: waiting I/Os complete at once, or once their children have. */
static void
test_queue_fail(void **state)
{
	struct nvt_nvme_qpair *qpair = ut_qpair(4, 1);
	struct ut_done a = { 0 }, b = { 0 };
	static uint8_t buf[64 * 512];

	(void)state;
	g_max_xfer = 8 * 512;
	assert_int_equal(nvt_nvme_ns_cmd_write(qpair, 1, buf, 0, 16, ut_cb, &a), 0);
	assert_int_equal(nvt_nvme_ns_cmd_write(qpair, 1, buf, 64, 8, ut_cb, &b), 0);
	assert_int_equal(g_num_children, 1);
	qpair->state = NVME_QPAIR_STATE_FAILED;
	nvme_qpair_fail_ios(qpair, NVT_NVME_STATUS_HOST_PATH_ERROR);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.cpl.status, NVT_NVME_STATUS_HOST_PATH_ERROR);
	assert_int_equal(a.calls, 0);
	/* A's child in flight fails too; nothing is sent on a failed queue. */
	ut_finish(0, NVT_NVME_STATUS_HOST_PATH_ERROR);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.cpl.status, NVT_NVME_STATUS_HOST_PATH_ERROR);
	assert_int_equal(g_num_children, 1);
	assert_int_equal(qpair->outstanding, 0);
	assert_int_equal(nvt_nvme_ns_cmd_read(qpair, 1, buf, 0, 1, ut_cb, &a), -ENXIO);
	ut_qpair_free(qpair);
}

/* Write Zeroes splits by its own limit; DSM is never split. */
static void
test_write_zeroes_dsm(void **state)
{
	struct nvt_nvme_qpair *qpair = ut_qpair(4, 8);
	struct nvt_nvme_dsm_range ranges[3] = { 0 };
	struct ut_done d = { 0 };

	(void)state;
	g_max_xfer = 4096;
	assert_int_equal(nvt_nvme_ns_cmd_write_zeroes(qpair, 1, 10, 70000, ut_cb, &d), 0);
	assert_int_equal(g_num_children, 2);
	assert_int_equal(ut_slba(0), 10);
	assert_int_equal(ut_nlb(0), 65536);
	assert_int_equal(ut_slba(1), 10 + 65536);
	assert_int_equal(ut_nlb(1), 70000 - 65536);
	assert_int_equal(g_children[0].len, 0);
	ut_finish(0, 0);
	ut_finish(1, 0);
	assert_int_equal(d.calls, 1);

	g_num_children = 0;
	g_wz_max_nlb = 1000;
	assert_int_equal(nvt_nvme_ns_cmd_write_zeroes(qpair, 1, 0, 2500, ut_cb, &d), 0);
	assert_int_equal(g_num_children, 3);
	assert_int_equal(ut_nlb(2), 500);
	ut_finish(0, 0);
	ut_finish(1, 0);
	ut_finish(2, 0);

	/* 3 ranges, 48 bytes of data, one command whatever MDTS is. */
	g_num_children = 0;
	g_max_xfer = 16;
	assert_int_equal(nvt_nvme_ns_cmd_deallocate(qpair, 1, ranges, 3, ut_cb, &d), 0);
	assert_int_equal(g_num_children, 1);
	assert_int_equal(g_children[0].len, 48);
	assert_int_equal(g_children[0].cmd.cdw10, 2);
	assert_true(g_children[0].io->h2c);
	assert_ptr_equal(ut_data(0), ranges);
	ut_finish(0, 0);
	assert_int_equal(d.calls, 3);
	ut_qpair_free(qpair);
}

static void
test_einval(void **state)
{
	struct nvt_nvme_qpair *qpair = ut_qpair(4, 8);
	struct iovec iov[2] = { { g_mem, 512 }, { g_mem + 512, 511 } };
	struct ut_done d = { 0 };

	(void)state;
	assert_int_equal(nvt_nvme_ns_cmd_read(qpair, 1, g_mem, 0, 0, ut_cb, &d), -EINVAL);
	assert_int_equal(nvt_nvme_ns_cmd_read(qpair, 2, g_mem, 0, 1, ut_cb, &d), -EINVAL);
	/* Data of 4 GiB or more. */
	assert_int_equal(nvt_nvme_ns_cmd_read(qpair, 1, g_mem, 0, 1u << 23, ut_cb, &d), -EINVAL);
	/* One block more than the list holds. */
	assert_int_equal(nvt_nvme_ns_cmd_readv(qpair, 1, iov, 2, 0, 2, ut_cb, &d), -EINVAL);
	assert_int_equal(nvt_nvme_ns_cmd_writev(qpair, 1, NULL, 0, 0, 1, ut_cb, &d), -EINVAL);
	/* A block larger than MDTS. */
	g_max_xfer = 256;
	assert_int_equal(nvt_nvme_ns_cmd_write(qpair, 1, g_mem, 0, 1, ut_cb, &d), -EINVAL);
	assert_int_equal(nvt_nvme_ns_cmd_write_zeroes(qpair, 1, 0, 0, ut_cb, &d), -EINVAL);
	assert_int_equal(nvt_nvme_ns_cmd_deallocate(qpair, 1, NULL, 0, ut_cb, &d), -EINVAL);
	assert_int_equal(g_num_children, 0);
	assert_int_equal(qpair->outstanding, 0);
	/* A list longer than the I/O is fine. */
	g_max_xfer = 131072;
	assert_int_equal(nvt_nvme_ns_cmd_readv(qpair, 1, iov, 2, 0, 1, ut_cb, &d), 0);
	assert_int_equal(g_children[0].len, 512);
	assert_int_equal(d.calls, 0);
	ut_finish(0, 0);
	assert_int_equal(d.calls, 1);
	ut_qpair_free(qpair);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_nlb),
		cmocka_unit_test(test_children_boundaries),
		cmocka_unit_test(test_payload_sub),
		cmocka_unit_test(test_payload_slice),
		cmocka_unit_test(test_payload_copy_crc),
		cmocka_unit_test(test_children_iov),
		cmocka_unit_test(test_child_done_errors),
		cmocka_unit_test(test_queue_order),
		cmocka_unit_test(test_queue_error),
		cmocka_unit_test(test_queue_fail),
		cmocka_unit_test(test_write_zeroes_dsm),
		cmocka_unit_test(test_einval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
