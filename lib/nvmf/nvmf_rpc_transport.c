/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvmf_create_transport and nvmf_get_transports, with SPDK's parameters.
 *
 * rpc.py sends the defaults of every transport type it knows with each
 * create (RDMA's no_srq, vfio-user's disable_* switches, ...): those tune
 * other transports and are accepted without effect, as SPDK's TCP transport
 * does. SPDK 26.05 sizes data buffers through its iobuf caches
 * (iobuf_small_cache_size); nvtcp's transport owns its pool, so that field
 * is the per-poll-group cache, as buf_cache_size.
 */
#include <errno.h>
#include <stddef.h>
#include <strings.h>

#include "nvtcp/likely.h"

#include "nvmf_rpc_internal.h"

/* SPDK's "not set" for its cache sizes. */
#define RPC_CACHE_DEFAULT UINT32_MAX

struct rpc_create_transport {
	char *trtype;
	struct nvt_nvmf_transport_opts opts;
	uint16_t max_qpairs_per_ctrlr;
	uint32_t iobuf_small_cache_size;
	uint32_t iobuf_large_cache_size;
};

#define OPT(name, type)                                                             \
	{                                                                           \
#name, type, offsetof(struct rpc_create_transport, opts.name), true \
	}
#define OTHER_TRANSPORT(name) NVT_JSON_SPDK_IGNORED(name, NULL)

static const struct nvt_json_field g_create_transport_fields[] = {
	{ "trtype", NVT_JSON_STRING, offsetof(struct rpc_create_transport, trtype), false },
	NVMF_RPC_TGT_NAME,
	OPT(max_queue_depth, NVT_JSON_UINT16),
	OPT(max_io_qpairs_per_ctrlr, NVT_JSON_UINT16),
	OPT(in_capsule_data_size, NVT_JSON_UINT32),
	OPT(max_io_size, NVT_JSON_UINT32),
	OPT(io_unit_size, NVT_JSON_UINT32),
	OPT(max_aq_depth, NVT_JSON_UINT32),
	OPT(num_shared_buffers, NVT_JSON_UINT32),
	OPT(buf_cache_size, NVT_JSON_UINT32),
	OPT(c2h_success, NVT_JSON_BOOL),
	OPT(sock_priority, NVT_JSON_INT32),
	OPT(abort_timeout_sec, NVT_JSON_UINT32),
	OPT(acceptor_poll_rate, NVT_JSON_UINT32),
	OPT(kas, NVT_JSON_UINT32),
	OPT(min_kato, NVT_JSON_UINT32),
	OPT(max_connections, NVT_JSON_UINT32),
	OPT(max_connections_per_host, NVT_JSON_UINT32),
	OPT(connect_timeout_ms, NVT_JSON_UINT32),
	OPT(pdu_timeout_ms, NVT_JSON_UINT32),
	OPT(max_queued_send, NVT_JSON_UINT32),
	OPT(send_timeout_ms, NVT_JSON_UINT32),
	{ "max_qpairs_per_ctrlr", NVT_JSON_UINT16,
	  offsetof(struct rpc_create_transport, max_qpairs_per_ctrlr), true },
	{ "iobuf_small_cache_size", NVT_JSON_UINT32,
	  offsetof(struct rpc_create_transport, iobuf_small_cache_size), true },
	{ "iobuf_large_cache_size", NVT_JSON_UINT32,
	  offsetof(struct rpc_create_transport, iobuf_large_cache_size), true },
	NVT_JSON_SPDK_DEFAULT("zcopy", "false", "data goes through the transport's buffer pool"),
	NVT_JSON_SPDK_DEFAULT("dif_insert_or_strip", "false",
			      "namespaces carry no protection information"),
	/* Commands never go to an NVMe device here, whatever the switch says. */
	OTHER_TRANSPORT("disable_command_passthru"),
	/* RDMA's. */
	OTHER_TRANSPORT("no_srq"),
	OTHER_TRANSPORT("no_wr_batching"),
	OTHER_TRANSPORT("max_srq_depth"),
	OTHER_TRANSPORT("num_cqe"),
	OTHER_TRANSPORT("acceptor_backlog"),
	OTHER_TRANSPORT("ack_timeout"),
	OTHER_TRANSPORT("data_wr_pool_size"),
	OTHER_TRANSPORT("control_msg_num"),
	/* vfio-user's. */
	OTHER_TRANSPORT("disable_mappable_bar0"),
	OTHER_TRANSPORT("disable_adaptive_irq"),
	OTHER_TRANSPORT("disable_shadow_doorbells"),
};

