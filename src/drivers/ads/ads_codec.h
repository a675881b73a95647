/*
 * ads_codec.h - Beckhoff ADS over AMS/TCP (TwinCAT 2/3, TCP 48898): the
 * wire format shared by our client, server and engine driver.
 * docs/ads.md is the reference for every layout and constant here.
 *
 * Pure functions: bytes in, views out, or values in, bytes out. No I/O, no
 * allocation, no logging, no state but what the caller passes. Decoded
 * values are *views* into the caller's buffer, valid while it is. Every
 * length read off the wire is checked against the bytes present and
 * against the enclosing length (AMS/TCP length, AMS data length, entry
 * length); a truncated, overlong or inconsistent input is GW_E_PROTOCOL,
 * a size above one of our bounds GW_E_RANGE, never a read past the end.
 * Everything on the wire is little-endian. Any thread may call anything.
 *
 * Layers of one packet:
 *   AMS/TCP header  u16 reserved (0 = AMS command), u32 length  ads_frame_*
 *   AMS header      32 bytes                                    ads_ams_*
 *   ADS payload     per command id and direction                ads_<cmd>_*
 *   inside ReadWrite/Read payloads: sum commands, symbol info    ads_sum_*, ads_sym_*
 *
 * Encoding goes through ads_w, a bounded writer: appends past the capacity
 * set w->err and are dropped; check once at the end (ads_w_finish).
 */
#ifndef GW_ADS_CODEC_H
#define GW_ADS_CODEC_H

#include "core/core.h"

/* ------------------------------------------------------------ constants */

#define ADS_TCP_PORT 48898u            /* ADS_TCP_SERVER_PORT 0xBF02 */
#define ADS_TCP_HDR 6u                 /* u16 reserved, u32 length */
#define ADS_AMS_HDR 32u
#define ADS_PKT_MIN (ADS_TCP_HDR + ADS_AMS_HDR)
/* Our default bound on one AMS/TCP packet (header included): 8 MiB, more
 * than a large symbol upload. Callers may pass a smaller one. */
#define ADS_FRAME_MAX_DEFAULT (8u * 1024u * 1024u)

/* AMS/TCP reserved field: 0 carries an AMS packet; others are router
 * commands (ADSC). */
enum {
    ADS_TCP_AMS_CMD = 0x0000, ADS_TCP_PORT_CLOSE = 0x0001, ADS_TCP_PORT_CONNECT = 0x1000,
    ADS_TCP_ROUTER_NOTE = 0x1001, ADS_TCP_GET_LOCAL_NETID = 0x1002
};

/* ADS command ids (ADSSRVID_*). */
enum {
    ADS_CMD_INVALID = 0, ADS_CMD_READ_DEVICE_INFO = 1, ADS_CMD_READ = 2, ADS_CMD_WRITE = 3,
    ADS_CMD_READ_STATE = 4, ADS_CMD_WRITE_CONTROL = 5, ADS_CMD_ADD_NOTIFICATION = 6,
    ADS_CMD_DEL_NOTIFICATION = 7, ADS_CMD_NOTIFICATION = 8, ADS_CMD_READ_WRITE = 9
};

/* AMS state flags. A request carries 0x0004, a response 0x0005. */
enum {
    ADS_SF_RESPONSE = 0x0001, ADS_SF_NORETURN = 0x0002, ADS_SF_ADS_CMD = 0x0004,
    ADS_SF_SYSCMD = 0x0008, ADS_SF_HIGHPRIO = 0x0010, ADS_SF_TIMESTAMP = 0x0020,
    ADS_SF_UDP = 0x0040, ADS_SF_INITCMD = 0x0080, ADS_SF_BROADCAST = 0x8000
};
#define ADS_SF_REQUEST_STD 0x0004u
#define ADS_SF_RESPONSE_STD 0x0005u

/* Well-known AMS ports. */
enum { ADS_PORT_TC2_PLC1 = 801, ADS_PORT_TC3_PLC1 = 851, ADS_PORT_SYSTEM = 10000 };

