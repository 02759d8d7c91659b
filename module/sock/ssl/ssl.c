/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "ssl" socket implementation: NVMe/TCP secure channels, TLS 1.3 with
 * an external PSK (ssl_ctx.c), over the epoll machinery of "posix".
 *
 * The handshake is non-blocking and runs inside the group's polls: epoll
 * events of a socket in handshake step OpenSSL, and are not reported to
 * its callback until the handshake is over. A client reports its connect
 * then; a server socket whose handshake failed is reported readable from
 * then on, its reads returning the error. Before any byte goes to OpenSSL,
 * the peer's first byte is peeked at: a peer that sends plaintext (an
 * NVMe/TCP ICReq to a TLS listener, a plain target's answer to a
 * ClientHello) is named as such instead of as a record-layer error.
 *
 * Once established, each direction runs in the kernel (kTLS) when OpenSSL
 * could hand it over, else in OpenSSL's record layer (ssl_io.c); which one
 * is decided once per socket, when the handshake ends.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "ssl_internal.h"

/* The first byte of a TLS record of the handshake, or of an alert. */
#define TLS_RECORD_HANDSHAKE 0x16
#define TLS_RECORD_ALERT     0x15

#define SSL_STATE_BIT(s) (1u << (s))

static const uint32_t __attribute__((unused)) g_ssl_transitions[SSL_SOCK_NUM_STATES] = {
	[SSL_SOCK_LISTEN] = 0,
	[SSL_SOCK_CONNECTING] = SSL_STATE_BIT(SSL_SOCK_HELLO) | SSL_STATE_BIT(SSL_SOCK_FAILED),
	[SSL_SOCK_HELLO] = SSL_STATE_BIT(SSL_SOCK_HANDSHAKE) | SSL_STATE_BIT(SSL_SOCK_FAILED),
	[SSL_SOCK_HANDSHAKE] = SSL_STATE_BIT(SSL_SOCK_ESTABLISHED) | SSL_STATE_BIT(SSL_SOCK_FAILED),
	[SSL_SOCK_ESTABLISHED] = SSL_STATE_BIT(SSL_SOCK_FAILED),
	[SSL_SOCK_FAILED] = 0,
};

static const char *const g_ssl_state_names[SSL_SOCK_NUM_STATES] = {
	"listen", "connecting", "hello", "handshake", "established", "failed",
};

static struct nvt_sock_impl_opts g_ssl_opts = {
	.opts_size = sizeof(struct nvt_sock_impl_opts),
	.tls_version = 0,
	.enable_ktls = true,
};

static void
ssl_sock_set_state(struct ssl_sock *ss, enum ssl_sock_state next)
{
	assert(g_ssl_transitions[ss->state] & SSL_STATE_BIT(next));
	NVT_DEBUGLOG(sock, "ssl: fd %d: %s -> %s", ss->ep.base.fd, g_ssl_state_names[ss->state],
		     g_ssl_state_names[next]);
	ss->state = next;
}

/* The peer's address for a log line. */
static void
ssl_sock_peer(struct ssl_sock *ss, char *buf, size_t len)
{
	char addr[NVT_SOCK_ADDR_LEN];
	uint16_t port = 0;

	if (nvt_sock_getaddr(&ss->ep.base, NULL, 0, NULL, addr, sizeof(addr), &port) != 0) {
		snprintf(buf, len, "fd %d", ss->ep.base.fd);
	} else if (strchr(addr, ':') != NULL) {
		snprintf(buf, len, "[%s]:%u", addr, port);
	} else {
		snprintf(buf, len, "%s:%u", addr, port);
	}
}

/* The PSK's key is in OpenSSL's session now (or no longer needed). */
static void
ssl_sock_forget_psk(struct ssl_sock *ss)
{
	OPENSSL_clear_free(ss->psk, ss->psk != NULL ? sizeof(*ss->psk) : 0);
	ss->psk = NULL;
	free(ss->hello);
	ss->hello = NULL;
	ss->hello_len = 0;
}

/*
 * Whatever failed, the socket is reported (on every poll, as an error is
 * to epoll's level) until its owner closes it; its fd leaves the epoll set,
 * where it would only report hang-ups.
 */
