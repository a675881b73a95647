/*
 * ringstiff.h - the ring-stiffness rig: results computed from a recorded
 * force-deflection curve, independently of the PLC (docs/ringstiff.md).
 *
 * Units, everywhere in plcgw's rig: force in kN, lengths in mm, time in s,
 * ring stiffness in kN/m². SN classes keep their nominal names, which are
 * in N/m² (SN 5000 is 5 kN/m²).
 *
 * The computation is pure (no I/O, no allocation): the caller passes the
 * specimen and the curve; every function may be called from any thread.
 */
#ifndef GW_RINGSTIFF_H
#define GW_RINGSTIFF_H

#include "core/core.h"

typedef struct {
    double t_s;             /* time since the test started */
    double force_kN;
    double deflection_mm;   /* vertical deflection of the pipe */
} gw_rs_point;

typedef enum {
    GW_RS_ISO9969,          /* thermoplastics: d the internal diameter */
    GW_RS_ISO7685,          /* GRP: dm the mean diameter, internal + wall */
} gw_rs_method;

typedef struct {
    double diameter_mm;     /* internal diameter (Pipe_Diameter) */
    double length_mm;       /* specimen length (Pipe_Length) */
    double deflection_pct;  /* target deflection, % of the diameter used */
    double wall_mm;         /* wall thickness; ISO 7685 needs it (> 0) */
    gw_rs_method method;
} gw_rs_specimen;

typedef struct {
    gw_rs_method method;
    double d_mm;            /* the diameter the formula used (d or dm) */
    double y_mm;            /* the target deflection */
    double force_kN;        /* the force at y, interpolated */
    double factor;          /* f = 0.0186 + 0.025 y/d */
    double stiffness_kNm2;  /* S = f F / (L y) */
    size_t segment;         /* the recorded points i, i+1 around y */
} gw_rs_result;

/* The result of a curve: the force at the target deflection, linearly
 * interpolated between the first two recorded points around it (the
 * first crossing), and the ring stiffness from it:
 *
 *   ISO 9969   S = (0.0186 + 0.025 y/d) F / (L y)
 *   ISO 7685   S = (1860 + 2500 y/dm) 10^-5 F / (L y),  dm = d + e
 *
 * with y = pct/100 d in both (the deflection the PLC runs to).
 *
 * GW_E_INVAL for a specimen that cannot be computed (a dimension <= 0,
 * ISO 7685 without a wall), GW_E_NOT_FOUND when the curve never reaches y
 * (err says how far it came). */
gw_err gw_rs_compute(const gw_rs_specimen *sp, const gw_rs_point *pts, size_t n,
                     gw_rs_result *out, gw_error *err);

/* The largest nominal class (N/m², ascending or not) that S reaches; 0
 * when it reaches none. */
unsigned gw_rs_sn_class(double stiffness_kNm2, const unsigned *classes, size_t n);

/* ISO 9969's default classes: 630, 1250, 2500, 5000, 10000, 20000, 40000. */
extern const unsigned gw_rs_default_classes[7];

/* Do two stiffnesses differ by more than tol (a fraction, 0.01 = 1 %) of
 * the second (ours)? */
bool gw_rs_mismatch(double plc_kNm2, double ours_kNm2, double tol);

const char *gw_rs_method_name(gw_rs_method m);

#endif
