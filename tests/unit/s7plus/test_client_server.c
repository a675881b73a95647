/*
 * test_client_server.c - our S7CommPlus client against our S7CommPlus
 * server over TCP on 127.0.0.1, in both wire forms: many items in few
 * round trips, a failed item failing alone (unknown DB, past the end),
 * bits written without touching their neighbours, several clients with
 * distinct sessions, Explore, a stopped CPU still served, a server that
 * drops the connection mid-request and a reconnect. The server serves an
 * S7 server's memory; its write hook sees every client write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/s7plus/s7plus.h"

typedef struct {
    pthread_mutex_t mu;
    int writes;
} hook;

static void on_write(void *user, const gw_s7_write_event *ev)
{
    (void)ev;
    hook *h = user;
    pthread_mutex_lock(&h->mu);
    h->writes++;
    pthread_mutex_unlock(&h->mu);
}

typedef struct {
    gw_s7_server *mem;
    gw_s7p_server *srv;
    hook h;
    s7p_opts forms;
} fx;

static fx *fx_up(const s7p_opts *forms)
{
    static fx x;
    memset(&x, 0, sizeof(x));
    pthread_mutex_init(&x.h.mu, NULL);
    x.forms = *forms;
    gw_s7_server_opts so = {0};
    so.on_write = on_write;
    so.user = &x.h;
    gw_error err;
    assert_int_equal(gw_s7_server_new(&so, &x.mem, &err), GW_OK);
    assert_int_equal(gw_s7_server_add_area(x.mem, GW_S7_DB, 1, 24), GW_OK);
    assert_int_equal(gw_s7_server_add_area(x.mem, GW_S7_DB, 2, 300), GW_OK);
    assert_int_equal(gw_s7_server_add_area(x.mem, GW_S7_DB, 3, 10), GW_OK);
    uint8_t db2[300];
    for (int i = 0; i < 300; i++)
        db2[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(gw_s7_server_set(x.mem, GW_S7_DB, 2, 0, 300, db2), GW_OK);
    gw_s7p_server_opts po = {0};
    po.host = "127.0.0.1";
    po.forms = *forms;
    po.memory = x.mem;
    assert_int_equal(gw_s7p_server_new(&po, &x.srv, &err), GW_OK);
    const char *names[] = {"Pipe_Diameter", "Pipe_Length"};
    assert_int_equal(gw_s7p_server_set_names(x.srv, 1, names, 2), GW_OK);
    assert_int_equal(gw_s7p_server_start(x.srv, &err), GW_OK);
    return &x;
}

static void fx_down(fx *x)
{
    gw_s7p_server_free(x->srv);
    gw_s7_server_free(x->mem);
    pthread_mutex_destroy(&x->h.mu);
}

static int hook_writes(fx *x)
{
    /* the hook runs on the server thread after the answer went out */
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&x->h.mu);
        int n = x->h.writes;
        pthread_mutex_unlock(&x->h.mu);
        if (n)
            return n;
        usleep(5000);
    }
    return 0;
}

static gw_s7p_client *client_up(fx *x)
{
    gw_s7p_opts o = {0};
    o.host = "127.0.0.1";
    o.port = gw_s7p_server_port(x->srv);
    o.connect_timeout_ms = o.send_timeout_ms = o.recv_timeout_ms = 2000;
    o.forms = x->forms;
    gw_s7p_client *c;
    assert_int_equal(gw_s7p_client_new(&o, &c), GW_OK);
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_s7p_connect(c, &err);
    if (rc != GW_OK)
        print_error("connect: %s\n", err.msg);
    assert_int_equal(rc, GW_OK);
    return c;
}

static gw_s7_range rd(uint16_t db, uint32_t start, uint32_t len, uint8_t *dst)
{
    gw_s7_range r;
    memset(&r, 0, sizeof(r));
    r.area = GW_S7_DB;
    r.db = db;
    r.start = start;
    r.len = len;
    r.dst = dst;
    return r;
}

