/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * TCP sockets and socket groups, behind pluggable implementations.
 *
 * A socket is created by nvt_sock_listen(), nvt_sock_accept() or
 * nvt_sock_connect() with an implementation chosen by name ("posix": epoll,
 * "uring": io_uring, "ssl": TLS over epoll; NULL picks the default,
 * nvt_sock_set_default_impl(), which is never "ssl").
 * All sockets are non-blocking; no function here ever blocks the caller,
 * except that closing an io_uring socket waits for the cancellation of its
 * own in-flight operations, which the kernel completes at once.
 *
 * Threading: a socket group belongs to the nvt_thread that created it and
 * every call on the group, and on its sockets, must come from that thread.
 * A socket outside any group belongs to no thread and may be handed to
 * another thread (accept on one thread, add to a group on another).
 *
 * Writes are asynchronous: nvt_sock_writev_async() queues a request; a
 * group poll (or nvt_sock_flush()) gathers the queued requests of a socket
 * into as few sendmsg() calls as it can, and each request's callback runs
 * once all its bytes were handed to the kernel.
 *
 * Interrupt mode: period-0 pollers do not run while a thread sleeps (see
 * nvtcp/thread.h). A group therefore registers its own file descriptors
 * (the epoll fd of "posix", the ring fd of "uring") with
 * nvt_thread_add_wakeup_fd() on the thread that created it, as soon as it
 * holds a socket of that implementation, and removes them when closed. So
 * the poller that calls nvt_sock_group_poll() need not do anything for
 * interrupt mode: the thread wakes when a socket of the group is readable,
 * has an error, finishes connecting, or becomes writable again while writes
 * wait on it (EPOLLOUT interest for "posix"; for "uring" the kernel
 * completes the queued send and the completion wakes the ring fd). Work
 * that the group knows is left over (writes queued outside a group poll,
 * more ready sockets than one poll handles) is announced by a message to the
 * owning thread, which keeps it awake for one more iteration. A group
 * created outside any nvt_thread registers nothing and must be polled.
 *
 * TLS ("ssl"): TLS 1.3 with an external PSK (NVMe/TCP secure channels),
 * set up through nvt_sock_opts.tls. The handshake runs inside the group
 * polls of the socket, never blocking: an accepted socket starts it once
 * added to a group, a connecting one once its TCP connect is done, and its
 * connect callback reports the end of the handshake. Until then reads
 * return -EAGAIN and writes stay queued. A failed handshake is logged once
 * (peer and reason) and shows as an error on read and write: -EKEYREJECTED
 * (unknown PSK identity, wrong key), -EPROTO (the peer does not speak TLS
 * 1.3 with a PSK we offer or accept), -ECONNRESET (the peer left). The
 * first TLS socket makes the process ignore SIGPIPE if it had the default
 * action: OpenSSL sends with write(), and a peer's reset must not kill it.
 *
 * Addresses are numeric IPv4 ("127.0.0.1") or IPv6 ("::1", "[::1]") only:
 * resolving a host name could block the reactor. Errors are negative errno
 * values; every failure to listen or connect is also logged with the
 * address and port it concerned.
 */
#ifndef NVTCP_SOCK_H
#define NVTCP_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "nvtcp/queue.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nvt_sock;
struct nvt_sock_group;
struct nvt_sock_tls_opts;

/** Most ready sockets one nvt_sock_group_poll() hands to callbacks. */
#define NVT_SOCK_GROUP_MAX_EVENTS 32

/** Longest address string of nvt_sock_getaddr(), NUL included (INET6_ADDRSTRLEN). */
#define NVT_SOCK_ADDR_LEN 46

/** Options of a socket; initialise with nvt_sock_get_default_opts(). */
struct nvt_sock_opts {
	/** sizeof(struct nvt_sock_opts) as the caller knows it. */
	size_t opts_size;
	/** TCP_NODELAY: send small writes at once (default true). */
	bool nodelay;
	/** SO_PRIORITY of the socket's packets; 0 leaves the kernel's (default 0). */
	int priority;
	/** SO_RCVBUF in bytes; 0 leaves the kernel's auto-tuning (default 0). */
	int recv_buf_size;
	/** SO_SNDBUF in bytes; 0 leaves the kernel's auto-tuning (default 0). */
	int send_buf_size;
	/** listen() backlog of a listening socket (default 128). */
	int backlog;
	/**
	 * TLS 1.3 settings of a socket of the "ssl" implementation (required
	 * there, ignored by the others; default NULL). Not copied: the caller
	 * keeps it valid and unchanged while sockets made with these options
	 * (a listening socket's accepted ones included) are open.
	 */
	const struct nvt_sock_tls_opts *tls;
};

