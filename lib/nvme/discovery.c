/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Discovery log page: read the header for numrec and genctr, then the whole
 * page; read again when genctr moved in between.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvme_internal.h"

/* How often a changing log is read again before giving up. */
#define DISC_MAX_RETRIES 8
/* Most entries read. */
#define DISC_MAX_RECORDS 1024

struct disc_ctx {
	struct nvt_nvme_ctrlr *ctrlr;
	struct nvt_nvmf_disc_log_hdr hdr;
	struct nvt_nvmf_disc_log_hdr *log;
	uint64_t numrec;
	uint32_t retries;
	nvt_nvme_discovery_cb cb_fn;
	void *cb_arg;
};

static int
get_log(struct nvt_nvme_ctrlr *ctrlr, void *buf, uint32_t len, nvt_nvme_cmd_cb cb_fn, void *arg)
{
	uint32_t numd = len / 4 - 1;
	struct nvt_nvme_cmd cmd = {
		.opc = NVT_NVME_OPC_GET_LOG_PAGE,
		.cdw10 = NVT_NVME_LOG_DISCOVERY | (numd << 16),
		.cdw11 = numd >> 16,
	};

	return nvt_nvme_ctrlr_cmd_admin(ctrlr, &cmd, buf, len, cb_fn, arg);
}

static void
disc_finish(struct disc_ctx *ctx, int rc, uint16_t status)
{
	ctx->cb_fn(ctx->cb_arg, rc, status, rc == 0 ? ctx->log : NULL);
	free(ctx->log);
	free(ctx);
}

static void disc_hdr_done(void *arg, const struct nvt_nvme_cpl *cpl);

static void
disc_log_done(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct disc_ctx *ctx = arg;
	int rc;

	if (nvt_nvme_cpl_is_error(cpl)) {
		disc_finish(ctx, -EREMOTEIO, cpl->status);
		return;
	}
	if (ctx->log->genctr == ctx->hdr.genctr && ctx->log->numrec == ctx->numrec) {
		disc_finish(ctx, 0, 0);
		return;
	}
	if (++ctx->retries > DISC_MAX_RETRIES) {
		disc_finish(ctx, -EAGAIN, 0);
		return;
	}
	free(ctx->log);
	ctx->log = NULL;
	rc = get_log(ctx->ctrlr, &ctx->hdr, sizeof(ctx->hdr), disc_hdr_done, ctx);
	if (rc != 0) {
		disc_finish(ctx, rc, 0);
	}
}

static void
disc_hdr_done(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct disc_ctx *ctx = arg;
	uint32_t len;
	int rc;

	if (nvt_nvme_cpl_is_error(cpl)) {
		disc_finish(ctx, -EREMOTEIO, cpl->status);
		return;
	}
	ctx->numrec = ctx->hdr.numrec;
	if (ctx->numrec > DISC_MAX_RECORDS) {
		ctx->numrec = DISC_MAX_RECORDS;
	}
	len = (uint32_t)(sizeof(ctx->hdr) + ctx->numrec * sizeof(struct nvt_nvmf_disc_log_entry));
	ctx->log = calloc(1, len);
	if (ctx->log == NULL) {
		disc_finish(ctx, -ENOMEM, 0);
		return;
	}
	rc = get_log(ctx->ctrlr, ctx->log, len, disc_log_done, ctx);
	if (rc != 0) {
		disc_finish(ctx, rc, 0);
	}
}

int
nvt_nvme_ctrlr_get_discovery_log(struct nvt_nvme_ctrlr *ctrlr, nvt_nvme_discovery_cb cb_fn,
				 void *cb_arg)
{
	struct disc_ctx *ctx = calloc(1, sizeof(*ctx));
	int rc;

	if (ctx == NULL) {
		return -ENOMEM;
	}
	ctx->ctrlr = ctrlr;
	ctx->cb_fn = cb_fn;
	ctx->cb_arg = cb_arg;
	rc = get_log(ctrlr, &ctx->hdr, sizeof(ctx->hdr), disc_hdr_done, ctx);
	if (rc != 0) {
		free(ctx);
	}
	return rc;
}