/* Index groups of the ADS services (ADSIGRP_*). */
enum {
    ADS_IG_PLC_M = 0x4020,            /* %M area (TC2 / TC3 compat) */
    ADS_IG_SYM_HND_BYNAME = 0xF003,   /* RW: name -> u32 handle */
    ADS_IG_SYM_VAL_BYNAME = 0xF004,
    ADS_IG_SYM_VAL_BYHND = 0xF005,    /* R/W, io = handle */
    ADS_IG_SYM_RELEASE_HND = 0xF006,  /* W: u32 handle */
    ADS_IG_SYM_INFO_BYNAME = 0xF007,
    ADS_IG_SYM_VERSION = 0xF008,      /* R: u8 */
    ADS_IG_SYM_INFO_BYNAME_EX = 0xF009, /* RW: name -> symbol entry */
    ADS_IG_SYM_UPLOAD = 0xF00B,       /* R: all symbol entries */
    ADS_IG_SYM_UPLOAD_INFO = 0xF00C,  /* R: 8 bytes */
    ADS_IG_SYM_DT_UPLOAD = 0xF00E,    /* R: all data type entries */
    ADS_IG_SYM_UPLOAD_INFO2 = 0xF00F, /* R: 24 bytes */
    ADS_IG_DT_INFO_BYNAME_EX = 0xF011, /* RW: name -> data type entry */
    ADS_IG_SUM_READ = 0xF080, ADS_IG_SUM_WRITE = 0xF081, ADS_IG_SUM_READWRITE = 0xF082,
    ADS_IG_DEVICE_DATA = 0xF100       /* io 0: ADS state, io 2: device state */
};

/* Notification transmission modes (ADSTRANS_*). */
enum {
    ADS_TRANS_NONE = 0, ADS_TRANS_CLIENT_CYCLE = 1, ADS_TRANS_CLIENT_ONCHA = 2,
    ADS_TRANS_SERVER_CYCLE = 3, ADS_TRANS_SERVER_ONCHA = 4, ADS_TRANS_SERVER_CYCLE2 = 5,
    ADS_TRANS_SERVER_ONCHA2 = 6, ADS_TRANS_CLIENT1REQ = 10
};

/* ADS states (ADSSTATE_*), 0..19. */
enum {
    ADS_STATE_INVALID = 0, ADS_STATE_IDLE = 1, ADS_STATE_RESET = 2, ADS_STATE_INIT = 3,
    ADS_STATE_START = 4, ADS_STATE_RUN = 5, ADS_STATE_STOP = 6, ADS_STATE_SAVECFG = 7,
    ADS_STATE_LOADCFG = 8, ADS_STATE_POWERFAILURE = 9, ADS_STATE_POWERGOOD = 10,
    ADS_STATE_ERROR = 11, ADS_STATE_SHUTDOWN = 12, ADS_STATE_SUSPEND = 13,
    ADS_STATE_RESUME = 14, ADS_STATE_CONFIG = 15, ADS_STATE_RECONFIG = 16,
    ADS_STATE_STOPPING = 17, ADS_STATE_INCOMPATIBLE = 18, ADS_STATE_EXCEPTION = 19
};

/* Symbol entry flags (u16, ADSSYMBOLFLAG_*). */
enum {
    ADS_SYMF_PERSISTENT = 0x0001, ADS_SYMF_BITVALUE = 0x0002, ADS_SYMF_REFERENCETO = 0x0004,
    ADS_SYMF_TYPEGUID = 0x0008, ADS_SYMF_TCCOMIFACEPTR = 0x0010, ADS_SYMF_READONLY = 0x0020,
    ADS_SYMF_CONTEXTMASK = 0x0F00, ADS_SYMF_ATTRIBUTES = 0x1000, ADS_SYMF_STATIC = 0x2000,
    ADS_SYMF_INITONRESET = 0x4000, ADS_SYMF_EXTENDEDFLAGS = 0x8000
};

/* Data type entry flags (u32, ADSDATATYPEFLAG_*), those we act on. */
#define ADS_DTF_DATATYPE 0x00000001u
#define ADS_DTF_DATAITEM 0x00000002u
#define ADS_DTF_TYPEGUID 0x00000080u
#define ADS_DTF_COPYMASK 0x00000200u
#define ADS_DTF_METHODINFOS 0x00000800u
#define ADS_DTF_ATTRIBUTES 0x00001000u
#define ADS_DTF_ENUMINFOS 0x00002000u
#define ADS_DTF_REFACTORINFO 0x01000000u
#define ADS_DTF_EXTENDEDFLAGS 0x80000000u

