/*
 * test_server_memory.c - the S7 server's memory as another front-end (the
 * S7CommPlus server) uses it: gw_s7_server_client_write applies a write as
 * a client's, bit writes touch their bit only, the write hook sees it with
 * the writer's address, bad addresses change nothing; gw_s7_server_dbs
 * lists the DBs ascending.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/s7/s7_internal.h"

typedef struct {
    int n;
    gw_s7_write_event last;
    uint8_t before[8], after[8];
    char peer[64];
} hook;

static void on_write(void *user, const gw_s7_write_event *ev)
{
    hook *h = user;
    h->n++;
    h->last = *ev;
    memcpy(h->before, ev->before, ev->len < 8 ? ev->len : 8);
    memcpy(h->after, ev->after, ev->len < 8 ? ev->len : 8);
    snprintf(h->peer, sizeof(h->peer), "%s", ev->peer);
}

static void test_client_write(void **state)
{
    (void)state;
    hook h = {0};
    gw_s7_server_opts so = {0};
    so.on_write = on_write;
    so.user = &h;
    gw_s7_server *s;
    gw_error err;
    assert_int_equal(gw_s7_server_new(&so, &s, &err), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 3, 10), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_M, 0, 4), GW_OK);

    const uint8_t four[4] = {0xDE, 0xAD, 0xBE, 0xEF};
    assert_int_equal(gw_s7_server_client_write(s, GW_S7_DB, 3, 2, 4, four, -1, "1.2.3.4:5"),
                     GW_OK);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.last.area, GW_S7_DB);
    assert_int_equal(h.last.db, 3);
    assert_int_equal(h.last.start, 2);
    assert_int_equal(h.last.len, 4);
    assert_int_equal(h.last.bit, -1);
    assert_memory_equal(h.after, four, 4);
    assert_string_equal(h.peer, "1.2.3.4:5");
    uint8_t back[10];
    assert_int_equal(gw_s7_server_get(s, GW_S7_DB, 3, 0, 10, back), GW_OK);
    assert_memory_equal(back + 2, four, 4);

    /* a bit: only its bit, before and after the whole byte */
    const uint8_t one = 1, zero = 0;
    assert_int_equal(gw_s7_server_client_write(s, GW_S7_DB, 3, 2, 1, &zero, 0, "p"), GW_OK);
    assert_int_equal(h.before[0], 0xDE);
    assert_int_equal(h.after[0], 0xDE); /* bit 0 of 0xDE is already 0 */
    assert_int_equal(gw_s7_server_client_write(s, GW_S7_M, 0, 1, 1, &one, 7, "p"), GW_OK);
    assert_int_equal(h.last.bit, 7);
    assert_int_equal(h.after[0], 0x80);
    assert_int_equal(h.n, 3);

    /* refused: nothing changes, no event */
    assert_int_equal(gw_s7_server_client_write(s, GW_S7_DB, 4, 0, 1, four, -1, "p"),
                     GW_E_NOT_FOUND);
    assert_int_equal(gw_s7_server_client_write(s, GW_S7_DB, 3, 8, 4, four, -1, "p"), GW_E_RANGE);
    assert_int_equal(gw_s7_server_client_write(s, GW_S7_DB, 3, 0, 2, four, 3, "p"), GW_E_INVAL);
    assert_int_equal(gw_s7_server_client_write(s, GW_S7_DB, 3, 0, 1, four, 8, "p"), GW_E_INVAL);
    assert_int_equal(h.n, 3);
    assert_int_equal(gw_s7_server_get(s, GW_S7_DB, 3, 0, 10, back + 0), GW_OK);
    assert_int_equal(back[8], 0);
    gw_s7_server_free(s);
}

static void test_dbs(void **state)
{
    (void)state;
    gw_s7_server_opts so = {0};
    gw_s7_server *s;
    gw_error err;
    assert_int_equal(gw_s7_server_new(&so, &s, &err), GW_OK);
    assert_int_equal(gw_s7_server_dbs(s, NULL, NULL, 0), 0);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 20, 5), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_M, 0, 4), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 2, 26), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 11, 7), GW_OK);
    uint16_t num[4];
    uint32_t size[4];
    assert_int_equal(gw_s7_server_dbs(s, num, size, 4), 3);
    assert_int_equal(num[0], 2);
    assert_int_equal(size[0], 26);
    assert_int_equal(num[1], 11);
    assert_int_equal(size[1], 7);
    assert_int_equal(num[2], 20);
    assert_int_equal(size[2], 5);
    assert_int_equal(gw_s7_server_dbs(s, num, NULL, 1), 3); /* only the first given */
    assert_int_equal(num[0], 2);
    gw_s7_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_write),
        cmocka_unit_test(test_dbs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
