/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Decoding a parameters object into a struct by a table of fields. The
 * whole object is checked first and only then written, so a failure leaves
 * no string allocated and the output untouched.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/jsonrpc.h"

static const char *
json_type_name(const json_t *val)
{
	switch (json_typeof(val)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "an unknown type";
}

static const struct nvt_json_field *
field_find(const struct nvt_json_field *fields, size_t nfields, const char *name)
{
	size_t i;

	for (i = 0; i < nfields; i++) {
		if (strcmp(fields[i].name, name) == 0) {
			return &fields[i];
		}
	}
	return NULL;
}

/* An unknown key gets the list of known ones, as a hint for typos. */
static int
report_unknown(const char *key, const struct nvt_json_field *fields, size_t nfields, char *err,
	       size_t errlen)
{
	size_t i, len;

	len = (size_t)snprintf(err, errlen, "field '%s': unknown (known: ", key);
	for (i = 0; i < nfields && len < errlen; i++) {
		len += (size_t)snprintf(err + len, errlen - len, "%s%s", i > 0 ? ", " : "",
					fields[i].name);
	}
	if (nfields == 0 && len < errlen) {
		len += (size_t)snprintf(err + len, errlen - len, "none");
	}
	if (len < errlen) {
		snprintf(err + len, errlen - len, ")");
	}
	return -EINVAL;
}

static int
check_integer(const struct nvt_json_field *f, const json_t *val, int64_t min, int64_t max,
	      const char *what, char *err, size_t errlen)
{
	json_int_t v;

	if (!json_is_integer(val)) {
		snprintf(err, errlen, "field '%s': expected %s, got %s", f->name, what,
			 json_type_name(val));
		return -EINVAL;
	}
	v = json_integer_value(val);
	if (v < min || v > max) {
		snprintf(err, errlen,
			 "field '%s': %lld is out of range (%" PRId64 " to %" PRId64 ")", f->name,
			 (long long)v, min, max);
		return -EINVAL;
	}
	return 0;
}

static int
check_string(const struct nvt_json_field *f, const json_t *val, char *err, size_t errlen)
{
	if (!json_is_string(val)) {
		snprintf(err, errlen, "field '%s': expected a string, got %s", f->name,
			 json_type_name(val));
		return -EINVAL;
	}
	/* Our outputs are C strings: an embedded NUL would silently cut the value. */
	if (strlen(json_string_value(val)) != json_string_length(val)) {
		snprintf(err, errlen, "field '%s': the string contains a NUL character", f->name);
		return -EINVAL;
	}
	return 0;
}

/* Whether \p value is the JSON value written as \p text. */
static bool
value_is_text(const json_t *value, const char *text)
{
	json_t *want = json_loads(text, JSON_DECODE_ANY, NULL);
	bool same = want != NULL && json_equal(want, (json_t *)value);

	json_decref(want);
	return same;
}

void
nvt_json_format_unsupported(char *err, size_t errlen, const char *field, const json_t *value,
			    const char *accepted, const char *why)
{
	char *got = value != NULL ? json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	size_t len;

	len = (size_t)snprintf(err, errlen, "field '%s': %s is not supported", field,
			       got != NULL ? got : "this value");
	free(got);
	if (why != NULL && len < errlen) {
		len += (size_t)snprintf(err + len, errlen - len, " (%s)", why);
	}
	if (accepted != NULL && len < errlen) {
		snprintf(err + len, errlen - len, "; accepted: %s", accepted);
	}
}

static int
check_spdk(const struct nvt_json_field *f, const json_t *val, char *err, size_t errlen)
{
	char accepted[96];

	if (f->spdk_default == NULL || value_is_text(val, f->spdk_default)) {
		return 0;
	}
	if (strcmp(f->spdk_default, "null") == 0) {
		snprintf(accepted, sizeof(accepted), "none (leave the field out)");
	} else {
		snprintf(accepted, sizeof(accepted), "%s (SPDK's default)", f->spdk_default);
	}
	nvt_json_format_unsupported(err, errlen, f->name, val, accepted, f->why);
	return -EINVAL;
}

static int
check_value(const struct nvt_json_field *f, const json_t *val, char *err, size_t errlen)
{
	switch (f->type) {
	case NVT_JSON_SPDK:
		return check_spdk(f, val, err, errlen);
	case NVT_JSON_STRING:
		return check_string(f, val, err, errlen);
	case NVT_JSON_BOOL:
		if (!json_is_boolean(val)) {
			snprintf(err, errlen, "field '%s': expected a boolean, got %s", f->name,
				 json_type_name(val));
			return -EINVAL;
		}
		return 0;
	case NVT_JSON_INT32:
		return check_integer(f, val, INT32_MIN, INT32_MAX, "an integer", err, errlen);
	case NVT_JSON_UINT16:
		return check_integer(f, val, 0, UINT16_MAX, "an unsigned integer", err, errlen);
	case NVT_JSON_UINT32:
		return check_integer(f, val, 0, UINT32_MAX, "an unsigned integer", err, errlen);
	case NVT_JSON_UINT64:
		return check_integer(f, val, 0, INT64_MAX, "an unsigned integer", err, errlen);
	case NVT_JSON_ANY:
		return 0;
	}
	snprintf(err, errlen, "field '%s': bad field type %d in the decoder table", f->name,
		 (int)f->type);
	return -EINVAL;
}

/* The value of a field, or NULL when absent; null counts as absent. */
static const json_t *
field_value(const json_t *obj, const struct nvt_json_field *f)
{
	const json_t *val = obj != NULL ? json_object_get(obj, f->name) : NULL;

	if (json_is_null(val) && f->type != NVT_JSON_ANY) {
		return NULL;
	}
	return val;
}

static int
check_object(const json_t *obj, const struct nvt_json_field *fields, size_t nfields, char *err,
	     size_t errlen)
{
	const char *key;
	size_t i;
	void *it;
	int rc;

	if (obj != NULL && !json_is_object(obj)) {
		snprintf(err, errlen, "params: expected an object, got %s", json_type_name(obj));
		return -EINVAL;
	}
	for (it = obj ? json_object_iter((json_t *)obj) : NULL; it != NULL;
	     it = json_object_iter_next((json_t *)obj, it)) {
		key = json_object_iter_key(it);
		if (field_find(fields, nfields, key) == NULL) {
			return report_unknown(key, fields, nfields, err, errlen);
		}
	}
	for (i = 0; i < nfields; i++) {
		const json_t *val = field_value(obj, &fields[i]);

		if (val == NULL) {
			if (!fields[i].optional) {
				snprintf(err, errlen, "field '%s': missing (required)",
					 fields[i].name);
				return -EINVAL;
			}
			continue;
		}
		rc = check_value(&fields[i], val, err, errlen);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

/* Store a checked value; only strings can fail (-ENOMEM). */
static int
store_value(const struct nvt_json_field *f, const json_t *val, void *out)
{
	json_int_t v = json_is_integer(val) ? json_integer_value(val) : 0;
	char *dst, *str;

	if (f->type == NVT_JSON_SPDK) {
		/* No output: \p out may even be NULL for a table of such fields only. */
		return 0;
	}
	dst = (char *)out + f->offset;
	switch (f->type) {
	case NVT_JSON_STRING:
		str = strdup(json_string_value(val));
		if (str == NULL) {
			return -ENOMEM;
		}
		memcpy(dst, &str, sizeof(str));
		break;
	case NVT_JSON_BOOL:
		*(bool *)dst = json_is_true(val);
		break;
	case NVT_JSON_INT32:
		*(int32_t *)dst = (int32_t)v;
		break;
	case NVT_JSON_UINT16:
		*(uint16_t *)dst = (uint16_t)v;
		break;
	case NVT_JSON_UINT32:
		*(uint32_t *)dst = (uint32_t)v;
		break;
	case NVT_JSON_UINT64:
		*(uint64_t *)dst = (uint64_t)v;
		break;
	case NVT_JSON_ANY:
		memcpy(dst, &val, sizeof(val));
		break;
	case NVT_JSON_SPDK:
		break;
	}
	return 0;
}

/* Undo the strings stored by fields [0, end) after a failed allocation. */
static void
free_stored_strings(const json_t *obj, const struct nvt_json_field *fields, size_t end, void *out)
{
	char *str;
	size_t i;

	for (i = 0; i < end; i++) {
		if (fields[i].type == NVT_JSON_STRING && field_value(obj, &fields[i]) != NULL) {
			memcpy(&str, (char *)out + fields[i].offset, sizeof(str));
			free(str);
			str = NULL;
			memcpy((char *)out + fields[i].offset, &str, sizeof(str));
		}
	}
}

int
nvt_json_decode_object(const json_t *obj, const struct nvt_json_field *fields, size_t nfields,
		       void *out, char *err, size_t errlen)
{
	const json_t *val;
	size_t i;
	int rc;

	rc = check_object(obj, fields, nfields, err, errlen);
	if (rc != 0) {
		return rc;
	}
	for (i = 0; i < nfields; i++) {
		val = field_value(obj, &fields[i]);
		if (val != NULL && store_value(&fields[i], val, out) != 0) {
			free_stored_strings(obj, fields, i, out);
			snprintf(err, errlen, "field '%s': out of memory", fields[i].name);
			return -ENOMEM;
		}
	}
	return 0;
}

void
nvt_json_free_strings(const struct nvt_json_field *fields, size_t nfields, void *out)
{
	char *str;
	size_t i;

	for (i = 0; i < nfields; i++) {
		if (fields[i].type != NVT_JSON_STRING) {
			continue;
		}
		memcpy(&str, (char *)out + fields[i].offset, sizeof(str));
		free(str);
		str = NULL;
		memcpy((char *)out + fields[i].offset, &str, sizeof(str));
	}
}
