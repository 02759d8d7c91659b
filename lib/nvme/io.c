/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O commands of an I/O queue, split into child commands when larger than
 * the controller takes in one (MDTS, or WZSL for Write Zeroes).
 *
 * Queue-depth accounting: a queue of depth D has D requests (command ids) on
 * the wire and accepts D I/Os of the caller, however many children each
 * needs. An I/O takes the free requests it can; the children it could not
 * send wait, in order, and go out as requests free up - the oldest waiting
 * I/O first, and no new I/O overtakes one that waits. Nothing here allocates
 * memory once the queue exists.
 */
#include <errno.h>
#include <stdlib.h>

#include "nvtcp/likely.h"
#include "nvme_internal.h"

int
nvme_qpair_ios_init(struct nvt_nvme_qpair *qpair)
{
	uint32_t i;

	TAILQ_INIT(&qpair->free_ios);
	TAILQ_INIT(&qpair->waiting_ios);
	qpair->ios = calloc(qpair->depth, sizeof(*qpair->ios));
	if (qpair->ios == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < qpair->depth; i++) {
		qpair->ios[i].qpair = qpair;
		TAILQ_INSERT_TAIL(&qpair->free_ios, &qpair->ios[i], link);
	}
	return 0;
}

void
nvme_qpair_ios_fini(struct nvt_nvme_qpair *qpair)
{
	free(qpair->ios);
	qpair->ios = NULL;
}

/* ---- split arithmetic ---- */

uint32_t
nvme_split_max_nlb(uint32_t block_size, uint64_t max_bytes)
{
	uint64_t n;

	if (block_size == 0) {
		return NVME_CMD_MAX_NLB;
	}
	n = max_bytes / block_size;
	return n > NVME_CMD_MAX_NLB ? NVME_CMD_MAX_NLB : (uint32_t)n;
}

void
nvme_io_init(struct nvme_io *io, const struct nvt_nvme_cmd *cmd, uint64_t slba, uint32_t nlb,
	     uint32_t max_nlb, uint32_t block_size)
{
	io->cmd = *cmd;
	io->slba = slba;
	io->nlb = nlb;
	io->max_nlb = max_nlb;
	io->block_size = block_size;
	io->len = nlb * block_size;
	io->has_lba = true;
	io->h2c = false;
	io->next_blk = 0;
	io->inflight = 0;
	io->queued = false;
	io->failed = false;
	io->cpl = (struct nvt_nvme_cpl){ 0 };
	io->one = (struct iovec){ 0 };
	io->payload = (struct nvme_payload){ .iov = &io->one, .iovcnt = 1 };
}

bool
nvme_io_has_next(const struct nvme_io *io)
{
	return !io->failed && io->next_blk < io->nlb;
}

void
nvme_io_next_child(struct nvme_io *io, struct nvt_nvme_cmd *cmd, struct nvme_payload *payload,
		   uint32_t *len)
{
	uint32_t nlb = io->nlb - io->next_blk;

	if (nlb > io->max_nlb) {
		nlb = io->max_nlb;
	}
	*cmd = io->cmd;
	if (io->has_lba) {
		nvt_nvme_rw_set(cmd, io->slba + io->next_blk, nlb);
		*len = nlb * io->block_size;
	} else {
		*len = io->len;
	}
	/* Cannot fail: the caller's data was checked to hold len bytes. */
	nvme_payload_sub(&io->payload, (uint64_t)io->next_blk * io->block_size, payload);
	io->next_blk += nlb;
	io->inflight++;
}

bool
nvme_io_child_done(struct nvme_io *io, const struct nvt_nvme_cpl *cpl)
{
	io->inflight--;
	if (!io->failed) {
		/* The first error wins; on success the last child's completion is reported. */
		io->cpl = *cpl;
		io->failed = nvt_nvme_cpl_is_error(cpl);
	}
	return io->inflight == 0 && !nvme_io_has_next(io);
}

