/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reservations through real connections: raw NVMe/TCP hosts against nvtcpd.
 *
 * Host A (two controllers, one Host Identifier), host B (registrant) and
 * host C (never registered) share namespace 1 (a malloc bdev of fixed UUID
 * with a ptpl_file). Checks Register (and its refusals), each of the six
 * reservation types against reads and writes of holder, registrant and
 * non-registrant, Report (EDS 1 contents; EDS 0 refused), Release, Clear,
 * Preempt, Preempt and Abort, the notification log page 80h with its AEN,
 * and the Reservation Notification Mask. Then Persist Through Power Loss:
 * the state survives a SIGTERM restart and a SIGKILL right after the Acquire
 * completed; CPTPL clear turns it off in the file.
 *
 * Prints one "ok: ..." line per check; exits 1 on failure, 77 without nvtcpd.
 * Usage: resv_test <nvtcpd>
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvtcp/nvme_resv_spec.h"
#include "nvtcp/nvme_spec.h"

#include "test_daemon.h"
#include "test_tcp.h"
#include "test_util.h"

#define SUBNQN	  "nqn.2016-06.io.nvtcp:resv-test"
#define BDEV_UUID "5e5e0000-0000-4000-8000-0000000000b1"
#define BLK	  512
#define NSID	  1

#define KEY_A  0xa1ull
#define KEY_A2 0xa2ull
#define KEY_B  0xfffffffffffffff0ull /* above INT64_MAX: the PTPL file keeps it whole */

/* Status values as the raw host returns them (phase bit cleared). */
#define ST(sct, sc) ((int)(((sct) << 9) | ((sc) << 1)))
#define ST_CONFLICT ST(0, NVT_NVME_SC_RESERVATION_CONFLICT)
#define ST_INVALID  ST(0, NVT_NVME_SC_INVALID_FIELD)
#define ST_HOSTID   ST(0, NVT_NVME_SC_HOSTID_INCONSISTENT_FORMAT)
/* The DNR bit is not part of what is compared. */
#define ST_MASK 0x3ffe

struct host {
	const char *name;
	const char *nqn;
	uint8_t hostid[16];
	struct nvt_test_conn adm;
	struct nvt_test_conn io;
	/* An AER waiting on adm (cid), 0 when none. */
	uint16_t aer_cid;
};

static struct host g_a = { .name = "A",
			   .nqn = "nqn.2014-08.org.nvmexpress:uuid:resv-host-a",
			   .hostid = { 0xa, 0xa, 1 } };
static struct host g_a2 = { .name = "A'",
			    .nqn = "nqn.2014-08.org.nvmexpress:uuid:resv-host-a",
			    .hostid = { 0xa, 0xa, 1 } };
static struct host g_b = { .name = "B",
			   .nqn = "nqn.2014-08.org.nvmexpress:uuid:resv-host-b",
			   .hostid = { 0xb, 0xb, 2 } };
static struct host g_c = { .name = "C",
			   .nqn = "nqn.2014-08.org.nvmexpress:uuid:resv-host-c",
			   .hostid = { 0xc, 0xc, 3 } };

static struct nvt_test_daemon g_daemon;
static const char *g_nvtcpd;
static char g_dir[PATH_MAX];
static char g_ptpl[PATH_MAX];
static int g_port;

static bool
st_is(int got, int want)
{
	return got >= 0 && (got & ST_MASK) == want;
}

/* ---- the daemon ---- */

