/*
 * test_batch.c - gw_mb_write_many: neighbours that continue each other go
 * out as one FC 15 or FC 16 request, in the order given, and what the
 * server's request log shows is exactly that.
 */
#include "drivers/modbus/mb.h"

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

static const char map_text[] =
    "{\"endianness\": {\"byteorder\": \">\", \"wordorder\": \">\"}, \"mapping\": {"
    "\"00010\": {\"parameter\": \"c10\"}, \"00011\": {\"parameter\": \"c11\"},"
    "\"00013\": {\"parameter\": \"c13\"},"
    "\"40100\": {\"parameter\": \"a\", \"function\": \"decode_16bit_uint\"},"
    "\"40101/40102\": {\"parameter\": \"b\", \"function\": \"decode_32bit_uint\"},"
    "\"40103/1\": {\"parameter\": \"h\", \"function\": \"decode_8bit_uint\"},"
    "\"40104\": {\"parameter\": \"d\", \"function\": \"decode_16bit_uint\"},"
    "\"465535\": {\"parameter\": \"last\", \"function\": \"decode_16bit_uint\"}}}";

typedef struct {
    gw_tagmap *m;
    gw_mb_server *srv;
    gw_mb_client *cli;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    gw_diag d;
    gw_error err;
    if (gw_tagmap_load_buf("batch", map_text, strlen(map_text), &f->m, &d) != GW_OK)
        return -1;
    gw_mb_server_opts so = {0};
    so.host = "127.0.0.1";
    if (gw_mb_server_new(&so, &f->srv, &err) != GW_OK || gw_mb_server_start(f->srv, &err) != GW_OK)
        return -1;
    gw_mb_opts co = {0};
    co.host = "127.0.0.1";
    co.port = gw_mb_server_port(f->srv);
    co.unit = 1;
    if (gw_mb_client_new(&co, &f->cli) != GW_OK || gw_mb_connect(f->cli, &err) != GW_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gw_mb_client_free(f->cli);
    gw_mb_server_free(f->srv);
    gw_tagmap_free(f->m);
    free(f);
    return 0;
}

/* Prepares payload members in order into w[]. */
static size_t prepare(fixture *f, const char *payload, gw_write *w)
{
    json_t *p = json_loads(payload, 0, NULL);
    assert_non_null(p);
    size_t n = 0;
    const char *name;
    json_t *v;
    json_object_foreach(p, name, v) {
        gw_error err;
        assert_int_equal(gw_tag_prepare_write(f->m, gw_tagmap_find(f->m, name), v, &w[n], &err),
                         GW_OK);
        n++;
    }
    json_decref(p);
    return n;
}

static void test_coalesced_in_order(void **state)
{
    fixture *f = *state;
    gw_write w[8];
    size_t n = prepare(f, "{\"c10\": true, \"c11\": true, \"c13\": true, \"a\": 7, "
                          "\"b\": 305419896, \"h\": 9, \"d\": 4}", w);
    gw_mb_logged log[16];
    size_t before = gw_mb_server_log(f->srv, 0, log, 16);
    gw_err results[8];
    gw_error err;
    assert_int_equal(gw_mb_write_many(f->cli, w, n, results, &err), GW_OK);
    size_t k = gw_mb_server_log(f->srv, before, log, 16);
    /* c10 c11: FC 15 (2); c13 is not next to c11: FC 5; a b: FC 16 (3);
     * h owns half a register: FC 22; d: FC 6 (h broke the run) */
    assert_int_equal(k, 5);
    assert_int_equal(log[0].fc, 15);
    assert_int_equal(log[0].addr, 10);
    assert_int_equal(log[0].count, 2);
    assert_int_equal(log[1].fc, 5);
    assert_int_equal(log[1].addr, 13);
    assert_int_equal(log[2].fc, 16);
    assert_int_equal(log[2].addr, 100);
    assert_int_equal(log[2].count, 3);
    assert_int_equal(log[3].fc, 22);
    assert_int_equal(log[3].addr, 103);
    assert_int_equal(log[4].fc, 6);
    assert_int_equal(log[4].addr, 104);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(results[i], GW_OK);
    uint16_t regs[5], coils[4];
    gw_mb_server_get(f->srv, GW_MB_HOLDING, 100, 5, regs);
    assert_int_equal(regs[0], 7);
    assert_int_equal(regs[1], 0x1234);
    assert_int_equal(regs[2], 0x5678);
    assert_int_equal(regs[3] >> 8, 9);
    assert_int_equal(regs[4], 4);
    gw_mb_server_get(f->srv, GW_MB_COIL, 10, 4, coils);
    assert_int_equal(coils[0], 1);
    assert_int_equal(coils[1], 1);
    assert_int_equal(coils[2], 0);
    assert_int_equal(coils[3], 1);
}

static void test_order_is_kept(void **state)
{
    fixture *f = *state;
    gw_write w[4];
    /* b before a: not a continuation in the order given, so two requests */
    size_t n = prepare(f, "{\"b\": 1, \"a\": 2}", w);
    /* the next sequence number: one past the last logged request */
    gw_mb_logged all[64], log[8];
    size_t m = gw_mb_server_log(f->srv, 0, all, 64);
    uint64_t seq0 = m ? all[m - 1].seq + 1 : 0;
    gw_error err;
    assert_int_equal(gw_mb_write_many(f->cli, w, n, NULL, &err), GW_OK);
    size_t k = gw_mb_server_log(f->srv, seq0, log, 8);
    assert_int_equal(k, 2);
    assert_int_equal(log[0].addr, 101);
    assert_int_equal(log[1].addr, 100);
}

static void test_exception_fails_its_values_only(void **state)
{
    fixture *f = *state;
    gw_write w[4];
    size_t n = prepare(f, "{\"a\": 1, \"last\": 3, \"d\": 5}", w);
    /* "last" at 65535 plus a forged second register runs past the address
     * space: the server answers exception 2 for that request only */
    w[1].n = 2;
    w[1].regs[1] = 0;
    w[1].regmask[1] = 0xFFFF;
    gw_err results[4];
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_mb_write_many(f->cli, w, n, results, &err), GW_E_DEVICE_REJECTED);
    assert_int_equal(results[0], GW_OK);
    assert_int_equal(results[1], GW_E_DEVICE_REJECTED);
    assert_int_equal(results[2], GW_OK);
    assert_int_equal(err.device_code, 2);
    assert_true(gw_mb_connected(f->cli));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coalesced_in_order),
        cmocka_unit_test(test_order_is_kept),
        cmocka_unit_test(test_exception_fails_its_values_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
