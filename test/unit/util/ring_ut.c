/* SPDX-License-Identifier: BSD-3-Clause */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "nvtcp/likely.h"
#include "nvtcp/ring.h"

#define STRESS_PRODUCERS 4
#define STRESS_ITEMS	 200000u
#define STRESS_RING_SIZE 64

/* Elements are small integers; 0 is never used so a NULL slot is caught. */
static void *
to_obj(uintptr_t v)
{
	return (void *)v;
}

static uintptr_t
from_obj(void *obj)
{
	return (uintptr_t)obj;
}

static void
test_create_invalid(void **state)
{
	(void)state;
	assert_null(nvt_ring_create(NVT_RING_SPSC, 0));
	assert_null(nvt_ring_create(NVT_RING_MPSC, 0));
	assert_null(nvt_ring_create(NVT_RING_MPSC, SIZE_MAX));
	assert_null(nvt_ring_create(NVT_RING_MPMC, 0));
	assert_null(nvt_ring_create(NVT_RING_MPMC, SIZE_MAX));
	assert_null(nvt_ring_create((enum nvt_ring_type)7, 8));
}

static void
test_capacity_rounding(void **state)
{
	static const size_t counts[][2] = { { 1, 2 }, { 2, 2 },	      { 3, 4 },	     { 4, 4 },
					    { 5, 8 }, { 1000, 1024 }, { 1024, 1024 } };
	struct nvt_ring *ring;
	size_t i;
	int t;

	(void)state;
	for (t = NVT_RING_SPSC; t <= NVT_RING_MPMC; t++) {
		for (i = 0; i < NVT_COUNTOF(counts); i++) {
			ring = nvt_ring_create((enum nvt_ring_type)t, counts[i][0]);
			assert_non_null(ring);
			assert_int_equal(nvt_ring_capacity(ring), counts[i][1]);
			assert_int_equal(nvt_ring_count(ring), 0);
			nvt_ring_free(&ring);
			assert_null(ring);
		}
	}
	nvt_ring_free(&ring);
	nvt_ring_free(NULL);
}

/* Fill to capacity one by one, check full, then drain in FIFO order. */
static void
fill_exact(enum nvt_ring_type type)
{
	struct nvt_ring *ring = nvt_ring_create(type, 8);
	void *obj, *extra = to_obj(999);
	uintptr_t i;

	assert_non_null(ring);
	for (i = 1; i <= 8; i++) {
		obj = to_obj(i);
		assert_int_equal(nvt_ring_enqueue(ring, &obj, 1), 1);
		assert_int_equal(nvt_ring_count(ring), i);
	}
	assert_int_equal(nvt_ring_enqueue(ring, &extra, 1), 0);
	assert_int_equal(nvt_ring_count(ring), 8);
	for (i = 1; i <= 8; i++) {
		assert_int_equal(nvt_ring_dequeue(ring, &obj, 1), 1);
		assert_int_equal(from_obj(obj), i);
	}
	assert_int_equal(nvt_ring_dequeue(ring, &obj, 1), 0);
	assert_int_equal(nvt_ring_count(ring), 0);
	nvt_ring_free(&ring);
}

static void
test_fill_exact(void **state)
{
	(void)state;
	fill_exact(NVT_RING_SPSC);
	fill_exact(NVT_RING_MPSC);
	fill_exact(NVT_RING_MPMC);
}

/* A batch larger than the free space goes in as a prefix; the rest stays with the caller. */
static void
partial_batch(enum nvt_ring_type type)
{
	struct nvt_ring *ring = nvt_ring_create(type, 8);
	void *in[12], *out[12];
	uintptr_t i;

	assert_non_null(ring);
	for (i = 0; i < 12; i++) {
		in[i] = to_obj(i + 1);
	}
	assert_int_equal(nvt_ring_enqueue(ring, in, 3), 3);
	assert_int_equal(nvt_ring_enqueue(ring, in + 3, 9), 5);
	assert_int_equal(nvt_ring_enqueue(ring, in + 8, 4), 0);
	assert_int_equal(nvt_ring_count(ring), 8);
	assert_int_equal(nvt_ring_enqueue(ring, in, 0), 0);

	assert_int_equal(nvt_ring_dequeue(ring, out, 5), 5);
	assert_int_equal(nvt_ring_enqueue(ring, in + 8, 4), 4);
	assert_int_equal(nvt_ring_dequeue(ring, out + 5, 12), 7);
	for (i = 0; i < 12; i++) {
		assert_int_equal(from_obj(out[i]), i + 1);
	}
	assert_int_equal(nvt_ring_dequeue(ring, out, 12), 0);
	nvt_ring_free(&ring);
}

