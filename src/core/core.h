/*
 * core.h - the base every plcgw module stands on: errors, logging, time,
 * allocation, a bounded string builder, a JSON reader that remembers where
 * every value came from, and diagnostics that name file:line:column.
 *
 * core knows nothing about PLCs. Nothing here prints except gw_log and
 * gw_diag_print, and nothing keeps global state.
 */
#ifndef GW_CORE_H
#define GW_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GW_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#define GW_VPRINTF(fmt_idx) __attribute__((format(printf, fmt_idx, 0)))

/* ------------------------------------------------------------------------
 * Errors: one enum for the project, a message for each code, and a detail
 * struct that the failing layer fills in.
 * --------------------------------------------------------------------- */

typedef enum {
    GW_OK = 0,
    GW_E_NOMEM,           /* out of memory */
    GW_E_INVAL,           /* invalid argument or value */
    GW_E_RANGE,           /* value outside its allowed range */
    GW_E_TYPE,            /* value of the wrong type */
    GW_E_NOT_FOUND,       /* no such item (parameter, machine, file) */
    GW_E_CONFIG,          /* configuration file is invalid */
    GW_E_IO,              /* local I/O failed (file, socket setup) */
    GW_E_TIMEOUT,         /* peer did not answer in time */
    GW_E_CONN_REFUSED,    /* peer refused the connection */
    GW_E_CONN_LOST,       /* connection closed or reset */
    GW_E_PROTOCOL,        /* peer sent something the protocol forbids */
    GW_E_DEVICE_REJECTED, /* device understood the request and said no */
    GW_E_ACCESS,          /* not allowed (device protection or our roles) */
    GW_E_BUSY,            /* resource held by someone else */
    GW_E_UNSUPPORTED,     /* feature not available for this target */
    GW_E_STORE,           /* database error */
    GW_E__COUNT
} gw_err;

/* "GW_E_TIMEOUT" */
const char *gw_err_name(gw_err code);
/* "peer did not answer in time" */
const char *gw_err_str(gw_err code);

/*
 * Detail for one failure. Fallible functions take `gw_error *err` last; it
 * may be NULL. Fields are empty strings when not known.
 */
typedef struct {
    gw_err code;
    int sys_errno;      /* errno saved right after the failing call, or 0 */
    int device_code;    /* Modbus exception or S7 class<<8|code, or 0 */
    char subject[128];  /* what it was about: "plc press-3", "tag Oil Temp" */
    char msg[320];      /* what failed and why */
    char hint[192];     /* what to do about it, may be empty */
} gw_error;

void gw_error_clear(gw_error *err);
/* Sets code and a formatted message; returns code so callers can
 * `return gw_error_set(err, GW_E_INVAL, "...")`. err may be NULL. */
gw_err gw_error_set(gw_error *err, gw_err code, const char *fmt, ...) GW_PRINTF(3, 4);
void gw_error_subject(gw_error *err, const char *fmt, ...) GW_PRINTF(2, 3);
void gw_error_hint(gw_error *err, const char *fmt, ...) GW_PRINTF(2, 3);

/* ------------------------------------------------------------------------
 * Allocation. Everything allocates through these so that tests can count
 * and fail allocations. gw_free(NULL) does nothing.
 * --------------------------------------------------------------------- */

void *gw_malloc(size_t n);
void *gw_calloc(size_t count, size_t size);
void *gw_realloc(void *p, size_t n);
char *gw_strdup(const char *s);
char *gw_strndup(const char *s, size_t n);
void gw_free(void *p);
/* Room for one more item of `size` bytes in the array *items, which holds
 * n and has room for *cap: doubles it (from 64) when full, up to max
 * items. false, with nothing changed, when out of memory or at max. */
bool gw_grow(void **items, size_t *cap, size_t n, size_t size, size_t max);

/*
 * Arena: many small allocations freed at once (a parsed document, a loaded
 * tag map, one HTTP request). Memory is 16-byte aligned.
 */
typedef struct gw_arena gw_arena;
gw_arena *gw_arena_new(void);
void *gw_arena_alloc(gw_arena *a, size_t n);  /* NULL on allocation failure */
char *gw_arena_strdup(gw_arena *a, const char *s);
char *gw_arena_strndup(gw_arena *a, const char *s, size_t n);
void gw_arena_free(gw_arena *a);

/* ------------------------------------------------------------------------
 * Time. One unit everywhere: milliseconds.
 * --------------------------------------------------------------------- */

