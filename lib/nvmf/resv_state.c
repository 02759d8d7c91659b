/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reservation state machine of one namespace, and the table of which
 * commands a reservation lets through. Pure functions on storage the caller
 * owns: the app thread for the state, any thread for a snapshot.
 */
#include <stdlib.h>
#include <string.h>

#include "nvtcp/likely.h"
#include "nvtcp/nvme_spec.h"

#include "resv.h"

static uint16_t
st(uint8_t sc)
{
	return nvt_nvme_status_make(NVT_NVME_SCT_GENERIC, sc, true);
}

#define ST_CONFLICT	 st(NVT_NVME_SC_RESERVATION_CONFLICT)
#define ST_INVALID_FIELD st(NVT_NVME_SC_INVALID_FIELD)

static bool
rtype_is_all_regs(uint8_t rtype)
{
	return rtype == NVT_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS ||
	       rtype == NVT_NVME_RESV_EXCLUSIVE_ACCESS_ALL_REGS;
}

static bool
rtype_is_valid(uint8_t rtype)
{
	return rtype >= NVT_NVME_RESV_WRITE_EXCLUSIVE &&
	       rtype <= NVT_NVME_RESV_EXCLUSIVE_ACCESS_ALL_REGS;
}

void
nvmf_resv_state_init(struct nvmf_resv *r)
{
	memset(r, 0, sizeof(*r));
	r->holder = -1;
}

