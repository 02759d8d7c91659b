/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/nvmf/resv_state.c: the reservation state machine
 * (register, acquire, preempt, release, clear, notifications) and the table
 * of commands allowed to holder, registrant and non-registrant per type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resv.h"

#define CONFLICT nvt_nvme_status_make(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_RESERVATION_CONFLICT, true)
#define INVALID	 nvt_nvme_status_make(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_FIELD, true)

static const uint8_t HOST_A[16] = { 0xa };
static const uint8_t HOST_B[16] = { 0xb };
static const uint8_t HOST_C[16] = { 0xc };

static struct nvmf_resv_notices g_notices;

static uint16_t
run(struct nvmf_resv *r, uint8_t opc, const uint8_t *host, uint32_t cdw10, uint64_t crkey,
    uint64_t key2)
{
	struct nvmf_resv_cmd c = { .opc = opc, .cdw10 = cdw10, .crkey = crkey, .key2 = key2 };
	int ptpl;

	memcpy(c.hostid, host, 16);
	return nvmf_resv_state_exec(r, &c, &g_notices, &ptpl);
}

static uint16_t
reg(struct nvmf_resv *r, const uint8_t *host, uint64_t key)
{
	return run(r, NVT_NVME_OPC_RESERVATION_REGISTER, host, NVT_NVME_RESV_REGISTER_KEY, 0, key);
}

static uint16_t
acquire(struct nvmf_resv *r, const uint8_t *host, uint8_t action, uint8_t rtype, uint64_t crkey,
	uint64_t prkey)
{
	return run(r, NVT_NVME_OPC_RESERVATION_ACQUIRE, host, action | ((uint32_t)rtype << 8),
		   crkey, prkey);
}

static uint16_t
release(struct nvmf_resv *r, const uint8_t *host, uint8_t action, uint8_t rtype, uint64_t crkey)
{
	return run(r, NVT_NVME_OPC_RESERVATION_RELEASE, host, action | ((uint32_t)rtype << 8),
		   crkey, 0);
}

/* A holds a reservation of \p rtype; B is registered; C is not. */
static struct nvmf_resv_snap *
snap_of(uint8_t rtype)
{
	struct nvmf_resv r;
	struct nvmf_resv_snap *s;

	nvmf_resv_state_init(&r);
	assert_int_equal(reg(&r, HOST_A, 1), 0);
	assert_int_equal(reg(&r, HOST_B, 2), 0);
	assert_int_equal(acquire(&r, HOST_A, NVT_NVME_RESV_ACQUIRE, rtype, 1, 0), 0);
	s = nvmf_resv_state_snap(&r);
	assert_non_null(s);
	return s;
}

static void
test_conflict_table(void **state)
{
	/* Per type: read and write for holder, registrant, non-registrant (1 allowed). */
	static const struct {
		uint8_t rtype;
		bool rd[3], wr[3];
	} t[] = {
		{ NVT_NVME_RESV_WRITE_EXCLUSIVE, { 1, 1, 1 }, { 1, 0, 0 } },
		{ NVT_NVME_RESV_EXCLUSIVE_ACCESS, { 1, 0, 0 }, { 1, 0, 0 } },
		{ NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY, { 1, 1, 1 }, { 1, 1, 0 } },
		{ NVT_NVME_RESV_EXCLUSIVE_ACCESS_REG_ONLY, { 1, 1, 0 }, { 1, 1, 0 } },
		{ NVT_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS, { 1, 1, 1 }, { 1, 1, 0 } },
		{ NVT_NVME_RESV_EXCLUSIVE_ACCESS_ALL_REGS, { 1, 1, 0 }, { 1, 1, 0 } },
	};
	static const uint8_t reads[] = { NVT_NVME_OPC_READ, NVT_NVME_OPC_COMPARE };
	static const uint8_t writes[] = { NVT_NVME_OPC_WRITE, NVT_NVME_OPC_WRITE_ZEROES,
					  NVT_NVME_OPC_DATASET_MANAGEMENT, NVT_NVME_OPC_FLUSH };
	const uint8_t *hosts[3] = { HOST_A, HOST_B, HOST_C };
	size_t i, h, o;

	(void)state;
	assert_int_equal(nvmf_resv_check(NULL, HOST_C, NVT_NVME_OPC_WRITE), 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nvmf_resv_snap *s = snap_of(t[i].rtype);

		for (h = 0; h < 3; h++) {
			for (o = 0; o < sizeof(reads); o++) {
				assert_int_equal(nvmf_resv_check(s, hosts[h], reads[o]),
						 t[i].rd[h] ? 0 : CONFLICT);
			}
			for (o = 0; o < sizeof(writes); o++) {
				assert_int_equal(nvmf_resv_check(s, hosts[h], writes[o]),
						 t[i].wr[h] ? 0 : CONFLICT);
			}
			/* Reservation commands are never refused by the table. */
			assert_int_equal(
				nvmf_resv_check(s, hosts[h], NVT_NVME_OPC_RESERVATION_REPORT), 0);
		}
		free(s);
	}
}

