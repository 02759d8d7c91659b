/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * Hex strings and UUIDs: parsing, formatting, generation.
 *
 * The hex functions serve byte identifiers such as a namespace's NGUID
 * (16 bytes) and EUI-64 (8 bytes); the UUID functions serve the RFC 4122
 * string form "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" of 16 bytes.
 */
#ifndef NVTCP_UUID_H
#define NVTCP_UUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Length of the UUID string form "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", NUL included. */
#define NVT_UUID_STRING_LEN 37

/**
 * The value of one hex digit, either case.
 *
 * \return 0 to 15, or -1 when \p c is not a hex digit.
 */
int nvt_hex_digit(char c);

/**
 * Parse exactly \p len bytes written as hex digits (either case, two per
 * byte, most significant first). '-' characters are skipped wherever they
 * are, as NGUID and EUI-64 strings may carry them. \p out is written only on
 * success.
 *
 * \return 0, or -EINVAL (NULL \p str, a character neither hex digit nor '-',
 * an odd number of digits, more or fewer than \p len bytes).
 */
int nvt_hex_parse(const char *str, uint8_t *out, size_t len);

/**
 * Format \p len bytes as upper-case hex digits, two per byte, without
 * separators, into \p buf of at least 2 * \p len + 1 bytes (NUL-terminated).
 */
void nvt_hex_fmt(char *buf, const uint8_t *bytes, size_t len);

/**
 * Parse a UUID string in the strict 8-4-4-4-12 layout, either case. \p uuid
 * is written only on success.
 *
 * \return 0, or -EINVAL (NULL \p str, wrong length, a '-' missing or
 * misplaced, a character not a hex digit).
 */
int nvt_uuid_parse(const char *str, uint8_t uuid[16]);

/** Format \p uuid in lower case into \p str (NVT_UUID_STRING_LEN bytes, NUL-terminated). */
void nvt_uuid_fmt(char *str, const uint8_t uuid[16]);

/** Whether all 16 bytes of \p uuid are zero (the nil UUID). */
bool nvt_uuid_is_zero(const uint8_t uuid[16]);

/**
 * Fill \p uuid with a random UUID: version 4, RFC 4122 variant, from
 * getrandom() (retried when interrupted by a signal).
 *
 * \return 0, or -errno from getrandom() (\p uuid is then undefined).
 */
int nvt_uuid_generate(uint8_t uuid[16]);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_UUID_H */
