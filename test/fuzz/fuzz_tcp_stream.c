/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_tcp_stream: the PDU receive path of one queue pair, fed an
 * arbitrary host-to-controller byte stream cut at arbitrary points.
 *
 * Input: a 4-byte header, then the stream.
 *   byte 0  bits 0-2: largest chunk (none, 1, 3, 8, 24, 72, 512, 4096 bytes);
 *           bits 3-4: bytes the target may send per poll (any, any, 7, 1500)
 *   byte 1-2  seed of the chunk sizes
 *   byte 3  virtual time, in half seconds, to let pass before the end of the
 *           stream (keep alive, timeouts)
 *
 * Per run a connection arrives at the real target (fuzz_env.h), gets the
 * stream chunk by chunk, one chunk per poll of its group; the threads are
 * polled until nothing moves; the stream ends; the run waits until the
 * target closed the socket and is idle again. Everything the target sends
 * is checked to be well-formed PDUs (fuzz_pdu.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_env.h"
#include "fuzz_pdu.h"

#define STREAM_HDR_LEN 4
#define HALF_SECOND_US (500ull * 1000)

static const uint32_t g_chunk_max[8] = { 0, 1, 3, 8, 24, 72, 512, 4096 };
static const uint32_t g_send_budget[4] = { 0, 0, 7, 1500 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t
stream_setup(void)
{
	static uint16_t port;

	if (port == 0) {
		fuzz_env_init();
		fuzz_env_start_target();
		port = fuzz_sock_listen_port(0);
		if (port == 0) {
			fuzz_env_fail("the target has no listener");
		}
	}
	return port;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_pdu_state st = { 0 };
	struct fuzz_conn *conn;
	uint16_t port = stream_setup();

	if (size < STREAM_HDR_LEN) {
		return 0;
	}
	conn = fuzz_conn_open(port);
	conn->chunk_max = g_chunk_max[data[0] & 7u];
	conn->send_budget = g_send_budget[(data[0] >> 3) & 3u];
	conn->rng = ((uint32_t)data[1] << 8 | data[2]) * 2654435761u | 1u;
	conn->record = true;
	fuzz_conn_push(conn, data + STREAM_HDR_LEN, size - STREAM_HDR_LEN);
	fuzz_env_poll();
	fuzz_pdu_read(conn, &st, NULL, NULL);
	if (data[3] != 0) {
		fuzz_env_advance(data[3] * HALF_SECOND_US);
		fuzz_pdu_read(conn, &st, NULL, NULL);
	}
	fuzz_conn_shutdown(conn);
	fuzz_pdu_read(conn, &st, NULL, NULL);
	fuzz_conn_free(conn);
	fuzz_env_check_idle();
	return 0;
}
