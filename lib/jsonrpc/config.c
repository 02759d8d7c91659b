/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON configuration: the registry of subsystems that save their state as
 * method calls, and the loader that replays a document through the RPC
 * dispatcher, one entry at a time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/log.h"
#include "nvtcp/queue.h"
#include "nvtcp/string.h"
#include "nvtcp/thread.h"
#include "jsonrpc_internal.h"

struct config_subsystem {
	TAILQ_ENTRY(config_subsystem) link;
	char *name;
	nvt_config_write_fn write_fn;
};

/* Written by constructors before main, then read on the app thread only. */
static TAILQ_HEAD(, config_subsystem) g_subsystems = TAILQ_HEAD_INITIALIZER(g_subsystems);

/* Which entries a pass of the loader runs. */
enum config_pass {
	CONFIG_PASS_STARTUP, /* entries allowed at startup (only when the state is startup) */
	CONFIG_PASS_RUNTIME, /* the other entries */
	CONFIG_PASS_DONE,
};

/* One load in progress; lives on the heap until its callback has run. */
struct config_load {
	json_t *doc;	      /* our copy of the document */
	const json_t *subsys; /* doc's "subsystems" array */
	size_t sub;	      /* cursor: subsystem index */
	size_t entry;	      /* cursor: entry index within it */
	enum config_pass pass;
	bool startup_pass_ran;
	bool running; /* inside config_run(): answers just note the result */
	bool waiting; /* an entry was dispatched and has not answered */
	int rc;
	size_t count; /* entries run */
	nvt_config_load_cb cb;
	void *ctx;
};

void
nvt_config_register_subsystem(const char *name, nvt_config_write_fn write_fn)
{
	struct config_subsystem *s;

	TAILQ_FOREACH(s, &g_subsystems, link) {
		if (strcmp(s->name, name) == 0) {
			NVT_ERRLOG("config: subsystem '%s' registered twice; keeping the first\n",
				   name);
			return;
		}
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->name = strdup(name)) == NULL) {
		NVT_ERRLOG("config: out of memory registering subsystem '%s'\n", name);
		free(s);
		return;
	}
	s->write_fn = write_fn;
	TAILQ_INSERT_TAIL(&g_subsystems, s, link);
}

void
config_foreach_subsystem(void (*fn)(const char *name, nvt_config_write_fn write_fn, void *ctx),
			 void *ctx)
{
	struct config_subsystem *s;

	TAILQ_FOREACH(s, &g_subsystems, link) {
		fn(s->name, s->write_fn, ctx);
	}
}

json_t *
config_save_subsystem(const char *name)
{
	struct config_subsystem *s;
	json_t *config;

	TAILQ_FOREACH(s, &g_subsystems, link) {
		if (strcmp(s->name, name) == 0) {
			config = json_array();
			if (config != NULL && s->write_fn != NULL) {
				s->write_fn(config);
			}
			return config;
		}
	}
	return NULL;
}

json_t *
nvt_config_save(void)
{
	struct config_subsystem *s;
	json_t *root, *list;

	root = json_object();
	list = json_array();
	if (root == NULL || list == NULL) {
		json_decref(root);
		json_decref(list);
		return NULL;
	}
	json_object_set_new(root, "subsystems", list);
	TAILQ_FOREACH(s, &g_subsystems, link) {
		json_array_append_new(list, json_pack("{s:s, s:o*}", "subsystem", s->name, "config",
						      config_save_subsystem(s->name)));
	}
	return root;
}

/* ---- checking a document ---- */

static const char *
subsys_name(const json_t *subsys)
{
	return json_string_value(json_object_get(subsys, "subsystem"));
}

/* The entries of a subsystem; NULL for a null or absent "config". */
static const json_t *
subsys_entries(const json_t *subsys)
{
	const json_t *config = json_object_get(subsys, "config");

	return json_is_array(config) ? config : NULL;
}

static int
check_entry(const char *sname, size_t idx, const json_t *entry)
{
	const json_t *method = json_object_get(entry, "method");
	const json_t *params = json_object_get(entry, "params");
	uint32_t mask;

	if (!json_is_object(entry)) {
		NVT_ERRLOG("config: subsystem '%s', entry %zu: not an object\n", sname, idx);
		return -EINVAL;
	}
	if (!json_is_string(method)) {
		NVT_ERRLOG("config: subsystem '%s', entry %zu: \"method\" %s\n", sname, idx,
			   method == NULL ? "is missing" : "must be a string");
		return -EINVAL;
	}
	if (params != NULL && !json_is_object(params) && !json_is_null(params)) {
		NVT_ERRLOG("config: subsystem '%s', method '%s' (entry %zu): \"params\" must be an "
			   "object\n",
			   sname, json_string_value(method), idx);
		return -EINVAL;
	}
	mask = rpc_method_state_mask(json_string_value(method));
	if (mask == 0) {
		NVT_ERRLOG(
			"config: subsystem '%s', method '%s' (entry %zu): Method not found: %s\n",
			sname, json_string_value(method), idx, json_string_value(method));
		return -EINVAL;
	}
	if (nvt_rpc_get_state() == NVT_RPC_RUNTIME && (mask & NVT_RPC_RUNTIME) == 0) {
		NVT_ERRLOG("config: subsystem '%s', method '%s' (entry %zu): only allowed at "
			   "startup, and the application already runs\n",
			   sname, json_string_value(method), idx);
		return -EINVAL;
	}
	return 0;
}

