/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TLS settings of NVMe/TCP secure channels (TP 8011) in one SSL_CTX
 * shared by every socket: TLS 1.3 only, external PSKs only (no
 * certificates), TLS_AES_128_GCM_SHA256 and TLS_AES_256_GCM_SHA384, no
 * session tickets, no early data.
 *
 * A PSK is tied to one cipher suite (its hash). The client offers only
 * that suite. The server looks the client's identity up before OpenSSL
 * picks a suite (client hello callback) and keeps only the PSK's suite,
 * so a client that offers several (the Linux host through tlshd does)
 * ends up with the one its PSK works with.
 *
 * Key exchange: the client offers psk_dhe_ke only (forward secrecy);
 * the server takes psk_dhe_ke, and psk_ke from a client that offers
 * nothing else.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "ssl_internal.h"

struct ssl_cipher {
	unsigned int nvt;
	uint8_t id[2];
	/* The length of the TLS PSK of that suite: its hash's. */
	size_t key_len;
};

static const struct ssl_cipher g_ciphers[] = {
	{ NVT_SOCK_TLS_AES_128_GCM_SHA256, { 0x13, 0x01 }, 32 },
	{ NVT_SOCK_TLS_AES_256_GCM_SHA384, { 0x13, 0x02 }, 48 },
	{ NVT_SOCK_TLS_CHACHA20_POLY1305_SHA256, { 0x13, 0x03 }, 32 },
};

static SSL_CTX *g_ctx;
static pthread_once_t g_ctx_once = PTHREAD_ONCE_INIT;

static const struct ssl_cipher *
ssl_cipher_find(unsigned int nvt)
{
	size_t i;

	for (i = 0; i < NVT_COUNTOF(g_ciphers); i++) {
		if (g_ciphers[i].nvt == nvt) {
			return &g_ciphers[i];
		}
	}
	return NULL;
}

const char *
ssl_cipher_name(unsigned int cipher)
{
	const struct ssl_cipher *c = ssl_cipher_find(cipher);

	return c != NULL ? nvt_sock_tls_cipher_name(c->nvt) : NULL;
}

unsigned int
ssl_cipher_of(const SSL_CIPHER *sc)
{
	uint16_t id = sc != NULL ? SSL_CIPHER_get_protocol_id(sc) : 0;
	size_t i;

	for (i = 0; i < NVT_COUNTOF(g_ciphers); i++) {
		if (id == (uint16_t)(g_ciphers[i].id[0] << 8 | g_ciphers[i].id[1])) {
			return g_ciphers[i].nvt;
		}
	}
	return 0;
}

int
ssl_psk_check(const struct nvt_sock_tls_psk *psk)
{
	const struct ssl_cipher *c = ssl_cipher_find(psk->cipher);
	size_t id_len = strnlen(psk->identity, sizeof(psk->identity));

	if (c == NULL) {
		NVT_ERRLOG("ssl: PSK '%.*s': cipher suite 0x%x is none of TLS_AES_128_GCM_SHA256, "
			   "TLS_AES_256_GCM_SHA384",
			   (int)id_len, psk->identity, psk->cipher);
		return -EINVAL;
	}
	if (id_len == 0 || id_len == sizeof(psk->identity)) {
		NVT_ERRLOG("ssl: a PSK identity must be 1 to %zu characters",
			   sizeof(psk->identity) - 1);
		return -EINVAL;
	}
	/*
	 * The specification pairs 32 bytes with SHA-256 and 48 with SHA-384, but
	 * tlshd binds the 48-byte keys of "R02" identities with SHA-256.
	 */
	if (psk->key_len != c->key_len && psk->key_len != 48) {
		NVT_ERRLOG("ssl: PSK '%s': %zu bytes for %s, which takes %zu", psk->identity,
			   psk->key_len, nvt_sock_tls_cipher_name(c->nvt), c->key_len);
		return -EINVAL;
	}
	return 0;
}

