/*
 * test_server_tmct.c - timers and counters (docs/s7comm.md 15): our client
 * against our server over TCP on 127.0.0.1; raw items for what a CPU
 * refuses (the area and the transport size disagree, a wrong length, past
 * the last timer). The server and client come from s7_test_fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/s7/s7_internal.h"
#include "s7_test_fixture.h"

#define TIMERS 64
#define COUNTERS 32

typedef struct {
    gw_s7_server *s;
    gw_s7_client *c;
} fx;

static int fx_up(void **state, uint16_t pdu)
{
    static fx x;
    memset(&x, 0, sizeof(x));
    gw_s7_server_opts so = {0};
    so.host = "127.0.0.1";
    so.timers = TIMERS;
    so.counters = COUNTERS;
    x.s = s7fx_server_new(&so);
    s7fx_start(x.s);
    x.c = s7fx_client_up(gw_s7_server_port(x.s), pdu);
    *state = &x;
    return 0;
}

static int setup240(void **state) { return fx_up(state, 240); }

static int teardown(void **state)
{
    fx *x = *state;
    gw_s7_client_free(x->c);
    gw_s7_server_free(x->s);
    return 0;
}

/* Timers and counters written and read back, also across several
 * requests (at PDU 240 one request carries 106 of them). */
static void test_round_trip(void **state)
{
    fx *x = *state;
    gw_error err;
    uint16_t w[TIMERS], r[TIMERS];
    for (int i = 0; i < TIMERS; i++)
        w[i] = (uint16_t)(0x1000 * (i % 4) + 0x0100 * (i % 10) + i % 100); /* S5TIME-like */
    assert_int_equal(gw_s7_tm_ct_write(x->c, false, 0, TIMERS, w, &err), GW_OK);
    memset(r, 0, sizeof(r));
    assert_int_equal(gw_s7_tm_ct_read(x->c, false, 0, TIMERS, r, &err), GW_OK);
    assert_memory_equal(r, w, sizeof(w));
    /* timer 5 alone, and its bytes in the server: big-endian, 2 a timer */
    uint16_t t5 = 0x2123;
    assert_int_equal(gw_s7_tm_ct_write(x->c, false, 5, 1, &t5, &err), GW_OK);
    assert_int_equal(gw_s7_tm_ct_read(x->c, false, 4, 3, r, &err), GW_OK);
    assert_int_equal(r[0], w[4]);
    assert_int_equal(r[1], 0x2123);
    assert_int_equal(r[2], w[6]);
    pthread_mutex_lock(&x->s->lock);
    uint8_t b10 = x->s->timers[10], b11 = x->s->timers[11];
    pthread_mutex_unlock(&x->s->lock);
    assert_int_equal(b10, 0x21);
    assert_int_equal(b11, 0x23);
    /* counters are their own area */
    uint16_t cw[3] = {0x0999, 0x0001, 0x0450};
    assert_int_equal(gw_s7_tm_ct_write(x->c, true, COUNTERS - 3, 3, cw, &err), GW_OK);
    assert_int_equal(gw_s7_tm_ct_read(x->c, true, COUNTERS - 3, 3, r, &err), GW_OK);
    assert_memory_equal(r, cw, sizeof(cw));
    assert_int_equal(gw_s7_tm_ct_read(x->c, false, 5, 1, r, &err), GW_OK);
    assert_int_equal(r[0], 0x2123);
}

/* Past the last timer or counter: address out of range, item 0x05; the
 * connection stays. */
static void test_out_of_range(void **state)
{
    fx *x = *state;
    gw_error err;
    uint16_t v[4] = {0};
    gw_error_clear(&err);
    assert_int_equal(gw_s7_tm_ct_read(x->c, false, TIMERS - 1, 2, v, &err), GW_E_RANGE);
    assert_int_equal(err.device_code, S7_RC_OUT_OF_RANGE);
    assert_int_equal(gw_s7_tm_ct_write(x->c, true, COUNTERS, 1, v, &err), GW_E_RANGE);
    assert_true(gw_s7_connected(x->c));
    assert_int_equal(gw_s7_tm_ct_read(x->c, true, 0, 1, v, &err), GW_OK);
    assert_int_equal(gw_s7_tm_ct_read(x->c, true, 0, 0, v, &err), GW_E_INVAL);
}

/* One raw item; returns its return code (read) or write code. */
static uint8_t raw_item(fx *x, const s7_item *it, const uint8_t *wbytes, uint16_t wlen)
{
    size_t cap;
    uint8_t *tx = s7__client_tx(x->c, &cap);
    uint16_t ref = s7__client_next_ref(x->c);
    size_t n;
    if (wbytes) {
        s7_data d = {0, S7_DTS_OCTET, wbytes, wlen};
        n = s7_encode_write_req(tx, cap, ref, it, &d, 1);
    } else {
        n = s7_encode_read_req(tx, cap, ref, it, 1);
    }
    s7_header h;
    gw_error err;
    assert_int_equal(s7__client_exchange(x->c, tx, n, ref, &h, &err), GW_OK);
    assert_int_equal(h.err_class, 0);
    if (wbytes) {
        assert_int_equal(h.data_len, 1);
        return h.data[0];
    }
    s7_data d;
    assert_int_equal(s7_decode_data(h.data, h.data_len, 1, &d), GW_OK);
    if (d.rc == S7_RC_OK)
        assert_int_equal(d.dts, S7_DTS_OCTET); /* timers and counters: octet string */
    return d.rc;
}

/* The area and the transport size must agree (as a CPU, and snap7's
 * server, check); a timer's data is 2 bytes. */
static void test_strict_items(void **state)
{
    fx *x = *state;
    const s7_item ok = {S7_TS_TIMER, 2, 0, S7_AREA_TIMER, 3};
    assert_int_equal(raw_item(x, &ok, NULL, 0), S7_RC_OK);
    const s7_item tm_bytes = {S7_TS_BYTE, 2, 0, S7_AREA_TIMER, 0};
    assert_int_equal(raw_item(x, &tm_bytes, NULL, 0), S7_RC_OUT_OF_RANGE);
    const s7_item ct_as_tm = {S7_TS_TIMER, 1, 0, S7_AREA_COUNTER, 0};
    assert_int_equal(raw_item(x, &ct_as_tm, NULL, 0), S7_RC_OUT_OF_RANGE);
    const s7_item db_timer = {S7_TS_TIMER, 1, 1, S7_AREA_DB, 0};
    assert_int_equal(raw_item(x, &db_timer, NULL, 0), S7_RC_OUT_OF_RANGE);
    const s7_item zero = {S7_TS_COUNTER, 0, 0, S7_AREA_COUNTER, 0};
    assert_int_equal(raw_item(x, &zero, NULL, 0), S7_RC_OUT_OF_RANGE);
    const uint8_t three[3] = {1, 2, 3};
    const s7_item one = {S7_TS_COUNTER, 1, 0, S7_AREA_COUNTER, 7};
    assert_int_equal(raw_item(x, &one, three, 3), S7_RC_TYPE_INCONSISTENT);
    assert_int_equal(raw_item(x, &one, three, 2), S7_RC_OK);
    pthread_mutex_lock(&x->s->lock);
    uint8_t c14 = x->s->counters[14], c15 = x->s->counters[15];
    pthread_mutex_unlock(&x->s->lock);
    assert_int_equal(c14, 1);
    assert_int_equal(c15, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup240, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_range, setup240, teardown),
        cmocka_unit_test_setup_teardown(test_strict_items, setup240, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
