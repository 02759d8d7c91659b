/* SPDX-License-Identifier: BSD-3-Clause */
/* Results of nvtcp-perf: text in the layout of spdk_nvme_perf, or JSON. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "nvtcp/string.h"
#include "perf.h"

static const double g_pcts[] = { 50.0, 90.0, 99.0, 99.9 };
static const double g_detail_pcts[] = { 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99 };

struct perf_sum {
	struct perf_hist hist;
	uint64_t ios;
	uint64_t errors;
	uint64_t mismatches;
	uint64_t verified;
};

static void
qctx_name(const struct perf_qctx *q, char *buf, size_t len)
{
	const struct nvt_nvme_trid *t = nvt_nvme_ctrlr_get_trid(q->ctrlr);

	snprintf(buf, len, "TCP %s:%s %s NSID %u qid %u core %u", t->traddr, t->trsvcid, t->subnqn,
		 q->nsid, q->qid, q->worker->core);
}

static void
print_row_text(const char *name, const struct perf_hist *h, uint64_t ios, double secs,
	       uint32_t io_size)
{
	double iops = secs > 0 ? (double)ios / secs : 0;
	size_t i;

	printf("%-72s: %10.2f %10.2f %10.2f %10.2f %10.2f", name, iops,
	       iops * io_size / (1024.0 * 1024.0),
	       h->count ? (double)h->sum_ns / (double)h->count / 1000.0 : 0.0,
	       h->count ? (double)h->min_ns / 1000.0 : 0.0, (double)h->max_ns / 1000.0);
	for (i = 0; i < sizeof(g_pcts) / sizeof(g_pcts[0]); i++) {
		printf(" %10.2f", (double)perf_hist_percentile(h, g_pcts[i]) / 1000.0);
	}
	printf("\n");
}

static void
print_detail(const char *name, const struct perf_hist *h, uint32_t level)
{
	uint64_t lo, hi, cum = 0;
	size_t i;

	printf("Latency summary of %s (us):\n", name);
	for (i = 0; i < sizeof(g_detail_pcts) / sizeof(g_detail_pcts[0]); i++) {
		printf("  %8.2f%% : %12.3f\n", g_detail_pcts[i],
		       (double)perf_hist_percentile(h, g_detail_pcts[i]) / 1000.0);
	}
	if (level < 2) {
		return;
	}
	printf("Latency histogram (us): range, cumulative %%, count\n");
	for (i = 0; i < PERF_HIST_BUCKETS; i++) {
		if (h->buckets[i] == 0) {
			continue;
		}
		cum += h->buckets[i];
		perf_hist_bucket_range((uint32_t)i, &lo, &hi);
		printf("  %10.3f - %10.3f: %8.4f%% (%llu)\n", (double)lo / 1000.0,
		       (double)(hi + 1) / 1000.0, 100.0 * (double)cum / (double)h->count,
		       (unsigned long long)h->buckets[i]);
	}
}

static void
print_json_row(const char *name, const struct perf_hist *h, uint64_t ios, double secs,
	       uint32_t io_size, const struct perf_qctx *q)
{
	double iops = secs > 0 ? (double)ios / secs : 0;

	printf("{\"name\": \"%s\", \"ios\": %llu, \"iops\": %.2f, \"mib_per_s\": %.2f, "
	       "\"avg_us\": %.3f, \"min_us\": %.3f, \"max_us\": %.3f, \"p50_us\": %.3f, "
	       "\"p90_us\": %.3f, \"p99_us\": %.3f, \"p99_9_us\": %.3f",
	       name, (unsigned long long)ios, iops, iops * io_size / (1024.0 * 1024.0),
	       h->count ? (double)h->sum_ns / (double)h->count / 1000.0 : 0.0,
	       h->count ? (double)h->min_ns / 1000.0 : 0.0, (double)h->max_ns / 1000.0,
	       (double)perf_hist_percentile(h, 50) / 1000.0,
	       (double)perf_hist_percentile(h, 90) / 1000.0,
	       (double)perf_hist_percentile(h, 99) / 1000.0,
	       (double)perf_hist_percentile(h, 99.9) / 1000.0);
	if (q != NULL) {
		printf(", \"nsid\": %u, \"core\": %u, \"reads\": %llu, \"writes\": %llu, "
		       "\"errors\": %llu, \"verify_mismatches\": %llu, \"r2ts\": %llu, "
		       "\"icd_writes\": %llu, \"c2h_success\": %llu",
		       q->nsid, q->worker->core, (unsigned long long)q->reads,
		       (unsigned long long)q->writes, (unsigned long long)q->errors,
		       (unsigned long long)q->mismatches, (unsigned long long)q->qstats.r2ts,
		       (unsigned long long)q->qstats.icd_writes,
		       (unsigned long long)q->qstats.c2h_success);
	}
	printf("}");
}

/* CPU time of the whole process (every reactor), microseconds. */
static double
process_cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0) {
		return 0;
	}
	return (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
	       (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

static void
sum_add(struct perf_sum *sum, const struct perf_qctx *q)
{
	perf_hist_merge(&sum->hist, &q->hist);
	sum->ios += q->reads + q->writes;
	sum->errors += q->errors;
	sum->mismatches += q->mismatches;
	sum->verified += q->verified;
}

static void
report_text(const struct perf_opts *opts, struct perf_worker **workers, uint32_t nworkers,
	    double secs, struct perf_sum *sum)
{
	struct perf_qctx *q;
	char name[1024];
	uint32_t i;

	printf("========================================================\n");
	printf("%-72s  %10s %10s %10s %10s %10s %10s %10s %10s %10s\n", "", "", "", "Latency(us)",
	       "", "", "", "", "", "");
	printf("%-72s: %10s %10s %10s %10s %10s %10s %10s %10s %10s\n", "Device Information",
	       "IOPS", "MiB/s", "Average", "min", "max", "p50", "p90", "p99", "p99.9");
	for (i = 0; i < nworkers; i++) {
		TAILQ_FOREACH(q, &workers[i]->qctxs, link) {
			qctx_name(q, name, sizeof(name));
			print_row_text(name, &q->hist, q->reads + q->writes, secs, opts->io_size);
			sum_add(sum, q);
		}
	}
	printf("========================================================\n");
	print_row_text("Total", &sum->hist, sum->ios, secs, opts->io_size);
	if (opts->latency_level > 0) {
		for (i = 0; i < nworkers; i++) {
			TAILQ_FOREACH(q, &workers[i]->qctxs, link) {
				qctx_name(q, name, sizeof(name));
				print_detail(name, &q->hist, opts->latency_level);
			}
		}
	}
	printf("host CPU: %.2f s user+sys in %.2f s, %.2f us per I/O\n", process_cpu_us() / 1e6,
	       secs, sum->ios ? process_cpu_us() / (double)sum->ios : 0.0);
	if (opts->verify) {
		printf("verify: %llu reads checked, %llu mismatched blocks\n",
		       (unsigned long long)sum->verified, (unsigned long long)sum->mismatches);
	}
}

static void
report_json(const struct perf_opts *opts, struct perf_worker **workers, uint32_t nworkers,
	    double secs, struct perf_sum *sum, const char *failure)
{
	struct perf_qctx *q;
	char name[1024];
	uint32_t i;
	bool first = true;

	printf("{\"seconds\": %.3f, \"io_size\": %u, \"queue_depth\": %u, \"queues\": [", secs,
	       opts->io_size, opts->queue_depth);
	for (i = 0; i < nworkers; i++) {
		TAILQ_FOREACH(q, &workers[i]->qctxs, link) {
			qctx_name(q, name, sizeof(name));
			printf("%s\n  ", first ? "" : ",");
			first = false;
			print_json_row(name, &q->hist, q->reads + q->writes, secs, opts->io_size,
				       q);
			sum_add(sum, q);
		}
	}
	printf("],\n \"total\": ");
	print_json_row("Total", &sum->hist, sum->ios, secs, opts->io_size, NULL);
	printf(",\n \"cpu_us_per_io\": %.3f, \"errors\": %llu, \"verify_mismatches\": %llu, "
	       "\"failure\": %s%s%s}\n",
	       sum->ios ? process_cpu_us() / (double)sum->ios : 0.0,
	       (unsigned long long)sum->errors, (unsigned long long)sum->mismatches,
	       failure ? "\"" : "", failure ? failure : "null", failure ? "\"" : "");
}

int
perf_report(const struct perf_opts *opts, struct perf_worker **workers, uint32_t nworkers,
	    double secs, const char *failure)
{
	static struct perf_sum sum;
	char st[128];

	memset(&sum, 0, sizeof(sum));
	perf_hist_init(&sum.hist);
	if (opts->json) {
		report_json(opts, workers, nworkers, secs, &sum, failure);
	} else {
		report_text(opts, workers, nworkers, secs, &sum);
	}
	fflush(stdout);
	if (failure != NULL) {
		fprintf(stderr, "nvtcp-perf: %s\n", failure);
	}
	if (sum.errors > 0) {
		uint16_t status = 0;
		uint32_t i;
		struct perf_qctx *q;

		for (i = 0; i < nworkers && status == 0; i++) {
			TAILQ_FOREACH(q, &workers[i]->qctxs, link) {
				if (q->errors > 0) {
					status = q->first_error_status;
					break;
				}
			}
		}
		fprintf(stderr, "nvtcp-perf: %llu I/O errors (first: %s)\n",
			(unsigned long long)sum.errors,
			nvt_nvme_status_fmt(status, st, sizeof(st)));
	}
	if (sum.mismatches > 0) {
		fprintf(stderr, "nvtcp-perf: verify FAILED: %llu mismatched blocks\n",
			(unsigned long long)sum.mismatches);
	}
	return failure != NULL || sum.errors > 0 || sum.mismatches > 0 ? 1 : 0;
}