static void
ssl_sock_enter_failed(struct ssl_sock *ss, int rc)
{
	struct nvt_sock *sock = &ss->ep.base;

	ssl_sock_set_state(ss, SSL_SOCK_FAILED);
	ss->err = rc;
	ssl_sock_forget_psk(ss);
	nvt_sock_epoll_set_events(&ss->ep, 0);
	nvt_sock_epoll_set_ready(&ss->ep, true);
	if (sock->connecting) {
		/* Reported as the connect's outcome first, then as readable like any failure. */
		nvt_sock_connect_finish(sock, rc);
	}
	/* Queued writes fail on the group's next flush (not here: no callback may run). */
	nvt_sock_mark_dirty(sock);
	ERR_clear_error();
}

int
ssl_sock_fail(struct ssl_sock *ss, int rc, const char *reason)
{
	char peer[NVT_SOCK_ADDR_LEN + 8];

	if (ss->state == SSL_SOCK_FAILED) {
		return ss->err;
	}
	if (reason != NULL) {
		ssl_sock_peer(ss, peer, sizeof(peer));
		NVT_ERRLOG("ssl: TLS connection with %s failed: %s", peer, reason);
	}
	ssl_sock_enter_failed(ss, rc);
	return rc;
}

/* One line says why: peer, and the reason (ours or OpenSSL's). */
static bool
ssl_sock_handshake_failed(struct ssl_sock *ss, int rc, const char *reason)
{
	char peer[NVT_SOCK_ADDR_LEN + 8];
	bool server = !ss->ep.base.connecting;

	ssl_sock_peer(ss, peer, sizeof(peer));
	if (ss->identity[0] != '\0' && ss->fail_reason != NULL) {
		NVT_ERRLOG("ssl: TLS handshake with %s %s failed: %s '%s'",
			   server ? "client" : "server", peer, reason, ss->identity);
	} else {
		NVT_ERRLOG("ssl: TLS handshake with %s %s failed: %s", server ? "client" : "server",
			   peer, reason);
	}
	ssl_sock_enter_failed(ss, rc);
	/* The peer learns at once that we are done, after the alert OpenSSL queued. */
	shutdown(ss->ep.base.fd, SHUT_WR);
	return true;
}

/* Peek at the peer's first byte: 1 TLS, 0 nothing yet, <0 failed (reason set). */
static int
ssl_sock_peer_speaks_tls(struct ssl_sock *ss, const char **reason)
{
	uint8_t b;
	ssize_t n;

	do {
		n = recv(ss->ep.base.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return 0;
		}
		*reason = nvt_strerror(errno);
		return -errno;
	}
	if (n == 0) {
		*reason = "the peer closed the connection";
		return -ECONNRESET;
	}
	if (b != TLS_RECORD_HANDSHAKE && b != TLS_RECORD_ALERT) {
		*reason = "peer sent plaintext, not TLS";
		return -EPROTO;
	}
	return 1;
}

/* The handshake is over: set up the data path of each direction. */
static bool
ssl_sock_established(struct ssl_sock *ss)
{
	struct nvt_sock *sock = &ss->ep.base;

	ssl_sock_set_state(ss, SSL_SOCK_ESTABLISHED);
	ssl_sock_forget_psk(ss);
	ss->cipher = ssl_cipher_of(SSL_get_current_cipher(ss->ssl));
	ss->ktls_tx = BIO_get_ktls_send(SSL_get_wbio(ss->ssl));
	ss->ktls_rx = BIO_get_ktls_recv(SSL_get_rbio(ss->ssl));
	if (!ss->ktls_rx) {
		/* Off during the handshake: what OpenSSL reads ahead the kernel can no longer take over. */
		SSL_set_read_ahead(ss->ssl, 1);
		ssl_rx_attach(ss);
	}
	if (!ss->ktls_tx && ssl_out_attach(ss) != 0) {
		return ssl_sock_handshake_failed(ss, -ENOMEM, "out of memory");
	}
	NVT_DEBUGLOG(sock, "ssl: fd %d: TLS 1.3 %s, PSK '%s', send %s, receive %s", sock->fd,
		     ssl_cipher_name(ss->cipher), ss->identity, ss->ktls_tx ? "kTLS" : "OpenSSL",
		     ss->ktls_rx ? "kTLS" : "OpenSSL");
	nvt_sock_epoll_set_events(&ss->ep, EPOLLIN);
	if (SSL_has_pending(ss->ssl)) {
		nvt_sock_epoll_set_ready(&ss->ep, true);
	}
	if (sock->connecting) {
		nvt_sock_connect_finish(sock, 0);
		return true;
	}
	/* Writes queued during the handshake go out now; input shows on epoll's next report. */
	if (!TAILQ_EMPTY(&sock->queued_reqs)) {
		nvt_sock_mark_dirty(sock);
	}
	return false;
}

