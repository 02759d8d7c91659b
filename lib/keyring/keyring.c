/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The keyring: named secrets read from files (SPDK's keyring_file module).
 *
 * A key file is checked when the key is added, as SPDK checks it (an
 * absolute path, a regular file of this process's user that group and
 * others cannot access), then read and parsed at once, so that a bad file
 * is refused then rather than when a host first connects. Its secret lives
 * in the secure heap until the last reference goes. Logs and answers name
 * the key and its path, never what the file holds.
 *
 * The lists and the reference counts are under one lock, so that a holder
 * may put its reference from any thread; nvt_key_get_secret() needs none,
 * as a key's secret is written before the key is listed and never after.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvtcp/keyring.h"
#include "nvtcp/log.h"
#include "nvtcp/queue.h"
#include "nvtcp/string.h"
#include "keyring_internal.h"

/* A key file holds one secret of about 100 bytes: read no more than this. */
#define KEYRING_FILE_MAX 4096

struct nvt_key {
	TAILQ_ENTRY(nvt_key) link; /* g_keys, or g_removed once removed; under g_lock */
	char *name;
	char *path;
	struct nvt_secret *secret; /* secure heap; written before the key is listed */
	int refcnt;		   /* under g_lock */
	bool removed;		   /* under g_lock */
};

static TAILQ_HEAD(, nvt_key) g_keys = TAILQ_HEAD_INITIALIZER(g_keys);
static TAILQ_HEAD(, nvt_key) g_removed = TAILQ_HEAD_INITIALIZER(g_removed);
/* Recursive: the callbacks of nvt_keyring_foreach() may get and put keys. */
static pthread_mutex_t g_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

/* ---- keys ---- */

static void
key_free(struct nvt_key *key)
{
	nvt_secret_free(key->secret);
	free(key->name);
	free(key->path);
	free(key);
}

/* Drop one reference; the last one frees the key. Under g_lock. */
static void
key_put_locked(struct nvt_key *key)
{
	assert(key->refcnt > 0);
	if (--key->refcnt > 0) {
		return;
	}
	/* Cannot be listed in g_keys: the keyring holds a reference while it is. */
	assert(key->removed);
	TAILQ_REMOVE(&g_removed, key, link);
	key_free(key);
}

/* SPDK names a key of its global keyring "name" or ":name". */
static const char *
key_plain_name(const char *name)
{
	return name[0] == ':' ? name + 1 : name;
}

static struct nvt_key *
key_find_locked(const char *name)
{
	struct nvt_key *key;

	name = key_plain_name(name);
	TAILQ_FOREACH(key, &g_keys, link) {
		if (strcmp(key->name, name) == 0) {
			return key;
		}
	}
	return NULL;
}

static void
key_remove_locked(struct nvt_key *key)
{
	TAILQ_REMOVE(&g_keys, key, link);
	key->removed = true;
	TAILQ_INSERT_TAIL(&g_removed, key, link);
	key_put_locked(key);
}

/* ---- reading a key file ---- */

/* Say why the key is refused into \p why (for the log and the RPC answer); \p rc. */
static int __attribute__((format(printf, 4, 5)))
key_why(char *why, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return rc;
}

/* Names go to logs and JSON: printable, no ':' (SPDK's keyring separator). */
static bool
key_name_ok(const char *name)
{
	size_t len = strnlen(name, NVT_KEY_NAME_MAX + 1);
	size_t i;

	if (len == 0 || len > NVT_KEY_NAME_MAX) {
		return false;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)name[i] <= ' ' || name[i] == 0x7f || name[i] == ':') {
			return false;
		}
	}
	return true;
}

static int
key_args_check(const char *name, const char *path, char *why, size_t len)
{
	if (name == NULL || !key_name_ok(name)) {
		/* The name itself may not be fit to print. */
		return key_why(why, len, -EINVAL,
			       "invalid key name for '%s': 1 to %d characters, no ':', white "
			       "space or control characters",
			       path != NULL ? path : "", NVT_KEY_NAME_MAX);
	}
	if (path == NULL || path[0] != '/') {
		return key_why(why, len, -EINVAL, "key '%s': the path '%s' is not absolute", name,
			       path != NULL ? path : "");
	}
	return 0;
}

