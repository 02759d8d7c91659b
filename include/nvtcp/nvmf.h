/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The NVMe over Fabrics target: poll groups, transports, subsystems,
 * namespaces, hosts and listeners.
 *
 * There is one target per process. Every function here runs on the app
 * thread (the thread of nvt_app_start()'s start function) unless said
 * otherwise. The target creates one poll-group thread per core of the app's
 * core mask, named nvmf_tgt_poll_group_<i>; connections are placed on the
 * poll group with the fewest active queue pairs.
 */
#ifndef NVTCP_NVMF_H
#define NVTCP_NVMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvtcp/cpuset.h"
#include "nvtcp/nvme_spec.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nvt_nvmf_tgt;
struct nvt_nvmf_subsystem;

/** Longest transport name ("TCP"), NUL included. */
#define NVT_NVMF_TRSTRING_LEN 32

/** A transport address: what a listener listens on, what a discovery entry names. */
struct nvt_nvmf_trid {
	/** Transport type (NVT_NVMF_TRTYPE_TCP). */
	enum nvt_nvmf_trtype trtype;
	/** Address family (NVT_NVMF_ADRFAM_IPV4 or _IPV6). */
	enum nvt_nvmf_adrfam adrfam;
	/** Address, NUL terminated ("127.0.0.1"). */
	char traddr[NVT_NVMF_TRADDR_SIZE + 1];
	/** Service (port), NUL terminated ("4420"). */
	char trsvcid[NVT_NVMF_TRSVCID_SIZE + 1];
};

/** Whether two transport addresses are the same (type, family, address, service). */
bool nvt_nvmf_trid_equal(const struct nvt_nvmf_trid *a, const struct nvt_nvmf_trid *b);

/**
 * Parse "TCP"/"tcp" and "IPv4"/"ipv4"/"IPv6"/"ipv6".
 * \return 0 or -EINVAL.
 */
int nvt_nvmf_parse_trtype(const char *str, enum nvt_nvmf_trtype *trtype);
int nvt_nvmf_parse_adrfam(const char *str, enum nvt_nvmf_adrfam *adrfam);
/** "TCP", "IPv4", ... (SPDK's spelling); "unknown" for anything else. */
const char *nvt_nvmf_trtype_str(enum nvt_nvmf_trtype trtype);
const char *nvt_nvmf_adrfam_str(enum nvt_nvmf_adrfam adrfam);

/**
 * Options of a transport (SPDK's nvmf_create_transport parameters).
 * Initialise with nvt_nvmf_transport_opts_init().
 */
struct nvt_nvmf_transport_opts {
	/** sizeof(struct nvt_nvmf_transport_opts) as the caller knows it. */
	size_t opts_size;
	/** Entries per queue (admin and I/O), default 128. CAP.MQES is this minus one. */
	uint16_t max_queue_depth;
	/** I/O queue pairs a controller may get, default 127. */
	uint16_t max_io_qpairs_per_ctrlr;
	/** Admin queue entries, default 128 (the admin Connect's SQSIZE is below it). */
	uint32_t max_aq_depth;
	/** In-capsule data size in bytes, default 4096 (multiple of 16, 0..131072). */
	uint32_t in_capsule_data_size;
	/** Largest I/O in bytes, default 131072 (MDTS is derived from it). */
	uint32_t max_io_size;
	/** Size of one shared data buffer in bytes, default 8192 (multiple of 4096). */
	uint32_t io_unit_size;
	/** Buffers in the shared pool, default 4095. */
	uint32_t num_shared_buffers;
	/** Buffers each poll group reserves from the pool, default 32. */
	uint32_t buf_cache_size;
	/** Skip the capsule response after a read's last C2H PDU (SUCCESS flag), default true. */
	bool c2h_success;
	/** SO_PRIORITY of the connections, default 0. */
	int sock_priority;
	/** Seconds before an abort is given up, default 1. */
	uint32_t abort_timeout_sec;
	/** Zero copy; must stay false (refused). */
	bool zcopy;
	/** DIF insert/strip; must stay false (refused). */
	bool dif_insert_or_strip;
	/** Period of the accept poller in microseconds, default 10000. */
	uint32_t acceptor_poll_rate;
	/** Keep Alive granularity reported in Identify (KAS), in 100 ms units, default 10. */
	uint32_t kas;
	/**
	 * Shortest keep alive timeout in ms: a host asking for less (but not
	 * for 0, no keep alive) gets this; default 0 (the host's value).
	 */
	uint32_t min_kato;
	/*
	 * Limits against hosts that misbehave or flood (0: no limit). A refused
	 * or dropped connection logs once per offender and counts in
	 * nvmf_get_stats.
	 */
	/** Connections open at once, default 4096: more are closed when accepted. */
	uint32_t max_connections;
	/** Connections from one host address at once, default 1024. */
	uint32_t max_connections_per_host;
	/** Time from accept to a completed Fabrics Connect in ms, default 10000. */
	uint32_t connect_timeout_ms;
	/**
	 * Time a PDU may take to arrive whole once its first byte came, and
	 * time without a write's data completing while R2Ts are outstanding,
	 * in ms; default 30000.
	 */
	uint32_t pdu_timeout_ms;
	/**
	 * Bytes of read data one connection may hold (read from the namespace,
	 * queued or being sent): at this it takes no new command until its
	 * host reads; default 4 MiB.
	 */
	uint32_t max_queued_send;
	/**
	 * Time a connection at that cap (or with a C2HTermReq queued) may send
	 * nothing before it is closed, in ms; default 30000.
	 */
	uint32_t send_timeout_ms;
};

/* Limits of the transport options (checked by nvt_nvmf_transport_create()). */
#define NVT_NVMF_MIN_QUEUE_DEPTH	  2
#define NVT_NVMF_MAX_AQ_DEPTH		  4096
#define NVT_NVMF_MAX_IO_QPAIRS_PER_CTRLR  1024
#define NVT_NVMF_MAX_IN_CAPSULE_DATA_SIZE 131072
#define NVT_NVMF_IN_CAPSULE_DATA_ALIGN	  16
#define NVT_NVMF_IO_UNIT_ALIGN		  4096
#define NVT_NVMF_MAX_KAS		  UINT16_MAX

/** Fill \p opts with the defaults above; \p opts_size is sizeof(*opts) of the caller. */
void nvt_nvmf_transport_opts_init(struct nvt_nvmf_transport_opts *opts, size_t opts_size);

/**
 * Fill \p opts with the defaults of transport \p trtype ("TCP", any case):
 * the generic ones adjusted by the transport. Any thread.
 * \return 0, or -ENOENT when no such transport is registered.
 */
int nvt_nvmf_transport_get_default_opts(const char *trtype, struct nvt_nvmf_transport_opts *opts,
					size_t opts_size);

/** Options of the target (SPDK's nvmf_set_config / nvmf_set_max_subsystems). */
struct nvt_nvmf_tgt_opts {
	size_t opts_size;
	/** Most subsystems, discovery included; default 1024. */
	uint32_t max_subsystems;
	/** Keep alive timeout used when a host asks for 0 (discovery), in ms; default 0 (off). */
	uint32_t discovery_kato_ms;
	/**
	 * The cores the target may run poll groups on: the application's cores
	 * (nvtcpd gives its core mask). Required: a target with none is refused.
	 */
	struct nvt_cpuset cores;
	/**
	 * Cores that get a poll group (nvt_cpuset_parse() syntax), within
	 * \p cores; empty: every one of them.
	 */
	char poll_groups_mask[NVT_CPUSET_STR_LEN];
	/** Accept poller period (us) for transports created without one; 0: theirs. */
	uint32_t acceptor_poll_rate;
	/**
	 * DH-HMAC-CHAP hash functions hosts may negotiate: bit i for the i-th of
	 * sha256, sha384, sha512; default all. The target picks the strongest
	 * one the host offers.
	 */
	uint32_t dhchap_digests;
	/**
	 * DH groups likewise: null, ffdhe2048, 3072, 4096, 6144, 8192; default
	 * all; the strongest the host offers is picked.
	 */
	uint32_t dhchap_dhgroups;
};

/** Number of DH-HMAC-CHAP hash functions and DH groups in the masks above. */
#define NVT_NVMF_DHCHAP_NUM_DIGESTS  3
#define NVT_NVMF_DHCHAP_NUM_DHGROUPS 6

void nvt_nvmf_tgt_opts_init(struct nvt_nvmf_tgt_opts *opts, size_t opts_size);

/**
 * The options the next nvt_nvmf_tgt_init(NULL, ...) uses (the defaults, or
 * what nvt_nvmf_tgt_set_opts() stored before the target existed).
 */
void nvt_nvmf_tgt_get_opts(struct nvt_nvmf_tgt_opts *opts, size_t opts_size);

/** Completion of an asynchronous target operation: 0 or -errno. */
typedef void (*nvt_nvmf_done_cb)(void *ctx, int status);

/**
 * Create the target and its poll groups (one thread per core of \p cores,
 * or of poll_groups_mask within it) and the discovery subsystem. App thread.
 * \p opts NULL: the options of nvt_nvmf_tgt_get_opts().
 *
 * \return 0 (cb runs once every poll group exists), -EEXIST, -EINVAL (no
 * cores, a bad poll_groups_mask, or none of its cores among \p cores),
 * -ENOMEM.
 */
int nvt_nvmf_tgt_init(const struct nvt_nvmf_tgt_opts *opts, nvt_nvmf_done_cb cb, void *ctx);

/**
 * Orderly shutdown: stop accepting, disconnect every queue pair, delete
 * subsystems (closing their bdevs), destroy poll groups (io-channels, iobuf
 * caches) and transports. \p cb runs once all is gone. No-op (cb runs) when
 * no target exists.
 */
void nvt_nvmf_tgt_fini(nvt_nvmf_done_cb cb, void *ctx);

/** The target, or NULL. */
struct nvt_nvmf_tgt *nvt_nvmf_get_tgt(void);

/**
 * Set the target options. Before the target exists they are kept for
 * nvt_nvmf_tgt_init(NULL, ...); once it runs only discovery_kato_ms and
 * acceptor_poll_rate may change.
 * \return 0, -EINVAL (max_subsystems 0 or a bad poll_groups_mask), -EBUSY
 * (max_subsystems or poll_groups_mask changed on a running target).
 */
int nvt_nvmf_tgt_set_opts(const struct nvt_nvmf_tgt_opts *opts);

/**
 * Create a transport ("TCP") and its poll group on every poll-group thread.
 *
 * \return 0 (cb runs once every poll group has it), -EEXIST (already
 * created), -ENOENT (unknown type), -EINVAL (bad option, logged naming it),
 * -ENOMEM.
 */
int nvt_nvmf_transport_create(const char *trtype, const struct nvt_nvmf_transport_opts *opts,
			      nvt_nvmf_done_cb cb, void *ctx);

/* ---- discovery referrals ---- */

/**
 * A discovery referral: an entry of every host's discovery log naming a
 * service this target does not run itself - another discovery service
 * (subnqn the discovery NQN: a referral, SUBTYPE 1) or an NVM subsystem
 * served elsewhere (SUBTYPE 2). Hosts that follow referrals (Linux's
 * nvme connect-all) learn the other targets from the one they discovered.
 */
struct nvt_nvmf_referral {
	/** Where the service listens. */
	struct nvt_nvmf_trid trid;
	/** NUL terminated; "" stands for NVT_NVMF_DISCOVERY_NQN. */
	char subnqn[NVT_NVMF_NQN_MAX_LEN + 1];
	/** Hosts must connect over TLS (TREQ secure channel required, TSAS TLS 1.3). */
	bool secure_channel;
};

/**
 * Check \p referral: NULL when valid, else the name of the first bad field
 * ("subnqn", "trtype", "adrfam", "traddr": not a numeric address of the
 * family, "trsvcid": not a port number). Any thread.
 */
const char *nvt_nvmf_referral_check(const struct nvt_nvmf_referral *referral);

/**
 * Add a referral to the target's discovery log; connected discovery
 * controllers that enabled discovery log change notices get one.
 * \return 0, -ENODEV (no target), -EINVAL (nvt_nvmf_referral_check() names
 * a field), -EEXIST (the same address and subnqn), -ENOMEM.
 */
int nvt_nvmf_referral_add(const struct nvt_nvmf_referral *referral);

/**
 * Remove the referral to \p subnqn ("" or NULL: the discovery NQN) at \p trid.
 * \return 0, -ENODEV (no target), -ENOENT (no such referral).
 */
int nvt_nvmf_referral_remove(const struct nvt_nvmf_trid *trid, const char *subnqn);

/**
 * Copy up to \p max referrals, oldest first, into \p out (subnqn filled in).
 * \return how many there are (may exceed \p max); 0 without a target.
 */
size_t nvt_nvmf_referral_get(struct nvt_nvmf_referral *out, size_t max);

/* ---- subsystems ---- */

/** Whether \p nqn is a valid NQN ("nqn.yyyy-mm.reverse.domain:..." up to 223 bytes). */
bool nvt_nvmf_nqn_is_valid(const char *nqn);

/**
 * Create an NVM subsystem (inactive until listeners/namespaces are added;
 * it accepts connections at once).
 *
 * \return 0, -EINVAL (bad NQN), -EEXIST, -ENOSPC (max_subsystems), -ENOMEM.
 */
int nvt_nvmf_subsystem_create(const char *nqn, uint32_t max_namespaces,
			      struct nvt_nvmf_subsystem **subsystem);

/** Find a subsystem (discovery included); NULL if none. */
struct nvt_nvmf_subsystem *nvt_nvmf_subsystem_find(const char *nqn);

/** Iterate subsystems; NULL at the end. */
struct nvt_nvmf_subsystem *nvt_nvmf_subsystem_first(void);
struct nvt_nvmf_subsystem *nvt_nvmf_subsystem_next(struct nvt_nvmf_subsystem *prev);

/**
 * Delete a subsystem: disconnect its controllers, release namespaces.
 * \return 0 (cb runs when done), -EINVAL for the discovery subsystem.
 */
int nvt_nvmf_subsystem_delete(struct nvt_nvmf_subsystem *subsystem, nvt_nvmf_done_cb cb, void *ctx);

const char *nvt_nvmf_subsystem_get_nqn(const struct nvt_nvmf_subsystem *subsystem);
bool nvt_nvmf_subsystem_is_discovery(const struct nvt_nvmf_subsystem *subsystem);

/** Serial number (up to 20 ASCII chars) and model (up to 40); 0 or -EINVAL. */
int nvt_nvmf_subsystem_set_sn(struct nvt_nvmf_subsystem *subsystem, const char *sn);
int nvt_nvmf_subsystem_set_mn(struct nvt_nvmf_subsystem *subsystem, const char *mn);

/**
 * Hand out controller IDs from \p min_cntlid to \p max_cntlid only (SPDK's
 * min_cntlid / max_cntlid), so that several targets exporting the same
 * subsystem give distinct IDs. Default NVT_NVMF_CNTLID_MIN..MAX.
 * \return 0, -EINVAL (outside NVT_NVMF_CNTLID_MIN..MAX, or min above max),
 * -EBUSY (controllers exist).
 */
int nvt_nvmf_subsystem_set_cntlid_range(struct nvt_nvmf_subsystem *subsystem, uint16_t min_cntlid,
					uint16_t max_cntlid);

/**
 * The limits reported to hosts in the NVM command set Identify Controller
 * data (SPDK's dmrsl and wzsl): \p dmrsl, the most logical blocks in one
 * Dataset Management range, and \p wzsl, the largest Write Zeroes as a power
 * of two in units of the minimum memory page size (4 KiB). 0: no limit (the
 * default).
 */
void nvt_nvmf_subsystem_set_nvm_limits(struct nvt_nvmf_subsystem *subsystem, uint32_t dmrsl,
				       uint8_t wzsl);

void nvt_nvmf_subsystem_set_allow_any_host(struct nvt_nvmf_subsystem *subsystem, bool allow);
bool nvt_nvmf_subsystem_get_allow_any_host(const struct nvt_nvmf_subsystem *subsystem);

/**
 * Asymmetric Namespace Access reporting (SPDK's ana_reporting): hosts learn
 * through each listener the state of every ANA group (by default optimized
 * everywhere). App thread. \return 0, or -EBUSY while controllers exist.
 */
int nvt_nvmf_subsystem_set_ana_reporting(struct nvt_nvmf_subsystem *subsystem, bool enable);
bool nvt_nvmf_subsystem_get_ana_reporting(const struct nvt_nvmf_subsystem *subsystem);

/**
 * Set the ANA state of group \p anagrpid (0: every group) as hosts see it
 * through the listener \p trid, and tell the controllers connected there
 * (ANA change notice). App thread. \return 0, -EPERM (no ANA reporting),
 * -ENOENT (no such listener), -ENOTSUP (a state other than optimized,
 * non-optimized, inaccessible), -EINVAL (group above max_namespaces).
 */
int nvt_nvmf_subsystem_set_ana_state(struct nvt_nvmf_subsystem *subsystem,
				     const struct nvt_nvmf_trid *trid,
				     enum nvt_nvme_ana_state state, uint32_t anagrpid);

/** The state of group \p anagrpid through \p trid: 0, -EPERM, -ENOENT, -EINVAL. */
int nvt_nvmf_subsystem_get_ana_state(const struct nvt_nvmf_subsystem *subsystem,
				     const struct nvt_nvmf_trid *trid, uint32_t anagrpid,
				     enum nvt_nvme_ana_state *state);

/**
 * Move namespace \p nsid to ANA group \p anagrpid (1 .. max_namespaces);
 * controllers get an ANA change notice. App thread. \return 0, -ENOENT (no
 * such namespace), -EINVAL (group out of range).
 */
int nvt_nvmf_subsystem_set_ns_ana_group(struct nvt_nvmf_subsystem *subsystem, uint32_t nsid,
					uint32_t anagrpid);

/** Allow list of host NQNs: 0, -EINVAL, -EEXIST / -ENOENT, -ENOMEM. */
int nvt_nvmf_subsystem_add_host(struct nvt_nvmf_subsystem *subsystem, const char *hostnqn);

/** Keys of an allowed host, by keyring name (nvtcp/keyring.h); NULL: none. */
struct nvt_nvmf_host_keys {
	/** A TLS PSK: the host may connect over a secure channel only. */
	const char *psk;
	/** A DH-HMAC-CHAP secret: every queue of the host must authenticate. */
	const char *dhchap_key;
	/** A DH-HMAC-CHAP secret of the controller: the host may authenticate it too. */
	const char *dhchap_ctrlr_key;
};

/**
 * Allow a host that must hold keys. App thread.
 *
 * \return 0; -EINVAL (bad NQN, a controller key without a host key),
 * -EEXIST, -ENOKEY (a key name not in the keyring), -EKEYREJECTED (a key
 * of the wrong kind: a TLS PSK given for DH-HMAC-CHAP or the reverse),
 * -ENOMEM. Refusals are logged with the key's name.
 */
int nvt_nvmf_subsystem_add_host_ext(struct nvt_nvmf_subsystem *subsystem, const char *hostnqn,
				    const struct nvt_nvmf_host_keys *keys);

/**
 * Replace an allowed host's DH-HMAC-CHAP keys (\p keys->psk is ignored);
 * NULL names clear them. Connected queues keep their authentication; the
 * new keys apply to the next authentication, re-authentication included.
 * App thread.
 *
 * \return 0, -ENOENT (no such host), or the errors of
 * nvt_nvmf_subsystem_add_host_ext() for the keys.
 */
int nvt_nvmf_subsystem_set_keys(struct nvt_nvmf_subsystem *subsystem, const char *hostnqn,
				const struct nvt_nvmf_host_keys *keys);

/** Call \p cb for each allowed host with its keys (names, NULL when none). App thread. */
typedef void (*nvt_nvmf_host_cb)(void *ctx, const char *hostnqn,
				 const struct nvt_nvmf_host_keys *keys);
void nvt_nvmf_subsystem_foreach_host(const struct nvt_nvmf_subsystem *subsystem,
				     nvt_nvmf_host_cb cb, void *ctx);
int nvt_nvmf_subsystem_remove_host(struct nvt_nvmf_subsystem *subsystem, const char *hostnqn);
/** Whether \p hostnqn may connect to (or discover) \p subsystem. */
bool nvt_nvmf_subsystem_host_allowed(const struct nvt_nvmf_subsystem *subsystem,
				     const char *hostnqn);

/**
 * Listen on \p trid for this subsystem (the transport listens once per
 * address, shared between subsystems). 0, -EEXIST, -ENOENT (no such
 * transport), or the transport's error.
 */
int nvt_nvmf_subsystem_add_listener(struct nvt_nvmf_subsystem *subsystem,
				    const struct nvt_nvmf_trid *trid);

/** Options of a listener. */
struct nvt_nvmf_listen_opts {
	/**
	 * TLS 1.3 only (NVMe/TCP secure channel): hosts connect with a PSK
	 * (nvt_nvmf_subsystem_add_host_ext()); plain TCP is refused. An
	 * address serves either TLS or plain TCP, for every subsystem on it.
	 */
	bool secure_channel;
};

/**
 * nvt_nvmf_subsystem_add_listener() with options (NULL: the defaults).
 * \return as above, and -EINVAL when the address is already served by
 * another subsystem with the other secure_channel setting.
 */
int nvt_nvmf_subsystem_add_listener_ext(struct nvt_nvmf_subsystem *subsystem,
					const struct nvt_nvmf_trid *trid,
					const struct nvt_nvmf_listen_opts *opts);

/** Whether \p subsystem listens on \p trid over TLS only. */
bool nvt_nvmf_subsystem_listener_is_secure(const struct nvt_nvmf_subsystem *subsystem,
					   const struct nvt_nvmf_trid *trid);
int nvt_nvmf_subsystem_remove_listener(struct nvt_nvmf_subsystem *subsystem,
				       const struct nvt_nvmf_trid *trid);

/**
 * Copy up to \p max listen addresses of \p subsystem into \p trids.
 * \return how many it has (may exceed \p max).
 */
size_t nvt_nvmf_subsystem_get_listeners(const struct nvt_nvmf_subsystem *subsystem,
					struct nvt_nvmf_trid *trids, size_t max);

/** Namespace options (SPDK's nvmf_subsystem_add_ns "namespace" object). */
struct nvt_nvmf_ns_opts {
	size_t opts_size;
	/** 0: lowest free NSID. */
	uint32_t nsid;
	uint8_t nguid[16];
	uint8_t uuid[16];
	uint8_t eui64[8];
	/** Whether uuid was given (else the bdev's UUID is used). */
	bool uuid_set;
	/** ANA group, 1 .. max_namespaces; 0: the NSID (as SPDK). */
	uint32_t anagrpid;
	/**
	 * File that keeps the reservation through power loss (copied); NULL:
	 * reservations are not persisted (PTPL not offered).
	 */
	const char *ptpl_file;
};

void nvt_nvmf_ns_opts_init(struct nvt_nvmf_ns_opts *opts, size_t opts_size);

/**
 * Add a namespace backed by bdev \p bdev_name; connected controllers get a
 * namespace attribute changed event once every poll group has it.
 *
 * \return the NSID (> 0) or -ENODEV (no bdev), -EEXIST (NSID taken),
 * -EINVAL (NSID above max_namespaces), -ENOSPC, -ENOMEM, -EBADMSG
 * (opts->ptpl_file is not a valid reservation file; logged).
 */
int nvt_nvmf_subsystem_add_ns(struct nvt_nvmf_subsystem *subsystem, const char *bdev_name,
			      const struct nvt_nvmf_ns_opts *opts);

/** Remove a namespace; \p cb (may be NULL) runs once no poll group uses it. 0 or -ENOENT. */
int nvt_nvmf_subsystem_remove_ns(struct nvt_nvmf_subsystem *subsystem, uint32_t nsid,
				 nvt_nvmf_done_cb cb, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_NVMF_H */
