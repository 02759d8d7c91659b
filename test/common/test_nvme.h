/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the functional tests on the host library (lib/nvme) share: the text
 * of a host command's outcome. Needs nvme_dep (test_nvme_dep in meson).
 */
#ifndef NVT_TEST_NVME_H
#define NVT_TEST_NVME_H

#include <stddef.h>

/*
 * \p status as the tests keep a command's outcome: the -errno of its
 * submission when negative ("submit: <strerror>"), else its NVMe status word
 * (nvt_nvme_status_fmt's text). Written to \p buf (\p len bytes); returns \p buf.
 */
const char *nvt_test_status_str(int status, char *buf, size_t len);

#endif /* NVT_TEST_NVME_H */
