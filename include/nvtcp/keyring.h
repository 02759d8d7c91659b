/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The keyring: named secrets that configuration refers to by name
 * (nvmf_subsystem_add_host's psk, dhchap_key, dhchap_ctrlr_key), so that
 * no secret ever appears in a configuration file, an RPC answer or a log.
 *
 * Keys come from files (SPDK's keyring_file module): the file holds one
 * secret in an interchange format of nvtcp/auth.h and must not be
 * accessible to group or others (mode 0600 or stricter), as SPDK demands.
 * The file is read and checked when the key is added; its contents live
 * in the secure heap (nvt_auth_secure_init()) and are wiped when the last
 * reference goes.
 *
 * Threading: every function runs on the app thread (where the RPC server
 * and configuration loading run), except nvt_key_get_secret(), which any
 * thread may call on a key it holds a reference to.
 *
 * Lifetime: a key is referenced by the keyring while it is in it and by
 * each holder of nvt_keyring_get_key(). Removing a key takes it out of the
 * keyring (its name can be reused at once); holders keep using it until
 * they put their reference.
 */
#ifndef NVTCP_KEYRING_H
#define NVTCP_KEYRING_H

#include <stdbool.h>
#include <stddef.h>

#include "nvtcp/auth.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nvt_key;

/** Longest key name, NUL excluded. */
#define NVT_KEY_NAME_MAX 255

/**
 * Add a key read from a file.
 *
 * \return 0; -EEXIST (a key of that name is in the keyring), -EINVAL (bad
 * name, relative path, or the file does not hold one valid secret), -EPERM
 * (the file is accessible to group or others), -ENOENT, -EACCES, -ENOMEM.
 * Every failure is logged with the name and path, never the contents.
 */
int nvt_keyring_file_add_key(const char *name, const char *path);

/** Remove a key from the keyring. \return 0 or -ENOENT. */
int nvt_keyring_remove_key(const char *name);

/** A new reference to the key of that name, or NULL when there is none. */
struct nvt_key *nvt_keyring_get_key(const char *name);

/** Drop a reference of nvt_keyring_get_key(); NULL is a no-op. */
void nvt_keyring_put_key(struct nvt_key *key);

/** The key's name (stable while a reference is held). */
const char *nvt_key_get_name(const struct nvt_key *key);

/** The path the key was read from. */
const char *nvt_key_get_path(const struct nvt_key *key);

/** The kind of secret the key holds. */
enum nvt_secret_kind nvt_key_get_kind(const struct nvt_key *key);

/** Copy the key's secret into \p out (the caller wipes it). Any thread. */
void nvt_key_get_secret(const struct nvt_key *key, struct nvt_secret *out);

/** Called by nvt_keyring_foreach() for each key, in the order they were added. */
typedef void (*nvt_keyring_foreach_cb)(void *ctx, const struct nvt_key *key);

/** Visit every key of the keyring. */
void nvt_keyring_foreach(nvt_keyring_foreach_cb cb, void *ctx);

/** Remove every key (at shutdown); references still held stay valid. */
void nvt_keyring_clear(void);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_KEYRING_H */
