/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TLS PSKs of allowed hosts, for the handshakes of secure listeners.
 *
 * A handshake runs on a poll group's thread and must find the PSK of the
 * identity the host offers at once, while hosts belong to the app thread.
 * So the app thread keeps a copy of every (subsystem, host, configured PSK)
 * here, under a mutex; handshakes read it. Not on any I/O path.
 *
 * The identity names the host and the subsystem (NVMe/TCP 3.6.1.3):
 * "NVMe<v>R<hh> <hostnqn> <subnqn>[ <digest>]". The TLS PSK is derived from
 * the configured PSK through the retained PSK, as the host derives it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/auth.h"
#include "nvtcp/likely.h"
#include "nvtcp/string.h"

#include "nvmf_internal.h"

struct psk_entry {
	char subnqn[NVT_NVMF_NQN_MAX_LEN + 1];
	char hostnqn[NVT_NVMF_NQN_MAX_LEN + 1];
	/* The configured PSK, in the secure heap. */
	struct nvt_secret *psk;
	TAILQ_ENTRY(psk_entry) link;
};

static pthread_mutex_t g_psk_lock = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, psk_entry) g_psks = TAILQ_HEAD_INITIALIZER(g_psks);

/* With g_psk_lock held. */
static struct psk_entry *
psk_find_locked(const char *subnqn, const char *hostnqn)
{
	struct psk_entry *e;

	TAILQ_FOREACH(e, &g_psks, link) {
		if (strcmp(e->subnqn, subnqn) == 0 && strcmp(e->hostnqn, hostnqn) == 0) {
			return e;
		}
	}
	return NULL;
}

static void
psk_entry_free(struct psk_entry *e)
{
	nvt_secret_free(e->psk);
	free(e);
}

int
nvmf_psk_add(const char *subnqn, const char *hostnqn, const struct nvt_key *key)
{
	struct psk_entry *e = calloc(1, sizeof(*e)), *old;

	if (e == NULL || (e->psk = nvt_secret_new()) == NULL) {
		free(e);
		return -ENOMEM;
	}
	nvt_key_get_secret(key, e->psk);
	nvt_strcpy_trunc(e->subnqn, sizeof(e->subnqn), subnqn);
	nvt_strcpy_trunc(e->hostnqn, sizeof(e->hostnqn), hostnqn);
	pthread_mutex_lock(&g_psk_lock);
	old = psk_find_locked(subnqn, hostnqn);
	if (old != NULL) {
		TAILQ_REMOVE(&g_psks, old, link);
	}
	TAILQ_INSERT_TAIL(&g_psks, e, link);
	pthread_mutex_unlock(&g_psk_lock);
	if (old != NULL) {
		psk_entry_free(old);
	}
	return 0;
}

void
nvmf_psk_remove(const char *subnqn, const char *hostnqn)
{
	struct psk_entry *e;

	pthread_mutex_lock(&g_psk_lock);
	e = psk_find_locked(subnqn, hostnqn);
	if (e != NULL) {
		TAILQ_REMOVE(&g_psks, e, link);
	}
	pthread_mutex_unlock(&g_psk_lock);
	if (e != NULL) {
		psk_entry_free(e);
	}
}

/* Copy the configured PSK of (subnqn, hostnqn) into \p out; false when there is none. */
static bool
psk_copy(const char *subnqn, const char *hostnqn, struct nvt_secret *out)
{
	struct psk_entry *e;

	pthread_mutex_lock(&g_psk_lock);
	e = psk_find_locked(subnqn, hostnqn);
	if (e != NULL) {
		*out = *e->psk;
	}
	pthread_mutex_unlock(&g_psk_lock);
	return e != NULL;
}

/* The cipher suite a PSK bound with \p hash goes with. */
static unsigned int
psk_cipher(enum nvt_auth_hash hash)
{
	return hash == NVT_AUTH_HASH_SHA384 ? NVT_SOCK_TLS_AES_256_GCM_SHA384
					    : NVT_SOCK_TLS_AES_128_GCM_SHA256;
}

/*
 * Whether the client bound its ClientHello with \p key as a PSK of
 * \p hash. Without the ClientHello there is nothing to check against.
 */
static bool
psk_binds(enum nvt_auth_hash hash, const uint8_t *key, size_t key_len, const uint8_t *ch,
	  size_t ch_len, unsigned int index)
{
	return ch == NULL || nvt_tls_psk_binder_check(hash, key, key_len, ch, ch_len, index) == 1;
}

/*
 * The TLS PSK the client used: SPDK derives it as RFC 8446 says, libnvme
 * (before its 2025 fix, as Debian 13 ships it) with its own HKDF label
 * layout; tlshd binds the 48-byte key of an "R02" identity with SHA-256.
 * The identity does not tell which: the binder does, so each candidate is
 * checked against it.
 */
static int
psk_pick(const struct nvt_secret *psk, const char *identity, enum nvt_auth_hash hash,
	 const uint8_t *ch, size_t ch_len, unsigned int index, struct nvt_sock_tls_psk *out)
{
	static const enum nvt_tls_psk_kdf kdfs[] = { NVT_TLS_PSK_KDF_RFC8446,
						     NVT_TLS_PSK_KDF_LIBNVME_COMPAT };
	const enum nvt_auth_hash binds[] = { hash, NVT_AUTH_HASH_SHA256 };
	size_t nbinds = hash == NVT_AUTH_HASH_SHA384 ? 2 : 1, i, j;

	for (i = 0; i < NVT_COUNTOF(kdfs); i++) {
		if (nvt_tls_identity_psk(psk, identity, kdfs[i], out->key, &out->key_len) != 0) {
			continue;
		}
		for (j = 0; j < nbinds; j++) {
			if (psk_binds(binds[j], out->key, out->key_len, ch, ch_len, index)) {
				out->cipher = psk_cipher(binds[j]);
				return 0;
			}
		}
	}
	nvt_auth_wipe(out->key, sizeof(out->key));
	out->key_len = 0;
	return -EKEYREJECTED;
}

int
nvmf_psk_find(void *ctx, const char *identity, const uint8_t *client_hello, size_t client_hello_len,
	      unsigned int identity_index, struct nvt_sock_tls_psk *out)
{
	char hostnqn[NVT_NVMF_NQN_FIELD_SIZE], subnqn[NVT_NVMF_NQN_FIELD_SIZE];
	struct nvt_secret psk;
	enum nvt_auth_hash hash;
	int version, rc;

	(void)ctx;
	/* The socket logs the refusal with the identity: no line of our own. */
	if (nvt_tls_psk_identity_parse(identity, &version, &hash, hostnqn, subnqn) != 0 ||
	    !psk_copy(subnqn, hostnqn, &psk)) {
		return -ENOENT;
	}
	rc = psk_pick(&psk, identity, hash, client_hello, client_hello_len, identity_index, out);
	nvt_auth_wipe(&psk, sizeof(psk));
	return rc;
}
