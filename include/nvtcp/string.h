/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * Strict string-to-number parsing and small string helpers.
 */
#ifndef NVTCP_STRING_H
#define NVTCP_STRING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Parse an unsigned integer (decimal, or hex with 0x) that fills the whole
 * string.
 *
 * \return 0, -EINVAL (empty, trailing characters, sign) or -ERANGE (above \p max).
 */
int nvt_parse_u64(const char *str, uint64_t max, uint64_t *out);

/**
 * Parse a size with an optional binary suffix: "4096", "4k", "128KiB",
 * "1G", "2MB" (k/K, m/M, g/G, t/T; "B", "iB" allowed after them; powers of 1024).
 *
 * \return 0, -EINVAL or -ERANGE.
 */
int nvt_parse_capacity(const char *str, uint64_t *out);

/**
 * Copy \p src into \p dst of \p size bytes, always NUL-terminated.
 *
 * \return 0, or -ENAMETOOLONG when \p src was truncated.
 */
int nvt_strcpy_trunc(char *dst, size_t size, const char *src);

/**
 * Copy \p src into a fixed-width, space-padded, not NUL-terminated field of
 * \p size bytes (NVMe serial and model numbers).
 */
void nvt_strcpy_pad(void *dst, const char *src, size_t size, int pad);

/** strerror() that is thread-safe and takes a positive or negative errno. */
const char *nvt_strerror(int errnum);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_STRING_H */
