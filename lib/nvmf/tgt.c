/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The target: poll groups (one thread per core), transports with their
 * data buffer pools and accept pollers, placement of new queue pairs, and
 * the orderly shutdown.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"

#include "nvmf_internal.h"

#define NVMF_MAX_TRANSPORT_OPS 4

static struct nvt_nvmf_tgt *g_tgt;
static const struct nvmf_transport_ops *g_transport_ops[NVMF_MAX_TRANSPORT_OPS];
static uint32_t g_num_transport_ops;

void
nvmf_transport_register(const struct nvmf_transport_ops *ops)
{
	if (g_num_transport_ops < NVMF_MAX_TRANSPORT_OPS) {
		g_transport_ops[g_num_transport_ops++] = ops;
	}
}

const struct nvmf_transport_ops *
nvmf_transport_find_ops(const char *name)
{
	uint32_t i;

	for (i = 0; i < g_num_transport_ops; i++) {
		if (strcasecmp(g_transport_ops[i]->name, name) == 0) {
			return g_transport_ops[i];
		}
	}
	return NULL;
}

struct nvt_nvmf_tgt *
nvmf_tgt_get(void)
{
	return g_tgt;
}

struct nvt_nvmf_tgt *
nvt_nvmf_get_tgt(void)
{
	return g_tgt;
}

void
nvt_nvmf_tgt_opts_init(struct nvt_nvmf_tgt_opts *opts, size_t opts_size)
{
	memset(opts, 0, opts_size);
	opts->opts_size = opts_size;
	opts->max_subsystems = 1024;
	opts->discovery_kato_ms = 0;
	opts->dhchap_digests = (1u << NVT_NVMF_DHCHAP_NUM_DIGESTS) - 1;
	opts->dhchap_dhgroups = (1u << NVT_NVMF_DHCHAP_NUM_DHGROUPS) - 1;
}

/* Options for the next target; set before it exists (nvmf_set_config). */
static struct nvt_nvmf_tgt_opts g_next_opts;
static bool g_next_opts_set;

static void
opts_copy(struct nvt_nvmf_tgt_opts *dst, const struct nvt_nvmf_tgt_opts *src)
{
	size_t n = src->opts_size < sizeof(*dst) ? src->opts_size : sizeof(*dst);

	nvt_nvmf_tgt_opts_init(dst, sizeof(*dst));
	memcpy(dst, src, n);
	dst->opts_size = sizeof(*dst);
	dst->poll_groups_mask[sizeof(dst->poll_groups_mask) - 1] = '\0';
}

void
nvt_nvmf_tgt_get_opts(struct nvt_nvmf_tgt_opts *opts, size_t opts_size)
{
	struct nvt_nvmf_tgt_opts o;

	if (g_tgt != NULL) {
		o = g_tgt->opts;
	} else if (g_next_opts_set) {
		o = g_next_opts;
	} else {
		nvt_nvmf_tgt_opts_init(&o, sizeof(o));
	}
	memcpy(opts, &o, opts_size < sizeof(o) ? opts_size : sizeof(o));
	opts->opts_size = opts_size;
}

int
nvt_nvmf_tgt_set_opts(const struct nvt_nvmf_tgt_opts *opts)
{
	struct nvt_nvmf_tgt_opts o;
	struct nvt_cpuset mask;

	opts_copy(&o, opts);
	if (o.max_subsystems == 0 ||
	    (o.poll_groups_mask[0] != '\0' && nvt_cpuset_parse(&mask, o.poll_groups_mask) != 0)) {
		return -EINVAL;
	}
	if (g_tgt == NULL) {
		g_next_opts = o;
		g_next_opts_set = true;
		return 0;
	}
	if (o.max_subsystems != g_tgt->opts.max_subsystems ||
	    strcmp(o.poll_groups_mask, g_tgt->opts.poll_groups_mask) != 0) {
		return -EBUSY;
	}
	g_tgt->opts.discovery_kato_ms = o.discovery_kato_ms;
	g_tgt->opts.acceptor_poll_rate = o.acceptor_poll_rate;
	return 0;
}

static void
tgt_set_state(struct nvt_nvmf_tgt *tgt, enum nvmf_tgt_state state)
{
	assert(state >= tgt->state);
	tgt->state = state;
}

/* ---- poll groups ---- */

static int
poll_group_poll(void *ctx)
{
	struct nvmf_poll_group *group = ctx;
	struct nvmf_transport_poll_group *tgroup;
	int rc = NVT_POLLER_IDLE;

	TAILQ_FOREACH(tgroup, &group->tgroups, link) {
		if (tgroup->transport->ops->poll_group_poll(tgroup) == NVT_POLLER_BUSY) {
			rc = NVT_POLLER_BUSY;
		}
	}
	return rc;
}

