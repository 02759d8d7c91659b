/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nvtcp/nvme.h"

static void
test_trid_good(void **state)
{
	struct nvt_nvme_trid t;
	char err[128], buf[1024];

	(void)state;
	assert_int_equal(nvt_nvme_trid_parse(&t,
					     "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 "
					     "trsvcid:4420 subnqn:nqn.2016-06.io.spdk:cnode1",
					     err, sizeof(err)),
			 0);
	assert_int_equal(t.trtype, NVT_NVMF_TRTYPE_TCP);
	assert_int_equal(t.adrfam, NVT_NVMF_ADRFAM_IPV4);
	assert_string_equal(t.traddr, "127.0.0.1");
	assert_string_equal(t.trsvcid, "4420");
	assert_string_equal(t.subnqn, "nqn.2016-06.io.spdk:cnode1");
	assert_false(nvt_nvme_trid_is_discovery(&t));
	nvt_nvme_trid_fmt(&t, buf, sizeof(buf));
	assert_string_equal(buf, "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 "
				 "subnqn:nqn.2016-06.io.spdk:cnode1");

	/* Case-insensitive keys and values, extra blanks, '=' separator, hostnqn. */
	assert_int_equal(nvt_nvme_trid_parse(&t,
					     "  TRTYPE:tcp  ADRFAM=ipv6 TrAddr:::1 "
					     "hostnqn:nqn.host\n",
					     err, sizeof(err)),
			 0);
	assert_int_equal(t.adrfam, NVT_NVMF_ADRFAM_IPV6);
	assert_string_equal(t.traddr, "::1");
	assert_string_equal(t.trsvcid, "4420");
	assert_string_equal(t.hostnqn, "nqn.host");
	assert_true(nvt_nvme_trid_is_discovery(&t));

	/* Defaults: TCP, IPv4, 4420; 8009 for the explicit discovery NQN. */
	assert_int_equal(nvt_nvme_trid_parse(&t, "traddr:10.0.0.1", err, sizeof(err)), 0);
	assert_int_equal(t.trtype, NVT_NVMF_TRTYPE_TCP);
	assert_string_equal(t.trsvcid, "4420");
	assert_int_equal(nvt_nvme_trid_parse(&t,
					     "traddr:10.0.0.1 "
					     "subnqn:nqn.2014-08.org.nvmexpress.discovery",
					     err, sizeof(err)),
			 0);
	assert_string_equal(t.trsvcid, "8009");
	assert_true(nvt_nvme_trid_is_discovery(&t));
}

static void
test_trid_bad(void **state)
{
	static const struct {
		const char *str;
		const char *msg;
	} cases[] = {
		{ "", "traddr is missing" },
		{ "trtype:TCP", "traddr is missing" },
		{ "traddr", "is not key:value" },
		{ "traddr:1.2.3.4 trtype:RDMA", "not supported" },
		{ "traddr:1.2.3.4 trtype:FOO", "unknown trtype" },
		{ "traddr:1.2.3.4 adrfam:IB", "unknown adrfam" },
		{ "traddr:1.2.3.4 trsvcid:0", "not a port" },
		{ "traddr:1.2.3.4 trsvcid:65536", "not a port" },
		{ "traddr:1.2.3.4 trsvcid:http", "not a port" },
		{ "traddr:1.2.3.4 traddr:1.2.3.5", "given twice" },
		{ "traddr:1.2.3.4 color:red", "unknown key" },
		{ "traddr:", "has no value" },
	};
	struct nvt_nvme_trid t;
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(nvt_nvme_trid_parse(&t, cases[i].str, err, sizeof(err)), -EINVAL);
		if (strstr(err, cases[i].msg) == NULL) {
			fail_msg("'%s': error '%s' lacks '%s'", cases[i].str, err, cases[i].msg);
		}
	}
}

static void
test_trid_long_nqn(void **state)
{
	char str[400], err[128];
	struct nvt_nvme_trid t;

	(void)state;
	memset(str, 0, sizeof(str));
	snprintf(str, sizeof(str), "%s", "traddr:1.2.3.4 subnqn:");
	memset(str + strlen(str), 'a', 224);
	assert_int_equal(nvt_nvme_trid_parse(&t, str, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than 223"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trid_good),
		cmocka_unit_test(test_trid_bad),
		cmocka_unit_test(test_trid_long_nqn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
