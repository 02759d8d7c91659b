/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * CRC32C (Castagnoli), as used by NVMe/TCP header and data digests,
 * computed by ISA-L (SSE4.2/AVX-512 where the CPU has them).
 *
 * A digest is nvt_crc32c_update(buf, len, NVT_CRC32C_INIT) ^ NVT_CRC32C_XOR;
 * chain several buffers by passing the previous result as \p crc.
 */
#ifndef NVTCP_CRC32C_H
#define NVTCP_CRC32C_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NVT_CRC32C_INIT 0xffffffffu
#define NVT_CRC32C_XOR	0xffffffffu

/** Continue a CRC32C over \p len bytes of \p buf (no final xor). */
uint32_t nvt_crc32c_update(const void *buf, size_t len, uint32_t crc);

/** Continue a CRC32C over the buffers of an iovec, in order (no final xor). */
uint32_t nvt_crc32c_update_iov(const struct iovec *iov, int iovcnt, uint32_t crc);

/** The complete digest of one buffer: init, update, final xor. */
uint32_t nvt_crc32c(const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_CRC32C_H */