static const char *g_config =
	"{ \"subsystems\": [\n"
	"  { \"subsystem\": \"bdev\", \"config\": [\n"
	"    { \"method\": \"bdev_malloc_create\", \"params\": { \"name\": \"Malloc0\",\n"
	"      \"num_blocks\": 2048, \"block_size\": %d, \"uuid\": \"%s\" } } ] },\n"
	"  { \"subsystem\": \"nvmf\", \"config\": [\n"
	"    { \"method\": \"nvmf_create_transport\", \"params\": { \"trtype\": \"TCP\" } },\n"
	"    { \"method\": \"nvmf_create_subsystem\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"allow_any_host\": true } },\n"
	"    { \"method\": \"nvmf_subsystem_add_ns\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"namespace\": { \"bdev_name\": \"Malloc0\", \"nsid\": 1, \"ptpl_file\": \"%s\" } } },\n"
	"    { \"method\": \"nvmf_subsystem_add_listener\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"listen_address\": { \"trtype\": \"TCP\", \"adrfam\": \"IPv4\",\n"
	"        \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%d\" } } } ] } ] }\n";

static int
daemon_start(void)
{
	char *extra[] = { "-m", "0x3", NULL };
	char text[PATH_MAX + 4096];

	snprintf(text, sizeof(text), g_config, BLK, BDEV_UUID, SUBNQN, SUBNQN, g_ptpl, SUBNQN,
		 g_port);
	return nvt_test_daemon_start_config(&g_daemon, g_nvtcpd, g_dir, text, extra);
}

/* ---- hosts ---- */

static int
queue_open(struct host *h, struct nvt_test_conn *q, uint16_t qid)
{
	struct nvt_test_connect_opts o = {
		.subnqn = SUBNQN,
		.hostnqn = h->nqn,
		.qid = qid,
		.sqsize = 31,
		.kato_ms = qid ? 0 : 120000,
		.cntlid = h->adm.cntlid,
		.hostid = h->hostid,
	};

	nvt_test_tcp_init(q);
	if (nvt_test_tcp_open(q, "127.0.0.1", (uint16_t)g_port) != 0 ||
	    nvt_test_tcp_icreq(q, 0, false, false) != 0) {
		return -1;
	}
	return nvt_test_tcp_fabrics_connect(q, &o);
}

static int
host_connect(struct host *h)
{
	h->aer_cid = 0;
	if (queue_open(h, &h->adm, 0) != 0 || nvt_test_tcp_enable_ctrlr(&h->adm) != 0 ||
	    queue_open(h, &h->io, 1) != 0) {
		fprintf(stderr, "host %s: cannot connect\n", h->name);
		return -1;
	}
	return 0;
}

static void
host_close(struct host *h)
{
	nvt_test_tcp_close(&h->io);
	nvt_test_tcp_close(&h->adm);
}

/* ---- commands ---- */

static int
resv_keys(struct host *h, uint8_t opc, uint32_t cdw10, uint64_t crkey, uint64_t key2)
{
	struct nvt_nvme_resv_keys keys = { .crkey = crkey, .nrkey = key2 };
	union nvt_nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.cmd.opc = opc;
	sqe.cmd.nsid = NSID;
	sqe.cmd.cdw10 = cdw10;
	return nvt_test_tcp_cmd(&h->io, &sqe, NULL, &keys,
				opc == NVT_NVME_OPC_RESERVATION_RELEASE ? 8 : 16, NULL);
}

static int
reg(struct host *h, uint32_t action, bool iekey, uint32_t cptpl, uint64_t crkey, uint64_t nrkey)
{
	return resv_keys(h, NVT_NVME_OPC_RESERVATION_REGISTER,
			 action | (iekey ? 1u << 3 : 0) | (cptpl << 30), crkey, nrkey);
}

static int
acquire(struct host *h, uint32_t action, uint8_t rtype, uint64_t crkey, uint64_t prkey)
{
	return resv_keys(h, NVT_NVME_OPC_RESERVATION_ACQUIRE, action | ((uint32_t)rtype << 8),
			 crkey, prkey);
}

static int
release(struct host *h, uint32_t action, uint8_t rtype, uint64_t crkey)
{
	return resv_keys(h, NVT_NVME_OPC_RESERVATION_RELEASE, action | ((uint32_t)rtype << 8),
			 crkey, 0);
}

