/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "nvmf" subsystem of saved configurations: the target as the method
 * calls that recreate it, with the parameters SPDK's save_config writes
 * (at nvtcp's values), so that the document loads back into nvtcpd and
 * reads like SPDK's.
 */
#include "nvmf_rpc_internal.h"

static void
config_add(json_t *config, const char *method, json_t *params)
{
	json_array_append_new(config, json_pack("{s:s, s:o}", "method", method, "params", params));
}

static void
config_write_tgt(json_t *config, const struct nvt_nvmf_tgt *tgt)
{
	config_add(config, "nvmf_set_config", nvmf_rpc_set_config_params(&tgt->opts));
	config_add(config, "nvmf_set_max_subsystems",
		   json_pack("{s:i}", "max_subsystems", tgt->opts.max_subsystems));
	config_add(config, "nvmf_set_crdt",
		   json_pack("{s:i, s:i, s:i}", "crdt1", 0, "crdt2", 0, "crdt3", 0));
}

/* A host entry names its keys (keyring entries), never their contents. */
static json_t *
config_host(const struct nvt_nvmf_subsystem *s, const struct nvmf_host *host)
{
	return nvmf_rpc_host_keys_to_json(json_pack("{s:s, s:s}", "nqn", s->nqn, "host", host->nqn),
					  host);
}

static void
config_write_subsystem(json_t *config, const struct nvt_nvmf_subsystem *s)
{
	struct nvmf_subsystem_listener *l;
	struct nvmf_host *host;
	uint32_t i;

	if (s->subtype != NVT_NVMF_SUBTYPE_DISCOVERY) {
		config_add(config, "nvmf_create_subsystem", nvmf_rpc_subsystem_params(s));
	}
	TAILQ_FOREACH(host, &s->hosts, link) {
		config_add(config, "nvmf_subsystem_add_host", config_host(s, host));
	}
	for (i = 0; i < s->max_nsid; i++) {
		if (s->ns[i] != NULL) {
			config_add(config, "nvmf_subsystem_add_ns",
				   json_pack("{s:s, s:o}", "nqn", s->nqn, "namespace",
					     nvmf_rpc_ns_to_json(s->ns[i], true)));
		}
	}
	TAILQ_FOREACH(l, &s->listeners, link) {
		config_add(config, "nvmf_subsystem_add_listener",
			   json_pack("{s:s, s:o, s:b}", "nqn", s->nqn, "listen_address",
				     nvmf_rpc_trid_to_json(&l->trid), "secure_channel",
				     l->secure_channel));
		nvmf_rpc_ana_config_write(config, s, l);
	}
}

static void
nvmf_config_write(json_t *config)
{
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	struct nvmf_transport *transport;
	struct nvt_nvmf_subsystem *s;

	if (tgt == NULL) {
		return;
	}
	config_write_tgt(config, tgt);
	TAILQ_FOREACH(transport, &tgt->transports, link) {
		config_add(config, "nvmf_create_transport",
			   nvmf_rpc_transport_to_json(transport, true));
	}
	nvmf_rpc_referral_config_write(config, tgt);
	TAILQ_FOREACH(s, &tgt->subsystems, link) {
		config_write_subsystem(config, s);
	}
}

/*
 * Registered when the first target is created rather than from a constructor:
 * save_config writes subsystems in registration order, and the namespaces
 * written here name bdevs, so "nvmf" must come after "bdev" whatever the link
 * order of the constructors.
 */
void
nvmf_rpc_register_config(void)
{
	static bool registered;

	if (!registered) {
		registered = true;
		nvt_config_register_subsystem("nvmf", nvmf_config_write);
	}
}
