/*
 * sim_test_helpers.h - waits, probes and JSON lookups shared by the
 * simulator's test files (static inline: each file uses some of them).
 */
#ifndef SIM_TEST_HELPERS_H
#define SIM_TEST_HELPERS_H

#include "sim_test_util.h"

/* ------------------------------------------------------------ helpers */

/* Waits until the rig's S7 memory DB2.DBD0 / any predicate holds. */
typedef bool (*pred_fn)(void *arg);

static inline bool wait_for(pred_fn p, void *arg, unsigned timeout_ms)
{
    uint64_t deadline = gw_mono_ms() + timeout_ms;
    for (;;) {
        if (p(arg))
            return true;
        if (gw_mono_ms() >= deadline)
            return false;
        sleep_ms(2);
    }
}

typedef struct {
    gw_s7_client *c;
    uint16_t db;
    uint32_t byte;
    int bit;          /* -1: a REAL at byte */
    double want;
    double got;
} s7_probe;

static inline bool s7_probe_holds(void *arg)
{
    s7_probe *p = arg;
    uint8_t b[4];
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = s7_read_db(p->c, p->db, p->byte, p->bit < 0 ? 4 : 1, b, &err);
    if (rc != GW_OK) {
        print_error("s7 read: %s\n", err.msg);
        fail();
    }
    p->got = p->bit < 0 ? (double)be_real(b) : (double)((b[0] >> p->bit) & 1);
    return p->got == p->want;
}

/* Asserts that S7 memory reaches `want` within 1 s (the rig ticks every
 * 10 ms of simulated time). */
static inline void s7_expect(gw_s7_client *c, uint16_t db, uint32_t byte, int bit, double want)
{
    s7_probe p = {c, db, byte, bit, want, NAN};
    if (!wait_for(s7_probe_holds, &p, 1000))
        fail_msg("DB%u.%u%s%d: %g, want %g", db, byte, bit < 0 ? "" : ".", bit < 0 ? 0 : bit,
                 p.got, want);
}

/* Asserts that S7 memory keeps `want` for `ms` (many ticks). */
static inline void s7_stays(gw_s7_client *c, uint16_t db, uint32_t byte, int bit, double want,
                     unsigned ms)
{
    uint64_t end = gw_mono_ms() + ms;
    s7_probe p = {c, db, byte, bit, want, NAN};
    while (gw_mono_ms() < end) {
        if (!s7_probe_holds(&p))
            fail_msg("DB%u.%u.%d changed to %g, want %g", db, byte, bit, p.got, want);
        sleep_ms(5);
    }
}

/* The write log entries with seq >= since, at least `n` of them within 2 s
 * (the write hook runs on the server thread after the reply is queued). */
static inline size_t writes_wait(gw_sim *s, uint64_t since, gw_sim_write *out, size_t max, size_t n)
{
    uint64_t deadline = gw_mono_ms() + 2000;
    size_t got;
    while ((got = gw_sim_writes(s, since, out, max)) < n && gw_mono_ms() < deadline)
        sleep_ms(2);
    return got;
}

static inline uint64_t wlog_next(gw_sim *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t n = s->wseq;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static inline json_t *find_named(json_t *arr, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (json_string_value(json_object_get(v, "name")) &&
            strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
            return v;
    return NULL;
}

static inline const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "(missing)";
}

/* The seed type a map function decodes to (docs/sim.md, "Devices"). */
static inline const char *seed_type(const char *function)
{
    static const struct {
        const char *fn, *type;
    } t[] = {
        {"real", "REAL"}, {"int", "INT"}, {"bool", "BOOL"},
        {"decode_16bit_uint", "WORD"}, {"decode_32bit_float", "REAL"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(t[i].fn, function) == 0)
            return t[i].type;
    fail_msg("no expected type for function %s", function);
    return NULL;
}

/* Every tag of the map file is one property, described as the file says. */
static inline void check_properties(json_t *device, const char *map_path, bool modbus)
{
    json_error_t je;
    json_t *file = json_load_file(map_path, 0, &je);
    assert_non_null(file);
    json_t *mapping = json_object_get(file, "mapping");
    json_t *props = json_object_get(device, "properties");
    assert_true(json_is_array(props));
    assert_int_equal(json_array_size(props), json_object_size(mapping));
    const char *key;
    json_t *tag;
    json_object_foreach(mapping, key, tag) {
        const char *param = json_string_value(json_object_get(tag, "parameter"));
        json_t *p = find_named(props, param);
        if (!p)
            fail_msg("property %s (%s) is not described", param, key);
        assert_string_equal(jstr(p, "binding"), key);
        assert_string_equal(jstr(p, "type"),
                            seed_type(json_string_value(json_object_get(tag, "function"))));
        const char *access = json_string_value(json_object_get(tag, "access"));
        if (!access) /* mapping.md: Modbus coils and holding registers are rw */
            access = modbus && (key[0] == '0' || key[0] == '4') ? "rw" : "r";
        assert_string_equal(jstr(p, "access"), access);
        const char *unit = json_string_value(json_object_get(tag, "unit"));
        if (unit)
            assert_string_equal(jstr(p, "unit"), unit);
        else
            assert_null(json_object_get(p, "unit"));
        assert_non_null(json_object_get(p, "value"));
    }
    json_decref(file);
}

static inline void check_io(json_t *ios, const char *name, const char *type, const char *direction,
                     const char *unit)
{
    json_t *io = find_named(ios, name);
    if (!io)
        fail_msg("I/O %s is not described", name);
    assert_string_equal(jstr(io, "type"), type);
    assert_string_equal(jstr(io, "direction"), direction);
    if (unit)
        assert_string_equal(jstr(io, "unit"), unit);
    else
        assert_null(json_object_get(io, "unit"));
    assert_non_null(json_object_get(io, "description"));
    assert_non_null(json_object_get(io, "value"));
}

/* ------------------------------------------------------------ self-description */


#endif
