/*
 * store.c - SQLite: schema migrations, users, tokens, the audit log; the
 * connections (store_internal.h). The ring-stiffness history is history.c.
 */
#include "store_internal.h"

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

/* Schema version 1. Later versions append a migration; none is edited. */
static const char schema_v1[] =
    "CREATE TABLE users("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),"
    "  password_hash TEXT NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL);"
    "CREATE TABLE api_tokens("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  label TEXT NOT NULL,"
    "  token_hash BLOB NOT NULL UNIQUE,"
    "  revoked INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL);"
    "CREATE TABLE sessions("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  session_hash BLOB NOT NULL UNIQUE,"
    "  created_at TEXT NOT NULL,"
    "  expires_at TEXT NOT NULL);"
    "CREATE TABLE audit_log("
    "  id INTEGER PRIMARY KEY,"
    "  ts TEXT NOT NULL,"
    "  user_name TEXT,"
    "  role TEXT,"
    "  machine_id TEXT,"
    "  action TEXT NOT NULL,"
    "  \"values\" TEXT,"
    "  result TEXT NOT NULL);"
    /* seed 000, 6.1-6.3, with machine_id, status and timestamps */
    "CREATE TABLE tests("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  machine_id TEXT NOT NULL,"
    "  sample_id VARCHAR(50),"
    "  operator VARCHAR(100),"
    "  test_date DATETIME,"
    "  pipe_diameter REAL,"
    "  pipe_length REAL,"
    "  deflection_percent REAL,"
    "  force_at_target REAL,"
    "  ring_stiffness REAL,"
    "  sn_class INTEGER,"
    "  passed BOOLEAN,"
    "  status TEXT NOT NULL DEFAULT 'created',"
    "  created_at TEXT NOT NULL,"
    "  finished_at TEXT);"
    "CREATE TABLE test_data_points("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  test_id INTEGER NOT NULL REFERENCES tests(id) ON DELETE CASCADE,"
    "  timestamp REAL NOT NULL,"
    "  force REAL,"
    "  deflection REAL);"
    "CREATE INDEX test_data_points_test ON test_data_points(test_id, timestamp);"
    "CREATE TABLE alarms("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  machine_id TEXT NOT NULL,"
    "  alarm_code INTEGER NOT NULL,"
    "  message VARCHAR(255),"
    "  timestamp DATETIME NOT NULL,"
    "  acknowledged BOOLEAN NOT NULL DEFAULT 0,"
    "  ack_timestamp DATETIME,"
    "  ack_by TEXT);";

/* Version 2: what history.h keeps of a test besides the seed's columns
 * (the PLC's DB1 values, our independent results, the recording's size
 * and digest), the points' crosshead position, an alarm's name and test,
 * series ids handed out before any test uses them, and the indexes of the
 * history's listings. */
static const char schema_v2[] =
    "ALTER TABLE tests ADD COLUMN notes TEXT;"
    "ALTER TABLE tests ADD COLUMN reason TEXT;"
    "ALTER TABLE tests ADD COLUMN series_id INTEGER;"
    "ALTER TABLE tests ADD COLUMN nominal_sn INTEGER;"
    "ALTER TABLE tests ADD COLUMN test_speed REAL;"
    "ALTER TABLE tests ADD COLUMN max_stroke REAL;"
    "ALTER TABLE tests ADD COLUMN max_force REAL;"
    "ALTER TABLE tests ADD COLUMN plc_passed BOOLEAN;"
    "ALTER TABLE tests ADD COLUMN method TEXT;"
    "ALTER TABLE tests ADD COLUMN wall_thickness REAL;"
    "ALTER TABLE tests ADD COLUMN diameter_calc REAL;"
    "ALTER TABLE tests ADD COLUMN target_deflection REAL;"
    "ALTER TABLE tests ADD COLUMN force_at_target_calc REAL;"
    "ALTER TABLE tests ADD COLUMN ring_stiffness_calc REAL;"
    "ALTER TABLE tests ADD COLUMN sn_class_calc INTEGER;"
    "ALTER TABLE tests ADD COLUMN mismatch BOOLEAN;"
    "ALTER TABLE tests ADD COLUMN npoints INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE tests ADD COLUMN points_sha256 TEXT;"
    "UPDATE tests SET npoints = (SELECT count(*) FROM test_data_points p "
    "  WHERE p.test_id = tests.id);"
    "ALTER TABLE test_data_points ADD COLUMN position REAL;"
    "ALTER TABLE alarms ADD COLUMN name TEXT;"
    "ALTER TABLE alarms ADD COLUMN test_id INTEGER;"
    "CREATE TABLE series("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  created_at TEXT NOT NULL);"
    "CREATE INDEX tests_date ON tests(test_date);"
    "CREATE INDEX tests_machine_date ON tests(machine_id, test_date);"
    "CREATE INDEX tests_series ON tests(series_id);"
    "CREATE INDEX tests_sample ON tests(sample_id);"
    "CREATE INDEX alarms_machine_ack ON alarms(machine_id, acknowledged);";

