/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What functional tests read of a running nvtcpd from outside: JSON-RPC
 * calls on its Unix socket and its resident memory. Needs jansson. Nothing
 * here prints or exits; any thread.
 */
#ifndef NVT_TEST_RPC_H
#define NVT_TEST_RPC_H

#include <jansson.h>
#include <sys/types.h>

/*
 * Call \p method with \p params (NULL: none; the caller keeps its
 * reference) on the JSON-RPC server at Unix socket \p path, waiting at most
 * 10 s. Returns the answer's "result" (the caller's reference), or NULL when
 * the call failed or the answer is an error.
 */
json_t *nvt_test_rpc_call(const char *path, const char *method, const json_t *params);

/* Sum of the integer field \p field of every TCP transport of every poll group in nvmf_get_stats' answer \p stats. */
json_int_t nvt_test_stats_tcp_sum(const json_t *stats, const char *field);

/* The same for the "iobuf" object's field \p field. */
json_int_t nvt_test_stats_iobuf_sum(const json_t *stats, const char *field);

/* The same for the poll groups' own field \p field (e.g. "current_io_qpairs"). */
json_int_t nvt_test_stats_group_sum(const json_t *stats, const char *field);

/* The integer \p field of the TCP entry of nvmf_get_stats' top-level "transports"; -1 if none. */
json_int_t nvt_test_stats_transport(const json_t *stats, const char *field);

/* VmRSS of process \p pid in KiB, or -1. */
long nvt_test_rss_kb(pid_t pid);

#endif /* NVT_TEST_RPC_H */