bool
nvme_io_abort(struct nvme_io *io, uint16_t status)
{
	if (!io->failed) {
		io->cpl = (struct nvt_nvme_cpl){ .sqid = io->qpair->qid, .status = status };
		io->failed = true;
	}
	return io->inflight == 0;
}

/* ---- I/Os on the queue ---- */

static void
io_unqueue(struct nvme_io *io)
{
	TAILQ_REMOVE(&io->qpair->waiting_ios, io, link);
	io->queued = false;
}

/* Return the I/O, then tell the caller; the callback may submit again. */
static void
io_complete(struct nvme_io *io)
{
	struct nvt_nvme_qpair *qpair = io->qpair;
	nvt_nvme_cmd_cb cb_fn = io->cb_fn;
	void *cb_arg = io->cb_arg;
	struct nvt_nvme_cpl cpl = io->cpl;

	TAILQ_INSERT_HEAD(&qpair->free_ios, io, link);
	qpair->outstanding--;
	if (cb_fn != NULL) {
		cb_fn(cb_arg, &cpl);
	}
}

/* Send children of \p io while requests are free. */
static void
io_send(struct nvme_io *io)
{
	struct nvt_nvme_qpair *qpair = io->qpair;
	struct nvt_nvme_cmd cmd;
	struct nvme_payload pl;
	uint32_t len;

	while (nvme_io_has_next(io) && nvme_qpair_has_free_req(qpair)) {
		nvme_io_next_child(io, &cmd, &pl, &len);
		if (nvt_unlikely(nvme_qpair_submit_child(qpair, &cmd, &pl, len, io) != 0)) {
			/* Cannot happen: the queue is ready and a request is free. */
			io->inflight--;
			nvme_io_abort(io, NVT_NVME_STATUS_HOST_PATH_ERROR);
		}
	}
}

void
nvme_qpair_kick_ios(struct nvt_nvme_qpair *qpair)
{
	struct nvme_io *io;

	if (qpair->state != NVME_QPAIR_STATE_READY) {
		return;
	}
	while ((io = TAILQ_FIRST(&qpair->waiting_ios)) != NULL && nvme_qpair_has_free_req(qpair)) {
		io_send(io);
		if (nvme_io_has_next(io)) {
			return;
		}
		io_unqueue(io);
		if (io->inflight == 0) {
			io_complete(io);
		}
	}
}

void
nvme_io_child_finish(struct nvme_io *io, const struct nvt_nvme_cpl *cpl)
{
	bool done = nvme_io_child_done(io, cpl);

	/* A failed child: the rest of the I/O is not sent, so it stops waiting. */
	if (io->queued && !nvme_io_has_next(io)) {
		io_unqueue(io);
	}
	nvme_qpair_kick_ios(io->qpair);
	if (done) {
		io_complete(io);
	}
}

void
nvme_qpair_fail_ios(struct nvt_nvme_qpair *qpair, uint16_t status)
{
	struct nvme_io *io;

	while ((io = TAILQ_FIRST(&qpair->waiting_ios)) != NULL) {
		io_unqueue(io);
		if (nvme_io_abort(io, status)) {
			io_complete(io);
		}
	}
}

/* Take an I/O of the queue for a new command; 0, -ENXIO or -EAGAIN. */
static int
io_get(struct nvt_nvme_qpair *qpair, struct nvme_io **out)
{
	struct nvme_io *io;

	if (nvt_unlikely(qpair->state != NVME_QPAIR_STATE_READY)) {
		return -ENXIO;
	}
	io = TAILQ_FIRST(&qpair->free_ios);
	if (nvt_unlikely(qpair->outstanding >= qpair->depth || io == NULL)) {
		return -EAGAIN;
	}
	TAILQ_REMOVE(&qpair->free_ios, io, link);
	qpair->outstanding++;
	*out = io;
	return 0;
}

