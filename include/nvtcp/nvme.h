/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * NVMe over TCP host (initiator).
 *
 * A controller (nvt_nvme_ctrlr) is reached through a transport ID and set up
 * asynchronously by nvt_nvme_ctrlr_connect(): TCP connect, ICReq/ICResp,
 * Fabrics Connect of the admin queue, CAP/VS, CC.EN, CSTS.RDY, Identify
 * controller, Number of Queues and the Identify data of every active
 * namespace. The controller and its admin queue belong to the nvt_thread that
 * connected it; its keep alive runs there on a timed poller.
 *
 * I/O queues (nvt_nvme_qpair), one TCP connection each, belong to the thread
 * of the poll group they were created in (nvt_nvme_poll_group: a socket group
 * polled by a period-0 poller; its fds wake the thread in interrupt mode).
 * Commands are submitted and complete on that thread only; the controller's
 * identify data is read-only once connected and may be read from any thread.
 *
 * Large I/O: a Read or Write longer than the controller's maximum data
 * transfer size (MDTS), or a Write Zeroes beyond its Write Zeroes Size Limit,
 * or any of them above 65536 blocks, is split into child commands sent in LBA
 * order on the same queue, each with its slice of the blocks and the data. The
 * caller sees one I/O: one callback, once every child completed, with the
 * first error any child met (no further child is sent after one failed).
 * Dataset Management is never split.
 *
 * Queue depth: a queue of depth D holds D command ids on the wire and accepts
 * D I/Os of the caller, a split one counting once. Children take command ids
 * as they free up; those that find none wait in order, oldest I/O first, and
 * a new I/O never overtakes a waiting one. No memory is allocated per I/O.
 *
 * Errors: -errno for the host side and transport; NVMe status words
 * (struct nvt_nvme_cpl status) for what the controller answered. A fatal
 * transport error (TermReq from the controller, bad digest, socket reset)
 * fails every outstanding command of the queue with status Host Path Error
 * (SCT 3h, SC 70h) and marks the queue and the controller failed.
 *
 * Security (NVMe Base 2.0 section 8.13, NVMe/TCP Transport 1.1 section 3.6):
 * with a DH-HMAC-CHAP host key in the options, every queue (admin and I/O)
 * whose Fabrics Connect response asks for authentication (AUTHREQ.ATR) runs
 * DH-HMAC-CHAP before it is used; with a controller key as well, every queue
 * authenticates, and the host checks the controller's response too
 * (bidirectional). With a TLS PSK, every queue is a TLS 1.3 connection of
 * the "ssl" socket implementation, keyed by the PSK derived for this host
 * and subsystem. Connect failures of these steps: -ENOKEY (the controller
 * requires authentication and no host key is set), -EACCES (the controller
 * refused the host: AUTH_Failure1), -EKEYREJECTED (the controller failed to
 * prove it holds the controller key), -EPROTO (a malformed or unexpected
 * authentication message), -EREMOTEIO (an Authentication Send or Receive
 * command failed, its status given), and the socket's errors for TLS.
 */
#ifndef NVTCP_NVME_H
#define NVTCP_NVME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include "nvtcp/nvme_spec.h"
#include "nvtcp/auth.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nvt_nvme_ctrlr;
struct nvt_nvme_qpair;
struct nvt_nvme_poll_group;
struct nvt_sock_tls_info;

/** Longest transport service id (port) string, NUL included. */
#define NVT_NVME_TRSVCID_LEN (NVT_NVMF_TRSVCID_SIZE + 1)

/** A transport ID, as SPDK's tools and nvme-cli name a controller. */
struct nvt_nvme_trid {
	/** Transport type; only NVT_NVMF_TRTYPE_TCP is supported. */
	enum nvt_nvmf_trtype trtype;
	/** NVT_NVMF_ADRFAM_IPV4 or NVT_NVMF_ADRFAM_IPV6. */
	enum nvt_nvmf_adrfam adrfam;
	/** Numeric address. */
	char traddr[NVT_NVMF_TRADDR_SIZE];
	/** Port, decimal. */
	char trsvcid[NVT_NVME_TRSVCID_LEN];
	/** Subsystem NQN; empty means the discovery subsystem. */
	char subnqn[NVT_NVMF_NQN_FIELD_SIZE];
	/** Host NQN to use; empty means the default (see nvt_nvme_ctrlr_get_default_opts()). */
	char hostnqn[NVT_NVMF_NQN_FIELD_SIZE];
};