static const char *const migrations[] = {schema_v1, schema_v2};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == GW_STORE_SCHEMA_VERSION,
               "GW_STORE_SCHEMA_VERSION (store.h) is the number of migrations");

const char *gw_role_name(gw_role r)
{
    static const char *n[] = {"public", "viewer", "operator", "admin"};
    return (unsigned)r <= GW_ROLE_ADMIN ? n[r] : "?";
}

bool gw_role_parse(const char *s, gw_role *out)
{
    for (gw_role r = GW_ROLE_VIEWER; r <= GW_ROLE_ADMIN; r++)
        if (s && strcmp(s, gw_role_name(r)) == 0) {
            *out = r;
            return true;
        }
    return false;
}

static gw_err db_error(gw_store *s, gw_error *err, const char *what)
{
    return gw_error_set(err, GW_E_STORE, "database: %s: %s", what, sqlite3_errmsg(s->db));
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static gw_err migrate(gw_store *s, const char *path, gw_error *err)
{
    int v = user_version(s->db);
    int latest = (int)(sizeof(migrations) / sizeof(migrations[0]));
    if (v < 0)
        return db_error(s, err, "cannot read the schema version");
    if (v > latest)
        return gw_error_set(err, GW_E_STORE, "database %s has schema version %d; this plcgw "
                            "knows up to %d: use a newer plcgw", path, v, latest);
    for (; v < latest; v++) {
        char pragma[40];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d;", v + 1);
        if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(s->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(s->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
            gw_error_set(err, GW_E_STORE, "database %s: migration to schema %d failed: %s", path,
                         v + 1, sqlite3_errmsg(s->db));
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return GW_E_STORE;
        }
        if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            return db_error(s, err, "commit of a migration");
    }
    return GW_OK;
}

/* The history's read-only connection (store_internal.h), opened once the
 * schema is current. An in-memory database is private to its connection,
 * so it has none. */
static gw_err open_reader(gw_store *s, const char *path, gw_error *err)
{
    if (path[0] == '\0' || strcmp(path, ":memory:") == 0)
        return GW_OK;
    int rc = sqlite3_open_v2(path, &s->rd, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return gw_error_set(err, GW_E_STORE, "cannot open the database %s for reading: %s",
                            path, s->rd ? sqlite3_errmsg(s->rd) : sqlite3_errstr(rc));
    sqlite3_busy_timeout(s->rd, 5000);
    return GW_OK;
}

gw_err gw_store_open(const char *path, gw_store **out, gw_error *err)
{
    *out = NULL;
    if (sodium_init() < 0)
        return gw_error_set(err, GW_E_IO, "libsodium cannot start");
    gw_store *s = gw_calloc(1, sizeof(*s));
    if (!s)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutexattr_t ra;
    pthread_mutexattr_init(&ra);
    pthread_mutexattr_settype(&ra, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->rlock, &ra);
    pthread_mutexattr_destroy(&ra);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        gw_error_set(err, GW_E_STORE, "cannot open the database %s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        gw_store_close(s);
        return GW_E_STORE;
    }
    sqlite3_busy_timeout(s->db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                     "PRAGMA foreign_keys = ON;", NULL, NULL, &msg) != SQLITE_OK) {
        gw_error_set(err, GW_E_STORE, "database %s: %s", path, msg ? msg : "cannot set it up");
        sqlite3_free(msg);
        gw_store_close(s);
        return GW_E_STORE;
    }
    gw_err e = migrate(s, path, err);
    if (e == GW_OK)
        e = open_reader(s, path, err);
    if (e != GW_OK) {
        gw_store_close(s);
        return e;
    }
    *out = s;
    return GW_OK;
}

void gw_store_close(gw_store *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->token_owner);
    sqlite3_finalize(s->session_owner);
    store__history_close(s);
    sqlite3_close(s->rd);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->rlock);
    pthread_mutex_destroy(&s->lock);
    gw_free(s);
}

int gw_store_schema_version(gw_store *s)
{
    pthread_mutex_lock(&s->lock);
    int v = user_version(s->db);
    pthread_mutex_unlock(&s->lock);
    return v;
}