/* Copy a space padded field into a NUL terminated string. */
static void
field_str(char *dst, size_t size, const char *src, size_t srclen)
{
	size_t n = strnlen(src, srclen);

	while (n > 0 && src[n - 1] == ' ') {
		n--;
	}
	if (n >= size) {
		n = size - 1;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void
nvt_nvme_trid_from_disc_entry(struct nvt_nvme_trid *trid, const struct nvt_nvmf_disc_log_entry *e)
{
	memset(trid, 0, sizeof(*trid));
	trid->trtype = (enum nvt_nvmf_trtype)e->trtype;
	trid->adrfam = (enum nvt_nvmf_adrfam)e->adrfam;
	field_str(trid->traddr, sizeof(trid->traddr), e->traddr, sizeof(e->traddr));
	field_str(trid->trsvcid, sizeof(trid->trsvcid), e->trsvcid, sizeof(e->trsvcid));
	field_str(trid->subnqn, sizeof(trid->subnqn), e->subnqn, sizeof(e->subnqn));
}

static const char *
trtype_str(uint8_t t)
{
	switch (t) {
	case NVT_NVMF_TRTYPE_RDMA:
		return "rdma";
	case NVT_NVMF_TRTYPE_FC:
		return "fc";
	case NVT_NVMF_TRTYPE_TCP:
		return "tcp";
	default:
		return "unrecognized";
	}
}

/* As nvme-cli prints them. */
static const char *
treq_str(uint8_t treq)
{
	switch (treq & NVT_NVMF_TREQ_SECURE_CHANNEL_MASK) {
	case NVT_NVMF_TREQ_SECURE_CHANNEL_REQUIRED:
		return "required";
	case NVT_NVMF_TREQ_SECURE_CHANNEL_NOT_REQUIRED:
		return "not required";
	default:
		return "not specified";
	}
}

static const char *
sectype_str(uint8_t sectype)
{
	switch (sectype) {
	case NVT_NVMF_TCP_SECTYPE_NONE:
		return "none";
	case NVT_NVMF_TCP_SECTYPE_TLS12:
		return "tls1.2";
	case NVT_NVMF_TCP_SECTYPE_TLS13:
		return "tls1.3";
	default:
		return "unknown";
	}
}

static const char *
subtype_str(uint8_t t)
{
	switch (t) {
	case NVT_NVMF_SUBTYPE_DISCOVERY:
		return "discovery subsystem referral";
	case NVT_NVMF_SUBTYPE_NVME:
		return "nvme subsystem";
	case NVT_NVMF_SUBTYPE_DISCOVERY_CURRENT:
		return "current discovery subsystem";
	default:
		return "unrecognized";
	}
}

void
nvt_nvme_discovery_log_print(FILE *out, const struct nvt_nvmf_disc_log_hdr *log)
{
	uint64_t i;

	fprintf(out, "Discovery Log Number of Records %llu, Generation counter %llu\n",
		(unsigned long long)log->numrec, (unsigned long long)log->genctr);
	for (i = 0; i < log->numrec && i < DISC_MAX_RECORDS; i++) {
		const struct nvt_nvmf_disc_log_entry *e =
			nvt_nvmf_disc_log_get_entry((struct nvt_nvmf_disc_log_hdr *)log, i);
		struct nvt_nvme_trid t;

		nvt_nvme_trid_from_disc_entry(&t, e);
		fprintf(out, "=====Discovery Log Entry %llu======\n", (unsigned long long)i);
		fprintf(out, "trtype:  %s\n", trtype_str(e->trtype));
		fprintf(out, "adrfam:  %s\n", e->adrfam == NVT_NVMF_ADRFAM_IPV6 ? "ipv6" : "ipv4");
		fprintf(out, "subtype: %s\n", subtype_str(e->subtype));
		fprintf(out, "treq:    %s\n", treq_str(e->treq));
		fprintf(out, "portid:  %u\n", e->portid);
		fprintf(out, "trsvcid: %s\n", t.trsvcid);
		fprintf(out, "subnqn:  %s\n", t.subnqn);
		fprintf(out, "traddr:  %s\n", t.traddr);
		fprintf(out, "cntlid:  %#x\n", e->cntlid);
		fprintf(out, "asqsz:   %u\n", e->asqsz);
		if (e->trtype == NVT_NVMF_TRTYPE_TCP) {
			fprintf(out, "sectype: %s\n", sectype_str(e->tsas.tcp.sectype));
		}
	}
}