/**
 * Parse a transport ID string: space separated "key:value" pairs, keys
 * case-insensitive (trtype, adrfam, traddr, trsvcid, subnqn, hostnqn), e.g.
 * "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:nqn.x".
 * traddr is required; trtype defaults to TCP, adrfam to IPv4 (IPv6 when
 * traddr contains ':'), trsvcid to 4420 (8009 when subnqn is the discovery NQN
 * itself; no subnqn means discovery on the given or the default 4420 port).
 *
 * \param err Receives a one-line reason on failure (may be NULL).
 * \return 0, or -EINVAL (unknown key, bad value, missing traddr, duplicate key).
 */
int nvt_nvme_trid_parse(struct nvt_nvme_trid *trid, const char *str, char *err, size_t errlen);

/** Format \p trid as a transport ID string (the inverse of the parser). */
void nvt_nvme_trid_fmt(const struct nvt_nvme_trid *trid, char *buf, size_t len);

/** Whether \p trid names the discovery subsystem (empty subnqn or the discovery NQN). */
bool nvt_nvme_trid_is_discovery(const struct nvt_nvme_trid *trid);

/** Options of a controller; initialise with nvt_nvme_ctrlr_get_default_opts(). */
struct nvt_nvme_ctrlr_opts {
	/** sizeof(struct nvt_nvme_ctrlr_opts) as the caller knows it. */
	size_t opts_size;
	/** Admin queue entries (default 32). */
	uint32_t admin_queue_size;
	/** Keep alive timeout in ms, 0 = none (default 10000; discovery uses 0). */
	uint32_t kato_ms;
	/** Number of I/O queues asked for with Set Features (default 64). */
	uint32_t num_io_queues;
	/** Request header and data digests on every queue. */
	bool header_digest;
	bool data_digest;
	/** Host NQN: /etc/nvme/hostnqn when present, else one made from hostid. */
	char hostnqn[NVT_NVMF_NQN_FIELD_SIZE];
	/** Host ID: /etc/nvme/hostid when present, else random. */
	uint8_t hostid[16];
	/** Socket implementation ("posix", "uring") or NULL for the default. */
	const char *sock_impl;
	/** Connect/initialisation timeout in ms (default 10000). */
	uint32_t connect_timeout_ms;
	/**
	 * DH-HMAC-CHAP secret of the host ("DHHC-1"), or NULL (default): no
	 * authentication. Copied by nvt_nvme_ctrlr_connect(); the pointer is not kept.
	 */
	const struct nvt_secret *dhchap_key;
	/**
	 * DH-HMAC-CHAP secret of the controller, or NULL (default): with it the
	 * host authenticates the controller as well. Needs dhchap_key. Copied.
	 */
	const struct nvt_secret *dhchap_ctrlr_key;
	/**
	 * Hash functions offered, bit (1u << enum nvt_auth_hash) each
	 * (default: SHA-256, SHA-384 and SHA-512).
	 */
	uint32_t dhchap_digests;
	/**
	 * Diffie-Hellman groups offered, bit (1u << enum nvt_auth_dhgroup) each
	 * (default: all, the NULL group and ffdhe2048 to ffdhe8192).
	 */
	uint32_t dhchap_dhgroups;
	/**
	 * TLS: the configured PSK ("NVMeTLSkey-1"), or NULL (default): no TLS.
	 * With it the queues use the "ssl" socket implementation (sock_impl must
	 * be NULL or "ssl"). Copied; the pointer is not kept.
	 */
	const struct nvt_secret *tls_psk;
	/**
	 * TLS PSK identity to present, or NULL (default) for the version 0
	 * identity "NVMe0R<hh> <hostnqn> <subnqn>". Copied.
	 */
	const char *psk_identity;
	/**
	 * How the retained and TLS PSKs are derived: NVT_TLS_PSK_KDF_RFC8446
	 * (default: the specification, SPDK) or NVT_TLS_PSK_KDF_LIBNVME_COMPAT
	 * (what a Linux target whose key libnvme before its 2025 fix put in the
	 * keyring expects, Debian 13's among them).
	 */
	enum nvt_tls_psk_kdf tls_psk_kdf;
};