/* What SPDK demands of a key file, checked on the open file itself. */
static int
key_file_check(const struct nvt_key *key, int fd, char *why, size_t len)
{
	struct stat st;
	int rc;

	if (fstat(fd, &st) != 0) {
		rc = -errno;
		return key_why(why, len, rc, "key '%s': cannot stat '%s': %s", key->name, key->path,
			       nvt_strerror(rc));
	}
	if (!S_ISREG(st.st_mode)) {
		return key_why(why, len, -EINVAL, "key '%s': '%s' is not a regular file", key->name,
			       key->path);
	}
	if ((st.st_mode & 0077) != 0) {
		return key_why(
			why, len, -EPERM,
			"key '%s': '%s' is accessible by group or others (mode 0%03o); a key "
			"file must be mode 0600 or stricter",
			key->name, key->path, (unsigned int)(st.st_mode & 0777));
	}
	if (st.st_uid != geteuid()) {
		return key_why(why, len, -EPERM,
			       "key '%s': '%s' belongs to uid %u, not to this process's uid %u",
			       key->name, key->path, (unsigned int)st.st_uid,
			       (unsigned int)geteuid());
	}
	if (st.st_size > KEYRING_FILE_MAX) {
		return key_why(why, len, -EINVAL,
			       "key '%s': '%s' is %lld bytes; a key file holds one secret (at most "
			       "%d bytes)",
			       key->name, key->path, (long long)st.st_size, KEYRING_FILE_MAX);
	}
	return 0;
}