uint64_t gw_mono_ms(void);  /* CLOCK_MONOTONIC, for intervals and deadlines */
int64_t gw_wall_ms(void);   /* CLOCK_REALTIME, for timestamps people read */
/* "2026-11-21T04:50:00.123Z" into buf (at least 25 bytes). */
void gw_time_iso8601(int64_t wall_ms, char *buf, size_t size);

/* ------------------------------------------------------------------------
 * Logging: one line per event to a stream (stderr in the daemon), with a
 * UTC timestamp, a level and a category: "... WARN  plc: press-3 ...".
 * Thread-safe. A NULL gw_log * is a valid logger that drops everything.
 * --------------------------------------------------------------------- */

typedef enum {
    GW_LOG_ERROR = 0,
    GW_LOG_WARN,
    GW_LOG_INFO,
    GW_LOG_DEBUG,
    GW_LOG_TRACE
} gw_log_level;

typedef struct gw_log gw_log;

/* Borrows `out` (not closed by gw_log_free). */
gw_log *gw_log_new(FILE *out, gw_log_level level);
void gw_log_free(gw_log *log);
void gw_log_set_level(gw_log *log, gw_log_level level);
bool gw_log_enabled(const gw_log *log, gw_log_level level);
void gw_log_write(gw_log *log, gw_log_level level, const char *category,
                  const char *fmt, ...) GW_PRINTF(4, 5);
void gw_log_vwrite(gw_log *log, gw_log_level level, const char *category,
                   const char *fmt, va_list ap) GW_VPRINTF(4);
const char *gw_log_level_name(gw_log_level level);
/* "error".."trace" -> level; false when unknown. */
bool gw_log_level_parse(const char *name, gw_log_level *out);

#define gw_log_error(log, cat, ...) gw_log_write((log), GW_LOG_ERROR, (cat), __VA_ARGS__)
#define gw_log_warn(log, cat, ...)  gw_log_write((log), GW_LOG_WARN, (cat), __VA_ARGS__)
#define gw_log_info(log, cat, ...)  gw_log_write((log), GW_LOG_INFO, (cat), __VA_ARGS__)
#define gw_log_debug(log, cat, ...) gw_log_write((log), GW_LOG_DEBUG, (cat), __VA_ARGS__)

/* ------------------------------------------------------------------------
 * A growable string builder. On allocation failure it stays valid, stops
 * growing and sets `failed`; check it once at the end.
 * --------------------------------------------------------------------- */

typedef struct {
    char *data;   /* NUL-terminated while len > 0 or after gw_buf_cstr */
    size_t len;
    size_t cap;
    bool failed;
} gw_buf;

void gw_buf_init(gw_buf *b);
void gw_buf_clear(gw_buf *b);
void gw_buf_append(gw_buf *b, const char *s, size_t n);
void gw_buf_puts(gw_buf *b, const char *s);
void gw_buf_printf(gw_buf *b, const char *fmt, ...) GW_PRINTF(2, 3);
const char *gw_buf_cstr(gw_buf *b);  /* never NULL */
/* Hands the heap string to the caller (release with gw_free); b is emptied. */
char *gw_buf_take(gw_buf *b);

/* Reads a whole file (up to max_bytes) into a NUL-terminated heap buffer. */
gw_err gw_file_read(const char *path, size_t max_bytes, char **out, size_t *len,
                    gw_error *err);

/* ------------------------------------------------------------------------
 * UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF.
 * --------------------------------------------------------------------- */

bool gw_utf8_valid(const char *s, size_t len);
/* The length of the longest prefix of s[0..len) of at most max bytes that
 * does not cut a character in two. */
size_t gw_utf8_prefix(const char *s, size_t len, size_t max);
/* Copies in to out (NUL-terminated, at most size - 1 bytes, whole
 * characters only), each ill-formed byte and NUL replaced by U+FFFD: a
 * safe text to show from any bytes. Returns the length written. */
size_t gw_utf8_sanitize(const char *in, size_t len, char *out, size_t size);

/* ------------------------------------------------------------------------
 * TCP plumbing shared by the protocol servers and clients. Every wait has
 * a deadline (gw_mono_ms based); no call blocks without one.
 * --------------------------------------------------------------------- */

struct sockaddr_storage;

/* Binds and listens on host:port (numeric address, any family; port 0 =
 * any free port). *fd is close-on-exec; *bound is the port bound. */
gw_err gw_net_listen(const char *host, uint16_t port, int backlog, int *fd, uint16_t *bound,
                     gw_error *err);