static int
poll_group_add_transport(struct nvmf_poll_group *group, struct nvmf_transport *transport)
{
	struct nvmf_transport_poll_group *tgroup;
	struct nvt_iobuf_cache *cache = NULL;
	char name[64];
	int rc;

	snprintf(name, sizeof(name), "nvmf_%s_%u", transport->ops->name, group->index);
	rc = nvt_iobuf_cache_create(transport->data_buf_pool, transport->opts.buf_cache_size, name,
				    &cache);
	if (rc != 0) {
		NVT_ERRLOG("poll group %u: iobuf cache of %u: rc %d (%s)\n", group->index,
			   transport->opts.buf_cache_size, rc, nvt_strerror(-rc));
		return rc;
	}
	tgroup = transport->ops->poll_group_create(transport);
	if (tgroup == NULL) {
		nvt_iobuf_cache_destroy(&cache);
		return -ENOMEM;
	}
	tgroup->transport = transport;
	tgroup->group = group;
	tgroup->buf_cache = cache;
	TAILQ_INSERT_TAIL(&group->tgroups, tgroup, link);
	return 0;
}

static void
poll_group_destroy_tgroups(struct nvmf_poll_group *group)
{
	struct nvmf_transport_poll_group *tgroup;
	struct nvt_iobuf_cache *cache;

	while ((tgroup = TAILQ_FIRST(&group->tgroups)) != NULL) {
		TAILQ_REMOVE(&group->tgroups, tgroup, link);
		cache = tgroup->buf_cache;
		tgroup->transport->ops->poll_group_destroy(tgroup);
		nvt_iobuf_cache_destroy(&cache);
	}
}

static void
tgt_step_done(void *ctx)
{
	struct nvt_nvmf_tgt *tgt = ctx;
	nvt_nvmf_done_cb cb = tgt->cb;

	assert(tgt->pending > 0);
	if (--tgt->pending > 0) {
		return;
	}
	tgt->cb = NULL;
	if (tgt->state == NVMF_TGT_INITIALIZING) {
		tgt_set_state(tgt, NVMF_TGT_RUNNING);
	}
	if (cb != NULL) {
		cb(tgt->cb_ctx, 0);
	}
}

static void
poll_group_start(void *ctx)
{
	struct nvmf_poll_group *group = ctx;
	struct nvt_nvmf_tgt *tgt = group->tgt;

	group->thread = nvt_get_thread();
	group->sgroups = calloc(tgt->opts.max_subsystems, sizeof(*group->sgroups));
	group->poller = nvt_poller_register(poll_group_poll, group, 0, "nvmf_poll_group");
	if (group->sgroups == NULL || group->poller == NULL) {
		NVT_ERRLOG("poll group %u: out of memory\n", group->index);
	}
	nvmf_send_msg(tgt->thread, &group->step_msg, tgt_step_done, tgt, "poll group start");
}

static int
tgt_create_poll_group(struct nvt_nvmf_tgt *tgt, uint32_t core, uint32_t index)
{
	struct nvmf_poll_group *group;
	struct nvt_cpuset mask;
	char name[NVT_THREAD_NAME_LEN];
	struct nvt_thread *thread;

	group = calloc(1, sizeof(*group));
	if (group == NULL) {
		return -ENOMEM;
	}
	group->tgt = tgt;
	group->index = index;
	TAILQ_INIT(&group->tgroups);
	TAILQ_INIT(&group->qpairs);
	nvt_cpuset_zero(&mask);
	nvt_cpuset_set_cpu(&mask, core, true);
	snprintf(name, sizeof(name), "nvmf_tgt_poll_group_%u", index);
	thread = nvt_thread_create(name, &mask);
	if (thread == NULL) {
		free(group);
		return -ENOMEM;
	}
	group->thread = thread;
	tgt->groups[index] = group;
	tgt->pending++;
	return nvmf_send_msg(thread, &group->step_msg, poll_group_start, group, "poll group start");
}