/* Up to KEYRING_FILE_MAX + 1 bytes of \p fd into \p buf; the count, or -errno. */
static ssize_t
key_file_read(int fd, char *buf)
{
	size_t len = 0;
	ssize_t n;

	while (len <= KEYRING_FILE_MAX) {
		n = read(fd, buf + len, KEYRING_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* The secret of the file open on \p fd into key->secret. */
static int
key_file_parse(const struct nvt_key *key, int fd, char *why, size_t len)
{
	char *buf = nvt_auth_secure_alloc(KEYRING_FILE_MAX + 1);
	ssize_t n;
	int rc = 0;

	if (buf == NULL) {
		return key_why(why, len, -ENOMEM, "key '%s': out of memory", key->name);
	}
	n = key_file_read(fd, buf);
	if (n < 0) {
		rc = key_why(why, len, (int)n, "key '%s': cannot read '%s': %s", key->name,
			     key->path, nvt_strerror((int)n));
	} else if (n > KEYRING_FILE_MAX) {
		rc = key_why(why, len, -EINVAL, "key '%s': '%s' grew past %d bytes while read",
			     key->name, key->path, KEYRING_FILE_MAX);
	} else if (nvt_secret_parse(buf, (size_t)n, key->secret) != 0) {
		rc = key_why(why, len, -EINVAL,
			     "key '%s': '%s' does not hold one valid secret: expected "
			     "DHHC-1:hh:<base64>: or NVMeTLSkey-1:hh:<base64>: as nvme "
			     "gen-dhchap-key or gen-tls-key write them (the key's CRC-32 matching, "
			     "its length suiting hh)",
			     key->name, key->path);
	}
	nvt_auth_secure_free(buf, KEYRING_FILE_MAX + 1);
	return rc;
}

static int
key_file_load(const struct nvt_key *key, char *why, size_t len)
{
	int fd, rc;

	/* O_NONBLOCK: opening a FIFO must not block; it is refused below. */
	fd = open(key->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		return key_why(why, len, rc, "key '%s': cannot open '%s': %s", key->name, key->path,
			       nvt_strerror(rc));
	}
	rc = key_file_check(key, fd, why, len);
	if (rc == 0) {
		rc = key_file_parse(key, fd, why, len);
	}
	close(fd);
	return rc;
}

/* ---- the keyring ---- */

static struct nvt_key *
key_new(const char *name, const char *path)
{
	struct nvt_key *key = calloc(1, sizeof(*key));

	if (key == NULL) {
		return NULL;
	}
	key->name = strdup(name);
	key->path = strdup(path);
	key->secret = nvt_secret_new();
	if (key->name == NULL || key->path == NULL || key->secret == NULL) {
		key_free(key);
		return NULL;
	}
	key->refcnt = 1;
	return key;
}

static bool
key_exists(const char *name)
{
	bool found;

	pthread_mutex_lock(&g_lock);
	found = key_find_locked(name) != NULL;
	pthread_mutex_unlock(&g_lock);
	return found;
}

/* List \p key unless another thread took its name while the file was read. */
static int
key_publish(struct nvt_key *key)
{
	int rc = 0;

	pthread_mutex_lock(&g_lock);
	if (key_find_locked(key->name) != NULL) {
		rc = -EEXIST;
	} else {
		TAILQ_INSERT_TAIL(&g_keys, key, link);
	}
	pthread_mutex_unlock(&g_lock);
	return rc;
}

static int
key_add(const char *name, const char *path, char *why, size_t len)
{
	struct nvt_key *key;
	int rc;

	rc = key_args_check(name, path, why, len);
	if (rc != 0) {
		return rc;
	}
	/* Checked first so that a duplicate never opens its file. */
	if (key_exists(name)) {
		return key_why(why, len, -EEXIST, "key '%s' already exists ('%s' not read)", name,
			       path);
	}
	key = key_new(name, path);
	if (key == NULL) {
		return key_why(why, len, -ENOMEM, "key '%s': out of memory", name);
	}
	rc = key_file_load(key, why, len);
	if (rc == 0 && key_publish(key) != 0) {
		rc = key_why(why, len, -EEXIST, "key '%s' already exists ('%s' not used)", name,
			     path);
	}
	if (rc != 0) {
		key_free(key);
	}
	return rc;
}

int
keyring_file_add_key_why(const char *name, const char *path, char *why, size_t len)
{
	int rc = key_add(name, path, why, len);

	if (rc != 0) {
		NVT_ERRLOG("keyring: %s\n", why);
		return rc;
	}
	NVT_INFOLOG("keyring: key '%s' added from '%s'\n", name, path);
	return 0;
}

int
nvt_keyring_file_add_key(const char *name, const char *path)
{
	char why[KEYRING_WHY_MAX];

	return keyring_file_add_key_why(name, path, why, sizeof(why));
}

int
nvt_keyring_remove_key(const char *name)
{
	struct nvt_key *key;

	pthread_mutex_lock(&g_lock);
	key = name != NULL ? key_find_locked(name) : NULL;
	if (key != NULL) {
		key_remove_locked(key);
	}
	pthread_mutex_unlock(&g_lock);
	return key != NULL ? 0 : -ENOENT;
}

struct nvt_key *
nvt_keyring_get_key(const char *name)
{
	struct nvt_key *key;

	if (name == NULL) {
		return NULL;
	}
	pthread_mutex_lock(&g_lock);
	key = key_find_locked(name);
	if (key != NULL) {
		key->refcnt++;
	}
	pthread_mutex_unlock(&g_lock);
	return key;
}

void
nvt_keyring_put_key(struct nvt_key *key)
{
	if (key == NULL) {
		return;
	}
	pthread_mutex_lock(&g_lock);
	key_put_locked(key);
	pthread_mutex_unlock(&g_lock);
}

const char *
nvt_key_get_name(const struct nvt_key *key)
{
	return key->name;
}

const char *
nvt_key_get_path(const struct nvt_key *key)
{
	return key->path;
}

enum nvt_secret_kind
nvt_key_get_kind(const struct nvt_key *key)
{
	return key->secret->kind;
}

void
nvt_key_get_secret(const struct nvt_key *key, struct nvt_secret *out)
{
	memcpy(out, key->secret, sizeof(*out));
}

void
nvt_keyring_foreach(nvt_keyring_foreach_cb cb, void *ctx)
{
	struct nvt_key *key, *tmp;

	pthread_mutex_lock(&g_lock);
	/* Safe: the callback may remove the key it is given. */
	TAILQ_FOREACH_SAFE(key, &g_keys, link, tmp) {
		cb(ctx, key);
	}
	pthread_mutex_unlock(&g_lock);
}

void
keyring_foreach_all(nvt_keyring_foreach_cb cb, void *ctx)
{
	struct nvt_key *key, *tmp;

	pthread_mutex_lock(&g_lock);
	nvt_keyring_foreach(cb, ctx);
	TAILQ_FOREACH_SAFE(key, &g_removed, link, tmp) {
		cb(ctx, key);
	}
	pthread_mutex_unlock(&g_lock);
}

int
keyring_key_refcnt(const struct nvt_key *key)
{
	int refcnt;

	pthread_mutex_lock(&g_lock);
	refcnt = key->refcnt;
	pthread_mutex_unlock(&g_lock);
	return refcnt;
}

bool
keyring_key_is_removed(const struct nvt_key *key)
{
	bool removed;

	pthread_mutex_lock(&g_lock);
	removed = key->removed;
	pthread_mutex_unlock(&g_lock);
	return removed;
}

void
nvt_keyring_clear(void)
{
	struct nvt_key *key;

	pthread_mutex_lock(&g_lock);
	while ((key = TAILQ_FIRST(&g_keys)) != NULL) {
		key_remove_locked(key);
	}
	pthread_mutex_unlock(&g_lock);
}
