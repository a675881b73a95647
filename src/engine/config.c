/*
 * config.c - the gateway configuration file (docs/config.md).
 *
 * Checked by declarative field tables; every problem is reported with its
 * position in one pass. A tag map that fails to load is reported at the
 * "tags" member that names it, with the map's own first error.
 */
#include "engine.h"

#include <libgen.h>
#include <string.h>

static const gw_field top_fields[] = {
    {"listen", GW_KINDS_STRING, false, false, false, 0, 0, "ADDR:PORT, e.g. \"127.0.0.1:8000\""},
    {"database", GW_KINDS_STRING, false, false, false, 0, 0, "an SQLite file path"},
    {"default_machine", GW_KINDS_STRING, false, false, false, 0, 0, "a machine id"},
    {"machines", GW_KINDS_ARRAY, true, false, false, 0, 0, "a list of machines"},
    {"simulator", GW_KINDS_OBJECT, false, false, false, 0, 0, "the built-in simulator"},
    {"auth", GW_KINDS_OBJECT, false, false, false, 0, 0, "authentication settings"},
    {"live", GW_KINDS_OBJECT, false, false, false, 0, 0, "the live channel (Socket.IO)"},
    {"http", GW_KINDS_OBJECT, false, false, false, 0, 0, "the HTTP server's limits"},
    {"cors_origins", GW_KINDS_ARRAY, false, false, false, 0, 0,
     "a list of origins such as \"http://192.168.1.20:3000\""},
    {"web", GW_KINDS_OBJECT, false, false, false, 0, 0, "the browser HMI: {\"root\": folder}"},
};

static const gw_field web_fields[] = {
    {"root", GW_KINDS_STRING, true, false, false, 0, 0,
     "the built HMI's folder (web/dist), relative to this file"},
};

/* "http://host[:port]" or "https://...": a scheme, a host, no path. */
static bool valid_origin(const char *o)
{
    const char *h = strncmp(o, "http://", 7) == 0 ? o + 7 : strncmp(o, "https://", 8) == 0 ? o + 8
                                                                                           : NULL;
    if (!h || !*h)
        return false;
    for (; *h; h++)
        if (*h == '/' || *h == ' ' || *h == '*' || (unsigned char)*h < 0x21)
            return false;
    return true;
}

static void load_cors(gw_config *cfg, gw_diag *diag, const gw_json *list)
{
    for (size_t i = 0; i < list->u.arr.n; i++) {
        const gw_json *o = list->u.arr.items[i];
        if (o->kind != GW_JSON_STRING || !valid_origin(o->u.str.s) ||
            o->u.str.len >= sizeof(cfg->cors_origins[0])) {
            gw_diag_error(diag, o->loc, "\"cors_origins\": expected an origin such as "
                          "\"http://192.168.1.20:3000\" (scheme, host and port; no path, no "
                          "wildcard)");
            continue;
        }
        if (cfg->ncors_origins == GW_MAX_CORS_ORIGINS) {
            gw_diag_error(diag, o->loc, "\"cors_origins\": at most %d origins",
                          GW_MAX_CORS_ORIGINS);
            return;
        }
        snprintf(cfg->cors_origins[cfg->ncors_origins++], sizeof(cfg->cors_origins[0]), "%s",
                 o->u.str.s);
    }
}

static const gw_field auth_fields[] = {
    {"loopback_viewer", GW_KINDS_BOOL, false, false, false, 0, 0,
     "true lets anonymous requests from this host read (viewer routes)"},
};

static const gw_field live_fields[] = {
    {"interval_ms", GW_KINDS_NUMBER, false, true, true, 10, 10000,
     "milliseconds between live_data events"},
    {"jog_release_ms", GW_KINDS_NUMBER, false, true, true, 100, 5000,
     "milliseconds after the last renewal that a jog is released"},
    {"max_clients", GW_KINDS_NUMBER, false, true, true, 1, 5000,
     "the most Socket.IO clients at once"},
    {"ping_interval_ms", GW_KINDS_NUMBER, false, true, true, 100, 300000,
     "Engine.IO ping interval in milliseconds"},
    {"ping_timeout_ms", GW_KINDS_NUMBER, false, true, true, 100, 300000,
     "Engine.IO ping timeout in milliseconds"},
    {"connect_timeout_ms", GW_KINDS_NUMBER, false, true, true, 100, 60000,
     "milliseconds a client has from its handshake to its CONNECT"},
    {"max_unconnected_per_address", GW_KINDS_NUMBER, false, true, true, 1, 5000,
     "handshakes without a CONNECT that one address may hold"},
};

