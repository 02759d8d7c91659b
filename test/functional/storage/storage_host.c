/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The storage test's host: its commands are submitted on the reactor's
 * thread by a message (struct call) and the driver thread waits for them
 * with a semaphore; connecting and disconnecting the controller and its
 * I/O queue go the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nvtcp/nvme.h"
#include "nvtcp/thread.h"

#include "storage_internal.h"

struct nvt_thread *g_app_thread;
struct nvt_nvme_ctrlr *g_ctrlr;
static struct nvt_nvme_poll_group *g_group;
static struct nvt_nvme_qpair *g_qpair;

/* ---- commands on the reactor's thread ---- */

static void
op_done(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct op *op = arg;

	op->status = cpl->status & (uint16_t)~NVT_NVME_STATUS_P;
	op->cdw0 = cpl->cdw0;
	if (--op->call->pending == 0) {
		sem_post(&op->call->done);
	}
}

static int
op_submit(struct op *op)
{
	switch (op->kind) {
	case OP_READ:
		return nvt_nvme_ns_cmd_read(g_qpair, op->nsid, op->buf, op->slba, op->nlb, op_done,
					    op);
	case OP_WRITE:
		return nvt_nvme_ns_cmd_write_flags(g_qpair, op->nsid, op->buf, op->slba, op->nlb,
						   op->io_flags, op_done, op);
	case OP_FLUSH:
		return nvt_nvme_ns_cmd_flush(g_qpair, op->nsid, op_done, op);
	case OP_WRITE_ZEROES:
		return nvt_nvme_ns_cmd_write_zeroes(g_qpair, op->nsid, op->slba, op->nlb, op_done,
						    op);
	case OP_DEALLOCATE:
		return nvt_nvme_ns_cmd_deallocate(g_qpair, op->nsid, op->ranges, op->nr, op_done,
						  op);
	case OP_ADMIN:
		return nvt_nvme_ctrlr_cmd_admin(g_ctrlr, &op->cmd, op->buf, op->len, op_done, op);
	}
	return -EINVAL;
}

/* Submit every op of the call; the call is done once each completed or failed to submit. */
void
ops_submit_msg(void *arg)
{
	struct call *c = arg;
	uint32_t i;
	int rc;

	/* One count held across the loop: the call cannot end while ops are submitted. */
	c->pending = c->nops + 1;
	for (i = 0; i < c->nops; i++) {
		c->ops[i].call = c;
		rc = op_submit(&c->ops[i]);
		if (rc != 0) {
			c->ops[i].status = rc;
			c->pending--;
		}
	}
	if (--c->pending == 0) {
		sem_post(&c->done);
	}
}

void
call_start(struct call *c)
{
	sem_init(&c->done, 0, 0);
	if (nvt_thread_send_msg(g_app_thread, c->fn, c) != 0) {
		fatal("cannot send a message to the reactor");
	}
}

/* Wait for \p c; false when it did not end within \p seconds. */
bool
call_wait(struct call *c, int seconds)
{
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	while ((rc = sem_timedwait(&c->done, &ts)) != 0 && errno == EINTR) {
	}
	return rc == 0;
}

void
call_run(struct call *c, const char *what)
{
	call_start(c);
	if (!call_wait(c, WAIT_S)) {
		fatal("%s: no answer within %d s", what, WAIT_S);
	}
	sem_destroy(&c->done);
}

/* Run \p n ops at once; the status of the first (or -EINVAL for none). */
int
ops_run(struct op *ops, uint32_t n)
{
	struct call c = { .fn = ops_submit_msg, .ops = ops, .nops = n };

	call_run(&c, "host commands");
	return n > 0 ? ops[0].status : -EINVAL;
}

int
io(enum op_kind kind, const struct ns_info *ns, uint64_t slba, uint32_t nlb, void *buf,
   uint32_t io_flags)
{
	struct op op = { .kind = kind,
			 .nsid = ns->nsid,
			 .slba = slba,
			 .nlb = nlb,
			 .buf = buf,
			 .io_flags = io_flags };

	return ops_run(&op, 1);
}

int
deallocate(const struct ns_info *ns, const struct nvt_nvme_dsm_range *ranges, uint16_t nr)
{
	struct op op = { .kind = OP_DEALLOCATE, .nsid = ns->nsid, .ranges = ranges, .nr = nr };

	return ops_run(&op, 1);
}

int
admin(const struct nvt_nvme_cmd *cmd, void *buf, uint32_t len, uint32_t *cdw0)
{
	struct op op = { .kind = OP_ADMIN, .cmd = *cmd, .buf = buf, .len = len };
	int status = ops_run(&op, 1);

	if (cdw0 != NULL) {
		*cdw0 = op.cdw0;
	}
	return status;
}

/* Identify Namespace, asked now (lib/nvme keeps the data of connect time). */
int
identify_ns(uint32_t nsid, struct nvt_nvme_id_ns *data)
{
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_IDENTIFY,
				    .nsid = nsid,
				    .cdw10 = NVT_NVME_CNS_NS };

	memset(data, 0, sizeof(*data));
	return admin(&cmd, data, sizeof(*data), NULL);
}

bool
status_is(int status, uint8_t sct, uint8_t sc)
{
	return status > 0 && nvt_nvme_status_sct((uint16_t)status) == sct &&
	       nvt_nvme_status_sc((uint16_t)status) == sc;
}

/* ---- connect and disconnect ---- */

static void
qpair_connected(void *arg, struct nvt_nvme_qpair *qpair, int rc, uint16_t status)
{
	struct call *c = arg;

	(void)status;
	g_qpair = qpair;
	/* Connected means an I/O queue to submit on. */
	c->rc = rc == 0 && qpair == NULL ? -ENOTCONN : rc;
	sem_post(&c->done);
}

static void
ctrlr_connected(void *arg, struct nvt_nvme_ctrlr *ctrlr, int rc, uint16_t status)
{
	struct call *c = arg;

	(void)status;
	g_ctrlr = ctrlr;
	g_group = rc == 0 ? nvt_nvme_poll_group_create() : NULL;
	if (rc == 0) {
		rc = g_group == NULL ? -ENOMEM
				     : nvt_nvme_ctrlr_connect_io_qpair(ctrlr, g_group, DEPTH,
								       qpair_connected, c);
	}
	if (rc != 0) {
		c->rc = rc;
		sem_post(&c->done);
	}
}

void
connect_msg(void *arg)
{
	struct call *c = arg;
	struct nvt_nvme_ctrlr_opts o;
	struct nvt_nvme_trid trid;
	char str[256], err[128];

	snprintf(str, sizeof(str), "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d subnqn:%s",
		 g_port, SUBNQN);
	nvt_nvme_ctrlr_get_default_opts(&o, sizeof(o));
	c->rc = nvt_nvme_trid_parse(&trid, str, err, sizeof(err));
	if (c->rc == 0) {
		c->rc = nvt_nvme_ctrlr_connect(&trid, &o, ctrlr_connected, c);
	}
	if (c->rc != 0) {
		sem_post(&c->done);
	}
}

static void
detached(void *arg)
{
	sem_post(&((struct call *)arg)->done);
}

void
disconnect_msg(void *arg)
{
	struct call *c = arg;

	if (g_qpair != NULL) {
		nvt_nvme_qpair_disconnect(&g_qpair);
	}
	if (g_group != NULL) {
		c->rc = nvt_nvme_poll_group_destroy(&g_group);
	}
	if (g_ctrlr != NULL) {
		nvt_nvme_ctrlr_detach(&g_ctrlr, detached, c);
	} else {
		detached(c);
	}
}
