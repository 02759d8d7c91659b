/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What librbd's results mean for the bdev layer, in one place (pure
 * functions, unit-tested without librbd).
 */
#ifndef NVT_BDEV_RBD_STATUS_H
#define NVT_BDEV_RBD_STATUS_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * The bdev status of a librbd completion value \p ret (>= 0 success, or
 * -errno): 0; -EILSEQ (compare: data differ); -ENODEV (image or pool gone,
 * or access denied: the namespace cannot serve any more); -ENOSPC (cluster full or quota);
 * -ENOMEM; -EIO for the rest, which the host may retry: a timeout, a
 * blocklisted client or a lost exclusive lock (another gateway writes: a
 * retry through another path may succeed), a cluster error.
 */
int rbd_status(ssize_t ret);

/*
 * Whether a channel whose last status was \p last should log \p status: on
 * every change of failing state (a first failure, another reason, the
 * recovery), never per I/O. A miscompare is the host's business: not logged.
 */
bool rbd_status_log_change(int last, int status);

#endif /* NVT_BDEV_RBD_STATUS_H */