/** Every hash function DH-HMAC-CHAP knows (the default of dhchap_digests). */
#define NVT_NVME_DHCHAP_DIGESTS_ALL \
	((1u << NVT_AUTH_HASH_SHA256) | (1u << NVT_AUTH_HASH_SHA384) | (1u << NVT_AUTH_HASH_SHA512))
/** Every Diffie-Hellman group DH-HMAC-CHAP knows (the default of dhchap_dhgroups). */
#define NVT_NVME_DHCHAP_DHGROUPS_ALL                                     \
	((1u << NVT_AUTH_DHGROUP_NULL) | (1u << NVT_AUTH_DHGROUP_2048) | \
	 (1u << NVT_AUTH_DHGROUP_3072) | (1u << NVT_AUTH_DHGROUP_4096) | \
	 (1u << NVT_AUTH_DHGROUP_6144) | (1u << NVT_AUTH_DHGROUP_8192))

/** Fill \p opts with the defaults (reads /etc/nvme/hostnqn and hostid). */
void nvt_nvme_ctrlr_get_default_opts(struct nvt_nvme_ctrlr_opts *opts, size_t opts_size);

/** Completion of one command; \p cpl is valid only during the call. */
typedef void (*nvt_nvme_cmd_cb)(void *cb_arg, const struct nvt_nvme_cpl *cpl);

/**
 * Completion of nvt_nvme_ctrlr_connect(). On success \p rc is 0 and \p ctrlr
 * is ready. On failure \p ctrlr is NULL, \p rc is -errno (-ECONNREFUSED,
 * -ETIMEDOUT, -EPROTO, ...) or -EREMOTEIO when the controller failed a
 * command, whose status word is \p status (0 otherwise).
 */
typedef void (*nvt_nvme_ctrlr_connect_cb)(void *cb_arg, struct nvt_nvme_ctrlr *ctrlr, int rc,
					  uint16_t status);

/**
 * Connect to a controller. Only from an nvt_thread, which then owns the
 * controller. \p cb_fn runs exactly once, never inside this call.
 *
 * \param opts NULL for the defaults; hostnqn in \p trid overrides opts.
 * \return 0, -EINVAL (bad trid; a secret of the wrong kind, a controller
 * key without a host key, no digest or group left to offer, a TLS PSK with
 * another socket implementation, an identity too long), -ENOMEM, -ENOTSUP
 * (not TCP), -EIO (the key derivations failed).
 */
int nvt_nvme_ctrlr_connect(const struct nvt_nvme_trid *trid, const struct nvt_nvme_ctrlr_opts *opts,
			   nvt_nvme_ctrlr_connect_cb cb_fn, void *cb_arg);

/** Completion of nvt_nvme_ctrlr_detach(). */
typedef void (*nvt_nvme_ctrlr_detach_cb)(void *cb_arg);

/**
 * Shut a controller down (CC.SHN normal, wait for CSTS.SHST complete, bounded)
 * and free it; sets the caller's pointer to NULL. Its I/O queues must have
 * been disconnected. Only from the owning thread; \p cb_fn may be NULL.
 */
void nvt_nvme_ctrlr_detach(struct nvt_nvme_ctrlr **ctrlr, nvt_nvme_ctrlr_detach_cb cb_fn,
			   void *cb_arg);

/** Identify Controller data. */
const struct nvt_nvme_id_ctrl *nvt_nvme_ctrlr_get_data(const struct nvt_nvme_ctrlr *ctrlr);

