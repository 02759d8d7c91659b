/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * librbd's results as bdev statuses (rbd_status.h). The bdev statuses then
 * become NVMe statuses in the target's one mapping: -ENODEV is Namespace Not
 * Ready with DNR, -ESHUTDOWN a path error (another target may serve it),
 * -EIO a retryable error.
 */
#include <errno.h>

#include "rbd_status.h"

#ifndef EBLOCKLISTED
/* What librados returns to a client the cluster has blocklisted. */
#define EBLOCKLISTED ESHUTDOWN
#endif

int
rbd_status(ssize_t ret)
{
	if (ret >= 0) {
		return 0;
	}
	switch (ret) {
	case -EILSEQ:
		return -EILSEQ;
	case -ENOENT:
	case -ENODEV:
	case -ENXIO:
	case -EPERM:
	case -EACCES:
		/*
		 * The image was removed, or its pool (librados answers EPERM for a
		 * pool deleted under it), or this client may no longer use it: no
		 * retry brings it back here.
		 */
		return -ENODEV;
	case -ENOSPC:
	case -EDQUOT:
		return -ENOSPC;
	case -ENOMEM:
		return -ENOMEM;
	case -EROFS:
	case -EBLOCKLISTED:
		/*
		 * The image is writable, but this client lost its exclusive lock or
		 * was blocklisted (fenced) for another writer: not this namespace's
		 * fault but this target's, so a multipath host retries on another.
		 */
		return -ESHUTDOWN;
	case -ETIMEDOUT:
	default:
		return -EIO;
	}
}

bool
rbd_status_log_change(int last, int status)
{
	if (status == -EILSEQ) {
		return false;
	}
	return status != last;
}