/* Accepts one connection (close-on-exec, TCP_NODELAY, non-blocking when
 * asked) and names the peer "addr:port"; -1 when there is none. */
int gw_net_accept(int listen_fd, bool nonblock, char *peer, size_t peer_size);
/* Connects within timeout_ms (host may be a name); *fd is non-blocking,
 * close-on-exec, TCP_NODELAY. GW_E_TIMEOUT, GW_E_CONN_REFUSED, GW_E_IO or
 * GW_E_INVAL (unresolvable), with err->sys_errno. */
gw_err gw_net_connect(const char *host, uint16_t port, uint32_t timeout_ms, int *fd,
                      gw_error *err);
/* Waits until fd is ready for events (POLLIN/POLLOUT) or the deadline. */
gw_err gw_net_wait(int fd, short events, uint64_t deadline_ms);
/* Sends all of buf on a non-blocking socket before the deadline:
 * GW_E_TIMEOUT, or GW_E_CONN_LOST with errno kept in *sys_errno. */
gw_err gw_net_send_all(int fd, const void *buf, size_t len, uint64_t deadline_ms,
                       int *sys_errno);

/* ------------------------------------------------------------------------
 * Source locations and diagnostics.
 * --------------------------------------------------------------------- */

typedef struct {
    uint32_t line;  /* 1-based */
    uint32_t col;   /* 1-based, in characters (UTF-8 code points) */
} gw_loc;

#define GW_DIAG_MAX 20

typedef struct {
    gw_loc loc;
    bool warning;
    char msg[256];
    char hint[160];
} gw_diag_entry;

/*
 * A list of problems found in one file, in one pass. Loaders add every
 * problem they find (up to GW_DIAG_MAX; the rest are counted) and fail at
 * the end, so that a user fixes a file in one round.
 */
typedef struct {
    char file[256];
    gw_diag_entry entries[GW_DIAG_MAX];
    size_t count;     /* entries held */
    size_t dropped;   /* problems past GW_DIAG_MAX */
    size_t errors;    /* errors found (held or dropped) */
} gw_diag;

void gw_diag_init(gw_diag *d, const char *file);
void gw_diag_error(gw_diag *d, gw_loc loc, const char *fmt, ...) GW_PRINTF(3, 4);
void gw_diag_warn(gw_diag *d, gw_loc loc, const char *fmt, ...) GW_PRINTF(3, 4);
/* Adds a hint to the last entry. */
void gw_diag_hint(gw_diag *d, const char *fmt, ...) GW_PRINTF(2, 3);
bool gw_diag_failed(const gw_diag *d);
/* "file:line:col: error: msg" and "  hint: ..." lines. */
void gw_diag_print(const gw_diag *d, FILE *out);
/* The first error as one line, for gw_error. */
void gw_diag_first(const gw_diag *d, char *buf, size_t size);

/* ------------------------------------------------------------------------
 * JSON with locations. A small, strict RFC 8259 reader for configuration
 * files: every value and every object key carries its line and column,
 * duplicate keys are an error, and nesting is bounded. The whole tree lives
 * in one arena owned by the gw_json_doc.
 * --------------------------------------------------------------------- */

typedef enum {
    GW_JSON_NULL,
    GW_JSON_BOOL,
    GW_JSON_NUMBER,
    GW_JSON_STRING,
    GW_JSON_ARRAY,
    GW_JSON_OBJECT
} gw_json_kind;

typedef struct gw_json gw_json;

typedef struct {
    const char *key;   /* NUL-terminated, no embedded NUL */
    size_t key_len;
    gw_loc key_loc;
    gw_json *value;
} gw_json_member;

struct gw_json {
    gw_json_kind kind;
    gw_loc loc;
    union {
        bool b;
        struct {
            double d;        /* the value as a double (always set) */
            bool integral;   /* written without fraction or exponent */
            bool neg;        /* written with a leading minus */
            bool mag_ok;     /* integral and |value| fits in uint64 */
            uint64_t mag;    /* |value| when mag_ok */
            const char *text;/* the literal as written */
        } num;
        struct {
            const char *s;   /* NUL-terminated, no embedded NUL */
            size_t len;
        } str;
        struct {
            gw_json **items;
            size_t n;
        } arr;
        struct {
            gw_json_member *members; /* in file order */
            size_t n;
        } obj;
    } u;
};

#define GW_JSON_MAX_DEPTH 64

typedef struct gw_json_doc gw_json_doc;

