/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data path of an established TLS socket, per direction:
 *
 * - kTLS: the kernel encrypts or decrypts, the fd carries plaintext and is
 *   read and written like a "posix" socket (one readv(), one sendmsg() per
 *   batch). A record that is not application data stops a read with EIO;
 *   it is then read on its own with its record type: a close_notify is the
 *   end of the stream, a NewSessionTicket is skipped, anything else ends
 *   the connection.
 * - OpenSSL's record layer otherwise. Reads fill the caller's iovecs with
 *   SSL_read_ex(); with read-ahead, plaintext can wait inside OpenSSL while
 *   the fd has nothing, so such a socket stays on its group's ready list
 *   until a read drains it. Writes gather queued requests into records of
 *   up to 16 KiB, and the records of a batch into one send() through a
 *   write BIO of our own (not one write() per record, OpenSSL's socket
 *   BIO's way); the requests complete once their records are sent. A
 *   record that did not fit is retried with the same bytes, as
 *   SSL_write_ex() requires.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <linux/tls.h>
#include <openssl/err.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "ssl_internal.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

#define TLS_CONTENT_ALERT	  21
#define TLS_CONTENT_HANDSHAKE	  22
#define TLS_ALERT_CLOSE_NOTIFY	  0
#define TLS_HS_NEW_SESSION_TICKET 4

/* Non-data records one read skips at most before it lets others run. */
#define SSL_KTLS_CONTROL_BUDGET 8

/* A failure of OpenSSL's data path: logged unless it is the peer going away. */
static int
ssl_io_failed(struct ssl_sock *ss, int ssl_err)
{
	const char *reason;
	int rc = ssl_error_classify(ss, ssl_err, &reason);

	return ssl_sock_fail(ss, rc, rc == -ECONNRESET || rc == -EPIPE ? NULL : reason);
}

/* After each read of the socket BIO: whether it got less than it asked for. */
static long
ssl_rx_bio_cb(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
	      size_t *processed)
{
	struct ssl_sock *ss = (struct ssl_sock *)BIO_get_callback_arg(b);

	(void)argp;
	(void)argi;
	(void)argl;
	if (oper == (BIO_CB_READ | BIO_CB_RETURN)) {
		ss->rx_short = ret > 0 && processed != NULL && *processed < len;
	}
	return ret;
}

void
ssl_rx_attach(struct ssl_sock *ss)
{
	BIO *b = SSL_get_rbio(ss->ssl);

	BIO_set_callback_arg(b, (char *)ss);
	BIO_set_callback_ex(b, ssl_rx_bio_cb);
}

/* SSL_read_ex() into one buffer: bytes read, and the SSL error that stopped it (or 0). */
static size_t
ssl_read_buf(struct ssl_sock *ss, uint8_t *buf, size_t len, int *ssl_err)
{
	size_t off = 0, n;

	*ssl_err = 0;
	while (off < len) {
		ERR_clear_error();
		if (!SSL_read_ex(ss->ssl, buf + off, len - off, &n)) {
			*ssl_err = SSL_get_error(ss->ssl, 0);
			break;
		}
		off += n;
		if (ss->rx_short && !SSL_has_pending(ss->ssl)) {
			/*
			 * OpenSSL holds nothing and the fd had no more when it was
			 * last read: another read would only get EAGAIN. Epoll
			 * reports what comes next, as after a short readv().
			 */
			*ssl_err = SSL_ERROR_WANT_READ;
			break;
		}
	}
	return off;
}

/* After a read through OpenSSL: whether the socket stays ready without the fd. */
static void
ssl_record_rx_mark(struct ssl_sock *ss, int ssl_err)
{
	struct nvt_sock_epoll *es = &ss->ep;

	switch (ssl_err) {
	case 0:
		/* Filled up: what OpenSSL still holds is the next read's. */
		nvt_sock_epoll_set_ready(es, SSL_has_pending(ss->ssl));
		break;
	case SSL_ERROR_WANT_READ:
		/* Only the fd can bring more; a partial record waits for it too. */
		nvt_sock_epoll_set_ready(es, false);
		es->drained = es->base.group_impl != NULL;
		break;
	default:
		/* End of stream (stays readable), or a write OpenSSL must make first. */
		nvt_sock_epoll_set_ready(es, true);
		break;
	}
}

static ssize_t
ssl_record_readv(struct ssl_sock *ss, struct iovec *iov, int iovcnt)
{
	size_t total = 0;
	int i, ssl_err = 0;

	if (ss->ep.drained) {
		return -EAGAIN;
	}
	for (i = 0; i < iovcnt && ssl_err == 0; i++) {
		total += ssl_read_buf(ss, iov[i].iov_base, iov[i].iov_len, &ssl_err);
	}
	if (ssl_err != 0 && ssl_err != SSL_ERROR_WANT_READ && ssl_err != SSL_ERROR_WANT_WRITE &&
	    ssl_err != SSL_ERROR_ZERO_RETURN) {
		/* The bytes read so far are handed out; the error comes with the next read. */
		ssl_io_failed(ss, ssl_err);
		return total > 0 ? (ssize_t)total : ss->err;
	}
	ssl_record_rx_mark(ss, ssl_err);
	if (total > 0) {
		return (ssize_t)total;
	}
	return ssl_err == SSL_ERROR_ZERO_RETURN ? 0 : -EAGAIN;
}

/* A handshake message under kTLS: only a NewSessionTicket can be let by. */
static int
ssl_ktls_handshake_record(struct ssl_sock *ss, const uint8_t *rec, ssize_t n)
{
	if (n >= 1 && rec[0] == TLS_HS_NEW_SESSION_TICKET) {
		NVT_DEBUGLOG(sock, "ssl: fd %d: session ticket ignored", ss->ep.base.fd);
		return 1;
	}
	return ssl_sock_fail(ss, -EPROTO,
			     "the peer sent a post-handshake message (KeyUpdate?) that kernel TLS "
			     "cannot follow");
}

/*
 * kTLS: read the non-data record that stopped a read.
 * \return 1 skipped (read on), 0 end of stream, -EAGAIN, or the error.
 */
static int
ssl_ktls_read_control(struct ssl_sock *ss)
{
	uint8_t rec[SSL_SOCK_RECORD_MAX];
	uint8_t cbuf[CMSG_SPACE(sizeof(uint8_t))];
	struct iovec iov = { .iov_base = rec, .iov_len = sizeof(rec) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t n;

	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	do {
		n = recvmsg(ss->ep.base.fd, &msg, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return errno == EAGAIN ? -EAGAIN : ssl_sock_fail(ss, -errno, nvt_strerror(errno));
	}
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg == NULL || cmsg->cmsg_level != SOL_TLS || cmsg->cmsg_type != TLS_GET_RECORD_TYPE) {
		return ssl_sock_fail(ss, -EPROTO, "kernel TLS gave a record without its type");
	}
	switch (*CMSG_DATA(cmsg)) {
	case TLS_CONTENT_ALERT:
		if (n >= 2 && rec[1] == TLS_ALERT_CLOSE_NOTIFY) {
			ss->rx_eof = true;
			nvt_sock_epoll_set_ready(&ss->ep, true);
			return 0;
		}
		return ssl_sock_fail(ss, -ECONNRESET, "the peer sent a TLS alert");
	case TLS_CONTENT_HANDSHAKE:
		return ssl_ktls_handshake_record(ss, rec, n);
	default:
		return ssl_sock_fail(ss, -EPROTO, "unexpected TLS record type");
	}
}

static ssize_t
ssl_ktls_readv(struct ssl_sock *ss, struct iovec *iov, int iovcnt)
{
	int budget = SSL_KTLS_CONTROL_BUDGET;
	ssize_t n;

	while (!ss->rx_eof && budget-- > 0) {
		n = nvt_sock_epoll_readv(&ss->ep.base, iov, iovcnt);
		if (n != -EIO) {
			return n;
		}
		n = ssl_ktls_read_control(ss);
		if (n != 1) {
			return n;
		}
	}
	return ss->rx_eof ? 0 : -EAGAIN;
}

ssize_t
ssl_sock_readv(struct nvt_sock *sock, struct iovec *iov, int iovcnt)
{
	struct ssl_sock *ss = ssl_sock(sock);

	switch (ss->state) {
	case SSL_SOCK_ESTABLISHED:
		return ss->ktls_rx ? ssl_ktls_readv(ss, iov, iovcnt)
				   : ssl_record_readv(ss, iov, iovcnt);
	case SSL_SOCK_FAILED:
		return ss->err;
	case SSL_SOCK_LISTEN:
		return -ENOTCONN;
	default:
		/* The handshake runs. */
		return -EAGAIN;
	}
}

/*
 * The write BIO of the user-space path. Inside a flush, OpenSSL's records
 * are appended to out (as much as fits: a record that does not is
 * retried); outside one (an alert, the answer to a KeyUpdate) bytes go
 * straight to the fd when nothing waits in out, else behind it.
 */
static int
ssl_out_bio_write(BIO *b, const char *data, size_t len, size_t *written)
{
	struct ssl_sock *ss = BIO_get_data(b);
	size_t room = SSL_SOCK_OUT_MAX - ss->out_len;
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (!ss->out_gather && ss->out_len == 0) {
		do {
			n = send(ss->ep.base.fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				BIO_set_retry_write(b);
			}
			return 0;
		}
		*written = (size_t)n;
		return 1;
	}
	if (room == 0) {
		BIO_set_retry_write(b);
		return 0;
	}
	*written = NVT_MIN(len, room);
	memcpy(ss->out + ss->out_len, data, *written);
	ss->out_len += *written;
	return 1;
}

static long
ssl_out_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* Flushing is the socket's own business (ssl_record_flush()). */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static BIO_METHOD *g_out_method;
static pthread_once_t g_out_once = PTHREAD_ONCE_INIT;

static void
ssl_out_method_free(void)
{
	BIO_meth_free(g_out_method);
	g_out_method = NULL;
}

static void
ssl_out_method_create(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "nvt ssl out");

	if (m == NULL || !BIO_meth_set_write_ex(m, ssl_out_bio_write) ||
	    !BIO_meth_set_ctrl(m, ssl_out_bio_ctrl) || !OPENSSL_atexit(ssl_out_method_free)) {
		BIO_meth_free(m);
		return;
	}
	g_out_method = m;
}

int
ssl_out_attach(struct ssl_sock *ss)
{
	BIO *b;

	pthread_once(&g_out_once, ssl_out_method_create);
	b = g_out_method != NULL ? BIO_new(g_out_method) : NULL;
	if (b == NULL) {
		ERR_clear_error();
		return -ENOMEM;
	}
	BIO_set_data(b, ss);
	BIO_set_init(b, 1);
	/* The socket BIO stays the read BIO. */
	SSL_set0_wbio(ss->ssl, b);
	return 0;
}

bool
ssl_out_idle(const struct ssl_sock *ss)
{
	return ss->wlen == 0 && ss->out_len == 0;
}

/*
 * The next record to send: the head of what is queued and not in out yet,
 * its own bytes when it has a record's worth, else a copy. Nothing (wlen
 * 0) when all of it is in out, or the part of the queue one look shows.
 */
static int
ssl_record_stage(struct ssl_sock *ss)
{
	struct iovec iovs[2 * NVT_SOCK_IOV_BATCH];
	size_t len, take, skip = ss->out_plain, off = 0;
	int i = 0, cnt;

	cnt = nvt_sock_prep_iovs(&ss->ep.base, iovs, (int)NVT_COUNTOF(iovs), &len);
	for (; i < cnt && skip >= iovs[i].iov_len; i++) {
		skip -= iovs[i].iov_len;
	}
	if (i < cnt) {
		iovs[i].iov_base = (uint8_t *)iovs[i].iov_base + skip;
		iovs[i].iov_len -= skip;
	}
	if (i < cnt && iovs[i].iov_len >= SSL_SOCK_RECORD_MAX) {
		ss->wbuf = iovs[i].iov_base;
		ss->wlen = SSL_SOCK_RECORD_MAX;
		return 0;
	}
	if (ss->staging == NULL) {
		ss->staging = malloc(SSL_SOCK_RECORD_MAX);
		if (ss->staging == NULL) {
			return -ENOMEM;
		}
	}
	for (; i < cnt && off < SSL_SOCK_RECORD_MAX; i++) {
		take = NVT_MIN(iovs[i].iov_len, SSL_SOCK_RECORD_MAX - off);
		memcpy(ss->staging + off, iovs[i].iov_base, take);
		off += take;
	}
	ss->wbuf = ss->staging;
	ss->wlen = off;
	return 0;
}

/* Encrypt what is queued into out until it is full or all of it is there: 0, or <0 failed. */
static int
ssl_out_fill(struct ssl_sock *ss)
{
	size_t n;
	int rc = 0, err;

	ss->out_gather = true;
	for (;;) {
		if (ss->wlen == 0) {
			rc = ssl_record_stage(ss);
			if (rc != 0 || ss->wlen == 0) {
				break;
			}
		}
		ERR_clear_error();
		if (!SSL_write_ex(ss->ssl, ss->wbuf, ss->wlen, &n)) {
			err = SSL_get_error(ss->ssl, 0);
			if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ) {
				rc = ssl_io_failed(ss, err);
			}
			break;
		}
		ss->out_plain += ss->wlen;
		ss->wbuf = NULL;
		ss->wlen = 0;
	}
	ss->out_gather = false;
	return rc;
}

