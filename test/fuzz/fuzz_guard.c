/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RPC methods the JSON harnesses must not run as the input says, and
 * why. Everything else registered runs unchanged.
 *
 * Confined:
 *   bdev_uring_create, bdev_aio_create: open the file or block device named
 *     by "filename" for reading and writing (as root, any disk of the
 *     machine). The name keeps only its last component and is looked up in
 *     the harness's temporary directory, which holds disk0.img.
 *   nvmf_subsystem_add_listener (and listeners in configurations): listen
 *     on any address and port. fuzz_sock.c binds every socket to a private
 *     loopback port instead.
 *   bdev_malloc_create: the RAM disk is mapped and populated at once,
 *     outside the sanitizer's allocator, so a large one takes real memory of
 *     the machine (SPDK's saved configurations carry 1 GiB ones) and time
 *     (every run): num_blocks is cut to at most FUZZ_GUARD_MALLOC_MAX bytes.
 *   nvmf_create_transport: the buffer pool (num_shared_buffers x
 *     io_unit_size, 32 MiB by default) is allocated, and its shadow memory
 *     written, at every creation and shutdown: num_shared_buffers is cut so
 *     that the pool stays within FUZZ_GUARD_POOL_MAX bytes, where the other
 *     options allow (a buffer cache and a largest I/O must still fit).
 * Kept out:
 *   spdk_kill_instance: SPDK's method that ends the process; nvtcp has none
 *     today, and must not get one through the harness unnoticed.
 * Not linked into the harnesses (so unknown to them):
 *   framework_get_reactors, thread_get_stats (lib/event's methods): they
 *     need running reactors, which the harnesses replace by polling by hand.
 *
 * Other allocations that RPC parameters size (max_subsystems, queue
 * depths) need nothing here: above 1 GiB the sanitizer's allocator fails
 * them as a real machine would (fuzz_env.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_env.h"
#include "fuzz_guard.h"

#define FUZZ_GUARD_MALLOC_MAX (8ll << 20)
#define FUZZ_GUARD_DISK	      "disk0.img"
#define FUZZ_GUARD_DISK_SIZE  (1 << 20)
#define FUZZ_GUARD_POOL_MAX   (8ll << 20)
#define DEFAULT_BLOCK_SIZE    512
/* The transport's defaults (nvt_nvmf_transport_opts_init()). */
#define DEFAULT_NUM_BUFFERS 4095
#define DEFAULT_IO_UNIT	    8192
#define DEFAULT_MAX_IO	    131072
#define DEFAULT_CACHE	    32

enum guard_kind {
	GUARD_PATH,   /* "filename" confined to the temporary directory */
	GUARD_MALLOC, /* cut to FUZZ_GUARD_MALLOC_MAX bytes */
	GUARD_POOL,   /* cut to FUZZ_GUARD_POOL_MAX bytes */
	GUARD_DENY,   /* kept out */
};

static const struct {
	const char *method;
	enum guard_kind kind;
} g_rules[] = {
	{ "bdev_uring_create", GUARD_PATH },	 /* opens any file read-write */
	{ "bdev_aio_create", GUARD_PATH },	 /* the same, under SPDK's name */
	{ "bdev_malloc_create", GUARD_MALLOC },	 /* populates its RAM at once */
	{ "nvmf_create_transport", GUARD_POOL }, /* allocates its buffer pool */
	{ "spdk_kill_instance", GUARD_DENY },	 /* would end the process */
};

static char g_dir[256];
static char g_disk[300];

static void
guard_cleanup(void)
{
	unlink(g_disk);
	rmdir(g_dir);
}

void
fuzz_guard_init(void)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (g_dir[0] != '\0') {
		return;
	}
	snprintf(g_dir, sizeof(g_dir), "%s/nvtcp-fuzz-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(g_dir) == NULL) {
		fuzz_env_fail("cannot create a temporary directory %s: %s", g_dir, strerror(errno));
	}
	snprintf(g_disk, sizeof(g_disk), "%s/%s", g_dir, FUZZ_GUARD_DISK);
	fd = open(g_disk, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, FUZZ_GUARD_DISK_SIZE) != 0) {
		fuzz_env_fail("cannot create %s: %s", g_disk, strerror(errno));
	}
	close(fd);
	atexit(guard_cleanup);
}

const char *
fuzz_guard_dir(void)
{
	return g_dir;
}

/* "filename" keeps its last component only, under the temporary directory. */
static bool
guard_path(json_t *params, bool *changed)
{
	const char *name = json_string_value(json_object_get(params, "filename"));
	const char *base;
	char path[512];

	if (name == NULL) {
		return true;
	}
	base = strrchr(name, '/');
	base = base != NULL ? base + 1 : name;
	if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		base = "missing";
	}
	snprintf(path, sizeof(path), "%s/%s", g_dir, base);
	json_object_set_new(params, "filename", json_string(path));
	*changed = true;
	return true;
}

