/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The security options of the host tools (nvtcp-perf, nvtcp-identify), under
 * the names spdk_nvme_perf gives them: DH-HMAC-CHAP key files, TLS PSK file
 * and identity, the socket implementation and the ssl implementation's
 * options. --dhchap-digests and --dhchap-dhgroups carry the names of SPDK's
 * bdev_nvme_set_options parameters, --psk-compat the name of nvme-cli's
 * option for the same derivation.
 */
#ifndef APP_SEC_ARGS_H
#define APP_SEC_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "nvtcp/nvme.h"

/* Long option values of these options (above the tools' own). */
enum {
	SEC_OPT_DHCHAP_KEY = 0x2000,
	SEC_OPT_DHCHAP_CTRLR_KEY,
	SEC_OPT_DHCHAP_DIGESTS,
	SEC_OPT_DHCHAP_DHGROUPS,
	SEC_OPT_PSK_PATH,
	SEC_OPT_PSK_IDENTITY,
	SEC_OPT_TLS_VERSION,
	SEC_OPT_ENABLE_KTLS,
	SEC_OPT_DISABLE_KTLS,
	SEC_OPT_SOCK_IMPL,
	SEC_OPT_PSK_COMPAT,
};

/* Entries of a getopt_long() table; -S is the short form of --default-sock-impl. */
/* clang-format off */
#define SEC_ARGS_LONG_OPTIONS                                                        \
	{ "dhchap-key", required_argument, NULL, SEC_OPT_DHCHAP_KEY },               \
	{ "dhchap-ctrlr-key", required_argument, NULL, SEC_OPT_DHCHAP_CTRLR_KEY },   \
	{ "dhchap-digests", required_argument, NULL, SEC_OPT_DHCHAP_DIGESTS },       \
	{ "dhchap-dhgroups", required_argument, NULL, SEC_OPT_DHCHAP_DHGROUPS },     \
	{ "psk-path", required_argument, NULL, SEC_OPT_PSK_PATH },                   \
	{ "psk-identity", required_argument, NULL, SEC_OPT_PSK_IDENTITY },           \
	{ "psk-compat", no_argument, NULL, SEC_OPT_PSK_COMPAT },                     \
	{ "tls-version", required_argument, NULL, SEC_OPT_TLS_VERSION },             \
	{ "enable-ktls", no_argument, NULL, SEC_OPT_ENABLE_KTLS },                   \
	{ "disable-ktls", no_argument, NULL, SEC_OPT_DISABLE_KTLS },                 \
	{ "default-sock-impl", required_argument, NULL, SEC_OPT_SOCK_IMPL },         \
	{ "sock-impl", required_argument, NULL, SEC_OPT_SOCK_IMPL }
/* clang-format on */

/* The usage lines of these options. */
extern const char g_sec_args_usage[];

struct sec_args {
	/* As given. */
	const char *dhchap_key_path;
	const char *dhchap_ctrlr_key_path;
	const char *digests;
	const char *dhgroups;
	const char *psk_path;
	const char *psk_identity;
	bool psk_compat;
	const char *sock_impl;
	uint32_t tls_version;
	bool tls_version_set;
	bool ktls;
	bool ktls_set;
	/* Loaded by sec_args_load(). */
	struct nvt_secret *dhchap_key;
	struct nvt_secret *dhchap_ctrlr_key;
	struct nvt_secret *tls_psk;
	uint32_t digest_mask;
	uint32_t dhgroup_mask;
};

/* Take option \p ch ('S' or a SEC_OPT_*): 1 taken, 0 not one of these, -EINVAL. */
int sec_args_parse(struct sec_args *a, int ch, const char *arg);

/*
 * Check the combination, read the key files, parse the lists and set the
 * ssl implementation's options; errors are printed with \p prog. Before any
 * connection. 0 or -errno.
 */
int sec_args_load(struct sec_args *a, const char *prog);

/* Put what was loaded into a controller's options. */
void sec_args_apply(const struct sec_args *a, struct nvt_nvme_ctrlr_opts *o);

/* Free the secrets loaded. */
void sec_args_free(struct sec_args *a);

#endif /* APP_SEC_ARGS_H */