static const gw_field http_fields[] = {
    {"workers", GW_KINDS_NUMBER, false, true, true, 1, 256, "handler threads"},
    {"max_connections", GW_KINDS_NUMBER, false, true, true, 16, 100000,
     "connections open at once"},
    {"max_connections_per_address", GW_KINDS_NUMBER, false, true, true, 0, 100000,
     "connections open at once from one address (0: no limit)"},
    {"limit_loopback", GW_KINDS_BOOL, false, false, false, 0, 0,
     "true applies the per-address limit to 127.0.0.0/8 and ::1 too"},
    {"header_timeout_ms", GW_KINDS_NUMBER, false, true, true, 100, 600000,
     "milliseconds for a request head, from its first byte"},
    {"body_timeout_ms", GW_KINDS_NUMBER, false, true, true, 100, 600000,
     "milliseconds for a request body, from the end of its head"},
    {"idle_timeout_ms", GW_KINDS_NUMBER, false, true, true, 100, 3600000,
     "milliseconds a connection may wait for its next request"},
    {"send_timeout_ms", GW_KINDS_NUMBER, false, true, true, 100, 600000,
     "milliseconds queued output may wait for the client to read"},
};

/* Sets each member of obj that is present into its uint32_t. */
typedef struct {
    const char *name;
    uint32_t *to;
} num_member;

static void load_nums(const gw_json *obj, const num_member *nums, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const gw_json *v = gw_json_get(obj, nums[i].name);
        if (v)
            *nums[i].to = (uint32_t)v->u.num.d;
    }
}

static const gw_field sim_s7_fields[] = {
    {"order_code", GW_KINDS_STRING, false, false, false, 0, 0,
     "the order number (SZL 0x0011), e.g. \"6ES7 214-1AG40-0XB0\""},
    {"firmware", GW_KINDS_STRING, false, false, false, 0, 0, "the firmware, \"V4.2.1\""},
    {"module_name", GW_KINDS_STRING, false, false, false, 0, 0, "\"CPU 1214C DC/DC/DC\""},
    {"station_name", GW_KINDS_STRING, false, false, false, 0, 0, "the station's name"},
    {"plc_name", GW_KINDS_STRING, false, false, false, 0, 0, "the PLC's name, \"PLC_1\""},
    {"serial", GW_KINDS_STRING, false, false, false, 0, 0, "the serial number"},
    {"password", GW_KINDS_STRING, false, false, false, 0, 0,
     "the session password (up to 8 characters; writes and control need it)"},
    {"max_pdu", GW_KINDS_NUMBER, false, true, true, 240, 960, "the largest PDU it grants"},
    {"max_clients", GW_KINDS_NUMBER, false, true, true, 1, 64, "connections at once"},
    {"timers", GW_KINDS_NUMBER, false, true, true, 1, 2048, "S7 timers (TM)"},
    {"counters", GW_KINDS_NUMBER, false, true, true, 1, 2048, "S7 counters (CT)"},
    {"blocks", GW_KINDS_ARRAY, false, false, false, 0, 0,
     "OB, FC and FB it lists: [{\"type\": \"FB\", \"number\": 1, ...}]"},
};

static const gw_field sim_block_fields[] = {
    {"type", GW_KINDS_STRING, true, false, false, 0, 0, "\"OB\", \"FC\" or \"FB\""},
    {"number", GW_KINDS_NUMBER, true, true, true, 1, 65535, "the block number"},
    {"size", GW_KINDS_NUMBER, false, true, true, 0, 65536, "code bytes (MC7)"},
    {"name", GW_KINDS_STRING, false, false, false, 0, 0, "header name, up to 8 characters"},
    {"family", GW_KINDS_STRING, false, false, false, 0, 0, "header family, up to 8"},
    {"author", GW_KINDS_STRING, false, false, false, 0, 0, "header author, up to 8"},
};

static const gw_field sim_fields[] = {
    {"control", GW_KINDS_STRING, false, false, false, 0, 0, "ADDR:PORT of its control API"},
    {"time_scale", GW_KINDS_NUMBER, false, false, true, 0.01, 1000,
     "simulated seconds per real second"},
    {"strict", GW_KINDS_BOOL, false, false, false, 0, 0,
     "true: simulated devices refuse writes out of their sequence (docs/sim.md)"},
    {"s7", GW_KINDS_OBJECT, false, false, false, 0, 0,
     "the simulated S7 CPU: identity, limits, password, blocks (docs/sim.md)"},
};

#define NFIELDS(f) (sizeof(f) / sizeof((f)[0]))

