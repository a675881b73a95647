/*
 * test_engine_s7plus.c - a machine with "driver": "s7plus" in the engine:
 * values arrive with their quality (a tag in a missing DB is bad, the
 * others good), writes are confirmed (a bit by a read-modify-write of its
 * byte), a dropped connection makes values stale and the engine
 * reconnects, "s7plus_forms" is parsed and checked.
 *
 * The PLC is a small S7CommPlus responder on 127.0.0.1 that answers as
 * py7's emulator does (docs/s7commplus.md S4, S5), built on the codec:
 * DB2 of 64 bytes, no other DB. It is a test double, not the project's
 * S7CommPlus server.
 */
#include "drivers/s7plus/s7p_codec.h"
#include "engine/engine.h"

#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ------------------------------------------------------------ the responder */

typedef struct {
    int lfd;
    uint16_t port;
    pthread_t th;
    atomic_bool stop, drop;
    atomic_uint connects, writes;
    pthread_mutex_t lock;
    uint8_t db2[64];
} plc;

static bool read_all(int fd, uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0)
            return false;
        ssize_t r = recv(fd, p + off, n - off, 0);
        if (r <= 0)
            return false;
        off += (size_t)r;
    }
    return true;
}

static void send_dt(int fd, const uint8_t *data, size_t n)
{
    uint8_t f[4096];
    size_t total = n + 15;
    memcpy(f, (uint8_t[]){3, 0, (uint8_t)(total >> 8), (uint8_t)total, 2, 0xF0, 0x80, 0x72, 1,
                          (uint8_t)(n >> 8), (uint8_t)n}, 11);
    memcpy(f + 11, data, n);
    memcpy(f + 11 + n, (uint8_t[]){0x72, 1, 0, 0}, 4);
    ssize_t w = send(fd, f, total, MSG_NOSIGNAL);
    (void)w;
}

/* One request PDU (header + payload) answered into w. */
static void serve(plc *p, const uint8_t *pdu, size_t len, s7p_w *w)
{
    s7p_hdr h;
    const uint8_t *pl;
    size_t pn;
    if (s7p_hdr_decode(pdu, len, &h, &pl, &pn) != GW_OK)
        return;
    s7p_hdr rh = {S7P_OP_RESPONSE, h.function, h.seq, 0, 0};
    s7p_put_hdr(w, &rh);
    if (h.function == S7P_FN_INIT_SSL) {
        s7p_initssl_rsp_encode(w, 0);
    } else if (h.function == S7P_FN_CREATE_OBJECT) {
        s7p_createobj_rsp_encode_py7(w, atomic_load(&p->connects), 1);
    } else if (h.function == S7P_FN_GET_MULTI) {
        s7p_getmulti_req req;
        s7p_getmulti_req_decode(pl, pn, &req);
        s7p_getmulti_rsp_begin(w, 0);
        size_t pos = 0, item = 0, nbad = 0;
        uint32_t bad[32];
        s7p_addr a;
        while (s7p_addr_next(req.addrs, req.addrs_len, &pos, &a) == GW_OK) {
            uint16_t db;
            uint32_t start, n;
            item++;
            if (s7p_addr_db_parse(&a, &db, &start, &n) != GW_OK || db != 2 || start + n > 64) {
                bad[nbad++] = (uint32_t)item;
                continue;
            }
            s7p_put_vlq_u32(w, (uint32_t)item);
            pthread_mutex_lock(&p->lock);
            s7p_put_pv_blob(w, NULL, p->db2 + start, n);
            pthread_mutex_unlock(&p->lock);
        }
        s7p_put_u8(w, 0);
        for (size_t k = 0; k < nbad; k++)
            s7p_put_item_error(w, bad[k], S7P_ERR_NO_DB);
        s7p_getmulti_rsp_end(w, 0);
    } else if (h.function == S7P_FN_SET_MULTI) {
        s7p_setmulti_req req;
        s7p_setmulti_req_decode(pl, pn, NULL, &req);
        s7p_setmulti_rsp_begin(w, 0);
        s7p_setmulti_iter it = {0};
        s7p_setmulti_item si;
        while (req.in_object_id == 0 && s7p_setmulti_next(&req, NULL, &it, &si) == GW_OK) {
            uint16_t db;
            uint32_t start, n;
            if (s7p_addr_db_parse(&si.addr, &db, &start, &n) != GW_OK || db != 2 ||
                start + si.pv.data_len > 64) {
                s7p_put_item_error(w, si.item_number, S7P_ERR_NO_DB);
                continue;
            }
            pthread_mutex_lock(&p->lock);
            memcpy(p->db2 + start, si.pv.data, si.pv.data_len);
            pthread_mutex_unlock(&p->lock);
            atomic_fetch_add(&p->writes, 1);
        }
        s7p_getmulti_rsp_end(w, 0);
    } else {
        s7p_deleteobj_rsp_encode(w, 0);
    }
}