/* ADS data type ids (ADST_*). */
enum {
    ADST_VOID = 0, ADST_INT16 = 2, ADST_INT32 = 3, ADST_REAL32 = 4, ADST_REAL64 = 5,
    ADST_INT8 = 16, ADST_UINT8 = 17, ADST_UINT16 = 18, ADST_UINT32 = 19, ADST_INT64 = 20,
    ADST_UINT64 = 21, ADST_STRING = 30, ADST_WSTRING = 31, ADST_REAL80 = 32, ADST_BIT = 33,
    ADST_BIGTYPE = 65
};

/* ADS return codes we name (docs/ads.md "Return codes"). */
enum {
    ADSERR_NOERR = 0x000, ADSERR_TARGET_PORT = 0x006, ADSERR_TARGET_MACHINE = 0x007,
    ADSERR_DEVICE_ERROR = 0x700, ADSERR_DEVICE_SRVNOTSUPP = 0x701,
    ADSERR_DEVICE_INVALIDGRP = 0x702, ADSERR_DEVICE_INVALIDOFFSET = 0x703,
    ADSERR_DEVICE_INVALIDACCESS = 0x704, ADSERR_DEVICE_INVALIDSIZE = 0x705,
    ADSERR_DEVICE_INVALIDDATA = 0x706, ADSERR_DEVICE_NOTREADY = 0x707,
    ADSERR_DEVICE_BUSY = 0x708, ADSERR_DEVICE_NOTFOUND = 0x70C,
    ADSERR_DEVICE_SYMBOLNOTFOUND = 0x710, ADSERR_DEVICE_SYMBOLVERSIONINVALID = 0x711,
    ADSERR_DEVICE_TRANSMODENOTSUPP = 0x713, ADSERR_DEVICE_NOTIFYHNDINVALID = 0x714,
    ADSERR_DEVICE_TIMEOUT = 0x719, ADSERR_DEVICE_ACCESSDENIED = 0x723,
    ADSERR_CLIENT_ERROR = 0x740, ADSERR_CLIENT_SYNCTIMEOUT = 0x745,
    ADSERR_CLIENT_SYNCRESINVALID = 0x754
};

/* Our limits. */
#define ADS_NETID_STR 24u       /* "255.255.255.255.255.255" + NUL */
#define ADS_DEVNAME_LEN 16u     /* ReadDeviceInfo name field */

/* ------------------------------------------------------------ reader / writer */

typedef struct {
    const uint8_t *p;
    size_t len, pos;
} ads_r;

/* p may be NULL when len is 0. */
void ads_r_init(ads_r *r, const void *p, size_t len);
static inline size_t ads_r_left(const ads_r *r) { return r->len - r->pos; }

/* GW_E_PROTOCOL if fewer bytes are left than the value needs. */
gw_err ads_get_u8(ads_r *r, uint8_t *v);
gw_err ads_get_u16(ads_r *r, uint16_t *v);
gw_err ads_get_u32(ads_r *r, uint32_t *v);
gw_err ads_get_u64(ads_r *r, uint64_t *v);
gw_err ads_get_bytes(ads_r *r, size_t n, const uint8_t **p);

typedef struct {
    uint8_t *p;
    size_t cap, len;
    bool err;
} ads_w;

static inline void ads_w_init(ads_w *w, void *buf, size_t cap)
{
    w->p = (uint8_t *)buf;
    w->cap = cap;
    w->len = 0;
    w->err = false;
}
/* GW_OK and *len (may be NULL) = bytes written, or GW_E_RANGE on overflow. */
gw_err ads_w_finish(const ads_w *w, size_t *len);
void ads_put_u8(ads_w *w, uint8_t v);
void ads_put_u16(ads_w *w, uint16_t v);
void ads_put_u32(ads_w *w, uint32_t v);
void ads_put_u64(ads_w *w, uint64_t v);
void ads_put_bytes(ads_w *w, const void *p, size_t n);