/* Send what requests allow now; the rest waits behind the I/Os already waiting. */
static int
io_submit(struct nvme_io *io, nvt_nvme_cmd_cb cb_fn, void *cb_arg)
{
	struct nvt_nvme_qpair *qpair = io->qpair;

	io->cb_fn = cb_fn;
	io->cb_arg = cb_arg;
	if (io->nlb > io->max_nlb) {
		qpair->stats.split_ios++;
	}
	if (TAILQ_EMPTY(&qpair->waiting_ios)) {
		io_send(io);
	}
	if (nvme_io_has_next(io)) {
		io->queued = true;
		TAILQ_INSERT_TAIL(&qpair->waiting_ios, io, link);
		qpair->stats.queued_ios++;
	}
	return 0;
}

/* ---- public I/O commands ---- */

static int
ns_cmd_rw(struct nvt_nvme_qpair *qpair, const struct nvt_nvme_cmd *cmd, void *buf,
	  const struct iovec *iov, uint32_t iovcnt, uint64_t slba, uint32_t nlb,
	  nvt_nvme_cmd_cb cb_fn, void *cb_arg)
{
	const struct nvt_nvme_id_ns *ns = nvt_nvme_ctrlr_get_ns_data(qpair->ctrlr, cmd->nsid);
	uint32_t bs, max_nlb;
	struct nvme_io *io;
	uint64_t len;
	int rc;

	if (nvt_unlikely(ns == NULL || nlb == 0)) {
		return -EINVAL;
	}
	bs = nvt_nvme_id_ns_block_size(ns);
	len = (uint64_t)nlb * bs;
	max_nlb = nvme_split_max_nlb(bs, nvt_nvme_ctrlr_get_max_xfer_size(qpair->ctrlr));
	if (nvt_unlikely(len > UINT32_MAX || max_nlb == 0 ||
			 (iov != NULL && nvme_iov_bytes(iov, iovcnt) < len))) {
		return -EINVAL;
	}
	rc = io_get(qpair, &io);
	if (rc != 0) {
		return rc;
	}
	nvme_io_init(io, cmd, slba, nlb, max_nlb, bs);
	io->h2c = cmd->opc == NVT_NVME_OPC_WRITE;
	if (iov != NULL) {
		io->payload = (struct nvme_payload){ .iov = iov, .iovcnt = iovcnt };
	} else {
		io->one = (struct iovec){ .iov_base = buf, .iov_len = (size_t)len };
	}
	return io_submit(io, cb_fn, cb_arg);
}

int
nvt_nvme_ns_cmd_read(struct nvt_nvme_qpair *qpair, uint32_t nsid, void *buf, uint64_t slba,
		     uint32_t nlb, nvt_nvme_cmd_cb cb_fn, void *cb_arg)
{
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_READ, .nsid = nsid };

	return ns_cmd_rw(qpair, &cmd, buf, NULL, 0, slba, nlb, cb_fn, cb_arg);
}

int
nvt_nvme_ns_cmd_write(struct nvt_nvme_qpair *qpair, uint32_t nsid, const void *buf, uint64_t slba,
		      uint32_t nlb, nvt_nvme_cmd_cb cb_fn, void *cb_arg)
{
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_WRITE, .nsid = nsid };

	return ns_cmd_rw(qpair, &cmd, (void *)(uintptr_t)buf, NULL, 0, slba, nlb, cb_fn, cb_arg);
}

int
nvt_nvme_ns_cmd_write_flags(struct nvt_nvme_qpair *qpair, uint32_t nsid, const void *buf,
			    uint64_t slba, uint32_t nlb, uint32_t io_flags, nvt_nvme_cmd_cb cb_fn,
			    void *cb_arg)
{
	/* The flags sit in CDW12, which every child of a split write keeps. */
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_WRITE, .nsid = nsid, .cdw12 = io_flags };

	if (io_flags & ~NVT_NVME_IO_FLAG_FUA) {
		return -EINVAL;
	}
	return ns_cmd_rw(qpair, &cmd, (void *)(uintptr_t)buf, NULL, 0, slba, nlb, cb_fn, cb_arg);
}