/** TLS 1.3 cipher suites a PSK may be used with (bit mask). */
#define NVT_SOCK_TLS_AES_128_GCM_SHA256 (1u << 0)
#define NVT_SOCK_TLS_AES_256_GCM_SHA384 (1u << 1)
/**
 * Only as what a server agreed to: a client whose PSK goes with
 * TLS_AES_128_GCM_SHA256 may get this suite of the same hash instead when
 * it prefers it (tlshd does for the keys of "R02" identities).
 */
#define NVT_SOCK_TLS_CHACHA20_POLY1305_SHA256 (1u << 2)

/** A pre-shared key for one TLS 1.3 handshake. */
struct nvt_sock_tls_psk {
	/** The PSK identity, NUL terminated. */
	char identity[640];
	/** The TLS PSK itself (32 or 48 bytes). */
	uint8_t key[64];
	size_t key_len;
	/** The one cipher suite (NVT_SOCK_TLS_*) the PSK goes with. */
	unsigned int cipher;
};

/**
 * Server side: find the PSK of the identity a client offered. Runs during
 * the handshake on the thread that drives it (the socket's group thread),
 * so it must not block; it may take a lock.
 *
 * Peers derive the key behind one identity in more than one way, so the
 * callback also gets the ClientHello (its 4-byte handshake header
 * included) and the index of \p identity among the ClientHello's PSK
 * identities: with them it can check a candidate key against the binder the
 * client sent (nvt_tls_psk_binder_check() of nvtcp/auth.h).
 *
 * \param psk Filled on success (identity is already set to \p identity).
 * \return 0, -ENOENT when the identity is unknown, or -EKEYREJECTED when no
 * key of it matches the client's binder (a wrong key): the handshake fails
 * and the socket logs which. The callback need not log.
 */
typedef int (*nvt_sock_tls_psk_find_cb)(void *ctx, const char *identity,
					const uint8_t *client_hello, size_t client_hello_len,
					unsigned int identity_index, struct nvt_sock_tls_psk *psk);

/** TLS settings of the "ssl" implementation. */
struct nvt_sock_tls_opts {
	/** Client: the PSK to offer (copied at connect). */
	const struct nvt_sock_tls_psk *client_psk;
	/** Server: look up a client's PSK. */
	nvt_sock_tls_psk_find_cb psk_find;
	void *psk_find_ctx;
};

/** What a TLS socket negotiated; see nvt_sock_get_tls_info(). */
struct nvt_sock_tls_info {
	/** The handshake finished. */
	bool established;
	/** The data path runs in the kernel (kTLS), not in OpenSSL's record layer. */
	bool ktls;
	/** NVT_SOCK_TLS_* of the session. */
	unsigned int cipher;
	/** The PSK identity used. */
	char identity[640];
	/**
	 * Each direction on its own: OpenSSL 3.0 and 3.1 hand only the
	 * sending side of TLS 1.3 to the kernel; \p ktls is both.
	 */
	bool ktls_tx;
	bool ktls_rx;
};

/**
 * Fill \p opts with the defaults.
 *
 * \param opts_size sizeof(*opts) as the caller knows it; fields beyond it are
 * left alone, so callers built against an older header keep working.
 */
void nvt_sock_get_default_opts(struct nvt_sock_opts *opts, size_t opts_size);

/**
 * Called when the socket of a group has something to read: data, end of
 * stream (recv returns 0) or an error (recv returns it). Like epoll in level
 * mode, it is called again on later polls while that stays true. Runs on the
 * group's thread, inside nvt_sock_group_poll(). The callback may read,
 * write, remove the socket from the group, or close it (or another socket).
 */
typedef void (*nvt_sock_cb)(void *cb_arg, struct nvt_sock_group *group, struct nvt_sock *sock);

/**
 * Completion of nvt_sock_connect(): \p status is 0 when connected, else a
 * negative errno (-ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH, ...). The socket
 * stays open either way; close it on failure.
 */
