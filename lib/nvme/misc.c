/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host identity (hostnqn, hostid), default options, status and error descriptions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nvtcp/nvme.h"
#include "nvtcp/string.h"
#include "nvtcp/uuid.h"

static int
read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		return -errno;
	}
	if (fgets(buf, (int)len, f) == NULL) {
		fclose(f);
		return -ENODATA;
	}
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return n > 0 ? 0 : -ENODATA;
}

/* /etc/nvme/hostid when it holds a UUID, else a random one. */
static void
host_id(uint8_t id[16])
{
	/* 0x5a bytes with the version 4 and variant bits, should getrandom() fail. */
	static const uint8_t fallback[16] = { 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x4a, 0x5a,
					      0x9a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a };
	char line[NVT_NVMF_NQN_FIELD_SIZE];

	if (read_line("/etc/nvme/hostid", line, sizeof(line)) == 0 &&
	    nvt_uuid_parse(line, id) == 0) {
		return;
	}
	if (nvt_uuid_generate(id) != 0) {
		memcpy(id, fallback, sizeof(fallback));
	}
}

static void
host_identity(struct nvt_nvme_ctrlr_opts *opts)
{
	char line[NVT_NVMF_NQN_FIELD_SIZE];
	char uuid[NVT_UUID_STRING_LEN];

	host_id(opts->hostid);
	if (read_line("/etc/nvme/hostnqn", line, sizeof(line)) == 0) {
		nvt_strcpy_trunc(opts->hostnqn, sizeof(opts->hostnqn), line);
		return;
	}
	nvt_uuid_fmt(uuid, opts->hostid);
	snprintf(opts->hostnqn, sizeof(opts->hostnqn), "%s%s", NVT_NVMF_NQN_UUID_PREFIX, uuid);
}

void
nvt_nvme_ctrlr_get_default_opts(struct nvt_nvme_ctrlr_opts *opts, size_t opts_size)
{
	struct nvt_nvme_ctrlr_opts d = {
		.opts_size = opts_size,
		.admin_queue_size = NVT_NVMF_MIN_ADMIN_QUEUE_ENTRIES,
		.kato_ms = 10000,
		.num_io_queues = 64,
		.connect_timeout_ms = 10000,
		.dhchap_digests = NVT_NVME_DHCHAP_DIGESTS_ALL,
		.dhchap_dhgroups = NVT_NVME_DHCHAP_DHGROUPS_ALL,
	};

	host_identity(&d);
	memset(opts, 0, opts_size);
	memcpy(opts, &d, opts_size < sizeof(d) ? opts_size : sizeof(d));
}

static const char *
generic_sc_str(uint8_t sc)
{
	switch (sc) {
	case NVT_NVME_SC_SUCCESS:
		return "Success";
	case NVT_NVME_SC_INVALID_OPCODE:
		return "Invalid Command Opcode";
	case NVT_NVME_SC_INVALID_FIELD:
		return "Invalid Field in Command";
	case NVT_NVME_SC_CID_CONFLICT:
		return "Command ID Conflict";
	case NVT_NVME_SC_DATA_TRANSFER_ERROR:
		return "Data Transfer Error";
	case NVT_NVME_SC_INTERNAL_ERROR:
		return "Internal Error";
	case NVT_NVME_SC_ABORTED_BY_REQUEST:
		return "Command Abort Requested";
	case NVT_NVME_SC_ABORTED_SQ_DELETION:
		return "Aborted due to SQ Deletion";
	case NVT_NVME_SC_INVALID_NAMESPACE:
		return "Invalid Namespace or Format";
	case NVT_NVME_SC_COMMAND_SEQUENCE_ERROR:
		return "Command Sequence Error";
	case NVT_NVME_SC_DATA_SGL_LENGTH_INVALID:
		return "Data SGL Length Invalid";
	case NVT_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID:
		return "SGL Descriptor Type Invalid";
	case NVT_NVME_SC_INVALID_SGL_OFFSET:
		return "Invalid SGL Offset";
	case NVT_NVME_SC_KEEP_ALIVE_EXPIRED:
		return "Keep Alive Timer Expired";
	case NVT_NVME_SC_KEEP_ALIVE_INVALID:
		return "Keep Alive Timeout Invalid";
	case NVT_NVME_SC_TRANSIENT_TRANSPORT_ERROR:
		return "Transient Transport Error";
	case NVT_NVME_SC_LBA_OUT_OF_RANGE:
		return "LBA Out of Range";
	case NVT_NVME_SC_CAPACITY_EXCEEDED:
		return "Capacity Exceeded";
	case NVT_NVME_SC_NAMESPACE_NOT_READY:
		return "Namespace Not Ready";
	default:
		return "unknown generic status";
	}
}

static const char *
cmd_specific_sc_str(uint8_t sc)
{
	switch (sc) {
	case NVT_NVME_SC_INVALID_QUEUE_IDENTIFIER:
		return "Invalid Queue Identifier";
	case NVT_NVME_SC_INVALID_QUEUE_SIZE:
		return "Invalid Queue Size";
	case NVT_NVME_SC_INVALID_LOG_PAGE:
		return "Invalid Log Page";
	case NVT_NVMF_SC_INCOMPATIBLE_FORMAT:
		return "Connect Incompatible Format";
	case NVT_NVMF_SC_CONTROLLER_BUSY:
		return "Connect Controller Busy";
	case NVT_NVMF_SC_CONNECT_INVALID_PARAMETERS:
		return "Connect Invalid Parameters (unknown subsystem, or a bad field)";
	case NVT_NVMF_SC_CONNECT_RESTART_DISCOVERY:
		return "Connect Restart Discovery";
	case NVT_NVMF_SC_CONNECT_INVALID_HOST:
		return "Connect Invalid Host (host not allowed)";
	case NVT_NVMF_SC_INVALID_QUEUE_TYPE:
		return "Invalid Queue Type";
	case NVT_NVMF_SC_DISCOVER_RESTART:
		return "Discover Restart";
	case NVT_NVMF_SC_AUTH_REQUIRED:
		return "Authentication Required";
	default:
		return "unknown command specific status";
	}
}

static const char *
sc_str(uint8_t sct, uint8_t sc)
{
	switch (sct) {
	case NVT_NVME_SCT_GENERIC:
		return generic_sc_str(sc);
	case NVT_NVME_SCT_COMMAND_SPECIFIC:
		return cmd_specific_sc_str(sc);
	case NVT_NVME_SCT_MEDIA_ERROR:
		return "media or data integrity error";
	case NVT_NVME_SCT_PATH:
		return sc == NVT_NVME_SC_HOST_PATH_ERROR ? "Host Path Error (transport failed)"
							 : "path related status";
	default:
		return "vendor specific status";
	}
}

const char *
nvt_nvme_status_fmt(uint16_t status, char *buf, size_t len)
{
	uint8_t sct = nvt_nvme_status_sct(status), sc = nvt_nvme_status_sc(status);

	snprintf(buf, len, "SCT %xh SC %02xh (%s)%s", sct, sc, sc_str(sct, sc),
		 nvt_nvme_status_dnr(status) ? " DNR" : "");
	return buf;
}

const char *
nvt_nvme_strerror(int rc)
{
	switch (rc) {
	case -ENOKEY:
		return "the controller requires DH-HMAC-CHAP authentication and no host key was given";
	case -EACCES:
		return "DH-HMAC-CHAP authentication failed: the controller refused the host";
	case -EKEYREJECTED:
		return "controller authentication failed: its DH-HMAC-CHAP response does not match "
		       "the controller key";
	default:
		return nvt_strerror(rc);
	}
}
