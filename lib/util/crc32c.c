/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdint.h>

#include <isa-l/crc.h>

#include "nvtcp/crc32c.h"

/* ISA-L takes an int length; keep each call well inside it. */
#define CRC32C_CHUNK ((size_t)1 << 30)

uint32_t
nvt_crc32c_update(const void *buf, size_t len, uint32_t crc)
{
	/* ISA-L only reads the buffer; its prototype just lacks the const. */
	unsigned char *p = (unsigned char *)(uintptr_t)buf;
	size_t n;

	while (len > 0) {
		n = len < CRC32C_CHUNK ? len : CRC32C_CHUNK;
		crc = crc32_iscsi(p, (int)n, crc);
		p += n;
		len -= n;
	}
	return crc;
}

uint32_t
nvt_crc32c_update_iov(const struct iovec *iov, int iovcnt, uint32_t crc)
{
	int i;

	for (i = 0; i < iovcnt; i++) {
		crc = nvt_crc32c_update(iov[i].iov_base, iov[i].iov_len, crc);
	}
	return crc;
}

uint32_t
nvt_crc32c(const void *buf, size_t len)
{
	return nvt_crc32c_update(buf, len, NVT_CRC32C_INIT) ^ NVT_CRC32C_XOR;
}
