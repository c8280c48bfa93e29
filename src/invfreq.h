/* invfreq.h — the inverse frequencies of a sinusoidal position embedding,
 * 1 / base ** (arange(0, d, 2) / d) in float32, bit for bit as torch 2.x
 * computes them on an x86-64 CPU whose ATen kernels are the AVX2 ones
 * (torch.backends.cpu.get_cpu_capability() == "AVX2"): the pow kernel runs
 * sleef's 1-ULP powf on whole blocks of 16 elements and the C library's
 * powf on the rest; the division and the reciprocal are IEEE operations. */
#ifndef CK_INVFREQ_H
#define CK_INVFREQ_H

#include <stddef.h>

#define INVFREQ_MAX_DIM 65536 /* torch splits longer loops across threads */

/* Number of elements for dimension d: ceil(d / 2). */
size_t invfreq_count(long d);
/* out[0 .. invfreq_count(d)-1]; base > 0 and finite, 1 <= d <= INVFREQ_MAX_DIM. */
void invfreq_fill(float *out, float base, long d);

#endif
