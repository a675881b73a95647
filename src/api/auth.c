/*
 * auth.c - who is asking: an API token, a session cookie, or nobody (with
 * auth.loopback_viewer, an anonymous viewer on this host). Shared by the
 * HTTP dispatcher and the Socket.IO connect packet; it takes header texts,
 * not a connection, so that it is tested on its own.
 */
#include "api_internal.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

bool api__is_loopback(const char *addr)
{
    return addr && (strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
                    strncmp(addr, "::ffff:127.", 11) == 0);
}

/* The value of cookie name in a Cookie header (RFC 6265 section 4.2:
 * "a=1; b=2"): its length, -1 when absent or larger than size - 1. */
static long cookie_value(const char *cookies, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    for (const char *p = cookies; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t vl = len - nl - 1;
            while (vl && p[nl + 1 + vl - 1] == ' ')
                vl--;
            if (vl + 1 > size)
                return -1;
            memcpy(out, p + nl + 1, vl);
            out[vl] = '\0';
            return (long)vl;
        }
        p = end;
    }
    return -1;
}

static bool cookie_session(const char *cookies, char id[GW_TOKEN_LEN + 2])
{
    return cookie_value(cookies, API_SESSION_COOKIE, id, GW_TOKEN_LEN + 2) == GW_TOKEN_LEN;
}

bool api__session_id(api_req *req, char id[GW_TOKEN_LEN + 2])
{
    return cookie_session(gw_http_req_header(req->hr, "Cookie"), id);
}

api_cred api__identify(gw_store *store, const gw_config *cfg, const api_credentials *c,
                       gw_principal *who, gw_error *err)
{
    memset(who, 0, sizeof(*who));
    gw_error_clear(err);
    const char *token = c->token;
    if (!token && c->authorization) {
        if (strncasecmp(c->authorization, "Bearer ", 7) != 0) {
            gw_error_set(err, GW_E_ACCESS, "only \"Authorization: Bearer TOKEN\" is accepted");
            return API_CRED_BAD_TOKEN;
        }
        token = c->authorization + 7;
        while (*token == ' ')
            token++;
    }
    if (token) {
        if (!store) {
            gw_error_set(err, GW_E_ACCESS, "this gateway runs without a user database");
            return API_CRED_BAD_TOKEN;
        }
        return gw_store_token_check(store, token, who, err) == GW_OK ? API_CRED_TOKEN
                                                                     : API_CRED_BAD_TOKEN;
    }
    char sid[GW_TOKEN_LEN + 2];
    if (store && cookie_session(c->cookies, sid)) {
        api_cred r = gw_store_session_check(store, sid, who, err) == GW_OK ? API_CRED_SESSION
                                                                           : API_CRED_BAD_SESSION;
        sodium_memzero(sid, sizeof(sid));
        return r;
    }
    if (cfg->auth_loopback_viewer && api__is_loopback(c->remote_addr)) {
        who->role = GW_ROLE_VIEWER; /* anonymous, on this host */
        return API_CRED_LOOPBACK;
    }
    return API_CRED_NONE;
}