/* An external PSK in the form OpenSSL takes: a resumable TLS 1.3 session. */
static SSL_SESSION *
ssl_psk_session(SSL *ssl, const struct nvt_sock_tls_psk *psk)
{
	const struct ssl_cipher *c = ssl_cipher_find(psk->cipher);
	const SSL_CIPHER *sc = SSL_CIPHER_find(ssl, c->id);
	SSL_SESSION *sess = SSL_SESSION_new();

	if (sess == NULL || sc == NULL || !SSL_SESSION_set_cipher(sess, sc) ||
	    !SSL_SESSION_set_protocol_version(sess, TLS1_3_VERSION) ||
	    !SSL_SESSION_set1_master_key(sess, psk->key, psk->key_len)) {
		SSL_SESSION_free(sess);
		return NULL;
	}
	return sess;
}

/* Client: the one PSK it offers. */
static int
ssl_psk_use_session_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
		       SSL_SESSION **sess)
{
	struct ssl_sock *ss = SSL_get_app_data(ssl);
	SSL_SESSION *s;

	*sess = NULL;
	if (ss->psk == NULL) {
		return 0;
	}
	s = ssl_psk_session(ssl, ss->psk);
	if (s == NULL) {
		return 0;
	}
	/* After a HelloRetryRequest only a PSK of the chosen hash may be offered. */
	if (md != NULL && !EVP_MD_is_a(md, EVP_MD_get0_name(SSL_CIPHER_get_handshake_digest(
						   SSL_SESSION_get0_cipher(s))))) {
		SSL_SESSION_free(s);
		return 1;
	}
	*sess = s;
	*id = (const unsigned char *)ss->psk->identity;
	*idlen = strlen(ss->psk->identity);
	return 1;
}

/* The first identity of the pre_shared_key extension (RFC 8446 4.2.11), or NULL. */
static const char *
ssl_hello_identity(SSL *ssl, char *buf, size_t len)
{
	const unsigned char *ext;
	size_t ext_len, id_len;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_psk, &ext, &ext_len) || ext_len < 4) {
		return NULL;
	}
	id_len = (size_t)ext[2] << 8 | ext[3];
	if (id_len == 0 || id_len >= len || id_len + 4 > ext_len) {
		return NULL;
	}
	memcpy(buf, ext + 4, id_len);
	buf[id_len] = '\0';
	/* An identity with a NUL inside is nothing a keyring holds. */
	return strlen(buf) == id_len ? buf : NULL;
}

/* Whether the supported_versions extension names TLS 1.3 (an older client lacks it). */
static bool
ssl_hello_offers_tls13(SSL *ssl)
{
	const unsigned char *ext;
	size_t len, i;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &ext, &len) ||
	    len < 1) {
		return false;
	}
	for (i = 1; i + 1 < len && i + 1 <= ext[0]; i += 2) {
		if ((ext[i] << 8 | ext[i + 1]) == TLS1_3_VERSION) {
			return true;
		}
	}
	return false;
}

static int
ssl_hello_refuse(struct ssl_sock *ss, int *al, int alert, const char *reason)
{
	ss->fail_reason = reason;
	ss->fail_rc = -EKEYREJECTED;
	*al = alert;
	return SSL_CLIENT_HELLO_ERROR;
}