struct report {
	struct nvt_nvme_resv_status_ext h;
	struct nvt_nvme_resv_ctrlr_ext e[4];
};

static int
report(struct host *h, bool eds, struct report *r)
{
	union nvt_nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	memset(r, 0, sizeof(*r));
	sqe.cmd.opc = NVT_NVME_OPC_RESERVATION_REPORT;
	sqe.cmd.nsid = NSID;
	sqe.cmd.cdw10 = sizeof(*r) / 4 - 1;
	sqe.cmd.cdw11 = eds ? 1 : 0;
	return nvt_test_tcp_cmd(&h->io, &sqe, r, NULL, sizeof(*r), NULL);
}

static int
report_nregs(const struct report *r)
{
	return r->h.regctl[0] | (r->h.regctl[1] << 8);
}

/* The entry of \p hostid in \p r, NULL when it is not a registrant. */
static const struct nvt_nvme_resv_ctrlr_ext *
report_find(const struct report *r, const uint8_t hostid[16])
{
	int i;

	for (i = 0; i < report_nregs(r) && i < 4; i++) {
		if (memcmp(r->e[i].hostid, hostid, 16) == 0) {
			return &r->e[i];
		}
	}
	return NULL;
}

static bool
can_read(struct host *h)
{
	uint8_t buf[BLK];

	return nvt_test_tcp_read(&h->io, NSID, 0, 1, BLK, buf) == 0;
}

/* 0 allowed, 1 Reservation Conflict, -1 anything else. */
static int
io_result(struct host *h, bool write)
{
	uint8_t buf[BLK] = { 0x5a };
	int st = write ? nvt_test_tcp_write(&h->io, NSID, 1, 1, BLK, buf)
		       : nvt_test_tcp_read(&h->io, NSID, 0, 1, BLK, buf);

	return st == 0 ? 0 : st_is(st, ST_CONFLICT) ? 1 : -1;
}

static int
aer_send(struct host *h)
{
	union nvt_nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.cmd.opc = NVT_NVME_OPC_ASYNC_EVENT_REQUEST;
	sqe.cmd.cid = nvt_test_tcp_next_cid(&h->adm);
	nvt_test_tcp_sqe_sgl_icd(&sqe, 0);
	h->aer_cid = sqe.cmd.cid;
	return nvt_test_tcp_capsule_send(&h->adm, &sqe, NULL, 0, 0);
}

/* Wait for the AER of \p h: its CDW0, or UINT32_MAX on failure. */
static uint32_t
aer_wait(struct host *h)
{
	struct nvt_nvme_cpl cpl;
	int st = nvt_test_tcp_wait_rsp(&h->adm, h->aer_cid, NULL, NULL, 0, &cpl);

	h->aer_cid = 0;
	return st == 0 ? cpl.cdw0 : UINT32_MAX;
}

static int
notify_log(struct host *h, struct nvt_nvme_resv_notify_log *log)
{
	union nvt_nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.cmd.opc = NVT_NVME_OPC_GET_LOG_PAGE;
	sqe.cmd.nsid = NVT_NVME_NSID_ALL;
	sqe.cmd.cdw10 = NVT_NVME_LOG_RESERVATION_NOTIFICATION | ((sizeof(*log) / 4 - 1) << 16);
	return nvt_test_tcp_cmd(&h->adm, &sqe, log, NULL, sizeof(*log), NULL);
}

static int
set_mask(struct host *h, uint32_t mask)
{
	union nvt_nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.cmd.opc = NVT_NVME_OPC_SET_FEATURES;
	sqe.cmd.nsid = NSID;
	sqe.cmd.cdw10 = NVT_NVME_FEAT_HOST_RESERVE_MASK;
	sqe.cmd.cdw11 = mask;
	return nvt_test_tcp_cmd(&h->adm, &sqe, NULL, NULL, 0, NULL);
}

