/*
 * mb_test_fixture.h - the in-process Modbus server and client fixture and
 * the helpers shared by test_client_server.c and test_failures.c (static
 * inline: each file uses some of them). Define _GNU_SOURCE before it.
 */
#ifndef MB_TEST_FIXTURE_H
#define MB_TEST_FIXTURE_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <modbus/modbus.h>

#include "core/core.h"
#include "drivers/modbus/mb_internal.h"
#include "tags/tags.h"

/* ------------------------------------------------------------ fixture */

#define HOOK_MAX 256

typedef struct {
    gw_mb_class cls;
    uint16_t start, count;
} hook_call;

typedef struct {
    gw_mb_server *srv;
    gw_mb_client *cli;
    uint16_t port;
    uint64_t seen;               /* next log seq to look at */
    pthread_mutex_t hook_lock;
    hook_call hooks[HOOK_MAX];
    size_t nhooks;
} fx;

static inline void on_write(void *user, const gw_mb_write_event *ev)
{
    fx *f = user;
    pthread_mutex_lock(&f->hook_lock);
    if (f->nhooks < HOOK_MAX)
        f->hooks[f->nhooks++] = (hook_call){ev->cls, ev->start, ev->count};
    pthread_mutex_unlock(&f->hook_lock);
}

/*
 * The server calls the hook on its thread after it sent the answer, so a
 * client may see its answer before the hook ran. A sentinel write (FC 6 to
 * holding register 65000 by the fixture's client) settles that: requests
 * are served one after another, so once the sentinel's hook has run, every
 * hook of an earlier request has too. Returns the hooks before the
 * sentinel and moves the request log past it.
 */
static inline void log_skip(fx *f);

static inline size_t hooks_settle(fx *f, hook_call *out, size_t max)
{
    static gw_tag sentinel;
    sentinel.key = "465000";
    sentinel.parameter = "sentinel";
    sentinel.addr.driver = GW_DRIVER_MODBUS;
    sentinel.addr.mb_class = GW_MB_HOLDING;
    sentinel.addr.reg = 65000;
    sentinel.type = GW_T_U16;
    sentinel.nregs = 1;
    gw_write w;
    memset(&w, 0, sizeof(w));
    w.tag = &sentinel;
    w.n = 1;
    w.regs[0] = 0x5A5A;
    w.regmask[0] = 0xFFFF;
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_mb_write(f->cli, &w, &err), GW_OK);
    uint64_t deadline = gw_mono_ms() + 5000;
    size_t n = 0;
    bool seen = false;
    while (!seen && gw_mono_ms() < deadline) {
        pthread_mutex_lock(&f->hook_lock);
        for (size_t i = 0; i < f->nhooks && !seen; i++) {
            if (f->hooks[i].start == 65000 && f->hooks[i].count == 1) {
                seen = true;
                n = i < max ? i : max;
                memcpy(out, f->hooks, n * sizeof(*out));
                f->nhooks = 0;
            }
        }
        pthread_mutex_unlock(&f->hook_lock);
        if (!seen)
            usleep(1000);
    }
    assert_true(seen);
    log_skip(f);
    return n;
}

static inline gw_mb_client *client_for(uint16_t port, uint8_t unit, uint32_t timeout_ms)
{
    gw_mb_opts o;
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = port;
    o.unit = unit;
    o.connect_timeout_ms = timeout_ms;
    o.response_timeout_ms = timeout_ms;
    gw_mb_client *c = NULL;
    assert_int_equal(gw_mb_client_new(&o, &c), GW_OK);
    return c;
}

static inline void connect_ok(gw_mb_client *c)
{
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_mb_connect(c, &err);
    if (rc != GW_OK)
        print_error("connect: %s\n", err.msg);
    assert_int_equal(rc, GW_OK);
    assert_true(gw_mb_connected(c));
}

static inline int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    pthread_mutex_init(&f->hook_lock, NULL);
    gw_mb_server_opts so;
    memset(&so, 0, sizeof(so));
    so.host = "127.0.0.1";
    so.port = 0;
    so.on_write = on_write;
    so.user = f;
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_mb_server_new(&so, &f->srv, &err), GW_OK);
    assert_int_equal(gw_mb_server_start(f->srv, &err), GW_OK);
    f->port = gw_mb_server_port(f->srv);
    assert_true(f->port != 0);
    f->cli = client_for(f->port, 1, 2000);
    connect_ok(f->cli);
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    fx *f = *state;
    gw_mb_client_free(f->cli);
    gw_mb_server_free(f->srv);
    pthread_mutex_destroy(&f->hook_lock);
    free(f);
    return 0;
}