/** CAP and VS properties. */
uint64_t nvt_nvme_ctrlr_get_cap(const struct nvt_nvme_ctrlr *ctrlr);
uint32_t nvt_nvme_ctrlr_get_vs(const struct nvt_nvme_ctrlr *ctrlr);

/** The controller's transport ID (subnqn filled in). */
const struct nvt_nvme_trid *nvt_nvme_ctrlr_get_trid(const struct nvt_nvme_ctrlr *ctrlr);

/** Whether the controller is a discovery controller. */
bool nvt_nvme_ctrlr_is_discovery(const struct nvt_nvme_ctrlr *ctrlr);

/** Whether a fatal error hit the controller or one of its queues. Any thread. */
bool nvt_nvme_ctrlr_is_failed(const struct nvt_nvme_ctrlr *ctrlr);

/** I/O queues granted by Set Features Number of Queues. */
uint32_t nvt_nvme_ctrlr_get_num_io_queues(const struct nvt_nvme_ctrlr *ctrlr);

/**
 * Largest data transfer of one command in bytes (MDTS; UINT32_MAX when
 * unlimited). Larger reads and writes are split (see the top of this file).
 */
uint32_t nvt_nvme_ctrlr_get_max_xfer_size(const struct nvt_nvme_ctrlr *ctrlr);

/**
 * Largest Write Zeroes of one command in bytes (WZSL of the NVM command set's
 * Identify Controller data, read from controllers of version 1.4 or later;
 * UINT32_MAX when none is reported).
 */
uint32_t nvt_nvme_ctrlr_get_max_write_zeroes_size(const struct nvt_nvme_ctrlr *ctrlr);

/**
 * Most blocks of namespace \p nsid one Read or Write command carries: MDTS in
 * blocks, at most 65536. A larger I/O is split into commands of this many
 * blocks (the last one shorter). 0 for an unknown nsid or a block larger than
 * MDTS (no I/O possible).
 */
uint32_t nvt_nvme_ctrlr_get_ns_max_io_blocks(const struct nvt_nvme_ctrlr *ctrlr, uint32_t nsid);

/** What DH-HMAC-CHAP did on a queue. */
struct nvt_nvme_auth_info {
	/** The queue authenticated (false: the controller did not ask for it). */
	bool authenticated;
	/** The host checked the controller's response too. */
	bool bidirectional;
	/** The hash function and Diffie-Hellman group the controller chose. */
	enum nvt_auth_hash hash;
	enum nvt_auth_dhgroup dhgroup;
};

/** DH-HMAC-CHAP on the admin queue (its last run, re-authentication included). Owning thread. */
void nvt_nvme_ctrlr_get_auth_info(const struct nvt_nvme_ctrlr *ctrlr,
				  struct nvt_nvme_auth_info *info);

/**
 * What TLS negotiated on the admin queue. Owning thread only.
 * \return 0, -ENOTSUP (no TLS), -ENXIO (the queue is closed).
 */
int nvt_nvme_ctrlr_get_tls_info(const struct nvt_nvme_ctrlr *ctrlr, struct nvt_sock_tls_info *info);

/** Completion of nvt_nvme_ctrlr_authenticate(): 0 or a connect error (see the top). */
typedef void (*nvt_nvme_ctrlr_auth_cb)(void *cb_arg, int rc, uint16_t status);

/**
 * Authenticate the admin queue again (DH-HMAC-CHAP with the keys given at
 * connect), while commands keep flowing. A failure marks the controller
 * failed, as the controller drops the connection after it. Owning thread
 * only; \p cb_fn runs once, never inside this call.
 *
 * \return 0; -EINVAL (no host key), -EBUSY (an authentication is running),
 * -ENXIO (the controller failed), -ENOMEM.
 */
int nvt_nvme_ctrlr_authenticate(struct nvt_nvme_ctrlr *ctrlr, nvt_nvme_ctrlr_auth_cb cb_fn,
				void *cb_arg);