static int
tgt_alloc(const struct nvt_nvmf_tgt_opts *opts, uint32_t num_groups)
{
	struct nvt_nvmf_tgt *tgt;

	tgt = calloc(1, sizeof(*tgt));
	if (tgt == NULL) {
		return -ENOMEM;
	}
	if (opts != NULL) {
		opts_copy(&tgt->opts, opts);
	} else {
		nvt_nvmf_tgt_get_opts(&tgt->opts, sizeof(tgt->opts));
	}
	tgt->thread = nvt_get_thread();
	tgt->groups = calloc(num_groups, sizeof(*tgt->groups));
	tgt->subsystem_ids = calloc(tgt->opts.max_subsystems, sizeof(*tgt->subsystem_ids));
	if (tgt->groups == NULL || tgt->subsystem_ids == NULL || tgt->opts.max_subsystems == 0) {
		free(tgt->groups);
		free(tgt->subsystem_ids);
		free(tgt);
		return -ENOMEM;
	}
	TAILQ_INIT(&tgt->transports);
	TAILQ_INIT(&tgt->listeners);
	TAILQ_INIT(&tgt->subsystems);
	TAILQ_INIT(&tgt->referrals);
	tgt->next_portid = 1;
	g_tgt = tgt;
	return 0;
}

int
nvmf_tgt_init_mask(const struct nvt_nvmf_tgt_opts *opts, const struct nvt_cpuset *mask,
		   nvt_nvmf_done_cb cb, void *ctx)
{
	struct nvt_nvmf_tgt *tgt;
	uint32_t index = 0;
	int32_t core;
	int rc;

	if (g_tgt != NULL) {
		return -EEXIST;
	}
	nvmf_rpc_register_config();
	rc = tgt_alloc(opts, nvt_cpuset_count(mask));
	if (rc != 0) {
		return rc;
	}
	tgt = g_tgt;
	rc = nvmf_subsystem_create_internal(tgt, NVT_NVMF_DISCOVERY_NQN, NVT_NVMF_SUBTYPE_DISCOVERY,
					    0, &tgt->discovery);
	if (rc != 0) {
		return rc;
	}
	nvt_nvmf_subsystem_set_allow_any_host(tgt->discovery, true);
	tgt->cb = cb;
	tgt->cb_ctx = ctx;
	/* Hold one step so groups finishing early do not complete the init. */
	tgt->pending = 1;
	NVT_CPUSET_FOREACH(core, mask)
	{
		rc = tgt_create_poll_group(tgt, (uint32_t)core, index);
		if (rc != 0) {
			return rc;
		}
		tgt->num_groups = ++index;
	}
	tgt_step_done(tgt);
	return 0;
}

int
nvt_nvmf_tgt_init(const struct nvt_nvmf_tgt_opts *opts, nvt_nvmf_done_cb cb, void *ctx)
{
	struct nvt_nvmf_tgt_opts o;
	struct nvt_cpuset mask, groups;

	if (opts == NULL) {
		nvt_nvmf_tgt_get_opts(&o, sizeof(o));
		opts = &o;
	}
	mask = opts->cores;
	if (nvt_cpuset_count(&mask) == 0) {
		NVT_ERRLOG("target: no cores given to run poll groups on\n");
		return -EINVAL;
	}
	if (opts->poll_groups_mask[0] != '\0') {
		if (nvt_cpuset_parse(&groups, opts->poll_groups_mask) != 0) {
			return -EINVAL;
		}
		nvt_cpuset_and(&mask, &groups);
	}
	if (nvt_cpuset_count(&mask) == 0) {
		NVT_ERRLOG("poll_groups_mask %s names none of the target's cores\n",
			   opts->poll_groups_mask);
		return -EINVAL;
	}
	return nvmf_tgt_init_mask(opts, &mask, cb, ctx);
}

/* ---- for each poll group ---- */

struct pg_iter;

/* One poll group's part: its message goes there and back. */
struct pg_iter_slot {
	struct pg_iter *it;
	struct nvmf_poll_group *group;
	struct nvt_thread_msg msg;
};

struct pg_iter {
	struct nvt_nvmf_tgt *tgt;
	void (*fn)(struct nvmf_poll_group *group, void *arg);
	void (*done)(void *arg);
	void *arg;
	uint32_t left;
	struct pg_iter_slot slots[]; /* one per poll group */
};

static void
pg_iter_step_done(void *ctx)
{
	struct pg_iter *it = ctx;

	if (--it->left == 0) {
		if (it->done != NULL) {
			it->done(it->arg);
		}
		free(it);
	}
}

static void
pg_iter_run(void *ctx)
{
	struct pg_iter_slot *slot = ctx;
	struct pg_iter *it = slot->it;

	it->fn(slot->group, it->arg);
	nvmf_send_msg(it->tgt->thread, &slot->msg, pg_iter_step_done, it, "poll group update");
}