/* A string view: len bytes at p, and p[len] == '\0' was verified. */
typedef struct {
    const char *p;
    size_t len;
} ads_str;

/* ------------------------------------------------------------ addresses */

typedef struct {
    uint8_t b[6];
} ads_netid;

typedef struct {
    ads_netid net;
    uint16_t port;
} ads_addr;

/* "a.b.c.d.e.f", six decimal 0..255 without signs or spaces; GW_E_INVAL
 * otherwise. */
gw_err ads_netid_parse(const char *s, ads_netid *out);
/* Writes "a.b.c.d.e.f" (at most 23 chars + NUL) and returns out. */
char *ads_netid_format(const ads_netid *id, char out[ADS_NETID_STR]);

/* ------------------------------------------------------------ framing */

/* Stream framer. Given the bytes received so far, *pkt_len = size of the
 * first whole AMS/TCP packet (header included) if all of it is present,
 * else 0 (need more). GW_E_RANGE if its length exceeds max_pkt (0 = the
 * default bound); the stream is then unusable. */
gw_err ads_frame_next(const uint8_t *buf, size_t len, size_t max_pkt, size_t *pkt_len);

/* The 32-byte AMS header. On decode data_len is the header's field. */
typedef struct {
    ads_addr target, source;
    uint16_t cmd, flags;
    uint32_t data_len, error, invoke_id;
} ads_ams_hdr;

void ads_ams_hdr_put(ads_w *w, const ads_ams_hdr *h);
gw_err ads_ams_hdr_get(ads_r *r, ads_ams_hdr *h);

static inline bool ads_ams_is_response(const ads_ams_hdr *h)
{
    return (h->flags & ADS_SF_RESPONSE) != 0;
}

/* One whole AMS/TCP packet, decoded. For tcp_cmd == ADS_TCP_AMS_CMD, hdr
 * is the AMS header and data/data_len its payload (data_len == the
 * header's field == packet length - 38). For other tcp_cmd values (router
 * commands) hdr is zeroed and data is the raw body after the 6 bytes. */
typedef struct {
    uint16_t tcp_cmd;
    ads_ams_hdr hdr;
    const uint8_t *data;
    size_t data_len;
} ads_packet;

/* buf/len must be exactly one packet (from ads_frame_next). GW_E_PROTOCOL
 * if any length disagrees. */
gw_err ads_packet_get(const uint8_t *buf, size_t len, ads_packet *pkt);

/* Encoding: ads_packet_begin writes the AMS/TCP and AMS headers (lengths
 * left open) and returns the packet's start offset in w; append the
 * payload with the ads_*_put functions; ads_packet_end fills in both
 * lengths (h->data_len is ignored). Returns ads_w_finish's result. */
size_t ads_packet_begin(ads_w *w, const ads_ams_hdr *h);
gw_err ads_packet_end(ads_w *w, size_t start);

/* Router command AMS_TCP_PORT_CONNECT: request u16 port (0 = any),
 * response netid + port. */
gw_err ads_port_connect_rsp_get(const uint8_t *p, size_t n, ads_addr *out);
void ads_port_connect_rsp_put(ads_w *w, const ads_addr *a);

/* ------------------------------------------------------------ commands */

/* Requests. Decoders take the AMS payload and require its exact length
 * (data lengths included). */
typedef struct {
    uint32_t ig, io, len;                 /* Read (2) */
} ads_read_req;
typedef struct {
    uint32_t ig, io, len;                 /* Write (3): len bytes at data */
    const uint8_t *data;
} ads_write_req;
typedef struct {
    uint32_t ig, io, read_len, write_len; /* ReadWrite (9): write_len bytes at data */
    const uint8_t *data;
} ads_rw_req;
typedef struct {
    uint16_t ads_state, dev_state;        /* WriteControl (5) */
    uint32_t len;
    const uint8_t *data;
} ads_wrctl_req;
typedef struct {
    uint32_t ig, io, len, mode;           /* AddDeviceNotification (6) */
    uint32_t max_delay_100ns, cycle_100ns;
} ads_addnote_req;

