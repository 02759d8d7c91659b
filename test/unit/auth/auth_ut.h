/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers of the lib/auth unit tests: hex vectors and test keys. */
#ifndef NVT_AUTH_UT_H
#define NVT_AUTH_UT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nvtcp/auth.h"

/* Decode a hex string into buf (at most size bytes); returns the byte count, or 0 on a bad string. */
static inline size_t
ut_unhex(const char *hex, uint8_t *buf, size_t size)
{
	size_t n = strlen(hex) / 2, i;
	unsigned int hi, lo;

	if (strlen(hex) % 2 != 0 || n > size) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		hi = (unsigned int)hex[2 * i];
		lo = (unsigned int)hex[2 * i + 1];
		hi = hi <= '9' ? hi - '0' : (hi | 0x20) - 'a' + 10;
		lo = lo <= '9' ? lo - '0' : (lo | 0x20) - 'a' + 10;
		if (hi > 15 || lo > 15) {
			return 0;
		}
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	return n;
}

/* len bytes start, start + 1, ... (mod 256), as make-vectors.py's key_bytes(). */
static inline void
ut_key_bytes(uint8_t *buf, size_t len, unsigned int start)
{
	size_t i;

	for (i = 0; i < len; i++) {
		buf[i] = (uint8_t)(start + i);
	}
}

/* A secret as nvt_secret_parse() would return it, built from ut_key_bytes(). */
static inline void
ut_secret(struct nvt_secret *s, enum nvt_secret_kind kind, enum nvt_auth_hash hash, size_t len,
	  unsigned int start)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->hash = hash;
	s->len = len;
	ut_key_bytes(s->key, len, start);
}

#endif /* NVT_AUTH_UT_H */