/**
 * Read a secret from a file, as nvme gen-dhchap-key (\p kind
 * NVT_SECRET_DHCHAP) or nvme gen-tls-key (NVT_SECRET_TLS_PSK) print it: one
 * secret in its interchange format, white space around it ignored. As the
 * keyring does, a file that group or others may access is refused. Any
 * thread; the file's contents are never logged.
 *
 * \param secret Set on success; free it with nvt_secret_free().
 * \return 0; -EINVAL (not one valid secret of that kind), -EPERM (mode not
 * 0600 or stricter), -EFBIG (too long for a secret), -ENOMEM, or the
 * -errno of open() or read().
 */
int nvt_nvme_secret_read_file(const char *path, enum nvt_secret_kind kind,
			      struct nvt_secret **secret);

/**
 * Parse a comma-separated list of hash function names ("sha256,sha512",
 * as SPDK's dhchap_digests) into a dhchap_digests mask. \return 0 or -EINVAL.
 */
int nvt_nvme_dhchap_digests_parse(const char *list, uint32_t *mask);

/**
 * Parse a comma-separated list of Diffie-Hellman group names
 * ("null,ffdhe2048") into a dhchap_dhgroups mask. \return 0 or -EINVAL.
 */
int nvt_nvme_dhchap_dhgroups_parse(const char *list, uint32_t *mask);

/**
 * Describe a connect error \p rc in words, naming the security failures
 * (see the top of this file) plainly; others as nvt_strerror().
 */
const char *nvt_nvme_strerror(int rc);

/** Number of active namespaces, and their NSIDs in increasing order (index < count). */
uint32_t nvt_nvme_ctrlr_get_active_ns_count(const struct nvt_nvme_ctrlr *ctrlr);
uint32_t nvt_nvme_ctrlr_get_active_nsid(const struct nvt_nvme_ctrlr *ctrlr, uint32_t index);

/** Identify Namespace data of an active namespace, or NULL. */
const struct nvt_nvme_id_ns *nvt_nvme_ctrlr_get_ns_data(const struct nvt_nvme_ctrlr *ctrlr,
							uint32_t nsid);

/**
 * Submit an admin command (opcode, nsid and cdw10-15 of \p cmd are used;
 * the cid and data pointer are filled in). \p buf of \p len bytes is sent or
 * received per the opcode's data direction. Owning thread only.
 *
 * \return 0 (\p cb_fn runs once, later), -EAGAIN (queue full), -ENXIO (failed).
 */
int nvt_nvme_ctrlr_cmd_admin(struct nvt_nvme_ctrlr *ctrlr, const struct nvt_nvme_cmd *cmd,
			     void *buf, uint32_t len, nvt_nvme_cmd_cb cb_fn, void *cb_arg);

/**
 * Completion of nvt_nvme_ctrlr_get_discovery_log(): \p rc 0 and the whole
 * log (header + numrec entries, valid during the call), or -errno (-EREMOTEIO
 * with \p status set when the controller failed the command).
 */
typedef void (*nvt_nvme_discovery_cb)(void *cb_arg, int rc, uint16_t status,
				      const struct nvt_nvmf_disc_log_hdr *log);

/**
 * Read the discovery log page: the header first for numrec and genctr, then
 * the whole page; read again (a few times) if genctr changed meanwhile.
 */
int nvt_nvme_ctrlr_get_discovery_log(struct nvt_nvme_ctrlr *ctrlr, nvt_nvme_discovery_cb cb_fn,
				     void *cb_arg);

/** Print a discovery log page in the style of nvme-cli's "nvme discover". */
void nvt_nvme_discovery_log_print(FILE *out, const struct nvt_nvmf_disc_log_hdr *log);

/** Transport ID of discovery log entry \p e (hostnqn left empty). */
void nvt_nvme_trid_from_disc_entry(struct nvt_nvme_trid *trid,
				   const struct nvt_nvmf_disc_log_entry *e);

/**
 * Create a poll group on the current nvt_thread: a socket group polled by a
 * period-0 poller. \return the group, or NULL (no thread, no memory).
 */
struct nvt_nvme_poll_group *nvt_nvme_poll_group_create(void);

