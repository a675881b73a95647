/*
 * test_auth.c - who a request is from (api__identify), without a daemon:
 * a real database file, tokens, sessions, revoked tokens, disabled users,
 * other schemes, the loopback viewer switch, and the order of precedence.
 */
#include "api/api_internal.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    char path[128];
    gw_store *s;
    gw_config *cfg;
    char op_token[GW_TOKEN_LEN + 1];
    char admin_token[GW_TOKEN_LEN + 1];
} fixture;

static void remove_db(const char *path)
{
    char p[160];
    remove(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    remove(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    remove(p);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "/tmp/plcgw-test-auth-%d.db", (int)getpid());
    remove_db(f->path);
    gw_error err;
    gw_diag d;
    if (gw_store_open(f->path, &f->s, &err) != GW_OK ||
        gw_config_load(GW_SOURCE_DIR "/config/demo.json", &f->cfg, &d) != GW_OK)
        return -1;
    if (gw_store_user_add(f->s, "boss", GW_ROLE_ADMIN, "boss-password", &err) != GW_OK ||
        gw_store_user_add(f->s, "olga", GW_ROLE_OPERATOR, "olga-password", &err) != GW_OK ||
        gw_store_token_create(f->s, "olga", "test", f->op_token, &err) != GW_OK ||
        gw_store_token_create(f->s, "boss", "test", f->admin_token, &err) != GW_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gw_store_close(f->s);
    gw_config_free(f->cfg);
    remove_db(f->path);
    free(f);
    return 0;
}

static api_cred identify(fixture *f, const char *authorization, const char *cookies,
                         const char *token, const char *addr, gw_principal *who)
{
    api_credentials c = {authorization, cookies, token, addr};
    gw_error err;
    api_cred r = api__identify(f->s, f->cfg, &c, who, &err);
    if (r == API_CRED_BAD_TOKEN || r == API_CRED_BAD_SESSION)
        assert_true(err.msg[0] != '\0'); /* always says why */
    return r;
}

static void test_anonymous(void **state)
{
    fixture *f = *state;
    gw_principal who;
    f->cfg->auth_loopback_viewer = true;
    assert_int_equal(identify(f, NULL, NULL, NULL, "127.0.0.1", &who), API_CRED_LOOPBACK);
    assert_int_equal(who.role, GW_ROLE_VIEWER);
    assert_int_equal(who.user_id, 0);
    assert_int_equal(identify(f, NULL, NULL, NULL, "::1", &who), API_CRED_LOOPBACK);
    assert_int_equal(identify(f, NULL, NULL, NULL, "::ffff:127.0.0.1", &who), API_CRED_LOOPBACK);
    /* another host is nobody, switch or not */
    assert_int_equal(identify(f, NULL, NULL, NULL, "10.0.0.7", &who), API_CRED_NONE);
    assert_int_equal(who.role, GW_ROLE_PUBLIC);
    assert_int_equal(identify(f, NULL, NULL, NULL, "128.0.0.1", &who), API_CRED_NONE);
    assert_int_equal(identify(f, NULL, NULL, NULL, NULL, &who), API_CRED_NONE);
    f->cfg->auth_loopback_viewer = false;
    assert_int_equal(identify(f, NULL, NULL, NULL, "127.0.0.1", &who), API_CRED_NONE);
    assert_int_equal(who.role, GW_ROLE_PUBLIC);
}

static void test_tokens(void **state)
{
    fixture *f = *state;
    gw_principal who;
    char h[80];
    snprintf(h, sizeof(h), "Bearer %s", f->op_token);
    assert_int_equal(identify(f, h, NULL, NULL, "10.0.0.7", &who), API_CRED_TOKEN);
    assert_string_equal(who.name, "olga");
    assert_int_equal(who.role, GW_ROLE_OPERATOR);
    snprintf(h, sizeof(h), "bearer   %s", f->admin_token); /* scheme case, spaces */
    assert_int_equal(identify(f, h, NULL, NULL, "10.0.0.7", &who), API_CRED_TOKEN);
    assert_int_equal(who.role, GW_ROLE_ADMIN);
    /* the Socket.IO connect payload's token */
    assert_int_equal(identify(f, NULL, NULL, f->op_token, "10.0.0.7", &who), API_CRED_TOKEN);
    assert_string_equal(who.name, "olga");
    /* bad ones: never anonymous, even on loopback with the viewer switch */
    f->cfg->auth_loopback_viewer = true;
    assert_int_equal(identify(f, "Basic b2xnYTpvbGdh", NULL, NULL, "127.0.0.1", &who),
                     API_CRED_BAD_TOKEN);
    assert_int_equal(who.role, GW_ROLE_PUBLIC);
    assert_int_equal(identify(f, "Bearer plcgw_nope", NULL, NULL, "127.0.0.1", &who),
                     API_CRED_BAD_TOKEN);
    char wrong[GW_TOKEN_LEN + 1];
    memcpy(wrong, f->op_token, sizeof(wrong));
    wrong[20] = wrong[20] == 'A' ? 'B' : 'A';
    assert_int_equal(identify(f, NULL, NULL, wrong, "127.0.0.1", &who), API_CRED_BAD_TOKEN);
    assert_int_equal(identify(f, NULL, NULL, "", "127.0.0.1", &who), API_CRED_BAD_TOKEN);
    f->cfg->auth_loopback_viewer = false;
    /* without a user database nobody's token is valid */
    api_credentials c = {NULL, NULL, f->op_token, "127.0.0.1"};
    gw_error err;
    assert_int_equal(api__identify(NULL, f->cfg, &c, &who, &err), API_CRED_BAD_TOKEN);
    assert_non_null(strstr(err.msg, "without a user database"));
}

typedef struct {
    int64_t ids[8];
    bool revoked[8];
    int n;
} token_rows;

static void collect(void *ud, const gw_token_info *t)
{
    token_rows *rows = ud;
    if (rows->n < 8) {
        rows->ids[rows->n] = t->id;
        rows->revoked[rows->n++] = t->revoked;
    }
}

static void test_revoke_and_disable(void **state)
{
    fixture *f = *state;
    gw_principal who;
    gw_error err;
    char spare[GW_TOKEN_LEN + 1];
    assert_int_equal(gw_store_token_create(f->s, "olga", "spare", spare, &err), GW_OK);
    token_rows rows = {{0}, {0}, 0};
    assert_int_equal(gw_store_token_list(f->s, "olga", collect, &rows, &err), GW_OK);
    assert_int_equal(rows.n, 2);
    /* revoking the spare leaves the first working */
    assert_int_equal(gw_store_token_revoke(f->s, rows.ids[1], &err), GW_OK);
    assert_int_equal(identify(f, NULL, NULL, spare, "10.0.0.7", &who), API_CRED_BAD_TOKEN);
    assert_int_equal(identify(f, NULL, NULL, f->op_token, "10.0.0.7", &who), API_CRED_TOKEN);
    assert_int_equal(gw_store_token_revoke(f->s, 9999, &err), GW_E_NOT_FOUND);
    rows.n = 0;
    assert_int_equal(gw_store_token_list(f->s, NULL, collect, &rows, &err), GW_OK);
    assert_int_equal(rows.n, 3);
    assert_true(rows.revoked[2]);
    assert_false(rows.revoked[0]);
    /* a disabled user: token and session stop at once; enabled again, the
     * token works, the ended session does not come back */
    gw_principal olga;
    assert_int_equal(identify(f, NULL, NULL, f->op_token, NULL, &olga), API_CRED_TOKEN);
    char sid[GW_TOKEN_LEN + 1];
    assert_int_equal(gw_store_session_create(f->s, &olga, 60, sid, &err), GW_OK);
    char cookies[128];
    snprintf(cookies, sizeof(cookies), "theme=dark; plcgw_session=%s; lang=en", sid);
    assert_int_equal(identify(f, NULL, cookies, NULL, "10.0.0.7", &who), API_CRED_SESSION);
    assert_string_equal(who.name, "olga");
    assert_int_equal(gw_store_user_set_disabled(f->s, "olga", true, &err), GW_OK);
    assert_int_equal(identify(f, NULL, NULL, f->op_token, NULL, &who), API_CRED_BAD_TOKEN);
    assert_int_equal(identify(f, NULL, cookies, NULL, NULL, &who), API_CRED_BAD_SESSION);
    assert_int_equal(gw_store_user_set_disabled(f->s, "olga", false, &err), GW_OK);
    assert_int_equal(identify(f, NULL, NULL, f->op_token, NULL, &who), API_CRED_TOKEN);
    assert_int_equal(identify(f, NULL, cookies, NULL, NULL, &who), API_CRED_BAD_SESSION);
    assert_int_equal(gw_store_user_set_disabled(f->s, "nobody", true, &err), GW_E_NOT_FOUND);
    /* the last admin stays */
    assert_int_equal(gw_store_user_set_disabled(f->s, "boss", true, &err), GW_E_INVAL);
    assert_non_null(strstr(err.msg, "last admin"));
    assert_int_equal(identify(f, NULL, NULL, f->admin_token, NULL, &who), API_CRED_TOKEN);
}

static void test_precedence(void **state)
{
    fixture *f = *state;
    gw_principal who, boss;
    gw_error err;
    assert_int_equal(identify(f, NULL, NULL, f->admin_token, NULL, &boss), API_CRED_TOKEN);
    char sid[GW_TOKEN_LEN + 1], cookies[80], h[80];
    assert_int_equal(gw_store_session_create(f->s, &boss, 60, sid, &err), GW_OK);
    snprintf(cookies, sizeof(cookies), "plcgw_session=%s", sid);
    snprintf(h, sizeof(h), "Bearer %s", f->op_token);
    /* a token wins over a cookie: a script's identity is what it sent */
    assert_int_equal(identify(f, h, cookies, NULL, "10.0.0.7", &who), API_CRED_TOKEN);
    assert_string_equal(who.name, "olga");
    /* a cookie wins over the loopback viewer */
    f->cfg->auth_loopback_viewer = true;
    assert_int_equal(identify(f, NULL, cookies, NULL, "127.0.0.1", &who), API_CRED_SESSION);
    assert_int_equal(who.role, GW_ROLE_ADMIN);
    /* a cookie that is not a session at all is ignored, not an error */
    assert_int_equal(identify(f, NULL, "plcgw_session=short", NULL, "127.0.0.1", &who),
                     API_CRED_LOOPBACK);
    f->cfg->auth_loopback_viewer = false;
    gw_store_session_delete(f->s, sid);
    assert_int_equal(identify(f, NULL, cookies, NULL, "10.0.0.7", &who), API_CRED_BAD_SESSION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anonymous),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_revoke_and_disable),
        cmocka_unit_test(test_precedence),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
