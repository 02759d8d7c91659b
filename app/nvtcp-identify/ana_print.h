/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Asymmetric Namespace Access part of nvtcp-identify: the ANA fields of
 * Identify Controller and the ANA log page.
 */
#ifndef NVTCP_IDENTIFY_ANA_PRINT_H
#define NVTCP_IDENTIFY_ANA_PRINT_H

#include "nvtcp/nvme.h"

/** Runs once the ANA section is printed; \p rc 0 or 1 (the command failed). */
typedef void (*ana_print_done_cb)(struct nvt_nvme_ctrlr *ctrlr, int rc);

/**
 * Print the ANA section when the controller reports ANA (CMIC bit 3), then
 * call \p done (at once when it does not, or on a submission failure).
 * Owning thread of \p ctrlr.
 */
void ana_print(struct nvt_nvme_ctrlr *ctrlr, ana_print_done_cb done);

#endif /* NVTCP_IDENTIFY_ANA_PRINT_H */