static int
check_subsystem(size_t idx, const json_t *subsys)
{
	const json_t *config = json_object_get(subsys, "config");
	const json_t *entry;
	size_t i;
	int rc;

	if (!json_is_object(subsys) || !json_is_string(json_object_get(subsys, "subsystem"))) {
		NVT_ERRLOG("config: subsystems[%zu]: expected an object with a \"subsystem\" "
			   "name\n",
			   idx);
		return -EINVAL;
	}
	if (config != NULL && !json_is_array(config) && !json_is_null(config)) {
		NVT_ERRLOG("config: subsystem '%s': \"config\" must be an array\n",
			   subsys_name(subsys));
		return -EINVAL;
	}
	json_array_foreach(config, i, entry)
	{
		rc = check_entry(subsys_name(subsys), i + 1, entry);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

static int
check_document(const json_t *doc)
{
	const json_t *subsystems = json_object_get(doc, "subsystems");
	const json_t *subsys;
	size_t i;
	int rc;

	if (!json_is_object(doc)) {
		NVT_ERRLOG("config: the document must be an object with \"subsystems\"\n");
		return -EINVAL;
	}
	if (!json_is_array(subsystems)) {
		NVT_ERRLOG("config: \"subsystems\" %s\n",
			   subsystems == NULL ? "is missing" : "must be an array");
		return -EINVAL;
	}
	json_array_foreach(subsystems, i, subsys)
	{
		rc = check_subsystem(i, subsys);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

/* ---- running a document ---- */

/*
 * The start-up pair of SPDK's rpc.py load_config: in a configuration the
 * load itself is the start-up, so there is nothing to start or wait for (a
 * framework_wait_init run by the load would wait for the load's own end).
 */
static bool
entry_is_startup_step(const json_t *entry)
{
	const char *method = json_string_value(json_object_get(entry, "method"));

	return strcmp(method, "framework_start_init") == 0 ||
	       strcmp(method, "framework_wait_init") == 0;
}

static bool
entry_in_pass(const struct config_load *ld, const json_t *entry)
{
	uint32_t mask = rpc_method_state_mask(json_string_value(json_object_get(entry, "method")));
	bool startup = (mask & NVT_RPC_STARTUP) != 0;

	if (entry_is_startup_step(entry)) {
		/* Said once: in the first pass the load makes. */
		if (ld->pass == CONFIG_PASS_STARTUP || !ld->startup_pass_ran) {
			NVT_NOTICELOG("config: '%s' skipped: loading the configuration is the "
				      "start-up\n",
				      json_string_value(json_object_get(entry, "method")));
		}
		return false;
	}

	if (ld->pass == CONFIG_PASS_STARTUP) {
		return startup;
	}
	/* Entries the startup pass ran are done. */
	return !(ld->startup_pass_ran && startup);
}

static void
config_next_pass(struct config_load *ld)
{
	ld->sub = 0;
	ld->entry = 0;
	if (ld->pass == CONFIG_PASS_STARTUP) {
		ld->startup_pass_ran = true;
		ld->pass = CONFIG_PASS_RUNTIME;
		nvt_rpc_set_state(NVT_RPC_RUNTIME);
	} else {
		ld->pass = CONFIG_PASS_DONE;
	}
}

/* The next entry to run (cursor left on it), or NULL when the load is done. */
static const json_t *
config_next(struct config_load *ld)
{
	const json_t *entries, *entry;

	while (ld->pass != CONFIG_PASS_DONE) {
		if (ld->sub >= json_array_size(ld->subsys)) {
			config_next_pass(ld);
			continue;
		}
		entries = subsys_entries(json_array_get(ld->subsys, ld->sub));
		if (ld->entry >= json_array_size(entries)) {
			ld->sub++;
			ld->entry = 0;
			continue;
		}
		entry = json_array_get(entries, ld->entry);
		if (entry_in_pass(ld, entry)) {
			return entry;
		}
		ld->entry++;
	}
	return NULL;
}

static void
config_report(const struct config_load *ld, const json_t *resp)
{
	const json_t *subsys = json_array_get(ld->subsys, ld->sub);
	const json_t *entry = json_array_get(subsys_entries(subsys), ld->entry);
	const char *msg =
		json_string_value(json_object_get(json_object_get(resp, "error"), "message"));

	NVT_ERRLOG("config: subsystem '%s', method '%s' (entry %zu): %s\n", subsys_name(subsys),
		   json_string_value(json_object_get(entry, "method")), ld->entry + 1,
		   msg != NULL ? msg : "out of memory");
}

static void config_run(struct config_load *ld);

static void
config_entry_done(json_t *resp, bool notification, void *arg)
{
	struct config_load *ld = arg;

	(void)notification;
	if (resp == NULL || json_object_get(resp, "error") != NULL) {
		config_report(ld, resp);
		ld->rc = -EINVAL;
	}
	json_decref(resp);
	ld->waiting = false;
	ld->entry++;
	/* An answer that comes later resumes the load; one that comes at once returns to it. */
	if (!ld->running) {
		config_run(ld);
	}
}

static json_t *
entry_request(const json_t *entry)
{
	const json_t *params = json_object_get(entry, "params");
	json_t *req;

	req = json_pack("{s:s, s:O}", "jsonrpc", "2.0", "method", json_object_get(entry, "method"));
	if (req != NULL && params != NULL) {
		json_object_set(req, "params", (json_t *)params);
	}
	return req;
}

static void
config_finish_msg(void *arg)
{
	struct config_load *ld = arg;

	if (ld->rc == 0) {
		NVT_INFOLOG("config: loaded (%zu methods run)\n", ld->count);
	}
	ld->cb(ld->rc, ld->ctx);
	json_decref(ld->doc);
	free(ld);
}

/* Through a message, so the callback never runs inside nvt_config_load_json(). */
static void
config_finish(struct config_load *ld)
{
	struct nvt_thread *thread = nvt_get_thread();

	if (thread != NULL && nvt_thread_send_msg(thread, config_finish_msg, ld) == 0) {
		return;
	}
	config_finish_msg(ld);
}

static void
config_run(struct config_load *ld)
{
	const json_t *entry;
	json_t *req;

	ld->running = true;
	while (ld->rc == 0 && (entry = config_next(ld)) != NULL) {
		req = entry_request(entry);
		if (req == NULL) {
			ld->rc = -ENOMEM;
			break;
		}
		ld->waiting = true;
		ld->count++;
		rpc_dispatch(req, config_entry_done, ld);
		if (ld->waiting) {
			ld->running = false;
			return;
		}
	}
	ld->running = false;
	config_finish(ld);
}

/* A load that fails before it starts still answers through config_finish(). */
static void
config_start_failed(int rc, nvt_config_load_cb cb, void *ctx)
{
	struct config_load *ld = calloc(1, sizeof(*ld));

	if (ld == NULL) {
		cb(rc, ctx);
		return;
	}
	ld->rc = rc;
	ld->cb = cb;
	ld->ctx = ctx;
	config_finish(ld);
}

static void
config_start(json_t *doc, nvt_config_load_cb cb, void *ctx)
{
	struct config_load *ld = calloc(1, sizeof(*ld));

	if (ld == NULL) {
		json_decref(doc);
		cb(-ENOMEM, ctx);
		return;
	}
	ld->doc = doc;
	ld->cb = cb;
	ld->ctx = ctx;
	ld->rc = doc != NULL ? check_document(doc) : -ENOMEM;
	if (ld->rc == 0) {
		ld->subsys = json_object_get(doc, "subsystems");
		ld->pass = nvt_rpc_get_state() == NVT_RPC_STARTUP ? CONFIG_PASS_STARTUP
								  : CONFIG_PASS_RUNTIME;
		config_run(ld);
	} else {
		config_finish(ld);
	}
}

void
nvt_config_load_json(const json_t *config, nvt_config_load_cb cb, void *ctx)
{
	if (config == NULL) {
		NVT_ERRLOG("config: no document\n");
		config_start_failed(-EINVAL, cb, ctx);
		return;
	}
	config_start(json_deep_copy(config), cb, ctx);
}

void
nvt_config_load_file(const char *path, nvt_config_load_cb cb, void *ctx)
{
	json_error_t jerr;
	json_t *doc;
	FILE *file;
	int rc;

	file = fopen(path, "r");
	if (file == NULL) {
		rc = -errno;
		NVT_ERRLOG("config: cannot read '%s': %s\n", path, nvt_strerror(rc));
		config_start_failed(rc, cb, ctx);
		return;
	}
	doc = json_loadf(file, 0, &jerr);
	fclose(file);
	if (doc == NULL) {
		NVT_ERRLOG("config: '%s' is not valid JSON: line %d, column %d: %s\n", path,
			   jerr.line, jerr.column, jerr.text);
		config_start_failed(-EINVAL, cb, ctx);
		return;
	}
	NVT_INFOLOG("config: loading '%s'\n", path);
	config_start(doc, cb, ctx);
}
