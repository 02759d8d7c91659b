/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hex strings and UUIDs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "nvtcp/uuid.h"

/* Where a UUID string carries its dashes. */
static const char g_uuid_layout[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
_Static_assert(sizeof(g_uuid_layout) == NVT_UUID_STRING_LEN, "UUID layout");

/* The byte counts of a UUID's dash-separated groups. */
static const uint8_t g_uuid_groups[] = { 4, 2, 2, 2, 6 };

int
nvt_hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Count the hex digits of str into *digits, '-' skipped; false at any other character. */
static bool
hex_count(const char *str, size_t *digits)
{
	size_t n = 0;

	for (; *str != '\0'; str++) {
		if (*str == '-') {
			continue;
		}
		if (nvt_hex_digit(*str) < 0) {
			return false;
		}
		n++;
	}
	*digits = n;
	return true;
}

int
nvt_hex_parse(const char *str, uint8_t *out, size_t len)
{
	size_t digits, n = 0;
	int v;

	if (str == NULL || !hex_count(str, &digits) || digits % 2 != 0 || digits / 2 != len) {
		return -EINVAL;
	}
	/* Checked whole above, so that a bad string leaves out untouched. */
	for (; *str != '\0'; str++) {
		v = nvt_hex_digit(*str);
		if (v < 0) {
			continue;
		}
		out[n / 2] = (uint8_t)(n % 2 ? out[n / 2] | v : v << 4);
		n++;
	}
	return 0;
}

/* Two characters of digits per byte, then a NUL; returns the position of the NUL. */
static char *
hex_put(char *buf, const uint8_t *bytes, size_t len, const char *digits)
{
	size_t i;

	for (i = 0; i < len; i++) {
		*buf++ = digits[bytes[i] >> 4];
		*buf++ = digits[bytes[i] & 0xf];
	}
	*buf = '\0';
	return buf;
}

void
nvt_hex_fmt(char *buf, const uint8_t *bytes, size_t len)
{
	hex_put(buf, bytes, len, "0123456789ABCDEF");
}

int
nvt_uuid_parse(const char *str, uint8_t uuid[16])
{
	size_t i;

	if (str == NULL || strlen(str) != NVT_UUID_STRING_LEN - 1) {
		return -EINVAL;
	}
	for (i = 0; g_uuid_layout[i] != '\0'; i++) {
		if ((g_uuid_layout[i] == '-') != (str[i] == '-')) {
			return -EINVAL;
		}
	}
	/* Dashes in place and 32 other characters: nvt_hex_parse checks they are digits. */
	return nvt_hex_parse(str, uuid, 16);
}

void
nvt_uuid_fmt(char *str, const uint8_t uuid[16])
{
	size_t i;

	for (i = 0; i < sizeof(g_uuid_groups); i++) {
		if (i > 0) {
			*str++ = '-';
		}
		str = hex_put(str, uuid, g_uuid_groups[i], "0123456789abcdef");
		uuid += g_uuid_groups[i];
	}
}

bool
nvt_uuid_is_zero(const uint8_t uuid[16])
{
	static const uint8_t zero[16];

	return memcmp(uuid, zero, sizeof(zero)) == 0;
}

int
nvt_uuid_generate(uint8_t uuid[16])
{
	size_t got = 0;
	ssize_t n;

	while (got < 16) {
		n = getrandom(uuid + got, 16 - got, 0);
		if (n < 0 && errno != EINTR) {
			return -errno;
		}
		got += n > 0 ? (size_t)n : 0;
	}
	/* Version 4 (random) in the high nibble of byte 6, variant 10b in the top of byte 8. */
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	return 0;
}
