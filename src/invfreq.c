/* invfreq.c — see invfreq.h.
 *
 * The vector part is a scalar rendering of the algorithm of sleef's powf
 * (u10, the FMA variant AVX2 builds use): log|x| in double-float
 * arithmetic, times y, then exp of the double-float product. Every step is
 * a float operation or fmaf, so the result does not depend on how this
 * file is compiled (C11 mode: no contraction of a * b + c into an FMA). */
#include "invfreq.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define TORCH_POW_BLOCK 16 /* two 8-float AVX2 vectors per step of the loop */

typedef struct {
	float x, y; /* value x + y, |y| <= ulp(x) / 2 */
} df;

static float bits_f(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}
static uint32_t f_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

/* exact sums and products of floats as double-floats */
static df two_sum(float a, float b)
{
	float s = a + b, v = s - a;
	return (df){s, (a - (s - v)) + (b - v)};
}
static df add_df_f(df a, float b)
{
	float s = a.x + b, v = s - a.x;
	return (df){s, ((a.x - (s - v)) + (b - v)) + a.y};
}
static df add_df_df(df a, df b)
{
	float s = a.x + b.x, v = s - a.x;
	return (df){s, ((a.x - (s - v)) + (b.x - v)) + (a.y + b.y)};
}
static df add_f_df_fast(float a, df b) /* |a| >= |b| */
{
	float s = a + b.x;
	return (df){s, ((a - s) + b.x) + b.y};
}
static df add_df_df_fast(df a, df b) /* |a| >= |b| */
{
	float s = a.x + b.x;
	return (df){s, (((a.x - s) + b.x) + a.y) + b.y};
}
static df mul_df_f(df a, float b)
{
	float s = a.x * b;
	return (df){s, fmaf(a.y, b, fmaf(a.x, b, -s))};
}
static df mul_df_df(df a, df b)
{
	float s = a.x * b.x;
	return (df){s, fmaf(a.x, b.y, fmaf(a.y, b.x, fmaf(a.x, b.x, -s)))};
}
static df sq_df(df a)
{
	float s = a.x * a.x;
	return (df){s, fmaf(a.x + a.x, a.y, fmaf(a.x, a.x, -s))};
}
static df div_df(df n, df d)
{
	float t = 1.0f / d.x, s = n.x * t;
	float u = fmaf(t, n.x, -s);
	float v = fmaf(-d.y, t, fmaf(-d.x, t, 1.0f));
	return (df){s, fmaf(s, v, fmaf(n.y, t, u))};
}
static df normalize(df a)
{
	float s = a.x + a.y;
	return (df){s, (a.x - s) + a.y};
}

/* x * 2^q for the exponents the exp below makes, as sleef scales */
static float ldexp_k(float x, int32_t q)
{
	int32_t m = q >> 31;
	m = (((m + q) >> 6) - m) << 4;
	q -= m << 2;
	m += 0x7f;
	m = m > 0 ? m : 0;
	m = m > 0xff ? 0xff : m;
	float u = bits_f((uint32_t)m << 23);
	x = x * u * u * u * u;
	return x * bits_f((uint32_t)(q + 0x7f) << 23);
}

/* log(d) for a positive normal d */
static df log_k(float d)
{
	int32_t e = (int32_t)((f_bits(d * (1.0f / 0.75f)) >> 23) & 0xff) - 0x7f;
	float m = ldexp_k(d, -e);
	df x = div_df(two_sum(-1.0f, m), two_sum(1.0f, m));
	df x2 = sq_df(x);
	float t = 0.240320354700088500976562f;
	t = fmaf(t, x2.x, 0.285112679004669189453125f);
	t = fmaf(t, x2.x, 0.400007992982864379882812f);
	df c = {0.66666662693023681640625f, 3.69183861259614332084311e-09f};
	df ln2 = {0.69314718246459960938f, -1.904654323148236017e-09f};
	df s = mul_df_f(ln2, (float)e);
	df x2t = mul_df_f(x2, t);
	return add_df_df(s, add_df_df((df){x.x * 2, x.y * 2},
				      mul_df_df(mul_df_df(x2, x), add_df_df(x2t, c))));
}

/* exp(d) */
static float exp_k(df d)
{
	float u = (d.x + d.y) * 1.442695040888963407359924681001892137426645954152985934135449406931f;
	int32_t q = (int32_t)nearbyintf(u);
	df s = add_df_f(d, (float)q * -0.693145751953125f);
	s = add_df_f(s, (float)q * -1.428606765330187045e-06f);
	s = normalize(s);
	u = 0.00136324646882712841033936f;
	u = fmaf(u, s.x, 0.00836596917361021041870117f);
	u = fmaf(u, s.x, 0.0416710823774337768554688f);
	u = fmaf(u, s.x, 0.166665524244308471679688f);
	u = fmaf(u, s.x, 0.499999850988388061523438f);
	df t = add_df_df_fast(s, mul_df_f(sq_df(s), u));
	t = add_f_df_fast(1.0f, t);
	u = ldexp_k(t.x + t.y, q);
	return d.x < -104 ? 0.0f : u;
}

/* x ** y for x > 0 finite (the only case used here) */
static float sleef_powf(float x, float y)
{
	if (y == 0 || x == 1)
		return 1.0f;
	return exp_k(mul_df_f(log_k(x), y));
}

size_t invfreq_count(long d) { return (size_t)(d + 1) / 2; }

void invfreq_fill(float *out, float base, long d)
{
	size_t n = invfreq_count(d), vec = n / TORCH_POW_BLOCK * TORCH_POW_BLOCK;
	for (size_t i = 0; i < n; i++) {
		float y = (float)(2 * (long)i) / (float)d;
		float p = i < vec ? sleef_powf(base, y) : powf(base, y);
		out[i] = 1.0f / p;
	}
}