/* Requests the server logged since the last call. */
static inline size_t log_new(fx *f, gw_mb_logged *out, size_t max)
{
    size_t n = gw_mb_server_log(f->srv, f->seen, out, max);
    assert_true(n < max); /* the test expects few; more is a failure */
    if (n)
        f->seen = out[n - 1].seq + 1;
    return n;
}

static inline void log_skip(fx *f)
{
    gw_mb_logged l[64];
    size_t n;
    while ((n = gw_mb_server_log(f->srv, f->seen, l, 64)) > 0)
        f->seen = l[n - 1].seq + 1;
}

static inline void print_log(const gw_mb_logged *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        print_error("  log: seq %llu unit %u FC %u addr %u count %u\n",
                    (unsigned long long)l[i].seq, l[i].unit, l[i].fc, l[i].addr, l[i].count);
}

typedef struct {
    uint8_t fc;
    uint16_t addr, count;
} want_log;

static inline void expect_log(fx *f, const want_log *w, size_t n)
{
    gw_mb_logged l[64];
    size_t got = log_new(f, l, 64);
    bool same = got == n;
    for (size_t i = 0; same && i < n; i++)
        same = l[i].fc == w[i].fc && l[i].addr == w[i].addr && l[i].count == w[i].count &&
               l[i].unit == 1 && strncmp(l[i].peer, "127.0.0.1:", 10) == 0;
    if (!same) {
        print_error("expected %zu requests:\n", n);
        for (size_t i = 0; i < n; i++)
            print_error("  FC %u addr %u count %u\n", w[i].fc, w[i].addr, w[i].count);
        print_log(l, got);
    }
    assert_true(same);
}

static inline gw_tagmap *load_text(const char *text)
{
    gw_diag d;
    gw_diag_init(&d, "map.json");
    gw_tagmap *m = NULL;
    gw_err rc = gw_tagmap_load_buf("map.json", text, strlen(text), &m, &d);
    if (rc != GW_OK) {
        print_error("map did not load:\n%s\n", text);
        gw_diag_print(&d, stderr);
    }
    assert_int_equal(rc, GW_OK);
    return m;
}

static inline size_t index_of(const gw_tagmap *m, const char *param)
{
    for (size_t i = 0; i < gw_tagmap_count(m); i++)
        if (strcmp(gw_tagmap_at(m, i)->parameter, param) == 0)
            return i;
    return (size_t)-1;
}

static const gw_tag *tag(const gw_tagmap *m, const char *param)
{
    const gw_tag *t = gw_tagmap_find(m, param);
    if (!t)
        print_error("no tag \"%s\"\n", param);
    assert_non_null(t);
    return t;
}

/* prepare + write one JSON value; returns the write's result */
static inline gw_err write_value(gw_mb_client *c, const gw_tagmap *m, const char *param,
                          const char *json_text, gw_error *err)
{
    json_error_t je;
    json_t *j = json_loads(json_text, JSON_DECODE_ANY, &je);
    if (!j)
        print_error("test bug: bad JSON %s\n", json_text);
    assert_non_null(j);
    gw_write w;
    gw_error_clear(err);
    gw_err rc = gw_tag_prepare_write(m, tag(m, param), j, &w, err);
    json_decref(j);
    if (rc != GW_OK) {
        print_error("prepare %s = %s: %s\n", param, json_text, err->msg);
        return rc;
    }
    gw_error_clear(err);
    return gw_mb_write(c, &w, err);
}

static inline void write_ok(gw_mb_client *c, const gw_tagmap *m, const char *param, const char *json)
{
    gw_error err;
    gw_err rc = write_value(c, m, param, json, &err);
    if (rc != GW_OK)
        print_error("write %s = %s: %s (%s)\n", param, json, err.msg, gw_err_name(rc));
    assert_int_equal(rc, GW_OK);
}

