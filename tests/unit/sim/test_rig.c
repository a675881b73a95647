/*
 * test_rig.c - the simulator's ring-stiffness rig behaves like the rig's
 * PLC program: driven over S7 as the gateway drives a real one (bits
 * written with bit writes, parameters into DB1), read back from its
 * memory. ISO 9969's speed table, a whole test to DB2's results, the
 * conditions a start needs, and the aborts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim_test_util.h"

#include "apps/ringstiff/ringstiff.h"

#define SCALE 50.0

/* DB3 bits (seed 000, 2.3) */
enum { ENABLE = 0, START = 3, STOP = 4, HOME = 5 };

static void put_real(gw_s7_client *c, uint32_t off, float v)
{
    uint8_t b[4];
    put_be_real(b, v);
    gw_error err;
    assert_int_equal(s7_write_db(c, 1, off, 4, b, &err), GW_OK);
}

static void bit(gw_s7_client *c, uint32_t byte, uint8_t b, bool v)
{
    gw_error err;
    assert_int_equal(s7_write_bit(c, 3, byte, b, v, &err), GW_OK);
}

/* Waits (real time, bounded) until the property equals want. */
static bool prop_is(gw_sim_device *d, const char *name, double want, unsigned ms)
{
    for (unsigned i = 0; i < ms / 5; i++) {
        if (gw_sim_get(d, name) == want)
            return true;
        sleep_ms(5);
    }
    return gw_sim_get(d, name) == want;
}

/* A 315 x 300 mm pipe at 3 %, clamped, servo on. */
static void ready(gw_s7_client *c, gw_sim_device *rig)
{
    put_real(c, 0, 315);
    put_real(c, 4, 300);
    put_real(c, 8, 3);
    bit(c, 0, ENABLE, true);
    bit(c, 1, 3, true); /* Lock_Upper */
    bit(c, 1, 4, true); /* Lock_Lower */
    assert_true(prop_is(rig, "Servo_Ready", 1, 1000));
}

static void test_speed_table(void **state)
{
    (void)state;
    simfx *f = simfx_up(SCALE, 0, true, false, false);
    gw_sim_device *rig = dev(f, "rig");
    gw_s7_client *c = s7_up(f->s7_port, 1000);
    const struct { float d, speed; } table[] = {{80, 2}, {100, 2}, {160, 5}, {315, 10},
                                                 {630, 20}, {1200, 50}};
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        put_real(c, 0, table[i].d);
        if (!prop_is(rig, "Test_Speed", table[i].speed, 1000))
            fail_msg("d %g mm: Test_Speed %g, want %g", table[i].d,
                     gw_sim_get(rig, "Test_Speed"), table[i].speed);
    }
    gw_s7_client_free(c);
    simfx_down(f);
}

static void test_full_test(void **state)
{
    (void)state;
    simfx *f = simfx_up(SCALE, 0, true, false, false);
    gw_sim_device *rig = dev(f, "rig");
    gw_error err;
    assert_int_equal(gw_sim_set_io(rig, "pipe_stiffness_kNm2", 6.0, &err), GW_OK);
    gw_s7_client *c = s7_up(f->s7_port, 1000);
    ready(c, rig);
    bit(c, 0, START, true);
    /* the PLC takes Start_Test and reports running */
    assert_true(prop_is(rig, "Start_Test", 0, 1000));
    assert_true(prop_is(rig, "Test_Status", 1, 1000));
    assert_float_equal(gw_sim_get(rig, "Target_Deflection"), 9.45, 1e-4);
    /* the curve as a recorder would sample it, until complete: 9.45 mm at
     * 10 mm/min is 56.7 s simulated, about 1.1 s here */
    gw_rs_point pts[4000];
    size_t n = 0;
    uint64_t t0 = gw_sim_clock_ms(f->sim);
    for (int i = 0; i < 2000 && gw_sim_get(rig, "Test_Status") == 1; i++) {
        if (n < 4000)
            pts[n++] = (gw_rs_point){(double)(gw_sim_clock_ms(f->sim) - t0) / 1000.0,
                                     gw_sim_get(rig, "Actual_Force"),
                                     gw_sim_get(rig, "Actual_Deflection")};
        sleep_ms(2);
    }
    if (n < 4000)
        pts[n++] = (gw_rs_point){0, gw_sim_get(rig, "Actual_Force"),
                                 gw_sim_get(rig, "Actual_Deflection")};
    assert_int_equal(gw_sim_get(rig, "Test_Status"), 2);
    double s = gw_sim_get(rig, "Ring_Stiffness");
    print_message("PLC: S %.4f kN/m2, F %.4f kN, SN %g; %zu points sampled\n", s,
                  gw_sim_get(rig, "Force_At_Target"), gw_sim_get(rig, "SN_Class"), n);
    /* the pipe's 6 kN/m2, 2.4 % softer at 3 %, and the load cell's noise */
    assert_true(s > 5.7 && s < 6.0);
    assert_int_equal(gw_sim_get(rig, "SN_Class"), 5000);
    assert_int_equal(gw_sim_get(rig, "Test_Passed"), 1);
    assert_float_equal(gw_sim_get(rig, "Actual_Deflection"), 9.45, 1e-4);
    /* the independent computation from the sampled curve agrees within 1 % */
    gw_rs_specimen sp = {315, 300, 3, 0, GW_RS_ISO9969};
    gw_rs_result r;
    assert_int_equal(gw_rs_compute(&sp, pts, n, &r, &err), GW_OK);
    print_message("ours: S %.4f kN/m2, F %.4f kN\n", r.stiffness_kNm2, r.force_kN);
    assert_false(gw_rs_mismatch(s, r.stiffness_kNm2, 0.01));
    /* home: the crosshead goes up to the switch */
    bit(c, 0, HOME, true);
    assert_true(prop_is(rig, "At_Home", 1, 3000));
    assert_true(prop_is(rig, "Home", 0, 100));
    assert_float_equal(gw_sim_get(rig, "Actual_Position"), 0, 0);
    gw_s7_client_free(c);
    simfx_down(f);
}

