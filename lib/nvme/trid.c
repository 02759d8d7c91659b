/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transport ID strings, in the form SPDK's tools take them:
 * "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:nqn...".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nvtcp/nvme.h"
#include "nvtcp/nvme_tcp.h"
#include "nvtcp/string.h"

#define KEY_TRTYPE  (1u << 0)
#define KEY_ADRFAM  (1u << 1)
#define KEY_TRADDR  (1u << 2)
#define KEY_TRSVCID (1u << 3)
#define KEY_SUBNQN  (1u << 4)
#define KEY_HOSTNQN (1u << 5)

static int
trid_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int
parse_trtype(struct nvt_nvme_trid *trid, const char *val, char *err, size_t errlen)
{
	if (strcasecmp(val, "tcp") == 0) {
		trid->trtype = NVT_NVMF_TRTYPE_TCP;
		return 0;
	}
	if (strcasecmp(val, "rdma") == 0 || strcasecmp(val, "fc") == 0 ||
	    strcasecmp(val, "pcie") == 0) {
		return trid_err(err, errlen, "trtype '%s' is not supported (only TCP)", val);
	}
	return trid_err(err, errlen, "unknown trtype '%s'", val);
}

static int
parse_adrfam(struct nvt_nvme_trid *trid, const char *val, char *err, size_t errlen)
{
	if (strcasecmp(val, "ipv4") == 0) {
		trid->adrfam = NVT_NVMF_ADRFAM_IPV4;
	} else if (strcasecmp(val, "ipv6") == 0) {
		trid->adrfam = NVT_NVMF_ADRFAM_IPV6;
	} else {
		return trid_err(err, errlen, "unknown adrfam '%s' (IPv4 or IPv6)", val);
	}
	return 0;
}

static int
parse_trsvcid(struct nvt_nvme_trid *trid, const char *val, char *err, size_t errlen)
{
	uint64_t port;

	if (nvt_parse_u64(val, 65535, &port) != 0 || port == 0) {
		return trid_err(err, errlen, "trsvcid '%s' is not a port number (1-65535)", val);
	}
	snprintf(trid->trsvcid, sizeof(trid->trsvcid), "%u", (unsigned int)port);
	return 0;
}

static int
copy_field(char *dst, size_t size, const char *key, const char *val, char *err, size_t errlen)
{
	if (strlen(val) >= size) {
		return trid_err(err, errlen, "%s is too long (at most %zu characters)", key,
				size - 1);
	}
	nvt_strcpy_trunc(dst, size, val);
	return 0;
}

static int
parse_pair(struct nvt_nvme_trid *trid, const char *key, const char *val, unsigned int *seen,
	   char *err, size_t errlen)
{
	static const struct {
		const char *name;
		unsigned int bit;
	} keys[] = {
		{ "trtype", KEY_TRTYPE },   { "adrfam", KEY_ADRFAM }, { "traddr", KEY_TRADDR },
		{ "trsvcid", KEY_TRSVCID }, { "subnqn", KEY_SUBNQN }, { "hostnqn", KEY_HOSTNQN },
	};
	unsigned int i, bit = 0;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcasecmp(key, keys[i].name) == 0) {
			bit = keys[i].bit;
		}
	}
	if (bit == 0) {
		return trid_err(err, errlen, "unknown key '%s'", key);
	}
	if (*seen & bit) {
		return trid_err(err, errlen, "key '%s' given twice", key);
	}
	*seen |= bit;
	if (val[0] == '\0') {
		return trid_err(err, errlen, "key '%s' has no value", key);
	}
	switch (bit) {
	case KEY_TRTYPE:
		return parse_trtype(trid, val, err, errlen);
	case KEY_ADRFAM:
		return parse_adrfam(trid, val, err, errlen);
	case KEY_TRADDR:
		return copy_field(trid->traddr, sizeof(trid->traddr), key, val, err, errlen);
	case KEY_TRSVCID:
		return parse_trsvcid(trid, val, err, errlen);
	case KEY_SUBNQN:
		if (strlen(val) > NVT_NVMF_NQN_MAX_LEN) {
			return trid_err(err, errlen, "subnqn longer than %d bytes",
					NVT_NVMF_NQN_MAX_LEN);
		}
		return copy_field(trid->subnqn, sizeof(trid->subnqn), key, val, err, errlen);
	default:
		if (strlen(val) > NVT_NVMF_NQN_MAX_LEN) {
			return trid_err(err, errlen, "hostnqn longer than %d bytes",
					NVT_NVMF_NQN_MAX_LEN);
		}
		return copy_field(trid->hostnqn, sizeof(trid->hostnqn), key, val, err, errlen);
	}
}

