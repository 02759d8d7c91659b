/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hosts a subsystem allows, and the keys each must prove it holds: a
 * TLS PSK (secure channel only) and DH-HMAC-CHAP secrets. App thread.
 *
 * Keys are held by reference to the keyring, by name: what a host must
 * hold is configuration, the secret stays in the keyring's memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"

#include "nvmf_internal.h"

struct nvmf_host *
nvmf_subsystem_find_host(const struct nvt_nvmf_subsystem *subsystem, const char *hostnqn)
{
	struct nvmf_host *host;

	TAILQ_FOREACH(host, &subsystem->hosts, link) {
		if (strcmp(host->nqn, hostnqn) == 0) {
			return host;
		}
	}
	return NULL;
}

static void
host_keys_put(struct nvt_key **psk, struct nvt_key **key, struct nvt_key **ctrlr_key)
{
	if (psk != NULL) {
		nvt_keyring_put_key(*psk);
		*psk = NULL;
	}
	nvt_keyring_put_key(*key);
	nvt_keyring_put_key(*ctrlr_key);
	*key = NULL;
	*ctrlr_key = NULL;
}

void
nvmf_host_free(const struct nvt_nvmf_subsystem *subsystem, struct nvmf_host *host)
{
	if (host->psk != NULL) {
		nvmf_psk_remove(subsystem->nqn, host->nqn);
	}
	host_keys_put(&host->psk, &host->dhchap_key, &host->dhchap_ctrlr_key);
	free(host);
}

/* A reference to key \p name of \p kind into \p out (NULL name: none). */
static int
host_key_get(const char *hostnqn, const char *param, const char *name, enum nvt_secret_kind kind,
	     struct nvt_key **out)
{
	*out = NULL;
	if (name == NULL) {
		return 0;
	}
	*out = nvt_keyring_get_key(name);
	if (*out == NULL) {
		NVT_ERRLOG("host %s: %s '%s' is not in the keyring\n", hostnqn, param, name);
		return -ENOKEY;
	}
	if (nvt_key_get_kind(*out) != kind) {
		NVT_ERRLOG("host %s: %s '%s' is a %s, not a %s\n", hostnqn, param, name,
			   kind == NVT_SECRET_TLS_PSK ? "DH-HMAC-CHAP secret" : "TLS PSK",
			   kind == NVT_SECRET_TLS_PSK ? "TLS PSK" : "DH-HMAC-CHAP secret");
		nvt_keyring_put_key(*out);
		*out = NULL;
		return -EKEYREJECTED;
	}
	return 0;
}

/* The DH-HMAC-CHAP keys of \p keys, checked; on failure nothing is held. */
static int
host_dhchap_keys_get(const char *hostnqn, const struct nvt_nvmf_host_keys *keys,
		     struct nvt_key **key, struct nvt_key **ctrlr_key)
{
	int rc;

	*key = NULL;
	*ctrlr_key = NULL;
	if (keys->dhchap_ctrlr_key != NULL && keys->dhchap_key == NULL) {
		NVT_ERRLOG("host %s: dhchap_ctrlr_key needs a dhchap_key\n", hostnqn);
		return -EINVAL;
	}
	rc = host_key_get(hostnqn, "dhchap_key", keys->dhchap_key, NVT_SECRET_DHCHAP, key);
	if (rc == 0) {
		rc = host_key_get(hostnqn, "dhchap_ctrlr_key", keys->dhchap_ctrlr_key,
				  NVT_SECRET_DHCHAP, ctrlr_key);
	}
	if (rc != 0) {
		host_keys_put(NULL, key, ctrlr_key);
	}
	return rc;
}