static bool
guard_malloc(json_t *params, bool *changed)
{
	const json_t *nb = json_object_get(params, "num_blocks");
	const json_t *bs = json_object_get(params, "block_size");
	json_int_t size = DEFAULT_BLOCK_SIZE;

	/* Anything but positive integers is refused by the method itself. */
	if (!json_is_integer(nb) || (bs != NULL && !json_is_integer(bs))) {
		return true;
	}
	if (bs != NULL) {
		size = json_integer_value(bs);
	}
	if (size <= 0 || size > FUZZ_GUARD_MALLOC_MAX ||
	    json_integer_value(nb) <= FUZZ_GUARD_MALLOC_MAX / size) {
		return true;
	}
	json_object_set_new(params, "num_blocks", json_integer(FUZZ_GUARD_MALLOC_MAX / size));
	*changed = true;
	return true;
}

/* A parameter that is absent (\p def) or a positive integer; 0 for anything else. */
static json_int_t
param_int(const json_t *params, const char *name, json_int_t def)
{
	const json_t *v = json_object_get(params, name);

	if (v == NULL) {
		return def;
	}
	return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : 0;
}

static bool
guard_pool(json_t *params, bool *changed)
{
	json_int_t count = param_int(params, "num_shared_buffers", DEFAULT_NUM_BUFFERS);
	json_int_t unit = param_int(params, "io_unit_size", DEFAULT_IO_UNIT);
	json_int_t max_io = param_int(params, "max_io_size", DEFAULT_MAX_IO);
	json_int_t cache = param_int(params, "buf_cache_size", DEFAULT_CACHE);
	json_int_t want;

	/* What the method refuses anyway, or a pool small enough. */
	if (count == 0 || unit == 0 || max_io == 0 || cache == 0 ||
	    count <= FUZZ_GUARD_POOL_MAX / unit) {
		return true;
	}
	want = FUZZ_GUARD_POOL_MAX / unit;
	want = want > (max_io + unit - 1) / unit ? want : (max_io + unit - 1) / unit;
	want = want > cache ? want : cache;
	if (want < count) {
		json_object_set_new(params, "num_shared_buffers", json_integer(want));
		*changed = true;
	}
	return true;
}

bool
fuzz_guard_request(json_t *req, bool *changed)
{
	const char *method = json_string_value(json_object_get(req, "method"));
	json_t *params = json_object_get(req, "params");
	size_t i;

	*changed = false;
	if (method == NULL) {
		return true;
	}
	for (i = 0; i < sizeof(g_rules) / sizeof(g_rules[0]); i++) {
		if (strcmp(g_rules[i].method, method) != 0) {
			continue;
		}
		switch (g_rules[i].kind) {
		case GUARD_PATH:
			return !json_is_object(params) || guard_path(params, changed);
		case GUARD_MALLOC:
			return !json_is_object(params) || guard_malloc(params, changed);
		case GUARD_POOL:
			return !json_is_object(params) || guard_pool(params, changed);
		case GUARD_DENY:
			return false;
		}
	}
	return true;
}

void
fuzz_guard_config(json_t *config)
{
	json_t *subsystems = json_object_get(config, "subsystems"), *sub, *entries;
	size_t i, j;
	bool changed;

	json_array_foreach(subsystems, i, sub)
	{
		entries = json_object_get(sub, "config");
		for (j = 0; j < json_array_size(entries);) {
			if (fuzz_guard_request(json_array_get(entries, j), &changed)) {
				j++;
			} else {
				json_array_remove(entries, j);
			}
		}
	}
}
