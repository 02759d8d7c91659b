/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The text of a host command's outcome for the functional tests (test_nvme.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nvtcp/nvme.h"

#include "test_nvme.h"

const char *
nvt_test_status_str(int status, char *buf, size_t len)
{
	if (status < 0) {
		snprintf(buf, len, "submit: %s", strerror(-status));
		return buf;
	}
	return nvt_nvme_status_fmt((uint16_t)status, buf, len);
}
