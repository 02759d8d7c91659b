/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of the I/O statistics, with SPDK's names, parameters and
 * answers: bdev_get_iostat, bdev_enable_histogram, bdev_get_histogram.
 * The histogram travels as SPDK sends it (base64 of its 64-bit little-endian
 * counters), so SPDK's scripts read it unchanged.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/histogram.h"
#include "nvtcp/jsonrpc.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"
#include "bdev_internal.h"

/* SPDK's words for each kind, in its field names and order. */
static const struct {
	const char *bytes;
	const char *ops;
	const char *lat;
	const char *max_lat;
	const char *min_lat;
} g_kind_fields[NVT_BDEV_STAT_NUM_KINDS] = {
	[NVT_BDEV_STAT_READ] = { "bytes_read", "num_read_ops", "read_latency_ticks",
				 "max_read_latency_ticks", "min_read_latency_ticks" },
	[NVT_BDEV_STAT_WRITE] = { "bytes_written", "num_write_ops", "write_latency_ticks",
				  "max_write_latency_ticks", "min_write_latency_ticks" },
	[NVT_BDEV_STAT_UNMAP] = { "bytes_unmapped", "num_unmap_ops", "unmap_latency_ticks",
				  "max_unmap_latency_ticks", "min_unmap_latency_ticks" },
	[NVT_BDEV_STAT_COPY] = { "bytes_copied", "num_copy_ops", "copy_latency_ticks",
				 "max_copy_latency_ticks", "min_copy_latency_ticks" },
};

static const char *const g_io_error_names[NVT_BDEV_NUM_IO_ERRORS] = {
	[NVT_BDEV_IO_ERROR_FAILED] = "failed",
	[NVT_BDEV_IO_ERROR_NOMEM] = "nomem",
	[NVT_BDEV_IO_ERROR_MISCOMPARE] = "miscompare",
};

static void
set_u64(json_t *obj, const char *key, uint64_t v)
{
	/* jansson's integers are signed: only sums past 2^63 would clamp. */
	json_object_set_new(obj, key, json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v));
}

/* SPDK's fields of one stat into \p obj; io_error only for bdev totals, as SPDK. */
static void
iostat_json(json_t *obj, const struct nvt_bdev_iostat *s, bool with_errors)
{
	json_t *errs;
	int k;

	for (k = 0; k < NVT_BDEV_STAT_NUM_KINDS; k++) {
		set_u64(obj, g_kind_fields[k].bytes, s->op[k].bytes);
		set_u64(obj, g_kind_fields[k].ops, s->op[k].ops);
	}
	for (k = 0; k < NVT_BDEV_STAT_NUM_KINDS; k++) {
		set_u64(obj, g_kind_fields[k].lat, s->op[k].latency_ticks);
		set_u64(obj, g_kind_fields[k].max_lat, s->op[k].max_latency_ticks);
		/* SPDK reports 0, not its "no sample yet" marker. */
		set_u64(obj, g_kind_fields[k].min_lat,
			s->op[k].ops != 0 ? s->op[k].min_latency_ticks : 0);
	}
	if (!with_errors) {
		return;
	}
	errs = json_object();
	for (k = 0; k < NVT_BDEV_NUM_IO_ERRORS; k++) {
		if (s->io_error[k] != 0) {
			set_u64(errs, g_io_error_names[k], s->io_error[k]);
		}
	}
	json_object_set_new(obj, "io_error", errs);
}

static json_t *
iostat_result(void)
{
	json_t *result = json_object();

	set_u64(result, "tick_rate", nvt_get_ticks_hz());
	set_u64(result, "ticks", nvt_get_ticks());
	return result;
}

/* ---- bdev_get_iostat ---- */

struct rpc_get_iostat {
	char *name;
	const json_t *names;
	bool per_channel;
};

