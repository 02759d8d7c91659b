/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nvtcp/cpuset.h"
#include "nvtcp/likely.h"
#include "nvtcp/uuid.h"

#define CPUSET_WORDS NVT_COUNTOF(((struct nvt_cpuset *)0)->bits)

void
nvt_cpuset_zero(struct nvt_cpuset *set)
{
	memset(set, 0, sizeof(*set));
}

void
nvt_cpuset_set_cpu(struct nvt_cpuset *set, uint32_t cpu, bool state)
{
	uint64_t bit = 1ull << (cpu % 64);

	if (cpu >= NVT_CPUSET_SIZE) {
		return;
	}
	if (state) {
		set->bits[cpu / 64] |= bit;
	} else {
		set->bits[cpu / 64] &= ~bit;
	}
}

bool
nvt_cpuset_get_cpu(const struct nvt_cpuset *set, uint32_t cpu)
{
	if (cpu >= NVT_CPUSET_SIZE) {
		return false;
	}
	return (set->bits[cpu / 64] >> (cpu % 64)) & 1;
}

uint32_t
nvt_cpuset_count(const struct nvt_cpuset *set)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < CPUSET_WORDS; i++) {
		n += (uint32_t)__builtin_popcountll(set->bits[i]);
	}
	return n;
}

bool
nvt_cpuset_equal(const struct nvt_cpuset *a, const struct nvt_cpuset *b)
{
	return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

void
nvt_cpuset_and(struct nvt_cpuset *dst, const struct nvt_cpuset *src)
{
	size_t i;

	for (i = 0; i < CPUSET_WORDS; i++) {
		dst->bits[i] &= src->bits[i];
	}
}

void
nvt_cpuset_or(struct nvt_cpuset *dst, const struct nvt_cpuset *src)
{
	size_t i;

	for (i = 0; i < CPUSET_WORDS; i++) {
		dst->bits[i] |= src->bits[i];
	}
}

int32_t
nvt_cpuset_next(const struct nvt_cpuset *set, int32_t prev)
{
	uint32_t cpu = prev < 0 ? 0 : (uint32_t)prev + 1;
	uint64_t word;

	if (cpu >= NVT_CPUSET_SIZE) {
		return -1;
	}
	word = set->bits[cpu / 64] & (~0ull << (cpu % 64));
	cpu /= 64;
	while (word == 0) {
		if (++cpu == CPUSET_WORDS) {
			return -1;
		}
		word = set->bits[cpu];
	}
	return (int32_t)(cpu * 64 + (uint32_t)__builtin_ctzll(word));
}

/* Hex digits from the least significant end; leading zero digits may exceed the set's width. */
static int
parse_mask(struct nvt_cpuset *set, const char *str, size_t len)
{
	size_t i;
	uint32_t cpu, bit;
	int v;

	if (len == 0) {
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		v = nvt_hex_digit(str[len - 1 - i]);
		if (v < 0) {
			return -EINVAL;
		}
		for (bit = 0; bit < 4 && v != 0; bit++, v >>= 1) {
			cpu = (uint32_t)(i * 4 + bit);
			if ((v & 1) && cpu >= NVT_CPUSET_SIZE) {
				return -EINVAL;
			}
			nvt_cpuset_set_cpu(set, cpu, v & 1);
		}
	}
	return 0;
}

/* A decimal core number below NVT_CPUSET_SIZE; advances *str past it. */
static int
parse_core(const char **str, uint32_t *out)
{
	const char *p = *str;
	uint32_t v = 0;

	if (!isdigit((unsigned char)*p)) {
		return -EINVAL;
	}
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (uint32_t)(*p - '0');
		if (v >= NVT_CPUSET_SIZE) {
			return -EINVAL;
		}
	}
	*str = p;
	*out = v;
	return 0;
}

/* "a" or "a-b" items separated by commas, ending exactly at end. */
static int
parse_list(struct nvt_cpuset *set, const char *p, const char *end)
{
	uint32_t first, last;

	for (;;) {
		if (parse_core(&p, &first) != 0) {
			return -EINVAL;
		}
		last = first;
		if (*p == '-') {
			p++;
			if (parse_core(&p, &last) != 0 || last < first) {
				return -EINVAL;
			}
		}
		for (; first <= last; first++) {
			nvt_cpuset_set_cpu(set, first, true);
		}
		if (p == end) {
			return 0;
		}
		if (*p++ != ',') {
			return -EINVAL;
		}
	}
}

static int
parse_any(struct nvt_cpuset *set, const char *str)
{
	size_t len = strlen(str);

	if (len == 0) {
		return -EINVAL;
	}
	if (str[0] == '[') {
		if (len < 3 || str[len - 1] != ']') {
			return -EINVAL;
		}
		return parse_list(set, str + 1, str + len - 1);
	}
	if (strpbrk(str, ",-") != NULL) {
		return parse_list(set, str, str + len);
	}
	if (str[0] == '0' && (str[1] == 'x' || str[1] == 'X')) {
		return parse_mask(set, str + 2, len - 2);
	}
	return parse_mask(set, str, len);
}

int
nvt_cpuset_parse(struct nvt_cpuset *set, const char *str)
{
	int rc;

	nvt_cpuset_zero(set);
	if (str == NULL) {
		return -EINVAL;
	}
	rc = parse_any(set, str);
	if (rc != 0) {
		nvt_cpuset_zero(set);
	}
	return rc;
}

char *
nvt_cpuset_fmt(const struct nvt_cpuset *set, char *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[NVT_CPUSET_STR_LEN];
	size_t pos = 0;
	int nibble;
	uint32_t v;

	tmp[pos++] = '0';
	tmp[pos++] = 'x';
	for (nibble = NVT_CPUSET_SIZE / 4 - 1; nibble >= 0; nibble--) {
		v = (uint32_t)(set->bits[nibble / 16] >> ((nibble % 16) * 4)) & 0xf;
		if (v != 0 || pos > 2 || nibble == 0) {
			tmp[pos++] = digits[v];
		}
	}
	tmp[pos] = '\0';
	if (len > 0) {
		snprintf(buf, len, "%s", tmp);
	}
	return buf;
}

int
nvt_cpuset_fmt_list(const struct nvt_cpuset *set, char *buf, size_t len)
{
	size_t pos = 0;
	int32_t first, last, next;
	int n;

	if (len == 0) {
		return -ENOSPC;
	}
	buf[0] = '\0';
	first = nvt_cpuset_next(set, -1);
	while (first >= 0) {
		last = first;
		while ((next = nvt_cpuset_next(set, last)) == last + 1) {
			last = next;
		}
		if (last == first) {
			n = snprintf(buf + pos, len - pos, "%s%d", pos ? "," : "", first);
		} else {
			n = snprintf(buf + pos, len - pos, "%s%d-%d", pos ? "," : "", first, last);
		}
		if (n < 0 || (size_t)n >= len - pos) {
			/* Cut at the last whole item rather than mid-number. */
			buf[pos] = '\0';
			return -ENOSPC;
		}
		pos += (size_t)n;
		first = next;
	}
	return 0;
}