static void
create_transport_done(void *ctx, int status)
{
	struct nvt_jsonrpc_request *req = ctx;

	if (status != 0) {
		nvmf_rpc_send_errno(req, "creating the transport", status);
		return;
	}
	nvt_jsonrpc_send_result(req, NULL);
}

/* SPDK's spellings of the buffer cache; answers and returns false when they disagree. */
static bool
cache_sizes_apply(struct nvt_jsonrpc_request *req, const json_t *params,
		  struct rpc_create_transport *p, uint32_t groups)
{
	if (p->iobuf_small_cache_size != RPC_CACHE_DEFAULT) {
		if (json_object_get(params, "buf_cache_size") != NULL &&
		    p->opts.buf_cache_size != p->iobuf_small_cache_size) {
			nvt_jsonrpc_send_field_error(req, "iobuf_small_cache_size",
						     "%u differs from buf_cache_size %u (the "
						     "same cache)",
						     p->iobuf_small_cache_size,
						     p->opts.buf_cache_size);
			return false;
		}
		p->opts.buf_cache_size = p->iobuf_small_cache_size;
	}
	if (p->iobuf_large_cache_size != RPC_CACHE_DEFAULT) {
		nvt_jsonrpc_notice_once(req, "'iobuf_large_cache_size'",
					"the transport's buffers have one size (io_unit_size); a "
					"large I/O takes several, cached as buf_cache_size");
	}
	if (p->opts.buf_cache_size == RPC_CACHE_DEFAULT) {
		/* SPDK's "pick one": 3/4 of the pool, split between the poll groups. */
		p->opts.buf_cache_size = (uint32_t)((uint64_t)p->opts.num_shared_buffers * 3 / 4 /
						    (groups != 0 ? groups : 1));
	}
	return true;
}

static void
rpc_create_transport_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_create_transport p = { .iobuf_small_cache_size = RPC_CACHE_DEFAULT,
					  .iobuf_large_cache_size = RPC_CACHE_DEFAULT };
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	const char *trtype = json_string_value(json_object_get(params, "trtype"));
	const char *bad;
	char why[128];
	int rc;

	if (trtype == NULL ||
	    nvt_nvmf_transport_get_default_opts(trtype, &p.opts, sizeof(p.opts)) != 0) {
		nvt_jsonrpc_send_field_error(req, "trtype",
					     "unknown transport type (TCP is served)");
		return;
	}
	if (tgt->opts.acceptor_poll_rate != 0) {
		p.opts.acceptor_poll_rate = tgt->opts.acceptor_poll_rate;
	}
	if (!nvt_jsonrpc_decode(req, NULL, params, g_create_transport_fields,
				NVT_COUNTOF(g_create_transport_fields), &p)) {
		return;
	}
	nvt_json_free_strings(g_create_transport_fields, NVT_COUNTOF(g_create_transport_fields),
			      &p);
	if (p.max_qpairs_per_ctrlr > 1 &&
	    json_object_get(params, "max_io_qpairs_per_ctrlr") == NULL) {
		p.opts.max_io_qpairs_per_ctrlr = (uint16_t)(p.max_qpairs_per_ctrlr - 1);
	}
	if (!cache_sizes_apply(req, params, &p, tgt->num_groups)) {
		return;
	}
	bad = nvmf_transport_opts_check(&p.opts, tgt->num_groups, why, sizeof(why));
	if (bad != NULL) {
		nvt_jsonrpc_send_field_error(req, bad, "%s", why);
		return;
	}
	rc = nvt_nvmf_transport_create(trtype, &p.opts, create_transport_done, req);
	if (rc == -EEXIST) {
		nvt_jsonrpc_send_field_error(req, "trtype", "transport already created");
	} else if (rc != 0) {
		nvmf_rpc_send_errno(req, "creating the transport", rc);
	}
}
NVMF_RPC_REGISTER("nvmf_create_transport", rpc_create_transport_run)