/*
 * SSL_do_handshake() once. \p blind: with nothing to read (an empty memory
 * BIO in place of the socket), so a client sends its ClientHello without
 * OpenSSL taking the first bytes of the answer before they were peeked at.
 * \return SSL_do_handshake()'s value; \p err gets SSL_get_error() of it.
 */
static int
ssl_sock_step(struct ssl_sock *ss, bool blind, int *err)
{
	BIO *sock_bio = SSL_get_rbio(ss->ssl), *none = NULL;
	int rc;

	if (blind) {
		none = BIO_new(BIO_s_mem());
		if (none == NULL || !BIO_up_ref(sock_bio)) {
			BIO_free(none);
			*err = SSL_ERROR_SSL;
			return -1;
		}
		BIO_set_mem_eof_return(none, -1);
		SSL_set0_rbio(ss->ssl, none);
	}
	ERR_clear_error();
	rc = SSL_do_handshake(ss->ssl);
	*err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ss->ssl, rc);
	if (blind) {
		SSL_set0_rbio(ss->ssl, sock_bio);
	}
	return rc;
}

/* One step of the handshake: whether to report the socket. */
static bool
ssl_sock_handshake(struct ssl_sock *ss)
{
	const char *reason = NULL;
	bool blind = false;
	int rc, err;

	if (ss->state == SSL_SOCK_HELLO) {
		rc = ssl_sock_peer_speaks_tls(ss, &reason);
		if (rc < 0) {
			return ssl_sock_handshake_failed(ss, rc, reason);
		}
		if (rc == 0 && !ss->ep.base.connecting) {
			/* A server has nothing to say before the ClientHello: input only. */
			nvt_sock_epoll_set_events(&ss->ep, EPOLLIN);
			return false;
		}
		if (rc == 1) {
			ssl_sock_set_state(ss, SSL_SOCK_HANDSHAKE);
		}
		blind = rc == 0;
	}
	rc = ssl_sock_step(ss, blind, &err);
	if (rc == 1) {
		return ssl_sock_established(ss);
	}
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		nvt_sock_epoll_set_events(&ss->ep, err == SSL_ERROR_WANT_READ ? EPOLLIN
									      : EPOLLIN | EPOLLOUT);
		return false;
	}
	rc = ssl_error_classify(ss, err, &reason);
	return ssl_sock_handshake_failed(ss, rc, reason);
}

/* Client: the TCP connect ended; on success the handshake starts with the ClientHello. */
static bool
ssl_sock_tcp_connected(struct ssl_sock *ss)
{
	int rc = nvt_sock_connect_error(&ss->ep.base);

	if (rc != 0) {
		/* The connect callback reports it; not a TLS matter to log. */
		ssl_sock_enter_failed(ss, rc);
		return true;
	}
	ssl_sock_set_state(ss, SSL_SOCK_HELLO);
	return ssl_sock_handshake(ss);
}

