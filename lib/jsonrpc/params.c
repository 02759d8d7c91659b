/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Answering a request about its parameters: decoding them (or refusing,
 * naming the method and the field), and the notices of SPDK parameters that
 * are accepted without being applied. The one place where those rules live;
 * every method handler goes through it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"

/* Reasons already logged (by address: static strings). App thread only. */
#define PARAMS_MAX_NOTICES 64

static const char *g_notices[PARAMS_MAX_NOTICES];
static size_t g_num_notices;

/* Whether this reason was logged before; records it when not. */
static bool
notice_seen(const char *why)
{
	size_t i;

	for (i = 0; i < g_num_notices; i++) {
		if (g_notices[i] == why) {
			return true;
		}
	}
	if (g_num_notices < NVT_COUNTOF(g_notices)) {
		g_notices[g_num_notices++] = why;
	}
	return false;
}

void
nvt_jsonrpc_notice_once(struct nvt_jsonrpc_request *req, const char *fields, const char *why)
{
	if (!notice_seen(why)) {
		NVT_NOTICELOG("%s: %s accepted for compatibility with SPDK and not applied: %s\n",
			      nvt_jsonrpc_request_method(req), fields, why);
	}
}

/* Whether \p f is given in \p obj and is accepted without being applied. */
static bool
field_ignored(const json_t *obj, const struct nvt_json_field *f)
{
	const json_t *val = obj != NULL ? json_object_get(obj, f->name) : NULL;

	return f->type == NVT_JSON_SPDK && f->spdk_default == NULL && f->why != NULL &&
	       val != NULL && !json_is_null(val);
}

/* One notice per reason, naming every field given that it covers. */
static void
log_notices(struct nvt_jsonrpc_request *req, const json_t *obj, const struct nvt_json_field *fields,
	    size_t nfields)
{
	char names[256];
	size_t i, j, len;

	for (i = 0; i < nfields; i++) {
		if (!field_ignored(obj, &fields[i])) {
			continue;
		}
		len = 0;
		names[0] = '\0';
		for (j = 0; j < nfields && len < sizeof(names); j++) {
			if (fields[j].why == fields[i].why && field_ignored(obj, &fields[j])) {
				len += (size_t)snprintf(names + len, sizeof(names) - len, "%s'%s'",
							len > 0 ? ", " : "", fields[j].name);
			}
		}
		nvt_jsonrpc_notice_once(req, names, fields[i].why);
	}
}

bool
nvt_jsonrpc_decode(struct nvt_jsonrpc_request *req, const char *what, const json_t *obj,
		   const struct nvt_json_field *fields, size_t nfields, void *out)
{
	const char *method = nvt_jsonrpc_request_method(req);
	char err[384];

	if (nvt_json_decode_object(obj, fields, nfields, out, err, sizeof(err)) != 0) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s: %s%s%s", method,
				       what != NULL ? what : "", what != NULL ? ": " : "", err);
		return false;
	}
	log_notices(req, obj, fields, nfields);
	return true;
}

void
nvt_jsonrpc_send_field_error(struct nvt_jsonrpc_request *req, const char *field, const char *fmt,
			     ...)
{
	char why[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s: field '%s': %s",
			       nvt_jsonrpc_request_method(req), field, why);
}

void
nvt_jsonrpc_send_unsupported(struct nvt_jsonrpc_request *req, const char *field,
			     const json_t *value, const char *accepted, const char *why)
{
	char err[384];

	nvt_json_format_unsupported(err, sizeof(err), field, value, accepted, why);
	nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s: %s",
			       nvt_jsonrpc_request_method(req), err);
}