/* Run fn on every poll group's thread, then done on the app thread. */
void
nvmf_tgt_for_each_group(struct nvt_nvmf_tgt *tgt, void (*fn)(struct nvmf_poll_group *, void *),
			void (*done)(void *), void *arg)
{
	struct pg_iter *it = calloc(1, sizeof(*it) + tgt->num_groups * sizeof(it->slots[0]));
	struct pg_iter_slot *slot;
	uint32_t i;

	if (it == NULL) {
		NVT_ERRLOG("out of memory updating poll groups\n");
		if (done != NULL) {
			done(arg);
		}
		return;
	}
	*it = (struct pg_iter){ .tgt = tgt, .fn = fn, .done = done, .arg = arg, .left = 1 };
	for (i = 0; i < tgt->num_groups; i++) {
		slot = &it->slots[i];
		slot->it = it;
		slot->group = tgt->groups[i];
		/* A group that cannot be reached is logged, and not waited for. */
		if (nvmf_send_msg(slot->group->thread, &slot->msg, pg_iter_run, slot,
				  "poll group update") == 0) {
			it->left++;
		}
	}
	pg_iter_step_done(it);
}

/* ---- transports ---- */

void
nvt_nvmf_transport_opts_init(struct nvt_nvmf_transport_opts *opts, size_t opts_size)
{
	memset(opts, 0, opts_size);
	opts->opts_size = opts_size;
	opts->max_queue_depth = 128;
	opts->max_io_qpairs_per_ctrlr = 127;
	opts->max_aq_depth = 128;
	opts->in_capsule_data_size = 4096;
	opts->max_io_size = 131072;
	opts->io_unit_size = 8192;
	opts->num_shared_buffers = 4095;
	opts->buf_cache_size = 32;
	opts->c2h_success = true;
	opts->sock_priority = 0;
	opts->abort_timeout_sec = 1;
	opts->zcopy = false;
	opts->dif_insert_or_strip = false;
	opts->acceptor_poll_rate = 10000;
	opts->kas = 10;
	opts->min_kato = 0;
	opts->max_connections = 4096;
	opts->max_connections_per_host = 1024;
	opts->connect_timeout_ms = 10000;
	opts->pdu_timeout_ms = 30000;
	opts->max_queued_send = 4u << 20;
	opts->send_timeout_ms = 30000;
}

int
nvt_nvmf_transport_get_default_opts(const char *trtype, struct nvt_nvmf_transport_opts *opts,
				    size_t opts_size)
{
	const struct nvmf_transport_ops *ops = nvmf_transport_find_ops(trtype);
	struct nvt_nvmf_transport_opts o;

	if (ops == NULL) {
		return -ENOENT;
	}
	nvt_nvmf_transport_opts_init(&o, sizeof(o));
	if (ops->opts_init != NULL) {
		ops->opts_init(&o);
	}
	memcpy(opts, &o, opts_size < sizeof(o) ? opts_size : sizeof(o));
	opts->opts_size = opts_size;
	return 0;
}

