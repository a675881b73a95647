/*
 * sio.c - the live channel: Socket.IO v5 on eio: live data, the
 * connection's state, and the events each machine's app makes of its
 * changes (apps/app.h; the rig: alarm, test_complete).
 *
 * Server to client: live_data every live interval (100 ms) to the clients
 * that subscribed, serialised once per tick and machine and shared by
 * every receiver, with the server's time `ts` (ms since the epoch);
 * connection_status and the apps' events (alarm, test_complete) to every
 * client. Client to server: subscribe, unsubscribe {machine}, jog_forward
 * and jog_backward {state, machine} (on the hold-to-run tags of the
 * machine's app).
 *
 * Hold-to-run jog (DESIGN.md, Safety): state:true starts the jog and must
 * be renewed at least every 250 ms; each renewal re-arms a timed release
 * on the machine's thread (gw_engine_write with a release), so the PLC's
 * bit drops jog_release_ms after the last renewal even if this thread
 * stalls. It is released at once on state:false, when its client goes
 * (disconnect, transport close, ping timeout), when the PLC reconnects,
 * when a second client tries to jog (one owner), and when the owner asks
 * for both directions. After a release that the client did not ask for,
 * its state:true is refused until it sends state:false (a held button
 * does not restart a machine). Every start and release is audited with
 * its reason.
 *
 * The protocol-test mode is the reference server of the Socket.IO and
 * Engine.IO test suites (tests/integration/socketio).
 */
#include "api_internal.h"
#include "eio.h"
#include "sio.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#define NSP_ROOT 1u
#define NSP_CUSTOM 2u
#define DIR_FWD 1u
#define DIR_BACK 2u
#define SIO_MAX_ATTACHMENT_BYTES (1024u * 1024u) /* a packet's attachments together */

typedef struct sio_client sio_client;

struct sio_client {
    sio_hub *hub;
    eio_session *s;
    uint64_t id;
    unsigned nsps;                  /* NSP_* connected */
    gw_principal who;
    uint64_t live;                  /* machines subscribed, bit = index */
    uint8_t inhibit[GW_MAX_MACHINES]; /* DIR_* refused until state:false */
    /* a binary packet waiting for its attachments */
    char *pending;
    size_t pending_len;
    int pending_need;
    eio_frame *att[SIO_MAX_ATTACHMENTS];
    int natt;
    size_t pending_bytes;
    sio_client *next;
};

typedef struct {
    const gw_tag *tag[3];           /* [DIR_FWD], [DIR_BACK] */
    uint64_t owner;                 /* client id, 0: none */
    sio_client *owner_c;
    unsigned dir;
    uint64_t last_write_ms;         /* the PLC's timed release runs from here */
    atomic_bool reconnected;        /* set on the machine's thread */
} jog_state;

struct sio_hub {
    gw_api *api;
    const gw_config *cfg;
    gw_log *log;
    bool test_mode;
    uint32_t interval_ms, jog_release_ms, connect_timeout_ms;
    eio_server *eio, *bare;
    pthread_mutex_t lock;           /* clients, subscriptions */
    sio_client *clients;
    uint64_t next_id;
    unsigned subscribers[GW_MAX_MACHINES];
    pthread_mutex_t jog_lock;       /* jog states; held across the PLC write */
    jog_state jog[GW_MAX_MACHINES];
    pthread_t ticker;
    bool ticker_started;
    atomic_bool stop;
    atomic_ullong ticks, frames_sent;
};

/* ---------------------------------------------------------------- sending */

/* Sends a packet's text ("2[...]" without the Engine.IO "4"). */
static void send_text(sio_client *c, const char *text, size_t len)
{
    eio_frame *f = eio_frame_message(text, len);
    if (f) {
        eio_send(c->s, f, -1);
        eio_frame_release(f);
    }
}

/* "<type>[nsp,][id]<json>" */
static void send_packet(sio_client *c, int type, const char *nsp, bool has_id, uint64_t id,
                        const char *json, size_t json_len)
{
    gw_buf b;
    gw_buf_init(&b);
    gw_buf_printf(&b, "%d", type);
    if (nsp && strcmp(nsp, "/") != 0)
        gw_buf_printf(&b, "%s,", nsp);
    if (has_id)
        gw_buf_printf(&b, "%llu", (unsigned long long)id);
    if (json)
        gw_buf_append(&b, json, json_len);
    send_text(c, gw_buf_cstr(&b), b.len);
    gw_buf_clear(&b);
}

