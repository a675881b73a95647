/*
 * test_calc.c - ring stiffness from a curve, on vectors computed by hand:
 * interpolation at the target, a point on it, ISO 9969 and ISO 7685,
 * curves that never reach the target, SN classes, the PLC comparison.
 */
#include "apps/ringstiff/ringstiff.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_iso9969_interpolated(void **state)
{
    (void)state;
    /* d 315 mm, L 300 mm, 3 %: y = 9.45 mm, between 5.0 mm (0.5 kN) and
     * 10.0 mm (1.2 kN): F = 0.5 + 0.7 * 4.45 / 5 = 1.123 kN;
     * f = 0.0186 + 0.025 * 0.03 = 0.01935;
     * S = 0.01935 * 1.123 / (0.300 m * 0.00945 m) = 7.664921 kN/m² */
    const gw_rs_point pts[] = {{0, 0, 0}, {1, 0.5, 5.0}, {2, 1.2, 10.0}, {3, 1.3, 11.0}};
    gw_rs_specimen sp = {315, 300, 3, 0, GW_RS_ISO9969};
    gw_rs_result r;
    gw_error err;
    assert_int_equal(gw_rs_compute(&sp, pts, N(pts), &r, &err), GW_OK);
    assert_float_equal(r.y_mm, 9.45, 1e-12);
    assert_float_equal(r.force_kN, 1.123, 1e-12);
    assert_float_equal(r.factor, 0.01935, 1e-15);
    assert_float_equal(r.stiffness_kNm2, 7.664921, 1e-6);
    assert_int_equal(r.segment, 1);
    assert_int_equal(gw_rs_sn_class(r.stiffness_kNm2, gw_rs_default_classes, 7), 5000);
    assert_string_equal(gw_rs_method_name(r.method), "ISO 9969");
}

static void test_point_on_target(void **state)
{
    (void)state;
    /* d 200, L 100, 5 %: y = 10 mm exactly on a point of 2 kN;
     * f = 0.0186 + 0.025 * 0.05 = 0.01985; S = 0.01985 * 2 / (0.1 * 0.01) = 39.7 */
    const gw_rs_point pts[] = {{0, 0, 0}, {1, 2.0, 10.0}, {2, 3.0, 12.0}};
    gw_rs_specimen sp = {200, 100, 5, 0, GW_RS_ISO9969};
    gw_rs_result r;
    assert_int_equal(gw_rs_compute(&sp, pts, N(pts), &r, NULL), GW_OK);
    assert_float_equal(r.force_kN, 2.0, 0);
    assert_float_equal(r.stiffness_kNm2, 39.7, 1e-9);
    assert_int_equal(gw_rs_sn_class(r.stiffness_kNm2, gw_rs_default_classes, 7), 20000);
    /* on the target as a PLC's REAL has it (9.45 as a float32 is
     * 9.44999980926513671875) */
    const gw_rs_point real[] = {{0, 0, 0}, {1, 0.8, 5.0}, {2, 1.5, (double)9.45f}};
    gw_rs_specimen sp2 = {315, 300, 3, 0, GW_RS_ISO9969};
    assert_int_equal(gw_rs_compute(&sp2, real, N(real), &r, NULL), GW_OK);
    assert_float_equal(r.force_kN, 1.5, 0);
    /* the last point on the target */
    const gw_rs_point last[] = {{0, 0, 0}, {1, 2.0, 10.0}};
    assert_int_equal(gw_rs_compute(&sp, last, N(last), &r, NULL), GW_OK);
    assert_float_equal(r.force_kN, 2.0, 0);
}

