/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Security options of the host tools: see sec_args.h. Key files are read
 * once, before any connection, into the secure heap; their contents are
 * never printed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nvtcp/sock.h"
#include "nvtcp/string.h"
#include "sec_args.h"

const char g_sec_args_usage[] =
	" -S, --default-sock-impl NAME  socket implementation: posix (default), uring,\n"
	"                        ssl (TLS 1.3; taken by itself with --psk-path)\n"
	"     --psk-path FILE    TLS PSK in interchange format (NVMeTLSkey-1:..., as\n"
	"                        'nvme gen-tls-key' prints it); the file must be 0600\n"
	"     --psk-identity ID  TLS PSK identity instead of 'NVMe0R0x HOSTNQN SUBNQN'\n"
	"     --psk-compat       derive the TLS PSK as libnvme did before its 2025 fix\n"
	"                        (nvme-cli --compat; Debian 13's Linux targets expect\n"
	"                        it); default: RFC 8446, as the specification and SPDK\n"
	"     --tls-version N    13 (or 0, the default): TLS 1.3 is the only one\n"
	"     --enable-ktls, --disable-ktls  the TLS data path in the kernel where it\n"
	"                        can (default) or in OpenSSL\n"
	"     --dhchap-key FILE  DH-HMAC-CHAP host key (DHHC-1:..., as 'nvme\n"
	"                        gen-dhchap-key' prints it; the file must be 0600);\n"
	"                        needed when the controller asks for authentication\n"
	"     --dhchap-ctrlr-key FILE  the controller's key: authenticate it too\n"
	"                        (bidirectional; needs --dhchap-key)\n"
	"     --dhchap-digests LIST  hash functions to offer (default\n"
	"                        sha256,sha384,sha512)\n"
	"     --dhchap-dhgroups LIST  DH groups to offer (default null,ffdhe2048,\n"
	"                        ffdhe3072,ffdhe4096,ffdhe6144,ffdhe8192)\n";

static int
parse_tls_version(struct sec_args *a, const char *arg)
{
	uint64_t v;

	if (nvt_parse_u64(arg, 255, &v) != 0) {
		fprintf(stderr, "--tls-version wants a number, not '%s'\n", arg);
		return -EINVAL;
	}
	a->tls_version = (uint32_t)v;
	a->tls_version_set = true;
	return 1;
}

int
sec_args_parse(struct sec_args *a, int ch, const char *arg)
{
	switch (ch) {
	case 'S':
	case SEC_OPT_SOCK_IMPL:
		a->sock_impl = arg;
		return 1;
	case SEC_OPT_DHCHAP_KEY:
		a->dhchap_key_path = arg;
		return 1;
	case SEC_OPT_DHCHAP_CTRLR_KEY:
		a->dhchap_ctrlr_key_path = arg;
		return 1;
	case SEC_OPT_DHCHAP_DIGESTS:
		a->digests = arg;
		return 1;
	case SEC_OPT_DHCHAP_DHGROUPS:
		a->dhgroups = arg;
		return 1;
	case SEC_OPT_PSK_PATH:
		a->psk_path = arg;
		return 1;
	case SEC_OPT_PSK_IDENTITY:
		a->psk_identity = arg;
		return 1;
	case SEC_OPT_PSK_COMPAT:
		a->psk_compat = true;
		return 1;
	case SEC_OPT_TLS_VERSION:
		return parse_tls_version(a, arg);
	case SEC_OPT_ENABLE_KTLS:
	case SEC_OPT_DISABLE_KTLS:
		a->ktls = ch == SEC_OPT_ENABLE_KTLS;
		a->ktls_set = true;
		return 1;
	default:
		return 0;
	}
}

/* Options that do not go together, before anything is read. */
static int
check_combination(const struct sec_args *a, const char *prog)
{
	bool ssl = a->sock_impl != NULL && strcmp(a->sock_impl, "ssl") == 0;

	if (a->dhchap_ctrlr_key_path != NULL && a->dhchap_key_path == NULL) {
		fprintf(stderr, "%s: --dhchap-ctrlr-key needs --dhchap-key\n", prog);
		return -EINVAL;
	}
	if (a->psk_path != NULL && a->sock_impl != NULL && !ssl) {
		fprintf(stderr, "%s: --psk-path needs the ssl socket implementation, not %s\n",
			prog, a->sock_impl);
		return -EINVAL;
	}
	if (ssl && a->psk_path == NULL) {
		fprintf(stderr, "%s: -S ssl needs a TLS PSK: --psk-path FILE\n", prog);
		return -EINVAL;
	}
	if ((a->psk_identity != NULL || a->psk_compat) && a->psk_path == NULL) {
		fprintf(stderr, "%s: --psk-identity and --psk-compat need --psk-path\n", prog);
		return -EINVAL;
	}
	return 0;
}

static int
load_key(const char *prog, const char *opt, const char *path, enum nvt_secret_kind kind,
	 struct nvt_secret **out)
{
	int rc;