/* send() what out holds: 0 all of it, -EAGAIN not all (EPOLLOUT resumes), or -errno. */
static int
ssl_out_send(struct ssl_sock *ss)
{
	ssize_t n;

	do {
		n = send(ss->ep.base.fd, ss->out + ss->out_off, ss->out_len - ss->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	ss->out_off += (size_t)n;
	if (ss->out_off < ss->out_len) {
		/* The kernel took what fit; another try now would only get EAGAIN. */
		return -EAGAIN;
	}
	ss->out_off = 0;
	ss->out_len = 0;
	return 0;
}

static int
ssl_record_flush(struct ssl_sock *ss)
{
	struct nvt_sock *sock = &ss->ep.base;
	int rc, progress = 0;
	size_t plain;

	if (ss->ep.out_blocked) {
		return 0;
	}
	if (ss->out == NULL) {
		ss->out = malloc(SSL_SOCK_OUT_MAX);
		if (ss->out == NULL) {
			rc = nvt_sock_fail_requests(sock, -ENOMEM);
			return rc == -EBADF ? rc : sock->write_err;
		}
	}
	while (!TAILQ_EMPTY(&sock->queued_reqs)) {
		rc = ssl_out_fill(ss);
		if (rc == 0 && ss->out_len == 0) {
			if (ss->wlen != 0) {
				/* OpenSSL holds the record back until it read something. */
				nvt_sock_epoll_block_out(&ss->ep);
				return progress;
			}
			/* Only empty requests are queued. */
			rc = nvt_sock_complete_bytes(sock, 0);
			return rc == -EBADF ? rc : 1;
		}
		rc = rc == 0 ? ssl_out_send(ss) : rc;
		if (rc == -EAGAIN) {
			nvt_sock_epoll_block_out(&ss->ep);
			return progress;
		}
		if (rc < 0) {
			ssl_sock_fail(ss, rc,
				      rc == -ECONNRESET || rc == -EPIPE ? NULL : nvt_strerror(rc));
			rc = nvt_sock_fail_requests(sock, rc);
			return rc == -EBADF ? rc : sock->write_err;
		}
		progress = 1;
		plain = ss->out_plain;
		ss->out_plain = 0;
		rc = nvt_sock_complete_bytes(sock, plain);
		if (rc < 0 || sock->close_pending) {
			return rc == -EBADF ? rc : progress;
		}
	}
	nvt_sock_epoll_set_events(&ss->ep, EPOLLIN);
	return progress;
}

int
ssl_sock_flush(struct nvt_sock *sock)
{
	struct ssl_sock *ss = ssl_sock(sock);
	int rc;

	switch (ss->state) {
	case SSL_SOCK_ESTABLISHED:
		return ss->ktls_tx ? nvt_sock_epoll_flush(sock) : ssl_record_flush(ss);
	case SSL_SOCK_FAILED:
		rc = nvt_sock_fail_requests(sock, ss->err);
		return rc == -EBADF ? rc : ss->err;
	default:
		/* Sent once the handshake is over (it marks the socket dirty). */
		return 0;
	}
}
