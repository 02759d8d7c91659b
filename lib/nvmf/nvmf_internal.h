/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private structures of the target core.
 *
 * Ownership: the target, subsystems, namespaces, hosts and listeners belong
 * to the app thread. A poll group belongs to its thread, and so does its
 * per-subsystem namespace table (with the io-channels). A controller belongs
 * to the thread of its admin queue pair; I/O queue pairs on other threads
 * read its few fields (CC, feature values) without locks, as only words
 * that the host changes through the admin queue.
 */
#ifndef NVMF_INTERNAL_H
#define NVMF_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "nvtcp/bdev.h"
#include "nvtcp/internal/nvmf_transport.h"
#include "nvtcp/keyring.h"
#include "nvtcp/sock.h"
#include "nvtcp/nvmf.h"
#include "nvtcp/nvmf_auth_spec.h"
#include "nvtcp/queue.h"
#include "nvtcp/thread.h"

#include "ana.h"
struct nvmf_resv_ns;
struct nvmf_resv_snap;
struct nvmf_resv_ctrlr;
struct nvmf_resv_drain_slot;

#define NVMF_SN_LEN	     20
#define NVMF_MN_LEN	     40
#define NVMF_MAX_NS_DEFAULT  32
#define NVMF_MAX_AER	     4
#define NVMF_CHANGED_NS_MAX  1024
#define NVMF_KATO_DEFAULT_MS 120000
#define NVMF_FW_REV	     "nvtcp01"
#define NVMF_MN_DEFAULT	     "nvtcp Controller"
#define NVMF_SN_DEFAULT	     "00000000000000000000"
#define NVMF_VS		     NVT_NVME_VS_1_3
/* CAP.TO in 500 ms units. */
#define NVMF_CAP_TO 15

/* An allowed host, with the keys it must prove it holds (NULL: none). */
struct nvmf_host {
	char nqn[NVT_NVMF_NQN_MAX_LEN + 1];
	/* TLS PSK: the host connects over a secure channel only. */
	struct nvt_key *psk;
	/* DH-HMAC-CHAP: the host authenticates; with ctrlr_key, so does the controller. */
	struct nvt_key *dhchap_key;
	struct nvt_key *dhchap_ctrlr_key;
	TAILQ_ENTRY(nvmf_host) link;
};

/* A subsystem's listen address. */
struct nvmf_subsystem_listener {
	struct nvt_nvmf_trid trid;
	struct nvmf_transport *transport;
	bool secure_channel;
	/* ANA reporting: its slot of subsystem->ana, plus one (0: none). */
	uint32_t ana_slot;
	TAILQ_ENTRY(nvmf_subsystem_listener) link;
};

/* A target-wide listen address, shared by subsystems (counted). */
struct nvmf_listener {
	struct nvt_nvmf_trid trid;
	struct nvmf_transport *transport;
	/* TLS only, for every subsystem on the address. */
	bool secure_channel;
	uint32_t refs;
	uint16_t portid;
	TAILQ_ENTRY(nvmf_listener) link;
};

struct nvmf_ns {
	uint32_t nsid;
	struct nvt_nvmf_subsystem *subsystem;
	char *bdev_name;
	struct nvt_bdev *bdev;
	struct nvt_bdev_desc *desc;
	struct nvt_nvmf_ns_opts opts;
	uint32_t block_size;
	bool write_cache;
	/* The bdev is read-only: opened so, writes fail as write protected. */
	bool read_only;
	/* Removal: poll groups still holding a channel, then this runs. */
	uint32_t groups_left;
	/* Removal: each poll group's release, in flight together (indexed by group). */
	struct nvt_thread_msg *release_msgs;
	nvt_nvmf_done_cb remove_cb;
	void *remove_ctx;
	/* Reservations (resv.c), app thread. */
	struct nvmf_resv_ns *resv;
};

struct nvt_nvmf_subsystem {
	struct nvt_nvmf_tgt *tgt;
	/* Index in every poll group's table. */
	uint32_t id;
	enum nvt_nvmf_subtype subtype;
	char nqn[NVT_NVMF_NQN_MAX_LEN + 1];
	char sn[NVMF_SN_LEN + 1];
	char mn[NVMF_MN_LEN + 1];
	bool allow_any_host;
	uint32_t max_nsid;
	/* ns[nsid - 1]; NULL when free. */
	struct nvmf_ns **ns;
	uint32_t num_ns;
	TAILQ_HEAD(, nvmf_host) hosts;
	TAILQ_HEAD(, nvmf_subsystem_listener) listeners;
	TAILQ_HEAD(, nvmf_ctrlr) ctrlrs;
	/* Controller IDs handed out, within NVT_NVMF_CNTLID_MIN..MAX. */
	uint16_t min_cntlid;
	uint16_t max_cntlid;
	uint16_t next_cntlid;
	/* Limits reported in the NVM Identify Controller data (0: none). */
	uint32_t dmrsl;
	uint8_t wzsl;
	/* ANA reporting: the states per listener (NULL: off). */
	struct nvmf_ana *ana;
	bool deleting;
	TAILQ_ENTRY(nvt_nvmf_subsystem) link;
};