static void test_start_needs_clamps_and_servo(void **state)
{
    (void)state;
    simfx *f = simfx_up(SCALE, 0, true, false, false);
    gw_sim_device *rig = dev(f, "rig");
    gw_s7_client *c = s7_up(f->s7_port, 1000);
    ready(c, rig);
    bit(c, 1, 4, false); /* the lower clamp open */
    bit(c, 0, START, true);
    assert_true(prop_is(rig, "Start_Test", 0, 1000)); /* taken, */
    sleep_ms(50);
    assert_int_equal(gw_sim_get(rig, "Test_Status"), 0); /* and refused */
    bit(c, 1, 4, true);
    bit(c, 0, ENABLE, false);
    bit(c, 0, START, true);
    assert_true(prop_is(rig, "Start_Test", 0, 1000));
    sleep_ms(50);
    assert_int_equal(gw_sim_get(rig, "Test_Status"), 0);
    gw_s7_client_free(c);
    simfx_down(f);
}

static void test_aborts(void **state)
{
    (void)state;
    simfx *f = simfx_up(SCALE, 0, true, false, false);
    gw_sim_device *rig = dev(f, "rig");
    gw_s7_client *c = s7_up(f->s7_port, 1000);
    gw_error err;
    /* Stop */
    ready(c, rig);
    bit(c, 0, START, true);
    assert_true(prop_is(rig, "Test_Status", 1, 1000));
    bit(c, 0, STOP, true);
    assert_true(prop_is(rig, "Test_Status", 3, 1000));
    bit(c, 0, STOP, false);
    double at = gw_sim_get(rig, "Actual_Deflection");
    sleep_ms(100);
    assert_true(gw_sim_get(rig, "Actual_Deflection") == at); /* it stays where it stopped */
    /* Max_Force: the pipe needs about 1.1 kN at 9.45 mm */
    put_real(c, 20, 0.5f);
    bit(c, 0, START, true);
    assert_true(prop_is(rig, "Test_Status", 1, 1000));
    assert_true(prop_is(rig, "Test_Status", 3, 3000));
    assert_true(gw_sim_get(rig, "Actual_Force") > 0.5);
    assert_true(gw_sim_get(rig, "Actual_Deflection") < 9.45);
    put_real(c, 20, 0);
    /* a servo fault: Servo_Error, the test aborted; Alarm_Reset_Cmd clears
     * it only when the drive's fault is gone */
    bit(c, 0, START, true);
    assert_true(prop_is(rig, "Test_Status", 1, 1000));
    assert_int_equal(gw_sim_set_io(rig, "servo_fault", 1, &err), GW_OK);
    assert_true(prop_is(rig, "Test_Status", 3, 1000));
    assert_true(prop_is(rig, "Servo_Error", 1, 100));
    assert_int_equal(gw_sim_get(rig, "Servo_Ready"), 0);
    bit(c, 0, 6, true);
    sleep_ms(50);
    assert_int_equal(gw_sim_get(rig, "Servo_Error"), 1);
    bit(c, 0, 6, false);
    assert_int_equal(gw_sim_set_io(rig, "servo_fault", 0, &err), GW_OK);
    bit(c, 0, 6, true);
    assert_true(prop_is(rig, "Servo_Error", 0, 1000));
    assert_true(prop_is(rig, "Servo_Ready", 1, 1000));
    gw_s7_client_free(c);
    simfx_down(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_speed_table),
        cmocka_unit_test(test_full_test),
        cmocka_unit_test(test_start_needs_clamps_and_servo),
        cmocka_unit_test(test_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