static void now_text(char *buf, size_t size)
{
    gw_time_iso8601(gw_wall_ms(), buf, size);
}

static bool valid_name(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    if (len == 0 || len > GW_USER_NAME_MAX)
        return false;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '@' || *p == '-'))
            return false;
    return true;
}

gw_err gw_store_user_add(gw_store *s, const char *name, gw_role role, const char *password,
                         gw_error *err)
{
    if (!valid_name(name))
        return gw_error_set(err, GW_E_INVAL, "user name \"%s\": 1 to %d of A-Z a-z 0-9 . _ @ -",
                            name ? name : "", GW_USER_NAME_MAX);
    if (role < GW_ROLE_VIEWER || role > GW_ROLE_ADMIN)
        return gw_error_set(err, GW_E_INVAL, "role: viewer, operator or admin");
    if (!password || strlen(password) < 8)
        return gw_error_set(err, GW_E_INVAL, "the password needs at least 8 characters");
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return gw_error_set(err, GW_E_NOMEM, "not enough memory to hash the password");
    char ts[32];
    now_text(ts, sizeof(ts));
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO users(name, role, password_hash, created_at) "
                           "VALUES (?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK) {
        rc = db_error(s, err, "add user");
    } else {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, gw_role_name(role), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, ts, -1, SQLITE_STATIC);
        int r = sqlite3_step(st);
        if (r == SQLITE_CONSTRAINT)
            rc = gw_error_set(err, GW_E_INVAL, "user \"%s\" exists already", name);
        else if (r != SQLITE_DONE)
            rc = db_error(s, err, "add user");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

size_t gw_store_user_count(gw_store *s)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    size_t n = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM users", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Fills who from a row's (id, name, role) at columns c, c+1, c+2. */
static void principal_from(sqlite3_stmt *st, int c, gw_principal *who)
{
    who->user_id = sqlite3_column_int64(st, c);
    const char *name = (const char *)sqlite3_column_text(st, c + 1);
    snprintf(who->name, sizeof(who->name), "%s", name ? name : "");
    if (!gw_role_parse((const char *)sqlite3_column_text(st, c + 2), &who->role))
        who->role = GW_ROLE_PUBLIC;
}

gw_err gw_store_user_login(gw_store *s, const char *name, const char *password,
                           gw_principal *who, gw_error *err)
{
    memset(who, 0, sizeof(*who));
    char hash[crypto_pwhash_STRBYTES] = "";
    gw_principal found;
    memset(&found, 0, sizeof(found));
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT password_hash, id, name, role FROM users "
                           "WHERE name = ? AND disabled = 0", -1, &st, NULL) != SQLITE_OK) {
        rc = db_error(s, err, "login");
    } else {
        sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *h = (const char *)sqlite3_column_text(st, 0);
            snprintf(hash, sizeof(hash), "%s", h ? h : "");
            principal_from(st, 1, &found);
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc != GW_OK)
        return rc;
    size_t plen = password ? strlen(password) : 0;
    bool ok;
    if (hash[0]) {
        ok = crypto_pwhash_str_verify(hash, password ? password : "", plen) == 0;
    } else {
        /* no such user: spend the same time, so that timing does not tell */
        char dummy[crypto_pwhash_STRBYTES];
        if (crypto_pwhash_str(dummy, password ? password : "", plen,
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0)
            sodium_memzero(dummy, sizeof(dummy));
        ok = false;
    }
    sodium_memzero(hash, sizeof(hash));
    if (!ok)
        return gw_error_set(err, GW_E_ACCESS, "wrong name or password");
    *who = found;
    return GW_OK;
}

static void secret_hash(const char *secret, unsigned char out[crypto_generichash_BYTES])
{
    crypto_generichash(out, crypto_generichash_BYTES, (const unsigned char *)secret,
                       strlen(secret), NULL, 0);
}

/* A new secret: "plcgw_" and 256 random bits in base64url; its hash. */
static void new_secret(char out[GW_TOKEN_LEN + 1], unsigned char h[crypto_generichash_BYTES])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    snprintf(out, GW_TOKEN_LEN + 1, "plcgw_%s", b64);
    sodium_memzero(b64, sizeof(b64));
    secret_hash(out, h);
}

static bool secret_format(const char *t)
{
    return t && strlen(t) == GW_TOKEN_LEN && strncmp(t, "plcgw_", 6) == 0;
}