static bool
ssl_sock_event(struct nvt_sock_epoll *es, uint32_t events)
{
	struct ssl_sock *ss = ssl_sock(&es->base);

	switch (ss->state) {
	case SSL_SOCK_CONNECTING:
		return ssl_sock_tcp_connected(ss);
	case SSL_SOCK_HELLO:
	case SSL_SOCK_HANDSHAKE:
		return ssl_sock_handshake(ss);
	case SSL_SOCK_LISTEN:
	case SSL_SOCK_ESTABLISHED:
		return nvt_sock_epoll_event(es, events);
	case SSL_SOCK_FAILED:
		/* Out of the epoll set; an event of before that is stale. */
		return false;
	default:
		assert(false);
		return false;
	}
}

static int
ssl_sock_new_ssl(struct ssl_sock *ss, bool client)
{
	SSL_CTX *ctx = ssl_ctx_get();

	ss->ssl = ctx != NULL ? SSL_new(ctx) : NULL;
	if (ss->ssl == NULL) {
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_set_app_data(ss->ssl, ss);
	if (!SSL_set_fd(ss->ssl, ss->ep.base.fd)) {
		ERR_clear_error();
		return -ENOMEM;
	}
	if (ss->enable_ktls) {
		SSL_set_options(ss->ssl, SSL_OP_ENABLE_KTLS);
	}
	if (client) {
		SSL_set_connect_state(ss->ssl);
		/* Only the suite of the PSK offered: any other would make it unusable. */
		return SSL_set_ciphersuites(ss->ssl, ssl_cipher_name(ss->psk->cipher)) ? 0
										       : -EINVAL;
	}
	SSL_set_accept_state(ss->ssl);
	SSL_set_options(ss->ssl, SSL_OP_ALLOW_NO_DHE_KEX);
	return 0;
}

static int
ssl_sock_init_client(struct ssl_sock *ss, const struct nvt_sock_tls_opts *tls)
{
	int rc;

	if (tls == NULL || tls->client_psk == NULL) {
		NVT_ERRLOG("ssl: connect: no PSK to offer (nvt_sock_opts.tls->client_psk)");
		return -EINVAL;
	}
	rc = ssl_psk_check(tls->client_psk);
	if (rc != 0) {
		return rc;
	}
	ss->psk = malloc(sizeof(*ss->psk));
	if (ss->psk == NULL) {
		return -ENOMEM;
	}
	memcpy(ss->psk, tls->client_psk, sizeof(*ss->psk));
	memcpy(ss->identity, ss->psk->identity, sizeof(ss->identity));
	ss->cipher = ss->psk->cipher;
	ss->state = SSL_SOCK_CONNECTING;
	return ssl_sock_new_ssl(ss, true);
}

static void
ssl_sock_fini(struct nvt_sock *sock)
{
	struct ssl_sock *ss = ssl_sock(sock);

	if (ss->ssl != NULL) {
		/* A close_notify, if it fits; never after a failure or mid-record. */
		if (ss->state == SSL_SOCK_ESTABLISHED && ssl_out_idle(ss)) {
			ERR_clear_error();
			SSL_shutdown(ss->ssl);
			ERR_clear_error();
		}
		SSL_free(ss->ssl);
		ss->ssl = NULL;
	}
	ssl_sock_forget_psk(ss);
	free(ss->staging);
	ss->staging = NULL;
	free(ss->out);
	ss->out = NULL;
}

static int
ssl_sock_init(struct nvt_sock *sock)
{
	struct ssl_sock *ss = ssl_sock(sock);
	const struct nvt_sock_tls_opts *tls = sock->opts.tls;
	int rc;

	ss->enable_ktls = g_ssl_opts.enable_ktls;
	if (sock->connecting) {
		rc = ssl_sock_init_client(ss, tls);
	} else if (tls == NULL || tls->psk_find == NULL) {
		NVT_ERRLOG("ssl: a TLS listener needs nvt_sock_opts.tls->psk_find");
		return -EINVAL;
	} else if (sock->is_listen) {
		/* OpenSSL's context is made now: a listener that could never handshake fails here. */
		ss->state = SSL_SOCK_LISTEN;
		return ssl_ctx_get() != NULL ? 0 : -ENOMEM;
	} else {
		ss->state = SSL_SOCK_HELLO;
		rc = ssl_sock_new_ssl(ss, false);
	}
	if (rc != 0) {
		ssl_sock_fini(sock);
	}
	return rc;
}

static int
ssl_group_add_sock(struct nvt_sock_group_impl *gi, struct nvt_sock *sock)
{
	struct ssl_sock *ss = ssl_sock(sock);
	int rc;

	rc = nvt_sock_epoll_group_add_sock(gi, sock);
	if (rc != 0) {
		return rc;
	}
	switch (ss->state) {
	case SSL_SOCK_HELLO:
	case SSL_SOCK_HANDSHAKE:
		/* Its next step may be to send (a ClientHello, a pending flight): writable comes at once. */
		return nvt_sock_epoll_set_events(&ss->ep, EPOLLIN | EPOLLOUT);
	case SSL_SOCK_ESTABLISHED:
		/* What it had read into user space and not handed out yet. */
		nvt_sock_epoll_set_ready(&ss->ep,
					 ss->rx_eof || (!ss->ktls_rx && SSL_has_pending(ss->ssl)));
		return 0;
	case SSL_SOCK_FAILED:
		nvt_sock_epoll_set_ready(&ss->ep, true);
		return nvt_sock_epoll_set_events(&ss->ep, 0);
	default:
		return 0;
	}
}

static int
ssl_group_poll(struct nvt_sock_group_impl *gi, int max_events, struct nvt_sock **socks)
{
	return nvt_sock_epoll_group_poll(gi, max_events, socks, ssl_sock_event);
}

static int
ssl_get_tls_info(const struct nvt_sock *sock, struct nvt_sock_tls_info *info)
{
	const struct ssl_sock *ss = (const struct ssl_sock *)sock;

	if (ss->state == SSL_SOCK_FAILED) {
		return ss->err;
	}
	if (ss->state == SSL_SOCK_LISTEN) {
		return -ENOTCONN;
	}
	if (ss->state != SSL_SOCK_ESTABLISHED) {
		return -EAGAIN;
	}
	memset(info, 0, sizeof(*info));
	info->established = true;
	info->ktls_tx = ss->ktls_tx;
	info->ktls_rx = ss->ktls_rx;
	info->ktls = ss->ktls_tx && ss->ktls_rx;
	info->cipher = ss->cipher;
	memcpy(info->identity, ss->identity, sizeof(info->identity));
	return 0;
}

static void
ssl_get_opts(struct nvt_sock_impl_opts *opts)
{
	*opts = g_ssl_opts;
}

static int
ssl_set_opts(const struct nvt_sock_impl_opts *opts)
{
	/* NVMe/TCP secure channels use TLS 1.3: 0 (any, which is 1.3 here) or 13. */
	if (opts->tls_version != 0 && opts->tls_version != 13) {
		return -EINVAL;
	}
	if (g_ssl_opts.enable_ktls != opts->enable_ktls) {
		NVT_NOTICELOG("ssl: kernel TLS %s for new connections",
			      opts->enable_ktls ? "used where the kernel has it"
						: "off: OpenSSL encrypts in user space");
	}
	g_ssl_opts = *opts;
	return 0;
}

static struct nvt_sock_impl g_ssl_impl = {
	.name = "ssl",
	/* Never the default: a TLS socket needs its settings (nvt_sock_opts.tls). */
	.priority = 0,
	.sock_size = sizeof(struct ssl_sock),
	.sock_init = ssl_sock_init,
	.sock_fini = ssl_sock_fini,
	.readv = ssl_sock_readv,
	.flush = ssl_sock_flush,
	.group_impl_create = nvt_sock_epoll_group_create,
	.group_impl_get_fd = nvt_sock_epoll_group_get_fd,
	.group_impl_add_sock = ssl_group_add_sock,
	.group_impl_remove_sock = nvt_sock_epoll_group_remove_sock,
	.group_impl_poll = ssl_group_poll,
	.group_impl_commit = nvt_sock_epoll_group_commit,
	.group_impl_close = nvt_sock_epoll_group_close,
	.get_tls_info = ssl_get_tls_info,
	.get_opts = ssl_get_opts,
	.set_opts = ssl_set_opts,
};

NVT_SOCK_IMPL_REGISTER(ssl, &g_ssl_impl)