/* Server: what the caller's psk_find says about the identity; its PSK lands in ss->psk. */
static int
ssl_psk_lookup(struct ssl_sock *ss, const char *identity)
{
	const struct nvt_sock_tls_opts *tls = ss->ep.base.opts.tls;
	struct nvt_sock_tls_psk *psk;
	int rc;

	if (ss->psk != NULL && strcmp(ss->psk->identity, identity) == 0) {
		/* The second ClientHello after a HelloRetryRequest. */
		return 0;
	}
	psk = calloc(1, sizeof(*psk));
	if (psk == NULL) {
		return -ENOMEM;
	}
	nvt_strcpy_trunc(psk->identity, sizeof(psk->identity), identity);
	rc = tls->psk_find(tls->psk_find_ctx, identity, ss->hello, ss->hello_len, 0, psk);
	if (rc == 0) {
		nvt_strcpy_trunc(psk->identity, sizeof(psk->identity), identity);
		rc = ssl_psk_check(psk);
	}
	if (rc != 0) {
		OPENSSL_cleanse(psk, sizeof(*psk));
		free(psk);
		return rc;
	}
	OPENSSL_clear_free(ss->psk, ss->psk != NULL ? sizeof(*ss->psk) : 0);
	ss->psk = psk;
	return 0;
}

static int
ssl_client_hello_cb(SSL *ssl, int *al, void *arg)
{
	struct ssl_sock *ss = SSL_get_app_data(ssl);
	const char *identity;
	int rc;

	(void)arg;
	if (!ssl_hello_offers_tls13(ssl)) {
		/* OpenSSL refuses the version itself, and says so. */
		return SSL_CLIENT_HELLO_SUCCESS;
	}
	identity = ssl_hello_identity(ssl, ss->identity, sizeof(ss->identity));
	if (identity == NULL) {
		ss->identity[0] = '\0';
		return ssl_hello_refuse(ss, al, SSL_AD_HANDSHAKE_FAILURE,
					"the client offered no PSK (or an unusable identity)");
	}
	rc = ssl_psk_lookup(ss, identity);
	if (rc != 0) {
		return ssl_hello_refuse(ss, al, SSL_AD_UNKNOWN_PSK_IDENTITY,
					rc == -EKEYREJECTED
						? "wrong PSK (the binder does not verify) for"
						: "unknown PSK identity");
	}
	/*
	 * Only suites of the PSK's hash: OpenSSL picks the suite before it looks
	 * at PSKs. A SHA-256 PSK may also run ChaCha20-Poly1305, which tlshd
	 * asks for with the keys it binds with SHA-256 against the spec.
	 */
	if (!SSL_set_ciphersuites(ssl,
				  ss->psk->cipher == NVT_SOCK_TLS_AES_128_GCM_SHA256
					  ? "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"
					  : ssl_cipher_name(ss->psk->cipher))) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	ss->cipher = ss->psk->cipher;
	return SSL_CLIENT_HELLO_SUCCESS;
}

/*
 * Server: keep the ClientHello (OpenSSL shows each handshake message here
 * before it processes it), so the PSK lookup can check the binder made
 * with it: peers derive different keys behind one identity.
 */
static void
ssl_msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
	   void *arg)
{
	struct ssl_sock *ss = SSL_get_app_data(ssl);
	const uint8_t *msg = buf;

	(void)version;
	(void)arg;
	if (write_p || content_type != SSL3_RT_HANDSHAKE || len < 4 ||
	    msg[0] != SSL3_MT_CLIENT_HELLO || ss == NULL || !SSL_is_server(ssl)) {
		return;
	}
	free(ss->hello);
	ss->hello = malloc(len);
	ss->hello_len = ss->hello != NULL ? len : 0;
	if (ss->hello != NULL) {
		memcpy(ss->hello, msg, len);
	}
}

/* Server: the session of the identity the hello callback looked up; another one is not known. */
static int
ssl_psk_find_session_cb(SSL *ssl, const unsigned char *identity, size_t len, SSL_SESSION **sess)
{
	struct ssl_sock *ss = SSL_get_app_data(ssl);

	*sess = NULL;
	if (ss->psk == NULL || len != strlen(ss->psk->identity) ||
	    memcmp(identity, ss->psk->identity, len) != 0) {
		return 1;
	}
	*sess = ssl_psk_session(ssl, ss->psk);
	return *sess != NULL;
}