static int
reg_find(const struct nvmf_resv *r, const uint8_t hostid[16])
{
	uint32_t i;

	for (i = 0; i < r->nregs; i++) {
		if (memcmp(r->regs[i].hostid, hostid, 16) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* Whether registrant \p i holds the reservation (every registrant does for all-registrants). */
static bool
reg_holds(const struct nvmf_resv *r, int i)
{
	return r->rtype != NVT_NVME_RESV_NONE && (rtype_is_all_regs(r->rtype) || r->holder == i);
}

static void
notice_add(struct nvmf_resv_notices *out, const uint8_t hostid[16], uint8_t type)
{
	if (out->n < NVMF_RESV_MAX_REGS) {
		memcpy(out->to[out->n].hostid, hostid, 16);
		out->to[out->n].type = type;
		out->n++;
	}
}

/* Tell every registrant but \p self (an index, or -1). */
static void
notice_others(const struct nvmf_resv *r, int self, uint8_t type, struct nvmf_resv_notices *out)
{
	uint32_t i;

	for (i = 0; i < r->nregs; i++) {
		if ((int)i != self) {
			notice_add(out, r->regs[i].hostid, type);
		}
	}
}

static void
resv_release_all(struct nvmf_resv *r)
{
	r->rtype = NVT_NVME_RESV_NONE;
	r->holder = -1;
}

/* Remove registrant \p i, keeping the holder's index right; returns \p self's new index. */
static int
reg_remove(struct nvmf_resv *r, uint32_t i, int self)
{
	memmove(&r->regs[i], &r->regs[i + 1], (r->nregs - i - 1) * sizeof(r->regs[0]));
	r->nregs--;
	if (r->holder == (int)i) {
		r->holder = -1;
	} else if (r->holder > (int)i) {
		r->holder--;
	}
	if (rtype_is_all_regs(r->rtype) && r->nregs == 0) {
		resv_release_all(r);
	}
	return self > (int)i ? self - 1 : self;
}

/*
 * Unregister every host but \p self whose key is \p key, telling each its
 * registration was preempted. Returns how many went; \p self is updated.
 */
static uint32_t
reg_remove_by_key(struct nvmf_resv *r, uint64_t key, int *self, struct nvmf_resv_notices *out)
{
	uint32_t i = 0, n = 0;

	while (i < r->nregs) {
		if ((int)i != *self && r->regs[i].rkey == key) {
			notice_add(out, r->regs[i].hostid,
				   NVT_NVME_RESV_NOTIFY_REGISTRATION_PREEMPTED);
			*self = reg_remove(r, i, *self);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

/* ---- Reservation Register ---- */

static uint16_t
cmd_unregister(struct nvmf_resv *r, int i, struct nvmf_resv_notices *out)
{
	uint8_t old = r->rtype;
	bool held = reg_holds(r, i);

	reg_remove(r, (uint32_t)i, -1);
	/* A holder leaving a single-holder reservation ends it. */
	if (held && !rtype_is_all_regs(old)) {
		resv_release_all(r);
	}
	if (held && r->rtype == NVT_NVME_RESV_NONE &&
	    (old == NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY ||
	     old == NVT_NVME_RESV_EXCLUSIVE_ACCESS_REG_ONLY)) {
		notice_others(r, -1, NVT_NVME_RESV_NOTIFY_RESERVATION_RELEASED, out);
	}
	r->gen++;
	return 0;
}

static uint16_t
cmd_register(struct nvmf_resv *r, const struct nvmf_resv_cmd *c, struct nvmf_resv_notices *out)
{
	uint8_t action = (uint8_t)(c->cdw10 & 0x7u);
	bool iekey = (c->cdw10 & (1u << 3)) != 0;
	int i = reg_find(r, c->hostid);

	if (action == NVT_NVME_RESV_REGISTER_KEY) {
		if (i >= 0) {
			/* Registering again with the same key changes nothing. */
			return r->regs[i].rkey == c->key2 ? 0 : ST_CONFLICT;
		}
		if (r->nregs == NVMF_RESV_MAX_REGS) {
			return nvt_nvme_status_make(NVT_NVME_SCT_GENERIC,
						    NVT_NVME_SC_INTERNAL_ERROR, true);
		}
		memcpy(r->regs[r->nregs].hostid, c->hostid, 16);
		r->regs[r->nregs].rkey = c->key2;
		r->nregs++;
		r->gen++;
		return 0;
	}
	if (i < 0 || (!iekey && r->regs[i].rkey != c->crkey)) {
		return ST_CONFLICT;
	}
	if (action == NVT_NVME_RESV_UNREGISTER_KEY) {
		return cmd_unregister(r, i, out);
	}
	r->regs[i].rkey = c->key2;
	r->gen++;
	return 0;
}

/* ---- Reservation Acquire ---- */

static uint16_t
cmd_take(struct nvmf_resv *r, int self, uint8_t rtype)
{
	if (r->rtype == NVT_NVME_RESV_NONE) {
		r->rtype = rtype;
		r->holder = rtype_is_all_regs(rtype) ? -1 : self;
		return 0;
	}
	/* Acquiring what one holds succeeds; changing its type takes a preempt. */
	return reg_holds(r, self) && r->rtype == rtype ? 0 : ST_CONFLICT;
}

/*
 * The reservation passes to \p self with \p rtype. Hosts whose registration
 * went were told so (Registration Preempted); the registrants that remain
 * hear of it only when the type changed (Reservation Released), as the Linux
 * target does. Reservation Preempted is for Clear.
 */
static void
resv_move(struct nvmf_resv *r, int self, uint8_t old, uint8_t rtype, struct nvmf_resv_notices *out)
{
	r->rtype = rtype;
	r->holder = rtype_is_all_regs(rtype) ? -1 : self;
	if (old != rtype) {
		notice_others(r, self, NVT_NVME_RESV_NOTIFY_RESERVATION_RELEASED, out);
	}
}

static uint16_t
cmd_preempt(struct nvmf_resv *r, int self, uint8_t rtype, uint64_t prkey,
	    struct nvmf_resv_notices *out)
{
	uint8_t old = r->rtype;
	uint32_t gone;

	if (r->rtype == NVT_NVME_RESV_NONE) {
		/* No reservation: only registrations are preempted. */
		gone = reg_remove_by_key(r, prkey, &self, out);
	} else if (rtype_is_all_regs(r->rtype) && prkey == 0) {
		/* 0 names every other registrant: they go, the reservation moves. */
		gone = 1;
		while (r->nregs > 1) {
			notice_add(out, r->regs[self == 0 ? 1 : 0].hostid,
				   NVT_NVME_RESV_NOTIFY_REGISTRATION_PREEMPTED);
			self = reg_remove(r, self == 0 ? 1u : 0u, self);
		}
		resv_move(r, self, old, rtype, out);
	} else if (!rtype_is_all_regs(r->rtype) && r->holder >= 0 &&
		   r->regs[r->holder].rkey == prkey) {
		/* The holder's key: its reservation (and the registrations of that key) move. */
		gone = 1;
		reg_remove_by_key(r, prkey, &self, out);
		resv_move(r, self, old, rtype, out);
	} else {
		if (prkey == 0 && !rtype_is_all_regs(r->rtype)) {
			return ST_INVALID_FIELD;
		}
		gone = reg_remove_by_key(r, prkey, &self, out);
	}
	if (gone == 0) {
		return ST_CONFLICT;
	}
	r->gen++;
	return 0;
}

static uint16_t
cmd_acquire(struct nvmf_resv *r, const struct nvmf_resv_cmd *c, struct nvmf_resv_notices *out)
{
	uint8_t action = (uint8_t)(c->cdw10 & 0x7u);
	uint8_t rtype = (uint8_t)((c->cdw10 >> 8) & 0xffu);
	bool iekey = (c->cdw10 & (1u << 3)) != 0;
	int i = reg_find(r, c->hostid);

	if (action > NVT_NVME_RESV_PREEMPT_ABORT || !rtype_is_valid(rtype)) {
		return ST_INVALID_FIELD;
	}
	if (i < 0 || (!iekey && r->regs[i].rkey != c->crkey)) {
		return ST_CONFLICT;
	}
	if (action == NVT_NVME_RESV_ACQUIRE) {
		return cmd_take(r, i, rtype);
	}
	/* Preempt and Abort preempts the same; see doc/ha.md for what is aborted. */
	return cmd_preempt(r, i, rtype, c->key2, out);
}

/* ---- Reservation Release ---- */

static uint16_t
cmd_release(struct nvmf_resv *r, const struct nvmf_resv_cmd *c, struct nvmf_resv_notices *out)
{
	uint8_t action = (uint8_t)(c->cdw10 & 0x7u);
	uint8_t rtype = (uint8_t)((c->cdw10 >> 8) & 0xffu);
	bool iekey = (c->cdw10 & (1u << 3)) != 0;
	int i = reg_find(r, c->hostid);
	uint8_t old = r->rtype;

	if (action > NVT_NVME_RESV_CLEAR) {
		return ST_INVALID_FIELD;
	}
	if (i < 0 || (!iekey && r->regs[i].rkey != c->crkey)) {
		return ST_CONFLICT;
	}
	if (action == NVT_NVME_RESV_CLEAR) {
		notice_others(r, i, NVT_NVME_RESV_NOTIFY_RESERVATION_PREEMPTED, out);
		r->nregs = 0;
		resv_release_all(r);
		r->gen++;
		return 0;
	}
	if (!reg_holds(r, i)) {
		/* Nothing held (by this host): the release succeeds and changes nothing. */
		return 0;
	}
	if (rtype != old) {
		return ST_INVALID_FIELD;
	}
	resv_release_all(r);
	if (old != NVT_NVME_RESV_WRITE_EXCLUSIVE && old != NVT_NVME_RESV_EXCLUSIVE_ACCESS) {
		notice_others(r, i, NVT_NVME_RESV_NOTIFY_RESERVATION_RELEASED, out);
	}
	return 0;
}

static uint16_t
cptpl_check(const struct nvmf_resv *r, uint32_t cdw10, int *ptpl_want)
{
	switch (cdw10 >> 30) {
	case NVT_NVME_RESV_PTPL_NO_CHANGE:
		*ptpl_want = -1;
		return 0;
	case NVT_NVME_RESV_PTPL_CLEAR:
		*ptpl_want = 0;
		return 0;
	case NVT_NVME_RESV_PTPL_SET:
		*ptpl_want = 1;
		/* Without a file there is nowhere to persist (RESCAP bit 0 is clear). */
		return r->ptpl_file != NULL ? 0 : ST_INVALID_FIELD;
	default:
		return ST_INVALID_FIELD;
	}
}

uint16_t
nvmf_resv_state_exec(struct nvmf_resv *r, const struct nvmf_resv_cmd *c,
		     struct nvmf_resv_notices *out, int *ptpl_want)
{
	uint16_t status;

	out->n = 0;
	*ptpl_want = -1;
	switch (c->opc) {
	case NVT_NVME_OPC_RESERVATION_REGISTER:
		if ((c->cdw10 & 0x7u) > NVT_NVME_RESV_REPLACE_KEY) {
			return ST_INVALID_FIELD;
		}
		status = cptpl_check(r, c->cdw10, ptpl_want);
		return status != 0 ? status : cmd_register(r, c, out);
	case NVT_NVME_OPC_RESERVATION_ACQUIRE:
		return cmd_acquire(r, c, out);
	case NVT_NVME_OPC_RESERVATION_RELEASE:
		return cmd_release(r, c, out);
	case NVT_NVME_OPC_SET_FEATURES:
		/* Reservation Persistence: only the PTPL bit changes. */
		*ptpl_want = (c->cdw11 & NVT_NVME_RESV_PERSIST_PTPL) != 0;
		return *ptpl_want == 1 && r->ptpl_file == NULL ? ST_INVALID_FIELD : 0;
	default:
		return nvt_nvme_status_make(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_OPCODE, true);
	}
}

struct nvmf_resv_snap *
nvmf_resv_state_snap(const struct nvmf_resv *r)
{
	struct nvmf_resv_snap *s = calloc(1, sizeof(*s));
	uint32_t i;

	if (s == NULL) {
		return NULL;
	}
	s->rtype = r->rtype;
	s->ptpl = r->ptpl;
	if (r->holder >= 0) {
		memcpy(s->holder, r->regs[r->holder].hostid, 16);
	}
	s->nregs = r->nregs;
	for (i = 0; i < r->nregs; i++) {
		memcpy(s->regs[i], r->regs[i].hostid, 16);
	}
	return s;
}

/* ---- the table of the spec: command groups against the reservation ---- */

enum resv_access {
	RESV_ACCESS_OTHER,
	RESV_ACCESS_READ,
	RESV_ACCESS_WRITE
};

static enum resv_access
opc_access(uint8_t opc)
{
	switch (opc) {
	case NVT_NVME_OPC_READ:
	case NVT_NVME_OPC_COMPARE:
	case 0x0c: /* Verify */
		return RESV_ACCESS_READ;
	case NVT_NVME_OPC_FLUSH:
	case NVT_NVME_OPC_WRITE:
	case 0x04: /* Write Uncorrectable */
	case NVT_NVME_OPC_WRITE_ZEROES:
	case NVT_NVME_OPC_DATASET_MANAGEMENT:
		return RESV_ACCESS_WRITE;
	default:
		/* The reservation commands check registration themselves. */
		return RESV_ACCESS_OTHER;
	}
}

static bool
snap_is_reg(const struct nvmf_resv_snap *s, const uint8_t hostid[16])
{
	uint32_t i;

	for (i = 0; i < s->nregs; i++) {
		if (memcmp(s->regs[i], hostid, 16) == 0) {
			return true;
		}
	}
	return false;
}

uint16_t
nvmf_resv_check(const struct nvmf_resv_snap *s, const uint8_t hostid[16], uint8_t opc)
{
	enum resv_access access;
	bool allowed;

	if (s == NULL || s->rtype == NVT_NVME_RESV_NONE) {
		return 0;
	}
	access = opc_access(opc);
	if (access == RESV_ACCESS_OTHER ||
	    (!rtype_is_all_regs(s->rtype) && memcmp(s->holder, hostid, 16) == 0)) {
		return 0;
	}
	switch (s->rtype) {
	case NVT_NVME_RESV_WRITE_EXCLUSIVE:
		allowed = access == RESV_ACCESS_READ;
		break;
	case NVT_NVME_RESV_EXCLUSIVE_ACCESS:
		allowed = false;
		break;
	case NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY:
	case NVT_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS:
		allowed = access == RESV_ACCESS_READ || snap_is_reg(s, hostid);
		break;
	default: /* Exclusive Access, Registrants Only or All Registrants */
		allowed = snap_is_reg(s, hostid);
	}
	return allowed ? 0 : ST_CONFLICT;
}

/* ---- Reservation Report, extended data structure ---- */

void
nvmf_resv_state_report(const struct nvmf_resv *r, void *buf, uint32_t len)
{
	struct nvt_nvme_resv_status_ext h = { 0 };
	struct nvt_nvme_resv_ctrlr_ext e;
	uint8_t *p = buf;
	uint32_t i, off;

	h.gen = r->gen;
	h.rtype = r->rtype;
	h.regctl[0] = (uint8_t)(r->nregs & 0xff);
	h.regctl[1] = (uint8_t)(r->nregs >> 8);
	h.ptpls = r->ptpl ? 1 : 0;
	memset(buf, 0, len);
	memcpy(p, &h, NVT_MIN(len, (uint32_t)sizeof(h)));
	for (i = 0, off = sizeof(h); i < r->nregs && off < len; i++, off += sizeof(e)) {
		memset(&e, 0, sizeof(e));
		/* Registrations are per host: no one controller to name (dynamic model). */
		e.cntlid = 0xffff;
		e.rcsts = reg_holds(r, (int)i) ? NVT_NVME_RESV_RCSTS_HOLDER : 0;
		e.rkey = r->regs[i].rkey;
		memcpy(e.hostid, r->regs[i].hostid, 16);
		memcpy(p + off, &e, NVT_MIN(len - off, (uint32_t)sizeof(e)));
	}
}
