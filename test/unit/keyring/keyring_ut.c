/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/keyring/keyring.c: adding keys from files (what is
 * refused, and that the log names the key and the file, never the secret),
 * and the lifetime of keys (references, removal, clearing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "nvtcp/likely.h"

#include "../../../lib/keyring/keyring.c"

/* nvme-cli 2.13 made these (nvme gen-dhchap-key --hmac=1, gen-tls-key --hmac=2). */
#define DHCHAP_B64 "TyLO4Cp6gkl98UEPo0DUWSsPJlekb2VOtAZHIehFQz9qTjrv"
#define DHCHAP_KEY "DHHC-1:01:" DHCHAP_B64 ":"
#define TLS_B64	   "+J1PPxiFVRP8zovEBxGt97p7yUWPH9Eiz5fj3X0FvN60Sdx2NbGuUNtbjsE/caW9UjtEIA=="
#define TLS_KEY	   "NVMeTLSkey-1:02:" TLS_B64 ":"
/* DHCHAP_KEY with its last CRC character changed. */
#define BAD_CRC_B64 "TyLO4Cp6gkl98UEPo0DUWSsPJlekb2VOtAZHIehFQz9qTjrw"

static char g_dir[256];
static char g_log[16384];

static void
log_sink(enum nvt_log_level level, const char *line, void *ctx)
{
	size_t len = strlen(g_log);

	(void)level;
	(void)ctx;
	snprintf(g_log + len, sizeof(g_log) - len, "%s\n", line);
}

/* The path of file \p name in the test's folder (a static buffer per call site). */
static const char *
path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", g_dir, name);
	return buf;
}

#define PATH(name) path_of((char[512]){ 0 }, 512, (name))

static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	const char *path = PATH(name);
	static char saved[8][512];
	static int next;
	FILE *f;

	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, true);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	next = (next + 1) % 8;
	snprintf(saved[next], sizeof(saved[next]), "%s", path);
	return saved[next];
}

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(g_dir, sizeof(g_dir), "%s/keyring_ut.XXXXXX", tmp != NULL ? tmp : P_tmpdir);
	if (mkdtemp(g_dir) == NULL) {
		return -1;
	}
	g_log[0] = '\0';
	nvt_log_set_sink(log_sink, NULL);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	nvt_log_set_sink(NULL, NULL);
	nvt_keyring_clear();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
count_key(void *ctx, const struct nvt_key *key)
{
	(void)key;
	(*(int *)ctx)++;
}

static int
keyring_size(void)
{
	int n = 0;

	nvt_keyring_foreach(count_key, &n);
	return n;
}

static void
test_add_get_put(void **state)
{
	const char *dh = write_file("dh.key", DHCHAP_KEY "\n", 0600);
	const char *tls = write_file("tls.key", TLS_KEY, 0400);
	struct nvt_secret expect, got;
	struct nvt_key *key;

	(void)state;
	assert_int_equal(nvt_keyring_file_add_key("dh0", dh), 0);
	assert_int_equal(nvt_keyring_file_add_key("tls0", tls), 0);
	assert_int_equal(keyring_size(), 2);

	key = nvt_keyring_get_key("dh0");
	assert_non_null(key);
	assert_string_equal(nvt_key_get_name(key), "dh0");
	assert_string_equal(nvt_key_get_path(key), dh);
	assert_int_equal(nvt_key_get_kind(key), NVT_SECRET_DHCHAP);
	assert_int_equal(keyring_key_refcnt(key), 2);
	assert_int_equal(nvt_secret_parse(DHCHAP_KEY, strlen(DHCHAP_KEY), &expect), 0);
	nvt_key_get_secret(key, &got);
	assert_memory_equal(&got, &expect, sizeof(got));
	/* SPDK's ":name" is the same key. */
	assert_ptr_equal(nvt_keyring_get_key(":dh0"), key);
	assert_int_equal(keyring_key_refcnt(key), 3);
	nvt_keyring_put_key(key);
	nvt_keyring_put_key(key);
	assert_int_equal(keyring_key_refcnt(key), 1);

	key = nvt_keyring_get_key("tls0");
	assert_non_null(key);
	assert_int_equal(nvt_key_get_kind(key), NVT_SECRET_TLS_PSK);
	nvt_key_get_secret(key, &got);
	assert_int_equal(got.len, 48);
	assert_int_equal(got.hash, NVT_AUTH_HASH_SHA384);
	nvt_keyring_put_key(key);
	nvt_keyring_put_key(NULL);

	assert_null(nvt_keyring_get_key("nokey"));
	assert_null(nvt_keyring_get_key(NULL));
	/* Nothing secret in the log. */
	assert_null(strstr(g_log, DHCHAP_B64));
	assert_null(strstr(g_log, TLS_B64));
	nvt_auth_wipe(&got, sizeof(got));
}

struct seen {
	int count;
	bool removed[4];
	int refcnt[4];
};

static void
see_key(void *ctx, const struct nvt_key *key)
{
	struct seen *seen = ctx;

	seen->removed[seen->count] = keyring_key_is_removed(key);
	seen->refcnt[seen->count] = keyring_key_refcnt(key);
	seen->count++;
}

