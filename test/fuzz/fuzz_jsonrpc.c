/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_jsonrpc: arbitrary bytes as one JSON-RPC request, run in-process by
 * nvt_rpc_call() with every method of the target's libraries registered
 * (nvmf, bdev and its malloc, null and uring modules, sock, iobuf, the RPC
 * layer's own and the SPDK compatibility shims), against the target of
 * fuzz_env_target_config(). fuzz_guard.c keeps the methods that reach the
 * file system or the process confined.
 *
 * Every request must be answered (in virtual time) with a JSON-RPC 2.0
 * response. A request that changed the configuration (nvt_config_save()
 * differs) is undone by shutting everything down and loading the start
 * configuration again, so runs stay independent; otherwise the target must
 * be idle as at the start.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/jsonrpc.h"

#include "fuzz_env.h"
#include "fuzz_guard.h"

static char *g_baseline;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
rpc_setup(void)
{
	if (g_baseline != NULL) {
		return;
	}
	fuzz_env_init();
	fuzz_guard_init();
	fuzz_env_start_target();
	g_baseline = fuzz_env_config_text();
}

/* A response must be one JSON-RPC 2.0 object with a result or an error. */
static void
check_response(const char *request, const char *response)
{
	json_t *rsp = json_loads(response, 0, NULL);
	const char *version = json_string_value(json_object_get(rsp, "jsonrpc"));
	bool result = json_object_get(rsp, "result") != NULL;
	bool error = json_is_object(json_object_get(rsp, "error"));

	if (version == NULL || strcmp(version, "2.0") != 0 || result == error) {
		fuzz_env_fail("request %.200s got the malformed response %.200s", request,
			      response);
	}
	json_decref(rsp);
}

/* Undo what the request changed, or check that the target is idle. */
static void
restore(void)
{
	char *now = fuzz_env_config_text();

	if (strcmp(now, g_baseline) == 0) {
		free(now);
		fuzz_env_check_idle();
		return;
	}
	free(now);
	fuzz_env_reset();
	fuzz_env_start_target();
	now = fuzz_env_config_text();
	if (strcmp(now, g_baseline) != 0) {
		fuzz_env_fail("the start configuration saves differently after a reload:\n%s\n%s",
			      g_baseline, now);
	}
	free(now);
}

/* The request as the target will run it; NULL when it must not run. */
static char *
guarded_text(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size), *out;
	json_t *req;
	bool changed = false;

	if (text == NULL) {
		fuzz_env_fail("out of memory");
	}
	/* Parsed as the RPC layer parses it, so both see the same method and params. */
	req = json_loads(text, 0, NULL);
	if (req == NULL) {
		return text;
	}
	if (!fuzz_guard_request(req, &changed)) {
		json_decref(req);
		free(text);
		return NULL;
	}
	if (changed) {
		out = json_dumps(req, JSON_COMPACT);
		free(text);
		text = out;
	}
	json_decref(req);
	return text;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *response;
	bool answered;

	rpc_setup();
	text = guarded_text(data, size);
	if (text == NULL) {
		return 0;
	}
	response = fuzz_env_rpc(text, &answered);
	if (!answered) {
		fuzz_env_fail("request %.200s was never answered", text);
	}
	if (response != NULL) {
		check_response(text, response);
	}
	free(response);
	free(text);
	restore();
	return 0;
}
