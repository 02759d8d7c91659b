/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the tests of the "ssl" socket implementation share: one nvt_thread
 * and two socket groups (server, client) polled by the test, a captured
 * log, PSKs and a server keyring, TLS connections over 127.0.0.1 with
 * what each end received, and senders of patterned data in many iovecs.
 * Every wait is a poll loop with a deadline, never a sleep.
 *
 * kTLS: the data path the kernel took is printed for each handshake. With
 * NVT_TEST_KTLS=none|tx|both in the environment it is checked too.
 */
#ifndef NVT_SSL_TEST_H
#define NVT_SSL_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nvtcp/sock.h"
#include "nvtcp/thread.h"

#define ST_DEADLINE_MS 20000

typedef bool (*st_done_fn)(void *ctx);

extern struct nvt_thread *g_st_thread;
/* The server's and the client's socket groups, on g_st_thread. */
extern struct nvt_sock_group *g_st_sgroup;
extern struct nvt_sock_group *g_st_cgroup;

uint64_t st_now_ms(void);
/* Poll the thread and both groups until \p done or the deadline: whether done. */
bool st_poll_until(st_done_fn done, void *ctx);
/* Settle, then whether the thread may sleep and nothing wakes it at once (nothing spins). */
bool st_sleepy(void);

/* The log since st_log_reset(), and its error lines. */
extern char g_st_log[16384];
extern int g_st_errors;
void st_log_reset(void);
/* Fail the test (printing the log) unless \p text was logged. */
void st_expect_log(const char *text);

/* A SHA-256 and a SHA-384 PSK, both in the server's keyring. */
extern struct nvt_sock_tls_psk g_st_psk256;
extern struct nvt_sock_tls_psk g_st_psk384;
void st_psk_make(struct nvt_sock_tls_psk *psk, const char *identity, unsigned int cipher,
		 size_t len, uint8_t seed);
/* Turned off through nvt_sock_impl_set_opts(): expect no kTLS. */
extern bool g_st_ktls_off;
/* The kernel's kTLS counters (TlsTxSw + TlsRxSw), or -1 without kTLS. */
long st_tls_stat_total(void);
/* NVT_TEST_KTLS, or "none" while kTLS is off. */
const char *st_ktls_expected(void);
void st_check_ktls(const char *what, const struct nvt_sock_tls_info *info);

/* The server's keyring: its psk_find looks identities up here. */
struct st_keyring {
	const struct nvt_sock_tls_psk *psks[4];
	int count;
	int lookups;
};

/* One end of a connection and what it received. */
struct st_peer {
	struct nvt_sock *sock;
	uint8_t *rx;
	size_t rx_len;
	size_t rx_cap;
	/* Most bytes one readable callback takes (0: all there is). */
	size_t read_chunk;
	int readable_calls;
	bool eof;
	int err;
	int connect_calls;
	int connect_status;
};

/* A listener and one connection; srv is the accepted end. */
struct st_conn {
	struct nvt_sock *lsock;
	uint16_t port;
	struct st_peer srv;
	struct st_peer cli;
};

/* Patterned data queued on a socket, and the completions of its requests. */
struct st_sender {
	struct nvt_sock_request *reqs;
	struct iovec *iovs;
	uint8_t *tx;
	size_t len;
	uint32_t count;
	uint32_t done;
	int err;
};

/* What st_transfer_done() waits for: each direction received whole and completed (NULL: none). */
struct st_transfer {
	struct st_conn *c;
	struct st_sender *to_srv;
	struct st_sender *to_cli;
};

extern struct st_keyring g_st_keyring;
extern struct nvt_sock_tls_opts g_st_srv_tls;

void st_peer_rx_alloc(struct st_peer *p, size_t len);
/* Reads into rx (up to read_chunk per call); notes end of stream and errors. */
void st_peer_readable(void *arg, struct nvt_sock_group *group, struct nvt_sock *sock);
void st_peer_connected(void *arg, struct nvt_sock *sock, int status);

/* A TLS listener on 127.0.0.1, any port; the peers get 16 bytes of rx. */
void st_conn_listen(struct st_conn *c);
/* Connect with \p psk and add the client to its group. */
void st_conn_connect(struct st_conn *c, const struct nvt_sock_tls_psk *psk);
bool st_accept_one(void *ctx);
/* Accept one connection and add it to the server's group. */
void st_conn_accept(struct st_conn *c);
/* Both ends know how the handshake ended. */
bool st_conn_settled(void *ctx);
void st_conn_close(struct st_conn *c);
/* Listen, connect with \p psk, accept: both ends established and checked. */
void st_conn_establish(struct st_conn *c, const struct nvt_sock_tls_psk *psk, const char *what);

void st_fill_pattern(uint8_t *buf, size_t len, uint32_t seed);
/* Queue \p len patterned bytes on \p sock in requests of up to five iovecs. */
void st_sender_queue(struct st_sender *s, struct nvt_sock *sock, size_t len, uint32_t seed);
void st_sender_free(struct st_sender *s);
bool st_transfer_done(void *ctx);

/* cmocka group setup and teardown. */
int st_setup(void **state);
int st_teardown(void **state);

#endif /* NVT_SSL_TEST_H */
