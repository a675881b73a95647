/*
 * test_register_base.c - a Modbus machine's "register_base" (docs/config.md)
 * and the server's write check (gw_mb_server_opts.check_write).
 *
 * register_base 1: our client against our server, over real TCP; the
 * server's request log shows every function code going out one address
 * lower than the map says (reads FC 1-4, writes FC 5, 6, 16, 22, 15, the
 * FC 3 + FC 6 fallback); the map's address 0 cannot be sent and fails its
 * own tags only; the gateway config loads and checks the setting with
 * file:line:column errors.
 *
 * The write check: the hook sees the values a write would leave (FC 5, 6,
 * 15, 16, 22, 23) before it is carried out; a refusal reaches the client
 * as that exception, and nothing changes.
 */
#define _GNU_SOURCE
#include "mb_test_fixture.h"

#include "engine/engine.h"

/* ---------------------------------------------------------------- register_base */

static gw_mb_client *client_base(uint16_t port, uint8_t base)
{
    gw_mb_opts o;
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = port;
    o.unit = 1;
    o.connect_timeout_ms = o.response_timeout_ms = 2000;
    o.register_base = base;
    gw_mb_client *c = NULL;
    assert_int_equal(gw_mb_client_new(&o, &c), GW_OK);
    connect_ok(c);
    return c;
}

/* Reads with register_base 1: every class one lower on the wire, and the
 * values those addresses hold. */
static void test_reads_shifted(void **state)
{
    fx *f = *state;
    gw_mb_client *c = client_base(f->port, 1);
    gw_tagmap *m = load_text(fc_map);
    set_reg(f, GW_MB_COIL, 4, 1);
    set_reg(f, GW_MB_DISCRETE, 4, 1);
    set_reg(f, GW_MB_INPUT, 99, 0x3412);
    set_reg(f, GW_MB_HOLDING, 109, 0x3412); /* w16 at map 110, default byteorder "<" */
    log_skip(f);
    readall ra;
    read_all(c, m, &ra);
    expect_log(f, (const want_log[]){{1, 4, 1}, {2, 4, 1}, {3, 99, 20}, {4, 99, 1}}, 4);
    gw_value v = value_of(&ra, "coil");
    assert_true(v.v.b);
    v = value_of(&ra, "di");
    assert_true(v.v.b);
    v = value_of(&ra, "ir");
    assert_int_equal(v.v.i, 0x1234);
    v = value_of(&ra, "w16");
    assert_int_equal(v.v.i, 0x1234);
    readall_free(&ra);

    /* base 0 reads the map's own addresses */
    read_all(f->cli, m, &ra);
    expect_log(f, (const want_log[]){{1, 5, 1}, {2, 5, 1}, {3, 100, 20}, {4, 100, 1}}, 4);
    readall_free(&ra);
    gw_tagmap_free(m);
    gw_mb_client_free(c);
}

/* Writes with register_base 1: FC 5, 6, 16, 22, 15 and 16 in a batch, and
 * the FC 3 + FC 6 fallback, all one lower. */
