/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Byte ranges of a caller's scatter list: the data of one command is a slice
 * of its I/O's data, and one PDU carries a slice of a command's data. Nothing
 * here copies an iovec array: a slice is described by the element holding its
 * first byte and the offset in it.
 */
#include <string.h>

#include "nvtcp/crc32c.h"
#include "nvme_internal.h"

uint64_t
nvme_iov_bytes(const struct iovec *iov, uint32_t iovcnt)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < iovcnt; i++) {
		n += iov[i].iov_len;
	}
	return n;
}

bool
nvme_payload_sub(const struct nvme_payload *pl, uint64_t off, struct nvme_payload *out)
{
	const struct iovec *iov = pl->iov;
	uint32_t cnt = pl->iovcnt;

	off += pl->off;
	/* Empty elements are skipped, so a slice never starts at the end of one. */
	while (cnt > 0 && off >= iov->iov_len) {
		off -= iov->iov_len;
		iov++;
		cnt--;
	}
	out->iov = iov;
	out->iovcnt = cnt;
	out->off = (size_t)off;
	return cnt > 0 || off == 0;
}

uint32_t
nvme_payload_slice(const struct nvme_payload *pl, uint64_t off, uint32_t len, struct iovec *out,
		   uint32_t max, uint32_t *bytes)
{
	struct nvme_payload p;
	uint32_t n = 0, done = 0, i;

	if (!nvme_payload_sub(pl, off, &p)) {
		*bytes = 0;
		return 0;
	}
	for (i = 0; i < p.iovcnt && n < max && done < len; i++) {
		size_t skip = i == 0 ? p.off : 0;
		size_t seg = p.iov[i].iov_len - skip;

		if (seg == 0) {
			continue;
		}
		if (seg > len - done) {
			seg = len - done;
		}
		out[n].iov_base = (uint8_t *)p.iov[i].iov_base + skip;
		out[n++].iov_len = seg;
		done += (uint32_t)seg;
	}
	*bytes = done;
	return n;
}

void
nvme_payload_copy_in(const struct nvme_payload *pl, uint64_t off, const void *src, uint32_t n)
{
	struct iovec seg[NVME_PDU_MAX_DATA_IOVS];
	const uint8_t *s = src;
	uint32_t cnt, got, i;

	while (n > 0) {
		cnt = nvme_payload_slice(pl, off, n, seg, NVME_PDU_MAX_DATA_IOVS, &got);
		if (got == 0) {
			return;
		}
		for (i = 0; i < cnt; i++) {
			memcpy(seg[i].iov_base, s, seg[i].iov_len);
			s += seg[i].iov_len;
		}
		off += got;
		n -= got;
	}
}

uint32_t
nvme_payload_crc32c(const struct nvme_payload *pl, uint64_t off, uint32_t n, uint32_t crc)
{
	struct iovec seg[NVME_PDU_MAX_DATA_IOVS];
	uint32_t cnt, got;

	while (n > 0) {
		cnt = nvme_payload_slice(pl, off, n, seg, NVME_PDU_MAX_DATA_IOVS, &got);
		if (got == 0) {
			break;
		}
		crc = nvt_crc32c_update_iov(seg, (int)cnt, crc);
		off += got;
		n -= got;
	}
	return crc;
}
