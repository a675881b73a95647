/*
 * store.h - the gateway's SQLite database: users, API tokens, sessions,
 * the audit log, and the ring-stiffness tests, data points and alarms
 * (seed 000, section 6, plus machine_id, status and timestamps).
 *
 * One connection in WAL mode behind a mutex, so that any thread may call;
 * the schema is migrated by PRAGMA user_version when the file is opened.
 * The history's reads (history.h) have a read-only connection of their
 * own, so that they never hold up a write.
 *
 * Secrets: passwords are hashed with Argon2id (crypto_pwhash_str); API
 * tokens and session ids are 256-bit random values kept only as a BLAKE2b
 * hash (crypto_generichash) and compared in constant time, so checking one
 * costs microseconds, not a password hash per request.
 */
#ifndef GW_STORE_H
#define GW_STORE_H

#include "core/core.h"

/* Roles, lowest first (DESIGN.md, Safety and security). */
typedef enum { GW_ROLE_PUBLIC, GW_ROLE_VIEWER, GW_ROLE_OPERATOR, GW_ROLE_ADMIN } gw_role;

/* "public", "viewer", "operator", "admin" */
const char *gw_role_name(gw_role r);
/* viewer|operator|admin; false for anything else. */
bool gw_role_parse(const char *s, gw_role *out);

#define GW_STORE_SCHEMA_VERSION 2
#define GW_USER_NAME_MAX 64
/* "plcgw_" and 43 characters of base64url: 256 random bits. */
#define GW_TOKEN_LEN 49

typedef struct gw_store gw_store;

/* Who is asking: a user with a role, or nobody (id 0, GW_ROLE_PUBLIC). */
typedef struct {
    int64_t user_id;
    char name[GW_USER_NAME_MAX + 1];
    gw_role role;
} gw_principal;

/* Opens (creating) the database and brings its schema up to date. A file
 * from a newer plcgw is refused (GW_E_STORE) and left untouched. */
gw_err gw_store_open(const char *path, gw_store **out, gw_error *err);
void gw_store_close(gw_store *s);
int gw_store_schema_version(gw_store *s);

/* A new user. Names: 1..64 of [A-Za-z0-9._@-]; passwords at least 8
 * bytes. GW_E_INVAL (bad name, short password, exists) with the reason. */
gw_err gw_store_user_add(gw_store *s, const char *name, gw_role role, const char *password,
                         gw_error *err);
size_t gw_store_user_count(gw_store *s);
/* Checks a password; GW_E_ACCESS ("wrong name or password", never which)
 * when it does not match. Costs one Argon2id run by design. */
gw_err gw_store_user_login(gw_store *s, const char *name, const char *password,
                           gw_principal *who, gw_error *err);

/* A new API token for user, printed to the user once: only its hash is
 * kept. token receives GW_TOKEN_LEN + 1 bytes. */
gw_err gw_store_token_create(gw_store *s, const char *user, const char *label,
                             char token[GW_TOKEN_LEN + 1], gw_error *err);
/* Whose token this is; GW_E_ACCESS for an unknown or revoked one. */
gw_err gw_store_token_check(gw_store *s, const char *token, gw_principal *who, gw_error *err);

/* Disables (or enables again) a user: their tokens and sessions stop
 * working at once (sessions are ended). The last enabled admin cannot be
 * disabled (GW_E_INVAL); an unknown name is GW_E_NOT_FOUND. */
gw_err gw_store_user_set_disabled(gw_store *s, const char *name, bool disabled, gw_error *err);
/* Revokes API token id (see gw_store_token_list); GW_E_NOT_FOUND when
 * there is none. */
gw_err gw_store_token_revoke(gw_store *s, int64_t id, gw_error *err);

/* Listings, oldest first; the strings live for the call of fn only. */
typedef struct {
    int64_t id;
    const char *name;
    gw_role role;
    bool disabled;
    const char *created_at;
} gw_user_info;
typedef struct {
    int64_t id;
    const char *user;
    const char *label;
    bool revoked;
    const char *created_at;
} gw_token_info;
typedef void (*gw_store_user_fn)(void *ud, const gw_user_info *u);
typedef void (*gw_store_token_fn)(void *ud, const gw_token_info *t);
gw_err gw_store_user_list(gw_store *s, gw_store_user_fn fn, void *ud, gw_error *err);
/* user NULL: every user's tokens */
gw_err gw_store_token_list(gw_store *s, const char *user, gw_store_token_fn fn, void *ud,
                           gw_error *err);

/* Sessions (browser login): a new one for who, valid ttl_s seconds; the
 * id (GW_TOKEN_LEN chars, "plcgw_...") goes into a cookie, its hash into
 * the database. check: whose it is while it lasts (GW_E_ACCESS else);
 * delete: ends it (logout). */
gw_err gw_store_session_create(gw_store *s, const gw_principal *who, uint32_t ttl_s,
                               char id[GW_TOKEN_LEN + 1], gw_error *err);
gw_err gw_store_session_check(gw_store *s, const char *id, gw_principal *who, gw_error *err);
void gw_store_session_delete(gw_store *s, const char *id);

/* One line of the audit log: who (NULL: anonymous), on which machine
 * (may be NULL), what (an action such as "command/stop"), the values (a
 * JSON text or NULL) and the result ("ok" or the error). */
gw_err gw_store_audit(gw_store *s, const gw_principal *who, const char *machine,
                      const char *action, const char *values, const char *result,
                      gw_error *err);

#endif
