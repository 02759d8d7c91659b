/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the modules' own hooks (lib/bdev/bdev_module_hooks.c): their
 * configuration entries are saved before every bdev's, nvt_bdev_shutdown_begin()
 * reaches them, and nvt_bdev_fini() runs their fini once every bdev is gone
 * and calls back only when the last one said it is done.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nvtcp/bdev.h"
#include "bdev_malloc.h"
#include "nvtcp/internal/bdev_module.h"
#include "../jsonrpc/ut_jsonrpc.h"

static struct {
	int shutdown_begun;
	int fini_calls;
	/* Bdevs left when fini ran (must be none). */
	int bdevs_at_fini;
	void (*done)(void *arg);
	void *done_arg;
	bool fini_cb_called;
} g_hk;

static void
hooks_write_config(json_t *config)
{
	json_array_append_new(config, json_pack("{s:s, s:{s:s}}", "method", "ut_register_thing",
						"params", "name", "thing0"));
}

/* Finishes later, when the test says so, as a module waiting for a pthread would. */
static void
hooks_fini(void (*done)(void *arg), void *arg)
{
	g_hk.fini_calls++;
	g_hk.bdevs_at_fini = nvt_bdev_first() != NULL;
	g_hk.done = done;
	g_hk.done_arg = arg;
}

static void
hooks_shutdown_begin(void)
{
	g_hk.shutdown_begun++;
}

static struct nvt_bdev_module_hooks g_ut_hooks = {
	.write_config_json = hooks_write_config,
	.fini = hooks_fini,
	.shutdown_begin = hooks_shutdown_begin,
};
NVT_BDEV_MODULE_HOOKS_REGISTER(g_ut_hooks)

static const json_t *
saved_bdev_config(const json_t *saved)
{
	const json_t *sub;
	size_t i;

	json_array_foreach(json_object_get(saved, "subsystems"), i, sub)
	{
		if (strcmp(json_string_value(json_object_get(sub, "subsystem")), "bdev") == 0) {
			return json_object_get(sub, "config");
		}
	}
	return NULL;
}

static void
create_malloc(const char *name)
{
	struct nvt_bdev_create_opts opts;
	struct nvt_bdev *bdev;

	nvt_bdev_create_opts_init(&opts, sizeof(opts));
	opts.name = name;
	opts.num_blocks = 64;
	assert_int_equal(nvt_bdev_malloc_create(&opts, &bdev), 0);
}

static void
test_config_before_bdevs(void **state)
{
	const json_t *bdevs;
	json_t *saved;

	(void)state;
	create_malloc("Malloc0");
	saved = nvt_config_save();
	bdevs = saved_bdev_config(saved);
	assert_int_equal(json_array_size(bdevs), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(bdevs, 0), "method")),
			    "ut_register_thing");
	assert_string_equal(json_string_value(json_object_get(json_array_get(bdevs, 1), "method")),
			    "bdev_malloc_create");
	json_decref(saved);
	assert_int_equal(nvt_bdev_delete("Malloc0", NULL, NULL), 0);
	ut_poll(10);
}

static void
fini_done(void *arg, int status)
{
	(void)arg;
	assert_int_equal(status, 0);
	g_hk.fini_cb_called = true;
}

static void
test_shutdown_and_fini(void **state)
{
	(void)state;
	memset(&g_hk, 0, sizeof(g_hk));
	create_malloc("Malloc1");
	nvt_bdev_shutdown_begin();
	assert_int_equal(g_hk.shutdown_begun, 1);
	nvt_bdev_fini(fini_done, NULL);
	ut_poll(20);
	/* The module's fini ran once, after the bdevs, and holds the completion. */
	assert_int_equal(g_hk.fini_calls, 1);
	assert_int_equal(g_hk.bdevs_at_fini, 0);
	assert_false(g_hk.fini_cb_called);
	g_hk.done(g_hk.done_arg);
	assert_true(g_hk.fini_cb_called);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_before_bdevs, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_and_fini, ut_thread_setup,
						ut_thread_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
