/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Discovery referrals: services this target does not run, listed in every
 * host's discovery log so that a host that discovers one target learns the
 * others. The list belongs to the target, on the app thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"

#include "nvmf_internal.h"

struct nvmf_referral {
	/* subnqn always filled in: "" given stands for the discovery NQN. */
	struct nvt_nvmf_referral r;
	TAILQ_ENTRY(nvmf_referral) link;
};

static const char *
referral_subnqn(const char *subnqn)
{
	return subnqn == NULL || subnqn[0] == '\0' ? NVT_NVMF_DISCOVERY_NQN : subnqn;
}

const char *
nvt_nvmf_referral_check(const struct nvt_nvmf_referral *referral)
{
	const struct nvt_nvmf_trid *trid = &referral->trid;
	uint8_t addr[16];
	uint64_t port;
	int af;

	if (!nvt_nvmf_nqn_is_valid(referral_subnqn(referral->subnqn))) {
		return "subnqn";
	}
	if (trid->trtype != NVT_NVMF_TRTYPE_TCP) {
		return "trtype";
	}
	if (trid->adrfam == NVT_NVMF_ADRFAM_IPV4) {
		af = AF_INET;
	} else if (trid->adrfam == NVT_NVMF_ADRFAM_IPV6) {
		af = AF_INET6;
	} else {
		return "adrfam";
	}
	/* Hosts connect to it as given: a numeric address of the family, a port number. */
	if (inet_pton(af, trid->traddr, addr) != 1) {
		return "traddr";
	}
	if (nvt_parse_u64(trid->trsvcid, 65535, &port) != 0 || port == 0) {
		return "trsvcid";
	}
	return NULL;
}

static struct nvmf_referral *
referral_find(const struct nvt_nvmf_tgt *tgt, const struct nvt_nvmf_trid *trid, const char *subnqn)
{
	struct nvmf_referral *ref;

	TAILQ_FOREACH(ref, &tgt->referrals, link) {
		if (nvt_nvmf_trid_equal(&ref->r.trid, trid) && strcmp(ref->r.subnqn, subnqn) == 0) {
			return ref;
		}
	}
	return NULL;
}

int
nvt_nvmf_referral_add(const struct nvt_nvmf_referral *referral)
{
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	const char *subnqn = referral_subnqn(referral->subnqn);
	struct nvmf_referral *ref;

	if (tgt == NULL) {
		return -ENODEV;
	}
	if (nvt_nvmf_referral_check(referral) != NULL) {
		return -EINVAL;
	}
	if (referral_find(tgt, &referral->trid, subnqn) != NULL) {
		return -EEXIST;
	}
	ref = calloc(1, sizeof(*ref));
	if (ref == NULL) {
		return -ENOMEM;
	}
	ref->r = *referral;
	nvt_strcpy_trunc(ref->r.subnqn, sizeof(ref->r.subnqn), subnqn);
	TAILQ_INSERT_TAIL(&tgt->referrals, ref, link);
	NVT_NOTICELOG("discovery referral added: %s %s:%s%s\n", ref->r.subnqn, ref->r.trid.traddr,
		      ref->r.trid.trsvcid, ref->r.secure_channel ? " (secure channel)" : "");
	nvmf_discovery_changed(tgt);
	return 0;
}

int
nvt_nvmf_referral_remove(const struct nvt_nvmf_trid *trid, const char *subnqn)
{
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	struct nvmf_referral *ref;

	if (tgt == NULL) {
		return -ENODEV;
	}
	ref = referral_find(tgt, trid, referral_subnqn(subnqn));
	if (ref == NULL) {
		return -ENOENT;
	}
	TAILQ_REMOVE(&tgt->referrals, ref, link);
	NVT_NOTICELOG("discovery referral removed: %s %s:%s\n", ref->r.subnqn, ref->r.trid.traddr,
		      ref->r.trid.trsvcid);
	free(ref);
	nvmf_discovery_changed(tgt);
	return 0;
}

size_t
nvt_nvmf_referral_get(struct nvt_nvmf_referral *out, size_t max)
{
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	struct nvmf_referral *ref;
	size_t n = 0;

	if (tgt == NULL) {
		return 0;
	}
	TAILQ_FOREACH(ref, &tgt->referrals, link) {
		if (n < max) {
			out[n] = ref->r;
		}
		n++;
	}
	return n;
}

size_t
nvmf_referral_count(const struct nvt_nvmf_tgt *tgt)
{
	const struct nvmf_referral *ref;
	size_t n = 0;

	TAILQ_FOREACH(ref, &tgt->referrals, link) {
		n++;
	}
	return n;
}

/*
 * As SPDK fills it: SUBTYPE 1 for another discovery service, 2 for an NVM
 * subsystem; the dynamic controller model; no port of ours to name (PORTID
 * 0). TREQ and TSAS as this target's own TCP listeners say them: a plain
 * referral is "not specified" rather than SPDK's "not required", which
 * recent Linux hosts take as a reason to connect over TLS.
 */
static void
referral_fill_entry(const struct nvt_nvmf_referral *r, struct nvt_nvmf_disc_log_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->trtype = (uint8_t)r->trid.trtype;
	e->adrfam = (uint8_t)r->trid.adrfam;
	e->subtype = strcmp(r->subnqn, NVT_NVMF_DISCOVERY_NQN) == 0 ? NVT_NVMF_SUBTYPE_DISCOVERY
								    : NVT_NVMF_SUBTYPE_NVME;
	e->treq = r->secure_channel ? NVT_NVMF_TREQ_SECURE_CHANNEL_REQUIRED
				    : NVT_NVMF_TREQ_SECURE_CHANNEL_NOT_SPECIFIED;
	e->cntlid = NVT_NVMF_CNTLID_DYNAMIC;
	e->asqsz = NVT_NVMF_MIN_ADMIN_QUEUE_ENTRIES;
	nvt_strcpy_pad(e->trsvcid, r->trid.trsvcid, sizeof(e->trsvcid), ' ');
	nvt_strcpy_pad(e->traddr, r->trid.traddr, sizeof(e->traddr), ' ');
	nvt_strcpy_trunc(e->subnqn, sizeof(e->subnqn), r->subnqn);
	e->tsas.tcp.sectype =
		r->secure_channel ? NVT_NVMF_TCP_SECTYPE_TLS13 : NVT_NVMF_TCP_SECTYPE_NONE;
}

void
nvmf_referral_fill_entries(const struct nvt_nvmf_tgt *tgt, struct nvt_nvmf_disc_log_entry *e)
{
	const struct nvmf_referral *ref;

	TAILQ_FOREACH(ref, &tgt->referrals, link) {
		referral_fill_entry(&ref->r, e++);
	}
}

void
nvmf_referral_foreach(const struct nvt_nvmf_tgt *tgt, nvmf_referral_fn fn, void *arg)
{
	const struct nvmf_referral *ref;

	TAILQ_FOREACH(ref, &tgt->referrals, link) {
		fn(arg, &ref->r);
	}
}

void
nvmf_referral_free_all(struct nvt_nvmf_tgt *tgt)
{
	struct nvmf_referral *ref;

	while ((ref = TAILQ_FIRST(&tgt->referrals)) != NULL) {
		TAILQ_REMOVE(&tgt->referrals, ref, link);
		free(ref);
	}
}