/* One namespace as one poll group sees it. */
struct nvmf_pg_ns {
	struct nvmf_ns *ns;
	struct nvt_io_channel *ch;
	uint32_t io_outstanding;
	/* Removed: new I/O fails, the channel goes once io_outstanding is 0. */
	bool removing;
	/* The reservation as this group sees it (resv.c publishes it). */
	const struct nvmf_resv_snap *resv;
	/* Admitted I/O per drain epoch, and a Preempt and Abort waiting (resv_drain.c). */
	uint32_t resv_inflight[2];
	uint8_t resv_epoch;
	struct nvmf_resv_drain_slot *resv_drain;
	/* Its I/O counters (io_stats.c); NULL until the first counted command. */
	struct nvmf_io_stats *io_stats;
	/* A fused Compare and Write was refused here and logged (once per group). */
	bool fused_refusal_logged;
};

/* One subsystem as one poll group sees it. */
struct nvmf_pg_subsystem {
	uint32_t num_ns;
	struct nvmf_pg_ns *ns;
};

/* Counters of one poll group, in SPDK's terms; its thread only. */
struct nvmf_poll_group_stats {
	uint32_t current_admin_qpairs; /* connected (Fabrics Connect done) now */
	uint32_t current_io_qpairs;
	uint64_t admin_qpairs; /* connected since start */
	uint64_t io_qpairs;
	uint64_t pending_requests;   /* commands in the core now, AERs included */
	uint64_t completed_requests; /* commands completed, admin included */
	uint64_t completed_nvme_io;  /* commands of I/O queues completed */
	uint64_t pending_bdev_io;    /* namespace I/O submitted, not completed */
	uint64_t auth_failures;	     /* DH-HMAC-CHAP exchanges that failed for good */
};

struct nvmf_poll_group {
	struct nvt_nvmf_tgt *tgt;
	struct nvt_thread *thread;
	uint32_t index;
	struct nvt_poller *poller;
	TAILQ_HEAD(, nvmf_transport_poll_group) tgroups;
	TAILQ_HEAD(, nvmf_qpair) qpairs;
	/* Active qpairs, read by the app thread to pick the optimal group. */
	uint32_t num_qpairs;
	/* Indexed by subsystem id; max_subsystems entries. */
	struct nvmf_pg_subsystem *sgroups;
	struct nvmf_poll_group_stats stats;
	/* Per namespace and per host I/O counters (io_stats.c). */
	struct nvmf_io_stats *io_stats;
	/* Queue pairs handed to ops->qpair_fini() whose callback has not run yet. */
	uint32_t closing_qpairs;
	/* Shutdown: poll_group_fini() ran; poll_group_fini_done() ran. */
	bool fini_started;
	bool fini_done;
	/*
	 * The target's steps, one stage at a time: the start or a transport's
	 * addition (request and answer) in step_msg; the shutdown (request,
	 * poll_group_fini_done() on the group's thread, answer) in fini_msg.
	 */
	struct nvt_thread_msg step_msg;
	struct nvt_thread_msg fini_msg;
};

enum nvmf_tgt_state {
	NVMF_TGT_INITIALIZING = 0,
	NVMF_TGT_RUNNING,
	NVMF_TGT_STOPPING,
	NVMF_TGT_NUM_STATES,
};

struct nvt_nvmf_tgt {
	struct nvt_nvmf_tgt_opts opts;
	enum nvmf_tgt_state state;
	struct nvt_thread *thread;
	uint32_t num_groups;
	struct nvmf_poll_group **groups;
	uint32_t next_group;
	TAILQ_HEAD(, nvmf_transport) transports;
	TAILQ_HEAD(, nvmf_listener) listeners;
	TAILQ_HEAD(, nvt_nvmf_subsystem) subsystems;
	/* subsystem ids in use, max_subsystems entries. */
	struct nvt_nvmf_subsystem **subsystem_ids;
	struct nvt_nvmf_subsystem *discovery;
	uint64_t discovery_genctr;
	/* Discovery referrals (referral.c), in the order added. */
	TAILQ_HEAD(, nvmf_referral) referrals;
	uint16_t next_portid;
	/* Pending init/fini steps. */
	uint32_t pending;
	/* The transport being added to every poll group (transport_group_add()). */
	struct nvmf_transport *new_transport;
	nvt_nvmf_done_cb cb;
	void *cb_ctx;
	nvt_nvmf_done_cb fini_cb;
	void *fini_ctx;
};