static void
test_register(void **state)
{
	struct nvmf_resv r;

	(void)state;
	nvmf_resv_state_init(&r);
	assert_int_equal(reg(&r, HOST_A, 5), 0);
	assert_int_equal(r.gen, 1);
	/* Again with the same key: nothing; another key: conflict. */
	assert_int_equal(reg(&r, HOST_A, 5), 0);
	assert_int_equal(reg(&r, HOST_A, 6), CONFLICT);
	/* Replace needs the current key unless IEKEY. */
	assert_int_equal(
		run(&r, NVT_NVME_OPC_RESERVATION_REGISTER, HOST_A, NVT_NVME_RESV_REPLACE_KEY, 9, 7),
		CONFLICT);
	assert_int_equal(run(&r, NVT_NVME_OPC_RESERVATION_REGISTER, HOST_A,
			     NVT_NVME_RESV_REPLACE_KEY | (1u << 3), 9, 7),
			 0);
	assert_int_equal(r.regs[0].rkey, 7);
	/* CPTPL set without a file, and the reserved value 1: invalid field. */
	assert_int_equal(run(&r, NVT_NVME_OPC_RESERVATION_REGISTER, HOST_B, 3u << 30, 0, 1),
			 INVALID);
	assert_int_equal(run(&r, NVT_NVME_OPC_RESERVATION_REGISTER, HOST_B, 1u << 30, 0, 1),
			 INVALID);
	/* Unregistering a host that is not registered, or with a wrong key. */
	assert_int_equal(run(&r, NVT_NVME_OPC_RESERVATION_REGISTER, HOST_B,
			     NVT_NVME_RESV_UNREGISTER_KEY, 1, 0),
			 CONFLICT);
	assert_int_equal(run(&r, NVT_NVME_OPC_RESERVATION_REGISTER, HOST_A,
			     NVT_NVME_RESV_UNREGISTER_KEY, 1, 0),
			 CONFLICT);
	assert_int_equal(run(&r, NVT_NVME_OPC_RESERVATION_REGISTER, HOST_A,
			     NVT_NVME_RESV_UNREGISTER_KEY, 7, 0),
			 0);
	assert_int_equal(r.nregs, 0);
}

