/* ring.c — see ring.h. The writer fills [head, head + room) and the reader
 * drains [tail, head); each side touches only its own part, so the copies
 * run outside the lock, which guards the two counters and the states. */
#include "ring.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

struct ck_ring {
	unsigned char *base; /* size bytes, mapped again right after */
	size_t size;
	pthread_mutex_t mu;
	pthread_cond_t moved; /* head or tail moved, or a state changed */
	uint64_t head, tail;  /* bytes put and skipped since the start */
	int closed, cancelled;
	char error[1024];     /* the writer's failure; empty when none */
};

ck_ring *ck_ring_new(size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	if (size == 0 || page <= 0 || size % (size_t)page || size > SIZE_MAX / 2) {
		ck_fail("ring: bad size %zu", size);
		return NULL;
	}
	ck_ring *r = ck_calloc(1, sizeof *r);
	if (!r)
		return NULL;
	int fd = memfd_create("ckptconv-ring", MFD_CLOEXEC);
	void *all = MAP_FAILED;
	if (fd >= 0 && ftruncate(fd, (off_t)size) == 0)
		all = mmap(NULL, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (all != MAP_FAILED &&
	    (mmap(all, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED ||
	     mmap((char *)all + size, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
		     MAP_FAILED)) {
		munmap(all, 2 * size);
		all = MAP_FAILED;
	}
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (all == MAP_FAILED) {
		free(r);
		ck_fail("ring: cannot map %zu bytes twice: %s", size, strerror(err));
		return NULL;
	}
	r->base = all;
	r->size = size;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->moved, NULL);
	return r;
}

void ck_ring_free(ck_ring *r)
{
	if (!r)
		return;
	munmap(r->base, 2 * r->size);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->moved);
	free(r);
}

int ck_ring_put(void *ring, const void *buf, size_t n)
{
	ck_ring *r = ring;
	const unsigned char *p = buf;
	while (n) {
		pthread_mutex_lock(&r->mu);
		while (!r->cancelled && r->head - r->tail == r->size)
			pthread_cond_wait(&r->moved, &r->mu);
		int cancelled = r->cancelled;
		size_t room = r->size - (size_t)(r->head - r->tail);
		uint64_t head = r->head;
		pthread_mutex_unlock(&r->mu);
		if (cancelled)
			return ck_fail("the reader of the stream stopped");
		size_t k = n < room ? n : room;
		memcpy(r->base + head % r->size, p, k); /* may run on into the second mapping */
		pthread_mutex_lock(&r->mu);
		r->head += k;
		pthread_cond_signal(&r->moved);
		pthread_mutex_unlock(&r->mu);
		p += k;
		n -= k;
	}
	return 0;
}

void ck_ring_close(ck_ring *r, const char *error)
{
	pthread_mutex_lock(&r->mu);
	r->closed = 1;
	if (error)
		snprintf(r->error, sizeof r->error, "%s", error[0] ? error : "the writer failed");
	pthread_cond_signal(&r->moved);
	pthread_mutex_unlock(&r->mu);
}

void ck_ring_cancel(ck_ring *r)
{
	pthread_mutex_lock(&r->mu);
	r->cancelled = 1;
	pthread_cond_signal(&r->moved);
	pthread_mutex_unlock(&r->mu);
}

/* Wait until n bytes are there or the stream has ended; the error of a
 * failed or short stream is reported as the writer's own message. */
const void *ck_ring_peek(ck_ring *r, size_t n, const char *label)
{
	if (n > r->size) {
		ck_fail("%s: ring: %zu bytes asked at once, more than its %zu", label, n, r->size);
		return NULL;
	}
	pthread_mutex_lock(&r->mu);
	while (!r->closed && r->head - r->tail < n)
		pthread_cond_wait(&r->moved, &r->mu);
	int ok = r->head - r->tail >= n && !r->error[0];
	uint64_t tail = r->tail;
	pthread_mutex_unlock(&r->mu);
	if (!ok) {
		/* a closed ring is no longer written: its error is stable */
		if (r->error[0])
			ck_fail("%s", r->error);
		else
			ck_fail("%s: stream ends before its data is complete", label);
		return NULL;
	}
	return r->base + tail % r->size;
}

void ck_ring_skip(ck_ring *r, size_t n)
{
	pthread_mutex_lock(&r->mu);
	r->tail += n;
	pthread_cond_signal(&r->moved);
	pthread_mutex_unlock(&r->mu);
}

int ck_ring_read(ck_ring *r, void *buf, size_t n, const char *label)
{
	unsigned char *p = buf;
	while (n) {
		size_t k = n < r->size ? n : r->size;
		const void *in = ck_ring_peek(r, k, label);
		if (!in)
			return -1;
		memcpy(p, in, k);
		ck_ring_skip(r, k);
		p += k;
		n -= k;
	}
	return 0;
}

int ck_ring_end(ck_ring *r, const char *label)
{
	pthread_mutex_lock(&r->mu);
	while (!r->closed)
		pthread_cond_wait(&r->moved, &r->mu);
	int extra = r->head != r->tail;
	pthread_mutex_unlock(&r->mu);
	if (r->error[0])
		return ck_fail("%s", r->error);
	return extra ? ck_fail("%s: trailing bytes after the last tensor", label) : 0;
}