static const struct nvt_json_field g_get_iostat_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct rpc_get_iostat, name), true },
	{ "names", NVT_JSON_ANY, offsetof(struct rpc_get_iostat, names), true },
	{ "per_channel", NVT_JSON_BOOL, offsetof(struct rpc_get_iostat, per_channel), true },
	NVT_JSON_SPDK_DEFAULT("reset_mode", "\"none\"",
			      "counters are never reset: take differences between two calls"),
};

/* One request's walk over its bdevs, one gather at a time. */
struct iostat_walk {
	struct nvt_jsonrpc_request *request;
	char **names;
	size_t n, next;
	/* Listing every bdev: one deleted meanwhile is left out, not an error. */
	bool all;
	json_t *bdevs;
};

static void
iostat_walk_free(struct iostat_walk *w)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		free(w->names[i]);
	}
	free(w->names);
	json_decref(w->bdevs);
	free(w);
}

static void iostat_walk_next(struct iostat_walk *w);

static void
iostat_walk_bdev_done(void *ctx, int status, const struct nvt_bdev_iostat *stat,
		      const struct nvt_histogram *hist)
{
	struct iostat_walk *w = ctx;
	json_t *obj;

	(void)hist;
	if (status != 0) {
		nvt_jsonrpc_send_error(w->request, status, "bdev_get_iostat: bdev '%s': %s",
				       w->names[w->next], nvt_strerror(status));
		iostat_walk_free(w);
		return;
	}
	obj = json_pack("{s:s}", "name", w->names[w->next]);
	iostat_json(obj, stat, true);
	json_array_append_new(w->bdevs, obj);
	w->next++;
	iostat_walk_next(w);
}

static void
iostat_walk_next(struct iostat_walk *w)
{
	json_t *result;
	int rc;

	for (; w->next < w->n; w->next++) {
		rc = nvt_bdev_get_iostat(w->names[w->next], iostat_walk_bdev_done, w);
		if (rc == 0) {
			return;
		}
		if (rc != -ENODEV || !w->all) {
			nvt_jsonrpc_send_error(w->request, rc, "bdev_get_iostat: bdev '%s': %s",
					       w->names[w->next], nvt_strerror(rc));
			iostat_walk_free(w);
			return;
		}
	}
	result = iostat_result();
	json_object_set(result, "bdevs", w->bdevs);
	nvt_jsonrpc_send_result(w->request, result);
	iostat_walk_free(w);
}

/* The bdev names asked for (\p req's name or names), or every bdev's. */
static int
iostat_walk_names(struct iostat_walk *w, const struct rpc_get_iostat *req)
{
	struct nvt_bdev *bdev;
	size_t i, cap;

	if (req->name != NULL || req->names != NULL) {
		cap = req->name != NULL ? 1 : json_array_size(req->names);
	} else {
		w->all = true;
		cap = 0;
		for (bdev = nvt_bdev_first(); bdev != NULL; bdev = nvt_bdev_next(bdev)) {
			cap++;
		}
	}
	w->names = calloc(cap + 1, sizeof(char *));
	if (w->names == NULL) {
		return -ENOMEM;
	}
	if (req->name != NULL) {
		w->names[w->n++] = strdup(req->name);
	} else if (req->names != NULL) {
		for (i = 0; i < cap; i++) {
			w->names[w->n++] = strdup(json_string_value(json_array_get(req->names, i)));
		}
	} else {
		for (bdev = nvt_bdev_first(); bdev != NULL && w->n < cap;
		     bdev = nvt_bdev_next(bdev)) {
			w->names[w->n++] = strdup(nvt_bdev_get_name(bdev));
		}
	}
	for (i = 0; i < w->n; i++) {
		if (w->names[i] == NULL) {
			return -ENOMEM;
		}
	}
	return 0;
}

