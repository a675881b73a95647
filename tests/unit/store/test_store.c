/*
 * test_store.c - the database on a real SQLite file: schema migration and
 * its refusal of a newer file, users and passwords, API tokens, the audit
 * log, and that nothing secret is stored in the clear.
 */
#include "store/store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

typedef struct {
    char path[256];
    gw_store *s;
} fixture;

static void remove_db(const char *path)
{
    char p[300];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "/tmp/plcgw-test-store-%d.db", (int)getpid());
    remove_db(f->path);
    gw_error err;
    if (gw_store_open(f->path, &f->s, &err) != GW_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gw_store_close(f->s);
    remove_db(f->path);
    free(f);
    return 0;
}

/* The first column of the first row of sql, as text ("" for none). */
static void query(const char *path, const char *sql, char *out, size_t size)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    out[0] = '\0';
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_schema(void **state)
{
    fixture *f = *state;
    assert_int_equal(gw_store_schema_version(f->s), GW_STORE_SCHEMA_VERSION);
    char out[256];
    query(f->path, "PRAGMA journal_mode", out, sizeof(out));
    assert_string_equal(out, "wal");
    /* the seed's tables with their column names */
    query(f->path, "SELECT group_concat(name, ',') FROM pragma_table_info('tests')", out,
          sizeof(out));
    assert_non_null(strstr(out, "sample_id,operator,test_date,pipe_diameter,pipe_length,"
                                "deflection_percent,force_at_target,ring_stiffness,sn_class,"
                                "passed"));
    query(f->path, "SELECT group_concat(name, ',') FROM pragma_table_info('test_data_points')",
          out, sizeof(out));
    assert_string_equal(out, "id,test_id,timestamp,force,deflection,position");
    query(f->path, "SELECT group_concat(name, ',') FROM pragma_table_info('alarms')", out,
          sizeof(out));
    assert_non_null(strstr(out, "alarm_code,message,timestamp,acknowledged,ack_timestamp"));
    /* opening again migrates nothing and keeps the data */
    gw_error err;
    assert_int_equal(gw_store_user_add(f->s, "ada", GW_ROLE_ADMIN, "correct horse", &err), GW_OK);
    gw_store_close(f->s);
    assert_int_equal(gw_store_open(f->path, &f->s, &err), GW_OK);
    assert_int_equal(gw_store_user_count(f->s), 1);
}

static void test_newer_file_refused(void **state)
{
    fixture *f = *state;
    gw_store_close(f->s);
    f->s = NULL;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    gw_error err;
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(f->path, &s, &err), GW_E_STORE);
    assert_null(s);
    assert_non_null(strstr(err.msg, "schema version 99"));
    char out[32];
    query(f->path, "PRAGMA user_version", out, sizeof(out));
    assert_string_equal(out, "99"); /* untouched */
}

static void test_users(void **state)
{
    fixture *f = *state;
    gw_error err;
    gw_principal who;
    assert_int_equal(gw_store_user_count(f->s), 0);
    assert_int_equal(gw_store_user_add(f->s, "op1", GW_ROLE_OPERATOR, "s3cret-pass", &err), GW_OK);
    assert_int_equal(gw_store_user_add(f->s, "op1", GW_ROLE_VIEWER, "another-pass", &err),
                     GW_E_INVAL);
    assert_non_null(strstr(err.msg, "exists already"));
    assert_int_equal(gw_store_user_add(f->s, "bad name", GW_ROLE_VIEWER, "long enough", &err),
                     GW_E_INVAL);
    assert_int_equal(gw_store_user_add(f->s, "short", GW_ROLE_VIEWER, "1234567", &err),
                     GW_E_INVAL);
    assert_int_equal(gw_store_user_add(f->s, "x", GW_ROLE_PUBLIC, "long enough", &err),
                     GW_E_INVAL);
    assert_int_equal(gw_store_user_count(f->s), 1);
    assert_int_equal(gw_store_user_login(f->s, "op1", "s3cret-pass", &who, &err), GW_OK);
    assert_string_equal(who.name, "op1");
    assert_int_equal(who.role, GW_ROLE_OPERATOR);
    assert_true(who.user_id > 0);
    assert_int_equal(gw_store_user_login(f->s, "op1", "wrong-pass", &who, &err), GW_E_ACCESS);
    assert_string_equal(err.msg, "wrong name or password");
    assert_int_equal(who.role, GW_ROLE_PUBLIC);
    assert_int_equal(gw_store_user_login(f->s, "nobody", "s3cret-pass", &who, &err),
                     GW_E_ACCESS);
    assert_string_equal(err.msg, "wrong name or password");
    /* Argon2id, not the password */
    char out[256];
    query(f->path, "SELECT password_hash FROM users WHERE name = 'op1'", out, sizeof(out));
    assert_true(strncmp(out, "$argon2id$", 10) == 0);
    assert_null(strstr(out, "s3cret"));
    gw_role r;
    assert_true(gw_role_parse("admin", &r) && r == GW_ROLE_ADMIN);
    assert_false(gw_role_parse("root", &r));
}