int
nvt_nvme_ns_cmd_readv(struct nvt_nvme_qpair *qpair, uint32_t nsid, const struct iovec *iov,
		      uint32_t iovcnt, uint64_t slba, uint32_t nlb, nvt_nvme_cmd_cb cb_fn,
		      void *cb_arg)
{
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_READ, .nsid = nsid };

	if (iov == NULL) {
		return -EINVAL;
	}
	return ns_cmd_rw(qpair, &cmd, NULL, iov, iovcnt, slba, nlb, cb_fn, cb_arg);
}

int
nvt_nvme_ns_cmd_writev(struct nvt_nvme_qpair *qpair, uint32_t nsid, const struct iovec *iov,
		       uint32_t iovcnt, uint64_t slba, uint32_t nlb, nvt_nvme_cmd_cb cb_fn,
		       void *cb_arg)
{
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_WRITE, .nsid = nsid };

	if (iov == NULL) {
		return -EINVAL;
	}
	return ns_cmd_rw(qpair, &cmd, NULL, iov, iovcnt, slba, nlb, cb_fn, cb_arg);
}

int
nvt_nvme_ns_cmd_write_zeroes(struct nvt_nvme_qpair *qpair, uint32_t nsid, uint64_t slba,
			     uint32_t nlb, nvt_nvme_cmd_cb cb_fn, void *cb_arg)
{
	const struct nvt_nvme_id_ns *ns = nvt_nvme_ctrlr_get_ns_data(qpair->ctrlr, nsid);
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_WRITE_ZEROES, .nsid = nsid };
	struct nvme_io *io;
	int rc;

	if (ns == NULL || nlb == 0) {
		return -EINVAL;
	}
	rc = io_get(qpair, &io);
	if (rc != 0) {
		return rc;
	}
	nvme_io_init(io, &cmd, slba, nlb, nvme_ctrlr_get_write_zeroes_max_nlb(qpair->ctrlr, ns), 0);
	return io_submit(io, cb_fn, cb_arg);
}

/* A command sent whole, as one child: \p len bytes of \p buf, if any. */
static int
ns_cmd_single(struct nvt_nvme_qpair *qpair, const struct nvt_nvme_cmd *cmd, void *buf, uint32_t len,
	      bool h2c, nvt_nvme_cmd_cb cb_fn, void *cb_arg)
{
	struct nvme_io *io;
	int rc;

	rc = io_get(qpair, &io);
	if (rc != 0) {
		return rc;
	}
	nvme_io_init(io, cmd, 0, 1, 1, 0);
	io->has_lba = false;
	io->len = len;
	io->h2c = h2c;
	io->one = (struct iovec){ .iov_base = buf, .iov_len = len };
	return io_submit(io, cb_fn, cb_arg);
}

int
nvt_nvme_ns_cmd_flush(struct nvt_nvme_qpair *qpair, uint32_t nsid, nvt_nvme_cmd_cb cb_fn,
		      void *cb_arg)
{
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_FLUSH, .nsid = nsid };

	return ns_cmd_single(qpair, &cmd, NULL, 0, false, cb_fn, cb_arg);
}

int
nvt_nvme_ns_cmd_deallocate(struct nvt_nvme_qpair *qpair, uint32_t nsid,
			   const struct nvt_nvme_dsm_range *ranges, uint16_t nr,
			   nvt_nvme_cmd_cb cb_fn, void *cb_arg)
{
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_DATASET_MANAGEMENT, .nsid = nsid };

	if (nr == 0 || nr > NVT_NVME_DSM_MAX_RANGES) {
		return -EINVAL;
	}
	cmd.cdw10 = nr - 1u;
	cmd.cdw11 = NVT_NVME_DSM_ATTR_AD;
	/* Never split: the ranges are one list the controller reads at once. */
	return ns_cmd_single(qpair, &cmd, (void *)(uintptr_t)ranges, nr * (uint32_t)sizeof(*ranges),
			     true, cb_fn, cb_arg);
}