/* Read \p h's notification log until it is empty: what came before is not checked. */
static void
log_drain(struct host *h)
{
	struct nvt_nvme_resv_notify_log log;
	int i;

	for (i = 0; i < 100; i++) {
		if (notify_log(h, &log) != 0 || log.type == 0) {
			return;
		}
	}
}

static const uint32_t AEN_RESV = (6u << 0) | (0u << 8) | (0x80u << 16);

/* The notification \p h holds: an AEN announced it, and the log page says \p type. */
static void
check_notice(struct host *h, uint8_t type, const char *what)
{
	struct nvt_nvme_resv_notify_log log;
	uint32_t cdw0 = aer_wait(h);
	int st = notify_log(h, &log);

	nvt_test_check(cdw0 == AEN_RESV, "%s: host %s gets an AEN (type 6, log 0x80): cdw0 0x%x",
		       what, h->name, cdw0);
	nvt_test_check(st == 0 && log.type == type && log.nsid == NSID && log.log_page_count > 0,
		       "%s: host %s's log page 0x80 says type %u nsid %u (count %llu)", what,
		       h->name, log.type, log.nsid, (unsigned long long)log.log_page_count);
}

/* An AER on \p h with its log read empty first: the AEN that comes is for what follows. */
static void
aer_send_drained(struct host *h)
{
	log_drain(h);
	aer_send(h);
}

/* ---- the checks ---- */

static void
test_register(void)
{
	struct report r;
	const struct nvt_nvme_resv_ctrlr_ext *ea, *eb;
	int st;

	nvt_test_check(reg(&g_a, NVT_NVME_RESV_REGISTER_KEY, false, 0, 0, KEY_A) == 0,
		       "A registers");
	nvt_test_check(reg(&g_a2, NVT_NVME_RESV_REGISTER_KEY, false, 0, 0, KEY_A) == 0,
		       "A's second controller registers the same key: the same registration");
	nvt_test_check(
		st_is(reg(&g_a2, NVT_NVME_RESV_REGISTER_KEY, false, 0, 0, 0x99), ST_CONFLICT),
		"A's second controller registering another key: Reservation Conflict");
	nvt_test_check(reg(&g_b, NVT_NVME_RESV_REGISTER_KEY, false, 0, 0, KEY_B) == 0,
		       "B registers");
	nvt_test_check(
		st_is(reg(&g_a, NVT_NVME_RESV_UNREGISTER_KEY, false, 0, 0x77, 0), ST_CONFLICT),
		"unregister with a wrong key: Reservation Conflict");
	nvt_test_check(
		st_is(reg(&g_a, NVT_NVME_RESV_REPLACE_KEY, false, 0, 0x77, KEY_A2), ST_CONFLICT),
		"replace with a wrong key: Reservation Conflict");
	nvt_test_check(st_is(reg(&g_c, NVT_NVME_RESV_REPLACE_KEY, true, 0, 0, KEY_A2), ST_CONFLICT),
		       "replace by a non-registrant (IEKEY): Reservation Conflict");
	nvt_test_check(reg(&g_a2, NVT_NVME_RESV_REPLACE_KEY, true, 0, 0x77, KEY_A2) == 0,
		       "replace with IEKEY ignores the wrong key (from A's second controller)");
	nvt_test_check(st_is(report(&g_a, false, &r), ST_HOSTID),
		       "Report with EDS 0: Host Identifier Inconsistent Format");
	st = report(&g_c, true, &r);
	nvt_test_check(
		st == 0 && report_nregs(&r) == 2 && r.h.rtype == 0,
		"Report (EDS 1, from a non-registrant): 2 registrants, no reservation (gen %u)",
		r.h.gen);
	ea = report_find(&r, g_a.hostid);
	eb = report_find(&r, g_b.hostid);
	nvt_test_check(
		ea != NULL && ea->rkey == KEY_A2 && ea->rcsts == 0 && eb != NULL &&
			eb->rkey == KEY_B && eb->rcsts == 0,
		"Report: A with key 0x%llx, B with key 0x%llx, by Host Identifier, none holds",
		ea != NULL ? (unsigned long long)ea->rkey : 0ull,
		eb != NULL ? (unsigned long long)eb->rkey : 0ull);
	nvt_test_check(r.h.gen >= 3, "Report: the generation counted the changes (%u)", r.h.gen);
}