static void
test_acquire_release(void **state)
{
	struct nvmf_resv r;

	(void)state;
	nvmf_resv_state_init(&r);
	/* Not registered: conflict. */
	assert_int_equal(acquire(&r, HOST_A, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE, 1, 0), CONFLICT);
	assert_int_equal(reg(&r, HOST_A, 1), 0);
	assert_int_equal(reg(&r, HOST_B, 2), 0);
	assert_int_equal(acquire(&r, HOST_A, 0, 0, 1, 0), INVALID);
	assert_int_equal(acquire(&r, HOST_A, 0, 7, 1, 0), INVALID);
	assert_int_equal(acquire(&r, HOST_A, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE, 2, 0), CONFLICT);
	assert_int_equal(acquire(&r, HOST_A, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY, 1, 0), 0);
	assert_int_equal(r.holder, 0);
	/* Held by A: B cannot acquire; A again with the same type succeeds, another fails. */
	assert_int_equal(acquire(&r, HOST_B, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY, 2, 0),
			 CONFLICT);
	assert_int_equal(acquire(&r, HOST_A, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY, 1, 0), 0);
	assert_int_equal(acquire(&r, HOST_A, 0, NVT_NVME_RESV_EXCLUSIVE_ACCESS, 1, 0), CONFLICT);
	/* B's release changes nothing; A's with the wrong type is refused. */
	assert_int_equal(release(&r, HOST_B, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY, 2), 0);
	assert_int_equal(r.rtype, NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY);
	assert_int_equal(release(&r, HOST_A, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE, 1), INVALID);
	assert_int_equal(release(&r, HOST_A, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY, 1), 0);
	assert_int_equal(r.rtype, 0);
	/* Registrants-only released: B is told. */
	assert_int_equal(g_notices.n, 1);
	assert_memory_equal(g_notices.to[0].hostid, HOST_B, 16);
	assert_int_equal(g_notices.to[0].type, NVT_NVME_RESV_NOTIFY_RESERVATION_RELEASED);
	/* Write Exclusive released: nobody is told. */
	assert_int_equal(acquire(&r, HOST_A, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE, 1, 0), 0);
	assert_int_equal(release(&r, HOST_A, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE, 1), 0);
	assert_int_equal(g_notices.n, 0);
}

static void
test_preempt_clear(void **state)
{
	struct nvmf_resv r;
	uint32_t gen;

	(void)state;
	nvmf_resv_state_init(&r);
	assert_int_equal(reg(&r, HOST_A, 1), 0);
	assert_int_equal(reg(&r, HOST_B, 2), 0);
	assert_int_equal(reg(&r, HOST_C, 3), 0);
	assert_int_equal(acquire(&r, HOST_A, 0, NVT_NVME_RESV_EXCLUSIVE_ACCESS, 1, 0), 0);
	gen = r.gen;
	/* B preempts A (and aborts): A is unregistered and told, B holds. */
	assert_int_equal(acquire(&r, HOST_B, NVT_NVME_RESV_PREEMPT_ABORT,
				 NVT_NVME_RESV_WRITE_EXCLUSIVE, 2, 1),
			 0);
	assert_int_equal(r.nregs, 2);
	assert_memory_equal(r.regs[r.holder].hostid, HOST_B, 16);
	assert_int_equal(r.rtype, NVT_NVME_RESV_WRITE_EXCLUSIVE);
	assert_int_equal(r.gen, gen + 1);
	assert_memory_equal(g_notices.to[0].hostid, HOST_A, 16);
	assert_int_equal(g_notices.to[0].type, NVT_NVME_RESV_NOTIFY_REGISTRATION_PREEMPTED);
	/* C stays registered: the type changed, so it hears the reservation was released. */
	assert_int_equal(g_notices.n, 2);
	assert_memory_equal(g_notices.to[1].hostid, HOST_C, 16);
	assert_int_equal(g_notices.to[1].type, NVT_NVME_RESV_NOTIFY_RESERVATION_RELEASED);
	/* A key nobody has: conflict. PRKEY 0 against a single holder: invalid. */
	assert_int_equal(acquire(&r, HOST_C, 1, NVT_NVME_RESV_WRITE_EXCLUSIVE, 3, 42), CONFLICT);
	assert_int_equal(acquire(&r, HOST_C, 1, NVT_NVME_RESV_WRITE_EXCLUSIVE, 3, 0), INVALID);
	/* All registrants: PRKEY 0 removes every other registrant. */
	assert_int_equal(release(&r, HOST_B, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE, 2), 0);
	assert_int_equal(acquire(&r, HOST_B, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS, 2, 0), 0);
	assert_int_equal(acquire(&r, HOST_C, 1, NVT_NVME_RESV_EXCLUSIVE_ACCESS, 3, 0), 0);
	assert_int_equal(r.nregs, 1);
	assert_memory_equal(r.regs[r.holder].hostid, HOST_C, 16);
	/* Clear: everything goes. */
	assert_int_equal(reg(&r, HOST_A, 1), 0);
	assert_int_equal(release(&r, HOST_A, NVT_NVME_RESV_CLEAR, 0, 9), CONFLICT);
	assert_int_equal(release(&r, HOST_A, NVT_NVME_RESV_CLEAR, 0, 1), 0);
	assert_int_equal(r.nregs, 0);
	assert_int_equal(r.rtype, 0);
	assert_int_equal(g_notices.n, 1);
	assert_int_equal(g_notices.to[0].type, NVT_NVME_RESV_NOTIFY_RESERVATION_PREEMPTED);
}

