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
#include "nvtcp/log.h"
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

/* The hash an identity names must be the one the configured PSK was made for. */
static bool
psk_hash_matches(const struct nvt_secret *psk, enum nvt_auth_hash hash)
{
	if (psk->hash == NVT_AUTH_HASH_NONE) {
		return nvt_auth_hash_len(hash) == psk->len;
	}
	return psk->hash == hash;
}

/* The TLS PSK of \p identity from the configured \p psk; 0 or -errno. */
static int
psk_derive(const struct nvt_secret *psk, const char *identity, int version,
	   enum nvt_auth_hash hash, const char *hostnqn, const char *subnqn,
	   struct nvt_sock_tls_psk *out)
{
	uint8_t retained[NVT_AUTH_MAX_HASH_LEN];
	char expect[NVT_AUTH_PSK_IDENTITY_MAX];
	int rc;

	rc = nvt_tls_retained_psk(psk, hostnqn, retained);
	if (rc == 0 && version == 1) {
		/* Version 1 carries a digest of the retained PSK: it must be ours. */
		rc = nvt_tls_psk_identity(version, hash, hostnqn, subnqn, retained, psk->len,
					  expect, sizeof(expect));
		rc = rc < 0 ? rc : (strcmp(expect, identity) == 0 ? 0 : -EKEYREJECTED);
	}
	if (rc == 0) {
		rc = nvt_tls_derive_psk(hash, retained, psk->len, identity, out->key);
	}
	if (rc == 0) {
		out->key_len = psk->len;
		out->cipher = hash == NVT_AUTH_HASH_SHA384 ? NVT_SOCK_TLS_AES_256_GCM_SHA384
							   : NVT_SOCK_TLS_AES_128_GCM_SHA256;
	}
	nvt_auth_wipe(retained, sizeof(retained));
	return rc;
}

int
nvmf_psk_find(void *ctx, const char *identity, struct nvt_sock_tls_psk *out)
{
	char hostnqn[NVT_NVMF_NQN_FIELD_SIZE], subnqn[NVT_NVMF_NQN_FIELD_SIZE];
	struct nvt_secret psk;
	enum nvt_auth_hash hash;
	int version, rc;

	(void)ctx;
	if (nvt_tls_psk_identity_parse(identity, &version, &hash, hostnqn, subnqn) != 0) {
		NVT_ERRLOG("TLS: PSK identity '%s' is not an NVMe one\n", identity);
		return -ENOENT;
	}
	if (!psk_copy(subnqn, hostnqn, &psk)) {
		NVT_ERRLOG("TLS: no PSK for host %s on %s\n", hostnqn, subnqn);
		return -ENOENT;
	}
	if (!psk_hash_matches(&psk, hash)) {
		NVT_ERRLOG("TLS: host %s on %s offers a PSK of another hash than configured\n",
			   hostnqn, subnqn);
		rc = -ENOENT;
	} else {
		rc = psk_derive(&psk, identity, version, hash, hostnqn, subnqn, out);
		if (rc != 0) {
			NVT_ERRLOG("TLS: host %s on %s: PSK identity refused (%s)\n", hostnqn,
				   subnqn, nvt_strerror(-rc));
			rc = -ENOENT;
		}
	}
	nvt_auth_wipe(&psk, sizeof(psk));
	return rc;
}