static void
trid_defaults(struct nvt_nvme_trid *trid, unsigned int seen)
{
	if (!(seen & KEY_TRTYPE)) {
		trid->trtype = NVT_NVMF_TRTYPE_TCP;
	}
	if (!(seen & KEY_ADRFAM)) {
		trid->adrfam = strchr(trid->traddr, ':') != NULL ? NVT_NVMF_ADRFAM_IPV6
								 : NVT_NVMF_ADRFAM_IPV4;
	}
	if (!(seen & KEY_TRSVCID)) {
		snprintf(trid->trsvcid, sizeof(trid->trsvcid), "%d",
			 strcmp(trid->subnqn, NVT_NVMF_DISCOVERY_NQN) == 0
				 ? NVT_NVME_TCP_DISCOVERY_PORT
				 : NVT_NVME_TCP_PORT);
	}
}

int
nvt_nvme_trid_parse(struct nvt_nvme_trid *trid, const char *str, char *err, size_t errlen)
{
	char tok[NVT_NVMF_TRADDR_SIZE + 16];
	unsigned int seen = 0;
	const char *p = str;
	int rc;

	memset(trid, 0, sizeof(*trid));
	if (err != NULL && errlen > 0) {
		err[0] = '\0';
	}
	while (*p != '\0') {
		size_t len = strcspn(p, " \t\n");
		char *colon;

		if (len == 0) {
			p++;
			continue;
		}
		if (len >= sizeof(tok)) {
			return trid_err(err, errlen, "value too long near '%.16s'", p);
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		p += len;
		colon = strchr(tok, ':');
		if (colon == NULL) {
			colon = strchr(tok, '=');
		}
		if (colon == NULL) {
			return trid_err(err, errlen, "'%s' is not key:value", tok);
		}
		*colon = '\0';
		rc = parse_pair(trid, tok, colon + 1, &seen, err, errlen);
		if (rc != 0) {
			return rc;
		}
	}
	if (!(seen & KEY_TRADDR)) {
		return trid_err(err, errlen, "traddr is missing");
	}
	trid_defaults(trid, seen);
	return 0;
}

void
nvt_nvme_trid_fmt(const struct nvt_nvme_trid *trid, char *buf, size_t len)
{
	int n = snprintf(buf, len, "trtype:TCP adrfam:%s traddr:%s trsvcid:%s",
			 trid->adrfam == NVT_NVMF_ADRFAM_IPV6 ? "IPv6" : "IPv4", trid->traddr,
			 trid->trsvcid);

	if (n > 0 && (size_t)n < len && trid->subnqn[0] != '\0') {
		n += snprintf(buf + n, len - (size_t)n, " subnqn:%s", trid->subnqn);
	}
	if (n > 0 && (size_t)n < len && trid->hostnqn[0] != '\0') {
		snprintf(buf + n, len - (size_t)n, " hostnqn:%s", trid->hostnqn);
	}
}

bool
nvt_nvme_trid_is_discovery(const struct nvt_nvme_trid *trid)
{
	return trid->subnqn[0] == '\0' || strcmp(trid->subnqn, NVT_NVMF_DISCOVERY_NQN) == 0;
}