/* A read of the whole map. */
typedef struct {
    gw_mb_plan *plan;
    gw_mb_readout *r;
    const gw_tagmap *m;
} readall;

static inline void read_all(gw_mb_client *c, const gw_tagmap *m, readall *ra)
{
    ra->m = m;
    assert_int_equal(gw_mb_plan_new(m, NULL, &ra->plan), GW_OK);
    assert_int_equal(gw_mb_readout_new(ra->plan, &ra->r), GW_OK);
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_mb_read_plan(c, ra->plan, ra->r, &err);
    if (rc != GW_OK)
        print_error("read: %s\n", err.msg);
    assert_int_equal(rc, GW_OK);
}

static inline void readall_free(readall *ra)
{
    gw_mb_readout_free(ra->r);
    gw_mb_plan_free(ra->plan);
}

static inline gw_value value_of(const readall *ra, const char *param)
{
    size_t i = index_of(ra->m, param);
    if (i >= gw_tagmap_count(ra->m))
        print_error("no tag \"%s\"\n", param);
    assert_true(i < gw_tagmap_count(ra->m));
    gw_value v;
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_mb_readout_value(ra->plan, ra->r, i, &v, &err);
    if (rc != GW_OK)
        print_error("%s: %s\n", param, err.msg);
    assert_int_equal(rc, GW_OK);
    return v;
}

static inline void regs_are(fx *f, gw_mb_class cls, uint16_t start, const uint16_t *want, size_t n,
                     const char *what)
{
    uint16_t got[16];
    assert_true(n <= 16);
    assert_int_equal(gw_mb_server_get(f->srv, cls, start, (uint16_t)n, got), GW_OK);
    if (memcmp(got, want, n * sizeof(uint16_t)) != 0) {
        print_error("%s: registers at %u:\n", what, start);
        for (size_t i = 0; i < n; i++)
            print_error("  got 0x%04X want 0x%04X\n", got[i], want[i]);
        fail();
    }
}

static inline uint16_t reg_at(fx *f, gw_mb_class cls, uint16_t addr)
{
    uint16_t v = 0;
    assert_int_equal(gw_mb_server_get(f->srv, cls, addr, 1, &v), GW_OK);
    return v;
}

static inline void set_reg(fx *f, gw_mb_class cls, uint16_t addr, uint16_t v)
{
    assert_int_equal(gw_mb_server_set(f->srv, cls, addr, 1, &v), GW_OK);
}


/* maps shared by the test files */
static const char fc_map[] =
    "{\"mapping\": {"
    "\"40100/1\": {\"parameter\": \"hi\", \"function\": \"decode_8bit_uint\"},"
    "\"40100/2\": {\"parameter\": \"lo\", \"function\": \"decode_8bit_uint\"},"
    "\"40101\": {\"parameter\": \"word_bits\", \"function\": \"decode_bits\","
    "  \"map\": {\"0b0000000000001000\": \"test3\", \"0b0000000100000000\": \"hb0\"}},"
    "\"40102/1\": {\"parameter\": \"TEST1\", \"function\": \"decode_bits\","
    "  \"map\": {\"0b10000000\": \"test7\"}},"
    "\"40102/2\": {\"parameter\": \"TEST2\", \"function\": \"decode_bits\","
    "  \"map\": {\"0b00000001\": \"test0\", \"0b00001000\": \"test3\","
    "           \"0b10000000\": \"test7\"}},"
    "\"40110\": {\"parameter\": \"w16\", \"function\": \"decode_16bit_uint\"},"
    "\"40111\": {\"parameter\": \"w32\", \"function\": \"decode_32bit_float\"},"
    "\"40113\": {\"parameter\": \"w64\", \"function\": \"decode_64bit_int\"},"
    "\"40117/40119\": {\"parameter\": \"wstr\", \"function\": \"decode_string\"},"
    "\"00005\": {\"parameter\": \"coil\"},"
    "\"10005\": {\"parameter\": \"di\"},"
    "\"30100\": {\"parameter\": \"ir\", \"function\": \"decode_16bit_uint\"}}}";

static const char one_reg_map[] =
    "{\"mapping\": {\"40000\": {\"parameter\": \"a\", \"function\": \"decode_16bit_uint\"}}}";

#endif