static void run_all(const s7p_opts *forms)
{
    fx *x = fx_up(forms);
    gw_s7p_client *c = client_up(x);
    gw_error err;

    /* 40 ranges of DB2 and one of DB1: few round trips, every byte right */
    uint8_t buf[41][8];
    gw_s7_range r[42];
    for (int i = 0; i < 40; i++)
        r[i] = rd(2, (uint32_t)i * 7, 5, buf[i]);
    r[40] = rd(1, 0, 4, buf[40]);
    uint64_t trips = gw_s7p_round_trips(c);
    assert_int_equal(gw_s7p_read(c, r, 41, &err), GW_OK);
    assert_true(gw_s7p_round_trips(c) - trips <= 3);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(r[i].result, GW_OK);
        for (int k = 0; k < 5; k++)
            assert_int_equal(buf[i][k], (uint8_t)((i * 7 + k) * 7 + 1));
    }

    /* an unknown DB and a read past the end fail alone */
    uint8_t a[4], b[4], d[4];
    gw_s7_range mix[3] = {rd(9, 0, 4, a), rd(3, 8, 4, b), rd(2, 296, 4, d)};
    assert_int_equal(gw_s7p_read(c, mix, 3, &err), GW_OK);
    assert_int_equal(mix[0].result, GW_E_NOT_FOUND);
    assert_int_not_equal(mix[1].result, GW_OK);
    assert_int_equal(mix[2].result, GW_OK);
    assert_int_equal(d[0], (uint8_t)(296 * 7 + 1));
    assert_true(gw_s7p_connected(c));

    /* writes: bytes, and two bits of one byte that keep the others */
    const uint8_t real[4] = {0x43, 0x9D, 0x80, 0x00}; /* 315.0 */
    gw_s7_range w = rd(1, 0, 4, NULL);
    w.src = real;
    assert_int_equal(gw_s7p_write(c, &w, 1, &err), GW_OK);
    assert_int_equal(w.result, GW_OK);
    assert_true(hook_writes(x) >= 1);
    const uint8_t pattern = 0x81;
    assert_int_equal(gw_s7_server_set(x->mem, GW_S7_DB, 3, 1, 1, &pattern), GW_OK);
    const uint8_t one = 1;
    gw_s7_range bits[2] = {rd(3, 1, 1, NULL), rd(3, 1, 1, NULL)};
    bits[0].is_bit = bits[1].is_bit = true;
    bits[0].bit = 2;
    bits[1].bit = 4;
    bits[0].src = bits[1].src = &one;
    assert_int_equal(gw_s7p_write(c, bits, 2, &err), GW_OK);
    assert_int_equal(bits[0].result, GW_OK);
    assert_int_equal(bits[1].result, GW_OK);
    uint8_t got[4];
    assert_int_equal(gw_s7_server_get(x->mem, GW_S7_DB, 3, 1, 1, got), GW_OK);
    assert_int_equal(got[0], 0x81 | 0x04 | 0x10);
    gw_s7_range bad = rd(3, 9, 4, NULL);
    bad.src = real;
    assert_int_equal(gw_s7p_write(c, &bad, 1, &err), GW_OK);
    assert_int_not_equal(bad.result, GW_OK);
    assert_int_equal(gw_s7_server_get(x->mem, GW_S7_DB, 3, 9, 1, got), GW_OK);
    assert_int_equal(got[0], 0); /* nothing written */

    /* a second client: its own session, the first one's write visible */
    gw_s7p_client *c2 = client_up(x);
    assert_int_not_equal(gw_s7p_session_id(c2), gw_s7p_session_id(c));
    gw_s7_range back = rd(1, 0, 4, got);
    assert_int_equal(gw_s7p_read(c2, &back, 1, &err), GW_OK);
    assert_memory_equal(got, real, 4);

    /* Explore: the DBs, their sizes and the names */
    gw_s7p_db *dbs;
    size_t n;
    assert_int_equal(gw_s7p_explore(c2, &dbs, &n, &err), GW_OK);
    assert_int_equal(n, 3);
    assert_int_equal(dbs[0].number, 1);
    assert_int_equal(dbs[1].number, 2);
    assert_int_equal(dbs[1].size, 300);
    assert_int_equal(dbs[0].nvars, 2);
    assert_string_equal(dbs[0].vars[1], "Pipe_Length");
    gw_s7p_dbs_free(dbs, n);

    /* a stopped CPU still answers reads and writes, as an S7-1200 does */
    gw_s7_server_set_cpu_state(x->mem, GW_S7_CPU_STOP);
    assert_int_equal(gw_s7p_read(c2, &back, 1, &err), GW_OK);
    assert_int_equal(back.result, GW_OK);
    w.result = GW_E_IO;
    assert_int_equal(gw_s7p_write(c2, &w, 1, &err), GW_OK);
    assert_int_equal(w.result, GW_OK);
    gw_s7_server_set_cpu_state(x->mem, GW_S7_CPU_RUN);
    gw_s7p_close(c2);
    gw_s7p_client_free(c2);

    /* the server drops the connection: the read fails with the link, the
     * client is closed, and a reconnect works */
    assert_int_equal(gw_tcpsrv_fault(gw_s7p_server_tcp(x->srv), GW_FAULT_DROP, 300, 0), GW_OK);
    usleep(100000); /* the server thread closes its connections when woken */
    gw_error_clear(&err);
    gw_err rc = gw_s7p_read(c, &back, 1, &err);
    assert_true(rc == GW_E_CONN_LOST || rc == GW_E_IO || rc == GW_E_TIMEOUT);
    assert_false(gw_s7p_connected(c));
    usleep(400000);
    assert_int_equal(gw_s7p_connect(c, &err), GW_OK);
    assert_int_equal(gw_s7p_read(c, &back, 1, &err), GW_OK);
    assert_int_equal(back.result, GW_OK);

    gw_s7p_close(c);
    gw_s7p_client_free(c);
    fx_down(x);
}

static void test_py7_forms(void **state)
{
    (void)state;
    s7p_opts o = {0};
    run_all(&o);
}

static void test_real_forms(void **state)
{
    (void)state;
    s7p_opts o;
    char why[100];
    assert_int_equal(s7p_opts_parse("real", &o, why, sizeof(why)), GW_OK);
    assert_true(o.lid_classic && o.blob_root_id && o.delete_long && o.names_utf8 &&
                o.oq_reference && o.explore_id);
    run_all(&o);
}

static void test_forms_parse(void **state)
{
    (void)state;
    s7p_opts o;
    char why[200];
    assert_int_equal(s7p_opts_parse("py7", &o, why, sizeof(why)), GW_OK);
    assert_false(o.lid_classic || o.blob_root_id || o.names_utf8);
    assert_int_equal(s7p_opts_parse("lid_classic,names_utf8", &o, why, sizeof(why)), GW_OK);
    assert_true(o.lid_classic && o.names_utf8);
    assert_false(o.blob_root_id || o.delete_long || o.oq_reference || o.explore_id);
    assert_int_equal(s7p_opts_parse("lid_classic,nope", &o, why, sizeof(why)), GW_E_INVAL);
    assert_non_null(strstr(why, "'nope' is not a form"));
    assert_int_equal(s7p_opts_parse("lid_classicx", &o, why, sizeof(why)), GW_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_parse),
        cmocka_unit_test(test_py7_forms),
        cmocka_unit_test(test_real_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
