/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reservation of a namespace persisted through power loss, in SPDK's
 * file format, so a file moves between the two targets:
 *
 *   { "ptpl": true, "rtype": 1, "crkey": 17, "bdev_uuid": "...",
 *     "holder_uuid": "...", "registrants": [ { "rkey": 17, "host_uuid": "..." } ] }
 *
 * Keys are unsigned 64-bit JSON integers, as SPDK writes them. jansson reads
 * only signed ones, so before parsing, integers above INT64_MAX are quoted
 * (ptpl_quote_big()) and keys are read from either form; a negative key
 * (two's complement, as older files of this target held) is read too.
 *
 * Writes replace the file atomically: a temporary file in the same folder,
 * fsync, rename over the old one, fsync of the folder. Any thread: the
 * caller owns the state it passes, and nobody changes it meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "nvtcp/log.h"
#include "nvtcp/uuid.h"

#include "resv.h"

/*
 * The document as text. Written by hand rather than through jansson, whose
 * integers are signed: keys are unsigned 64-bit numbers, as SPDK writes them
 * (spdk_json_write_named_uint64). UUID strings need no escaping.
 */
static char *
ptpl_to_text(const struct nvmf_resv *r, const uint8_t bdev_uuid[16])
{
	char uuid[NVT_UUID_STRING_LEN], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	uint32_t i;

	if (f == NULL) {
		return NULL;
	}
	nvt_uuid_fmt(uuid, bdev_uuid);
	fprintf(f, "{\n  \"ptpl\": %s,\n  \"rtype\": %u,\n  \"crkey\": %llu,\n",
		r->ptpl ? "true" : "false", r->rtype,
		(unsigned long long)(r->holder >= 0 ? r->regs[r->holder].rkey : 0));
	fprintf(f, "  \"bdev_uuid\": \"%s\",\n", uuid);
	uuid[0] = '\0';
	if (r->holder >= 0) {
		nvt_uuid_fmt(uuid, r->regs[r->holder].hostid);
	}
	fprintf(f, "  \"holder_uuid\": \"%s\",\n  \"registrants\": [", uuid);
	for (i = 0; r->ptpl && i < r->nregs; i++) {
		nvt_uuid_fmt(uuid, r->regs[i].hostid);
		fprintf(f, "%s\n    { \"rkey\": %llu, \"host_uuid\": \"%s\" }", i > 0 ? "," : "",
			(unsigned long long)r->regs[i].rkey, uuid);
	}
	fprintf(f, "%s]\n}\n", r->ptpl && r->nregs > 0 ? "\n  " : "");
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
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
	char *text = ptpl_to_text(r, bdev_uuid);
	size_t tmp_len = strlen(r->ptpl_file) + 16;
	char *tmp = malloc(tmp_len);
	int fd = -1, rc;

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

/* A key: an integer (negative: two's complement) or a quoted big one. */
static bool
ptpl_key(const json_t *v, uint64_t *key)
{
	const char *str;
	char *end;

	if (json_is_integer(v)) {
		*key = (uint64_t)json_integer_value(v);
		return true;
	}
	if (!json_is_string(v)) {
		return false;
	}
	str = json_string_value(v);
	if (str[0] < '0' || str[0] > '9') {
		return false;
	}
	errno = 0;
	*key = strtoull(str, &end, 10);
	return errno == 0 && *end == '\0';
}

/* Whether the digits \p p (\p n of them) exceed INT64_MAX. */
static bool
ptpl_digits_big(const char *p, size_t n)
{
	static const char max[] = "9223372036854775807";

	return n > sizeof(max) - 1 || (n == sizeof(max) - 1 && memcmp(p, max, n) > 0);
}

/*
 * \p text with every non-negative integer above INT64_MAX (outside strings)
 * in quotes, so jansson parses it; NULL without memory.
 */
static char *
ptpl_quote_big(const char *text)
{
	size_t len = strlen(text), i = 0, n, o = 0;
	char *out = malloc(len * 2 + 1);
	bool in_str = false;

	if (out == NULL) {
		return NULL;
	}
	while (i < len) {
		if (in_str) {
			if (text[i] == '\\' && i + 1 < len) {
				out[o++] = text[i++];
			} else if (text[i] == '"') {
				in_str = false;
			}
			out[o++] = text[i++];
			continue;
		}
		if (text[i] == '"') {
			in_str = true;
		}
		if (text[i] < '0' || text[i] > '9' ||
		    (i > 0 && (text[i - 1] == '-' || text[i - 1] == '.'))) {
			out[o++] = text[i++];
			continue;
		}
		for (n = 0; i + n < len && text[i + n] >= '0' && text[i + n] <= '9'; n++) {
		}
		if (ptpl_digits_big(text + i, n)) {
			out[o++] = '"';
			memcpy(out + o, text + i, n);
			o += n;
			out[o++] = '"';
		} else {
			memcpy(out + o, text + i, n);
			o += n;
		}
		i += n;
	}
	out[o] = '\0';
	return out;
}

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
		if (!ptpl_key(rkey, &r->regs[i].rkey) || !json_is_string(host) ||
		    nvt_uuid_parse(json_string_value(host), r->regs[i].hostid) != 0) {
			return "a registrant lacks an integer \"rkey\" or a UUID \"host_uuid\"";
		}
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

/* The whole of \p f as a string; NULL without memory or on a read error. */
static char *
ptpl_read_all(FILE *f)
{
	char *text = NULL, buf[4096];
	size_t len = 0, n;
	FILE *m = open_memstream(&text, &len);
	bool bad;

	if (m == NULL) {
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		fwrite(buf, 1, n, m);
	}
	bad = ferror(f) || ferror(m);
	/* The buffer and its length are valid once the stream is closed. */
	if (fclose(m) != 0 || bad || text == NULL || memchr(text, '\0', len) != NULL) {
		free(text);
		return NULL;
	}
	return text;
}

int
nvmf_resv_ptpl_load(struct nvmf_resv *r, const uint8_t bdev_uuid[16])
{
	json_error_t err;
	json_t *doc;
	const char *why;
	char *raw, *text;
	FILE *f = fopen(r->ptpl_file, "r");

	if (f == NULL) {
		return errno == ENOENT ? 0 : -errno;
	}
	raw = ptpl_read_all(f);
	fclose(f);
	text = raw != NULL ? ptpl_quote_big(raw) : NULL;
	free(raw);
	if (text == NULL) {
		NVT_ERRLOG("reservation file %s: cannot be read\n", r->ptpl_file);
		return -EIO;
	}
	doc = json_loads(text, 0, &err);
	free(text);
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
