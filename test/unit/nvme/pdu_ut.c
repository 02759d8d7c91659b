/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvtcp/crc32c.h"
#include "../../../lib/nvme/nvme_internal.h"

static void
test_icreq_icresp(void **state)
{
	struct nvt_nvme_tcp_ic_req req;
	struct nvt_nvme_tcp_ic_resp resp;

	(void)state;
	nvme_pdu_build_icreq(&req, true, false);
	assert_int_equal(req.ch.type, NVT_NVME_TCP_PDU_IC_REQ);
	assert_int_equal(req.ch.hlen, 128);
	assert_int_equal(req.ch.plen, 128);
	assert_int_equal(req.ch.pdo, 0);
	assert_int_equal(req.pfv, 0);
	assert_int_equal(req.hpda, 0);
	assert_int_equal(req.maxr2t, 0);
	assert_int_equal(req.dgst, NVT_NVME_TCP_DGST_HDGST_ENABLE);

	memset(&resp, 0, sizeof(resp));
	resp.ch.type = NVT_NVME_TCP_PDU_IC_RESP;
	resp.ch.hlen = resp.ch.plen = 128;
	resp.maxh2cdata = 131072;
	resp.dgst = NVT_NVME_TCP_DGST_HDGST_ENABLE;
	assert_int_equal(nvme_pdu_check_icresp(&resp, true, false), 0);
	/* Declining a digest is fine; enabling one not asked for is not. */
	assert_int_equal(nvme_pdu_check_icresp(&resp, true, true), 0);
	assert_int_equal(nvme_pdu_check_icresp(&resp, false, false), -EPROTO);
	resp.dgst = 0;
	resp.maxh2cdata = 1024;
	assert_int_equal(nvme_pdu_check_icresp(&resp, false, false), -EPROTO);
	resp.maxh2cdata = 8192;
	resp.pfv = 1;
	assert_int_equal(nvme_pdu_check_icresp(&resp, false, false), -EPROTO);
	resp.pfv = 0;
	resp.cpda = 32;
	assert_int_equal(nvme_pdu_check_icresp(&resp, false, false), -EPROTO);
}

static void
test_capsule(void **state)
{
	union nvt_nvme_tcp_pdu_hdr hdr;
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_WRITE, .cid = 7, .nsid = 1 };
	uint32_t crc, n;

	(void)state;
	/* No data, no digests. */
	n = nvme_pdu_build_capsule(&hdr, &cmd, 0, false, false, 0);
	assert_int_equal(n, 72);
	assert_int_equal(hdr.ch.type, NVT_NVME_TCP_PDU_CAPSULE_CMD);
	assert_int_equal(hdr.ch.flags, 0);
	assert_int_equal(hdr.ch.hlen, 72);
	assert_int_equal(hdr.ch.pdo, 0);
	assert_int_equal(hdr.ch.plen, 72);
	assert_int_equal(hdr.capsule_cmd.sqe.cmd.cid, 7);

	/* In-capsule data with both digests. */
	n = nvme_pdu_build_capsule(&hdr, &cmd, 4096, true, true, 0);
	assert_int_equal(n, 76);
	assert_int_equal(hdr.ch.flags, NVT_NVME_TCP_F_HDGSTF | NVT_NVME_TCP_F_DDGSTF);
	assert_int_equal(hdr.ch.pdo, 76);
	assert_int_equal(hdr.ch.plen, 76 + 4096 + 4);
	memcpy(&crc, hdr.raw + 72, 4);
	assert_int_equal(crc, nvt_crc32c(hdr.raw, 72));
	assert_true(nvme_pdu_hdgst_ok(&hdr));
	hdr.raw[10] ^= 1;
	assert_false(nvme_pdu_hdgst_ok(&hdr));

	/* CPDA 31: data at a 128-byte boundary, padding zeroed. */
	n = nvme_pdu_build_capsule(&hdr, &cmd, 512, false, false, 31);
	assert_int_equal(n, 128);
	assert_int_equal(hdr.ch.pdo, 128);
	assert_int_equal(hdr.ch.plen, 128 + 512);
	assert_int_equal(hdr.raw[100], 0);
}

static void
test_h2c(void **state)
{
	union nvt_nvme_tcp_pdu_hdr hdr;
	uint32_t n;

	(void)state;
	n = nvme_pdu_build_h2c(&hdr, 3, 9, 8192, 4096, true, false, true, 0);
	assert_int_equal(n, 24);
	assert_int_equal(hdr.ch.type, NVT_NVME_TCP_PDU_H2C_DATA);
	assert_int_equal(hdr.ch.flags, NVT_NVME_TCP_F_LAST_PDU | NVT_NVME_TCP_F_DDGSTF);
	assert_int_equal(hdr.ch.pdo, 24);
	assert_int_equal(hdr.ch.plen, 24 + 4096 + 4);
	assert_int_equal(hdr.h2c_data.cccid, 3);
	assert_int_equal(hdr.h2c_data.ttag, 9);
	assert_int_equal(hdr.h2c_data.datao, 8192);
	assert_int_equal(hdr.h2c_data.datal, 4096);
}

static void
test_rx_hdr_check(void **state)
{
	struct nvt_nvme_tcp_common_hdr ch = {
		.type = NVT_NVME_TCP_PDU_CAPSULE_RESP,
		.hlen = 24,
		.plen = 24,
	};

	(void)state;
	assert_int_equal(nvme_pdu_check_rx_hdr(&ch, false, false), 0);
	/* Header digest negotiated but missing. */
	assert_int_equal(nvme_pdu_check_rx_hdr(&ch, true, false), -EPROTO);
	ch.flags = NVT_NVME_TCP_F_HDGSTF;
	ch.plen = 28;
	assert_int_equal(nvme_pdu_check_rx_hdr(&ch, true, false), 0);
	ch.hlen = 72;
	assert_int_equal(nvme_pdu_check_rx_hdr(&ch, true, false), -EPROTO);
	ch.type = 0x42;
	assert_int_equal(nvme_pdu_check_rx_hdr(&ch, true, false), -EPROTO);
	/* C2H data with pdo inside the header. */
	ch.type = NVT_NVME_TCP_PDU_C2H_DATA;
	ch.hlen = 24;
	ch.flags = 0;
	ch.pdo = 8;
	ch.plen = 100;
	assert_int_equal(nvme_pdu_check_rx_hdr(&ch, false, false), -EPROTO);
	ch.pdo = 24;
	assert_int_equal(nvme_pdu_check_rx_hdr(&ch, false, false), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icreq_icresp),
		cmocka_unit_test(test_capsule),
		cmocka_unit_test(test_h2c),
		cmocka_unit_test(test_rx_hdr_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