/* A string member of at most max characters, or NULL. */
static const char *short_string(gw_diag *diag, const gw_json *obj, const char *name, size_t max,
                                const char *where)
{
    const gw_json *v = gw_json_get(obj, name);
    if (!v || v->kind != GW_JSON_STRING)
        return NULL;
    if (v->u.str.len > max || strlen(v->u.str.s) != v->u.str.len) {
        gw_diag_error(diag, v->loc, "%s\"%s\": at most %zu characters, got %zu", where, name,
                      max, v->u.str.len);
        return NULL;
    }
    for (size_t i = 0; i < v->u.str.len; i++)
        if ((unsigned char)v->u.str.s[i] < 0x20 || (unsigned char)v->u.str.s[i] > 0x7E) {
            gw_diag_error(diag, v->loc, "%s\"%s\": printable ASCII only (a CPU keeps it in "
                          "single bytes)", where, name);
            return NULL;
        }
    return v->u.str.s;
}

static uint32_t uint_member(const gw_json *obj, const char *name, uint32_t dflt)
{
    const gw_json *v = gw_json_get(obj, name);
    return v && v->kind == GW_JSON_NUMBER ? (uint32_t)v->u.num.d : dflt;
}

/* "simulator": {"s7": {...}} (docs/sim.md, "The simulated S7 CPU"). */
static void load_sim_s7(gw_config *cfg, gw_diag *diag, const gw_json *s7)
{
    if (!gw_schema_check(diag, s7, sim_s7_fields, NFIELDS(sim_s7_fields), GW_UNKNOWN_ERROR,
                         "\"simulator\".\"s7\""))
        return;
    const char *w = "\"simulator\".\"s7\".";
    gw_s7_server_opts *o = &cfg->sim_s7;
    o->order_code = short_string(diag, s7, "order_code", 20, w);
    o->firmware = short_string(diag, s7, "firmware", 15, w);
    if (o->firmware) {
        unsigned a, b, c;
        char end;
        if (sscanf(o->firmware, "V%u.%u.%u%c", &a, &b, &c, &end) != 3 || a > 255 || b > 255 ||
            c > 255)
            gw_diag_error(diag, gw_json_get(s7, "firmware")->loc, "%s\"firmware\": \"Vmajor."
                          "minor.patch\" (each 0..255), got \"%s\"", w, o->firmware);
    }
    o->module_name = short_string(diag, s7, "module_name", 32, w);
    o->station_name = short_string(diag, s7, "station_name", 32, w);
    o->plc_name = short_string(diag, s7, "plc_name", 32, w);
    o->serial = short_string(diag, s7, "serial", 32, w);
    o->password = short_string(diag, s7, "password", 8, w);
    o->max_pdu = (uint16_t)uint_member(s7, "max_pdu", 0);
    o->max_clients = (uint16_t)uint_member(s7, "max_clients", 0);
    o->timers = (uint16_t)uint_member(s7, "timers", 0);
    o->counters = (uint16_t)uint_member(s7, "counters", 0);
    const gw_json *blocks = gw_json_get(s7, "blocks");
    if (!blocks || blocks->kind != GW_JSON_ARRAY)
        return;
    if (blocks->u.arr.n > GW_MAX_SIM_BLOCKS) {
        gw_diag_error(diag, blocks->loc, "%s\"blocks\": at most %d, got %zu", w,
                      GW_MAX_SIM_BLOCKS, blocks->u.arr.n);
        return;
    }
    static const struct {
        const char *name;
        gw_s7_block_type type;
    } types[] = {{"OB", GW_S7_BLK_OB}, {"FC", GW_S7_BLK_FC}, {"FB", GW_S7_BLK_FB}};
    for (size_t i = 0; i < blocks->u.arr.n; i++) {
        const gw_json *b = blocks->u.arr.items[i];
        char where[64];
        snprintf(where, sizeof(where), "%s\"blocks\"[%zu]", w, i);
        if (b->kind != GW_JSON_OBJECT) {
            gw_diag_error(diag, b->loc, "%s: an object {\"type\", \"number\", ...}", where);
            continue;
        }
        if (!gw_schema_check(diag, b, sim_block_fields, NFIELDS(sim_block_fields),
                             GW_UNKNOWN_ERROR, where))
            continue;
        const gw_json *t = gw_json_get(b, "type");
        gw_s7_block_decl *d = &cfg->sim_s7_blocks[o->nblocks];
        memset(d, 0, sizeof(*d));
        size_t k = 0;
        while (k < 3 && strcmp(types[k].name, t->u.str.s) != 0)
            k++;
        if (k == 3) {
            gw_diag_error(diag, t->loc, "%s.\"type\": \"OB\", \"FC\" or \"FB\" (DBs are the "
                          "simulated machines' own), got \"%s\"", where, t->u.str.s);
            continue;
        }
        char member[72];
        snprintf(member, sizeof(member), "%s.", where);
        d->type = types[k].type;
        d->number = (uint16_t)uint_member(b, "number", 1);
        d->size = uint_member(b, "size", 0);
        d->name = short_string(diag, b, "name", 8, member);
        d->family = short_string(diag, b, "family", 8, member);
        d->author = short_string(diag, b, "author", 8, member);
        bool twice = false;
        for (size_t j = 0; j < o->nblocks; j++)
            twice |= cfg->sim_s7_blocks[j].type == d->type &&
                     cfg->sim_s7_blocks[j].number == d->number;
        if (twice) {
            gw_diag_error(diag, b->loc, "%s: %s%u is declared twice", where, types[k].name,
                          d->number);
            continue;
        }
        o->nblocks++;
    }
    o->blocks = cfg->sim_s7_blocks;
}