/** Destroy an empty poll group; sets the pointer to NULL. \return 0 or -EBUSY. */
int nvt_nvme_poll_group_destroy(struct nvt_nvme_poll_group **group);

/** Completion of nvt_nvme_ctrlr_connect_io_qpair(): \p qpair, or NULL and \p rc. */
typedef void (*nvt_nvme_qpair_connect_cb)(void *cb_arg, struct nvt_nvme_qpair *qpair, int rc,
					  uint16_t status);

/**
 * Connect one I/O queue (its own TCP connection) of a connected controller,
 * in \p group, on the group's thread. At most \p depth I/Os may be
 * outstanding, and at most \p depth commands (children of split I/Os
 * included) on the wire (the queue has depth + 1 entries; depth <= CAP.MQES).
 * To keep N I/Os of B blocks each fully on the wire, ask for
 * N x ceil(B / nvt_nvme_ctrlr_get_ns_max_io_blocks()) (capped by CAP.MQES).
 *
 * \return 0 (\p cb_fn runs once, later), -EINVAL, -ENOMEM, -ENOSPC (every
 * granted queue id is in use), -ENXIO (controller failed).
 */
int nvt_nvme_ctrlr_connect_io_qpair(struct nvt_nvme_ctrlr *ctrlr, struct nvt_nvme_poll_group *group,
				    uint32_t depth, nvt_nvme_qpair_connect_cb cb_fn, void *cb_arg);

/**
 * Close an I/O queue and set the pointer to NULL. Outstanding commands
 * complete with Aborted SQ Deletion before this returns. Group thread only.
 */
void nvt_nvme_qpair_disconnect(struct nvt_nvme_qpair **qpair);

/** Whether a fatal error hit the queue. */
bool nvt_nvme_qpair_is_failed(const struct nvt_nvme_qpair *qpair);

/** The queue id. */
uint16_t nvt_nvme_qpair_get_id(const struct nvt_nvme_qpair *qpair);

/** Number of I/Os (or commands, on the admin queue) outstanding on the queue. */
uint32_t nvt_nvme_qpair_get_outstanding(const struct nvt_nvme_qpair *qpair);

/**
 * Read or write \p nlb blocks at \p slba of \p nsid from/into \p buf (nlb x
 * block size bytes, owned by the caller until the callback). I/O above
 * nvt_nvme_ctrlr_get_ns_max_io_blocks() is split into several commands (see
 * the top of this file). Writes up to the controller's in-capsule data size
 * go in the capsule, larger ones on R2T. Group thread only.
 *
 * \return 0 (\p cb_fn runs once, later), -EAGAIN (depth I/Os outstanding),
 * -ENXIO (queue failed), -EINVAL (unknown nsid, nlb 0, 4 GiB or more of data,
 * block larger than MDTS).
 */
int nvt_nvme_ns_cmd_read(struct nvt_nvme_qpair *qpair, uint32_t nsid, void *buf, uint64_t slba,
			 uint32_t nlb, nvt_nvme_cmd_cb cb_fn, void *cb_arg);
int nvt_nvme_ns_cmd_write(struct nvt_nvme_qpair *qpair, uint32_t nsid, const void *buf,
			  uint64_t slba, uint32_t nlb, nvt_nvme_cmd_cb cb_fn, void *cb_arg);

/** Flags of nvt_nvme_ns_cmd_write_flags(): Force Unit Access (durable on completion). */
#define NVT_NVME_IO_FLAG_FUA NVT_NVME_RW_FUA

/**
 * nvt_nvme_ns_cmd_write() with \p io_flags: NVT_NVME_IO_FLAG_FUA (each
 * command of a split write carries it); any other flag is -EINVAL.
 */
int nvt_nvme_ns_cmd_write_flags(struct nvt_nvme_qpair *qpair, uint32_t nsid, const void *buf,
				uint64_t slba, uint32_t nlb, uint32_t io_flags,
				nvt_nvme_cmd_cb cb_fn, void *cb_arg);

