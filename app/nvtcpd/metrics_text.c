/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus text exposition format (version 0.0.4): families with their
 * HELP and TYPE lines, samples with escaped label values, histograms with
 * cumulative buckets. Pure text, any thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

void
metrics_buf_printf(struct metrics_buf *b, const char *fmt, ...)
{
	size_t want, cap;
	va_list ap;
	char *p;
	int n;

	if (b->failed) {
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->data != NULL ? b->data + b->len : NULL, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	want = b->len + (size_t)n + 1;
	if (want > b->cap) {
		cap = b->cap > 0 ? b->cap : 16384;
		while (cap < want) {
			cap *= 2;
		}
		p = realloc(b->data, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void
metrics_buf_fini(struct metrics_buf *b)
{
	free(b->data);
	*b = (struct metrics_buf){ 0 };
}

void
metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help)
{
	metrics_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
metrics_label(char *labels, size_t len, const char *name, const char *value)
{
	size_t pos = strlen(labels);
	const char *v;

	if (pos + 1 >= len) {
		return;
	}
	pos += (size_t)snprintf(labels + pos, len - pos, "%s%s=\"", pos > 0 ? "," : "", name);
	/* Backslash, double quote and newline are the characters a label value escapes. */
	for (v = value; *v != '\0' && pos + 3 < len; v++) {
		if (*v == '\\' || *v == '"' || *v == '\n') {
			labels[pos++] = '\\';
			labels[pos++] = *v == '\n' ? 'n' : *v;
		} else {
			labels[pos++] = *v;
		}
	}
	if (pos + 1 < len) {
		labels[pos++] = '"';
	}
	labels[pos < len ? pos : len - 1] = '\0';
}

void
metrics_u64(struct metrics_buf *b, const char *name, const char *labels, uint64_t value)
{
	if (labels[0] == '\0') {
		metrics_buf_printf(b, "%s %llu\n", name, (unsigned long long)value);
	} else {
		metrics_buf_printf(b, "%s{%s} %llu\n", name, labels, (unsigned long long)value);
	}
}

void
metrics_double(struct metrics_buf *b, const char *name, const char *labels, double value)
{
	if (labels[0] == '\0') {
		metrics_buf_printf(b, "%s %.9f\n", name, value);
	} else {
		metrics_buf_printf(b, "%s{%s} %.9f\n", name, labels, value);
	}
}

void
metrics_histogram(struct metrics_buf *b, const char *name, const char *labels,
		  const uint64_t *bounds_ns, uint32_t nbounds, const uint64_t *buckets,
		  uint64_t sum_ns)
{
	const char *sep = labels[0] != '\0' ? "," : "";
	uint64_t cum = 0;
	uint32_t i;

	for (i = 0; i < nbounds; i++) {
		cum += buckets[i];
		metrics_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
				   (double)bounds_ns[i] / 1e9, (unsigned long long)cum);
	}
	/* The last bucket holds the rest: +Inf counts everything, the same as _count. */
	cum += buckets[nbounds];
	metrics_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
			   (unsigned long long)cum);
	if (labels[0] == '\0') {
		metrics_buf_printf(b, "%s_sum %.9f\n%s_count %llu\n", name, (double)sum_ns / 1e9,
				   name, (unsigned long long)cum);
	} else {
		metrics_buf_printf(b, "%s_sum{%s} %.9f\n%s_count{%s} %llu\n", name, labels,
				   (double)sum_ns / 1e9, name, labels, (unsigned long long)cum);
	}
}