static const gw_field machine_fields[] = {
    {"id", GW_KINDS_STRING, true, false, false, 0, 0, "lower-case letters, digits, '-' or '_'"},
    {"name", GW_KINDS_STRING, false, false, false, 0, 0, NULL},
    {"profile", GW_KINDS_STRING, false, false, false, 0, 0,
     "\"ringstiff\", \"watermaker\" or \"generic\""},
    {"driver", GW_KINDS_STRING, true, false, false, 0, 0, "\"s7\", \"s7plus\" or \"modbus\""},
    {"host", GW_KINDS_STRING, false, false, false, 0, 0, "the PLC's address"},
    {"port", GW_KINDS_NUMBER, false, true, true, 1, 65535, "a TCP port"},
    {"unit", GW_KINDS_NUMBER, false, true, true, 0, 255, "a Modbus unit id"},
    {"register_base", GW_KINDS_NUMBER, false, true, true, 0, 1,
     "0, or 1 for a PLC whose documentation counts registers from 1"},
    {"rack", GW_KINDS_NUMBER, false, true, true, 0, 7, "an S7 rack"},
    {"slot", GW_KINDS_NUMBER, false, true, true, 0, 31, "an S7 slot"},
    {"timeout_ms", GW_KINDS_NUMBER, false, true, true, 10, 60000, "milliseconds"},
    {"simulate", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
    {"tags", GW_KINDS_STRING, true, false, false, 0, 0, "a tag map file"},
    {"scan", GW_KINDS_OBJECT, false, false, false, 0, 0, "group name -> interval_ms"},
    {"app", GW_KINDS_OBJECT, false, false, false, 0, 0,
     "the settings of the machine's profile (docs/ringstiff.md)"},
    {"s7plus_forms", GW_KINDS_OBJECT, false, false, false, 0, 0,
     "S7CommPlus wire forms: {\"lid_classic\": true, ...} (docs/config.md)"},
};

/* "s7plus_forms": the s7p_opts flags by name (docs/s7commplus.md "Form
 * choices"); all false = python-snap7's forms. */
static const gw_field s7p_form_fields[] = {
    {"lid_classic", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
    {"blob_root_id", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
    {"delete_long", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
    {"names_utf8", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
    {"oq_reference", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
    {"explore_id", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
};

static void load_s7p_forms(gw_diag *d, const gw_json *fj, gw_machine_cfg *m)
{
    if (!fj)
        return;
    if (!m->s7plus) {
        gw_diag_error(d, fj->loc, "machine \"%s\": \"s7plus_forms\" applies to \"driver\": "
                      "\"s7plus\" machines only", m->id);
        return;
    }
    size_t nfields = sizeof(s7p_form_fields) / sizeof(s7p_form_fields[0]);
    if (!gw_schema_check(d, fj, s7p_form_fields, nfields, GW_UNKNOWN_ERROR, "s7plus_forms"))
        return;
    bool *flags[] = {&m->s7p_forms.lid_classic, &m->s7p_forms.blob_root_id,
                     &m->s7p_forms.delete_long, &m->s7p_forms.names_utf8,
                     &m->s7p_forms.oq_reference, &m->s7p_forms.explore_id};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        const gw_json *v = gw_json_get(fj, s7p_form_fields[i].name);
        *flags[i] = v && v->u.b;
    }
}

static const char *profiles[] = {"ringstiff", "watermaker", "generic"};

bool gw_parse_host_port(const char *text, bool allow_zero, char *host, size_t host_size,
                        uint16_t *port, char *why, size_t why_size)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text) {
        snprintf(why, why_size, "expected ADDR:PORT, e.g. \"127.0.0.1:8000\"");
        return false;
    }
    size_t hlen = (size_t)(colon - text);
    if (hlen >= host_size) {
        snprintf(why, why_size, "address is too long");
        return false;
    }
    unsigned long p = 0;
    const char *q = colon + 1;
    if (!*q) {
        snprintf(why, why_size, "missing port after ':'");
        return false;
    }
    for (; *q; q++) {
        if (*q < '0' || *q > '9' || (p = p * 10 + (unsigned long)(*q - '0')) > 65535) {
            snprintf(why, why_size, "port must be 1..65535");
            return false;
        }
    }
    if (p == 0 && !allow_zero) {
        snprintf(why, why_size, "port must be 1..65535");
        return false;
    }
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return true;
}

/* Copies v's string (or fallback) into dst; one that does not fit is an
 * error at v, never a string cut short. */
static void copy_str(gw_diag *d, const char *what, char *dst, size_t size, const gw_json *v,
                     const char *fallback)
{
    const char *s = v && v->kind == GW_JSON_STRING ? v->u.str.s : fallback;
    size_t n = strlen(s);
    if (n >= size) {
        gw_diag_error(d, v ? v->loc : (gw_loc){1, 1}, "\"%s\" is %zu bytes long; at most %zu",
                      what, n, size - 1);
        n = 0;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static bool valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > GW_MACHINE_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* rel against the folder of base_file into out: false when it does not
 * fit (the caller reports it; a path is never cut short). */
static bool resolve_path(char *out, size_t size, const char *base_file, const char *rel)
{
    int n;
    if (rel[0] == '/') {
        n = snprintf(out, size, "%s", rel);
    } else {
        char tmp[512];
        size_t bl = strlen(base_file);
        if (bl >= sizeof(tmp))
            return false;
        memcpy(tmp, base_file, bl + 1);
        n = snprintf(out, size, "%s/%s", dirname(tmp), rel);
    }
    return n >= 0 && (size_t)n < size;
}

static uint32_t num_u32(const gw_json *obj, const char *name, uint32_t fallback)
{
    uint64_t v;
    return gw_json_u64(gw_json_get(obj, name), &v) ? (uint32_t)v : fallback;
}

static void load_groups(gw_diag *d, const gw_json *scan, gw_machine_cfg *m)
{
    if (!scan)
        return;
    for (size_t i = 0; i < scan->u.obj.n; i++) {
        const gw_json_member *g = &scan->u.obj.members[i];
        uint64_t ms;
        if (!gw_json_u64(g->value, &ms) || ms < 10 || ms > 3600000) {
            gw_diag_error(d, g->value->loc, "machine \"%s\": scan group \"%s\" needs an interval "
                          "of 10..3600000 ms", m->id, g->key);
            continue;
        }
        if (m->ngroups >= GW_MAX_GROUPS || g->key_len >= sizeof(m->groups[0].name)) {
            gw_diag_error(d, g->key_loc, "machine \"%s\": at most %d scan groups with names of up "
                          "to 31 characters", m->id, GW_MAX_GROUPS);
            continue;
        }
        snprintf(m->groups[m->ngroups].name, sizeof(m->groups[0].name), "%s", g->key);
        m->groups[m->ngroups].interval_ms = (uint32_t)ms;
        m->ngroups++;
    }
}

/*
 * "register_base" (Modbus only): 1 sends every address of the map one
 * lower, so the map's address 0 (a key such as "40000") has none; such a
 * tag is an error at the member, naming the tag.
 */
static void load_register_base(gw_diag *d, const gw_json *rb, gw_machine_cfg *m)
{
    if (!rb)
        return;
    if (m->driver != GW_DRIVER_MODBUS) {
        gw_diag_error(d, rb->loc, "machine \"%s\": \"register_base\" applies to Modbus machines "
                      "only", m->id);
        gw_diag_hint(d, "S7 addresses are byte offsets; remove \"register_base\"");
        return;
    }
    m->register_base = (uint8_t)rb->u.num.d;
    for (size_t i = 0; m->register_base && i < gw_tagmap_count(m->tags); i++) {
        const gw_tag *t = gw_tagmap_at(m->tags, i);
        if (t->addr.reg >= m->register_base)
            continue;
        gw_diag_error(d, rb->loc, "machine \"%s\": with \"register_base\": 1 every address "
                      "goes out one lower, but tag \"%s\" (%s) is at address 0", m->id,
                      t->parameter, t->key);
        gw_diag_hint(d, "with register_base 1 the map counts from 1 as the PLC's documentation "
                     "does: \"40001\" is the first holding register");
        return;
    }
}

static void load_machine(gw_config *cfg, gw_diag *d, const gw_json *mj)
{
    if (!gw_schema_check(d, mj, machine_fields, sizeof(machine_fields) / sizeof(machine_fields[0]),
                         GW_UNKNOWN_ERROR, "machine"))
        return;
    if (cfg->nmachines >= GW_MAX_MACHINES) {
        gw_diag_error(d, mj->loc, "at most %d machines per gateway", GW_MAX_MACHINES);
        return;
    }
    gw_machine_cfg *m = &cfg->machines[cfg->nmachines];
    memset(m, 0, sizeof(*m));
    const gw_json *id = gw_json_get(mj, "id");
    if (!valid_id(id->u.str.s)) {
        gw_diag_error(d, id->loc, "machine id \"%s\" must be 1..%d characters of a-z, 0-9, '-' "
                      "or '_'", id->u.str.s, GW_MACHINE_ID_MAX);
        return;
    }
    for (size_t i = 0; i < cfg->nmachines; i++) {
        if (strcmp(cfg->machines[i].id, id->u.str.s) == 0) {
            gw_diag_error(d, id->loc, "machine id \"%s\" is used twice", id->u.str.s);
            return;
        }
    }
    copy_str(d, "id", m->id, sizeof(m->id), id, "");
    copy_str(d, "name", m->name, sizeof(m->name), gw_json_get(mj, "name"), m->id);
    const gw_json *prof = gw_json_get(mj, "profile");
    copy_str(d, "profile", m->profile, sizeof(m->profile), prof, "generic");
    bool known = false;
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
        known |= strcmp(profiles[i], m->profile) == 0;
    if (!known) {
        gw_diag_error(d, prof->loc, "machine \"%s\": unknown profile \"%s\"", m->id, m->profile);
        gw_diag_hint(d, "one of ringstiff, watermaker, generic");
    }
    const gw_json *drv = gw_json_get(mj, "driver");
    if (strcmp(drv->u.str.s, "s7") == 0 || strcmp(drv->u.str.s, "s7plus") == 0) {
        m->driver = GW_DRIVER_S7;
        m->s7plus = drv->u.str.s[2] == 'p';
    } else if (strcmp(drv->u.str.s, "modbus") == 0) {
        m->driver = GW_DRIVER_MODBUS;
    } else {
        gw_diag_error(d, drv->loc, "machine \"%s\": driver must be \"s7\", \"s7plus\" or "
                      "\"modbus\", got \"%s\"", m->id, drv->u.str.s);
        return;
    }
    copy_str(d, "host", m->host, sizeof(m->host), gw_json_get(mj, "host"), "127.0.0.1");
    /* ISO-on-TCP port 102 (RFC 1006), Modbus TCP port 502 (Modbus
     * Messaging on TCP/IP Implementation Guide V1.0b, 4.1) */
    m->port = (uint16_t)num_u32(mj, "port", m->driver == GW_DRIVER_S7 ? 102 : 502);
    m->unit = (uint8_t)num_u32(mj, "unit", 1);
    m->rack = (uint8_t)num_u32(mj, "rack", 0);
    m->slot = (uint8_t)num_u32(mj, "slot", 1);
    m->timeout_ms = num_u32(mj, "timeout_ms", 2000);
    const gw_json *sim = gw_json_get(mj, "simulate");
    m->simulate = sim && sim->u.b;
    load_groups(d, gw_json_get(mj, "scan"), m);
    load_s7p_forms(d, gw_json_get(mj, "s7plus_forms"), m);
    m->app = gw_json_get(mj, "app");
    const gw_json *tags = gw_json_get(mj, "tags");
    gw_diag md;
    if (!resolve_path(m->tags_path, sizeof(m->tags_path), cfg->path, tags->u.str.s)) {
        gw_diag_error(d, tags->loc, "machine \"%s\": the tag map's path, with the config's "
                      "folder, is longer than %zu bytes", m->id, sizeof(m->tags_path) - 1);
    } else if (gw_tagmap_load_file(m->tags_path, &m->tags, &md) != GW_OK) {
        char first[300];
        gw_diag_first(&md, first, sizeof(first));
        gw_diag_error(d, tags->loc, "machine \"%s\": tag map does not load: %s", m->id, first);
        gw_diag_hint(d, "plcgw check-config %s lists every problem", m->tags_path);
    } else if (gw_tagmap_count(m->tags) > 0 && gw_tagmap_driver(m->tags) != m->driver) {
        gw_diag_error(d, tags->loc, "machine \"%s\": driver is \"%s\" but the tag map has %s "
                      "addresses", m->id, drv->u.str.s,
                      gw_tagmap_driver(m->tags) == GW_DRIVER_S7 ? "S7" : "Modbus");
    } else {
        load_register_base(d, gw_json_get(mj, "register_base"), m);
    }
    cfg->nmachines++;
}

void gw_config_free(gw_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->nmachines; i++)
        gw_tagmap_free(cfg->machines[i].tags);
    gw_json_doc_free(cfg->doc);
    gw_free(cfg);
}

gw_err gw_config_load(const char *path, gw_config **out, gw_diag *diag)
{
    *out = NULL;
    gw_json_doc *doc;
    gw_err rc = gw_json_parse_file(path, &doc, diag);
    if (rc != GW_OK)
        return rc == GW_E_NOMEM ? rc : GW_E_CONFIG;
    const gw_json *root = gw_json_root(doc);
    gw_config *cfg = gw_calloc(1, sizeof(*cfg));
    if (!cfg) {
        gw_json_doc_free(doc);
        return GW_E_NOMEM;
    }
    if (strlen(path) >= sizeof(cfg->path)) {
        gw_diag_error(diag, (gw_loc){1, 1}, "the config file's path is longer than %zu bytes",
                      sizeof(cfg->path) - 1);
        gw_json_doc_free(doc);
        gw_free(cfg);
        return GW_E_CONFIG;
    }
    memcpy(cfg->path, path, strlen(path) + 1);
    snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
    cfg->listen_port = 8000;
    if (!gw_schema_check(diag, root, top_fields, sizeof(top_fields) / sizeof(top_fields[0]),
                         GW_UNKNOWN_ERROR, "gateway config"))
        goto out;
    const gw_json *listen = gw_json_get(root, "listen");
    char why[96];
    if (listen && !gw_parse_host_port(listen->u.str.s, false, cfg->listen_host,
                                      sizeof(cfg->listen_host), &cfg->listen_port, why,
                                      sizeof(why)))
        gw_diag_error(diag, listen->loc, "\"listen\": %s, got \"%s\"", why, listen->u.str.s);
    char dbname[sizeof(cfg->database)];
    copy_str(diag, "database", dbname, sizeof(dbname), gw_json_get(root, "database"), "plcgw.db");
    if (!resolve_path(cfg->database, sizeof(cfg->database), cfg->path, dbname)) {
        const gw_json *db = gw_json_get(root, "database");
        gw_diag_error(diag, db ? db->loc : (gw_loc){1, 1}, "\"database\": the path, with the "
                      "config's folder, is longer than %zu bytes", sizeof(cfg->database) - 1);
    }
    const gw_json *web = gw_json_get(root, "web");
    if (web && gw_schema_check(diag, web, web_fields, 1, GW_UNKNOWN_ERROR, "\"web\"")) {
        const gw_json *wr = gw_json_get(web, "root");
        if (wr && wr->kind == GW_JSON_STRING &&
            !resolve_path(cfg->web_root, sizeof(cfg->web_root), cfg->path, wr->u.str.s))
            gw_diag_error(diag, wr->loc, "\"web\".\"root\": the path, with the config's folder, "
                          "is longer than %zu bytes", sizeof(cfg->web_root) - 1);
    }
    snprintf(cfg->sim_control_host, sizeof(cfg->sim_control_host), "127.0.0.1");
    cfg->sim_time_scale = 1.0;
    const gw_json *sim = gw_json_get(root, "simulator");
    if (sim && gw_schema_check(diag, sim, sim_fields, sizeof(sim_fields) / sizeof(sim_fields[0]),
                               GW_UNKNOWN_ERROR, "\"simulator\"")) {
        const gw_json *ctl = gw_json_get(sim, "control");
        if (ctl && !gw_parse_host_port(ctl->u.str.s, true, cfg->sim_control_host,
                                       sizeof(cfg->sim_control_host), &cfg->sim_control_port, why,
                                       sizeof(why)))
            gw_diag_error(diag, ctl->loc, "\"control\": %s, got \"%s\"", why, ctl->u.str.s);
        const gw_json *ts = gw_json_get(sim, "time_scale");
        if (ts)
            cfg->sim_time_scale = ts->u.num.d;
        const gw_json *strict = gw_json_get(sim, "strict");
        cfg->sim_strict = strict && strict->u.b;
        const gw_json *s7 = gw_json_get(sim, "s7");
        if (s7)
            load_sim_s7(cfg, diag, s7);
    }
    const gw_json *auth = gw_json_get(root, "auth");
    if (auth && gw_schema_check(diag, auth, auth_fields,
                                sizeof(auth_fields) / sizeof(auth_fields[0]), GW_UNKNOWN_ERROR,
                                "\"auth\"")) {
        const gw_json *lv = gw_json_get(auth, "loopback_viewer");
        cfg->auth_loopback_viewer = lv && lv->u.b;
    }
    cfg->live_interval_ms = 100;
    cfg->jog_release_ms = 500;
    cfg->live_max_clients = 1000;
    cfg->ping_interval_ms = 25000;
    cfg->ping_timeout_ms = 20000;
    cfg->live_connect_timeout_ms = 5000;
    cfg->live_max_unconnected = 32;
    const gw_json *live = gw_json_get(root, "live");
    if (live && gw_schema_check(diag, live, live_fields,
                                sizeof(live_fields) / sizeof(live_fields[0]), GW_UNKNOWN_ERROR,
                                "\"live\"")) {
        const num_member nums[] = {
            {"interval_ms", &cfg->live_interval_ms}, {"jog_release_ms", &cfg->jog_release_ms},
            {"max_clients", &cfg->live_max_clients}, {"ping_interval_ms", &cfg->ping_interval_ms},
            {"ping_timeout_ms", &cfg->ping_timeout_ms},
            {"connect_timeout_ms", &cfg->live_connect_timeout_ms},
            {"max_unconnected_per_address", &cfg->live_max_unconnected},
        };
        load_nums(live, nums, sizeof(nums) / sizeof(nums[0]));
    }
    cfg->http_workers = 16;
    cfg->http_max_connections = 4096;
    cfg->http_max_per_address = 64;
    cfg->http_header_timeout_ms = 5000;
    cfg->http_body_timeout_ms = 10000;
    cfg->http_idle_timeout_ms = 30000;
    cfg->http_send_timeout_ms = 10000;
    const gw_json *http = gw_json_get(root, "http");
    if (http && gw_schema_check(diag, http, http_fields,
                                sizeof(http_fields) / sizeof(http_fields[0]), GW_UNKNOWN_ERROR,
                                "\"http\"")) {
        const num_member nums[] = {
            {"workers", &cfg->http_workers}, {"max_connections", &cfg->http_max_connections},
            {"max_connections_per_address", &cfg->http_max_per_address},
            {"header_timeout_ms", &cfg->http_header_timeout_ms},
            {"body_timeout_ms", &cfg->http_body_timeout_ms},
            {"idle_timeout_ms", &cfg->http_idle_timeout_ms},
            {"send_timeout_ms", &cfg->http_send_timeout_ms},
        };
        load_nums(http, nums, sizeof(nums) / sizeof(nums[0]));
        const gw_json *ll = gw_json_get(http, "limit_loopback");
        cfg->http_limit_loopback = ll && ll->u.b;
    }
    const gw_json *cors = gw_json_get(root, "cors_origins");
    if (cors)
        load_cors(cfg, diag, cors);
    const gw_json *machines = gw_json_get(root, "machines");
    for (size_t i = 0; i < machines->u.arr.n; i++)
        load_machine(cfg, diag, machines->u.arr.items[i]);
    if (machines->u.arr.n == 0)
        gw_diag_error(diag, machines->loc, "\"machines\" is empty: a gateway needs a machine");
    const gw_json *def = gw_json_get(root, "default_machine");
    if (def) {
        copy_str(diag, "default_machine", cfg->default_machine, sizeof(cfg->default_machine), def,
                 "");
        if (!gw_config_machine(cfg, cfg->default_machine))
            gw_diag_error(diag, def->loc, "\"default_machine\": no machine has the id \"%s\"",
                          def->u.str.s);
    } else if (cfg->nmachines > 0) {
        snprintf(cfg->default_machine, sizeof(cfg->default_machine), "%s", cfg->machines[0].id);
    }
out:
    cfg->doc = doc; /* the machines' "app" sections point into it */
    if (gw_diag_failed(diag)) {
        gw_config_free(cfg);
        return GW_E_CONFIG;
    }
    *out = cfg;
    return GW_OK;
}

const gw_machine_cfg *gw_config_machine(const gw_config *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->nmachines; i++)
        if (strcmp(cfg->machines[i].id, id) == 0)
            return &cfg->machines[i];
    return NULL;
}
