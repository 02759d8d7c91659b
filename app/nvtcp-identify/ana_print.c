/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ANA section of nvtcp-identify, in the spirit of spdk_nvme_identify's
 * "Asymmetric Namespace Access" output: the Identify fields, then the log
 * page (change count, and per group its ID, state and NSIDs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ana_print.h"

struct ana_read {
	struct nvt_nvme_ctrlr *ctrlr;
	ana_print_done_cb done;
	uint8_t *buf;
	uint32_t len;
};

static const char *
ana_state_name(uint8_t state)
{
	switch (state & 0xfu) {
	case NVT_NVME_ANA_OPTIMIZED:
		return "optimized";
	case NVT_NVME_ANA_NON_OPTIMIZED:
		return "non-optimized";
	case NVT_NVME_ANA_INACCESSIBLE:
		return "inaccessible";
	case NVT_NVME_ANA_PERSISTENT_LOSS:
		return "persistent loss";
	case NVT_NVME_ANA_CHANGE:
		return "change";
	default:
		return "reserved";
	}
}

/* Print the log in \p buf of \p len bytes; stops at the first descriptor cut short. */
static void
ana_log_print(const uint8_t *buf, uint32_t len)
{
	struct nvt_nvme_ana_log_hdr hdr;
	struct nvt_nvme_ana_group_desc d;
	size_t off = sizeof(hdr);
	uint32_t i, n, nsid;

	memcpy(&hdr, buf, sizeof(hdr));
	printf("ANA log page:\n");
	printf("%-9s: %llu\n", "chgcnt", (unsigned long long)hdr.chgcnt);
	printf("%-9s: %u\n", "ngrps", hdr.ngrps);
	for (i = 0; i < hdr.ngrps && off + sizeof(d) <= len; i++) {
		memcpy(&d, buf + off, sizeof(d));
		off += sizeof(d);
		printf("ANA group %u: state %s (%#x), chgcnt %llu, %u namespaces:", d.anagrpid,
		       ana_state_name(d.state), d.state & 0xfu, (unsigned long long)d.chgcnt,
		       d.nnsids);
		for (n = 0; n < d.nnsids && off + 4 <= len; n++, off += 4) {
			memcpy(&nsid, buf + off, 4);
			printf(" %u", nsid);
		}
		printf("\n");
	}
}

static void
ana_log_done(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct ana_read *r = arg;
	uint16_t status = (uint16_t)(cpl->status >> 1);
	char st[128];
	int rc = 0;

	if (status != 0) {
		fprintf(stderr, "nvtcp-identify: ANA log page failed: %s\n",
			nvt_nvme_status_fmt(cpl->status, st, sizeof(st)));
		rc = 1;
	} else {
		ana_log_print(r->buf, r->len);
	}
	r->done(r->ctrlr, rc);
	free(r->buf);
	free(r);
}

void
ana_print(struct nvt_nvme_ctrlr *ctrlr, ana_print_done_cb done)
{
	const struct nvt_nvme_id_ctrl *c = nvt_nvme_ctrlr_get_data(ctrlr);
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_GET_LOG_PAGE, .nsid = NVT_NVME_NSID_ALL };
	struct ana_read *r;
	uint32_t numd;

	if (!(c->cmic & NVT_NVME_CMIC_ANA)) {
		done(ctrlr, 0);
		return;
	}
	printf("Asymmetric Namespace Access:\n");
	printf("%-9s: %u s\n", "anatt", c->anatt);
	printf("%-9s: %#x\n", "anacap", c->anacap);
	printf("%-9s: %u\n", "anagrpmax", c->anagrpmax);
	printf("%-9s: %u\n", "nanagrpid", c->nanagrpid);
	printf("%-9s: %u\n", "mnan", c->mnan);
	r = calloc(1, sizeof(*r));
	if (r != NULL) {
		/* The largest log the controller can return, as the Linux host sizes it. */
		r->len = (uint32_t)(sizeof(struct nvt_nvme_ana_log_hdr) +
				    (size_t)c->nanagrpid * sizeof(struct nvt_nvme_ana_group_desc) +
				    (size_t)c->mnan * 4);
		r->buf = calloc(1, r->len);
	}
	if (r == NULL || r->buf == NULL) {
		free(r);
		done(ctrlr, 1);
		return;
	}
	r->ctrlr = ctrlr;
	r->done = done;
	numd = r->len / 4 - 1;
	cmd.cdw10 = NVT_NVME_LOG_ANA | ((numd & 0xffffu) << 16);
	cmd.cdw11 = numd >> 16;
	if (nvt_nvme_ctrlr_cmd_admin(ctrlr, &cmd, r->buf, r->len, ana_log_done, r) != 0) {
		fprintf(stderr, "nvtcp-identify: ANA log page not sent\n");
		free(r->buf);
		free(r);
		done(ctrlr, 1);
	}
}
