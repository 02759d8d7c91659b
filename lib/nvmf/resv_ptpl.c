/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reservation of a namespace persisted through power loss, in SPDK's
 * file format, so a file moves between the two targets:
 *
 *   { "ptpl": true, "rtype": 1, "crkey": 17, "bdev_uuid": "...",
 *     "holder_uuid": "...", "registrants": [ { "rkey": 17, "host_uuid": "..." } ] }
 *
 * Keys are JSON integers; jansson's are signed, so a key of 2^63 or more is
 * written as its two's complement (negative) and read back the same way.
 *
 * Writes replace the file atomically: a temporary file in the same folder,
 * fsync, rename over the old one, fsync of the folder. Any thread: the
 * caller owns the state it passes, and nobody changes it meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "nvtcp/log.h"
#include "nvtcp/uuid.h"

#include "resv.h"

static json_t *
ptpl_to_json(const struct nvmf_resv *r, const uint8_t bdev_uuid[16])
{
	char uuid[NVT_UUID_STRING_LEN];
	json_t *obj, *regs = json_array();
	uint32_t i;

	nvt_uuid_fmt(uuid, bdev_uuid);
	obj = json_pack("{s:b, s:i, s:I, s:s}", "ptpl", r->ptpl, "rtype", r->rtype, "crkey",
			(json_int_t)(r->holder >= 0 ? r->regs[r->holder].rkey : 0), "bdev_uuid",
			uuid);
	if (obj == NULL || regs == NULL) {
		json_decref(obj);
		json_decref(regs);
		return NULL;
	}
	uuid[0] = '\0';
	if (r->holder >= 0) {
		nvt_uuid_fmt(uuid, r->regs[r->holder].hostid);
	}
	json_object_set_new(obj, "holder_uuid", json_string(uuid));
	for (i = 0; r->ptpl && i < r->nregs; i++) {
		nvt_uuid_fmt(uuid, r->regs[i].hostid);
		json_array_append_new(regs,
				      json_pack("{s:I, s:s}", "rkey", (json_int_t)r->regs[i].rkey,
						"host_uuid", uuid));
	}
	json_object_set_new(obj, "registrants", regs);
	return obj;
}

static int
fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (copy == NULL) {
		return -ENOMEM;
	}
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	if (fd < 0 || fsync(fd) != 0) {
		rc = -errno;
	}
	if (fd >= 0) {
		close(fd);
	}
	free(copy);
	return rc;
}

static int
write_all_fsync(int fd, const char *text)
{
	size_t len = strlen(text), off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		off += (size_t)n;
	}
	return fsync(fd) == 0 ? 0 : -errno;
}

int
nvmf_resv_ptpl_save(const struct nvmf_resv *r, const uint8_t bdev_uuid[16])
{
	json_t *obj = ptpl_to_json(r, bdev_uuid);
	char *text = obj != NULL ? json_dumps(obj, JSON_INDENT(2)) : NULL;
	size_t tmp_len = strlen(r->ptpl_file) + 16;
	char *tmp = malloc(tmp_len);
	int fd = -1, rc;

	json_decref(obj);
	if (text == NULL || tmp == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	snprintf(tmp, tmp_len, "%s.tmpXXXXXX", r->ptpl_file);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		goto out_free;
	}
	rc = write_all_fsync(fd, text);
	close(fd);
	if (rc == 0 && rename(tmp, r->ptpl_file) != 0) {
		rc = -errno;
	}
	if (rc != 0) {
		unlink(tmp);
	} else {
		rc = fsync_dir_of(r->ptpl_file);
	}
out_free:
	free(tmp);
	free(text);
	return rc;
}

/* ---- loading ---- */

