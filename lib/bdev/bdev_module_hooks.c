/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Module-wide hooks (nvtcp/internal/bdev_module.h): what a module holds
 * beyond its bdevs (connections to a storage cluster, ...) is saved before
 * the bdevs that name it and released once every bdev is gone at shutdown.
 */
#include <stddef.h>

#include "bdev_internal.h"

/* Registered at load time (constructors), in registration order. */
static struct nvt_bdev_module_hooks *g_hooks;
static struct nvt_bdev_module_hooks **g_hooks_tail = &g_hooks;

/* The shutdown pass: one module after the other, each may finish later. */
static struct {
	struct nvt_bdev_module_hooks *next;
	void (*done)(void *arg);
	void *arg;
} g_fini;

void
nvt_bdev_module_hooks_register(struct nvt_bdev_module_hooks *hooks)
{
	hooks->next = NULL;
	*g_hooks_tail = hooks;
	g_hooks_tail = &hooks->next;
}

void
bdev_module_hooks_write_config(struct json_t *config)
{
	struct nvt_bdev_module_hooks *h;

	for (h = g_hooks; h != NULL; h = h->next) {
		if (h->write_config_json != NULL) {
			h->write_config_json(config);
		}
	}
}

void
nvt_bdev_shutdown_begin(void)
{
	struct nvt_bdev_module_hooks *h;

	for (h = g_hooks; h != NULL; h = h->next) {
		if (h->shutdown_begin != NULL) {
			h->shutdown_begin();
		}
	}
}

static void
module_fini_next(void *arg)
{
	struct nvt_bdev_module_hooks *h;

	(void)arg;
	while ((h = g_fini.next) != NULL) {
		g_fini.next = h->next;
		if (h->fini != NULL) {
			h->fini(module_fini_next, NULL);
			return;
		}
	}
	g_fini.done(g_fini.arg);
}

void
bdev_module_hooks_fini(void (*done)(void *arg), void *arg)
{
	g_fini.next = g_hooks;
	g_fini.done = done;
	g_fini.arg = arg;
	module_fini_next(NULL);
}