/* Whether "names" is an array of strings; answers the error otherwise. */
static bool
iostat_names_ok(struct nvt_jsonrpc_request *request, const struct rpc_get_iostat *req)
{
	size_t i;
	json_t *v;

	if (req->names == NULL) {
		return true;
	}
	if (req->name != NULL) {
		nvt_jsonrpc_send_field_error(request, "names", "give 'name' or 'names', not both");
		return false;
	}
	if (!json_is_array(req->names)) {
		nvt_jsonrpc_send_field_error(request, "names", "an array of bdev names expected");
		return false;
	}
	json_array_foreach(req->names, i, v)
	{
		if (!json_is_string(v)) {
			nvt_jsonrpc_send_field_error(request, "names",
						     "element %zu is not a string", i);
			return false;
		}
	}
	return true;
}

static void
iostat_channels_done(void *ctx, int status, const struct bdev_stat_entry *entries, uint32_t n)
{
	struct iostat_walk *w = ctx;
	json_t *result, *channels, *obj;
	uint32_t i;

	if (status != 0) {
		nvt_jsonrpc_send_error(w->request, status, "bdev_get_iostat: bdev '%s': %s",
				       w->names[0], nvt_strerror(status));
		iostat_walk_free(w);
		return;
	}
	result = iostat_result();
	json_object_set_new(result, "name", json_string(w->names[0]));
	channels = json_array();
	for (i = 0; i < n; i++) {
		obj = json_object();
		set_u64(obj, "thread_id", entries[i].thread_id);
		iostat_json(obj, &entries[i].io, false);
		json_array_append_new(channels, obj);
	}
	json_object_set_new(result, "channels", channels);
	nvt_jsonrpc_send_result(w->request, result);
	iostat_walk_free(w);
}

static void
iostat_start(struct nvt_jsonrpc_request *request, const struct rpc_get_iostat *req)
{
	struct iostat_walk *w = calloc(1, sizeof(*w));
	int rc = w != NULL ? 0 : -ENOMEM;

	if (w != NULL) {
		w->request = request;
		w->bdevs = json_array();
		rc = iostat_walk_names(w, req);
	}
	if (rc == 0 && req->per_channel) {
		rc = bdev_stat_get_channels(w->names[0], iostat_channels_done, w);
		if (rc == 0) {
			return;
		}
	}
	if (rc != 0) {
		nvt_jsonrpc_send_error(request, rc, "bdev_get_iostat: %s", nvt_strerror(rc));
		if (w != NULL) {
			iostat_walk_free(w);
		}
		return;
	}
	iostat_walk_next(w);
}

static void
rpc_bdev_get_iostat(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct rpc_get_iostat req = { 0 };
	size_t count;

	if (!nvt_jsonrpc_decode(request, NULL, params, g_get_iostat_fields,
				NVT_COUNTOF(g_get_iostat_fields), &req)) {
		return;
	}
	if (!iostat_names_ok(request, &req)) {
		goto out;
	}
	count = req.name != NULL ? 1 : req.names != NULL ? json_array_size(req.names) : 0;
	if (req.per_channel && count != 1) {
		nvt_jsonrpc_send_field_error(request, "per_channel",
					     "needs exactly one bdev name ('name' or 'names')");
		goto out;
	}
	iostat_start(request, &req);
out:
	nvt_json_free_strings(g_get_iostat_fields, NVT_COUNTOF(g_get_iostat_fields), &req);
}
NVT_RPC_REGISTER("bdev_get_iostat", rpc_bdev_get_iostat, NVT_RPC_RUNTIME)

/* ---- bdev_enable_histogram ---- */

struct rpc_enable_histogram {
	char *name;
	bool enable;
	char *opc;
	uint32_t granularity;
	uint64_t min_nsec;
	uint64_t max_nsec;
};

static const struct nvt_json_field g_enable_histogram_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct rpc_enable_histogram, name), false },
	{ "enable", NVT_JSON_BOOL, offsetof(struct rpc_enable_histogram, enable), false },
	{ "opc", NVT_JSON_STRING, offsetof(struct rpc_enable_histogram, opc), true },
	{ "granularity", NVT_JSON_UINT32, offsetof(struct rpc_enable_histogram, granularity),
	  true },
	{ "min_nsec", NVT_JSON_UINT64, offsetof(struct rpc_enable_histogram, min_nsec), true },
	{ "max_nsec", NVT_JSON_UINT64, offsetof(struct rpc_enable_histogram, max_nsec), true },
};