/*
 * Parses `len` bytes of `text`. On success *out holds the document (free it
 * with gw_json_doc_free). On a syntax error the diag gets one entry with
 * the position and what was expected, and GW_E_CONFIG is returned.
 */
gw_err gw_json_parse(const char *text, size_t len, gw_json_doc **out, gw_diag *diag);
/* Reads and parses a file; diag->file is set to path. */
gw_err gw_json_parse_file(const char *path, gw_json_doc **out, gw_diag *diag);
void gw_json_doc_free(gw_json_doc *doc);
const gw_json *gw_json_root(const gw_json_doc *doc);

const char *gw_json_kind_name(gw_json_kind kind);
/* Member by key, or NULL (also NULL when obj is not an object). */
const gw_json *gw_json_get(const gw_json *obj, const char *key);
const gw_json_member *gw_json_member_get(const gw_json *obj, const char *key);
/* Integer value (integral literal in range); false otherwise. */
bool gw_json_i64(const gw_json *v, int64_t *out);
bool gw_json_u64(const gw_json *v, uint64_t *out);

/* Does text nest arrays and objects at most max_depth deep? When not,
 * *at (may be NULL) is the bracket that goes too deep. */
bool gw_json_nesting_ok(const char *text, size_t len, unsigned max_depth, gw_loc *at);
/* jansson's json_loadb for text from outside (HTTP bodies, Socket.IO
 * packets, the simulator's control API): a text nested deeper than
 * GW_JSON_MAX_DEPTH is refused before jansson, which recurses, sees it.
 * error is a json_error_t * (may be NULL); returns a json_t * or NULL. */
void *gw_json_load_untrusted(const char *text, size_t len, size_t flags, void *error);

/* JSON text of a jansson value (json_t *): compact when indent is 0,
 * else indented by that many spaces. Reals are the shortest decimal that
 * reads back as the same double (68.4, 0.10000000149011612), exact and
 * never rounded for display. Release with gw_free; NULL when out of
 * memory. */
char *gw_json_dumps(const void *json, unsigned indent);
/* A real as gw_json_dumps prints it, into buf (at least 32 bytes). */
void gw_json_format_real(double d, char *buf, size_t size);

/* Converts to a jansson value (json_t *, returned as void * so that this
 * header does not need jansson.h). NULL on allocation failure. */
void *gw_json_to_jansson(const gw_json *v);

/* ------------------------------------------------------------------------
 * Declarative checks of a JSON object's members: a table of fields with
 * their allowed kinds, whether they are required, and numeric bounds.
 * --------------------------------------------------------------------- */

#define GW_KIND_BIT(k) (1u << (k))
#define GW_KINDS_NUMBER GW_KIND_BIT(GW_JSON_NUMBER)
#define GW_KINDS_STRING GW_KIND_BIT(GW_JSON_STRING)
#define GW_KINDS_BOOL   GW_KIND_BIT(GW_JSON_BOOL)
#define GW_KINDS_OBJECT GW_KIND_BIT(GW_JSON_OBJECT)
#define GW_KINDS_ARRAY  GW_KIND_BIT(GW_JSON_ARRAY)
#define GW_KINDS_ANY    0x3Fu

typedef struct {
    const char *name;
    unsigned kinds;      /* GW_KINDS_* mask */
    bool required;
    bool integer;        /* numbers must be integral */
    bool has_range;
    double min, max;     /* inclusive, numbers only, when has_range */
    const char *what;    /* description for messages: "a port number" */
} gw_field;

typedef enum {
    GW_UNKNOWN_ERROR,    /* an unknown member is an error */
    GW_UNKNOWN_WARN,     /* warned about, then ignored */
    GW_UNKNOWN_ALLOW     /* silently allowed (passed through by the caller) */
} gw_unknown_policy;

/*
 * Checks obj against the table; adds one diag entry per problem and
 * returns false if any error was found. `context` names the object in
 * messages ("machine \"rig\""). Unknown members that differ from a known
 * name only in letter case are always reported with a "did you mean".
 */
bool gw_schema_check(gw_diag *d, const gw_json *obj, const gw_field *fields,
                     size_t nfields, gw_unknown_policy unknown, const char *context);

