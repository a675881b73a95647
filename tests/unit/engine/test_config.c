/*
 * test_config.c - the gateway configuration: the demo loads, and every
 * error names its file:line:column.
 */
#include "engine/engine.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/plcgw-test-config-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static const char good_map[] = "{\"mapping\": {\"40001\": {\"parameter\": \"a\", "
                               "\"function\": \"decode_16bit_uint\"}}}";

/* Loads `text` as a config; expects failure with an error at line:col whose
 * message contains `want`. */
static void expect_error(const char *text, unsigned line, unsigned col, const char *want)
{
    write_file("map.json", good_map);
    const char *path = write_file("gw.json", text);
    gw_config *cfg = NULL;
    gw_diag d;
    assert_int_equal(gw_config_load(path, &cfg, &d), GW_E_CONFIG);
    assert_null(cfg);
    for (size_t i = 0; i < d.count; i++) {
        if (!d.entries[i].warning && d.entries[i].loc.line == line && d.entries[i].loc.col == col &&
            strstr(d.entries[i].msg, want))
            return;
    }
    gw_diag_print(&d, stderr);
    fail_msg("no error at %u:%u containing \"%s\"", line, col, want);
}

static void test_demo_loads(void **state)
{
    (void)state;
    gw_config *cfg;
    gw_diag d;
    assert_int_equal(gw_config_load(GW_SOURCE_DIR "/config/demo.json", &cfg, &d), GW_OK);
    assert_int_equal(cfg->nmachines, 2);
    assert_string_equal(cfg->listen_host, "127.0.0.1");
    assert_int_equal(cfg->listen_port, 8000);
    assert_string_equal(cfg->default_machine, "rig");
    const gw_machine_cfg *rig = gw_config_machine(cfg, "rig");
    assert_non_null(rig);
    assert_int_equal(rig->driver, GW_DRIVER_S7);
    assert_int_equal(rig->rack, 0);
    assert_int_equal(rig->slot, 1);
    assert_true(rig->simulate);
    assert_int_equal(gw_tagmap_count(rig->tags), 28);
    assert_int_equal(rig->ngroups, 2);
    assert_string_equal(rig->groups[0].name, "live");
    assert_int_equal(rig->groups[0].interval_ms, 100);
    const gw_machine_cfg *wm = gw_config_machine(cfg, "watermaker");
    assert_non_null(wm);
    assert_int_equal(wm->driver, GW_DRIVER_MODBUS);
    assert_int_equal(wm->unit, 1);
    assert_null(gw_config_machine(cfg, "nope"));
    gw_config_free(cfg);
}