/* Allowed reads and writes per type: holder, registrant, non-registrant. */
static const struct {
	uint8_t rtype;
	const char *name;
	bool reg_r, reg_w, non_r, non_w;
} g_types[] = {
	{ NVT_NVME_RESV_WRITE_EXCLUSIVE, "Write Exclusive", true, false, true, false },
	{ NVT_NVME_RESV_EXCLUSIVE_ACCESS, "Exclusive Access", false, false, false, false },
	{ NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY, "Write Exclusive - Registrants Only", true, true,
	  true, false },
	{ NVT_NVME_RESV_EXCLUSIVE_ACCESS_REG_ONLY, "Exclusive Access - Registrants Only", true,
	  true, false, false },
	{ NVT_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS, "Write Exclusive - All Registrants", true, true,
	  true, false },
	{ NVT_NVME_RESV_EXCLUSIVE_ACCESS_ALL_REGS, "Exclusive Access - All Registrants", true, true,
	  false, false },
};

static void
test_types(void)
{
	struct report r;
	const struct nvt_nvme_resv_ctrlr_ext *ea, *eb;
	bool all;
	size_t i;
	int st;

	for (i = 0; i < sizeof(g_types) / sizeof(g_types[0]); i++) {
		all = g_types[i].rtype >= NVT_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS;
		nvt_test_check(acquire(&g_a, NVT_NVME_RESV_ACQUIRE, g_types[i].rtype, KEY_A2, 0) ==
				       0,
			       "%s: A acquires", g_types[i].name);
		nvt_test_check(
			st_is(acquire(&g_b, NVT_NVME_RESV_ACQUIRE, g_types[i].rtype, KEY_B, 0),
			      all ? 0 : ST_CONFLICT),
			"%s: B acquiring too: %s", g_types[i].name,
			all ? "succeeds (it holds already)" : "Reservation Conflict");
		st = report(&g_a, true, &r);
		nvt_test_check(st == 0 && r.h.rtype == g_types[i].rtype, "%s: Report says type %u",
			       g_types[i].name, r.h.rtype);
		ea = report_find(&r, g_a.hostid);
		eb = report_find(&r, g_b.hostid);
		nvt_test_check(ea != NULL && ea->rcsts == 1 && eb != NULL &&
				       eb->rcsts == (all ? 1 : 0),
			       "%s: Report marks the holder%s", g_types[i].name,
			       all ? "s (A and B)" : " (A)");
		nvt_test_check(io_result(&g_a, false) == 0 && io_result(&g_a, true) == 0 &&
				       io_result(&g_a2, true) == 0,
			       "%s: holder reads and writes (both of A's controllers)",
			       g_types[i].name);
		nvt_test_check(io_result(&g_b, false) == (g_types[i].reg_r ? 0 : 1) &&
				       io_result(&g_b, true) == (g_types[i].reg_w ? 0 : 1),
			       "%s: registrant B reads %s, writes %s", g_types[i].name,
			       g_types[i].reg_r ? "yes" : "conflict",
			       g_types[i].reg_w ? "yes" : "conflict");
		nvt_test_check(io_result(&g_c, false) == (g_types[i].non_r ? 0 : 1) &&
				       io_result(&g_c, true) == (g_types[i].non_w ? 0 : 1),
			       "%s: non-registrant C reads %s, writes %s", g_types[i].name,
			       g_types[i].non_r ? "yes" : "conflict",
			       g_types[i].non_w ? "yes" : "conflict");
		nvt_test_check(st_is(release(&g_a, NVT_NVME_RESV_RELEASE, g_types[i].rtype % 6 + 1,
					     KEY_A2),
				     ST_INVALID),
			       "%s: release naming another type: Invalid Field", g_types[i].name);
		nvt_test_check(release(&g_a, NVT_NVME_RESV_RELEASE, g_types[i].rtype, KEY_A2) ==
					       0 &&
				       report(&g_a, true, &r) == 0 && r.h.rtype == 0,
			       "%s: A releases; Report says no reservation", g_types[i].name);
		nvt_test_check(can_read(&g_c) && io_result(&g_c, true) == 0,
			       "%s: released: C reads and writes again", g_types[i].name);
	}
}

