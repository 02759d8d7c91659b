/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/string.h"

/* Room for glibc's longest "Unknown error -2147483648". */
#define STRERROR_BUF_LEN 64

int
nvt_parse_u64(const char *str, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	int base = 10;
	char *end;

	if (str == NULL || !isdigit((unsigned char)str[0])) {
		/* strtoull would take leading spaces and a sign. */
		return -EINVAL;
	}
	if (str[0] == '0' && (str[1] == 'x' || str[1] == 'X')) {
		if (!isxdigit((unsigned char)str[2])) {
			return -EINVAL;
		}
		base = 16;
	}
	errno = 0;
	v = strtoull(str, &end, base);
	if (*end != '\0') {
		return -EINVAL;
	}
	if (errno == ERANGE || v > max) {
		return -ERANGE;
	}
	*out = v;
	return 0;
}

/* Binary shift of a size suffix: "k", "KiB", "MB"...; -1 when malformed. */
static int
capacity_shift(const char *suffix)
{
	static const char units[] = "kmgt";
	const char *unit;

	if (suffix[0] == '\0') {
		return 0;
	}
	unit = strchr(units, tolower((unsigned char)suffix[0]));
	if (unit == NULL) {
		return -1;
	}
	suffix++;
	if (strcmp(suffix, "") != 0 && strcmp(suffix, "B") != 0 && strcmp(suffix, "iB") != 0) {
		return -1;
	}
	return 10 * (int)(unit - units + 1);
}

int
nvt_parse_capacity(const char *str, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift;

	if (str == NULL || !isdigit((unsigned char)str[0])) {
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(str, &end, 10);
	shift = capacity_shift(end);
	if (shift < 0) {
		return -EINVAL;
	}
	if (errno == ERANGE || v > (UINT64_MAX >> shift)) {
		return -ERANGE;
	}
	*out = (uint64_t)v << shift;
	return 0;
}

int
nvt_strcpy_trunc(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (size == 0) {
		return -ENAMETOOLONG;
	}
	if (len >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

void
nvt_strcpy_pad(void *dst, const char *src, size_t size, int pad)
{
	size_t len = strnlen(src, size);

	memcpy(dst, src, len);
	memset((char *)dst + len, pad, size - len);
}

const char *
nvt_strerror(int errnum)
{
	static __thread char buf[STRERROR_BUF_LEN];

	if (errnum < 0 && errnum != INT_MIN) {
		errnum = -errnum;
	}
	/* The GNU strerror_r returns either buf or a static string; both stay valid. */
	return strerror_r(errnum, buf, sizeof(buf));
}