/* emit(event, payload) on "/"; payload is taken */
static void emit(sio_client *c, const char *event, json_t *payload)
{
    json_t *a = json_pack("[s, o]", event, payload ? payload : json_object());
    char *s = a ? gw_json_dumps(a, 0) : NULL;
    json_decref(a);
    if (s)
        send_packet(c, SIO_EVENT, "/", false, 0, s, strlen(s));
    gw_free(s);
}

/* ack(id, [payload]); payload is taken */
static void ack(sio_client *c, const sio_packet *pk, json_t *payload)
{
    if (!pk->has_id) {
        json_decref(payload);
        return;
    }
    json_t *a = json_pack("[o]", payload ? payload : json_object());
    char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (s)
        send_packet(c, SIO_ACK, pk->nsp, true, pk->id, s, strlen(s));
    free(s);
}

/* One serialisation for every client on "/" (connection_status, alarm,
 * test_complete). */
static void broadcast(sio_hub *h, const char *event, json_t *payload)
{
    json_t *a = json_pack("[s, o]", event, payload);
    char *s = a ? gw_json_dumps(a, 0) : NULL;
    json_decref(a);
    if (!s)
        return;
    size_t len = strlen(s);
    char *text = gw_malloc(len + 2);
    if (text) {
        text[0] = '2';
        memcpy(text + 1, s, len);
        eio_frame *f = eio_frame_message(text, len + 1);
        pthread_mutex_lock(&h->lock);
        for (sio_client *c = h->clients; f && c; c = c->next)
            if (c->nsps & NSP_ROOT)
                eio_send(c->s, f, -1);
        pthread_mutex_unlock(&h->lock);
        eio_frame_release(f);
        gw_free(text);
    }
    gw_free(s);
}

/* ---------------------------------------------------------------- jog */

static const char *dir_name(unsigned dir)
{
    return dir == DIR_FWD ? "forward" : "backward";
}

static void audit(sio_hub *h, const gw_principal *who, const char *machine, const char *action,
                  const char *reason, const char *result)
{
    if (!h->api->store)
        return;
    json_t *v = json_pack("{s:s}", "reason", reason);
    char *values = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    gw_error err;
    if (gw_store_audit(h->api->store, who, machine, action, values, result, &err) != GW_OK)
        gw_log_error(h->log, "sio", "audit: %s", err.msg);
    free(values);
}

static void jog_status(sio_client *c, const gw_machine_cfg *m, unsigned dir, bool active,
                       const char *reason)
{
    if (c)
        emit(c, "jog_status", json_pack("{s:s, s:s, s:b, s:s}", "machine", m->id, "direction",
                                        dir_name(dir), "active", active, "reason", reason));
}

/* Writes the jog bit of dir: on (with its timed release) or off (urgent). */
static gw_err jog_write(sio_hub *h, const gw_machine_cfg *m, jog_state *js, unsigned dir,
                        bool on, gw_error *err)
{
    gw_write w, r;
    json_t *t = json_true(), *f = json_false();
    gw_err rc = gw_tag_prepare_write(m->tags, js->tag[dir], on ? t : f, &w, err);
    if (rc == GW_OK && on)
        rc = gw_tag_prepare_write(m->tags, js->tag[dir], f, &r, err);
    if (rc == GW_OK)
        rc = gw_engine_write(h->api->engine, m->id, &w, on ? &r : NULL, 1,
                             on ? h->jog_release_ms : 0, !on, m->timeout_ms * 2 + 500, err);
    return rc;
}

/* Releases the machine's jog (jog_lock held): the bit off, ahead of
 * everything queued; audited with why. inhibit: the owner's state:true is
 * refused until it lets go. write: false when the timed release on the
 * machine's thread has already done it. */
static void jog_release_locked(sio_hub *h, size_t mi, const char *why, bool inhibit,
                               bool write)
{
    jog_state *js = &h->jog[mi];
    const gw_machine_cfg *m = &h->cfg->machines[mi];
    if (!js->owner)
        return;
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = write ? jog_write(h, m, js, js->dir, false, &err) : GW_OK;
    sio_client *c = js->owner_c;
    gw_principal who = c ? c->who : (gw_principal){0};
    char action[32];
    snprintf(action, sizeof(action), "jog_%s release", dir_name(js->dir));
    audit(h, &who, m->id, action, why, rc == GW_OK ? "ok" : err.msg);
    gw_log_info(h->log, "sio", "machine %s: jog %s released (%s)%s%s", m->id, dir_name(js->dir),
                why, rc == GW_OK ? "" : ": ", rc == GW_OK ? "" : err.msg);
    if (c && inhibit)
        c->inhibit[mi] |= (uint8_t)js->dir;
    jog_status(c, m, js->dir, false, why);
    js->owner = 0;
    js->owner_c = NULL;
    js->dir = 0;
}

