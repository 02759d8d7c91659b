/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvtcp-identify -r TRID: print the Identify data of an NVMe/TCP controller
 * and its namespaces (in the style of nvme-cli id-ctrl / id-ns), or the
 * discovery log when the transport ID names the discovery subsystem or has
 * no subnqn. Like nvtcp-perf it parses its own flags: -r is the transport ID;
 * the security options (TLS, DH-HMAC-CHAP) are nvtcp-perf's (sec_args.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/event.h"
#include "nvtcp/nvme.h"
#include "nvtcp/sock.h"
#include "nvtcp/string.h"
#include "ana_print.h"
#include "sec_args.h"

/* Long options of this tool alone. */
enum {
	OPT_REAUTH = 0x1000,
};

static struct nvt_nvme_trid g_trid;
static bool g_hdgst;
static bool g_ddgst;
static bool g_reauth;
static struct sec_args g_sec;
static int g_rc;

static void
print_str(const char *label, const char *s, size_t len)
{
	size_t n = strnlen(s, len);

	while (n > 0 && s[n - 1] == ' ') {
		n--;
	}
	printf("%-9s: %.*s\n", label, (int)n, s);
}

static void
print_hex(const char *label, const uint8_t *b, size_t len)
{
	size_t i;

	printf("%-9s: ", label);
	for (i = 0; i < len; i++) {
		printf("%02x", b[i]);
	}
	printf("\n");
}

static void
print_ctrlr(const struct nvt_nvme_ctrlr *ctrlr)
{
	const struct nvt_nvme_id_ctrl *c = nvt_nvme_ctrlr_get_data(ctrlr);
	uint32_t vs = nvt_nvme_ctrlr_get_vs(ctrlr);

	printf("NVME Identify Controller:\n");
	printf("%-9s: %#x\n", "vid", c->vid);
	printf("%-9s: %#x\n", "ssvid", c->ssvid);
	print_str("sn", c->sn, sizeof(c->sn));
	print_str("mn", c->mn, sizeof(c->mn));
	print_str("fr", c->fr, sizeof(c->fr));
	printf("%-9s: %u\n", "mdts", c->mdts);
	printf("%-9s: %#x\n", "cntlid", c->cntlid);
	printf("%-9s: %#x\n", "ver", c->ver);
	printf("%-9s: %#x (VS property %u.%u.%u)\n", "vs", vs, vs >> 16, (vs >> 8) & 0xff,
	       vs & 0xff);
	printf("%-9s: %#llx\n", "cap", (unsigned long long)nvt_nvme_ctrlr_get_cap(ctrlr));
	printf("%-9s: %#x\n", "cmic", c->cmic);
	printf("%-9s: %#x\n", "oacs", c->oacs);
	printf("%-9s: %u\n", "kas", c->kas);
	printf("%-9s: %#x\n", "sqes", c->sqes);
	printf("%-9s: %#x\n", "cqes", c->cqes);
	printf("%-9s: %u\n", "maxcmd", c->maxcmd);
	printf("%-9s: %u\n", "nn", c->nn);
	printf("%-9s: %#x\n", "oncs", c->oncs);
	printf("%-9s: %#x\n", "vwc", c->vwc);
	printf("%-9s: %#x\n", "sgls", c->sgls);
	printf("%-9s: %s\n", "subnqn", c->subnqn);
	printf("%-9s: %u\n", "ioccsz", c->ioccsz);
	printf("%-9s: %u\n", "iorcsz", c->iorcsz);
	printf("%-9s: %u\n", "icdoff", c->icdoff);
	printf("%-9s: %#x\n", "ctrattr", c->ctrattr);
	printf("%-9s: %u\n", "msdbd", c->msdbd);
	printf("%-9s: %u\n", "ioqueues", nvt_nvme_ctrlr_get_num_io_queues(ctrlr));
}