static void
test_partial_batch(void **state)
{
	(void)state;
	partial_batch(NVT_RING_SPSC);
	partial_batch(NVT_RING_MPSC);
	partial_batch(NVT_RING_MPMC);
}

/* Odd batch sizes against a small ring so the indices wrap many times at every offset. */
static void
wrap_around(enum nvt_ring_type type)
{
	struct nvt_ring *ring = nvt_ring_create(type, 4);
	uintptr_t next_in = 1, next_out = 1;
	void *buf[5];
	size_t n, i, round;

	assert_non_null(ring);
	for (round = 0; round < 10000; round++) {
		for (i = 0; i < 3; i++) {
			buf[i] = to_obj(next_in + i);
		}
		n = nvt_ring_enqueue(ring, buf, 3);
		next_in += n;
		assert_int_equal(nvt_ring_count(ring), next_in - next_out);
		n = nvt_ring_dequeue(ring, buf, 1 + round % 5);
		for (i = 0; i < n; i++) {
			assert_int_equal(from_obj(buf[i]), next_out++);
		}
	}
	assert_true(next_out > 10000);
	nvt_ring_free(&ring);
}

static void
test_wrap_around(void **state)
{
	(void)state;
	wrap_around(NVT_RING_SPSC);
	wrap_around(NVT_RING_MPSC);
	wrap_around(NVT_RING_MPMC);
}

struct producer {
	struct nvt_ring *ring;
	uintptr_t id;
	size_t batch;
};

/* Element = (producer id << 32) | sequence, sequence from 1. */
static void *
producer_main(void *arg)
{
	struct producer *p = arg;
	void *objs[8];
	uintptr_t seq = 1;
	size_t n, i;

	while (seq <= STRESS_ITEMS) {
		n = NVT_MIN(p->batch, STRESS_ITEMS + 1 - seq);
		for (i = 0; i < n; i++) {
			objs[i] = to_obj((p->id << 32) | (seq + i));
		}
		n = nvt_ring_enqueue(p->ring, objs, n);
		seq += n;
		if (n == 0) {
			sched_yield();
		}
	}
	return NULL;
}

static void
consume(struct nvt_ring *ring, size_t producers)
{
	uintptr_t last[STRESS_PRODUCERS] = { 0 }, v, id;
	size_t total = 0, n, i;
	void *objs[16];

	while (total < producers * STRESS_ITEMS) {
		n = nvt_ring_dequeue(ring, objs, 1 + total % NVT_COUNTOF(objs));
		for (i = 0; i < n; i++) {
			v = from_obj(objs[i]);
			id = v >> 32;
			assert_true(id < producers);
			assert_int_equal(v & 0xffffffffu, last[id] + 1);
			last[id]++;
		}
		total += n;
		if (n == 0) {
			sched_yield();
		}
	}
	for (i = 0; i < producers; i++) {
		assert_int_equal(last[i], STRESS_ITEMS);
	}
	assert_int_equal(nvt_ring_dequeue(ring, objs, 1), 0);
}

static void
stress(enum nvt_ring_type type, size_t producers)
{
	struct nvt_ring *ring = nvt_ring_create(type, STRESS_RING_SIZE);
	struct producer p[STRESS_PRODUCERS];
	pthread_t tid[STRESS_PRODUCERS];
	size_t i;

	assert_non_null(ring);
	for (i = 0; i < producers; i++) {
		p[i] = (struct producer){ .ring = ring, .id = i, .batch = 1 + i * 2 };
		assert_int_equal(pthread_create(&tid[i], NULL, producer_main, &p[i]), 0);
	}
	consume(ring, producers);
	for (i = 0; i < producers; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	}
	nvt_ring_free(&ring);
}

