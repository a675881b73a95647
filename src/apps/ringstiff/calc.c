/*
 * calc.c - ring stiffness from a recorded curve (ringstiff.h).
 *
 * ISO 9969 (thermoplastics pipes, determination of ring stiffness),
 * clause 9: S = (0.0186 + 0.025 y/d) F / (L y), with F the force at a
 * deflection y of 3 % of d, L the length and d the internal diameter
 * (the formula's coefficient 0.0186 is its ring deflection factor).
 * ISO 7685 (GRP pipes, initial specific ring stiffness): the same form
 * with f = (1860 + 2500 y/dm) 10^-5 and dm the mean diameter.
 *
 * Units in: kN and mm. S = f F / (L y) with L and y in m gives kN/m²; in
 * mm that is f F 10^6 / (L y).
 */
#include "ringstiff.h"

#include <math.h>

const unsigned gw_rs_default_classes[7] = {630, 1250, 2500, 5000, 10000, 20000, 40000};

const char *gw_rs_method_name(gw_rs_method m)
{
    return m == GW_RS_ISO7685 ? "ISO 7685" : "ISO 9969";
}

static bool positive(double v)
{
    return isfinite(v) && v > 0;
}

gw_err gw_rs_compute(const gw_rs_specimen *sp, const gw_rs_point *pts, size_t n,
                     gw_rs_result *out, gw_error *err)
{
    *out = (gw_rs_result){0};
    out->method = sp->method;
    if (!positive(sp->diameter_mm) || !positive(sp->length_mm) ||
        !positive(sp->deflection_pct) || sp->deflection_pct >= 100)
        return gw_error_set(err, GW_E_INVAL, "the specimen needs a diameter, a length and a "
                            "target deflection of 0..100 %% (got d %g mm, L %g mm, %g %%)",
                            sp->diameter_mm, sp->length_mm, sp->deflection_pct);
    double d = sp->diameter_mm;
    if (sp->method == GW_RS_ISO7685) {
        if (!positive(sp->wall_mm))
            return gw_error_set(err, GW_E_INVAL, "ISO 7685 needs the wall thickness (the mean "
                                "diameter is the internal one plus the wall)");
        d += sp->wall_mm;
    }
    /* the target is a share of the specimen's diameter (as the PLC runs
     * it); the factor takes the diameter of the method */
    double y = sp->deflection_pct / 100.0 * sp->diameter_mm;
    out->d_mm = d;
    out->y_mm = y;
    /* the first crossing: a point on y, or two around it (upwards) */
    double reached = -INFINITY;
    bool found = false;
    for (size_t i = 0; i < n && !found; i++) {
        double y0 = pts[i].deflection_mm, f0 = pts[i].force_kN;
        if (!isfinite(y0) || !isfinite(f0))
            continue;
        if (y0 > reached)
            reached = y0;
        /* on the target: to the resolution of a PLC REAL (float32, 2^-24
         * relative), in which the PLC stops and reports its deflection */
        if (fabs(y0 - y) <= 1e-6 * y) {
            out->force_kN = f0;
            out->segment = i;
            found = true;
        } else if (i + 1 < n && y0 < y && pts[i + 1].deflection_mm > y &&
                   isfinite(pts[i + 1].force_kN)) {
            double y1 = pts[i + 1].deflection_mm, f1 = pts[i + 1].force_kN;
            out->force_kN = f0 + (f1 - f0) * (y - y0) / (y1 - y0);
            out->segment = i;
            found = true;
        }
    }
    if (!found)
        return gw_error_set(err, GW_E_NOT_FOUND, "the curve never reaches the target deflection "
                            "%.3f mm (it reaches %.3f mm in %zu points)", y,
                            isfinite(reached) ? reached : 0.0, n);
    out->factor = 0.0186 + 0.025 * y / d;
    out->stiffness_kNm2 = out->factor * out->force_kN * 1e6 / (sp->length_mm * y);
    return GW_OK;
}

unsigned gw_rs_sn_class(double stiffness_kNm2, const unsigned *classes, size_t n)
{
    unsigned best = 0;
    double s_nm2 = stiffness_kNm2 * 1000.0;
    for (size_t i = 0; i < n; i++)
        if (s_nm2 >= classes[i] && classes[i] > best)
            best = classes[i];
    return best;
}

bool gw_rs_mismatch(double plc_kNm2, double ours_kNm2, double tol)
{
    if (!isfinite(plc_kNm2) || !isfinite(ours_kNm2))
        return true;
    if (ours_kNm2 == 0)
        return plc_kNm2 != 0;
    return fabs(plc_kNm2 - ours_kNm2) > tol * fabs(ours_kNm2);
}