/* Has the timed release on the machine's thread come (or is it within
 * 50 ms)? It runs jog_release_ms after the last write of the bit. */
static bool jog_expired(const sio_hub *h, const jog_state *js, uint64_t now)
{
    return now - js->last_write_ms + 50 >= h->jog_release_ms;
}

static void jog_event(sio_client *c, const sio_packet *pk, json_t *args, unsigned dir)
{
    sio_hub *h = c->hub;
    json_t *p = json_array_get(args, 1);
    json_t *state = json_object_get(p, "state");
    const char *mid = json_string_value(json_object_get(p, "machine"));
    const gw_machine_cfg *m = gw_config_machine(h->cfg, mid ? mid : h->cfg->default_machine);
    const char *refused = NULL;
    size_t mi = m ? (size_t)(m - h->cfg->machines) : 0;
    if (!json_is_boolean(state))
        refused = "the payload needs {\"state\": true|false}";
    else if (!m)
        refused = "no such machine";
    else if (!h->jog[mi].tag[DIR_FWD] || !h->jog[mi].tag[DIR_BACK])
        refused = "this machine has no jog";
    else if (c->who.role < GW_ROLE_OPERATOR)
        refused = "jog needs the operator role";
    if (refused) {
        ack(c, pk, json_pack("{s:b, s:s}", "ok", 0, "error", refused));
        return;
    }
    jog_state *js = &h->jog[mi];
    gw_error err;
    gw_error_clear(&err);
    char action[32];
    snprintf(action, sizeof(action), "jog_%s start", dir_name(dir));
    pthread_mutex_lock(&h->jog_lock);
    /* the time is read with the lock held: a renewal that waited for it
     * (behind another write) is judged by when it runs, not when it came */
    uint64_t now = gw_mono_ms();
    if (atomic_exchange(&js->reconnected, false) && js->owner)
        jog_release_locked(h, mi, "the PLC connection changed", true, true);
    if (!json_is_true(state)) {
        c->inhibit[mi] &= (uint8_t)~dir;
        if (js->owner == c->id && js->dir == dir)
            jog_release_locked(h, mi, "released by the operator", false, true);
    } else if (c->inhibit[mi] & dir) {
        refused = "released: let go of the button before jogging again";
    } else if (js->owner && js->owner != c->id) {
        c->inhibit[mi] |= (uint8_t)dir;
        jog_release_locked(h, mi, "a second client tried to jog", true, true);
        refused = "another client was jogging: both released";
    } else if (js->owner == c->id && js->dir != dir) {
        c->inhibit[mi] |= (uint8_t)dir;
        jog_release_locked(h, mi, "both directions at once", true, true);
        refused = "both directions at once: released";
    } else if (js->owner == c->id && jog_expired(h, js, now)) {
        /* the machine's timer has released it, or is about to: a late
         * renewal must not start the motion again */
        jog_release_locked(h, mi, "no renewal in time", true, false);
        refused = "released: no renewal in time; let go of the button before jogging again";
    } else if (js->owner == c->id) {
        /* re-arm the release on the machine's thread; a client renewing
         * faster than every 50 ms does not make more PLC writes */
        if (now - js->last_write_ms >= 50) {
            /* taken before the write: never later than the PLC's
             * confirmation, from which the machine times the release */
            uint64_t t = gw_mono_ms();
            if (jog_write(h, m, js, dir, true, &err) == GW_OK)
                js->last_write_ms = t;
            else
                jog_release_locked(h, mi, err.msg, true, true);
        }
    } else {
        uint64_t t = gw_mono_ms();
        gw_err rc = jog_write(h, m, js, dir, true, &err);
        audit(h, &c->who, m->id, action, "pressed", rc == GW_OK ? "ok" : err.msg);
        if (rc == GW_OK) {
            js->owner = c->id;
            js->owner_c = c;
            js->dir = dir;
            js->last_write_ms = t;
            gw_log_info(h->log, "sio", "machine %s: jog %s by %s", m->id, dir_name(dir),
                        c->who.user_id ? c->who.name : "anonymous");
            jog_status(c, m, dir, true, "pressed");
        } else {
            refused = err.msg;
        }
    }
    pthread_mutex_unlock(&h->jog_lock);
    if (refused)
        ack(c, pk, json_pack("{s:b, s:s}", "ok", 0, "error", refused));
    else
        ack(c, pk, json_pack("{s:b}", "ok", 1));
}