static void
test_remove_keeps_holders(void **state)
{
	const char *dh = write_file("dh.key", DHCHAP_KEY, 0600);
	const char *tls = write_file("tls.key", TLS_KEY, 0600);
	struct nvt_key *old, *new;
	struct seen seen = { 0 };
	struct nvt_secret got;

	(void)state;
	assert_int_equal(nvt_keyring_file_add_key("k", dh), 0);
	old = nvt_keyring_get_key("k");
	assert_non_null(old);
	assert_int_equal(nvt_keyring_remove_key("k"), 0);
	assert_int_equal(nvt_keyring_remove_key("k"), -ENOENT);
	assert_null(nvt_keyring_get_key("k"));
	assert_int_equal(keyring_size(), 0);

	/* The holder still reads the key; its name is free again at once. */
	nvt_key_get_secret(old, &got);
	assert_int_equal(got.kind, NVT_SECRET_DHCHAP);
	assert_string_equal(nvt_key_get_name(old), "k");
	assert_int_equal(nvt_keyring_file_add_key("k", tls), 0);
	new = nvt_keyring_get_key("k");
	assert_ptr_not_equal(new, old);
	assert_int_equal(nvt_key_get_kind(new), NVT_SECRET_TLS_PSK);

	/* The keyring's key, then the removed one its holder keeps. */
	keyring_foreach_all(see_key, &seen);
	assert_int_equal(seen.count, 2);
	assert_false(seen.removed[0]);
	assert_int_equal(seen.refcnt[0], 2);
	assert_true(seen.removed[1]);
	assert_int_equal(seen.refcnt[1], 1);

	/* The last reference frees the removed key (ASan would see a leak). */
	nvt_keyring_put_key(old);
	seen.count = 0;
	keyring_foreach_all(see_key, &seen);
	assert_int_equal(seen.count, 1);
	nvt_keyring_put_key(new);
	nvt_auth_wipe(&got, sizeof(got));
}

static void
test_clear(void **state)
{
	const char *dh = write_file("dh.key", DHCHAP_KEY, 0600);
	struct seen seen = { 0 };
	struct nvt_key *held;

	(void)state;
	assert_int_equal(nvt_keyring_file_add_key("a", dh), 0);
	assert_int_equal(nvt_keyring_file_add_key("b", dh), 0);
	held = nvt_keyring_get_key("b");
	nvt_keyring_clear();
	assert_int_equal(keyring_size(), 0);
	assert_null(nvt_keyring_get_key("a"));
	keyring_foreach_all(see_key, &seen);
	assert_int_equal(seen.count, 1);
	assert_true(seen.removed[0]);
	assert_string_equal(nvt_key_get_name(held), "b");
	nvt_keyring_put_key(held);
	seen.count = 0;
	keyring_foreach_all(see_key, &seen);
	assert_int_equal(seen.count, 0);
}

/* \p rc, logged with the path and \p words; no key added. */
static void
expect_refused(const char *name, const char *path, int rc, const char *words)
{
	char quoted[NVT_KEY_NAME_MAX + 16];
	int size = keyring_size();

	g_log[0] = '\0';
	assert_int_equal(nvt_keyring_file_add_key(name, path), rc);
	assert_int_equal(keyring_size(), size);
	if (path != NULL && strstr(g_log, path) == NULL) {
		fail_msg("the log does not name '%s': %s", path, g_log);
	}
	if (strstr(g_log, words) == NULL) {
		fail_msg("the log lacks '%s': %s", words, g_log);
	}
	/* An invalid name is not printed; any other is. */
	snprintf(quoted, sizeof(quoted), "key '%s'", name);
	if (strstr(words, "invalid key name") == NULL && strstr(g_log, quoted) == NULL) {
		fail_msg("the log does not name the key '%s': %s", name, g_log);
	}
	assert_null(strstr(g_log, DHCHAP_B64));
	assert_null(strstr(g_log, BAD_CRC_B64));
}

static void
test_permissions(void **state)
{
	static const mode_t refused[] = { 0644, 0640, 0604, 0660, 0602, 0620, 0610, 0601, 0700 };
	const char *path;
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(refused); i++) {
		path = write_file("perm.key", DHCHAP_KEY, refused[i]);
		/* 0700: the owner's bits do not matter, only group and others'. */
		if (refused[i] == 0700) {
			assert_int_equal(nvt_keyring_file_add_key("ok", path), 0);
			continue;
		}
		expect_refused("perm", path, -EPERM, "is accessible by group or others");
	}
	path = write_file("perm.key", DHCHAP_KEY, 0644);
	expect_refused("perm", path, -EPERM, "(mode 0644); a key file must be mode 0600");
	path = write_file("ro.key", DHCHAP_KEY, 0400);
	assert_int_equal(nvt_keyring_file_add_key("ro", path), 0);
}