static void serve_conn(plc *p, int fd)
{
    uint8_t buf[8192], out[4096];
    while (!atomic_load(&p->stop) && !atomic_load(&p->drop)) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 20) <= 0)
            continue;
        if (!read_all(fd, buf, 4))
            return;
        size_t n = (size_t)buf[2] << 8 | buf[3];
        if (n < 7 || n > sizeof(buf) || !read_all(fd, buf + 4, n - 4))
            return;
        if (buf[5] == 0xE0) { /* CR: CC */
            static const uint8_t cc[] = {3, 0, 0, 14, 9, 0xD0, 0, 1, 0, 1, 0, 0xC0, 1, 0x0A};
            if (send(fd, cc, sizeof(cc), MSG_NOSIGNAL) < 0)
                return;
            continue;
        }
        if (buf[5] != 0xF0 || n < 15)
            return; /* DR or anything else: done */
        s7p_w w;
        s7p_w_init(&w, out, sizeof(out));
        serve(p, buf + 11, n - 15, &w);
        size_t len;
        if (s7p_w_finish(&w, &len) == GW_OK)
            send_dt(fd, out, len);
    }
}

static void *plc_main(void *arg)
{
    plc *p = arg;
    while (!atomic_load(&p->stop)) {
        struct pollfd pfd = {p->lfd, POLLIN, 0};
        if (poll(&pfd, 1, 20) <= 0)
            continue;
        char name[64];
        int fd = gw_net_accept(p->lfd, false, name, sizeof(name));
        if (fd < 0)
            continue;
        if (atomic_load(&p->drop)) {
            close(fd);
            continue;
        }
        atomic_fetch_add(&p->connects, 1);
        serve_conn(p, fd);
        close(fd);
    }
    return NULL;
}

/* ------------------------------------------------------------ fixture */

typedef struct {
    plc plc;
    char dir[64];
    char path[128];
    gw_config *cfg;
    gw_engine *engine;
} fixture;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char map_text[] =
    "{\"driver\": \"s7\", \"mapping\": {"
    "\"DB2.DBD0\": {\"parameter\": \"Force\", \"function\": \"real\", \"access\": \"rw\"},"
    "\"DB2.DBX4.1\": {\"parameter\": \"Lock\", \"function\": \"bool\", \"access\": \"rw\"},"
    "\"DB2.DBW6\": {\"parameter\": \"Count\", \"function\": \"int\", \"access\": \"rw\"},"
    "\"DB9.DBW0\": {\"parameter\": \"Missing\", \"function\": \"int\"}}}";

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    plc *p = &f->plc;
    pthread_mutex_init(&p->lock, NULL);
    p->db2[0] = 0x41; /* 23.5 */
    p->db2[1] = 0xbc;
    p->db2[4] = 0xf0;
    p->db2[7] = 7;
    if (gw_net_listen("127.0.0.1", 0, 4, &p->lfd, &p->port, NULL) != GW_OK ||
        pthread_create(&p->th, NULL, plc_main, p) != 0)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/plcgw-test-s7p-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char map[128], text[600];
    snprintf(map, sizeof(map), "%s/map.json", f->dir);
    write_file(map, map_text);
    snprintf(f->path, sizeof(f->path), "%s/gw.json", f->dir);
    snprintf(text, sizeof(text), "{\"machines\": [{\"id\": \"cpu\", \"driver\": \"s7plus\", "
             "\"port\": %u, \"timeout_ms\": 500, \"tags\": \"map.json\", \"scan\": {\"fast\": 50}, "
             "\"s7plus_forms\": {\"names_utf8\": true}}]}", p->port);
    write_file(f->path, text);
    gw_diag d;
    gw_error err;
    if (gw_config_load(f->path, &f->cfg, &d) != GW_OK) {
        gw_diag_print(&d, stderr);
        return -1;
    }
    if (gw_engine_new(f->cfg, NULL, &f->engine) != GW_OK ||
        gw_engine_start(f->engine, &err) != GW_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gw_engine_free(f->engine);
    gw_config_free(f->cfg);
    atomic_store(&f->plc.stop, true);
    pthread_join(f->plc.th, NULL);
    close(f->plc.lfd);
    pthread_mutex_destroy(&f->plc.lock);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static bool wait_value(fixture *f, const char *param, gw_quality q, double want,
                       unsigned timeout_ms)
{
    uint64_t deadline = gw_mono_ms() + timeout_ms;
    for (;;) {
        const gw_snapshot *s = gw_engine_snapshot(f->engine, "cpu");
        assert_non_null(s);
        bool ok = false;
        for (size_t i = 0; i < s->n; i++)
            if (strcmp(gw_tagmap_at(s->machine->tags, i)->parameter, param) == 0)
                ok = s->quality[i] == q &&
                     (isnan(want) || gw_value_as_double(&s->values[i]) == want);
        gw_snapshot_release(s);
        if (ok)
            return true;
        if (gw_mono_ms() >= deadline)
            return false;
        sleep_ms(10);
    }
}

/* ------------------------------------------------------------ tests */

static void test_config_forms(void **state)
{
    fixture *f = *state;
    const gw_machine_cfg *m = gw_config_machine(f->cfg, "cpu");
    assert_true(m->s7plus);
    assert_int_equal(m->driver, GW_DRIVER_S7);
    assert_true(m->s7p_forms.names_utf8);
    assert_false(m->s7p_forms.lid_classic);
    /* unknown flags, non-booleans and forms on an S7 machine are errors */
    static const char *bad[] = {
        "{\"machines\": [{\"id\": \"a\", \"driver\": \"s7plus\", \"tags\": \"map.json\", "
        "\"s7plus_forms\": {\"lid_clasic\": true}}]}",
        "{\"machines\": [{\"id\": \"a\", \"driver\": \"s7plus\", \"tags\": \"map.json\", "
        "\"s7plus_forms\": {\"lid_classic\": 1}}]}",
        "{\"machines\": [{\"id\": \"a\", \"driver\": \"s7\", \"tags\": \"map.json\", "
        "\"s7plus_forms\": {}}]}",
    };
    char path[128];
    snprintf(path, sizeof(path), "%s/bad.json", f->dir);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(path, bad[i]);
        gw_config *cfg = NULL;
        gw_diag d;
        assert_int_equal(gw_config_load(path, &cfg, &d), GW_E_CONFIG);
        assert_null(cfg);
    }
}