static void
test_holder_unregisters(void **state)
{
	struct nvmf_resv r;

	(void)state;
	nvmf_resv_state_init(&r);
	assert_int_equal(reg(&r, HOST_A, 1), 0);
	assert_int_equal(reg(&r, HOST_B, 2), 0);
	assert_int_equal(acquire(&r, HOST_B, 0, NVT_NVME_RESV_EXCLUSIVE_ACCESS_REG_ONLY, 2, 0), 0);
	/* The holder leaves: the reservation ends, A is told it was released. */
	assert_int_equal(run(&r, NVT_NVME_OPC_RESERVATION_REGISTER, HOST_B,
			     NVT_NVME_RESV_UNREGISTER_KEY, 2, 0),
			 0);
	assert_int_equal(r.rtype, 0);
	assert_int_equal(r.holder, -1);
	assert_int_equal(g_notices.n, 1);
	assert_int_equal(g_notices.to[0].type, NVT_NVME_RESV_NOTIFY_RESERVATION_RELEASED);
	/* All registrants: the reservation lasts until the last one leaves. */
	assert_int_equal(reg(&r, HOST_B, 2), 0);
	assert_int_equal(acquire(&r, HOST_A, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS, 1, 0), 0);
	assert_int_equal(run(&r, NVT_NVME_OPC_RESERVATION_REGISTER, HOST_A, 1, 1, 0), 0);
	assert_int_equal(r.rtype, NVT_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS);
	assert_int_equal(run(&r, NVT_NVME_OPC_RESERVATION_REGISTER, HOST_B, 1, 2, 0), 0);
	assert_int_equal(r.rtype, 0);
}

static void
test_report(void **state)
{
	struct nvmf_resv r;
	uint8_t buf[64 * 3];
	struct nvt_nvme_resv_status_ext h;
	struct nvt_nvme_resv_ctrlr_ext e;

	(void)state;
	nvmf_resv_state_init(&r);
	assert_int_equal(reg(&r, HOST_A, 1), 0);
	assert_int_equal(reg(&r, HOST_B, 2), 0);
	assert_int_equal(acquire(&r, HOST_B, 0, NVT_NVME_RESV_WRITE_EXCLUSIVE, 2, 0), 0);
	nvmf_resv_state_report(&r, buf, sizeof(buf));
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.gen, 2);
	assert_int_equal(h.rtype, NVT_NVME_RESV_WRITE_EXCLUSIVE);
	assert_int_equal(h.regctl[0], 2);
	memcpy(&e, buf + 128, sizeof(e));
	assert_int_equal(e.rkey, 2);
	assert_int_equal(e.rcsts, NVT_NVME_RESV_RCSTS_HOLDER);
	assert_memory_equal(e.hostid, HOST_B, 16);
	memcpy(&e, buf + 64, sizeof(e));
	assert_int_equal(e.rcsts, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conflict_table),	   cmocka_unit_test(test_register),
		cmocka_unit_test(test_acquire_release),	   cmocka_unit_test(test_preempt_clear),
		cmocka_unit_test(test_holder_unregisters), cmocka_unit_test(test_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