static void
print_ns(uint32_t nsid, const struct nvt_nvme_id_ns *ns)
{
	unsigned int i;

	printf("NVME Identify Namespace %u:\n", nsid);
	printf("%-9s: %#llx\n", "nsze", (unsigned long long)ns->nsze);
	printf("%-9s: %#llx\n", "ncap", (unsigned long long)ns->ncap);
	printf("%-9s: %#llx\n", "nuse", (unsigned long long)ns->nuse);
	printf("%-9s: %#x\n", "nsfeat", ns->nsfeat);
	printf("%-9s: %u\n", "nlbaf", ns->nlbaf);
	printf("%-9s: %#x\n", "flbas", ns->flbas);
	printf("%-9s: %#x\n", "dlfeat", ns->dlfeat);
	printf("%-9s: %#x\n", "nmic", ns->nmic);
	printf("%-9s: %u\n", "anagrpid", ns->anagrpid);
	print_hex("nguid", ns->nguid, sizeof(ns->nguid));
	print_hex("eui64", ns->eui64, sizeof(ns->eui64));
	for (i = 0; i <= ns->nlbaf && i < 64; i++) {
		printf("lbaf %2u : ms:%-3u lbads:%-2u rp:%#x %s\n", i, ns->lbaf[i].ms,
		       ns->lbaf[i].lbads, ns->lbaf[i].rp & 3u,
		       i == nvt_nvme_flbas_index(ns->flbas) ? "(in use)" : "");
	}
}

/* How the admin queue is secured: TLS and DH-HMAC-CHAP, as negotiated. */
static void
print_security(const struct nvt_nvme_ctrlr *ctrlr)
{
	struct nvt_sock_tls_info tls;
	struct nvt_nvme_auth_info auth;

	if (nvt_nvme_ctrlr_get_tls_info(ctrlr, &tls) == 0) {
		printf("%-9s: TLS 1.3 %s, PSK identity '%s'%s\n", "tls",
		       tls.cipher == NVT_SOCK_TLS_AES_256_GCM_SHA384 ? "TLS_AES_256_GCM_SHA384"
								     : "TLS_AES_128_GCM_SHA256",
		       tls.identity, tls.ktls ? ", kTLS" : (tls.ktls_tx ? ", kTLS (send)" : ""));
	}
	nvt_nvme_ctrlr_get_auth_info(ctrlr, &auth);
	if (auth.authenticated) {
		printf("%-9s: DH-HMAC-CHAP %s %s, %s\n", "auth", nvt_auth_hash_name(auth.hash),
		       nvt_auth_dhgroup_name(auth.dhgroup),
		       auth.bidirectional ? "bidirectional (controller authenticated)"
					  : "unidirectional");
	}
}

static void
detached(void *arg)
{
	(void)arg;
	nvt_app_stop(g_rc);
}

static void
disc_done(void *arg, int rc, uint16_t status, const struct nvt_nvmf_disc_log_hdr *log)
{
	struct nvt_nvme_ctrlr *ctrlr = arg;
	char st[128];

	if (rc != 0) {
		fprintf(stderr, "nvtcp-identify: discovery log failed: %s\n",
			rc == -EREMOTEIO ? nvt_nvme_status_fmt(status, st, sizeof(st))
					 : nvt_strerror(rc));
		g_rc = 1;
	} else {
		nvt_nvme_discovery_log_print(stdout, log);
	}
	nvt_nvme_ctrlr_detach(&ctrlr, detached, NULL);
}

static void identify_print(struct nvt_nvme_ctrlr *ctrlr);

static void
reauth_done(void *arg, int rc, uint16_t status)
{
	struct nvt_nvme_ctrlr *ctrlr = arg;
	char st[128];

	if (rc != 0) {
		fprintf(stderr, "nvtcp-identify: re-authentication failed: %s\n",
			rc == -EREMOTEIO ? nvt_nvme_status_fmt(status, st, sizeof(st))
					 : nvt_nvme_strerror(rc));
		g_rc = 1;
	} else {
		printf("re-authenticated\n");
	}
	identify_print(ctrlr);
}

static void
connected(void *arg, struct nvt_nvme_ctrlr *ctrlr, int rc, uint16_t status)
{
	char st[128];

	(void)arg;
	if (rc != 0) {
		fprintf(stderr, "nvtcp-identify: connect failed: %s\n",
			rc == -EREMOTEIO ? nvt_nvme_status_fmt(status, st, sizeof(st))
					 : nvt_nvme_strerror(rc));
		nvt_app_stop(2);
		return;
	}
	if (g_reauth) {
		rc = nvt_nvme_ctrlr_authenticate(ctrlr, reauth_done, ctrlr);
		if (rc == 0) {
			return;
		}
		fprintf(stderr, "nvtcp-identify: --reauth: %s\n", nvt_nvme_strerror(rc));
		g_rc = 1;
	}
	identify_print(ctrlr);
}