static void
test_mpsc_stress(void **state)
{
	(void)state;
	stress(NVT_RING_MPSC, STRESS_PRODUCERS);
}

static void
test_spsc_stress(void **state)
{
	(void)state;
	stress(NVT_RING_SPSC, 1);
}

struct mpmc_consumer {
	struct nvt_ring *ring;
	_Atomic size_t *taken;
	/* One counter per element of every producer, shared by the consumers. */
	_Atomic unsigned char *hits;
	size_t total;
	/* Per producer: how many of its elements this consumer saw, and the last one. */
	uintptr_t seen[STRESS_PRODUCERS];
	uintptr_t last[STRESS_PRODUCERS];
	bool ok;
};

/*
 * Each consumer checks that the elements of one producer reach it in increasing order and
 * counts every element it takes; the main thread then checks that each arrived exactly once.
 */
static void *
mpmc_consumer_main(void *arg)
{
	struct mpmc_consumer *c = arg;
	uintptr_t v, id, seq;
	void *objs[8];
	size_t n, i;

	c->ok = true;
	while (atomic_load(c->taken) < c->total) {
		n = nvt_ring_dequeue(c->ring, objs, 1 + atomic_load(c->taken) % NVT_COUNTOF(objs));
		for (i = 0; i < n; i++) {
			v = from_obj(objs[i]);
			id = v >> 32;
			seq = v & 0xffffffffu;
			if (id >= STRESS_PRODUCERS || seq <= c->last[id]) {
				c->ok = false;
				continue;
			}
			c->last[id] = seq;
			c->seen[id]++;
			atomic_fetch_add(&c->hits[id * STRESS_ITEMS + seq - 1], 1);
		}
		atomic_fetch_add(c->taken, n);
		if (n == 0) {
			sched_yield();
		}
	}
	return NULL;
}

static void
test_mpmc_stress(void **state)
{
	struct nvt_ring *ring = nvt_ring_create(NVT_RING_MPMC, STRESS_RING_SIZE);
	struct mpmc_consumer c[2] = { 0 };
	struct producer p[2];
	pthread_t ptid[2], ctid[2];
	_Atomic unsigned char *hits = calloc(2 * STRESS_ITEMS, sizeof(*hits));
	_Atomic size_t taken = 0;
	uintptr_t seen;
	size_t i, k;

	(void)state;
	assert_non_null(ring);
	assert_non_null(hits);
	for (i = 0; i < 2; i++) {
		c[i] = (struct mpmc_consumer){
			.ring = ring, .taken = &taken, .hits = hits, .total = 2 * STRESS_ITEMS
		};
		assert_int_equal(pthread_create(&ctid[i], NULL, mpmc_consumer_main, &c[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		p[i] = (struct producer){ .ring = ring, .id = i, .batch = 1 + i * 4 };
		assert_int_equal(pthread_create(&ptid[i], NULL, producer_main, &p[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(ptid[i], NULL), 0);
		assert_int_equal(pthread_join(ctid[i], NULL), 0);
	}
	assert_int_equal(atomic_load(&taken), 2 * STRESS_ITEMS);
	for (k = 0; k < 2; k++) {
		assert_true(c[0].ok && c[1].ok);
		seen = c[0].seen[k] + c[1].seen[k];
		assert_int_equal(seen, STRESS_ITEMS);
	}
	for (i = 0; i < 2 * STRESS_ITEMS; i++) {
		assert_int_equal(atomic_load(&hits[i]), 1);
	}
	free(hits);
	assert_int_equal(nvt_ring_count(ring), 0);
	nvt_ring_free(&ring);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_invalid), cmocka_unit_test(test_capacity_rounding),
		cmocka_unit_test(test_fill_exact),     cmocka_unit_test(test_partial_batch),
		cmocka_unit_test(test_wrap_around),    cmocka_unit_test(test_mpsc_stress),
		cmocka_unit_test(test_spsc_stress),    cmocka_unit_test(test_mpmc_stress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