	if (path == NULL) {
		return 0;
	}
	rc = nvt_nvme_secret_read_file(path, kind, out);
	if (rc == -EPERM) {
		fprintf(stderr, "%s: %s %s: group or others may access the file; chmod 0600 it\n",
			prog, opt, path);
	} else if (rc == -EINVAL || rc == -EFBIG) {
		fprintf(stderr, "%s: %s %s: not one valid %s\n", prog, opt, path,
			kind == NVT_SECRET_DHCHAP ? "DH-HMAC-CHAP key (DHHC-1:...)"
						  : "TLS PSK (NVMeTLSkey-1:...)");
	} else if (rc != 0) {
		fprintf(stderr, "%s: %s %s: %s\n", prog, opt, path, nvt_strerror(rc));
	}
	return rc;
}

static int
load_lists(struct sec_args *a, const char *prog)
{
	a->digest_mask = NVT_NVME_DHCHAP_DIGESTS_ALL;
	a->dhgroup_mask = NVT_NVME_DHCHAP_DHGROUPS_ALL;
	if (a->digests != NULL && nvt_nvme_dhchap_digests_parse(a->digests, &a->digest_mask) != 0) {
		fprintf(stderr, "%s: --dhchap-digests '%s': a list of sha256, sha384, sha512\n",
			prog, a->digests);
		return -EINVAL;
	}
	if (a->dhgroups != NULL &&
	    nvt_nvme_dhchap_dhgroups_parse(a->dhgroups, &a->dhgroup_mask) != 0) {
		fprintf(stderr,
			"%s: --dhchap-dhgroups '%s': a list of null, ffdhe2048, ffdhe3072, "
			"ffdhe4096, ffdhe6144, ffdhe8192\n",
			prog, a->dhgroups);
		return -EINVAL;
	}
	return 0;
}

/* --tls-version, --enable-ktls, --disable-ktls: options of the ssl implementation. */
static int
set_ssl_opts(const struct sec_args *a, const char *prog)
{
	struct nvt_sock_impl_opts o;
	int rc;

	if (!a->tls_version_set && !a->ktls_set) {
		return 0;
	}
	nvt_sock_impl_get_default_opts(&o, sizeof(o));
	rc = nvt_sock_impl_get_opts("ssl", &o, sizeof(o));
	if (rc == 0) {
		o.tls_version = a->tls_version_set ? a->tls_version : o.tls_version;
		o.enable_ktls = a->ktls_set ? a->ktls : o.enable_ktls;
		rc = nvt_sock_impl_set_opts("ssl", &o, sizeof(o));
	}
	if (rc != 0) {
		fprintf(stderr, "%s: options of the ssl socket implementation: %s\n", prog,
			nvt_strerror(rc));
	}
	return rc;
}

int
sec_args_load(struct sec_args *a, const char *prog)
{
	int rc = check_combination(a, prog);

	if (rc == 0) {
		rc = load_lists(a, prog);
	}
	if (rc == 0 && (a->dhchap_key_path != NULL || a->psk_path != NULL)) {
		/* Secrets kept for the whole run stay out of swap and core dumps. */
		nvt_auth_secure_init(0);
	}
	if (rc == 0) {
		rc = load_key(prog, "--dhchap-key", a->dhchap_key_path, NVT_SECRET_DHCHAP,
			      &a->dhchap_key);
	}
	if (rc == 0) {
		rc = load_key(prog, "--dhchap-ctrlr-key", a->dhchap_ctrlr_key_path,
			      NVT_SECRET_DHCHAP, &a->dhchap_ctrlr_key);
	}
	if (rc == 0) {
		rc = load_key(prog, "--psk-path", a->psk_path, NVT_SECRET_TLS_PSK, &a->tls_psk);
	}
	if (rc == 0) {
		rc = set_ssl_opts(a, prog);
	}
	return rc;
}

void
sec_args_apply(const struct sec_args *a, struct nvt_nvme_ctrlr_opts *o)
{
	o->sock_impl = a->sock_impl;
	o->dhchap_key = a->dhchap_key;
	o->dhchap_ctrlr_key = a->dhchap_ctrlr_key;
	o->dhchap_digests = a->digest_mask;
	o->dhchap_dhgroups = a->dhgroup_mask;
	o->tls_psk = a->tls_psk;
	o->psk_identity = a->psk_identity;
	o->tls_psk_kdf = a->psk_compat ? NVT_TLS_PSK_KDF_LIBNVME_COMPAT : NVT_TLS_PSK_KDF_RFC8446;
}

void
sec_args_free(struct sec_args *a)
{
	nvt_secret_free(a->dhchap_key);
	nvt_secret_free(a->dhchap_ctrlr_key);
	nvt_secret_free(a->tls_psk);
	a->dhchap_key = a->dhchap_ctrlr_key = a->tls_psk = NULL;
}
