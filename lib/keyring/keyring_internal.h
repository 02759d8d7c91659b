/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the keyring's RPC methods need beyond nvtcp/keyring.h: why a key was
 * refused, the keys removed while still held, and the reference counts
 * SPDK's keyring_get_keys reports.
 */
#ifndef NVT_KEYRING_INTERNAL_H
#define NVT_KEYRING_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "nvtcp/keyring.h"

/* Room for the reason of a refusal: the key's name, its path and why. */
#define KEYRING_WHY_MAX (NVT_KEY_NAME_MAX + 4096 + 256)

/*
 * nvt_keyring_file_add_key(), which also says why it refused in \p why:
 * the text it logs, naming the key and the path.
 */
int keyring_file_add_key_why(const char *name, const char *path, char *why, size_t len);

/*
 * Visit the keys of the keyring, in the order they were added, then the
 * keys removed from it that holders still use. \p cb runs under the
 * keyring's lock (a recursive one: it may call the keyring).
 */
void keyring_foreach_all(nvt_keyring_foreach_cb cb, void *ctx);

/* References to the key: the keyring's own while it is in it, and each holder's. */
int keyring_key_refcnt(const struct nvt_key *key);

/* Whether the key was taken out of the keyring (its holders still use it). */
bool keyring_key_is_removed(const struct nvt_key *key);

#endif /* NVT_KEYRING_INTERNAL_H */