static void test_writes_shifted(void **state)
{
    fx *f = *state;
    gw_mb_client *c = client_base(f->port, 1);
    gw_tagmap *m = load_text(fc_map);
    log_skip(f);

    write_ok(c, m, "coil", "true");
    assert_int_equal(reg_at(f, GW_MB_COIL, 4), 1);
    assert_int_equal(reg_at(f, GW_MB_COIL, 5), 0);
    write_ok(c, m, "w16", "4660");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 109), 0x3412);
    write_ok(c, m, "w32", "3.25");
    static const uint16_t f32[2] = {0x5040, 0x0000};
    regs_are(f, GW_MB_HOLDING, 110, f32, 2, "3.25f one lower");
    set_reg(f, GW_MB_HOLDING, 99, 0xAB00);
    write_ok(c, m, "lo", "92");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 99), 0xAB5C);
    expect_log(f, (const want_log[]){{5, 4, 1}, {6, 109, 1}, {16, 110, 2}, {22, 99, 1}}, 4);

    /* batches: neighbours as one FC 16 / FC 15 */
    static const char batch_map[] =
        "{\"mapping\": {\"40201\": {\"parameter\": \"a\", \"function\": \"decode_16bit_uint\"},"
        "\"40202\": {\"parameter\": \"b\", \"function\": \"decode_16bit_uint\"},"
        "\"00011\": {\"parameter\": \"c1\"}, \"00012\": {\"parameter\": \"c2\"}}}";
    gw_tagmap *bm = load_text(batch_map);
    gw_write w[4];
    const char *names[] = {"a", "b", "c1", "c2"};
    const char *vals[] = {"7", "8", "true", "true"};
    gw_error err;
    for (size_t i = 0; i < 4; i++) {
        json_t *j = json_loads(vals[i], JSON_DECODE_ANY, NULL);
        assert_int_equal(gw_tag_prepare_write(bm, tag(bm, names[i]), j, &w[i], &err), GW_OK);
        json_decref(j);
    }
    gw_err results[4];
    assert_int_equal(gw_mb_write_many(c, w, 4, results, &err), GW_OK);
    expect_log(f, (const want_log[]){{16, 200, 2}, {15, 10, 2}}, 2);
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 200), 0x0700); /* byteorder "<" */
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 201), 0x0800);
    assert_int_equal(reg_at(f, GW_MB_COIL, 10), 1);
    assert_int_equal(reg_at(f, GW_MB_COIL, 11), 1);
    gw_tagmap_free(bm);

    /* a device without FC 22: the fallback reads and writes one lower too */
    gw_mb_server_disable_mask_write(f->srv, true);
    write_ok(c, m, "hi", "18");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 99), 0x125C);
    expect_log(f, (const want_log[]){{22, 99, 1}, {3, 99, 1}, {6, 99, 1}}, 3);
    gw_mb_server_disable_mask_write(f->srv, false);
    gw_tagmap_free(m);
    gw_mb_client_free(c);
}

/* The map's address 0 has no PDU address with register_base 1: its tags
 * fail (GW_E_RANGE), nothing goes out, the connection stays. */
static void test_address_zero(void **state)
{
    fx *f = *state;
    gw_mb_client *c = client_base(f->port, 1);
    gw_tagmap *m = load_text(one_reg_map);
    log_skip(f);
    gw_mb_plan *p = NULL;
    assert_int_equal(gw_mb_plan_new(m, NULL, &p), GW_OK);
    gw_mb_readout *r = NULL;
    assert_int_equal(gw_mb_readout_new(p, &r), GW_OK);
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_mb_read_plan(c, p, r, &err), GW_OK);
    gw_value v;
    assert_int_equal(gw_mb_readout_value(p, r, 0, &v, &err), GW_E_RANGE);
    gw_error_clear(&err);
    assert_int_equal(write_value(c, m, "a", "1", &err), GW_E_RANGE);
    assert_non_null(strstr(err.msg, "register_base 1"));
    gw_mb_logged l[4];
    assert_int_equal(log_new(f, l, 4), 0);
    assert_true(gw_mb_connected(c));
    gw_mb_readout_free(r);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);
    gw_mb_client_free(c);

    /* only 0 and 1 */
    gw_mb_opts o;
    memset(&o, 0, sizeof(o));
    o.register_base = 2;
    gw_mb_client *bad = NULL;
    assert_int_equal(gw_mb_client_new(&o, &bad), GW_E_INVAL);
    assert_null(bad);
}

/* ---------------------------------------------------------------- config */

/* Loads a gateway config text (with map.json, a one-register map at
 * `key`, beside it); returns the result and the first error. */