static void test_values_and_quality(void **state)
{
    fixture *f = *state;
    assert_true(wait_value(f, "Force", GW_Q_GOOD, 23.5, 3000));
    assert_true(wait_value(f, "Lock", GW_Q_GOOD, 0, 100));
    assert_true(wait_value(f, "Count", GW_Q_GOOD, 7, 100));
    assert_true(wait_value(f, "Missing", GW_Q_BAD, NAN, 100));
    const gw_snapshot *s = gw_engine_snapshot(f->engine, "cpu");
    assert_true(s->connected);
    gw_snapshot_release(s);
}

static void prepare(fixture *f, const char *param, json_t *value, gw_write *w)
{
    const gw_machine_cfg *m = gw_config_machine(f->cfg, "cpu");
    gw_error err;
    assert_int_equal(gw_tag_prepare_write(m->tags, gw_tagmap_find(m->tags, param), value, w, &err),
                     GW_OK);
    json_decref(value);
}

static void test_write_confirmed(void **state)
{
    fixture *f = *state;
    assert_true(wait_value(f, "Force", GW_Q_GOOD, 23.5, 3000));
    gw_write w[3];
    prepare(f, "Force", json_real(12.25), &w[0]);
    prepare(f, "Lock", json_true(), &w[1]);
    prepare(f, "Count", json_integer(-2), &w[2]);
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_engine_write(f->engine, "cpu", w, NULL, 3, 0, false, 2000, &err), GW_OK);
    pthread_mutex_lock(&f->plc.lock);
    assert_memory_equal(f->plc.db2, ((uint8_t[]){0x41, 0x44, 0, 0, 0xf2, 0, 0xff, 0xfe}), 8);
    pthread_mutex_unlock(&f->plc.lock);
    assert_true(wait_value(f, "Force", GW_Q_GOOD, 12.25, 250));
    assert_true(wait_value(f, "Lock", GW_Q_GOOD, 1, 250));
    assert_true(wait_value(f, "Count", GW_Q_GOOD, -2, 250));
}

static void test_drop_and_reconnect(void **state)
{
    fixture *f = *state;
    assert_true(wait_value(f, "Force", GW_Q_GOOD, 23.5, 3000));
    unsigned connects = atomic_load(&f->plc.connects);
    atomic_store(&f->plc.drop, true);
    assert_true(wait_value(f, "Force", GW_Q_STALE, NAN, 2000));
    const gw_snapshot *s = gw_engine_snapshot(f->engine, "cpu");
    assert_false(s->connected);
    assert_non_null(strstr(s->error, "plc 127.0.0.1:"));
    gw_snapshot_release(s);
    atomic_store(&f->plc.drop, false);
    assert_true(wait_value(f, "Force", GW_Q_GOOD, 23.5, 6000));
    assert_true(atomic_load(&f->plc.connects) > connects);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_and_quality, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_confirmed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_and_reconnect, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