gw_err gw_store_token_create(gw_store *s, const char *user, const char *label,
                             char token[GW_TOKEN_LEN + 1], gw_error *err)
{
    unsigned char h[crypto_generichash_BYTES];
    new_secret(token, h);
    char ts[32];
    now_text(ts, sizeof(ts));
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO api_tokens(user_id, label, token_hash, "
                           "created_at) SELECT id, ?, ?, ? FROM users WHERE name = ?", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = db_error(s, err, "create token");
    } else {
        sqlite3_bind_text(st, 1, label ? label : "", -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, h, sizeof(h), SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ts, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, user ? user : "", -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_error(s, err, "create token");
        else if (sqlite3_changes(s->db) != 1)
            rc = gw_error_set(err, GW_E_NOT_FOUND, "no user \"%s\"", user ? user : "");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc != GW_OK)
        sodium_memzero(token, GW_TOKEN_LEN + 1);
    return rc;
}

/* Whose secret this is: sql selects (hash, id, name, role) for ?1 = the
 * secret's hash and ?2 = now; the hash is compared again in constant time.
 * GW_E_ACCESS with `unknown` when no row matches. The statement is prepared
 * once into *cache. */
static gw_err secret_owner(gw_store *s, sqlite3_stmt **cache, const char *sql,
                           const char *secret, gw_principal *who, const char *unknown,
                           gw_error *err)
{
    unsigned char h[crypto_generichash_BYTES];
    secret_hash(secret, h);
    char ts[32];
    now_text(ts, sizeof(ts));
    pthread_mutex_lock(&s->lock);
    gw_err rc = gw_error_set(err, GW_E_ACCESS, "%s", unknown);
    if (!*cache && sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, cache,
                                      NULL) != SQLITE_OK) {
        rc = db_error(s, err, "check a secret");
    } else {
        sqlite3_stmt *st = *cache;
        sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == (int)sizeof(h) &&
            sodium_memcmp(sqlite3_column_blob(st, 0), h, sizeof(h)) == 0) {
            principal_from(st, 1, who);
            rc = GW_OK;
            if (err)
                gw_error_clear(err);
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

gw_err gw_store_token_check(gw_store *s, const char *token, gw_principal *who, gw_error *err)
{
    memset(who, 0, sizeof(*who));
    if (!secret_format(token))
        return gw_error_set(err, GW_E_ACCESS, "not a plcgw API token");
    return secret_owner(s, &s->token_owner, "SELECT t.token_hash, u.id, u.name, u.role FROM api_tokens t "
                        "JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1 AND "
                        "t.revoked = 0 AND u.disabled = 0 AND ?2 IS NOT NULL", token, who,
                        "unknown or revoked API token", err);
}

gw_err gw_store_session_create(gw_store *s, const gw_principal *who, uint32_t ttl_s,
                               char id[GW_TOKEN_LEN + 1], gw_error *err)
{
    unsigned char h[crypto_generichash_BYTES];
    new_secret(id, h);
    char ts[32], exp[32];
    int64_t now = gw_wall_ms();
    gw_time_iso8601(now, ts, sizeof(ts));
    gw_time_iso8601(now + (int64_t)ttl_s * 1000, exp, sizeof(exp));
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    gw_err rc = GW_OK;
    /* ended and expired sessions go as new ones come */
    sqlite3_stmt *del;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM sessions WHERE expires_at < ?", -1, &del,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(del, 1, ts, -1, SQLITE_STATIC);
        sqlite3_step(del);
    }
    sqlite3_finalize(del);
    if (sqlite3_prepare_v2(s->db, "INSERT INTO sessions(user_id, session_hash, created_at, "
                           "expires_at) VALUES (?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK) {
        rc = db_error(s, err, "create session");
    } else {
        sqlite3_bind_int64(st, 1, who->user_id);
        sqlite3_bind_blob(st, 2, h, sizeof(h), SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ts, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, exp, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_error(s, err, "create session");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc != GW_OK)
        sodium_memzero(id, GW_TOKEN_LEN + 1);
    return rc;
}

gw_err gw_store_session_check(gw_store *s, const char *id, gw_principal *who, gw_error *err)
{
    memset(who, 0, sizeof(*who));
    if (!secret_format(id))
        return gw_error_set(err, GW_E_ACCESS, "not a plcgw session");
    return secret_owner(s, &s->session_owner, "SELECT x.session_hash, u.id, u.name, u.role FROM sessions x "
                        "JOIN users u ON u.id = x.user_id WHERE x.session_hash = ?1 AND "
                        "x.expires_at > ?2 AND u.disabled = 0", id, who,
                        "the session ended or expired: sign in again", err);
}

void gw_store_session_delete(gw_store *s, const char *id)
{
    if (!secret_format(id))
        return;
    unsigned char h[crypto_generichash_BYTES];
    secret_hash(id, h);
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM sessions WHERE session_hash = ?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
}

gw_err gw_store_audit(gw_store *s, const gw_principal *who, const char *machine,
                      const char *action, const char *values, const char *result,
                      gw_error *err)
{
    char ts[32];
    now_text(ts, sizeof(ts));
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO audit_log(ts, user_name, role, machine_id, "
                           "action, \"values\", result) VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = db_error(s, err, "audit");
    } else {
        sqlite3_bind_text(st, 1, ts, -1, SQLITE_STATIC);
        if (who && who->user_id) {
            sqlite3_bind_text(st, 2, who->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, gw_role_name(who->role), -1, SQLITE_STATIC);
        }
        if (machine)
            sqlite3_bind_text(st, 4, machine, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, action ? action : "", -1, SQLITE_STATIC);
        if (values)
            sqlite3_bind_text(st, 6, values, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, result ? result : "", -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_error(s, err, "audit");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

gw_err gw_store_user_set_disabled(gw_store *s, const char *name, bool disabled, gw_error *err)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = NULL;
    gw_err rc = GW_OK;
    /* the last admin who can sign in stays: nobody could undo it */
    if (disabled && sqlite3_prepare_v2(s->db, "SELECT (SELECT count(*) FROM users WHERE role = "
                                       "'admin' AND disabled = 0), EXISTS (SELECT 1 FROM users "
                                       "WHERE name = ? AND role = 'admin' AND disabled = 0)", -1,
                                       &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 1) &&
            sqlite3_column_int(st, 0) == 1)
            rc = gw_error_set(err, GW_E_INVAL, "\"%s\" is the last admin: add another admin "
                              "first", name);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == GW_OK) {
        if (sqlite3_prepare_v2(s->db, "UPDATE users SET disabled = ? WHERE name = ?", -1, &st,
                               NULL) != SQLITE_OK) {
            rc = db_error(s, err, "disable user");
        } else {
            sqlite3_bind_int(st, 1, disabled);
            sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = db_error(s, err, "disable user");
            else if (sqlite3_changes(s->db) != 1)
                rc = gw_error_set(err, GW_E_NOT_FOUND, "no user \"%s\"", name);
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    /* a disabled user's browser sessions end now (its tokens stay, unusable) */
    if (rc == GW_OK && disabled &&
        sqlite3_prepare_v2(s->db, "DELETE FROM sessions WHERE user_id = (SELECT id FROM users "
                           "WHERE name = ?)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

gw_err gw_store_token_revoke(gw_store *s, int64_t id, gw_error *err)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v2(s->db, "UPDATE api_tokens SET revoked = 1 WHERE id = ?", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = db_error(s, err, "revoke token");
    } else {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_error(s, err, "revoke token");
        else if (sqlite3_changes(s->db) != 1)
            rc = gw_error_set(err, GW_E_NOT_FOUND, "no token %lld (plcgw token list)",
                              (long long)id);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static const char *column_text(sqlite3_stmt *st, int c)
{
    const char *t = (const char *)sqlite3_column_text(st, c);
    return t ? t : "";
}

gw_err gw_store_user_list(gw_store *s, gw_store_user_fn fn, void *ud, gw_error *err)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT id, name, role, disabled, created_at FROM users "
                           "ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
        rc = db_error(s, err, "list users");
    } else {
        while (sqlite3_step(st) == SQLITE_ROW) {
            gw_user_info u = {sqlite3_column_int64(st, 0), column_text(st, 1), GW_ROLE_PUBLIC,
                              sqlite3_column_int(st, 3) != 0, column_text(st, 4)};
            gw_role_parse(column_text(st, 2), &u.role);
            fn(ud, &u);
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

gw_err gw_store_token_list(gw_store *s, const char *user, gw_store_token_fn fn, void *ud,
                           gw_error *err)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT t.id, u.name, t.label, t.revoked, t.created_at FROM "
                           "api_tokens t JOIN users u ON u.id = t.user_id WHERE ?1 IS NULL OR "
                           "u.name = ?1 ORDER BY t.id", -1, &st, NULL) != SQLITE_OK) {
        rc = db_error(s, err, "list tokens");
    } else {
        if (user)
            sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            gw_token_info t = {sqlite3_column_int64(st, 0), column_text(st, 1),
                               column_text(st, 2), sqlite3_column_int(st, 3) != 0,
                               column_text(st, 4)};
            fn(ud, &t);
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}
