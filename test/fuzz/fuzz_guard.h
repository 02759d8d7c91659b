/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What keeps the JSON-RPC and configuration harnesses inside their process
 * and a temporary directory: every RPC method that reaches the file system,
 * the process or memory beyond what the fuzzer may use, and what is done
 * about it (fuzz_guard.c lists them with the reasons).
 */
#ifndef NVT_FUZZ_GUARD_H
#define NVT_FUZZ_GUARD_H

#include <stdbool.h>

#include <jansson.h>

/*
 * Create the harness's temporary directory (under $TMPDIR or /tmp), with a
 * 1 MiB file "disk0.img" in it for bdevs on files; removed at exit.
 * Later calls do nothing.
 */
void fuzz_guard_init(void);

/* The temporary directory. */
const char *fuzz_guard_dir(void);

/*
 * Make one request ({"method": ..., "params": ...}) safe to run: file
 * names are moved into the temporary directory (rewriting \p req).
 * \return false when the method must not run at all; true otherwise
 * (\p changed says whether \p req was rewritten).
 */
bool fuzz_guard_request(json_t *req, bool *changed);

/*
 * The same for every entry of a configuration document (SPDK's
 * {"subsystems": [{"subsystem": ..., "config": [...]}]}): entries whose
 * method must not run are dropped. A document of another shape is left
 * as it is (the loader refuses it).
 */
void fuzz_guard_config(json_t *config);

#endif /* NVT_FUZZ_GUARD_H */