/* The ticker's look at the jogs: renewals that stopped, PLCs that
 * reconnected. Skipped when a jog write holds the lock. */
static void jog_watch(sio_hub *h)
{
    if (pthread_mutex_trylock(&h->jog_lock) != 0)
        return;
    uint64_t now = gw_mono_ms();
    for (size_t i = 0; i < h->cfg->nmachines; i++) {
        jog_state *js = &h->jog[i];
        if (atomic_exchange(&js->reconnected, false) && js->owner)
            jog_release_locked(h, i, "the PLC connection changed", true, true);
        else if (js->owner && jog_expired(h, js, now))
            /* the machine's thread has released the bit by its timer */
            jog_release_locked(h, i, "no renewal in time", true, false);
    }
    pthread_mutex_unlock(&h->jog_lock);
}

/* ---------------------------------------------------------------- live data */

static void *ticker_main(void *arg)
{
    sio_hub *h = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load(&h->stop)) {
        long ns = next.tv_nsec + (long)h->interval_ms * 1000000L;
        next.tv_sec += ns / 1000000000L;
        next.tv_nsec = ns % 1000000000L;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) != 0 &&
               !atomic_load(&h->stop)) {
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec + 1)
            next = now; /* far behind (suspended): start again from now */
        if (atomic_load(&h->stop))
            break;
        atomic_fetch_add(&h->ticks, 1);
        if (!h->test_mode)
            jog_watch(h);
        for (size_t i = 0; i < h->cfg->nmachines && h->api->engine; i++) {
            pthread_mutex_lock(&h->lock);
            unsigned n = h->subscribers[i];
            pthread_mutex_unlock(&h->lock);
            if (!n)
                continue;
            const gw_machine_cfg *m = &h->cfg->machines[i];
            const gw_snapshot *s = gw_engine_snapshot(h->api->engine, m->id);
            if (!s)
                continue;
            json_t *o = api__live_json(m, s);
            gw_snapshot_release(s);
            /* the server's time when it goes out: receivers measure latency */
            json_object_set_new(o, "ts", json_integer(gw_wall_ms()));
            json_t *a = json_pack("[s, o]", "live_data", o);
            char *text = a ? gw_json_dumps(a, 0) : NULL;
            json_decref(a);
            if (!text)
                continue;
            /* "42[...]": one frame for every receiver of this machine */
            gw_buf b;
            gw_buf_init(&b);
            gw_buf_append(&b, "2", 1);
            gw_buf_puts(&b, text);
            eio_frame *f = eio_frame_message(gw_buf_cstr(&b), b.len);
            gw_buf_clear(&b);
            if (f) {
                int slot = (int)(i % EIO_SLOTS);
                unsigned long long sent = 0;
                pthread_mutex_lock(&h->lock);
                for (sio_client *c = h->clients; c; c = c->next)
                    if (c->live & (1ull << i) && eio_send(c->s, f, slot))
                        sent++;
                pthread_mutex_unlock(&h->lock);
                atomic_fetch_add(&h->frames_sent, sent);
                eio_frame_release(f);
            }
            gw_free(text);
        }
    }
    return NULL;
}

/* The machine a payload names ({machine}), or the default one. */
static const gw_machine_cfg *payload_machine(sio_hub *h, json_t *args)
{
    const char *id = json_string_value(json_object_get(json_array_get(args, 1), "machine"));
    return gw_config_machine(h->cfg, id ? id : h->cfg->default_machine);
}

static void subscribe(sio_client *c, const sio_packet *pk, json_t *args, bool on)
{
    sio_hub *h = c->hub;
    const char *id = json_string_value(json_object_get(json_array_get(args, 1), "machine"));
    const gw_machine_cfg *m = payload_machine(h, args);
    if (!m && (on || id)) {
        ack(c, pk, json_pack("{s:b, s:s}", "ok", 0, "error", "no such machine"));
        return;
    }
    uint64_t bits = m && (on || id) ? 1ull << (m - h->cfg->machines) : ~0ull;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->cfg->nmachines; i++) {
        uint64_t b = 1ull << i;
        if (!(bits & b))
            continue;
        if (on && !(c->live & b))
            h->subscribers[i]++;
        else if (!on && (c->live & b))
            h->subscribers[i]--;
        c->live = on ? c->live | b : c->live & ~b;
    }
    pthread_mutex_unlock(&h->lock);
    ack(c, pk, m && on ? json_pack("{s:b, s:s}", "ok", 1, "machine", m->id)
                       : json_pack("{s:b}", "ok", 1));
}

