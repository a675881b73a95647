/*
 * history.h - the ring-stiffness rig's history in the gateway's database:
 * tests, their recorded points, series, alarms (seed 000, section 6, with
 * what a lab needs besides: machine, status and reason, the specimen's
 * parameters as the PLC had them, the PLC's results and our independent
 * ones, the mismatch flag).
 *
 * Units (docs/ringstiff.md): force kN, lengths mm, time s, speed mm/min,
 * ring stiffness kN/m²; SN classes and nominal_sn by their nominal names
 * in N/m² (SN 5000 = 5 kN/m²). Times are ISO 8601 UTC text
 * ("2026-12-07T21:18:58.108Z"). A number that is not known is NAN, a
 * tri-state boolean -1 (unknown), 0 or 1.
 *
 * The seed's columns keep the seed's meaning: force_at_target,
 * ring_stiffness and sn_class are the PLC's results (DB2); passed is the
 * test's verdict (our S >= nominal_sn when one was given, else the PLC's
 * Test_Passed). Our independent results are the *_calc columns.
 *
 * Reads of the history (lists, points, reports) use a connection of their
 * own, so that a long report never holds up the recording of a test
 * (WAL: readers do not block the writer). Every function may be called
 * from any thread; a listing's callback may call any of them.
 */
#ifndef GW_STORE_HISTORY_H
#define GW_STORE_HISTORY_H

#include "store/store.h"

#include <math.h>

#define GW_TEST_SAMPLE_MAX 50     /* VARCHAR(50) */
#define GW_TEST_OPERATOR_MAX 100  /* VARCHAR(100) */
#define GW_TEST_NOTES_MAX 1000
#define GW_TEST_REASON_MAX 255

/* One recorded point: time since the test started, force, deflection
 * and the crosshead position. */
typedef struct {
    double t_s;
    double force_kN;
    double deflection_mm;
    double position_mm;       /* NAN when not recorded */
} gw_test_point;

/* A test's status: "running", "complete", "aborted", "interrupted". */
#define GW_TEST_RUNNING "running"
#define GW_TEST_COMPLETE "complete"
#define GW_TEST_ABORTED "aborted"
#define GW_TEST_INTERRUPTED "interrupted"

typedef struct {
    int64_t id;
    char machine_id[33];
    char sample_id[GW_TEST_SAMPLE_MAX + 1];        /* "" = none yet */
    char operator_name[GW_TEST_OPERATOR_MAX + 1];  /* "" = none */
    char notes[GW_TEST_NOTES_MAX + 1];
    char test_date[32];       /* when the PLC reported running */
    char finished_at[32];     /* "" while running */
    char status[16];          /* GW_TEST_* */
    char reason[GW_TEST_REASON_MAX + 1]; /* why aborted/interrupted, or "" */
    int64_t series_id;        /* 0 = none */
    unsigned nominal_sn;      /* N/m²; 0 = none given */
    /* DB1 as the PLC had it when the test began */
    double pipe_diameter, pipe_length, deflection_percent, test_speed, max_stroke, max_force;
    /* the PLC's results (DB2) */
    double force_at_target, ring_stiffness;
    int sn_class;             /* -1 unknown */
    int plc_passed;           /* the PLC's Test_Passed */
    /* our results from the recorded curve (apps/ringstiff/calc.c) */
    char method[16];          /* "ISO 9969" or "ISO 7685", "" = not computed */
    double wall_thickness;    /* the profile's, for ISO 7685; NAN else */
    double diameter_calc;     /* the d (or dm) the formula used */
    double target_deflection; /* y */
    double force_at_target_calc, ring_stiffness_calc;
    int sn_class_calc;        /* -1 unknown, 0 = reaches no class */
    int passed;               /* the verdict, see above */
    int mismatch;             /* the PLC's S and ours differ beyond the tolerance */
    /* the recording */
    int64_t npoints;
    char points_sha256[65];   /* of the points' CSV (gw_report_csv_*), "" until finished */
} gw_test;

/* A gw_test with every number unknown and every text empty. */
void gw_test_init(gw_test *t);

/* A new test row from t (machine_id, sample_id, operator_name, notes,
 * series_id, nominal_sn, DB1's values, test_date; status running);
 * t->id is set, t->status becomes running and an empty t->test_date now.
 * GW_E_INVAL: no machine_id, or a text over its maximum. */
gw_err gw_store_test_begin(gw_store *s, gw_test *t, gw_error *err);

/* Appends points to a test in one transaction, all or none of them, and
 * adds n to its npoints (the recorder calls it at most once a second).
 * GW_E_NOT_FOUND: no such test; GW_E_INVAL: a point's t_s is not a
 * number. */
gw_err gw_store_test_add_points(gw_store *s, int64_t test_id, const gw_test_point *p,
                                size_t n, gw_error *err);