static void
test_notices(void)
{
	struct report r;
	struct nvt_nvme_resv_notify_log log;

	log_drain(&g_c);
	/* Release of a registrants-only type: the other registrants are told. */
	aer_send_drained(&g_b);
	nvt_test_check(acquire(&g_a, NVT_NVME_RESV_ACQUIRE, NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY,
			       KEY_A2, 0) == 0 &&
			       release(&g_a, NVT_NVME_RESV_RELEASE,
				       NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY, KEY_A2) == 0,
		       "A acquires and releases Write Exclusive - Registrants Only");
	check_notice(&g_b, NVT_NVME_RESV_NOTIFY_RESERVATION_RELEASED, "release");
	nvt_test_check(notify_log(&g_c, &log) == 0 && log.type == 0,
		       "release: non-registrant C's log page 0x80 is empty");

	/* Preempt: A holds Exclusive Access, B preempts with A's key. */
	nvt_test_check(acquire(&g_a, NVT_NVME_RESV_ACQUIRE, NVT_NVME_RESV_EXCLUSIVE_ACCESS, KEY_A2,
			       0) == 0,
		       "A acquires Exclusive Access");
	aer_send_drained(&g_a);
	aer_send_drained(&g_a2);
	nvt_test_check(acquire(&g_b, NVT_NVME_RESV_PREEMPT, NVT_NVME_RESV_WRITE_EXCLUSIVE, KEY_B,
			       KEY_A2) == 0,
		       "B preempts A (Write Exclusive)");
	check_notice(&g_a, NVT_NVME_RESV_NOTIFY_REGISTRATION_PREEMPTED, "preempt");
	check_notice(&g_a2, NVT_NVME_RESV_NOTIFY_REGISTRATION_PREEMPTED, "preempt");
	nvt_test_check(report(&g_b, true, &r) == 0 && report_nregs(&r) == 1 &&
			       r.h.rtype == NVT_NVME_RESV_WRITE_EXCLUSIVE &&
			       report_find(&r, g_b.hostid) != NULL &&
			       report_find(&r, g_b.hostid)->rcsts == 1 &&
			       report_find(&r, g_a.hostid) == NULL,
		       "preempt: Report shows B alone, holding Write Exclusive; A is gone");
	nvt_test_check(io_result(&g_a, true) == 1 && io_result(&g_a, false) == 0,
		       "preempt: A (no longer registered) writes: conflict, reads: yes");

	/* Preempt and Abort: A registers again and takes it back from B. */
	nvt_test_check(reg(&g_a, NVT_NVME_RESV_REGISTER_KEY, false, 0, 0, KEY_A) == 0,
		       "A registers again");
	aer_send_drained(&g_b);
	nvt_test_check(acquire(&g_a, NVT_NVME_RESV_PREEMPT_ABORT, NVT_NVME_RESV_EXCLUSIVE_ACCESS,
			       KEY_A, KEY_B) == 0,
		       "A preempts and aborts B (Exclusive Access)");
	check_notice(&g_b, NVT_NVME_RESV_NOTIFY_REGISTRATION_PREEMPTED, "preempt and abort");
	nvt_test_check(io_result(&g_b, false) == 1 && io_result(&g_b, true) == 1 &&
			       io_result(&g_a2, true) == 0,
		       "preempt and abort: B reads and writes: conflict; A writes");

	/* The mask: B registers, masks everything, A clears: no notice for B. */
	nvt_test_check(reg(&g_b, NVT_NVME_RESV_REGISTER_KEY, false, 0, 0, KEY_B) == 0,
		       "B registers again");
	log_drain(&g_b);
	nvt_test_check(set_mask(&g_b, NVT_NVME_RESV_MASK_ALL) == 0,
		       "B masks every notification (feature 0x82)");
	nvt_test_check(release(&g_a, NVT_NVME_RESV_CLEAR, 0, KEY_A) == 0 &&
			       report(&g_a, true, &r) == 0 && report_nregs(&r) == 0 &&
			       r.h.rtype == 0,
		       "A clears: no registrant, no reservation");
	nvt_test_check(notify_log(&g_b, &log) == 0 && log.type == 0,
		       "clear, masked: B's log page 0x80 is empty");
	nvt_test_check(set_mask(&g_b, 0) == 0 &&
			       reg(&g_b, NVT_NVME_RESV_REGISTER_KEY, false, 0, 0, KEY_B) == 0 &&
			       reg(&g_a, NVT_NVME_RESV_REGISTER_KEY, false, 0, 0, KEY_A) == 0,
		       "B unmasks; both register");
	aer_send_drained(&g_b);
	nvt_test_check(release(&g_a, NVT_NVME_RESV_CLEAR, 0, KEY_A) == 0, "A clears again");
	check_notice(&g_b, NVT_NVME_RESV_NOTIFY_RESERVATION_PREEMPTED, "clear, unmasked");
}