static void test_defaults(void **state)
{
    (void)state;
    write_file("map.json", good_map);
    const char *path = write_file("gw.json", "{\"machines\": [{\"id\": \"m1\", \"driver\": "
                                             "\"modbus\", \"tags\": \"map.json\"}]}");
    gw_config *cfg;
    gw_diag d;
    assert_int_equal(gw_config_load(path, &cfg, &d), GW_OK);
    assert_int_equal(cfg->listen_port, 8000);
    assert_string_equal(cfg->default_machine, "m1");
    assert_int_equal(cfg->machines[0].port, 502);
    assert_int_equal(cfg->machines[0].timeout_ms, 2000);
    assert_string_equal(cfg->machines[0].profile, "generic");
    assert_string_equal(cfg->machines[0].name, "m1");
    gw_config_free(cfg);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("{\"machines\": []}", 1, 14, "\"machines\" is empty");
    expect_error("{}", 1, 1, "missing required member \"machines\"");
    expect_error("{\"machines\": [], \"lisen\": \"x\"}", 1, 18, "unknown member \"lisen\"");
    expect_error("{\"listen\": \"localhost\",\n \"machines\": [{\"id\": \"a\", \"driver\": \"modbus\", "
                 "\"tags\": \"map.json\"}]}", 1, 12, "expected ADDR:PORT");
    expect_error("{\"machines\": [{\"id\": \"A B\", \"driver\": \"modbus\", \"tags\": \"map.json\"}]}",
                 1, 22, "machine id \"A B\"");
    expect_error("{\"machines\": [\n{\"id\": \"a\", \"driver\": \"modbus\", \"tags\": \"map.json\"},\n"
                 "{\"id\": \"a\", \"driver\": \"modbus\", \"tags\": \"map.json\"}]}",
                 3, 8, "used twice");
    expect_error("{\"machines\": [{\"id\": \"a\", \"driver\": \"profinet\", \"tags\": \"map.json\"}]}",
                 1, 37, "driver must be");
    expect_error("{\"machines\": [{\"id\": \"a\", \"driver\": \"s7\", \"tags\": \"map.json\"}]}", 1, 51,
                 "the tag map has Modbus addresses");
    expect_error("{\"machines\": [{\"id\": \"a\", \"driver\": \"modbus\", \"tags\": \"none.json\"}]}",
                 1, 55, "tag map does not load");
    expect_error("{\"machines\": [{\"id\": \"a\", \"driver\": \"modbus\", \"port\": 70000, "
                 "\"tags\": \"map.json\"}]}", 1, 55, "\"port\" must be 1..65535");
    expect_error("{\"machines\": [{\"id\": \"a\", \"driver\": \"modbus\", \"port\": 50.5, "
                 "\"tags\": \"map.json\"}]}", 1, 55, "whole number");
    expect_error("{\"machines\": [{\"id\": \"a\", \"driver\": \"modbus\", \"profile\": \"press\", "
                 "\"tags\": \"map.json\"}]}", 1, 58, "unknown profile");
    expect_error("{\"machines\": [{\"id\": \"a\", \"driver\": \"modbus\", \"tags\": \"map.json\", "
                 "\"scan\": {\"fast\": 1}}]}", 1, 84, "interval of 10..3600000");
    expect_error("{\"default_machine\": \"b\", \"machines\": [{\"id\": \"a\", \"driver\": \"modbus\", "
                 "\"tags\": \"map.json\"}]}", 1, 21, "no machine has the id \"b\"");
    expect_error("{\"machines\": [{\"id\": \"a\", \"driver\": \"modbus\", \"Tags\": \"map.json\"}]}",
                 1, 47, "unknown member \"Tags\"");
    /* a path that does not fit is an error naming its member, never cut */
    char long_path[700], text[900];
    memset(long_path, 'x', 600);
    long_path[600] = '\0';
    snprintf(text, sizeof(text), "{\"database\": \"%s\", \"machines\": [{\"id\": \"a\", "
             "\"driver\": \"modbus\", \"tags\": \"map.json\"}]}", long_path);
    expect_error(text, 1, 14, "\"database\" is 600 bytes long");
    snprintf(text, sizeof(text), "{\"machines\": [{\"id\": \"a\", \"driver\": \"modbus\", "
             "\"tags\": \"%.490s\"}]}", long_path);
    expect_error(text, 1, 55, "longer than 511 bytes");
    snprintf(text, sizeof(text), "{\"machines\": [{\"id\": \"a\", \"driver\": \"modbus\", "
             "\"host\": \"%.300s\", \"tags\": \"map.json\"}]}", long_path);
    expect_error(text, 1, 55, "\"host\" is 300 bytes long");
}

static void test_host_port(void **state)
{
    (void)state;
    char host[64], why[96];
    uint16_t port;
    assert_true(gw_parse_host_port("127.0.0.1:8000", false, host, sizeof(host), &port, why,
                                   sizeof(why)));
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8000);
    assert_false(gw_parse_host_port("127.0.0.1:0", false, host, sizeof(host), &port, why,
                                    sizeof(why)));
    assert_true(gw_parse_host_port("127.0.0.1:0", true, host, sizeof(host), &port, why,
                                   sizeof(why)));
    assert_int_equal(port, 0);
    assert_false(gw_parse_host_port("127.0.0.1:65536", true, host, sizeof(host), &port, why,
                                    sizeof(why)));
    assert_false(gw_parse_host_port(":80", true, host, sizeof(host), &port, why, sizeof(why)));
    assert_false(gw_parse_host_port("host:", true, host, sizeof(host), &port, why, sizeof(why)));
    assert_false(gw_parse_host_port("host:8x", true, host, sizeof(host), &port, why, sizeof(why)));
}

