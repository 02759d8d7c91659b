/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bound on an exit that a stalled cluster holds up. An orderly shutdown
 * waits for every outstanding I/O (namespaces are torn down once their
 * commands completed) and then closes every image and connection; librbd
 * keeps I/O to an unreachable cluster until the cluster answers, which may be
 * never. So when the shutdown begins, a watchdog pthread waits up to
 * RBD_EXIT_BOUND_S for the module's shutdown to end; past that it logs the
 * images it abandons and ends the process with status 1, without closing
 * them (the cluster releases a dead client's watches and locks by itself).
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "nvtcp/log.h"
#include "rbd_internal.h"

#define RBD_EXIT_BOUND_S 30

static sem_t g_exit_sem;
static bool g_watching;
/* What was open when the shutdown began: written before the watchdog starts. */
static char g_open[1024];

static void *
exit_watchdog(void *arg)
{
	struct timespec deadline;
	int rc;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += RBD_EXIT_BOUND_S;
	do {
		rc = sem_timedwait(&g_exit_sem, &deadline);
	} while (rc != 0 && errno == EINTR);
	if (rc == 0) {
		return NULL;
	}
	NVT_ERRLOG("rbd: the cluster has not answered for %d s of shutdown: exiting without "
		   "closing %s (their outstanding I/O is abandoned)\n",
		   RBD_EXIT_BOUND_S, g_open);
	_exit(1);
	return NULL;
}

void
rbd_exit_watchdog_start(void)
{
	pthread_attr_t attr;
	pthread_t tid;

	if (g_watching || !rbd_disks_describe(g_open, sizeof(g_open))) {
		return;
	}
	if (sem_init(&g_exit_sem, 0, 0) != 0) {
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, exit_watchdog, NULL) == 0) {
		g_watching = true;
	} else {
		NVT_ERRLOG("rbd: cannot start the exit watchdog: a stalled cluster may hold "
			   "the exit up\n");
	}
	pthread_attr_destroy(&attr);
}

void
rbd_exit_done(void)
{
	if (g_watching) {
		sem_post(&g_exit_sem);
		g_watching = false;
	}
}