/* ---------------------------------------------------------------- packets */

static void leave(sio_client *c, const char *why);

static void protocol_close(sio_client *c, const char *why)
{
    gw_log_write(c->hub->log, GW_LOG_DEBUG, "sio", "client %s: %s", eio_sid(c->s), why);
    eio_close(c->s, why);
}

static unsigned nsp_bit(sio_hub *h, const char *nsp)
{
    if (strcmp(nsp, "/") == 0)
        return NSP_ROOT;
    if (h->test_mode && strcmp(nsp, "/custom") == 0)
        return NSP_CUSTOM;
    return 0;
}

static void on_connect(sio_client *c, const sio_packet *pk, json_t *payload)
{
    sio_hub *h = c->hub;
    unsigned bit = nsp_bit(h, pk->nsp);
    if (!bit) {
        static const char invalid[] = "{\"message\":\"Invalid namespace\"}";
        send_packet(c, SIO_CONNECT_ERROR, pk->nsp, false, 0, invalid, sizeof(invalid) - 1);
        return;
    }
    if (!h->test_mode && !(c->nsps & NSP_ROOT)) { /* who is decided once */
        api_credentials cr = {NULL, eio_cookies(c->s),
                              json_string_value(json_object_get(payload, "token")),
                              eio_remote_addr(c->s)};
        gw_error err;
        api_cred k = api__identify(h->api->store, h->cfg, &cr, &c->who, &err);
        const char *why = k == API_CRED_BAD_TOKEN || k == API_CRED_BAD_SESSION ? err.msg
                          : c->who.role < GW_ROLE_VIEWER ? "sign in, or send {auth: {token}}: "
                                                           "the live channel needs the viewer role"
                          : NULL;
        if (why) {
            json_t *e = json_pack("{s:s}", "message", why);
            char *s = e ? json_dumps(e, JSON_COMPACT) : NULL;
            json_decref(e);
            if (s)
                send_packet(c, SIO_CONNECT_ERROR, pk->nsp, false, 0, s, strlen(s));
            free(s);
            return;
        }
    }
    char sid[24];
    unsigned char raw[15];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(sid, sizeof(sid), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char body[64];
    int n = snprintf(body, sizeof(body), "{\"sid\":\"%s\"}", sid);
    pthread_mutex_lock(&h->lock);
    c->nsps |= bit;
    pthread_mutex_unlock(&h->lock);
    eio_set_deadline(c->s, 0);
    send_packet(c, SIO_CONNECT, pk->nsp, false, 0, body, (size_t)n);
    if (h->test_mode) {
        /* the reference server: emit("auth", socket.handshake.auth) */
        gw_buf b;
        gw_buf_init(&b);
        gw_buf_puts(&b, "[\"auth\",");
        if (pk->data)
            gw_buf_append(&b, pk->data, pk->len);
        else
            gw_buf_puts(&b, "{}");
        gw_buf_append(&b, "]", 1);
        send_packet(c, SIO_EVENT, pk->nsp, false, 0, gw_buf_cstr(&b), b.len);
        gw_buf_clear(&b);
    } else {
        gw_log_info(h->log, "sio", "client %s connected as %s (%s)", eio_sid(c->s),
                    c->who.user_id ? c->who.name : "anonymous", gw_role_name(c->who.role));
    }
}

/* Re-sends a packet with the event's name changed (message -> message-back)
 * or as the ack of itself, its JSON otherwise byte for byte, with its
 * binary attachments. */
static void echo(sio_client *c, const sio_packet *pk, const char *name, bool as_ack)
{
    size_t first = sio_first_end(pk->data, pk->len);
    if (!first)
        return;
    const char *rest = pk->data + first; /* ",1,\"2\"]" or "]" */
    size_t rest_len = pk->len - first;
    gw_buf b;
    gw_buf_init(&b);
    bool binary = pk->attachments > 0;
    int type = as_ack ? (binary ? SIO_BINARY_ACK : SIO_ACK)
                      : (binary ? SIO_BINARY_EVENT : SIO_EVENT);
    gw_buf_printf(&b, "%d", type);
    if (binary)
        gw_buf_printf(&b, "%d-", pk->attachments);
    if (strcmp(pk->nsp, "/") != 0)
        gw_buf_printf(&b, "%s,", pk->nsp);
    if (as_ack) {
        gw_buf_printf(&b, "%llu[", (unsigned long long)pk->id);
        if (rest_len && rest[0] == ',')
            gw_buf_append(&b, rest + 1, rest_len - 1);
        else
            gw_buf_append(&b, rest, rest_len);
    } else {
        gw_buf_printf(&b, "[\"%s\"", name);
        gw_buf_append(&b, rest, rest_len);
    }
    send_text(c, gw_buf_cstr(&b), b.len);
    gw_buf_clear(&b);
    for (int i = 0; i < c->natt; i++)
        eio_send(c->s, c->att[i], -1);
}

static void on_event(sio_client *c, const sio_packet *pk, json_t *args)
{
    sio_hub *h = c->hub;
    const char *name = json_string_value(json_array_get(args, 0));
    if (h->test_mode) {
        if (name && strcmp(name, "message") == 0)
            echo(c, pk, "message-back", false);
        else if (name && strcmp(name, "message-with-ack") == 0 && pk->has_id)
            echo(c, pk, NULL, true);
        return;
    }
    if (pk->attachments || strcmp(pk->nsp, "/") != 0) {
        protocol_close(c, "binary events are not served");
        return;
    }
    if (!name)
        return;
    if (strcmp(name, "subscribe") == 0)
        subscribe(c, pk, args, true);
    else if (strcmp(name, "unsubscribe") == 0)
        subscribe(c, pk, args, false);
    else if (strcmp(name, "jog_forward") == 0)
        jog_event(c, pk, args, DIR_FWD);
    else if (strcmp(name, "jog_backward") == 0)
        jog_event(c, pk, args, DIR_BACK);
    else
        ack(c, pk, json_pack("{s:b, s:s}", "ok", 0, "error", "unknown event"));
}

static void release_attachments(sio_client *c)
{
    for (int i = 0; i < c->natt; i++)
        eio_frame_release(c->att[i]);
    c->natt = 0;
    gw_free(c->pending);
    c->pending = NULL;
    c->pending_need = 0;
    c->pending_bytes = 0;
}

static void on_packet(sio_client *c, const char *data, size_t len)
{
    sio_packet pk;
    bool ok = sio_parse(data, len, &pk);
    json_t *j = ok ? sio_check(&pk, &ok) : NULL;
    if (!ok) {
        protocol_close(c, "malformed Socket.IO packet");
        return;
    }
    unsigned bit = nsp_bit(c->hub, pk.nsp);
    switch (pk.type) {
    case SIO_CONNECT:
        on_connect(c, &pk, j);
        break;
    case SIO_DISCONNECT:
        if (bit == NSP_ROOT && (c->nsps & NSP_ROOT))
            leave(c, "the client disconnected");
        pthread_mutex_lock(&c->hub->lock);
        c->nsps &= ~bit;
        pthread_mutex_unlock(&c->hub->lock);
        break;
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        if (c->nsps & bit)
            on_event(c, &pk, j);
        break;
    default: /* acks of ours: none asked */
        break;
    }
    json_decref(j);
}

static void on_message(void *ud, eio_session *s, const char *data, size_t len, bool binary)
{
    (void)ud;
    sio_client *c = eio_user(s);
    if (!c)
        return;
    if (binary) {
        if (!c->pending_need) {
            protocol_close(c, "a binary message without its packet");
            return;
        }
        c->pending_bytes += len;
        if (c->pending_bytes > SIO_MAX_ATTACHMENT_BYTES) {
            protocol_close(c, "binary attachments over 1 MB");
            return;
        }
        eio_frame *f = eio_frame_new(true, data, len);
        if (!f) {
            protocol_close(c, "out of memory");
            return;
        }
        c->att[c->natt++] = f;
        if (c->natt < c->pending_need)
            return;
        on_packet(c, c->pending, c->pending_len);
        if (eio_user(s) == c) /* else on_packet closed the session and c is gone */
            release_attachments(c);
        return;
    }
    if (c->pending_need) {
        protocol_close(c, "a packet before the attachments of the last one");
        return;
    }
    if (len && (data[0] == '5' || data[0] == '6')) {
        sio_packet pk;
        if (!c->hub->test_mode) {
            /* nothing here takes binary: closed before anything is buffered */
            protocol_close(c, "binary packets are not served");
            return;
        }
        if (!sio_parse(data, len, &pk)) {
            protocol_close(c, "malformed Socket.IO packet");
            return;
        }
        c->pending = gw_malloc(len);
        if (!c->pending)
            return;
        memcpy(c->pending, data, len);
        c->pending_len = len;
        c->pending_need = pk.attachments;
        return;
    }
    on_packet(c, data, len);
}

static void on_open(void *ud, eio_session *s)
{
    sio_hub *h = ud;
    sio_client *c = gw_calloc(1, sizeof(*c));
    if (!c) {
        eio_close(s, "out of memory");
        return;
    }
    c->hub = h;
    c->s = s;
    eio_set_user(s, c);
    eio_set_deadline(s, gw_mono_ms() + h->connect_timeout_ms);
    pthread_mutex_lock(&h->lock);
    c->id = ++h->next_id;
    c->next = h->clients;
    h->clients = c;
    pthread_mutex_unlock(&h->lock);
}

/* The client leaves "/": its jog is released, its subscriptions end. */
static void leave(sio_client *c, const char *why)
{
    sio_hub *h = c->hub;
    pthread_mutex_lock(&h->jog_lock);
    for (size_t i = 0; i < h->cfg->nmachines; i++)
        if (h->jog[i].owner == c->id)
            jog_release_locked(h, i, why, false, true);
    pthread_mutex_unlock(&h->jog_lock);
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->cfg->nmachines; i++)
        if (c->live & (1ull << i))
            h->subscribers[i]--;
    c->live = 0;
    pthread_mutex_unlock(&h->lock);
}