/* "simulator": {"s7": {...}}: the simulated CPU's identity, password and
 * declared blocks (docs/sim.md); every mistake at its line:column. */
static void test_sim_s7(void **state)
{
    (void)state;
    write_file("map.json", good_map);
    const char *path = write_file(
        "gw.json", "{\"machines\": [{\"id\": \"a\", \"driver\": \"modbus\", \"tags\": \"map.json\"}],\n"
                   " \"simulator\": {\"s7\": {\"order_code\": \"6ES7 215-1AG40-0XB0\", "
                   "\"firmware\": \"V4.5.2\", \"password\": \"secret\", \"timers\": 64,\n"
                   " \"blocks\": [{\"type\": \"FB\", \"number\": 1, \"size\": 200, "
                   "\"name\": \"RIG\"}, {\"type\": \"OB\", \"number\": 1}]}}}");
    gw_config *cfg = NULL;
    gw_diag d;
    assert_int_equal(gw_config_load(path, &cfg, &d), GW_OK);
    assert_string_equal(cfg->sim_s7.order_code, "6ES7 215-1AG40-0XB0");
    assert_string_equal(cfg->sim_s7.firmware, "V4.5.2");
    assert_string_equal(cfg->sim_s7.password, "secret");
    assert_null(cfg->sim_s7.module_name);
    assert_int_equal(cfg->sim_s7.timers, 64);
    assert_int_equal(cfg->sim_s7.counters, 0);
    assert_int_equal(cfg->sim_s7.nblocks, 2);
    assert_int_equal(cfg->sim_s7.blocks[0].type, GW_S7_BLK_FB);
    assert_int_equal(cfg->sim_s7.blocks[0].size, 200);
    assert_string_equal(cfg->sim_s7.blocks[0].name, "RIG");
    assert_int_equal(cfg->sim_s7.blocks[1].type, GW_S7_BLK_OB);
    gw_config_free(cfg);

    const char *m = "{\"machines\": [{\"id\": \"a\", \"driver\": \"modbus\", \"tags\": \"map.json\"}], ";
    char text[512];
    snprintf(text, sizeof(text), "%s\"simulator\": {\"s7\": {\"password\": \"123456789\"}}}", m);
    expect_error(text, 1, 102, "at most 8 characters");
    snprintf(text, sizeof(text), "%s\"simulator\": {\"s7\": {\"firmware\": \"4.2\"}}}", m);
    expect_error(text, 1, 102, "\"Vmajor.minor.patch\"");
    snprintf(text, sizeof(text), "%s\"simulator\": {\"s7\": {\"max_pdu\": 100}}}", m);
    expect_error(text, 1, 101, "max_pdu");
    snprintf(text, sizeof(text), "%s\"simulator\": {\"s7\": {\"blocks\": [{\"type\": \"DB\", "
             "\"number\": 1}]}}}", m);
    expect_error(text, 1, 110, "\"OB\", \"FC\" or \"FB\"");
    snprintf(text, sizeof(text), "%s\"simulator\": {\"s7\": {\"blocks\": [{\"type\": \"FC\", "
             "\"number\": 2}, {\"type\": \"FC\", \"number\": 2}]}}}", m);
    expect_error(text, 1, 130, "FC2 is declared twice");
    snprintf(text, sizeof(text), "%s\"simulator\": {\"s7\": {\"serial\": \"S \\u00e9\"}}}", m);
    expect_error(text, 1, 100, "printable ASCII");
    snprintf(text, sizeof(text), "%s\"simulator\": {\"s7\": {\"pasword\": \"x\"}}}", m);
    expect_error(text, 1, 90, "pasword");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_s7),
        cmocka_unit_test(test_demo_loads),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_host_port),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
