/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rados connections. A registered cluster (bdev_rbd_register_cluster) is one
 * connection the images naming it share, counted by reference: it cannot be
 * unregistered while an image uses it. An image created without a cluster
 * name has a private connection, made and shut down with the image.
 *
 * States of a registered cluster: CONNECTING (on a pthread; the name is
 * taken, images cannot use it yet) -> READY -> CLOSING (unregistered or at
 * shutdown; out of the list, shutting down on a pthread) -> freed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "rbd_internal.h"

/* Seconds a connection may take, unless the configuration sets them. */
#define RBD_CONNECT_TIMEOUT_S "15"

static TAILQ_HEAD(, rbd_cluster) g_clusters = TAILQ_HEAD_INITIALIZER(g_clusters);

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

struct rbd_cluster *
rbd_cluster_alloc(const char *name, const char *user_id, const json_t *config,
		  const char *config_file, const char *key_file, const char *core_mask)
{
	struct rbd_cluster *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		return NULL;
	}
	c->name = dup_or_null(name);
	c->user_id = dup_or_null(user_id);
	c->config_file = dup_or_null(config_file);
	c->key_file = dup_or_null(key_file);
	c->core_mask = dup_or_null(core_mask);
	c->config = config != NULL ? json_deep_copy(config) : NULL;
	if ((name != NULL && c->name == NULL) || (user_id != NULL && c->user_id == NULL) ||
	    (config_file != NULL && c->config_file == NULL) ||
	    (key_file != NULL && c->key_file == NULL) ||
	    (core_mask != NULL && c->core_mask == NULL) || (config != NULL && c->config == NULL)) {
		rbd_cluster_free(c);
		return NULL;
	}
	return c;
}

void
rbd_cluster_free(struct rbd_cluster *c)
{
	if (c == NULL) {
		return;
	}
	free(c->name);
	free(c->user_id);
	free(c->config_file);
	free(c->key_file);
	free(c->core_mask);
	json_decref(c->config);
	free(c);
}

int
rbd_config_check(const json_t *config, const char *field, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	if (config == NULL) {
		return 0;
	}
	if (!json_is_object(config)) {
		snprintf(err, errlen, "field '%s': expected an object of strings", field);
		return -EINVAL;
	}
	json_object_foreach((json_t *)config, key, v)
	{
		if (!json_is_string(v)) {
			snprintf(err, errlen, "field '%s': entry '%s': expected a string", field,
				 key);
			return -EINVAL;
		}
		if (strcmp(key, "key") == 0) {
			/* A secret in the parameters would be saved and shown in clear. */
			snprintf(err, errlen,
				 "field '%s': entry 'key' is refused (it would be saved in "
				 "clear); give a keyring file instead: key_file, or the "
				 "'keyring' entry",
				 field);
			return -EINVAL;
		}
	}
	return 0;
}

static int
conf_set(struct rbd_cluster *c, const char *k, const char *v, char *err, size_t errlen)
{
	int rc = rados_conf_set(c->rados, k, v);

	if (rc != 0) {
		snprintf(err, errlen, "configuration entry '%s': %s", k, nvt_strerror(rc));
	}
	return rc;
}