static const char *
ptpl_load_regs(struct nvmf_resv *r, const json_t *regs)
{
	const json_t *e, *rkey, *host;
	size_t i;

	if (!json_is_array(regs) || json_array_size(regs) > NVMF_RESV_MAX_REGS) {
		return "\"registrants\" is not an array of at most 32 entries";
	}
	json_array_foreach(regs, i, e)
	{
		rkey = json_object_get(e, "rkey");
		host = json_object_get(e, "host_uuid");
		if (!json_is_integer(rkey) || !json_is_string(host) ||
		    nvt_uuid_parse(json_string_value(host), r->regs[i].hostid) != 0) {
			return "a registrant lacks an integer \"rkey\" or a UUID \"host_uuid\"";
		}
		r->regs[i].rkey = (uint64_t)json_integer_value(rkey);
		r->nregs++;
	}
	return NULL;
}

static const char *
ptpl_load_holder(struct nvmf_resv *r, const json_t *holder)
{
	uint8_t id[16];
	uint32_t i;

	if (r->rtype == NVT_NVME_RESV_NONE || r->rtype >= NVT_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS) {
		/* No one holder to name: none, or every registrant. */
		return r->rtype != NVT_NVME_RESV_NONE && r->nregs == 0
			       ? "an all-registrants reservation without registrants"
			       : NULL;
	}
	if (!json_is_string(holder) || nvt_uuid_parse(json_string_value(holder), id) != 0) {
		return "\"holder_uuid\" is not a UUID";
	}
	for (i = 0; i < r->nregs; i++) {
		if (memcmp(r->regs[i].hostid, id, 16) == 0) {
			r->holder = (int)i;
			return NULL;
		}
	}
	return "the holder is not among the registrants";
}

static const char *
ptpl_from_json(struct nvmf_resv *r, const json_t *doc, const uint8_t bdev_uuid[16])
{
	const json_t *ptpl = json_object_get(doc, "ptpl");
	const json_t *rtype = json_object_get(doc, "rtype");
	const json_t *bdev = json_object_get(doc, "bdev_uuid");
	uint8_t id[16];
	const char *why;

	if (!json_is_object(doc) || !json_is_boolean(ptpl)) {
		return "not an object with a boolean \"ptpl\"";
	}
	if (!json_is_true(ptpl)) {
		/* Persistence was turned off: nothing was kept. */
		return NULL;
	}
	if (!json_is_integer(rtype) || json_integer_value(rtype) < 0 ||
	    json_integer_value(rtype) > NVT_NVME_RESV_EXCLUSIVE_ACCESS_ALL_REGS) {
		return "\"rtype\" is not a reservation type (0..6)";
	}
	if (!json_is_string(bdev) || nvt_uuid_parse(json_string_value(bdev), id) != 0) {
		return "\"bdev_uuid\" is not a UUID";
	}
	if (memcmp(id, bdev_uuid, 16) != 0) {
		return "it was written for another bdev (\"bdev_uuid\" differs)";
	}
	r->ptpl = true;
	r->rtype = (uint8_t)json_integer_value(rtype);
	why = ptpl_load_regs(r, json_object_get(doc, "registrants"));
	return why != NULL ? why : ptpl_load_holder(r, json_object_get(doc, "holder_uuid"));
}

int
nvmf_resv_ptpl_load(struct nvmf_resv *r, const uint8_t bdev_uuid[16])
{
	json_error_t err;
	json_t *doc;
	const char *why;
	FILE *f = fopen(r->ptpl_file, "r");

	if (f == NULL) {
		return errno == ENOENT ? 0 : -errno;
	}
	doc = json_loadf(f, 0, &err);
	fclose(f);
	if (doc == NULL) {
		NVT_ERRLOG("reservation file %s: not JSON (line %d: %s)\n", r->ptpl_file, err.line,
			   err.text);
		return -EBADMSG;
	}
	why = ptpl_from_json(r, doc, bdev_uuid);
	json_decref(doc);
	if (why != NULL) {
		NVT_ERRLOG("reservation file %s: %s\n", r->ptpl_file, why);
		return -EBADMSG;
	}
	return 0;
}
