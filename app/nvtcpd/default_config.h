/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvtcpd's embedded default configuration, and the --disk files that take
 * the RAM disk's place in it.
 */
#ifndef NVTCPD_DEFAULT_CONFIG_H
#define NVTCPD_DEFAULT_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define NVTCPD_DEFAULT_NQN "nqn.2016-06.io.nvtcp:cnode1"
#define NVTCPD_MAX_DISKS   32

/* One --disk PATH[,SIZE]: a file or block device; SIZE for a file to create. */
struct nvtcpd_disk {
	const char *path; /* points into the argument */
	uint64_t size;	  /* bytes; 0: not given */
};

/*
 * Parse "PATH[,SIZE]" (SIZE as 4096, 64M, 1G, 1TiB ...) into \p disk; the
 * path stays in \p arg, which is cut at the comma. 0 or -EINVAL (printed).
 */
int nvtcpd_disk_parse(char *arg, struct nvtcpd_disk *disk);

/*
 * Make the backing of \p disk exist: a missing file is created with SIZE
 * bytes (sparse); a missing file without SIZE, or one that cannot be
 * created, is an error (printed). Before the app starts: it may block.
 */
int nvtcpd_disk_prepare(const struct nvtcpd_disk *disk);

/*
 * The default configuration: a TCP transport and subsystem
 * NVTCPD_DEFAULT_NQN (any host) on 127.0.0.1:4420, with the \p n disks as
 * namespaces 1..n (bdevs Disk0, Disk1, ... through io_uring), or a 1 GiB RAM
 * disk when there is none. NULL when out of memory.
 */
json_t *nvtcpd_default_config(const struct nvtcpd_disk *disks, size_t n);

#endif /* NVTCPD_DEFAULT_CONFIG_H */
