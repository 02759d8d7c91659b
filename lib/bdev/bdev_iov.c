/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data between a bdev_io's iovecs and one flat buffer, for the modules
 * whose backing is (or needs) contiguous memory: RAM, bounce buffers.
 */
#include <errno.h>
#include <string.h>

#include "nvtcp/internal/bdev_module.h"

size_t
nvt_bdev_iov_copy(uint8_t *buf, const struct iovec *iov, int iovcnt, size_t len, bool to_buf)
{
	size_t n;
	int i;

	for (i = 0; i < iovcnt && len > 0; i++) {
		n = iov[i].iov_len < len ? iov[i].iov_len : len;
		if (to_buf) {
			memcpy(buf, iov[i].iov_base, n);
		} else {
			memcpy(iov[i].iov_base, buf, n);
		}
		buf += n;
		len -= n;
	}
	return len;
}

int
nvt_bdev_iov_compare(const uint8_t *buf, const struct iovec *iov, int iovcnt, size_t len)
{
	size_t n;
	int i;

	for (i = 0; i < iovcnt && len > 0; i++) {
		n = iov[i].iov_len < len ? iov[i].iov_len : len;
		if (memcmp(buf, iov[i].iov_base, n) != 0) {
			return -EILSEQ;
		}
		buf += n;
		len -= n;
	}
	return 0;
}