typedef void (*nvt_sock_connect_cb)(void *cb_arg, struct nvt_sock *sock, int status);

/**
 * Completion of a write request: \p err is 0 when every byte was handed to
 * the kernel, else a negative errno (-ECONNRESET, -EPIPE, ..., or
 * -ECANCELED when the socket was closed first).
 */
typedef void (*nvt_sock_request_cb)(void *cb_arg, int err);

/**
 * An asynchronous write. The caller owns the request and the buffers and
 * iovec array it points to; all must stay valid and unchanged until the
 * callback ran. Fill cb_fn, cb_arg, iov and iovcnt; the layer owns
 * `internal` while the request is queued.
 */
struct nvt_sock_request {
	nvt_sock_request_cb cb_fn;
	void *cb_arg;
	/** The data to send, in order. */
	struct iovec *iov;
	int iovcnt;
	struct {
		TAILQ_ENTRY(nvt_sock_request) link;
		/** Bytes of this request already sent. */
		size_t offset;
	} internal;
};

/**
 * Listen on \p ip : \p port (port 0 picks a free port; read it back with
 * nvt_sock_getaddr()). SO_REUSEADDR is set. Any OS thread.
 *
 * \param impl_name "posix", "uring", "ssl", or NULL for the default
 * implementation.
 * \param opts NULL for the defaults; "ssl" needs opts->tls with psk_find.
 * \param sock Set to the listening socket on success.
 * \return 0; -EINVAL (malformed address, port outside 0..65535, unknown
 * implementation, "ssl" without psk_find), -EADDRNOTAVAIL (address not local), -EADDRINUSE,
 * -EACCES, -ENOMEM, or another -errno of socket()/bind()/listen().
 */
int nvt_sock_listen(const char *ip, int port, const char *impl_name,
		    const struct nvt_sock_opts *opts, struct nvt_sock **sock);

/**
 * Accept one pending connection of a listening socket, without waiting.
 * The new socket has the listening socket's implementation and options and
 * belongs to no group. Any OS thread, one at a time per listening socket.
 *
 * \return 0 and \p sock set; -EAGAIN when no connection is pending;
 * -ECONNABORTED (that peer gave up: call again), -EMFILE, -ENFILE, -ENOMEM.
 */
int nvt_sock_accept(struct nvt_sock *lsock, struct nvt_sock **sock);

/**
 * The socket's file descriptor, owned by the socket. For a listening socket
 * it is readable when a connection waits: nvt_thread_add_wakeup_fd() it to
 * be woken for connections. Any thread.
 */
int nvt_sock_get_fd(const struct nvt_sock *sock);

/**
 * Start connecting to \p ip : \p port without waiting. The socket is
 * returned at once; add it to a group, whose poll reports the outcome
 * through \p cb_fn (exactly once, never inside this call). Until then reads
 * return -EAGAIN and writes stay queued; they are sent once connected.
 * Closing the socket before the outcome is known drops the callback.
 *
 * \param cb_fn May be NULL: then nvt_sock_is_connected() tells, and a failure
 * shows as an error on the next read or write. For "ssl" it runs when the
 * TLS handshake is done too (or failed: its error).
 * \return 0 and \p sock set; -EINVAL (malformed address, port outside
 * 1..65535, unknown implementation, "ssl" without opts->tls->client_psk or
 * with an invalid one), -ECONNREFUSED, -ENETUNREACH, ... when the kernel
 * fails it at once (nothing is returned then).
 */
int nvt_sock_connect(const char *ip, int port, const char *impl_name,
		     const struct nvt_sock_opts *opts, nvt_sock_connect_cb cb_fn, void *cb_arg,
		     struct nvt_sock **sock);

/**
 * Close a socket and set the caller's pointer to NULL; NULL is a no-op. The
 * socket is removed from its group first. Write requests not yet completed
 * complete with -ECANCELED, inside this call, or when it is called from a
 * callback of the group's poll, before that poll returns; the socket is no
 * longer reported to any callback either way.
 *
 * \return 0, or -errno of close() (the socket is released anyway).
 */
int nvt_sock_close(struct nvt_sock **sock);