/* SPDK's names of the I/O types nvtcp has. */
static const char *const g_opc_names[NVT_BDEV_NUM_IO_TYPES] = {
	[NVT_BDEV_IO_TYPE_READ] = "read",
	[NVT_BDEV_IO_TYPE_WRITE] = "write",
	[NVT_BDEV_IO_TYPE_FLUSH] = "flush",
	[NVT_BDEV_IO_TYPE_WRITE_ZEROES] = "write_zeroes",
	[NVT_BDEV_IO_TYPE_UNMAP] = "unmap",
	[NVT_BDEV_IO_TYPE_COMPARE] = "compare",
	[NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE] = "compare_and_write",
};

static int
opc_to_io_type(const char *opc)
{
	int t;

	for (t = 0; t < NVT_BDEV_NUM_IO_TYPES; t++) {
		if (strcmp(opc, g_opc_names[t]) == 0) {
			return t;
		}
	}
	return -1;
}

static void
enable_histogram_done(void *ctx, int status)
{
	struct nvt_jsonrpc_request *request = ctx;

	if (status != 0) {
		nvt_jsonrpc_send_error(request, status, "bdev_enable_histogram: %s",
				       nvt_strerror(status));
		return;
	}
	nvt_jsonrpc_send_result(request, NULL);
}

/* The options of \p req; false (answered) when one is out of bounds. */
static bool
enable_histogram_opts(struct nvt_jsonrpc_request *request, const struct rpc_enable_histogram *req,
		      struct nvt_bdev_histogram_opts *opts)
{
	nvt_bdev_histogram_opts_init(opts, sizeof(*opts));
	if (req->opc != NULL) {
		opts->io_type = opc_to_io_type(req->opc);
		if (opts->io_type < 0) {
			nvt_jsonrpc_send_field_error(request, "opc",
						     "'%s' is no I/O type of nvtcp's bdevs (read, "
						     "write, flush, write_zeroes, unmap, compare)",
						     req->opc);
			return false;
		}
	}
	if (req->granularity != 0) {
		opts->granularity = req->granularity;
	}
	opts->min_nsec = req->min_nsec;
	if (req->max_nsec != 0) {
		opts->max_nsec = req->max_nsec;
	}
	if (opts->granularity > NVT_HISTOGRAM_GRANULARITY_MAX) {
		nvt_jsonrpc_send_field_error(request, "granularity", "%u is beyond 1 .. %u",
					     opts->granularity, NVT_HISTOGRAM_GRANULARITY_MAX);
		return false;
	}
	if (opts->min_nsec >= opts->max_nsec) {
		nvt_jsonrpc_send_field_error(request, "min_nsec", "must be below max_nsec");
		return false;
	}
	return true;
}

static void
rpc_bdev_enable_histogram(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct rpc_enable_histogram req = { 0 };
	struct nvt_bdev_histogram_opts opts;
	int rc;

	if (!nvt_jsonrpc_decode(request, NULL, params, g_enable_histogram_fields,
				NVT_COUNTOF(g_enable_histogram_fields), &req)) {
		return;
	}
	if (enable_histogram_opts(request, &req, &opts)) {
		rc = nvt_bdev_enable_histogram(req.name, req.enable, &opts, enable_histogram_done,
					       request);
		if (rc != 0) {
			nvt_jsonrpc_send_error(request, rc, "bdev_enable_histogram: bdev '%s': %s",
					       req.name, nvt_strerror(rc));
		}
	}
	nvt_json_free_strings(g_enable_histogram_fields, NVT_COUNTOF(g_enable_histogram_fields),
			      &req);
}
NVT_RPC_REGISTER("bdev_enable_histogram", rpc_bdev_enable_histogram, NVT_RPC_RUNTIME)