/* nvtcp's limits against misbehaving hosts. */
static void
limits_to_json(const struct nvt_nvmf_transport_opts *o, json_t *obj)
{
	const struct {
		const char *name;
		uint32_t value;
	} limits[] = {
		{ "max_connections", o->max_connections },
		{ "max_connections_per_host", o->max_connections_per_host },
		{ "connect_timeout_ms", o->connect_timeout_ms },
		{ "pdu_timeout_ms", o->pdu_timeout_ms },
		{ "max_queued_send", o->max_queued_send },
		{ "send_timeout_ms", o->send_timeout_ms },
	};
	size_t i;

	for (i = 0; i < NVT_COUNTOF(limits); i++) {
		json_object_set_new(obj, limits[i].name, json_integer(limits[i].value));
	}
}

json_t *
nvmf_rpc_transport_to_json(const struct nvmf_transport *transport, bool config)
{
	const struct nvt_nvmf_transport_opts *o = &transport->opts;
	json_t *obj;

	/* nvtcp's options, then SPDK's (their values here) so that its tools find them. */
	obj = json_pack(
		"{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:i, s:i, s:i, s:i, "
		"s:i, s:I, s:I, s:b, s:b, s:i, s:i, s:b}",
		"trtype", transport->ops->name, "max_queue_depth", o->max_queue_depth,
		"max_io_qpairs_per_ctrlr", o->max_io_qpairs_per_ctrlr, "in_capsule_data_size",
		o->in_capsule_data_size, "max_io_size", o->max_io_size, "io_unit_size",
		o->io_unit_size, "max_aq_depth", o->max_aq_depth, "num_shared_buffers",
		o->num_shared_buffers, "buf_cache_size", o->buf_cache_size, "c2h_success",
		o->c2h_success, "sock_priority", o->sock_priority, "abort_timeout_sec",
		o->abort_timeout_sec, "acceptor_poll_rate", o->acceptor_poll_rate, "kas", o->kas,
		"min_kato", o->min_kato, "iobuf_small_cache_size", (json_int_t)o->buf_cache_size,
		"iobuf_large_cache_size", (json_int_t)RPC_CACHE_DEFAULT, "dif_insert_or_strip",
		o->dif_insert_or_strip, "zcopy", o->zcopy, "ack_timeout", 0, "data_wr_pool_size", 0,
		"disable_command_passthru", false);
	if (obj != NULL) {
		limits_to_json(o, obj);
	}
	if (obj != NULL && !config && transport->ops->dump_opts != NULL) {
		transport->ops->dump_opts((struct nvmf_transport *)transport, obj);
	}
	return obj;
}

struct rpc_get_transports {
	char *trtype;
};

static const struct nvt_json_field g_get_transports_fields[] = {
	{ "trtype", NVT_JSON_STRING, offsetof(struct rpc_get_transports, trtype), true },
	NVMF_RPC_TGT_NAME,
};

static void
rpc_get_transports_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_get_transports p = { 0 };
	struct nvmf_transport *transport;
	json_t *list;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_get_transports_fields,
				NVT_COUNTOF(g_get_transports_fields), &p)) {
		return;
	}
	list = json_array();
	TAILQ_FOREACH(transport, &nvmf_tgt_get()->transports, link) {
		if (p.trtype == NULL || strcasecmp(p.trtype, transport->ops->name) == 0) {
			json_array_append_new(list, nvmf_rpc_transport_to_json(transport, false));
		}
	}
	if (p.trtype != NULL && json_array_size(list) == 0) {
		json_decref(list);
		nvt_jsonrpc_send_field_error(req, "trtype", "no such transport");
	} else {
		nvt_jsonrpc_send_result(req, list);
	}
	nvt_json_free_strings(g_get_transports_fields, NVT_COUNTOF(g_get_transports_fields), &p);
}
NVMF_RPC_REGISTER("nvmf_get_transports", rpc_get_transports_run)