/* nvtcp's defaults first, so that the configuration file and entries override them. */
static int
conf_defaults(struct rbd_cluster *c, char *err, size_t errlen)
{
	static const char *const defaults[][2] = {
		/* A gateway's cache loses acknowledged writes when the gateway dies. */
		{ "rbd_cache", "false" },
		/* Deallocated ranges read back as zeroes, also where not object-aligned. */
		{ "rbd_skip_partial_discard", "false" },
		/* A dead monitor fails the connection in bounded time. */
		{ "rados_mon_op_timeout", RBD_CONNECT_TIMEOUT_S },
		{ "client_mount_timeout", RBD_CONNECT_TIMEOUT_S },
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		rc = conf_set(c, defaults[i][0], defaults[i][1], err, errlen);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

static int
conf_apply(struct rbd_cluster *c, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	int rc;

	rc = conf_defaults(c, err, errlen);
	if (rc != 0) {
		return rc;
	}
	if (c->config_file != NULL || c->config == NULL) {
		/* Without a file or entries, librados's default search (as SPDK). */
		rc = rados_conf_read_file(c->rados, c->config_file);
		if (rc != 0) {
			snprintf(err, errlen, "cannot read the configuration file %s: %s",
				 c->config_file != NULL ? c->config_file : "(default)",
				 nvt_strerror(rc));
			return rc;
		}
	}
	if (c->key_file != NULL) {
		rc = conf_set(c, "keyring", c->key_file, err, errlen);
		if (rc != 0) {
			return rc;
		}
	}
	if (c->config != NULL) {
		json_object_foreach(c->config, key, v)
		{
			rc = conf_set(c, key, json_string_value(v), err, errlen);
			if (rc != 0) {
				return rc;
			}
		}
	}
	return 0;
}

int
rbd_cluster_connect(struct rbd_cluster *c, char *err, size_t errlen)
{
	int rc;

	rc = rados_create(&c->rados, c->user_id);
	if (rc != 0) {
		snprintf(err, errlen, "cannot create a rados handle: %s", nvt_strerror(rc));
		return rc;
	}
	rc = conf_apply(c, err, errlen);
	if (rc == 0) {
		rc = rados_connect(c->rados);
		if (rc != 0) {
			snprintf(err, errlen, "cannot connect to the cluster as %s: %s",
				 c->user_id != NULL ? c->user_id : "admin", nvt_strerror(rc));
		}
	}
	if (rc != 0) {
		rados_shutdown(c->rados);
		return rc;
	}
	c->connected = true;
	return 0;
}

void
rbd_cluster_shutdown(struct rbd_cluster *c)
{
	if (c->connected) {
		rados_shutdown(c->rados);
		c->connected = false;
	}
}

static struct rbd_cluster *
cluster_find(const char *name)
{
	struct rbd_cluster *c;

	TAILQ_FOREACH(c, &g_clusters, link) {
		if (strcmp(c->name, name) == 0) {
			return c;
		}
	}
	return NULL;
}

struct rbd_cluster *
rbd_cluster_get(const char *name, char *err, size_t errlen)
{
	struct rbd_cluster *c = cluster_find(name);

	if (c == NULL) {
		snprintf(err, errlen, "no cluster '%s' registered (bdev_rbd_register_cluster)",
			 name);
		return NULL;
	}
	if (c->state != RBD_CLUSTER_READY) {
		snprintf(err, errlen, "cluster '%s' is still connecting", name);
		return NULL;
	}
	c->refs++;
	return c;
}

void
rbd_cluster_put(struct rbd_cluster *c)
{
	c->refs--;
}

/* ---- register ---- */

static void
register_work(struct rbd_work *w)
{
	struct rbd_cluster *c =
		(struct rbd_cluster *)((char *)w - offsetof(struct rbd_cluster, work));

	c->work_rc = rbd_cluster_connect(c, c->err, sizeof(c->err));
}

static void
register_done(struct rbd_work *w)
{
	struct rbd_cluster *c =
		(struct rbd_cluster *)((char *)w - offsetof(struct rbd_cluster, work));
	nvt_bdev_rbd_cb cb = c->cb;
	void *ctx = c->cb_ctx;
	char err[RBD_ERR_LEN + 128];

	if (c->work_rc != 0) {
		NVT_ERRLOG("rbd: cluster %s: %s\n", c->name, c->err);
		snprintf(err, sizeof(err), "cluster '%s': %s", c->name, c->err);
		TAILQ_REMOVE(&g_clusters, c, link);
		rbd_cluster_free(c);
		cb(ctx, -EIO, err);
		return;
	}
	c->state = RBD_CLUSTER_READY;
	NVT_NOTICELOG("rbd: cluster %s connected\n", c->name);
	cb(ctx, 0, NULL);
}

int
nvt_bdev_rbd_register_cluster(const struct nvt_bdev_rbd_cluster_opts *opts, nvt_bdev_rbd_cb cb,
			      void *ctx, char *err, size_t errlen)
{
	struct rbd_cluster *c;
	int rc;

	if (opts->name == NULL || opts->name[0] == '\0') {
		snprintf(err, errlen, "field 'name': required");
		return -EINVAL;
	}
	if (cluster_find(opts->name) != NULL) {
		snprintf(err, errlen, "cluster '%s' is already registered", opts->name);
		return -EEXIST;
	}
	rc = rbd_config_check(opts->config_param, "config_param", err, errlen);
	if (rc != 0) {
		return rc;
	}
	c = rbd_cluster_alloc(opts->name, opts->user_id, opts->config_param, opts->config_file,
			      opts->key_file, opts->core_mask);
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->state = RBD_CLUSTER_CONNECTING;
	c->cb = cb;
	c->cb_ctx = ctx;
	TAILQ_INSERT_TAIL(&g_clusters, c, link);
	rbd_work_start(&c->work, register_work, register_done);
	return 0;
}

/* ---- unregister ---- */

static void
shutdown_work(struct rbd_work *w)
{
	struct rbd_cluster *c =
		(struct rbd_cluster *)((char *)w - offsetof(struct rbd_cluster, work));

	rbd_cluster_shutdown(c);
}

static void
shutdown_done(struct rbd_work *w)
{
	struct rbd_cluster *c =
		(struct rbd_cluster *)((char *)w - offsetof(struct rbd_cluster, work));
	nvt_bdev_rbd_cb cb = c->cb;
	void *ctx = c->cb_ctx;

	NVT_NOTICELOG("rbd: cluster %s disconnected\n", c->name);
	rbd_cluster_free(c);
	if (cb != NULL) {
		cb(ctx, 0, NULL);
	}
}

static void
cluster_close(struct rbd_cluster *c, nvt_bdev_rbd_cb cb, void *ctx)
{
	c->state = RBD_CLUSTER_CLOSING;
	c->cb = cb;
	c->cb_ctx = ctx;
	TAILQ_REMOVE(&g_clusters, c, link);
	rbd_work_start(&c->work, shutdown_work, shutdown_done);
}

int
nvt_bdev_rbd_unregister_cluster(const char *name, nvt_bdev_rbd_cb cb, void *ctx, char *err,
				size_t errlen)
{
	struct rbd_cluster *c = cluster_find(name);

	if (c == NULL) {
		snprintf(err, errlen, "no cluster '%s' registered", name);
		return -ENOENT;
	}
	if (c->state != RBD_CLUSTER_READY) {
		snprintf(err, errlen, "cluster '%s' is still connecting", name);
		return -EBUSY;
	}
	if (c->refs > 0) {
		snprintf(err, errlen, "cluster '%s' is used by %u rbd bdev(s): delete them first",
			 name, c->refs);
		return -EBUSY;
	}
	cluster_close(c, cb, ctx);
	return 0;
}

/* ---- information and configuration ---- */

/* Set \p k to \p v in \p o, unless \p v is NULL (an option not given). */
void
rbd_json_set_str(json_t *o, const char *k, const char *v)
{
	if (v != NULL) {
		json_object_set_new(o, k, json_string(v));
	}
}

/* The parameters that recreate \p c (never a secret: "key" entries are refused). */
static void
cluster_params(const struct rbd_cluster *c, json_t *o)
{
	rbd_json_set_str(o, "user_id", c->user_id);
	if (c->config != NULL) {
		json_object_set(o, "config_param", c->config);
	}
	rbd_json_set_str(o, "config_file", c->config_file);
	rbd_json_set_str(o, "key_file", c->key_file);
	rbd_json_set_str(o, "core_mask", c->core_mask);
}

/*
 * The connection's address as the OSDs know it: what an orchestrator gives
 * `ceph osd blocklist add` to fence this gateway. rados_getaddrs does not block.
 */
void
rbd_cluster_addr_json(const struct rbd_cluster *c, json_t *o)
{
	char *addrs = NULL;

	if (c->connected && rados_getaddrs(c->rados, &addrs) == 0 && addrs != NULL) {
		json_object_set_new(o, "client_address", json_string(addrs));
	}
	free(addrs);
}

static json_t *
cluster_info(const struct rbd_cluster *c)
{
	json_t *o = json_object();

	if (o != NULL) {
		rbd_json_set_str(o, "cluster_name", c->name);
		cluster_params(c, o);
		if (c->state == RBD_CLUSTER_READY) {
			rbd_cluster_addr_json(c, o);
		}
	}
	return o;
}

json_t *
nvt_bdev_rbd_clusters_info(const char *name)
{
	struct rbd_cluster *c;
	json_t *arr;

	if (name != NULL) {
		c = cluster_find(name);
		return c != NULL ? cluster_info(c) : NULL;
	}
	arr = json_array();
	TAILQ_FOREACH(c, &g_clusters, link) {
		json_array_append_new(arr, cluster_info(c));
	}
	return arr;
}

static void
clusters_write_config(json_t *config)
{
	struct rbd_cluster *c;
	json_t *entry, *params;

	TAILQ_FOREACH(c, &g_clusters, link) {
		if (c->state != RBD_CLUSTER_READY) {
			continue;
		}
		params = json_object();
		rbd_json_set_str(params, "name", c->name);
		cluster_params(c, params);
		entry = json_pack("{s:s, s:o}", "method", "bdev_rbd_register_cluster", "params",
				  params);
		json_array_append_new(config, entry);
	}
}

/* ---- shutdown: every registered cluster, one after the other ---- */

static struct {
	void (*done)(void *arg);
	void *arg;
} g_fini;

static void clusters_fini_next(void *ctx, int rc, const char *err);

static void
clusters_fini_next(void *ctx, int rc, const char *err)
{
	struct rbd_cluster *c = TAILQ_FIRST(&g_clusters);

	(void)ctx;
	(void)rc;
	(void)err;
	/* Those still connecting finish first: their pthread owns them meanwhile. */
	while (c != NULL && c->state != RBD_CLUSTER_READY) {
		c = TAILQ_NEXT(c, link);
	}
	if (c == NULL) {
		rbd_exit_done();
		g_fini.done(g_fini.arg);
		return;
	}
	cluster_close(c, clusters_fini_next, NULL);
}

static void
clusters_fini(void (*done)(void *arg), void *arg)
{
	g_fini.done = done;
	g_fini.arg = arg;
	clusters_fini_next(NULL, 0, NULL);
}

static struct nvt_bdev_module_hooks g_rbd_hooks = {
	.write_config_json = clusters_write_config,
	.fini = clusters_fini,
	.shutdown_begin = rbd_exit_watchdog_start,
};
NVT_BDEV_MODULE_HOOKS_REGISTER(g_rbd_hooks)