/* Each check: the field, whether the value is wrong, and what is allowed. */
static const char *opts_bad(char *why, size_t len, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static const char *
opts_bad(char *why, size_t len, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return field;
}

/* The queue sizes and I/O sizes; the buffer pool is checked after. */
static const char *
opts_check_sizes(const struct nvt_nvmf_transport_opts *o, char *why, size_t len)
{
	if (o->max_queue_depth < NVT_NVMF_MIN_QUEUE_DEPTH) {
		return opts_bad(why, len, "max_queue_depth", "%u is below %u", o->max_queue_depth,
				NVT_NVMF_MIN_QUEUE_DEPTH);
	}
	if (o->max_aq_depth < NVT_NVMF_MIN_ADMIN_QUEUE_ENTRIES ||
	    o->max_aq_depth > NVT_NVMF_MAX_AQ_DEPTH) {
		return opts_bad(why, len, "max_aq_depth", "%u is not within %u..%u",
				o->max_aq_depth, NVT_NVMF_MIN_ADMIN_QUEUE_ENTRIES,
				NVT_NVMF_MAX_AQ_DEPTH);
	}
	if (o->max_io_qpairs_per_ctrlr < 1 ||
	    o->max_io_qpairs_per_ctrlr > NVT_NVMF_MAX_IO_QPAIRS_PER_CTRLR) {
		return opts_bad(why, len, "max_io_qpairs_per_ctrlr", "%u is not within 1..%u",
				o->max_io_qpairs_per_ctrlr, NVT_NVMF_MAX_IO_QPAIRS_PER_CTRLR);
	}
	if (o->in_capsule_data_size > NVT_NVMF_MAX_IN_CAPSULE_DATA_SIZE ||
	    o->in_capsule_data_size % NVT_NVMF_IN_CAPSULE_DATA_ALIGN != 0) {
		return opts_bad(why, len, "in_capsule_data_size",
				"%u is not a multiple of %u up to %u", o->in_capsule_data_size,
				NVT_NVMF_IN_CAPSULE_DATA_ALIGN, NVT_NVMF_MAX_IN_CAPSULE_DATA_SIZE);
	}
	if (o->io_unit_size == 0 || o->io_unit_size % NVT_NVMF_IO_UNIT_ALIGN != 0) {
		return opts_bad(why, len, "io_unit_size", "%u is not a multiple of %u",
				o->io_unit_size, NVT_NVMF_IO_UNIT_ALIGN);
	}
	if (o->max_io_size < NVT_NVMF_IO_UNIT_ALIGN ||
	    o->max_io_size % NVT_NVMF_IO_UNIT_ALIGN != 0 ||
	    o->max_io_size / o->io_unit_size > NVMF_REQ_MAX_IOVS) {
		return opts_bad(why, len, "max_io_size",
				"%u is not a multiple of %u of at most %u io_unit_size buffers",
				o->max_io_size, NVT_NVMF_IO_UNIT_ALIGN, NVMF_REQ_MAX_IOVS);
	}
	return NULL;
}

const char *
nvmf_transport_opts_check(const struct nvt_nvmf_transport_opts *o, uint32_t groups, char *why,
			  size_t len)
{
	const char *bad = opts_check_sizes(o, why, len);

	if (bad != NULL) {
		return bad;
	}
	if (o->zcopy || o->dif_insert_or_strip) {
		return opts_bad(why, len, o->zcopy ? "zcopy" : "dif_insert_or_strip",
				"not supported (false only)");
	}
	if (o->acceptor_poll_rate == 0) {
		return opts_bad(why, len, "acceptor_poll_rate", "must not be 0");
	}
	if (o->kas == 0 || o->kas > NVT_NVMF_MAX_KAS) {
		return opts_bad(why, len, "kas", "%u is not within 1..%u", o->kas,
				NVT_NVMF_MAX_KAS);
	}
	if ((uint64_t)o->num_shared_buffers < (uint64_t)groups * o->buf_cache_size ||
	    o->num_shared_buffers < o->max_io_size / o->io_unit_size) {
		return opts_bad(why, len, "num_shared_buffers",
				"%u is fewer than %u poll groups x buf_cache_size %u, or than one "
				"largest I/O",
				o->num_shared_buffers, groups, o->buf_cache_size);
	}
	return NULL;
}

struct nvmf_transport *
nvmf_tgt_find_transport(struct nvt_nvmf_tgt *tgt, const char *trtype)
{
	struct nvmf_transport *transport;

	TAILQ_FOREACH(transport, &tgt->transports, link) {
		if (strcasecmp(transport->ops->name, trtype) == 0) {
			return transport;
		}
	}
	return NULL;
}

static int
accept_poll(void *ctx)
{
	struct nvmf_transport *transport = ctx;

	return transport->ops->accept(transport) > 0 ? NVT_POLLER_BUSY : NVT_POLLER_IDLE;
}

static void
transport_group_add(void *ctx)
{
	struct nvmf_poll_group *group = ctx;
	struct nvt_nvmf_tgt *tgt = group->tgt;

	poll_group_add_transport(group, tgt->new_transport);
	nvmf_send_msg(tgt->thread, &group->step_msg, tgt_step_done, tgt, "transport start");
}

static int
transport_setup(struct nvt_nvmf_tgt *tgt, const struct nvmf_transport_ops *ops,
		const struct nvt_nvmf_transport_opts *opts, struct nvmf_transport **out)
{
	struct nvmf_transport *transport;
	char name[64];
	int rc;

	rc = ops->create(opts, &transport);
	if (rc != 0) {
		return rc;
	}
	transport->ops = ops;
	transport->opts = *opts;
	snprintf(name, sizeof(name), "nvmf_%s_data", ops->name);
	rc = nvt_iobuf_pool_create(name, opts->num_shared_buffers, opts->io_unit_size,
				   &transport->data_buf_pool);
	if (rc != 0) {
		ops->destroy(transport);
		return rc;
	}
	transport->accept_poller = nvt_poller_register(accept_poll, transport,
						       opts->acceptor_poll_rate, "nvmf_accept");
	if (transport->accept_poller != NULL) {
		/* The listening sockets wake the thread: no wakeups while idle. */
		nvt_poller_no_wakeup(transport->accept_poller);
	}
	TAILQ_INSERT_TAIL(&tgt->transports, transport, link);
	*out = transport;
	return 0;
}

int
nvt_nvmf_transport_create(const char *trtype, const struct nvt_nvmf_transport_opts *opts,
			  nvt_nvmf_done_cb cb, void *ctx)
{
	struct nvt_nvmf_tgt *tgt = g_tgt;
	const struct nvmf_transport_ops *ops;
	struct nvmf_transport *transport;
	struct nvt_nvmf_transport_opts o;
	const char *bad;
	char why[128];
	uint32_t i;
	int rc;

	ops = nvmf_transport_find_ops(trtype);
	if (tgt == NULL || ops == NULL) {
		return -ENOENT;
	}
	if (nvmf_tgt_find_transport(tgt, trtype) != NULL) {
		return -EEXIST;
	}
	nvt_nvmf_transport_get_default_opts(trtype, &o, sizeof(o));
	memcpy(&o, opts, opts->opts_size < sizeof(o) ? opts->opts_size : sizeof(o));
	o.opts_size = sizeof(o);
	bad = nvmf_transport_opts_check(&o, tgt->num_groups, why, sizeof(why));
	if (bad != NULL) {
		NVT_ERRLOG("transport %s: option %s: %s\n", ops->name, bad, why);
		return -EINVAL;
	}
	rc = transport_setup(tgt, ops, &o, &transport);
	if (rc != 0) {
		return rc;
	}
	tgt->cb = cb;
	tgt->cb_ctx = ctx;
	tgt->new_transport = transport;
	tgt->pending = 1;
	for (i = 0; i < tgt->num_groups; i++) {
		/* A group that cannot be reached is logged, and not waited for. */
		if (nvmf_send_msg(tgt->groups[i]->thread, &tgt->groups[i]->step_msg,
				  transport_group_add, tgt->groups[i], "transport start") == 0) {
			tgt->pending++;
		}
	}
	tgt_step_done(tgt);
	return 0;
}

/* ---- listeners ---- */

struct nvmf_listener *
nvmf_tgt_find_listener(struct nvt_nvmf_tgt *tgt, const struct nvt_nvmf_trid *trid)
{
	struct nvmf_listener *l;

	TAILQ_FOREACH(l, &tgt->listeners, link) {
		if (nvt_nvmf_trid_equal(&l->trid, trid)) {
			return l;
		}
	}
	return NULL;
}

int
nvmf_tgt_listen(struct nvt_nvmf_tgt *tgt, const struct nvt_nvmf_trid *trid, bool secure,
		struct nvmf_transport **out)
{
	const struct nvmf_listen_opts opts = { .secure_channel = secure,
					       .psk_find = nvmf_psk_find };
	struct nvmf_transport *transport;
	struct nvmf_listener *l;
	int rc;

	l = nvmf_tgt_find_listener(tgt, trid);
	if (l != NULL) {
		if (l->secure_channel != secure) {
			NVT_ERRLOG("%s:%s already serves %s: it cannot also serve %s\n",
				   trid->traddr, trid->trsvcid, secure ? "plain TCP" : "TLS only",
				   secure ? "TLS only" : "plain TCP");
			return -EINVAL;
		}
		l->refs++;
		*out = l->transport;
		return 0;
	}
	transport = nvmf_tgt_find_transport(tgt, nvt_nvmf_trtype_str(trid->trtype));
	if (transport == NULL) {
		return -ENOENT;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return -ENOMEM;
	}
	rc = transport->ops->listen(transport, trid, &opts);
	if (rc != 0) {
		free(l);
		return rc;
	}
	l->trid = *trid;
	l->secure_channel = secure;
	l->transport = transport;
	l->refs = 1;
	l->portid = tgt->next_portid++;
	TAILQ_INSERT_TAIL(&tgt->listeners, l, link);
	NVT_NOTICELOG("listening on %s %s:%s%s\n", nvt_nvmf_trtype_str(trid->trtype), trid->traddr,
		      trid->trsvcid, secure ? " (TLS only)" : "");
	*out = transport;
	return 0;
}

void
nvmf_tgt_stop_listen(struct nvt_nvmf_tgt *tgt, const struct nvt_nvmf_trid *trid)
{
	struct nvmf_listener *l = nvmf_tgt_find_listener(tgt, trid);

	if (l == NULL || --l->refs > 0) {
		return;
	}
	TAILQ_REMOVE(&tgt->listeners, l, link);
	l->transport->ops->stop_listen(l->transport, &l->trid);
	free(l);
}

/* ---- queue pair placement ---- */

static struct nvmf_poll_group *
tgt_optimal_group(struct nvt_nvmf_tgt *tgt)
{
	struct nvmf_poll_group *best = NULL, *group;
	uint32_t i, n, best_n = UINT32_MAX;

	/* Start after the last choice so ties rotate. */
	for (i = 0; i < tgt->num_groups; i++) {
		group = tgt->groups[(tgt->next_group + i) % tgt->num_groups];
		n = __atomic_load_n(&group->num_qpairs, __ATOMIC_RELAXED);
		if (n < best_n) {
			best = group;
			best_n = n;
		}
	}
	tgt->next_group = (best->index + 1) % tgt->num_groups;
	return best;
}

static void
qpair_add_msg(void *ctx)
{
	struct nvmf_qpair *qpair = ctx;

	nvmf_poll_group_add_qpair(qpair->group, qpair);
}

void
nvmf_transport_new_qpair(struct nvmf_transport *transport, struct nvmf_qpair *qpair)
{
	struct nvt_nvmf_tgt *tgt = g_tgt;
	struct nvmf_poll_group *group;

	qpair->transport = transport;
	if (tgt == NULL || tgt->state != NVMF_TGT_RUNNING || tgt->num_groups == 0) {
		transport->ops->qpair_fini(qpair, NULL, NULL);
		return;
	}
	group = tgt_optimal_group(tgt);
	__atomic_fetch_add(&group->num_qpairs, 1, __ATOMIC_RELAXED);
	qpair->group = group;
	memset(&qpair->msg, 0, sizeof(qpair->msg));
	memset(&qpair->disconnect_msg, 0, sizeof(qpair->disconnect_msg));
	if (nvmf_send_msg(group->thread, &qpair->msg, qpair_add_msg, qpair, "new qpair") != 0) {
		__atomic_fetch_sub(&group->num_qpairs, 1, __ATOMIC_RELAXED);
		transport->ops->qpair_fini(qpair, NULL, NULL);
	}
}

void
nvmf_poll_group_add_qpair(struct nvmf_poll_group *group, struct nvmf_qpair *qpair)
{
	struct nvmf_transport_poll_group *tgroup;
	int rc = -ENODEV;

	TAILQ_INIT(&qpair->outstanding);
	qpair->state = NVMF_QPAIR_UNINITIALIZED;
	TAILQ_INSERT_TAIL(&group->qpairs, qpair, link);
	TAILQ_FOREACH(tgroup, &group->tgroups, link) {
		if (tgroup->transport == qpair->transport) {
			qpair->tgroup = tgroup;
			rc = qpair->transport->ops->poll_group_add(tgroup, qpair);
			break;
		}
	}
	if (rc != 0) {
		NVT_ERRLOG("poll group %u: cannot add qpair: rc %d (%s)\n", group->index, rc,
			   nvt_strerror(-rc));
		nvmf_qpair_disconnect(qpair);
		return;
	}
	qpair->added = true;
}

/* ---- shutdown ---- */

static void tgt_fini_subsystems(struct nvt_nvmf_tgt *tgt);

static void
poll_group_fini_done(void *ctx)
{
	struct nvmf_poll_group *group = ctx;
	struct nvt_nvmf_tgt *tgt = group->tgt;
	uint32_t i;

	if (group->fini_done) {
		return;
	}
	group->fini_done = true;
	for (i = 0; i < tgt->opts.max_subsystems && group->sgroups != NULL; i++) {
		nvmf_pg_subsystem_free(group, i);
	}
	free(group->sgroups);
	group->sgroups = NULL;
	poll_group_destroy_tgroups(group);
	nvmf_io_stats_group_free(group);
	nvt_poller_unregister(&group->poller);
	nvmf_send_msg(tgt->thread, &group->fini_msg, tgt_step_done, tgt, "poll group shutdown");
	nvt_thread_exit(nvt_get_thread());
}

/* Called when a group lost a qpair; finishes a pending shutdown. */
void
nvmf_poll_group_remove_qpair(struct nvmf_qpair *qpair)
{
	struct nvmf_poll_group *group = qpair->group;

	TAILQ_REMOVE(&group->qpairs, qpair, link);
	__atomic_fetch_sub(&group->num_qpairs, 1, __ATOMIC_RELAXED);
}

void
nvmf_poll_group_qpair_closed(void *ctx)
{
	struct nvmf_poll_group *group = ctx;
	int rc;

	assert(group->closing_qpairs > 0);
	group->closing_qpairs--;
	if (!group->fini_started || !TAILQ_EMPTY(&group->qpairs) || group->closing_qpairs > 0) {
		return;
	}
	/* -EBUSY: poll_group_fini_done() is queued, or done and answering: nothing to add. */
	rc = nvt_thread_send_msg_prealloc(group->thread, &group->fini_msg, poll_group_fini_done,
					  group);
	if (rc != 0 && rc != -EBUSY) {
		NVT_ERRLOG("poll group %u: shutdown lost: rc %d (%s)\n", group->index, rc,
			   nvt_strerror(rc));
	}
}

static void
poll_group_fini(void *ctx)
{
	struct nvmf_poll_group *group = ctx;
	struct nvmf_qpair *qpair, *tmp;

	group->fini_started = true;
	if (TAILQ_EMPTY(&group->qpairs) && group->closing_qpairs == 0) {
		poll_group_fini_done(group);
		return;
	}
	TAILQ_FOREACH_SAFE(qpair, &group->qpairs, link, tmp) {
		nvmf_qpair_disconnect(qpair);
	}
}

static void
tgt_fini_done(void *ctx, int status)
{
	struct nvt_nvmf_tgt *tgt = ctx;
	struct nvmf_transport *transport;
	nvt_nvmf_done_cb cb = tgt->fini_cb;
	void *cb_ctx = tgt->fini_ctx;

	(void)status;
	tgt_fini_subsystems(tgt);
	while ((transport = TAILQ_FIRST(&tgt->transports)) != NULL) {
		struct nvt_iobuf_pool *pool = transport->data_buf_pool;

		TAILQ_REMOVE(&tgt->transports, transport, link);
		transport->ops->destroy(transport);
		nvt_iobuf_pool_destroy(&pool);
	}
	free(tgt->groups);
	free(tgt->subsystem_ids);
	free(tgt);
	g_tgt = NULL;
	if (cb != NULL) {
		cb(cb_ctx, 0);
	}
}

static void
tgt_fini_groups_done(void *ctx, int status)
{
	struct nvt_nvmf_tgt *tgt = ctx;
	uint32_t i;

	(void)status;
	for (i = 0; i < tgt->num_groups; i++) {
		free(tgt->groups[i]);
	}
	tgt->num_groups = 0;
	tgt_fini_done(tgt, 0);
}

static void
tgt_fini_subsystems(struct nvt_nvmf_tgt *tgt)
{
	struct nvt_nvmf_subsystem *subsystem;

	while ((subsystem = TAILQ_FIRST(&tgt->subsystems)) != NULL) {
		nvmf_subsystem_free(subsystem);
	}
	nvmf_referral_free_all(tgt);
}

static void
tgt_stop_listeners(struct nvt_nvmf_tgt *tgt)
{
	struct nvmf_transport *transport;
	struct nvmf_listener *l;

	TAILQ_FOREACH(transport, &tgt->transports, link) {
		nvt_poller_unregister(&transport->accept_poller);
	}
	while ((l = TAILQ_FIRST(&tgt->listeners)) != NULL) {
		TAILQ_REMOVE(&tgt->listeners, l, link);
		l->transport->ops->stop_listen(l->transport, &l->trid);
		free(l);
	}
}

void
nvt_nvmf_tgt_fini(nvt_nvmf_done_cb cb, void *ctx)
{
	struct nvt_nvmf_tgt *tgt = g_tgt;
	uint32_t i;

	if (tgt == NULL) {
		if (cb != NULL) {
			cb(ctx, 0);
		}
		return;
	}
	tgt_set_state(tgt, NVMF_TGT_STOPPING);
	tgt_stop_listeners(tgt);
	tgt->fini_cb = cb;
	tgt->fini_ctx = ctx;
	if (tgt->num_groups == 0) {
		tgt_fini_done(tgt, 0);
		return;
	}
	/* tgt_step_done() calls tgt->cb once every group is gone: chain to the rest. */
	tgt->cb = tgt_fini_groups_done;
	tgt->cb_ctx = tgt;
	/* Held until every group is asked; one that cannot be reached is not waited for. */
	tgt->pending = 1;
	for (i = 0; i < tgt->num_groups; i++) {
		if (nvmf_send_msg(tgt->groups[i]->thread, &tgt->groups[i]->fini_msg,
				  poll_group_fini, tgt->groups[i], "poll group shutdown") == 0) {
			tgt->pending++;
		}
	}
	tgt_step_done(tgt);
}