/* Features as a controller keeps them. */
struct nvmf_ctrlr_feat {
	uint32_t arbitration;
	uint32_t power_management;
	uint32_t temperature_threshold;
	uint32_t error_recovery;
	uint32_t volatile_write_cache;
	uint32_t number_of_queues;
	uint32_t interrupt_coalescing;
	uint32_t async_event_configuration;
	uint32_t keep_alive_timer;
};

enum nvmf_ctrlr_state {
	NVMF_CTRLR_ACTIVE = 0,
	/* Tearing down: disconnecting I/O qpairs. */
	NVMF_CTRLR_DESTRUCTING,
	NVMF_CTRLR_NUM_STATES,
};

struct nvmf_ctrlr {
	uint16_t cntlid;
	enum nvmf_ctrlr_state state;
	struct nvt_nvmf_subsystem *subsystem;
	struct nvt_thread *thread;
	struct nvmf_qpair *admin_qpair;
	char hostnqn[NVT_NVMF_NQN_MAX_LEN + 1];
	uint8_t hostid[16];
	/* The address its admin queue connected to (app thread: listener removal). */
	struct nvt_nvmf_trid listen_trid;
	uint32_t cc;
	uint32_t csts;
	struct nvmf_ctrlr_feat feat;
	/* I/O qpairs by qid (1 .. max_io_qpairs); they live on other threads. */
	struct nvmf_qpair **io_qpairs;
	uint16_t max_io_qpairs;
	uint32_t num_io_qpairs;
	TAILQ_HEAD(, nvmf_request) aer_reqs;
	uint32_t num_aer;
	/* A namespace change not yet reported (waiting for an AER). */
	bool ns_change_pending;
	/* Notices masked until the host reads the changed namespace list. */
	bool ns_notice_masked;
	uint32_t changed_ns[NVMF_CHANGED_NS_MAX];
	uint32_t num_changed_ns;
	/* Discovery log changed, not yet reported; notices masked until the log is read. */
	bool disc_change_pending;
	bool disc_notice_masked;
	struct nvmf_ctrlr_ana ana;
	/* Reservation notifications (resv_ctrlr.c); NULL until the first. */
	struct nvmf_resv_ctrlr *resv;
	struct nvt_poller *ka_poller;
	/* Ticks of the last Keep Alive (or of the timer's start). */
	uint64_t last_keep_alive;
	/* Teardown: to the app thread to leave the subsystem, back to be freed. */
	struct nvt_thread_msg teardown_msg;
	/* The subsystem's deletion asking it to disconnect (once). */
	struct nvt_thread_msg disconnect_msg;
	TAILQ_ENTRY(nvmf_ctrlr) link;
};

/* tgt.c */
struct nvt_nvmf_tgt *nvmf_tgt_get(void);
int nvmf_tgt_init_mask(const struct nvt_nvmf_tgt_opts *opts, const struct nvt_cpuset *mask,
		       nvt_nvmf_done_cb cb, void *ctx);
struct nvmf_transport *nvmf_tgt_find_transport(struct nvt_nvmf_tgt *tgt, const char *trtype);
const struct nvmf_transport_ops *nvmf_transport_find_ops(const char *name);
int nvmf_tgt_listen(struct nvt_nvmf_tgt *tgt, const struct nvt_nvmf_trid *trid, bool secure,
		    struct nvmf_transport **transport);
void nvmf_tgt_stop_listen(struct nvt_nvmf_tgt *tgt, const struct nvt_nvmf_trid *trid);
struct nvmf_listener *nvmf_tgt_find_listener(struct nvt_nvmf_tgt *tgt,
					     const struct nvt_nvmf_trid *trid);
void nvmf_poll_group_add_qpair(struct nvmf_poll_group *group, struct nvmf_qpair *qpair);
void nvmf_poll_group_remove_qpair(struct nvmf_qpair *qpair);
/* ops->qpair_fini() callback; \p ctx is the poll group. */
void nvmf_poll_group_qpair_closed(void *ctx);
/*
 * The one check of transport options: NULL when \p opts are valid for a
 * target of \p groups poll groups, else the name of the first bad field
 * with the reason (value and allowed range) in \p why.
 */