static void test_iso7685_mean_diameter(void **state)
{
    (void)state;
    /* GRP d 600, e 10: dm 610; y = 3 % of 600 = 18 mm (what the PLC runs
     * to); linear 0.1 kN/mm: F = 1.8 kN; f = 0.0186 + 0.025 * 18 / 610 =
     * 0.0193377049; S = f * 1.8 / (0.3 * 0.018) = 6.445902 kN/m² */
    const gw_rs_point pts[] = {{0, 0, 0}, {1, 2.0, 20.0}};
    gw_rs_specimen sp = {600, 300, 3, 10, GW_RS_ISO7685};
    gw_rs_result r;
    assert_int_equal(gw_rs_compute(&sp, pts, N(pts), &r, NULL), GW_OK);
    assert_float_equal(r.d_mm, 610, 0);
    assert_float_equal(r.y_mm, 18, 1e-12);
    assert_float_equal(r.force_kN, 1.8, 1e-12);
    assert_float_equal(r.factor, 0.0186 + 0.025 * 18.0 / 610.0, 1e-15);
    assert_float_equal(r.stiffness_kNm2, 6.445902, 1e-6);
    /* without a wall it cannot be computed */
    sp.wall_mm = 0;
    gw_error err;
    assert_int_equal(gw_rs_compute(&sp, pts, N(pts), &r, &err), GW_E_INVAL);
    assert_non_null(strstr(err.msg, "wall"));
}

static void test_never_reached(void **state)
{
    (void)state;
    const gw_rs_point pts[] = {{0, 0, 0}, {1, 0.4, 4.0}, {2, 0.8, 8.0}};
    gw_rs_specimen sp = {315, 300, 3, 0, GW_RS_ISO9969};
    gw_rs_result r;
    gw_error err;
    assert_int_equal(gw_rs_compute(&sp, pts, N(pts), &r, &err), GW_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "reaches 8.000 mm"));
    assert_int_equal(gw_rs_compute(&sp, pts, 0, &r, &err), GW_E_NOT_FOUND);
    /* a bad specimen */
    gw_rs_specimen bad = {0, 300, 3, 0, GW_RS_ISO9969};
    assert_int_equal(gw_rs_compute(&bad, pts, N(pts), &r, &err), GW_E_INVAL);
    bad = (gw_rs_specimen){315, 300, 100, 0, GW_RS_ISO9969};
    assert_int_equal(gw_rs_compute(&bad, pts, N(pts), &r, &err), GW_E_INVAL);
    bad = (gw_rs_specimen){315, NAN, 3, 0, GW_RS_ISO9969};
    assert_int_equal(gw_rs_compute(&bad, pts, N(pts), &r, &err), GW_E_INVAL);
}

static void test_noisy_curve(void **state)
{
    (void)state;
    /* noise crosses y = 9.45 twice (up at 9.0..9.6, back to 9.3, up
     * again): the first crossing counts; a point with NaN is passed over */
    const gw_rs_point pts[] = {{0, 0, 0},      {1, NAN, 5.0},   {2, 1.00, 9.0},
                               {3, 1.06, 9.6}, {4, 1.03, 9.3},  {5, 1.10, 10.0}};
    gw_rs_specimen sp = {315, 300, 3, 0, GW_RS_ISO9969};
    gw_rs_result r;
    assert_int_equal(gw_rs_compute(&sp, pts, N(pts), &r, NULL), GW_OK);
    assert_int_equal(r.segment, 2);
    assert_float_equal(r.force_kN, 1.00 + 0.06 * 0.45 / 0.6, 1e-12);
}

static void test_classes_and_mismatch(void **state)
{
    (void)state;
    assert_int_equal(gw_rs_sn_class(0.62, gw_rs_default_classes, 7), 0);
    assert_int_equal(gw_rs_sn_class(0.63, gw_rs_default_classes, 7), 630);
    assert_int_equal(gw_rs_sn_class(4.999, gw_rs_default_classes, 7), 2500);
    assert_int_equal(gw_rs_sn_class(40.0, gw_rs_default_classes, 7), 40000);
    assert_int_equal(gw_rs_sn_class(100.0, gw_rs_default_classes, 7), 40000);
    const unsigned custom[] = {8000, 2000, 4000};
    assert_int_equal(gw_rs_sn_class(5.0, custom, 3), 4000);
    assert_false(gw_rs_mismatch(7.7, 7.664921, 0.01));   /* 0.46 % */
    assert_true(gw_rs_mismatch(7.8, 7.664921, 0.01));    /* 1.76 % */
    assert_true(gw_rs_mismatch(NAN, 7.664921, 0.01));
    assert_false(gw_rs_mismatch(0, 0, 0.01));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso9969_interpolated),
        cmocka_unit_test(test_point_on_target),
        cmocka_unit_test(test_iso7685_mean_diameter),
        cmocka_unit_test(test_never_reached),
        cmocka_unit_test(test_noisy_curve),
        cmocka_unit_test(test_classes_and_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
