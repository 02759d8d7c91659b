/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvtcpd's default configuration, built as the JSON document -c would take,
 * so that it goes through the same methods (and save_config writes it back).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvtcp/string.h"
#include "default_config.h"

int
nvtcpd_disk_parse(char *arg, struct nvtcpd_disk *disk)
{
	char *comma = strchr(arg, ',');

	disk->path = arg;
	disk->size = 0;
	if (comma == NULL) {
		return arg[0] != '\0' ? 0 : -EINVAL;
	}
	*comma = '\0';
	if (arg[0] == '\0' || nvt_parse_capacity(comma + 1, &disk->size) != 0 || disk->size == 0) {
		fprintf(stderr, "nvtcpd: --disk %s,%s: expected PATH[,SIZE] (SIZE as 64M, 1G...)\n",
			arg, comma + 1);
		return -EINVAL;
	}
	return 0;
}

int
nvtcpd_disk_prepare(const struct nvtcpd_disk *disk)
{
	struct stat st;
	int fd;

	if (stat(disk->path, &st) == 0) {
		if (disk->size != 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size != disk->size) {
			printf("nvtcpd: --disk %s: the file exists (%llu bytes): served as it is\n",
			       disk->path, (unsigned long long)st.st_size);
		}
		return 0;
	}
	if (errno != ENOENT || disk->size == 0) {
		fprintf(stderr, "nvtcpd: --disk %s: %s%s\n", disk->path, strerror(errno),
			errno == ENOENT ? " (give a size to create it: --disk PATH,SIZE)" : "");
		return -errno;
	}
	fd = open(disk->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)disk->size) != 0) {
		fprintf(stderr, "nvtcpd: --disk %s: cannot create it: %s\n", disk->path,
			strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(disk->path);
		}
		return -EIO;
	}
	close(fd);
	printf("nvtcpd: --disk %s: created, %llu bytes\n", disk->path,
	       (unsigned long long)disk->size);
	return 0;
}

static json_t *
method(const char *name, json_t *params)
{
	return json_pack("{s:s, s:o}", "method", name, "params", params);
}

/* The bdevs, and the namespaces that serve them, in order. */
static void
add_backing(json_t *bdevs, json_t *nvmf, const struct nvtcpd_disk *disks, size_t n)
{
	char name[32];
	size_t i;

	if (n == 0) {
		json_array_append_new(bdevs,
				      method("bdev_malloc_create",
					     json_pack("{s:s, s:i, s:i}", "name", "Malloc0",
						       "num_blocks", 2097152, "block_size", 512)));
		json_array_append_new(nvmf,
				      method("nvmf_subsystem_add_ns",
					     json_pack("{s:s, s:{s:s}}", "nqn", NVTCPD_DEFAULT_NQN,
						       "namespace", "bdev_name", "Malloc0")));
		return;
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "Disk%zu", i);
		json_array_append_new(
			bdevs, method("bdev_uring_create", json_pack("{s:s, s:s}", "name", name,
								     "filename", disks[i].path)));
		json_array_append_new(nvmf,
				      method("nvmf_subsystem_add_ns",
					     json_pack("{s:s, s:{s:s}}", "nqn", NVTCPD_DEFAULT_NQN,
						       "namespace", "bdev_name", name)));
	}
}

json_t *
nvtcpd_default_config(const struct nvtcpd_disk *disks, size_t n)
{
	json_t *bdevs = json_array(), *nvmf = json_array();

	json_array_append_new(nvmf,
			      method("nvmf_create_transport", json_pack("{s:s}", "trtype", "TCP")));
	json_array_append_new(
		nvmf, method("nvmf_create_subsystem",
			     json_pack("{s:s, s:s, s:s, s:b}", "nqn", NVTCPD_DEFAULT_NQN,
				       "serial_number", "NVTCP0000000000001", "model_number",
				       "nvtcp Controller", "allow_any_host", 1)));
	add_backing(bdevs, nvmf, disks, n);
	json_array_append_new(
		nvmf, method("nvmf_subsystem_add_listener",
			     json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "nqn", NVTCPD_DEFAULT_NQN,
				       "listen_address", "trtype", "TCP", "adrfam", "IPv4",
				       "traddr", "127.0.0.1", "trsvcid", "4420")));
	return json_pack("{s:[{s:s, s:o}, {s:s, s:o}]}", "subsystems", "subsystem", "bdev",
			 "config", bdevs, "subsystem", "nvmf", "config", nvmf);
}