const char *nvmf_transport_opts_check(const struct nvt_nvmf_transport_opts *opts, uint32_t groups,
				      char *why, size_t len);
/*
 * Run fn(group, arg) on every poll group's thread, then done(arg) on the app
 * thread. On allocation failure done(arg) runs at once (logged).
 */
void nvmf_tgt_for_each_group(struct nvt_nvmf_tgt *tgt, void (*fn)(struct nvmf_poll_group *, void *),
			     void (*done)(void *), void *arg);

/* subsystem.c */
int nvmf_subsystem_create_internal(struct nvt_nvmf_tgt *tgt, const char *nqn,
				   enum nvt_nvmf_subtype subtype, uint32_t max_ns,
				   struct nvt_nvmf_subsystem **out);
void nvmf_subsystem_free(struct nvt_nvmf_subsystem *subsystem);
/* auth.c: DH-HMAC-CHAP, on the queue pair's thread unless said otherwise. */
/* Any thread: the state of a queue of \p hostnqn on \p subnqn; NULL without memory. */
struct nvmf_qpair_auth *nvmf_auth_new(const char *hostnqn, const char *subnqn);
/* The Connect of \p qpair succeeded and asked it to authenticate with \p auth. */
void nvmf_auth_start(struct nvmf_qpair *qpair, struct nvmf_qpair_auth *auth);
void nvmf_auth_free(struct nvmf_qpair *qpair);
/* Whether \p cmd may run on \p qpair now (everything once authenticated). */
bool nvmf_auth_allows(const struct nvmf_qpair *qpair, const union nvt_nvme_sqe *cmd);
/* Authentication Send or Receive. */
void nvmf_auth_exec(struct nvmf_request *req);
/* Stats readers, qpair's thread: the state's name, and the hash and group chosen. */
const char *nvmf_auth_describe(const struct nvmf_qpair_auth *auth, enum nvt_auth_hash *hash,
			       enum nvt_auth_dhgroup *dhgroup);
/* host.c */
struct nvmf_host *nvmf_subsystem_find_host(const struct nvt_nvmf_subsystem *subsystem,
					   const char *hostnqn);
void nvmf_host_free(const struct nvt_nvmf_subsystem *subsystem, struct nvmf_host *host);
/* psk.c: the TLS PSKs of allowed hosts for handshakes (app thread, but find). */
int nvmf_psk_add(const char *subnqn, const char *hostnqn, const struct nvt_key *key);
void nvmf_psk_remove(const char *subnqn, const char *hostnqn);
/* Any thread: an nvt_sock_tls_psk_find_cb (\p ctx unused). */
int nvmf_psk_find(void *ctx, const char *identity, const uint8_t *client_hello,
		  size_t client_hello_len, unsigned int identity_index,
		  struct nvt_sock_tls_psk *psk);
bool nvmf_subsystem_listener_allowed(const struct nvt_nvmf_subsystem *subsystem,
				     const struct nvt_nvmf_trid *trid);
int nvmf_pg_subsystem_build(struct nvmf_poll_group *group, struct nvt_nvmf_subsystem *subsystem);
void nvmf_pg_subsystem_sync(struct nvmf_poll_group *group, struct nvt_nvmf_subsystem *subsystem);
void nvmf_pg_subsystem_free(struct nvmf_poll_group *group, uint32_t id);
struct nvmf_pg_ns *nvmf_pg_get_ns(struct nvmf_poll_group *group,
				  const struct nvt_nvmf_subsystem *subsystem, uint32_t nsid);
void nvmf_pg_ns_io_done(struct nvmf_poll_group *group, struct nvmf_pg_ns *pns);
void nvmf_subsystem_ns_changed(struct nvt_nvmf_subsystem *subsystem, uint32_t nsid);

/* ctrlr.c */
/*
 * Send a step that must not be lost (of a teardown, a Connect, a shutdown)
 * in \p msg, storage of the object it concerns: see
 * nvt_thread_send_msg_prealloc(). That fails only when \p thread has exited
 * or \p msg is still in flight, which the order of teardowns rules out: the
 * step is then lost, logged with \p what. Returns 0 or that -errno.
 */
int nvmf_send_msg(struct nvt_thread *thread, struct nvt_thread_msg *msg, nvt_msg_fn fn, void *ctx,
		  const char *what);
