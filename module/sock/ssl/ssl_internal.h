/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared between the files of the "ssl" socket implementation; not an API. */
#ifndef NVT_SOCK_SSL_INTERNAL_H
#define NVT_SOCK_SSL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "nvtcp/internal/sock_epoll.h"
#include "nvtcp/sock.h"

/* The largest plaintext of a TLS record: one SSL_write_ex() on the user-space path. */
#define SSL_SOCK_RECORD_MAX 16384
/*
 * User-space sending: the encrypted records of a batch gather in a buffer
 * of this size and leave with one send(); four full records and their
 * overhead (at most 256 bytes each in TLS 1.3).
 */
#define SSL_SOCK_OUT_MAX (4 * (SSL_SOCK_RECORD_MAX + 256))

/* The life of a TLS socket; every transition goes through ssl_sock_set_state() (ssl.c). */
enum ssl_sock_state {
	/* A listening socket: it has no TLS of its own, its accepted sockets do. */
	SSL_SOCK_LISTEN,
	/* Client: the TCP connect runs. */
	SSL_SOCK_CONNECTING,
	/* The handshake started and nothing came from the peer yet: its first byte tells TLS from plaintext. */
	SSL_SOCK_HELLO,
	/* The peer speaks TLS; the handshake runs, driven by the group's polls. */
	SSL_SOCK_HANDSHAKE,
	/* The data path is up (kTLS or OpenSSL's record layer, per direction). */
	SSL_SOCK_ESTABLISHED,
	/* The handshake or the connection failed: reads and writes return err. */
	SSL_SOCK_FAILED,
	SSL_SOCK_NUM_STATES,
};

/* Owned by the thread of the socket's group (the acceptor's until it joins one). */
struct ssl_sock {
	struct nvt_sock_epoll ep;
	enum ssl_sock_state state;
	SSL *ssl;
	/* SSL_SOCK_FAILED: the error reads and writes return. */
	int err;
	/* Ask OpenSSL for kTLS (the implementation's option when the socket was made). */
	bool enable_ktls;
	/* Established: which direction the kernel encrypts; fixed from then on. */
	bool ktls_tx;
	bool ktls_rx;
	/* kTLS receive: the peer's close_notify was read; reads return 0 from now on. */
	bool rx_eof;
	/* User-space receiving: OpenSSL's last read() of the fd came back short. */
	bool rx_short;
	/*
	 * User-space sending: the record SSL_write_ex() took and has not finished.
	 * A retry must pass the same bytes, so they stay put until it succeeds:
	 * the staging copy, or a request's own bytes (its buffers stay valid
	 * until its callback).
	 */
	const uint8_t *wbuf;
	size_t wlen;
	/* SSL_SOCK_RECORD_MAX bytes, allocated on the first user-space send. */
	uint8_t *staging;
	/*
	 * User-space sending: the records SSL_write_ex() made, waiting for one
	 * send() per batch in out[out_off, out_len) (SSL_SOCK_OUT_MAX bytes,
	 * allocated on the first send), and the plaintext bytes of the queued
	 * requests they hold: those requests complete once all of it is sent.
	 * out_gather: a flush runs, OpenSSL's writes go to out; other writes
	 * (an alert, a KeyUpdate answer) go straight to the fd when out is empty.
	 */
	uint8_t *out;
	size_t out_off;
	size_t out_len;
	size_t out_plain;
	bool out_gather;
	/*
	 * The PSK of the handshake: the client's copy, or the one the server
	 * found. Wiped and freed once the handshake is over.
	 */
	struct nvt_sock_tls_psk *psk;
	/*
	 * Server: the ClientHello as received (handshake header included), for
	 * the caller's PSK lookup to check binders against; freed with the PSK.
	 */
	uint8_t *hello;
	size_t hello_len;
	/* Our reason for a failed handshake (static text), or NULL for OpenSSL's. */
	const char *fail_reason;
	int fail_rc;
	/* NVT_SOCK_TLS_* and the PSK identity of the session, for nvt_sock_get_tls_info(). */
	unsigned int cipher;
	char identity[sizeof(((struct nvt_sock_tls_psk *)0)->identity)];
};

static inline struct ssl_sock *
ssl_sock(struct nvt_sock *sock)
{
	return (struct ssl_sock *)sock;
}

/* ssl.c */
/* Fail an established connection (rc) and say why once; returns rc. */
int ssl_sock_fail(struct ssl_sock *ss, int rc, const char *reason);

/* ssl_ctx.c: the shared SSL_CTX and the PSK callbacks. */
SSL_CTX *ssl_ctx_get(void);
/* Check a PSK of the API: the key length its cipher wants. */
int ssl_psk_check(const struct nvt_sock_tls_psk *psk);
/* OpenSSL's name of an NVT_SOCK_TLS_* suite, and back from an SSL_CIPHER; NULL / 0 when unknown. */
const char *ssl_cipher_name(unsigned int cipher);
unsigned int ssl_cipher_of(const SSL_CIPHER *c);
/* Why the last OpenSSL call on the socket failed: -errno, and the text for the log. */
int ssl_error_classify(struct ssl_sock *ss, int ssl_err, const char **reason);

/* ssl_io.c: the data path. */
ssize_t ssl_sock_readv(struct nvt_sock *sock, struct iovec *iov, int iovcnt);
int ssl_sock_flush(struct nvt_sock *sock);
/* Established without kTLS send: OpenSSL's records go through out from now on. */
int ssl_out_attach(struct ssl_sock *ss);
/* Established without kTLS receive: note whether OpenSSL's reads of the fd come back short. */
void ssl_rx_attach(struct ssl_sock *ss);
/* Whether everything OpenSSL wrote has left (a close_notify may follow). */
bool ssl_out_idle(const struct ssl_sock *ss);

#endif /* NVT_SOCK_SSL_INTERNAL_H */