/**
 * Read up to \p len bytes.
 *
 * A socket in a group that came back short (or with -EAGAIN) from a read
 * returns -EAGAIN without a system call until its group reports it readable
 * again, so reading until -EAGAIN in a readable callback costs nothing extra.
 *
 * \return bytes read (> 0), 0 at end of stream, -EAGAIN when nothing is
 * there (or still connecting), or -errno (-ECONNRESET, ...).
 */
ssize_t nvt_sock_recv(struct nvt_sock *sock, void *buf, size_t len);

/** Scatter read; the same as nvt_sock_recv() otherwise. */
ssize_t nvt_sock_readv(struct nvt_sock *sock, struct iovec *iov, int iovcnt);

/**
 * Queue a write request. Nothing is sent inside this call: the group poll
 * of the socket's group sends queued requests (several per sendmsg()), or
 * nvt_sock_flush() does. \p req->cb_fn runs exactly once, never inside this
 * call, also when the socket has failed (with that error) or is closed
 * first (-ECANCELED). A socket outside any group is only sent on by
 * nvt_sock_flush().
 */
void nvt_sock_writev_async(struct nvt_sock *sock, struct nvt_sock_request *req);

/**
 * Send what is queued now, as far as the socket takes it without waiting.
 * Callbacks of requests completed by it run inside this call.
 *
 * \return 0 (sent, or the rest waits for room: a group poll sends it when
 * the socket is writable again), or the socket's -errno (requests then
 * completed with it).
 */
int nvt_sock_flush(struct nvt_sock *sock);

/** Whether write requests are queued on the socket. */
bool nvt_sock_has_pending_writes(const struct nvt_sock *sock);

/**
 * The local (\p saddr, \p sport) and peer (\p caddr, \p cport) address and
 * port of a socket, as numeric strings ("127.0.0.1", "::1"). Any output
 * pointer may be NULL; string buffers take NVT_SOCK_ADDR_LEN bytes.
 *
 * \return 0, -ENOTCONN (peer of a listening or unconnected socket),
 * -ENOSPC (a buffer too small), or -errno.
 */
int nvt_sock_getaddr(struct nvt_sock *sock, char *saddr, size_t slen, uint16_t *sport, char *caddr,
		     size_t clen, uint16_t *cport);

/** Set SO_RCVBUF (bytes). \return 0 or -errno. */
int nvt_sock_set_recvbuf(struct nvt_sock *sock, int sz);

/** Set SO_SNDBUF (bytes). \return 0 or -errno. */
int nvt_sock_set_sendbuf(struct nvt_sock *sock, int sz);

/** Set SO_RCVLOWAT: readable callbacks wait for that many bytes. \return 0 or -errno. */
int nvt_sock_set_recvlowat(struct nvt_sock *sock, int nbytes);

/** Set TCP_NODELAY. \return 0 or -errno. */
int nvt_sock_set_nodelay(struct nvt_sock *sock, bool enable);

/** Set SO_PRIORITY. \return 0 or -errno (-EPERM above 6 without CAP_NET_ADMIN). */
int nvt_sock_set_priority(struct nvt_sock *sock, int priority);

/** Whether the socket is an IPv6 one. */
bool nvt_sock_is_ipv6(const struct nvt_sock *sock);

/** Whether the socket is an IPv4 one. */
bool nvt_sock_is_ipv4(const struct nvt_sock *sock);

/** Whether the socket is connected (accepted, or nvt_sock_connect() succeeded). */
bool nvt_sock_is_connected(const struct nvt_sock *sock);

/**
 * What a socket of the "ssl" implementation negotiated. Thread of the
 * socket's group.
 *
 * \return 0; -EAGAIN while the handshake runs; its error once it failed;
 * -ENOTSUP for a socket of another implementation.
 */
int nvt_sock_get_tls_info(const struct nvt_sock *sock, struct nvt_sock_tls_info *info);

/** The IANA name of a cipher suite NVT_SOCK_TLS_* ("TLS_AES_128_GCM_SHA256"), or NULL. */
const char *nvt_sock_tls_cipher_name(unsigned int cipher);