/* Runs inside OpenSSL's cleanup, before it frees what the context refers to. */
static void
ssl_ctx_free(void)
{
	SSL_CTX_free(g_ctx);
	g_ctx = NULL;
}

/*
 * OpenSSL's socket BIO sends with write(), which raises SIGPIPE on a
 * connection the peer reset: a process that uses TLS sockets and kept the
 * default action would die of a peer's reset.
 */
static void
ssl_ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
		NVT_DEBUGLOG(sock,
			     "ssl: SIGPIPE ignored from now on (OpenSSL writes with write())");
	}
}

static bool
ssl_ctx_setup(SSL_CTX *ctx)
{
	/* Server preference: AES-GCM, the specification's pairing, unless the client lacks it. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION |
					 SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_client_hello_cb(ctx, ssl_client_hello_cb, NULL);
	SSL_CTX_set_msg_callback(ctx, ssl_msg_cb);
	SSL_CTX_set_psk_find_session_callback(ctx, ssl_psk_find_session_cb);
	SSL_CTX_set_psk_use_session_callback(ctx, ssl_psk_use_session_cb);
	return SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) &&
	       SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) &&
	       SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384") &&
	       SSL_CTX_set_num_tickets(ctx, 0) && SSL_CTX_set_max_early_data(ctx, 0) &&
	       SSL_CTX_set_recv_max_early_data(ctx, 0);
}

static void
ssl_ctx_create(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());

	if (ctx == NULL || !ssl_ctx_setup(ctx) || !OPENSSL_atexit(ssl_ctx_free)) {
		NVT_ERRLOG("ssl: cannot set up OpenSSL's TLS 1.3 context: %s",
			   ERR_reason_error_string(ERR_peek_last_error()));
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return;
	}
	ssl_ignore_sigpipe();
	g_ctx = ctx;
}

SSL_CTX *
ssl_ctx_get(void)
{
	pthread_once(&g_ctx_once, ssl_ctx_create);
	return g_ctx;
}

/* OpenSSL's reason of a failure it queued: -errno, and the text. */
static int
ssl_error_of_queue(unsigned long e, const char **reason)
{
	int code = ERR_GET_REASON(e);

	*reason = ERR_reason_error_string(e);
	if (*reason == NULL) {
		*reason = "unknown OpenSSL error";
	}
	switch (code) {
	case SSL_R_BINDER_DOES_NOT_VERIFY:
		*reason = "wrong PSK (binder does not verify)";
		return -EKEYREJECTED;
	case SSL_R_TLSV1_ALERT_UNKNOWN_PSK_IDENTITY:
		return -EKEYREJECTED;
	case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
	case SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER:
		/* What an OpenSSL (illegal parameter) or GnuTLS server says of a binder it could not verify. */
		*reason =
			code == SSL_R_TLSV1_ALERT_DECRYPT_ERROR
				? "the peer refused the PSK (alert decrypt error): wrong key?"
				: "the peer refused the PSK (alert illegal parameter): wrong key?";
		return -EKEYREJECTED;
	default:
		return -EPROTO;
	}
}

int
ssl_error_classify(struct ssl_sock *ss, int ssl_err, const char **reason)
{
	int sys_errno = errno;
	unsigned long e = ERR_peek_last_error();

	if (ss->fail_reason != NULL) {
		*reason = ss->fail_reason;
		return ss->fail_rc;
	}
	if (ssl_err == SSL_ERROR_ZERO_RETURN || (ssl_err == SSL_ERROR_SYSCALL && e == 0)) {
		if (ssl_err == SSL_ERROR_SYSCALL && sys_errno != 0) {
			*reason = nvt_strerror(-sys_errno);
			return -sys_errno;
		}
		*reason = "the peer closed the connection";
		return -ECONNRESET;
	}
	if (e == 0) {
		*reason = "unknown OpenSSL error";
		return -EPROTO;
	}
	return ssl_error_of_queue(e, reason);
}