static void test_tokens(void **state)
{
    fixture *f = *state;
    gw_error err;
    gw_principal who;
    assert_int_equal(gw_store_user_add(f->s, "script", GW_ROLE_VIEWER, "long enough", &err),
                     GW_OK);
    char t1[GW_TOKEN_LEN + 1], t2[GW_TOKEN_LEN + 1];
    assert_int_equal(gw_store_token_create(f->s, "script", "grafana", t1, &err), GW_OK);
    assert_int_equal(gw_store_token_create(f->s, "script", "cron", t2, &err), GW_OK);
    assert_int_equal(strlen(t1), GW_TOKEN_LEN);
    assert_true(strncmp(t1, "plcgw_", 6) == 0);
    assert_string_not_equal(t1, t2);
    assert_int_equal(gw_store_token_check(f->s, t1, &who, &err), GW_OK);
    assert_string_equal(who.name, "script");
    assert_int_equal(who.role, GW_ROLE_VIEWER);
    assert_int_equal(gw_store_token_check(f->s, t2, &who, &err), GW_OK);
    /* one character off, a stranger's format, nothing */
    char bad[GW_TOKEN_LEN + 1];
    memcpy(bad, t1, sizeof(bad));
    bad[20] = bad[20] == 'A' ? 'B' : 'A';
    assert_int_equal(gw_store_token_check(f->s, bad, &who, &err), GW_E_ACCESS);
    assert_int_equal(who.user_id, 0);
    assert_int_equal(gw_store_token_check(f->s, "Bearer x", &who, &err), GW_E_ACCESS);
    assert_int_equal(gw_store_token_check(f->s, "", &who, &err), GW_E_ACCESS);
    assert_int_equal(gw_store_token_create(f->s, "nobody", "x", t2, &err), GW_E_NOT_FOUND);
    /* only the hash is kept */
    char out[256];
    query(f->path, "SELECT count(*) FROM api_tokens WHERE length(token_hash) = 32", out,
          sizeof(out));
    assert_string_equal(out, "2");
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM api_tokens WHERE instr(CAST(token_hash AS "
             "TEXT), '%s') OR instr(label, '%s')", t1 + 6, t1 + 6);
    query(f->path, sql, out, sizeof(out));
    assert_string_equal(out, "0");
}

static void test_audit(void **state)
{
    fixture *f = *state;
    gw_error err;
    gw_principal who = {7, "op1", GW_ROLE_OPERATOR};
    assert_int_equal(gw_store_audit(f->s, &who, "rig", "command/stop", "{\"Stop\": true}", "ok",
                                    &err), GW_OK);
    assert_int_equal(gw_store_audit(f->s, NULL, NULL, "login", NULL, "wrong name or password",
                                    &err), GW_OK);
    char out[256];
    query(f->path, "SELECT user_name || '|' || role || '|' || machine_id || '|' || action || '|' "
                   "|| \"values\" || '|' || result FROM audit_log ORDER BY id LIMIT 1", out,
          sizeof(out));
    assert_string_equal(out, "op1|operator|rig|command/stop|{\"Stop\": true}|ok");
    query(f->path, "SELECT coalesce(user_name, 'anonymous') || '|' || result FROM audit_log "
                   "ORDER BY id DESC LIMIT 1", out, sizeof(out));
    assert_string_equal(out, "anonymous|wrong name or password");
    query(f->path, "SELECT ts FROM audit_log LIMIT 1", out, sizeof(out));
    assert_true(strlen(out) >= 20 && out[4] == '-' && out[10] == 'T');
}

static void test_sessions(void **state)
{
    fixture *f = *state;
    gw_error err;
    gw_principal who, got;
    assert_int_equal(gw_store_user_add(f->s, "web", GW_ROLE_OPERATOR, "long enough", &err),
                     GW_OK);
    assert_int_equal(gw_store_user_login(f->s, "web", "long enough", &who, &err), GW_OK);
    char sid[GW_TOKEN_LEN + 1], old[GW_TOKEN_LEN + 1];
    assert_int_equal(gw_store_session_create(f->s, &who, 3600, sid, &err), GW_OK);
    assert_int_equal(gw_store_session_check(f->s, sid, &got, &err), GW_OK);
    assert_string_equal(got.name, "web");
    assert_int_equal(got.role, GW_ROLE_OPERATOR);
    /* a session is not a token, and the reverse */
    assert_int_equal(gw_store_token_check(f->s, sid, &got, &err), GW_E_ACCESS);
    gw_store_session_delete(f->s, sid);
    assert_int_equal(gw_store_session_check(f->s, sid, &got, &err), GW_E_ACCESS);
    assert_non_null(strstr(err.msg, "sign in again"));
    /* one that has expired */
    assert_int_equal(gw_store_session_create(f->s, &who, 0, old, &err), GW_OK);
    assert_int_equal(gw_store_session_check(f->s, old, &got, &err), GW_E_ACCESS);
    assert_int_equal(gw_store_session_check(f->s, "plcgw_short", &got, &err), GW_E_ACCESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_file_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