void ads_read_req_put(ads_w *w, const ads_read_req *q);
gw_err ads_read_req_get(const uint8_t *p, size_t n, ads_read_req *q);
void ads_write_req_put(ads_w *w, const ads_write_req *q);
gw_err ads_write_req_get(const uint8_t *p, size_t n, ads_write_req *q);
void ads_rw_req_put(ads_w *w, const ads_rw_req *q);
gw_err ads_rw_req_get(const uint8_t *p, size_t n, ads_rw_req *q);
void ads_wrctl_req_put(ads_w *w, const ads_wrctl_req *q);
gw_err ads_wrctl_req_get(const uint8_t *p, size_t n, ads_wrctl_req *q);
void ads_addnote_req_put(ads_w *w, const ads_addnote_req *q);  /* + 16 reserved zero bytes */
gw_err ads_addnote_req_get(const uint8_t *p, size_t n, ads_addnote_req *q);
/* DeleteDeviceNotification (7) request: u32 handle; also the shape of the
 * result-only responses (Write, WriteControl, DeleteNotification). */
void ads_u32_put(ads_w *w, uint32_t v);
gw_err ads_u32_get(const uint8_t *p, size_t n, uint32_t *v);
/* ReadDeviceInfo (1) and ReadState (4) requests are empty: n must be 0. */
gw_err ads_empty_get(const uint8_t *p, size_t n);

/* Responses. */
typedef struct {
    uint32_t result;
    uint8_t major, minor;
    uint16_t build;
    char name[ADS_DEVNAME_LEN + 1];       /* copied, NUL-terminated */
} ads_devinfo_rsp;
typedef struct {
    uint32_t result;                      /* Read (2) and ReadWrite (9) */
    uint32_t len;
    const uint8_t *data;
} ads_data_rsp;
typedef struct {
    uint32_t result;
    uint16_t ads_state, dev_state;        /* ReadState (4) */
} ads_state_rsp;
typedef struct {
    uint32_t result, handle;              /* AddDeviceNotification (6) */
} ads_addnote_rsp;

void ads_devinfo_rsp_put(ads_w *w, const ads_devinfo_rsp *s);
gw_err ads_devinfo_rsp_get(const uint8_t *p, size_t n, ads_devinfo_rsp *s);
/* A 4-byte response (result only, != 0) is accepted as len 0. */
void ads_data_rsp_put(ads_w *w, const ads_data_rsp *s);
gw_err ads_data_rsp_get(const uint8_t *p, size_t n, ads_data_rsp *s);
void ads_state_rsp_put(ads_w *w, const ads_state_rsp *s);
gw_err ads_state_rsp_get(const uint8_t *p, size_t n, ads_state_rsp *s);
void ads_addnote_rsp_put(ads_w *w, const ads_addnote_rsp *s);
gw_err ads_addnote_rsp_get(const uint8_t *p, size_t n, ads_addnote_rsp *s);

/* ------------------------------------------------------------ notifications */

/* DeviceNotification (8): u32 length, u32 stamps, stamps × (u64 FILETIME,
 * u32 samples, samples × (u32 handle, u32 size, data)). */
typedef struct {
    uint64_t filetime;                    /* 100 ns since 1601-01-01 UTC */
    uint32_t handle, len;
    const uint8_t *data;
} ads_note_sample;

typedef struct {
    ads_r r;
    uint32_t stamps_left, samples_left;
    uint64_t filetime;
    uint32_t stamps, samples;             /* totals, from validation */
} ads_note_iter;

/* Validates the whole stream (length field == n - 4, every stamp and
 * sample inside, nothing after the last) before the walk. */
gw_err ads_note_begin(const uint8_t *p, size_t n, ads_note_iter *it);
/* Next sample in order, false at the end. */
bool ads_note_next(ads_note_iter *it, ads_note_sample *s);

typedef struct {
    ads_w *w;
    size_t start, stamp_at;
    uint32_t stamps, samples;
    bool in_stamp;
} ads_note_builder;

void ads_note_build_begin(ads_note_builder *b, ads_w *w);
void ads_note_build_stamp(ads_note_builder *b, uint64_t filetime);
/* Needs a stamp first (else w->err is set). */
void ads_note_build_sample(ads_note_builder *b, uint32_t handle, const void *data, uint32_t len);
gw_err ads_note_build_end(ads_note_builder *b);

