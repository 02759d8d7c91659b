/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A controller's secrets: the DH-HMAC-CHAP keys of its options, transformed
 * once for its host and subsystem NQNs, and the TLS PSK the handshakes use,
 * derived from the configured PSK. All of it lives in the secure heap and is
 * wiped when the controller goes. Also: reading a key file as nvme-cli's
 * gen-dhchap-key and gen-tls-key print them, and the lists of digests and
 * groups the tools take.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvme_internal.h"

/* Longest key file: an interchange string is under 128 bytes, white space aside. */
#define KEY_FILE_MAX 4096

static bool
secret_is(const struct nvt_secret *s, enum nvt_secret_kind kind)
{
	return s == NULL || s->kind == kind;
}

/* What nvt_nvme_ctrlr_connect() refuses at once, before any derivation. */
static int
keys_check_opts(const struct nvt_nvme_ctrlr_opts *o)
{
	if (!secret_is(o->dhchap_key, NVT_SECRET_DHCHAP) ||
	    !secret_is(o->dhchap_ctrlr_key, NVT_SECRET_DHCHAP) ||
	    !secret_is(o->tls_psk, NVT_SECRET_TLS_PSK)) {
		NVT_ERRLOG("a DH-HMAC-CHAP key must be a DHHC-1 secret, a TLS PSK an "
			   "NVMeTLSkey-1 one\n");
		return -EINVAL;
	}
	if (o->dhchap_ctrlr_key != NULL && o->dhchap_key == NULL) {
		NVT_ERRLOG("a DH-HMAC-CHAP controller key needs a host key as well\n");
		return -EINVAL;
	}
	if ((o->dhchap_digests & NVT_NVME_DHCHAP_DIGESTS_ALL) == 0 ||
	    (o->dhchap_digests & ~NVT_NVME_DHCHAP_DIGESTS_ALL) != 0 ||
	    (o->dhchap_dhgroups & NVT_NVME_DHCHAP_DHGROUPS_ALL) == 0 ||
	    (o->dhchap_dhgroups & ~NVT_NVME_DHCHAP_DHGROUPS_ALL) != 0) {
		NVT_ERRLOG("DH-HMAC-CHAP: no valid digest or DH group to offer\n");
		return -EINVAL;
	}
	if (o->tls_psk != NULL && o->sock_impl != NULL && strcmp(o->sock_impl, "ssl") != 0) {
		NVT_ERRLOG("a TLS PSK needs the ssl socket implementation, not %s\n", o->sock_impl);
		return -EINVAL;
	}
	return 0;
}

/* The hash of a TLS PSK: the one named in it, else the one its length goes with. */
static enum nvt_auth_hash
psk_hash(const struct nvt_secret *psk)
{
	if (psk->hash != NVT_AUTH_HASH_NONE) {
		return psk->hash;
	}
	return psk->len == 48 ? NVT_AUTH_HASH_SHA384 : NVT_AUTH_HASH_SHA256;
}

/* The identity: the one given, else version 0 "NVMe0R<hh> <hostnqn> <subnqn>". */
static int
keys_tls_identity(struct nvme_keys *keys, const struct nvt_nvme_ctrlr *ctrlr,
		  const uint8_t *retained)
{
	const struct nvt_nvme_ctrlr_opts *o = &ctrlr->opts;
	int rc;

	if (o->psk_identity != NULL) {
		rc = nvt_strcpy_trunc(keys->psk.identity, sizeof(keys->psk.identity),
				      o->psk_identity);
		return rc != 0 ? -EINVAL : 0;
	}
	rc = nvt_tls_psk_identity(0, psk_hash(o->tls_psk), o->hostnqn, ctrlr->trid.subnqn, retained,
				  o->tls_psk->len, keys->psk.identity, sizeof(keys->psk.identity));
	return rc < 0 ? rc : 0;
}

/* Retained PSK, identity, then the TLS PSK derived from both. */
static int
keys_tls(struct nvme_keys *keys, const struct nvt_nvme_ctrlr *ctrlr)
{
	const struct nvt_secret *psk = ctrlr->opts.tls_psk;
	enum nvt_auth_hash hash = psk_hash(psk);
	uint8_t retained[NVT_AUTH_MAX_HASH_LEN];
	int rc;

	rc = nvt_tls_retained_psk_kdf(psk, ctrlr->opts.hostnqn, ctrlr->opts.tls_psk_kdf, retained);
	if (rc == 0) {
		rc = keys_tls_identity(keys, ctrlr, retained);
	}
	if (rc == 0) {
		rc = nvt_tls_derive_psk_kdf(hash, retained, psk->len, keys->psk.identity,
					    ctrlr->opts.tls_psk_kdf, keys->psk.key);
	}
	nvt_auth_wipe(retained, sizeof(retained));
	if (rc != 0) {
		NVT_ERRLOG("ctrlr %s: deriving the TLS PSK failed: %s\n", ctrlr->trid.subnqn,
			   nvt_strerror(rc));
		return rc;
	}
	keys->psk.key_len = psk->len;
	keys->psk.cipher = hash == NVT_AUTH_HASH_SHA384 ? NVT_SOCK_TLS_AES_256_GCM_SHA384
							: NVT_SOCK_TLS_AES_128_GCM_SHA256;
	keys->tls_opts.client_psk = &keys->psk;
	keys->tls = true;
	return 0;
}

