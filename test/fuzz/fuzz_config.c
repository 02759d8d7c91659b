/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_config: arbitrary bytes as a JSON configuration (SPDK's format),
 * loaded with nvt_config_load_json() as nvtcpd loads -c FILE: the start-up
 * methods first, then the others. Input that jansson cannot parse is not a
 * configuration and ends the run at once; fuzz_guard.c confines what
 * reaches the file system or the process.
 *
 * Every load must finish (in virtual time). A configuration that loaded
 * must save into one that loads again and saves the same (what RPC can
 * make, the configuration can express). After each run everything is shut
 * down (target, poll groups, bdevs) and the RPC layer is back in its
 * start-up state, so runs are independent.
 *
 * No connection ever arrives here, so the default socket implementation is
 * posix, as in nvtcpd (listeners are still confined by fuzz_sock.c's bind):
 * "fuzz" would be saved as the default, a name no configuration may give.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/sock.h"

#include "fuzz_env.h"
#include "fuzz_guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
config_reset(void)
{
	fuzz_env_reset();
	nvt_sock_set_default_impl("posix");
}

/* The saved configuration, loaded into a fresh target, saves the same. */
static void
check_round_trip(void)
{
	json_t *saved = nvt_config_save();
	char *first = fuzz_env_config_text(), *second;
	int rc;

	config_reset();
	rc = fuzz_env_load_config(saved);
	if (rc != 0) {
		fuzz_env_fail("the saved configuration does not load (rc %d):\n%s", rc, first);
	}
	second = fuzz_env_config_text();
	if (strcmp(first, second) != 0) {
		fuzz_env_fail("the saved configuration saves differently once loaded:\n%s\n%s",
			      first, second);
	}
	json_decref(saved);
	free(first);
	free(second);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *config;
	int rc;

	fuzz_env_init();
	fuzz_guard_init();
	nvt_sock_set_default_impl("posix");
	config = json_loadb((const char *)data, size, 0, NULL);
	if (config == NULL) {
		return 0;
	}
	fuzz_guard_config(config);
	rc = fuzz_env_load_config(config);
	json_decref(config);
	if (rc == -ETIMEDOUT) {
		fuzz_env_fail("the configuration load never finished");
	}
	if (rc == 0) {
		check_round_trip();
	}
	config_reset();
	return 0;
}
