/*
 * test_sio.c - the Socket.IO v5 packet codec (the encoding examples of
 * socketio/socket.io-protocol's Readme, and what socket.io-parser refuses)
 * and the Engine.IO long-polling payload split.
 */
#include "api/eio.h"
#include "api/sio.h"

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

static sio_packet parse_ok(const char *text)
{
    sio_packet pk;
    if (!sio_parse(text, strlen(text), &pk))
        fail_msg("did not parse: %s", text);
    return pk;
}

static bool valid(const char *text)
{
    sio_packet pk;
    if (!sio_parse(text, strlen(text), &pk))
        return false;
    bool ok;
    json_t *j = sio_check(&pk, &ok);
    json_decref(j);
    return ok;
}

static void test_parse(void **state)
{
    (void)state;
    sio_packet pk = parse_ok("0");
    assert_int_equal(pk.type, SIO_CONNECT);
    assert_string_equal(pk.nsp, "/");
    assert_null(pk.data);
    pk = parse_ok("0/admin,{\"token\":\"123\"}");
    assert_string_equal(pk.nsp, "/admin");
    assert_int_equal(pk.len, 15);
    pk = parse_ok("0/custom"); /* no comma after a bare namespace */
    assert_string_equal(pk.nsp, "/custom");
    assert_null(pk.data);
    pk = parse_ok("2/admin,12[\"project:delete\",123]");
    assert_int_equal(pk.type, SIO_EVENT);
    assert_true(pk.has_id);
    assert_int_equal(pk.id, 12);
    assert_memory_equal(pk.data, "[\"project:delete\",123]", pk.len);
    pk = parse_ok("51-[\"hello\",{\"_placeholder\":true,\"num\":0}]");
    assert_int_equal(pk.type, SIO_BINARY_EVENT);
    assert_int_equal(pk.attachments, 1);
    pk = parse_ok("61-/admin,13[{\"_placeholder\":true,\"num\":0}]");
    assert_int_equal(pk.type, SIO_BINARY_ACK);
    assert_string_equal(pk.nsp, "/admin");
    assert_int_equal(pk.id, 13);
    pk = parse_ok("3/admin,13[\"bar\"]");
    assert_int_equal(pk.type, SIO_ACK);
}

static void test_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "7", "abc", "5-[\"a\"]", "5x-[\"a\"]", "50-[\"a\"]", "517-[\"a\"]", "51[\"a\"]",
        "21234567890123456[\"a\"]",
    };
    sio_packet pk;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (sio_parse(bad[i], strlen(bad[i]), &pk))
            fail_msg("parsed: \"%s\"", bad[i]);
    char nsp[80] = "0/";
    memset(nsp + 2, 'n', 70);
    assert_false(sio_parse(nsp, strlen(nsp), &pk)); /* namespace too long */
    /* payloads checked against their types, as socket.io-parser does */
    assert_true(valid("0{\"token\":\"x\"}"));
    assert_false(valid("0[1]"));
    assert_false(valid("0{"));
    assert_true(valid("1"));
    assert_false(valid("1{}"));
    assert_true(valid("2[\"a\",1]"));
    assert_true(valid("2[1]")); /* a numeric event name is allowed */
    assert_false(valid("2{}"));
    assert_false(valid("2[]"));
    assert_false(valid("2[\"connect\"]")); /* reserved */
    assert_false(valid("2abc[\"a\"]"));
    assert_true(valid("31[]"));
    assert_false(valid("3[]")); /* an ack needs its id */
    assert_false(valid("4{\"message\":\"x\"}")); /* clients do not send errors */
}

static void test_first_end(void **state)
{
    (void)state;
    const char *j = "[\"message\",1,\"2\",{\"3\":[true]}]";
    size_t e = sio_first_end(j, strlen(j));
    assert_string_equal(j + e, ",1,\"2\",{\"3\":[true]}]");
    j = "[ \"a\\\"b\" ]";
    e = sio_first_end(j, strlen(j));
    assert_string_equal(j + e, " ]");
    assert_int_equal(sio_first_end("[1,2]", 5), 0);
    assert_int_equal(sio_first_end("[\"open", 6), 0);
    assert_int_equal(sio_first_end("{}", 2), 0);
}

typedef struct {
    int n;
    char got[4][16];
    bool binary[4];
} packets;

static bool collect(void *ud, const char *p, size_t n, bool binary)
{
    packets *ps = ud;
    if (ps->n == 4 || n >= sizeof(ps->got[0]))
        return false;
    memcpy(ps->got[ps->n], p, n);
    ps->got[ps->n][n] = '\0';
    ps->binary[ps->n++] = binary;
    return true;
}

static void test_payload(void **state)
{
    (void)state;
    packets ps = {0};
    const char *body = "4hello\x1e" "bAQIDBA==\x1e" "2";
    assert_true(eio_payload_each(body, strlen(body), collect, &ps));
    assert_int_equal(ps.n, 3);
    assert_string_equal(ps.got[0], "4hello");
    assert_true(ps.binary[1]);
    assert_memory_equal(ps.got[1], "\x01\x02\x03\x04", 4);
    assert_string_equal(ps.got[2], "2");
    memset(&ps, 0, sizeof(ps));
    assert_false(eio_payload_each("b!!!", 4, collect, &ps)); /* not base64 */
    memset(&ps, 0, sizeof(ps));
    assert_true(eio_payload_each("4a\x1e", 3, collect, &ps)); /* a trailing empty packet */
    assert_int_equal(ps.n, 2);
    assert_string_equal(ps.got[1], "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_first_end),
        cmocka_unit_test(test_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