static void
test_owner(void **state)
{
	const char *path = write_file("owner.key", DHCHAP_KEY, 0600);

	(void)state;
	if (geteuid() != 0) {
		skip();
	}
	/* Another user could rewrite the key. */
	assert_int_equal(chown(path, 1, (gid_t)-1), 0);
	expect_refused("owner", path, -EPERM, "belongs to uid 1, not to this process's uid 0");
}

static void
test_bad_files(void **state)
{
	char big[KEYRING_FILE_MAX + 2];
	const char *path;

	(void)state;
	expect_refused("rel", "dh.key", -EINVAL, "is not absolute");
	expect_refused("none", PATH("missing.key"), -ENOENT, "cannot open");
	expect_refused("dir", g_dir, -EINVAL, "is not a regular file");
	assert_int_equal(mkfifo(PATH("fifo"), 0600), 0);
	expect_refused("fifo", PATH("fifo"), -EINVAL, "is not a regular file");

	path = write_file("crc.key", "DHHC-1:01:" BAD_CRC_B64 ":", 0600);
	expect_refused("crc", path, -EINVAL, "does not hold one valid secret");
	path = write_file("empty.key", "", 0600);
	expect_refused("empty", path, -EINVAL, "does not hold one valid secret");
	path = write_file("two.key", DHCHAP_KEY "\n" DHCHAP_KEY "\n", 0600);
	expect_refused("two", path, -EINVAL, "does not hold one valid secret");
	path = write_file("raw.key", DHCHAP_B64, 0600);
	expect_refused("raw", path, -EINVAL, "does not hold one valid secret");

	/* A valid key followed by enough white space to make the file too big. */
	memset(big, ' ', sizeof(big));
	memcpy(big, DHCHAP_KEY, strlen(DHCHAP_KEY));
	big[sizeof(big) - 1] = '\0';
	path = write_file("big.key", big, 0600);
	expect_refused("big", path, -EINVAL, "is 4097 bytes");
	big[KEYRING_FILE_MAX] = '\0';
	path = write_file("max.key", big, 0600);
	assert_int_equal(nvt_keyring_file_add_key("max", path), 0);
}

static void
test_symlink(void **state)
{
	const char *path = write_file("real.key", DHCHAP_KEY, 0600);

	(void)state;
	/* The mode checked is the file's, not the link's (always 0777). */
	assert_int_equal(symlink(path, PATH("link.key")), 0);
	assert_int_equal(nvt_keyring_file_add_key("link", PATH("link.key")), 0);
	assert_int_equal(chmod(path, 0644), 0);
	expect_refused("link2", PATH("link.key"), -EPERM, "is accessible by group or others");
}

static void
test_names(void **state)
{
	const char *path = write_file("dh.key", DHCHAP_KEY, 0600);
	char long_name[NVT_KEY_NAME_MAX + 2];

	(void)state;
	assert_int_equal(nvt_keyring_file_add_key("key0", path), 0);
	/* A duplicate is refused before its file is read. */
	expect_refused("key0", PATH("missing.key"), -EEXIST, "key 'key0' already exists");
	assert_int_equal(keyring_size(), 1);

	expect_refused("", path, -EINVAL, "invalid key name");
	expect_refused("ring:key", path, -EINVAL, "invalid key name");
	expect_refused("two words", path, -EINVAL, "invalid key name");
	expect_refused("tab\tkey", path, -EINVAL, "invalid key name");
	memset(long_name, 'k', sizeof(long_name));
	long_name[NVT_KEY_NAME_MAX + 1] = '\0';
	expect_refused(long_name, path, -EINVAL, "invalid key name");
	long_name[NVT_KEY_NAME_MAX] = '\0';
	assert_int_equal(nvt_keyring_file_add_key(long_name, path), 0);
	assert_int_equal(nvt_keyring_file_add_key(NULL, path), -EINVAL);
	assert_int_equal(nvt_keyring_file_add_key("nopath", NULL), -EINVAL);
	assert_int_equal(nvt_keyring_remove_key(NULL), -ENOENT);
	assert_int_equal(keyring_size(), 2);
}

/* A callback that takes and drops references, and removes the key it is given. */
static void
remove_each(void *ctx, const struct nvt_key *key)
{
	struct nvt_key *held = nvt_keyring_get_key(nvt_key_get_name(key));

	(*(int *)ctx)++;
	assert_int_equal(nvt_keyring_remove_key(nvt_key_get_name(held)), 0);
	nvt_keyring_put_key(held);
}

static void
test_foreach_may_use_keyring(void **state)
{
	const char *path = write_file("dh.key", DHCHAP_KEY, 0600);
	int n = 0;

	(void)state;
	assert_int_equal(nvt_keyring_file_add_key("x", path), 0);
	assert_int_equal(nvt_keyring_file_add_key("y", path), 0);
	nvt_keyring_foreach(remove_each, &n);
	assert_int_equal(n, 2);
	assert_int_equal(keyring_size(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_get_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_keeps_holders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach_may_use_keyring, setup, teardown),
	};

	/* Secrets in the secure heap, as nvtcpd keeps them. */
	assert_int_equal(nvt_auth_secure_init(0), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