/** Options of a socket implementation, SPDK's "impl_opts" that nvtcp applies. */
struct nvt_sock_impl_opts {
	/** sizeof(struct nvt_sock_impl_opts) as the caller knows it. */
	size_t opts_size;
	/**
	 * "ssl": the TLS version, 0 (the default) or 13; both mean TLS 1.3, the
	 * only version NVMe/TCP secure channels use (12 is refused).
	 */
	uint32_t tls_version;
	/**
	 * "ssl": hand the data path to the kernel (kTLS) where the kernel has
	 * it (default true); otherwise, and where it lacks kTLS, OpenSSL's
	 * record layer encrypts in user space.
	 */
	bool enable_ktls;
};

/** Fill \p opts with the defaults (fields beyond \p opts_size are left alone). */
void nvt_sock_impl_get_default_opts(struct nvt_sock_impl_opts *opts, size_t opts_size);

/**
 * The current options of an implementation.
 *
 * \return 0; -EINVAL (no implementation of that name); -ENOTSUP (it has no
 * options: "posix", "uring").
 */
int nvt_sock_impl_get_opts(const char *impl_name, struct nvt_sock_impl_opts *opts,
			   size_t opts_size);

/**
 * Set the options of an implementation. Sockets take them when created
 * (listening, accepted, connecting), so set them before; not concurrently
 * with the creation of sockets of that implementation.
 *
 * \return 0; -EINVAL (no implementation of that name, or a value it does not
 * take: nothing changed); -ENOTSUP (it has no options).
 */
int nvt_sock_impl_set_opts(const char *impl_name, const struct nvt_sock_impl_opts *opts,
			   size_t opts_size);

/** Name of the socket's implementation ("posix", "uring", "ssl"). */
const char *nvt_sock_get_impl_name(const struct nvt_sock *sock);

/**
 * Make \p impl_name the implementation used when none is named.
 *
 * \return 0, or -EINVAL when no implementation of that name is registered.
 */
int nvt_sock_set_default_impl(const char *impl_name);

/** Name of the default implementation, or NULL when none is registered. */
const char *nvt_sock_get_default_impl(void);

/** Whether an implementation of that name is registered. */
bool nvt_sock_impl_is_registered(const char *impl_name);

/**
 * Create a socket group owned by the current nvt_thread (or by the caller
 * when called outside any nvt_thread: no interrupt-mode registration then).
 *
 * \param ctx Returned by nvt_sock_group_get_ctx().
 * \return the group, or NULL when out of memory.
 */
struct nvt_sock_group *nvt_sock_group_create(void *ctx);

/** The \p ctx given to nvt_sock_group_create(). */
void *nvt_sock_group_get_ctx(const struct nvt_sock_group *group);

/**
 * Add a socket to a group: \p cb_fn(\p cb_arg, group, sock) then runs
 * whenever it is readable, and queued writes go out on the group's polls.
 * Owning thread only.
 *
 * \return 0; -EINVAL (NULL callback or a closed socket), -EBUSY (the socket is
 * in a group already), -ENOMEM, or -errno of the implementation.
 */
int nvt_sock_group_add_sock(struct nvt_sock_group *group, struct nvt_sock *sock, nvt_sock_cb cb_fn,
			    void *cb_arg);

/**
 * Remove a socket from its group; it keeps its queued writes (they are sent
 * by its next group or nvt_sock_flush()). Owning thread only; also from a
 * callback of the group.
 *
 * \return 0, or -EINVAL when the socket is not in \p group.
 */
int nvt_sock_group_remove_sock(struct nvt_sock_group *group, struct nvt_sock *sock);

/**
 * Poll the group once without waiting: run the readable (and connect)
 * callbacks of up to NVT_SOCK_GROUP_MAX_EVENTS ready sockets, then send the
 * queued writes of its sockets. Owning thread only; not from its own
 * callbacks.
 *
 * \return the number of events handled (sockets reported, requests
 * completed, connections finished), 0 when idle, or -errno when the
 * implementation failed (logged).
 */
int nvt_sock_group_poll(struct nvt_sock_group *group);

/** nvt_sock_group_poll() with at most \p max_events (1..NVT_SOCK_GROUP_MAX_EVENTS) sockets. */
int nvt_sock_group_poll_count(struct nvt_sock_group *group, int max_events);

/**
 * Close an empty group and set the caller's pointer to NULL; NULL is a
 * no-op. Owning thread only, not from the group's callbacks.
 *
 * \return 0, or -EBUSY when sockets are still in the group (nothing done).
 */
int nvt_sock_group_close(struct nvt_sock_group **group);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_SOCK_H */