/* ---- Persist Through Power Loss ---- */

static int
restart(bool kill)
{
	host_close(&g_a);
	host_close(&g_b);
	if (kill) {
		nvt_test_daemon_kill(&g_daemon);
	} else if (nvt_test_daemon_stop(&g_daemon) != 0) {
		nvt_test_check(false, "nvtcpd stops cleanly on SIGTERM");
		return -1;
	}
	if (daemon_start() != 0) {
		nvt_test_check(false, "nvtcpd restarts from the same configuration");
		return -1;
	}
	return host_connect(&g_a) == 0 && host_connect(&g_b) == 0 ? 0 : -1;
}

static bool
file_has(const char *path, const char *text)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		return false;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static void
check_persisted(const char *how, uint8_t rtype)
{
	struct report r;
	const struct nvt_nvme_resv_ctrlr_ext *ea, *eb;
	int st = report(&g_b, true, &r);

	nvt_test_check(st == 0 && report_nregs(&r) == 2 && r.h.rtype == rtype && r.h.ptpls == 1,
		       "after %s: Report shows 2 registrants, type %u, PTPL on", how, r.h.rtype);
	ea = report_find(&r, g_a.hostid);
	eb = report_find(&r, g_b.hostid);
	nvt_test_check(ea != NULL && ea->rkey == KEY_A && ea->rcsts == 1 && eb != NULL &&
			       eb->rkey == KEY_B && eb->rcsts == 0,
		       "after %s: A holds with key 0x%llx, B keeps key 0x%llx", how,
		       ea != NULL ? (unsigned long long)ea->rkey : 0ull,
		       eb != NULL ? (unsigned long long)eb->rkey : 0ull);
}