static void
ana_printed(struct nvt_nvme_ctrlr *ctrlr, int rc)
{
	if (rc != 0) {
		g_rc = 1;
	}
	nvt_nvme_ctrlr_detach(&ctrlr, detached, NULL);
}

static void
identify_print(struct nvt_nvme_ctrlr *ctrlr)
{
	uint32_t i;
	int rc;

	print_ctrlr(ctrlr);
	print_security(ctrlr);
	if (nvt_nvme_ctrlr_is_discovery(ctrlr)) {
		rc = nvt_nvme_ctrlr_get_discovery_log(ctrlr, disc_done, ctrlr);
		if (rc == 0) {
			return;
		}
		g_rc = 1;
	}
	for (i = 0; i < nvt_nvme_ctrlr_get_active_ns_count(ctrlr); i++) {
		uint32_t nsid = nvt_nvme_ctrlr_get_active_nsid(ctrlr, i);

		print_ns(nsid, nvt_nvme_ctrlr_get_ns_data(ctrlr, nsid));
	}
	ana_print(ctrlr, ana_printed);
}

static void
start(void *arg)
{
	struct nvt_nvme_ctrlr_opts o;
	int rc;

	(void)arg;
	nvt_nvme_ctrlr_get_default_opts(&o, sizeof(o));
	o.header_digest = g_hdgst;
	o.data_digest = g_ddgst;
	sec_args_apply(&g_sec, &o);
	rc = nvt_nvme_ctrlr_connect(&g_trid, &o, connected, NULL);
	if (rc != 0) {
		fprintf(stderr, "nvtcp-identify: %s\n", nvt_strerror(rc));
		nvt_app_stop(2);
	}
}

static const struct option g_long_opts[] = {
	{ "transport", required_argument, NULL, 'r' },
	{ "reauth", no_argument, NULL, OPT_REAUTH },
	SEC_ARGS_LONG_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
usage(const char *prog)
{
	printf("usage: %s -r TRID [-H] [-I] [security options]\n"
	       " -r, --transport TRID   'trtype:TCP adrfam:IPv4 traddr:A trsvcid:P [subnqn:NQN]\n"
	       "                        [hostnqn:NQN]'; without subnqn (or with the discovery\n"
	       "                        NQN) the discovery log is shown\n"
	       " -H, -I                 request header / data digests\n"
	       "%s"
	       "     --reauth           authenticate the admin queue once more after connecting\n"
	       "                        (DH-HMAC-CHAP), then identify\n"
	       " -h, --help             this help\n"
	       "Exit status: 0 ok, 1 a command failed, 2 bad usage or connection failure\n"
	       "(authentication and TLS failures included).\n",
	       prog, g_sec_args_usage);
}

int
main(int argc, char **argv)
{
	struct nvt_app_opts opts;
	char err[128];
	bool have_trid = false;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "r:HIS:h", g_long_opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (nvt_nvme_trid_parse(&g_trid, optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "bad transport ID '%s': %s\n", optarg, err);
				return 2;
			}
			have_trid = true;
			break;
		case 'H':
			g_hdgst = true;
			break;
		case 'I':
			g_ddgst = true;
			break;
		case OPT_REAUTH:
			g_reauth = true;
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			if (ch == '?' || sec_args_parse(&g_sec, ch, optarg) != 1) {
				fprintf(stderr, "try '%s --help'\n", argv[0]);
				return 2;
			}
			break;
		}
	}
	if (!have_trid || optind < argc) {
		usage(argv[0]);
		return 2;
	}
	if (sec_args_load(&g_sec, "nvtcp-identify") != 0) {
		sec_args_free(&g_sec);
		return 2;
	}
	nvt_app_opts_init(&opts, sizeof(opts));
	opts.name = "nvtcp-identify";
	rc = nvt_app_start(&opts, start, NULL);
	nvt_app_fini();
	sec_args_free(&g_sec);
	return rc < 0 ? 2 : rc;
}
