/*
 * half.c - IEEE 754-2008 binary16 ("half precision"): 1 sign bit, 5
 * exponent bits (bias 15), 10 fraction bits. Used by decode_16bit_float.
 */
#include "tags.h"

#include <math.h>
#include <string.h>

double gw_half_to_double(uint16_t h)
{
    int sign = (h >> 15) & 1;
    int exp = (h >> 10) & 0x1F;
    int frac = h & 0x3FF;
    double v;
    if (exp == 0)
        v = ldexp(frac, -24);                    /* zero and subnormals */
    else if (exp == 31)
        v = frac ? NAN : INFINITY;
    else
        v = ldexp(frac | 0x400, exp - 25);       /* 1.frac * 2^(exp-15) */
    return sign ? -v : v;
}

uint16_t gw_half_from_double(double d)
{
    uint16_t sign = signbit(d) ? 0x8000 : 0;
    if (isnan(d))
        return sign | 0x7E00;
    d = fabs(d);
    if (isinf(d))
        return sign | 0x7C00;
    if (d == 0)
        return sign;
    int e;
    double m = frexp(d, &e); /* d = m * 2^e, 0.5 <= m < 1 */
    /* The half's unit in the last place: 2^(e-11) for normals, 2^-24 for
     * subnormals. Round d to a multiple of it, ties to even (rint in the
     * default rounding mode). */
    int ulp_exp = e - 11 < -24 ? -24 : e - 11;
    double q = rint(ldexp(d, -ulp_exp));
    double r = ldexp(q, ulp_exp);
    if (r == 0)
        return sign; /* below half the smallest subnormal */
    if (r > 65504.0)
        return sign | 0x7C00; /* overflow: beyond the largest finite half */
    m = frexp(r, &e);
    if (e - 1 < -14) {
        /* subnormal: r = frac * 2^-24 */
        return sign | (uint16_t)ldexp(r, 24);
    }
    int exp = e - 1 + 15;
    uint16_t frac = (uint16_t)(ldexp(m, 11) - 1024.0);
    return sign | (uint16_t)(exp << 10) | frac;
}