static void
test_ptpl(void)
{
	struct report r;

	nvt_test_check(reg(&g_a, NVT_NVME_RESV_REGISTER_KEY, false, NVT_NVME_RESV_PTPL_SET, 0,
			   KEY_A) == 0 &&
			       reg(&g_b, NVT_NVME_RESV_REGISTER_KEY, false, 0, 0, KEY_B) == 0,
		       "A registers with CPTPL set, B registers");
	nvt_test_check(acquire(&g_a, NVT_NVME_RESV_ACQUIRE, NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY,
			       KEY_A, 0) == 0,
		       "A acquires Write Exclusive - Registrants Only");
	nvt_test_check(file_has(g_ptpl, "\"ptpl\": true") &&
			       file_has(g_ptpl, "18446744073709551600"),
		       "the PTPL file holds the state, B's key as an unsigned number");
	if (restart(false) != 0) {
		return;
	}
	check_persisted("a SIGTERM restart", NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY);
	nvt_test_check(io_result(&g_b, true) == 0 && can_read(&g_a),
		       "after the restart: registrant B writes under Registrants Only");

	nvt_test_check(release(&g_a, NVT_NVME_RESV_RELEASE, NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY,
			       KEY_A) == 0 &&
			       acquire(&g_a, NVT_NVME_RESV_ACQUIRE, NVT_NVME_RESV_EXCLUSIVE_ACCESS,
				       KEY_A, 0) == 0,
		       "A releases and acquires Exclusive Access");
	if (restart(true) != 0) {
		return;
	}
	check_persisted("SIGKILL right after the Acquire completed",
			NVT_NVME_RESV_EXCLUSIVE_ACCESS);

	nvt_test_check(reg(&g_a, NVT_NVME_RESV_REGISTER_KEY, false, NVT_NVME_RESV_PTPL_CLEAR, 0,
			   KEY_A) == 0,
		       "A registers again (same key) with CPTPL clear");
	nvt_test_check(report(&g_a, true, &r) == 0 && r.h.ptpls == 0 && report_nregs(&r) == 2,
		       "Report says PTPL off, the registrations stay while it runs");
	nvt_test_check(file_has(g_ptpl, "\"ptpl\": false"),
		       "the PTPL file says persistence is off");
	if (restart(false) != 0) {
		return;
	}
	nvt_test_check(report(&g_a, true, &r) == 0 && report_nregs(&r) == 0 && r.h.rtype == 0 &&
			       r.h.ptpls == 0,
		       "after a restart with PTPL off: no registrant, no reservation");
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc < 2 || access(argv[1], X_OK) != 0) {
		fprintf(stderr, "usage: resv_test <nvtcpd>: nvtcpd not found, skipped\n");
		return 77;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	g_nvtcpd = argv[1];
	g_port = nvt_test_free_port();
	rc = nvt_test_tmpdir_create(g_dir, sizeof(g_dir), "/tmp", "nvtcp-resv-test");
	if (rc == 0) {
		rc = nvt_test_path(g_ptpl, sizeof(g_ptpl), g_dir, "ptpl.json");
	}
	if (rc != 0 || g_port <= 0 || daemon_start() != 0) {
		fprintf(stderr, "FAIL: cannot start nvtcpd\n");
		return 1;
	}
	if (host_connect(&g_a) != 0 || host_connect(&g_a2) != 0 || host_connect(&g_b) != 0 ||
	    host_connect(&g_c) != 0) {
		nvt_test_daemon_kill(&g_daemon);
		return 1;
	}
	nvt_test_check(g_a.adm.cntlid != g_a2.adm.cntlid, "host A has two controllers (%u, %u)",
		       g_a.adm.cntlid, g_a2.adm.cntlid);
	test_register();
	test_types();
	test_notices();
	host_close(&g_a2);
	host_close(&g_c);
	test_ptpl();
	host_close(&g_a);
	host_close(&g_b);
	rc = nvt_test_daemon_stop(&g_daemon);
	nvt_test_check(rc == 0, "nvtcpd stops cleanly (exit status %d)", rc);
	nvt_test_daemon_kill(&g_daemon);
	nvt_test_tmpdir_remove(g_dir);
	return nvt_test_checks_failed() == 0 ? 0 : 1;
}