/* FILETIME <-> Unix ms. */
uint64_t ads_filetime_from_unix_ms(int64_t ms);
int64_t ads_filetime_to_unix_ms(uint64_t ft);

/* ------------------------------------------------------------ sum commands */

/* One item of a sum command. read_len: sum read, sum read-write; write_len
 * and data: sum write, sum read-write. */
typedef struct {
    uint32_t ig, io, read_len, write_len;
    const uint8_t *data;
} ads_sum_item;

/* kind: ADS_IG_SUM_READ, ADS_IG_SUM_WRITE or ADS_IG_SUM_READWRITE. */
/* Bytes of the ReadWrite request payload and of the ReadWrite response
 * payload (result + length + data; read-write: all read_len returned). */
void ads_sum_sizes(uint32_t kind, const ads_sum_item *it, size_t n, size_t *req_bytes,
                   size_t *rsp_bytes);
/* How many items from the first fit one request whose request and
 * response payloads stay <= max_bytes: 0 if not even the first. */
size_t ads_sum_fit(uint32_t kind, const ads_sum_item *it, size_t n, size_t max_bytes);
/* The whole ReadWrite (9) request payload for the items: ig = kind,
 * io = n, read_len, write_len, the list, then the write data. */
void ads_sum_req_put(ads_w *w, uint32_t kind, const ads_sum_item *it, size_t n);

/* Server side: a decoded ReadWrite request to a sum group, walked item by
 * item. Validated whole first (write_len exactly the list + data, read_len
 * what the items ask for). */
typedef struct {
    uint32_t kind, n, i;
    ads_r list, data;
} ads_sum_req_iter;
gw_err ads_sum_req_begin(const ads_rw_req *q, ads_sum_req_iter *it);
bool ads_sum_req_next(ads_sum_req_iter *it, ads_sum_item *item);

/* One result. Sum read: data = the item's read_len bytes (present also
 * when error != 0); sum read-write: the returned length; sum write: none. */
typedef struct {
    uint32_t error, len;
    const uint8_t *data;
} ads_sum_result;

/* Server side: the ReadWrite response payload (result 0, length, data)
 * for n results; for sum read each res[i].len must be the item's
 * read_len (its data may be NULL: zeros are written). */
void ads_sum_rsp_put(ads_w *w, uint32_t kind, const ads_sum_result *res, size_t n);

/* Client side: the read data of the ReadWrite response (ads_data_rsp
 * data/len) for the n items that were sent. */
typedef struct {
    uint32_t kind, n, i;
    ads_r errs, data;
    const ads_sum_item *items;
} ads_sum_rsp_iter;
gw_err ads_sum_rsp_begin(uint32_t kind, const ads_sum_item *items, size_t n,
                         const uint8_t *p, size_t len, ads_sum_rsp_iter *it);
bool ads_sum_rsp_next(ads_sum_rsp_iter *it, ads_sum_result *res);

/* ------------------------------------------------------------ symbols */

/* ADSSYMBOLENTRY: entry length, ig, io, size, data type, u16 flags, u16
 * array dimensions (TC3; 0 in TC2's u32 flags), 3 × u16 string lengths,
 * name/type/comment each NUL-terminated, then by flags: array infos,
 * type GUID, attributes, extended flags; the rest up to the entry length
 * is skipped. */
#define ADS_SYM_HDR 30u
typedef struct {
    uint32_t entry_len, ig, io, size, data_type;
    uint16_t flags, array_dim;
    ads_str name, type, comment;
    const uint8_t *array_info;            /* array_dim × (i32 start, u32 length) */
    const uint8_t *guid;                  /* 16 bytes, or NULL */
    uint16_t attr_count;                  /* walk with ads_attr_next */
    const uint8_t *attrs;
    size_t attrs_len;
    uint32_t ext_flags;
} ads_symbol;

/* One entry at p (n bytes available); *used = its entry length. */
gw_err ads_symbol_get(const uint8_t *p, size_t n, ads_symbol *s, size_t *used);
void ads_symbol_put(ads_w *w, const ads_symbol *s);  /* entry_len computed, padded to s->entry_len if larger */