/* ---- bdev_get_histogram ---- */

static const char g_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 (with padding) of \p len bytes; NULL when out of memory. */
static char *
base64_encode(const uint8_t *in, size_t len)
{
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;
	uint32_t v;

	if (out == NULL) {
		return NULL;
	}
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*o++ = g_b64[v >> 18];
		*o++ = g_b64[(v >> 12) & 63];
		*o++ = g_b64[(v >> 6) & 63];
		*o++ = g_b64[v & 63];
	}
	if (i < len) {
		v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
		*o++ = g_b64[v >> 18];
		*o++ = g_b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? g_b64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* The buckets as SPDK sends them: little-endian 64-bit counters, in base64. */
static char *
histogram_base64(const struct nvt_histogram *h)
{
	size_t i, n = nvt_histogram_num_buckets(h);
	uint64_t *le = malloc(n * sizeof(uint64_t));
	char *b64;

	if (le == NULL) {
		return NULL;
	}
	for (i = 0; i < n; i++) {
		le[i] = htole64(h->bucket[i]);
	}
	b64 = base64_encode((const uint8_t *)le, n * sizeof(uint64_t));
	free(le);
	return b64;
}

static void
get_histogram_done(void *ctx, int status, const struct nvt_bdev_iostat *stat,
		   const struct nvt_histogram *hist)
{
	struct nvt_jsonrpc_request *request = ctx;
	char *b64;

	(void)stat;
	if (status == 0 && hist == NULL) {
		/* Turned off meanwhile. */
		status = -EFAULT;
	}
	if (status != 0) {
		nvt_jsonrpc_send_error(request, status, "bdev_get_histogram: %s",
				       status == -EFAULT ? "histogram not enabled"
							 : nvt_strerror(status));
		return;
	}
	b64 = histogram_base64(hist);
	if (b64 == NULL) {
		nvt_jsonrpc_send_error(request, -ENOMEM, "bdev_get_histogram: %s",
				       nvt_strerror(ENOMEM));
		return;
	}
	nvt_jsonrpc_send_result(request,
				json_pack("{s:s, s:i, s:i, s:i, s:I}", "histogram", b64,
					  "granularity", (int)hist->granularity, "min_range",
					  (int)hist->min_range, "max_range", (int)hist->max_range,
					  "tsc_rate", (json_int_t)nvt_get_ticks_hz()));
	free(b64);
}

struct rpc_get_histogram {
	char *name;
};

static const struct nvt_json_field g_get_histogram_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct rpc_get_histogram, name), false },
};

static void
rpc_bdev_get_histogram(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct rpc_get_histogram req = { 0 };
	struct nvt_bdev *bdev;
	int rc;

	if (!nvt_jsonrpc_decode(request, NULL, params, g_get_histogram_fields,
				NVT_COUNTOF(g_get_histogram_fields), &req)) {
		return;
	}
	bdev = nvt_bdev_get_by_name(req.name);
	if (bdev == NULL) {
		rc = -ENODEV;
	} else if (!nvt_bdev_histogram_is_enabled(bdev)) {
		nvt_jsonrpc_send_error(request, -EFAULT,
				       "bdev_get_histogram: bdev '%s': histogram not enabled "
				       "(bdev_enable_histogram)",
				       req.name);
		goto out;
	} else {
		rc = nvt_bdev_get_iostat(req.name, get_histogram_done, request);
	}
	if (rc != 0) {
		nvt_jsonrpc_send_error(request, rc, "bdev_get_histogram: bdev '%s': %s", req.name,
				       nvt_strerror(rc));
	}
out:
	nvt_json_free_strings(g_get_histogram_fields, NVT_COUNTOF(g_get_histogram_fields), &req);
}
NVT_RPC_REGISTER("bdev_get_histogram", rpc_bdev_get_histogram, NVT_RPC_RUNTIME)