static void on_close(void *ud, eio_session *s, const char *reason)
{
    sio_hub *h = ud;
    sio_client *c = eio_user(s);
    if (!c)
        return;
    char why[96];
    snprintf(why, sizeof(why), "the client went: %s", reason);
    leave(c, why);
    pthread_mutex_lock(&h->lock);
    for (sio_client **p = &h->clients; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    pthread_mutex_unlock(&h->lock);
    eio_set_user(s, NULL);
    release_attachments(c);
    gw_free(c);
}

/* The bare Engine.IO endpoint of the protocol tests: every message back. */
static void echo_message(void *ud, eio_session *s, const char *data, size_t len, bool binary)
{
    (void)ud;
    eio_frame *f = binary ? eio_frame_new(true, data, len) : eio_frame_message(data, len);
    if (f) {
        eio_send(s, f, -1);
        eio_frame_release(f);
    }
}

/* ---------------------------------------------------------------- events */

/* An app's event, to every client on "/" (gw_app_emit). */
void sio_hub_emit(void *ud, const char *event, json_t *payload)
{
    broadcast(ud, event, payload);
}

/* On a machine's thread: connection_status, and the events its app makes
 * of the change (the rig: alarm, test_complete). */
static void on_change(void *ud, const gw_change *ch)
{
    sio_hub *h = ud;
    const gw_machine_cfg *m = ch->now->machine;
    size_t mi = (size_t)(m - h->cfg->machines);
    if (ch->connection_changed) {
        if (mi < GW_MAX_MACHINES)
            atomic_store(&h->jog[mi].reconnected, true);
        broadcast(h, "connection_status",
                  json_pack("{s:s, s:b, s:s?}", "machine", m->id, "connected",
                            ch->now->connected, "error",
                            ch->now->error[0] ? ch->now->error : NULL));
    }
    const gw_app *app = gw_app_find(m->profile);
    if (app && app->on_change)
        app->on_change(m, ch, sio_hub_emit, h);
}

/* A browser's WebSocket from another site's page is refused, as the HTTP
 * dispatcher refuses its writes: the Origin must be this host or in
 * "cors_origins". Clients that are not browsers send no Origin. */
static bool allow_ws(void *ud, const gw_http_req *r)
{
    sio_hub *h = ud;
    const char *origin = gw_http_req_header(r, "Origin");
    if (!origin || h->test_mode)
        return true;
    for (size_t i = 0; i < h->cfg->ncors_origins; i++)
        if (strcmp(h->cfg->cors_origins[i], origin) == 0)
            return true;
    const char *host = gw_http_req_header(r, "Host");
    const char *o = strncmp(origin, "http://", 7) == 0 ? origin + 7
                    : strncmp(origin, "https://", 8) == 0 ? origin + 8 : NULL;
    if (o && host && strcmp(o, host) == 0)
        return true;
    gw_log_warn(h->log, "sio", "WebSocket from the web origin %s refused: not in the config's "
                "\"cors_origins\"", origin);
    return false;
}

/* ---------------------------------------------------------------- set-up */

gw_err sio_hub_new(gw_api *api, const sio_opts *o, sio_hub **out, gw_error *err)
{
    sio_hub *h = gw_calloc(1, sizeof(*h));
    if (!h)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    h->api = api;
    h->cfg = api->config;
    h->log = api->log;
    h->test_mode = o->protocol_test;
    h->interval_ms = o->live_interval_ms ? o->live_interval_ms : 100;
    h->jog_release_ms = o->jog_release_ms ? o->jog_release_ms : 500;
    h->connect_timeout_ms = o->protocol_test ? 1000
                            : o->connect_timeout_ms ? o->connect_timeout_ms : 5000;
    pthread_mutex_init(&h->lock, NULL);
    pthread_mutex_init(&h->jog_lock, NULL);
    for (size_t i = 0; i < h->cfg->nmachines; i++) {
        const gw_machine_cfg *m = &h->cfg->machines[i];
        /* the hold-to-run tags of the machine's app */
        const gw_app *app = gw_app_find(m->profile);
        if (app && app->jog[0] && app->jog[1]) {
            h->jog[i].tag[DIR_FWD] = gw_tagmap_find(m->tags, app->jog[0]);
            h->jog[i].tag[DIR_BACK] = gw_tagmap_find(m->tags, app->jog[1]);
        }
    }
    eio_opts eo;
    memset(&eo, 0, sizeof(eo));
    eo.ping_interval_ms = o->protocol_test ? 300 : o->ping_interval_ms;
    eo.ping_timeout_ms = o->protocol_test ? 200 : o->ping_timeout_ms;
    /* the suites' 1,000,000; the live channel's messages are small */
    eo.max_payload = o->protocol_test ? 1000000 : API_MAX_BODY;
    eo.max_sessions = o->max_clients;
    eo.max_pending_per_address = o->protocol_test ? 0 : o->max_pending_per_address;
    eo.limit_config = "live.max_clients";
    eo.cors_any = o->protocol_test;
    eo.ud = h;
    eo.on_open = on_open;
    eo.on_message = on_message;
    eo.on_close = on_close;
    eo.allow_ws = allow_ws;
    eo.log = h->log;
    gw_err rc = eio_server_new(&eo, &h->eio, err);
    if (rc == GW_OK && o->protocol_test) {
        eio_opts bare = eo;
        bare.on_open = NULL;
        bare.on_message = echo_message;
        bare.on_close = NULL;
        rc = eio_server_new(&bare, &h->bare, err);
    }
    if (rc == GW_OK && api->engine && gw_engine_subscribe(api->engine, on_change, h) != GW_OK)
        gw_log_warn(h->log, "sio", "the engine runs already: no connection_status, alarm or "
                    "test_complete events");
    if (rc == GW_OK) {
        if (pthread_create(&h->ticker, NULL, ticker_main, h) != 0)
            rc = gw_error_set(err, GW_E_NOMEM, "cannot start the live ticker");
        else
            h->ticker_started = true;
    }
    if (rc != GW_OK) {
        sio_hub_free(h);
        return rc;
    }
    *out = h;
    return GW_OK;
}

void sio_hub_http(sio_hub *h, gw_http_req *r, const char *path, const char *cors)
{
    if (h->bare && strcmp(path, "/engine.io/") == 0)
        eio_handle_http(h->bare, r, cors);
    else
        eio_handle_http(h->eio, r, cors);
}

bool sio_hub_path(const sio_hub *h, const char *path)
{
    return strcmp(path, "/socket.io/") == 0 || (h->bare && strcmp(path, "/engine.io/") == 0);
}

bool sio_hub_cors_any(const sio_hub *h)
{
    return h->test_mode;
}

void sio_hub_stats(sio_hub *h, unsigned *clients, unsigned long long *ticks,
                   unsigned long long *frames)
{
    *clients = eio_count(h->eio);
    *ticks = atomic_load(&h->ticks);
    *frames = atomic_load(&h->frames_sent);
}

void sio_hub_drain(sio_hub *h)
{
    if (!h)
        return;
    eio_server_drain(h->eio);
    if (h->bare)
        eio_server_drain(h->bare);
}

void sio_hub_close(sio_hub *h)
{
    if (!h)
        return;
    atomic_store(&h->stop, true);
    if (h->ticker_started)
        pthread_join(h->ticker, NULL);
    h->ticker_started = false;
    eio_server_close_all(h->eio); /* releases any jog, through the engine */
    eio_server_close_all(h->bare);
}

void sio_hub_free(sio_hub *h)
{
    if (!h)
        return;
    sio_hub_close(h);
    eio_server_free(h->eio);
    eio_server_free(h->bare);
    pthread_mutex_destroy(&h->lock);
    pthread_mutex_destroy(&h->jog_lock);
    gw_free(h);
}