/* Array info i (< array_dim) of a symbol or data type. */
void ads_array_info(const uint8_t *array_info, size_t i, int32_t *start, uint32_t *len);

/* Attributes: u8 name len, u8 value len, name\0, value\0. `*p`/`*left`
 * advance; false when exhausted or malformed (validated on decode). */
bool ads_attr_next(const uint8_t **p, size_t *left, ads_str *name, ads_str *value);

/* Walker over a symbol upload (0xF00B answer). */
typedef struct {
    ads_r r;
} ads_symbol_iter;
void ads_symbol_iter_init(ads_symbol_iter *it, const uint8_t *p, size_t n);
/* GW_OK and *done=false with *s, GW_OK and *done=true at the end, or an
 * error for a malformed entry (the walk cannot go on). */
gw_err ads_symbol_iter_next(ads_symbol_iter *it, ads_symbol *s, bool *done);

/* ADSDATATYPEENTRY: entry length, version, hash, type hash, size, offset,
 * data type, u32 flags, u16 name/type/comment lengths, u16 array dims,
 * u16 sub-items, the strings, array infos, sub-item entries, then by
 * flags: type GUID, copy mask, method infos, attributes, enum infos,
 * extended flags; the rest skipped. */
#define ADS_DT_HDR 42u
typedef struct {
    uint32_t entry_len, version, hash, type_hash, size, offset, data_type, flags;
    uint16_t array_dim, sub_count;
    ads_str name, type, comment;
    const uint8_t *array_info;
    const uint8_t *subs;                  /* sub_count entries: walk with ads_dtype_iter */
    size_t subs_len;
    const uint8_t *guid;
    uint16_t attr_count;
    const uint8_t *attrs;
    size_t attrs_len;
    uint16_t enum_count;                  /* each: u8 len, name\0, value[size] */
    const uint8_t *enums;
    size_t enums_len;
    uint32_t ext_flags;
} ads_dtype;

gw_err ads_dtype_get(const uint8_t *p, size_t n, ads_dtype *d, size_t *used);
/* Sub-items of d (or a whole 0xF00E upload: init with its bytes). */
typedef struct {
    ads_r r;
} ads_dtype_iter;
void ads_dtype_iter_init(ads_dtype_iter *it, const uint8_t *p, size_t n);
gw_err ads_dtype_iter_next(ads_dtype_iter *it, ads_dtype *d, bool *done);
/* Enum info walk: name and value view (d->size bytes). */
bool ads_enum_next(const ads_dtype *d, const uint8_t **p, size_t *left, ads_str *name,
                   const uint8_t **value);

/* Upload info: 0xF00C gives symbol count + bytes (8 bytes); 0xF00F 24
 * bytes (+ data types, extra). Decode accepts 8 or >= 24 bytes. */
typedef struct {
    uint32_t symbols, symbol_bytes, dtypes, dtype_bytes, extra_count, extra_bytes;
} ads_upload_info;
gw_err ads_upload_info_get(const uint8_t *p, size_t n, ads_upload_info *u);
void ads_upload_info_put(ads_w *w, const ads_upload_info *u);  /* 24 bytes */

/* Handle by name: the whole ReadWrite request (0xF003, io 0, read 4,
 * write = name bytes without NUL); the name out of such a request (one
 * trailing NUL accepted); the handle out of the response data. */
void ads_handle_req_put(ads_w *w, const char *name, size_t name_len);
gw_err ads_symname_get(const ads_rw_req *q, ads_str *name);
gw_err ads_handle_rsp_get(const ads_data_rsp *s, uint32_t *handle);

/* ------------------------------------------------------------ errors, names */

const char *ads_err_name(uint32_t code);  /* "ADSERR_DEVICE_SYMBOLNOTFOUND", "?" if unknown */
const char *ads_err_text(uint32_t code);  /* "symbol not found", "unknown ADS error" */
/* 0 -> GW_OK; not found, access, type/size, timeout, busy, unsupported,
 * protocol, connection; anything else GW_E_DEVICE_REJECTED. */
gw_err ads_err_to_gw(uint32_t code);
const char *ads_cmd_name(uint16_t cmd);
const char *ads_state_name(uint16_t state);

#endif