/* ------------------------------------------------------------------------
 * A small TCP server for request/response protocols, with fault injection.
 * It knows frames and replies, not PLCs.
 *
 * One thread polls the listening socket and every connection. A protocol
 * plugs in three functions: where the next frame ends, how to serve one
 * frame (replies go out through gw_conn_reply), and what its error answer
 * to a frame looks like. The server owns sockets, buffers, and the faults a
 * simulator injects to prove that clients survive them:
 *
 *   DROP     close every connection now (and for duration_ms every new one)
 *   REFUSE   stop listening for duration_ms: connects are refused
 *   DELAY    hold every reply delay_ms
 *   SILENT   read requests, answer nothing; sockets stay open
 *   ERROR    answer every request with the protocol's error answer
 *   CORRUPT  damage every reply's header bytes (0 and 2), which both S7
 *            (TPKT version, length) and Modbus (transaction and protocol
 *            id) clients detect
 *
 * Each fault lasts duration_ms (0 for DROP: once) and then clears itself.
 * Thread: the handler runs on the server thread; every other function may
 * be called from any thread.
 * --------------------------------------------------------------------- */

typedef struct gw_tcpsrv gw_tcpsrv;
typedef struct gw_conn gw_conn;

typedef struct {
    /* A connection was accepted. Returns false to refuse it. */
    bool (*open)(void *user, gw_conn *c);
    /* The length of the complete frame at the start of data: > 0 when one
     * is there, 0 when more bytes are needed, < 0 when the bytes are not
     * this protocol (the connection is closed). */
    long (*frame)(void *user, const uint8_t *data, size_t len);
    /* Serves one frame; replies through gw_conn_reply. Returns false to
     * close the connection (after its replies are sent). */
    bool (*serve)(void *user, gw_conn *c, const uint8_t *frame, size_t len);
    /* The protocol's error answer to a frame, for the ERROR fault; returns
     * its length, 0 for none. */
    size_t (*error_reply)(void *user, const uint8_t *frame, size_t len, uint8_t *out,
                          size_t cap);
    /* The connection is gone. */
    void (*close)(void *user, gw_conn *c);
} gw_tcpsrv_handler;

typedef struct {
    const char *name;        /* "s7", "modbus": log category and messages */
    const char *host;        /* bind address */
    uint16_t port;           /* 0 = any free port */
    uint16_t max_clients;    /* default 8 */
    size_t max_frame;        /* largest frame accepted, default 65536 */
    gw_log *log;
    gw_tcpsrv_handler handler;
    void *user;
} gw_tcpsrv_opts;

typedef enum {
    GW_TCPSRV_STOPPED,
    GW_TCPSRV_STARTED,
    GW_TCPSRV_ERROR          /* could not listen: see gw_tcpsrv_error */
} gw_tcpsrv_state;

typedef enum {
    GW_FAULT_DROP,
    GW_FAULT_REFUSE,
    GW_FAULT_DELAY,
    GW_FAULT_SILENT,
    GW_FAULT_ERROR,
    GW_FAULT_CORRUPT,
    GW_FAULT__COUNT
} gw_fault;

gw_err gw_tcpsrv_new(const gw_tcpsrv_opts *opts, gw_tcpsrv **out);
/* Binds and starts the thread; after a stop, listens on the same port. */
gw_err gw_tcpsrv_start(gw_tcpsrv *s, gw_error *err);
/* Closes every connection and the listener; the thread ends. */
void gw_tcpsrv_stop(gw_tcpsrv *s);
void gw_tcpsrv_free(gw_tcpsrv *s);
uint16_t gw_tcpsrv_port(const gw_tcpsrv *s);
gw_tcpsrv_state gw_tcpsrv_get_state(gw_tcpsrv *s);
const char *gw_tcpsrv_state_name(gw_tcpsrv_state st);
size_t gw_tcpsrv_clients(gw_tcpsrv *s);

/* Starts a fault for duration_ms (DELAY also takes delay_ms). */
gw_err gw_tcpsrv_fault(gw_tcpsrv *s, gw_fault f, uint32_t duration_ms, uint32_t delay_ms);
void gw_tcpsrv_fault_clear(gw_tcpsrv *s);
/* Milliseconds the fault has left (0: not active); *delay_ms for DELAY. */
uint32_t gw_tcpsrv_fault_left(gw_tcpsrv *s, gw_fault f, uint32_t *delay_ms);
const char *gw_fault_name(gw_fault f);
bool gw_fault_parse(const char *name, gw_fault *out);

/* Queues a reply on a connection (server thread, inside serve). */
void gw_conn_reply(gw_conn *c, const uint8_t *data, size_t len);
const char *gw_conn_peer(const gw_conn *c);
void *gw_conn_user(const gw_conn *c);
void gw_conn_set_user(gw_conn *c, void *user);

#endif /* GW_CORE_H */