static gw_err load_config(const char *text, const char *key, gw_config **cfg, char *first,
                          size_t size)
{
    char dir[] = "/tmp/gw_rb_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cpath[64], mpath[64];
    snprintf(cpath, sizeof(cpath), "%s/gw.json", dir);
    snprintf(mpath, sizeof(mpath), "%s/map.json", dir);
    FILE *fp = fopen(mpath, "w");
    assert_non_null(fp);
    if (key[0] == 'D')
        fprintf(fp, "{\"mapping\": {\"%s\": {\"parameter\": \"a\", \"function\": \"int\"}}}", key);
    else
        fprintf(fp, "{\"mapping\": {\"%s\": {\"parameter\": \"a\", \"function\": "
                "\"decode_16bit_uint\"}}}", key);
    fclose(fp);
    fp = fopen(cpath, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    gw_diag d;
    gw_diag_init(&d, cpath);
    *cfg = NULL;
    gw_err rc = gw_config_load(cpath, cfg, &d);
    first[0] = '\0';
    if (rc != GW_OK)
        gw_diag_first(&d, first, size);
    unlink(mpath);
    unlink(cpath);
    rmdir(dir);
    return rc;
}

static void test_config(void **state)
{
    (void)state;
    gw_config *cfg;
    char first[400];
    /* default 0; 1 stored */
    assert_int_equal(load_config("{\"machines\": [{\"id\": \"m\", \"driver\": \"modbus\", "
                                 "\"tags\": \"map.json\"}]}", "41000", &cfg, first,
                                 sizeof(first)), GW_OK);
    assert_int_equal(cfg->machines[0].register_base, 0);
    gw_config_free(cfg);
    assert_int_equal(load_config("{\"machines\": [{\"id\": \"m\", \"driver\": \"modbus\", "
                                 "\"register_base\": 1, \"tags\": \"map.json\"}]}", "41000", &cfg,
                                 first, sizeof(first)), GW_OK);
    assert_int_equal(cfg->machines[0].register_base, 1);
    gw_config_free(cfg);

    static const struct {
        const char *text, *key, *want;
    } bad[] = {
        {"{\"machines\": [{\"id\": \"m\", \"driver\": \"modbus\", \"register_base\": 2, "
         "\"tags\": \"map.json\"}]}", "41000", "gw.json:1:64: machine: \"register_base\" must be 0..1, got 2"},
        {"{\"machines\": [{\"id\": \"m\", \"driver\": \"modbus\", \"register_base\": 0.5, "
         "\"tags\": \"map.json\"}]}", "41000", "gw.json:1:64: machine: \"register_base\" must be a whole number"},
        {"{\"machines\": [{\"id\": \"m\", \"driver\": \"modbus\", \"register_base\": true, "
         "\"tags\": \"map.json\"}]}", "41000", "gw.json:1:64: machine: \"register_base\" must be a number"},
        {"{\"machines\": [{\"id\": \"s\", \"driver\": \"s7\", \"register_base\": 1, "
         "\"tags\": \"map.json\"}]}", "DB1.DBW0",
         "gw.json:1:60: machine \"s\": \"register_base\" applies to Modbus machines only"},
        {"{\"machines\": [{\"id\": \"m\", \"driver\": \"modbus\", \"register_base\": 1, "
         "\"tags\": \"map.json\"}]}", "40000",
         "gw.json:1:64: machine \"m\": with \"register_base\": 1 every address goes out one "
         "lower, but tag \"a\" (40000) is at address 0"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gw_err rc = load_config(bad[i].text, bad[i].key, &cfg, first, sizeof(first));
        if (rc != GW_E_CONFIG || !strstr(first, bad[i].want))
            fail_msg("case %zu: %s\n  got:  %s\n  want: ...%s", i, gw_err_name(rc), first,
                     bad[i].want);
        assert_null(cfg);
    }
}

/* ---------------------------------------------------------------- write check */

typedef struct {
    gw_mb_server *srv;
    gw_mb_client *cli;
    uint16_t port;
    pthread_mutex_t lock;
    int answer;                  /* the hook's verdict for writes touching 500 */
    size_t checks, writes;       /* hook calls */
    struct ck_last {             /* the last check */
        gw_mb_class cls;
        uint16_t start, count;
        uint16_t before[8], after[8];
    } last;
} ck;

static int ck_check(void *user, const gw_mb_write_event *ev)
{
    ck *k = user;
    pthread_mutex_lock(&k->lock);
    k->checks++;
    k->last.cls = ev->cls;
    k->last.start = ev->start;
    k->last.count = ev->count;
    for (size_t i = 0; i < ev->count && i < 8; i++) {
        k->last.before[i] = ev->before[i];
        k->last.after[i] = ev->after[i];
    }
    bool touches = ev->start <= 500 && ev->start + ev->count > 500;
    int verdict = touches ? k->answer : 0;
    pthread_mutex_unlock(&k->lock);
    return verdict;
}

static void ck_write(void *user, const gw_mb_write_event *ev)
{
    (void)ev;
    ck *k = user;
    pthread_mutex_lock(&k->lock);
    k->writes++;
    pthread_mutex_unlock(&k->lock);
}

static int ck_setup(void **state)
{
    ck *k = calloc(1, sizeof(*k));
    assert_non_null(k);
    pthread_mutex_init(&k->lock, NULL);
    k->answer = 4;
    gw_mb_server_opts so;
    memset(&so, 0, sizeof(so));
    so.host = "127.0.0.1";
    so.on_write = ck_write;
    so.check_write = ck_check;
    so.user = k;
    gw_error err;
    assert_int_equal(gw_mb_server_new(&so, &k->srv, &err), GW_OK);
    assert_int_equal(gw_mb_server_start(k->srv, &err), GW_OK);
    k->port = gw_mb_server_port(k->srv);
    k->cli = client_for(k->port, 1, 2000);
    connect_ok(k->cli);
    *state = k;
    return 0;
}

static int ck_teardown(void **state)
{
    ck *k = *state;
    gw_mb_client_free(k->cli);
    gw_mb_server_free(k->srv);
    pthread_mutex_destroy(&k->lock);
    free(k);
    return 0;
}

static void ck_reg(ck *k, uint16_t addr, uint16_t v)
{
    assert_int_equal(gw_mb_server_set(k->srv, GW_MB_HOLDING, addr, 1, &v), GW_OK);
}

static uint16_t ck_at(ck *k, gw_mb_class cls, uint16_t addr)
{
    uint16_t v;
    assert_int_equal(gw_mb_server_get(k->srv, cls, addr, 1, &v), GW_OK);
    return v;
}

/* Waits until the write hook ran n times (it runs after the answer). */
static void ck_writes(ck *k, size_t n)
{
    uint64_t deadline = gw_mono_ms() + 2000;
    for (;;) {
        pthread_mutex_lock(&k->lock);
        size_t w = k->writes;
        pthread_mutex_unlock(&k->lock);
        if (w >= n || gw_mono_ms() > deadline) {
            assert_int_equal(w, n);
            return;
        }
        usleep(500);
    }
}

/* Refused writes: the exception on the wire, the image unchanged, no
 * write hook; the rest carried out. */
static void test_check_refuses(void **state)
{
    ck *k = *state;
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", k->port);
    assert_non_null(ctx);
    modbus_set_slave(ctx, 1);
    assert_int_equal(modbus_connect(ctx), 0);
    ck_reg(k, 500, 77);

    assert_int_equal(modbus_write_register(ctx, 500, 1), -1);
    assert_int_equal(errno, EMBXSFAIL);
    uint16_t three[3] = {1, 2, 3};
    assert_int_equal(modbus_write_registers(ctx, 499, 3, three), -1);
    assert_int_equal(errno, EMBXSFAIL);
    assert_int_equal(modbus_mask_write_register(ctx, 500, 0, 5), -1);
    assert_int_equal(errno, EMBXSFAIL);
    uint16_t rd[2];
    assert_int_equal(modbus_write_and_read_registers(ctx, 500, 1, three, 0, 2, rd), -1);
    assert_int_equal(errno, EMBXSFAIL);
    assert_int_equal(ck_at(k, GW_MB_HOLDING, 499), 0);
    assert_int_equal(ck_at(k, GW_MB_HOLDING, 500), 77);
    assert_int_equal(ck_at(k, GW_MB_HOLDING, 501), 0);
    /* other codes; one the specification lacks is answered as 4 */
    k->answer = 2;
    assert_int_equal(modbus_write_register(ctx, 500, 1), -1);
    assert_int_equal(errno, EMBXILADD);
    k->answer = 99;
    assert_int_equal(modbus_write_register(ctx, 500, 1), -1);
    assert_int_equal(errno, EMBXSFAIL);
    ck_writes(k, 0);

    /* through our client: the device's refusal, the connection stays */
    k->answer = 4;
    gw_tagmap *m = load_text("{\"mapping\": {\"40500\": {\"parameter\": \"x\", \"function\": "
                             "\"decode_16bit_uint\"}}}");
    gw_error err;
    assert_int_equal(write_value(k->cli, m, "x", "5", &err), GW_E_DEVICE_REJECTED);
    assert_int_equal(err.device_code, 4);
    assert_true(gw_mb_connected(k->cli));
    gw_tagmap_free(m);

    /* allowed: carried out, the write hook runs */
    k->answer = 0;
    assert_int_equal(modbus_write_register(ctx, 500, 9), 1);
    assert_int_equal(ck_at(k, GW_MB_HOLDING, 500), 9);
    ck_writes(k, 1);
    modbus_close(ctx);
    modbus_free(ctx);
}

/* The last check, copied under the lock (the hook runs on the server's
 * thread). */
static struct ck_last last_check(ck *k)
{
    pthread_mutex_lock(&k->lock);
    struct ck_last c = k->last;
    pthread_mutex_unlock(&k->lock);
    return c;
}

/* The values a write would leave, for every write function. */
static void test_check_preview(void **state)
{
    ck *k = *state;
    struct ck_last c;
    k->answer = 0;
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", k->port);
    assert_non_null(ctx);
    modbus_set_slave(ctx, 1);
    assert_int_equal(modbus_connect(ctx), 0);

    ck_reg(k, 600, 0xF0F0);
    assert_int_equal(modbus_write_register(ctx, 600, 0x1234), 1);
    c = last_check(k);
    assert_int_equal(c.start, 600);
    assert_int_equal(c.before[0], 0xF0F0);
    assert_int_equal(c.after[0], 0x1234);

    uint16_t two[2] = {0xAAAA, 0x5555};
    assert_int_equal(modbus_write_registers(ctx, 601, 2, two), 2);
    c = last_check(k);
    assert_int_equal(c.count, 2);
    assert_int_equal(c.after[0], 0xAAAA);
    assert_int_equal(c.after[1], 0x5555);

    /* FC 22: (current AND and) OR (or AND NOT and) */
    ck_reg(k, 603, 0x12F0);
    assert_int_equal(modbus_mask_write_register(ctx, 603, 0xFF00, 0x0025), 1);
    c = last_check(k);
    assert_int_equal(c.before[0], 0x12F0);
    assert_int_equal(c.after[0], 0x1225);
    assert_int_equal(ck_at(k, GW_MB_HOLDING, 603), 0x1225);

    /* FC 23: the written part */
    uint16_t rd[1];
    assert_int_equal(modbus_write_and_read_registers(ctx, 604, 2, two, 600, 1, rd), 1);
    c = last_check(k);
    assert_int_equal(c.start, 604);
    assert_int_equal(c.after[1], 0x5555);

    /* coils: FC 5 and FC 15 */
    assert_int_equal(modbus_write_bit(ctx, 20, 1), 1);
    c = last_check(k);
    assert_int_equal(c.cls, GW_MB_COIL);
    assert_int_equal(c.after[0], 1);
    uint8_t bits[5] = {1, 0, 1, 1, 0};
    assert_int_equal(modbus_write_bits(ctx, 30, 5, bits), 5);
    c = last_check(k);
    assert_int_equal(c.count, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(c.after[i], bits[i]);
    assert_int_equal(ck_at(k, GW_MB_COIL, 32), 1);
    modbus_close(ctx);
    modbus_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_shifted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_shifted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_zero, setup, teardown),
        cmocka_unit_test(test_config),
        cmocka_unit_test_setup_teardown(test_check_refuses, ck_setup, ck_teardown),
        cmocka_unit_test_setup_teardown(test_check_preview, ck_setup, ck_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