/* Writes a test's end: status, reason, finished_at, the PLC's and our
 * results, passed, mismatch, npoints and points_sha256 (the row's other
 * columns are left as they are; finished_at "" is now). GW_E_NOT_FOUND
 * when there is no such test; GW_E_INVAL when status is not complete,
 * aborted or interrupted. */
gw_err gw_store_test_finish(gw_store *s, const gw_test *t, gw_error *err);

/* Sets what people add to a test afterwards: each non-NULL field
 * (series_id >= 0: 0 clears it; "" clears a text). GW_E_NOT_FOUND when
 * there is none; GW_E_INVAL for a text over its maximum. */
gw_err gw_store_test_update(gw_store *s, int64_t id, const char *sample_id,
                            const char *operator_name, const char *notes, int64_t series_id,
                            gw_error *err);

/* Tests still "running" (the gateway stopped, or was killed, during them)
 * become "interrupted" with reason, npoints the points they have;
 * machine_id NULL: every machine. The number of tests changed, or -1 on a
 * database error (or a reason over GW_TEST_REASON_MAX: GW_E_INVAL). */
long gw_store_tests_interrupt(gw_store *s, const char *machine_id, const char *reason,
                              gw_error *err);

gw_err gw_store_test_get(gw_store *s, int64_t id, gw_test *out, gw_error *err);

/* Filters of a listing; NULL/"" or -1 means any (a zeroed filter has
 * passed = 0: failed tests only). from/to compare with test_date (ISO 8601
 * text, both inclusive: a time given to the day, hour, minute or second
 * means all of it, so to "2026-12-07" is through the end of that day). */
typedef struct {
    const char *machine_id;
    const char *from, *to;
    const char *sample_id;      /* exact */
    const char *operator_name;  /* exact */
    int passed;                 /* -1 any, 0, 1 */
    const char *status;
    int64_t series_id;          /* 0 any */
} gw_test_filter;

typedef void (*gw_store_test_fn)(void *ud, const gw_test *t);

/* Tests matching f (NULL: all), newest first, skipping `offset`, at most
 * `limit` (0: no limit); *total (may be NULL) is the number matching; fn
 * may be NULL (only the total). */
gw_err gw_store_test_list(gw_store *s, const gw_test_filter *f, size_t offset, size_t limit,
                          size_t *total, gw_store_test_fn fn, void *ud, gw_error *err);

typedef void (*gw_store_point_fn)(void *ud, const gw_test_point *p);
/* A test's points in time order. GW_E_NOT_FOUND when there is no test. */
gw_err gw_store_test_points(gw_store *s, int64_t test_id, gw_store_point_fn fn, void *ud,
                            gw_error *err);

/* A new series id (one more than the largest in use or handed out, so
 * two calls never give the same one). */
gw_err gw_store_series_new(gw_store *s, int64_t *id, gw_error *err);

/* ---------------------------------------------------------------- alarms */

typedef struct {
    int64_t id;
    char machine_id[33];
    int code;                 /* alarm_code (docs/ringstiff.md) */
    char name[32];            /* the code's name: "servo_error" */
    char message[256];
    char timestamp[32];
    bool acknowledged;
    char ack_timestamp[32];   /* "" until acknowledged */
    char ack_by[GW_USER_NAME_MAX + 1];
    int64_t test_id;          /* the test it happened in, 0 = none */
} gw_alarm;

/* A new alarm row from a (machine_id, code, name, message, test_id;
 * timestamp now when ""); a->id and a->timestamp are set. GW_E_INVAL: no
 * machine_id. */
gw_err gw_store_alarm_add(gw_store *s, gw_alarm *a, gw_error *err);

typedef void (*gw_store_alarm_fn)(void *ud, const gw_alarm *a);
/* Alarms, newest first; machine_id NULL: all; active_only: not yet
 * acknowledged. Paged as gw_store_test_list. */
gw_err gw_store_alarm_list(gw_store *s, const char *machine_id, bool active_only,
                           size_t offset, size_t limit, size_t *total, gw_store_alarm_fn fn,
                           void *ud, gw_error *err);

/* Alarm id; GW_E_NOT_FOUND when there is none. */
gw_err gw_store_alarm_get(gw_store *s, int64_t id, gw_alarm *out, gw_error *err);

/* Acknowledges alarm id by `by` (a user name); *out (may be NULL) is the
 * row after. GW_E_NOT_FOUND: no such alarm; GW_E_INVAL: acknowledged
 * already (out still filled). */
gw_err gw_store_alarm_ack(gw_store *s, int64_t id, const char *by, gw_alarm *out,
                          gw_error *err);

/* PRAGMA integrity_check: true when the file is intact (why says what
 * else). */
bool gw_store_integrity_ok(gw_store *s, char *why, size_t size);

#endif