void nvmf_req_set_status(struct nvmf_request *req, uint8_t sct, uint8_t sc, bool dnr);
void nvmf_req_success(struct nvmf_request *req);
void nvmf_req_invalid_field(struct nvmf_request *req);
void nvmf_ctrlr_notify_ns_changed(struct nvmf_ctrlr *ctrlr, uint32_t nsid);
void nvmf_ctrlr_keep_alive(struct nvmf_ctrlr *ctrlr);
void nvmf_ctrlr_start_keep_alive(struct nvmf_ctrlr *ctrlr);
bool nvmf_ctrlr_is_enabled(const struct nvmf_ctrlr *ctrlr);
uint64_t nvmf_ctrlr_cap(const struct nvmf_ctrlr *ctrlr);
void nvmf_qpair_set_state(struct nvmf_qpair *qpair, enum nvmf_qpair_state state);
void nvmf_ctrlr_destruct(struct nvmf_ctrlr *ctrlr);
/* Controller thread: end the controller's connections (a no-op once it is going). */
void nvmf_ctrlr_disconnect(struct nvmf_ctrlr *ctrlr);
void nvmf_ctrlr_remove_io_qpair(struct nvmf_ctrlr *ctrlr, struct nvmf_qpair *qpair);

/* fabrics.c */
void nvmf_fabrics_exec(struct nvmf_request *req);

/* admin.c */
void nvmf_admin_exec(struct nvmf_request *req);
void nvmf_admin_aer_complete_all(struct nvmf_ctrlr *ctrlr, uint8_t sct, uint8_t sc);
void nvmf_admin_aer_try_notify(struct nvmf_ctrlr *ctrlr);
/* Complete a held AER with a notice (\p info, log page \p lid); false if none is held. */
bool nvmf_admin_aer_notice(struct nvmf_ctrlr *ctrlr, uint8_t info, uint8_t lid);

/* io.c */
void nvmf_io_exec(struct nvmf_request *req);

/*
 * fused.c, queue pair's thread: fused Compare and Write. nvmf_request_arrived()
 * pairs the commands; then a fused command of an I/O queue executes here,
 * and every completion passes nvmf_fused_complete() (the pair completes
 * together). A disconnect completes the held ones. Identify's FUSES field.
 */
void nvmf_fused_exec(struct nvmf_request *req);
void nvmf_fused_complete(struct nvmf_request *req);
void nvmf_fused_qpair_disconnect(struct nvmf_qpair *qpair);
uint16_t nvmf_fused_identify_fuses(struct nvmf_ctrlr *ctrlr);

/* io_stats.c, poll group thread: a command goes to its bdev, and comes back. */
void nvmf_io_stats_start(struct nvmf_request *req);
void nvmf_io_stats_done(struct nvmf_request *req, struct nvmf_pg_ns *pns);
void nvmf_io_stats_group_free(struct nvmf_poll_group *group);

/* nvmf_rpc.c */
void nvmf_rpc_register_config(void);

/* discovery.c */
void nvmf_discovery_get_log(struct nvmf_request *req, uint64_t offset, uint64_t len);
/*
 * App thread: the discovery log changed; bump its generation counter and
 * send a discovery log change notice to each discovery controller that
 * enabled them (on its thread).
 */
void nvmf_discovery_changed(struct nvt_nvmf_tgt *tgt);
/* Controller's thread: report a pending discovery log change to a held AER. */
void nvmf_discovery_aer_try_notify(struct nvmf_ctrlr *ctrlr);

/* referral.c: app thread. */
size_t nvmf_referral_count(const struct nvt_nvmf_tgt *tgt);
/* Fill one discovery log entry per referral into \p e (nvmf_referral_count() of them). */
void nvmf_referral_fill_entries(const struct nvt_nvmf_tgt *tgt, struct nvt_nvmf_disc_log_entry *e);
typedef void (*nvmf_referral_fn)(void *arg, const struct nvt_nvmf_referral *referral);
/* Call \p fn for each referral, oldest first (it must not add or remove any). */
void nvmf_referral_foreach(const struct nvt_nvmf_tgt *tgt, nvmf_referral_fn fn, void *arg);
void nvmf_referral_free_all(struct nvt_nvmf_tgt *tgt);

/* The namespace's size now: its bdev's, which may change (resize). Any thread. */
static inline uint64_t
nvmf_ns_num_blocks(const struct nvmf_ns *ns)
{
	return nvt_bdev_get_num_blocks(ns->bdev);
}

/* Whether an identifier (NGUID, EUI64, ...) is unset. */
static inline bool
nvmf_bytes_are_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

#endif /* NVMF_INTERNAL_H */