/**
 * nvt_nvme_ns_cmd_read() and nvt_nvme_ns_cmd_write() with the data in a
 * scatter list: the first nlb x block size bytes of \p iov[0..iovcnt-1].
 * The array and the buffers stay the caller's and must stay valid and
 * unchanged until the callback. Besides the errors above, -EINVAL when the
 * list holds fewer bytes.
 */
int nvt_nvme_ns_cmd_readv(struct nvt_nvme_qpair *qpair, uint32_t nsid, const struct iovec *iov,
			  uint32_t iovcnt, uint64_t slba, uint32_t nlb, nvt_nvme_cmd_cb cb_fn,
			  void *cb_arg);
int nvt_nvme_ns_cmd_writev(struct nvt_nvme_qpair *qpair, uint32_t nsid, const struct iovec *iov,
			   uint32_t iovcnt, uint64_t slba, uint32_t nlb, nvt_nvme_cmd_cb cb_fn,
			   void *cb_arg);

/** Flush \p nsid (one command). Returns as nvt_nvme_ns_cmd_read(). */
int nvt_nvme_ns_cmd_flush(struct nvt_nvme_qpair *qpair, uint32_t nsid, nvt_nvme_cmd_cb cb_fn,
			  void *cb_arg);

/**
 * Write Zeroes of \p nlb blocks at \p slba, split by the controller's Write
 * Zeroes Size Limit (nvt_nvme_ctrlr_get_max_write_zeroes_size()) and into
 * commands of at most 65536 blocks. Returns as nvt_nvme_ns_cmd_read()
 * (no data, so no data size limit).
 */
int nvt_nvme_ns_cmd_write_zeroes(struct nvt_nvme_qpair *qpair, uint32_t nsid, uint64_t slba,
				 uint32_t nlb, nvt_nvme_cmd_cb cb_fn, void *cb_arg);

/**
 * Dataset Management with the deallocate attribute, one command whatever the
 * ranges cover; \p ranges stay valid until the callback. -EINVAL when \p nr
 * is 0 or above 256.
 */
int nvt_nvme_ns_cmd_deallocate(struct nvt_nvme_qpair *qpair, uint32_t nsid,
			       const struct nvt_nvme_dsm_range *ranges, uint16_t nr,
			       nvt_nvme_cmd_cb cb_fn, void *cb_arg);

/** Counters of one queue; a child of a split I/O counts as a command. */
struct nvt_nvme_qpair_stats {
	uint64_t submitted;	/**< commands submitted */
	uint64_t completed;	/**< commands completed (errors included) */
	uint64_t errors;	/**< completions with a non-zero status */
	uint64_t pdus_rx;	/**< PDUs received */
	uint64_t pdus_tx;	/**< PDUs queued for sending */
	uint64_t icd_writes;	/**< writes sent in-capsule */
	uint64_t r2ts;		/**< R2T PDUs received */
	uint64_t h2c_pdus;	/**< H2C Data PDUs sent */
	uint64_t c2h_success;	/**< C2H Data PDUs with the SUCCESS flag */
	uint64_t digest_errors; /**< header or data digest mismatches */
	uint64_t recv_calls;	/**< socket reads */
	uint64_t split_ios;	/**< I/Os split into several commands */
	uint64_t queued_ios;	/**< I/Os that waited for a free command id */
};

void nvt_nvme_qpair_get_stats(const struct nvt_nvme_qpair *qpair,
			      struct nvt_nvme_qpair_stats *stats);

/** Host Path Error status word given to commands failed by a fatal transport error. */
#define NVT_NVME_STATUS_HOST_PATH_ERROR                                \
	((uint16_t)((NVT_NVME_SCT_PATH << NVT_NVME_STATUS_SCT_SHIFT) | \
		    (NVT_NVME_SC_HOST_PATH_ERROR << NVT_NVME_STATUS_SC_SHIFT)))

/**
 * Describe a status word: "SCT 1h SC 84h (Connect Invalid Host)". Returns
 * \p buf.
 */
const char *nvt_nvme_status_fmt(uint16_t status, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_NVME_H */