int
nvt_nvmf_subsystem_add_host_ext(struct nvt_nvmf_subsystem *subsystem, const char *hostnqn,
				const struct nvt_nvmf_host_keys *keys)
{
	static const struct nvt_nvmf_host_keys no_keys;
	struct nvmf_host *host;
	int rc;

	if (!nvt_nvmf_nqn_is_valid(hostnqn)) {
		return -EINVAL;
	}
	if (nvmf_subsystem_find_host(subsystem, hostnqn) != NULL) {
		return -EEXIST;
	}
	host = calloc(1, sizeof(*host));
	if (host == NULL) {
		return -ENOMEM;
	}
	keys = keys != NULL ? keys : &no_keys;
	rc = host_key_get(hostnqn, "psk", keys->psk, NVT_SECRET_TLS_PSK, &host->psk);
	if (rc == 0) {
		rc = host_dhchap_keys_get(hostnqn, keys, &host->dhchap_key,
					  &host->dhchap_ctrlr_key);
	}
	nvt_strcpy_trunc(host->nqn, sizeof(host->nqn), hostnqn);
	if (rc == 0 && host->psk != NULL) {
		rc = nvmf_psk_add(subsystem->nqn, hostnqn, host->psk);
		if (rc != 0) {
			nvt_keyring_put_key(host->psk);
			host->psk = NULL;
		}
	}
	if (rc != 0) {
		nvmf_host_free(subsystem, host);
		return rc;
	}
	TAILQ_INSERT_TAIL(&subsystem->hosts, host, link);
	nvmf_discovery_changed(nvmf_tgt_get());
	return 0;
}

int
nvt_nvmf_subsystem_add_host(struct nvt_nvmf_subsystem *subsystem, const char *hostnqn)
{
	return nvt_nvmf_subsystem_add_host_ext(subsystem, hostnqn, NULL);
}

int
nvt_nvmf_subsystem_set_keys(struct nvt_nvmf_subsystem *subsystem, const char *hostnqn,
			    const struct nvt_nvmf_host_keys *keys)
{
	struct nvmf_host *host = nvmf_subsystem_find_host(subsystem, hostnqn);
	struct nvt_key *key, *ctrlr_key;
	int rc;

	if (host == NULL) {
		return -ENOENT;
	}
	rc = host_dhchap_keys_get(hostnqn, keys, &key, &ctrlr_key);
	if (rc != 0) {
		return rc;
	}
	host_keys_put(NULL, &host->dhchap_key, &host->dhchap_ctrlr_key);
	host->dhchap_key = key;
	host->dhchap_ctrlr_key = ctrlr_key;
	NVT_NOTICELOG("%s: host %s: DH-HMAC-CHAP keys set (%s%s%s)\n", subsystem->nqn, hostnqn,
		      key != NULL ? nvt_key_get_name(key) : "none", ctrlr_key != NULL ? ", " : "",
		      ctrlr_key != NULL ? nvt_key_get_name(ctrlr_key) : "");
	return 0;
}

int
nvt_nvmf_subsystem_remove_host(struct nvt_nvmf_subsystem *subsystem, const char *hostnqn)
{
	struct nvmf_host *host = nvmf_subsystem_find_host(subsystem, hostnqn);

	if (host == NULL) {
		return -ENOENT;
	}
	TAILQ_REMOVE(&subsystem->hosts, host, link);
	nvmf_host_free(subsystem, host);
	nvmf_discovery_changed(nvmf_tgt_get());
	return 0;
}

bool
nvt_nvmf_subsystem_host_allowed(const struct nvt_nvmf_subsystem *subsystem, const char *hostnqn)
{
	if (subsystem->allow_any_host) {
		return true;
	}
	return hostnqn != NULL && nvmf_subsystem_find_host(subsystem, hostnqn) != NULL;
}

static const char *
key_name(const struct nvt_key *key)
{
	return key != NULL ? nvt_key_get_name(key) : NULL;
}

void
nvt_nvmf_subsystem_foreach_host(const struct nvt_nvmf_subsystem *subsystem, nvt_nvmf_host_cb cb,
				void *ctx)
{
	const struct nvmf_host *host;
	struct nvt_nvmf_host_keys keys;

	TAILQ_FOREACH(host, &subsystem->hosts, link) {
		keys = (struct nvt_nvmf_host_keys){ .psk = key_name(host->psk),
						    .dhchap_key = key_name(host->dhchap_key),
						    .dhchap_ctrlr_key =
							    key_name(host->dhchap_ctrlr_key) };
		cb(ctx, host->nqn, &keys);
	}
}
