/* ring.h — a byte stream between two threads of one process: what a pipe
 * is between two processes, without the kernel's copy in and copy out. The
 * writer copies bytes in (ck_ring_put, a ck_put_fn); the reader uses them
 * where they lie: any n bytes up to the ring's size come as one contiguous
 * block, because the buffer is mapped twice, back to back. One writer
 * thread, one reader thread. */
#ifndef CK_RING_H
#define CK_RING_H

#include <stddef.h>

typedef struct ck_ring ck_ring;

/* A ring of size bytes (a multiple of the page size). */
ck_ring *ck_ring_new(size_t size);
void ck_ring_free(ck_ring *r);

/* Writer: append n bytes, waiting for room; -1 once the reader has given
 * up (ck_ring_cancel). */
int ck_ring_put(void *ring, const void *buf, size_t n);
/* Writer: the stream is complete, or (error not NULL) failed for that
 * reason, which the reader's next wait reports. */
void ck_ring_close(ck_ring *r, const char *error);

/* Reader: the next n bytes (n <= size), contiguous, waiting for them; NULL
 * if the stream failed or ended before (ck_fail says which, naming label). */
const void *ck_ring_peek(ck_ring *r, size_t n, const char *label);
/* Reader: done with the next n bytes (at most the last peek's). */
void ck_ring_skip(ck_ring *r, size_t n);
/* Reader: copy the next n bytes out (any n); -1 as for ck_ring_peek. */
int ck_ring_read(ck_ring *r, void *buf, size_t n, const char *label);
/* Reader: wait for the end of the stream: 0 if it ended with no byte left
 * over, -1 otherwise (ck_fail says why). */
int ck_ring_end(ck_ring *r, const char *label);
/* Reader: stop; the writer's puts fail from now on. */
void ck_ring_cancel(ck_ring *r);

#endif