static int
keys_dhchap(struct nvme_keys *keys, const struct nvt_nvme_ctrlr *ctrlr)
{
	const struct nvt_nvme_ctrlr_opts *o = &ctrlr->opts;
	int rc = 0;

	keys->digests = o->dhchap_digests;
	keys->dhgroups = o->dhchap_dhgroups;
	if (o->dhchap_key != NULL) {
		rc = nvt_auth_transform_key(o->dhchap_key, o->hostnqn, keys->kh, &keys->kh_len);
	}
	if (rc == 0 && o->dhchap_ctrlr_key != NULL) {
		rc = nvt_auth_transform_key(o->dhchap_ctrlr_key, ctrlr->trid.subnqn, keys->kc,
					    &keys->kc_len);
	}
	if (rc != 0) {
		NVT_ERRLOG("ctrlr %s: transforming the DH-HMAC-CHAP keys failed: %s\n",
			   ctrlr->trid.subnqn, nvt_strerror(rc));
	}
	return rc;
}

int
nvme_keys_create(struct nvt_nvme_ctrlr *ctrlr)
{
	struct nvt_nvme_ctrlr_opts *o = &ctrlr->opts;
	struct nvme_keys *keys;
	int rc;

	/* Older callers leave these 0: offer everything, as the defaults do. */
	o->dhchap_digests = o->dhchap_digests ? o->dhchap_digests : NVT_NVME_DHCHAP_DIGESTS_ALL;
	o->dhchap_dhgroups = o->dhchap_dhgroups ? o->dhchap_dhgroups : NVT_NVME_DHCHAP_DHGROUPS_ALL;
	rc = keys_check_opts(o);
	if (rc != 0 || (o->dhchap_key == NULL && o->tls_psk == NULL)) {
		goto out_forget;
	}
	keys = nvt_auth_secure_alloc(sizeof(*keys));
	if (keys == NULL) {
		rc = -ENOMEM;
		goto out_forget;
	}
	rc = keys_dhchap(keys, ctrlr);
	if (rc == 0 && o->tls_psk != NULL) {
		rc = keys_tls(keys, ctrlr);
	}
	if (rc != 0) {
		nvme_keys_destroy(&keys);
		goto out_forget;
	}
	ctrlr->keys = keys;
out_forget:
	/* The caller's secrets are not ours to keep pointing at. */
	o->dhchap_key = o->dhchap_ctrlr_key = o->tls_psk = NULL;
	o->psk_identity = NULL;
	return rc;
}

void
nvme_keys_destroy(struct nvme_keys **keys)
{
	nvt_auth_secure_free(*keys, sizeof(**keys));
	*keys = NULL;
}

/* ---- key files and lists ---- */

/* Read a small file whole into \p buf (NUL terminated); its length or -errno. */
static ssize_t
read_key_file(const char *path, char *buf, size_t size)
{
	struct stat st;
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		return -errno;
	}
	n = fstat(fd, &st) != 0 ? -errno : 0;
	if (n == 0 && !S_ISREG(st.st_mode)) {
		n = -EINVAL;
	} else if (n == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		/* As the keyring (and SPDK's keyring_file): a secret others may read is refused. */
		n = -EPERM;
	}
	if (n != 0) {
		close(fd);
		return n;
	}
	while ((n = read(fd, buf + len, size - 1 - (size_t)len)) > 0) {
		len += n;
		if ((size_t)len == size - 1) {
			n = -EFBIG;
			break;
		}
	}
	close(fd);
	if (n < 0) {
		return n == -EFBIG ? n : -errno;
	}
	buf[len] = '\0';
	return len;
}

int
nvt_nvme_secret_read_file(const char *path, enum nvt_secret_kind kind, struct nvt_secret **secret)
{
	char *buf = nvt_auth_secure_alloc(KEY_FILE_MAX);
	struct nvt_secret *s = NULL;
	ssize_t len;
	int rc;

	if (buf == NULL) {
		return -ENOMEM;
	}
	len = read_key_file(path, buf, KEY_FILE_MAX);
	rc = len < 0 ? (int)len : 0;
	if (rc == 0) {
		s = nvt_secret_new();
		rc = s == NULL ? -ENOMEM : nvt_secret_parse(buf, (size_t)len, s);
	}
	if (rc == 0 && s->kind != kind) {
		rc = -EINVAL;
	}
	nvt_auth_secure_free(buf, KEY_FILE_MAX);
	if (rc != 0) {
		nvt_secret_free(s);
		return rc;
	}
	*secret = s;
	return 0;
}

/* Split \p list at commas; \p id_of maps a name to its ID (or -EINVAL). */
static int
parse_id_list(const char *list, int (*id_of)(const char *name), unsigned int min_id, uint32_t *mask)
{
	char name[32];
	uint32_t m = 0;
	size_t n;
	int id;

	while (*list != '\0') {
		n = strcspn(list, ",");
		if (n == 0 || n >= sizeof(name)) {
			return -EINVAL;
		}
		memcpy(name, list, n);
		name[n] = '\0';
		id = id_of(name);
		if (id < (int)min_id || id > 31) {
			return -EINVAL;
		}
		m |= 1u << id;
		if (list[n] == ',' && list[n + 1] == '\0') {
			return -EINVAL;
		}
		list += n + (list[n] == ',');
	}
	if (m == 0) {
		return -EINVAL;
	}
	*mask = m;
	return 0;
}

int
nvt_nvme_dhchap_digests_parse(const char *list, uint32_t *mask)
{
	return parse_id_list(list, nvt_auth_hash_from_name, NVT_AUTH_HASH_SHA256, mask);
}

int
nvt_nvme_dhchap_dhgroups_parse(const char *list, uint32_t *mask)
{
	return parse_id_list(list, nvt_auth_dhgroup_from_name, NVT_AUTH_DHGROUP_NULL, mask);
}
