/*
 * s7_codec.h - the S7comm wire format, shared by our client and server.
 *
 * Pure functions: bytes in, structs out, or structs in, bytes out. No I/O,
 * no allocation, no logging; every length read off the wire is checked
 * against the bytes actually present before use. docs/s7comm.md is the
 * reference for every layout and constant here.
 *
 * Layers of one frame:
 *   TPKT (RFC 1006)  4 bytes: version 3, reserved, total length
 *   COTP (ISO 8073)  CR/CC/DR: connection set-up; DT: 3 bytes, carries S7
 *   S7 header        10 bytes (job, userdata) or 12 (ack, ack_data)
 *   parameter, data
 *
 * The transport that sends and receives TPKT/COTP (client and server, for
 * S7comm and S7CommPlus alike) is s7_iso.h.
 */
#ifndef GW_S7_CODEC_H
#define GW_S7_CODEC_H

#include "core/core.h"

/* Big-endian fields, as every S7 header and item carries them. */
static inline uint16_t s7_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t s7_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void s7_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void s7_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---------------------------------------------------------------- TPKT */

/* RFC 1006 section 6: version 3, 4-byte header, 16-bit length covering the
 * whole packet including the header. */
#define S7_TPKT_VERSION 3
#define S7_TPKT_HDR 4
#define S7_TPKT_MAX 65535u

/* ---------------------------------------------------------------- COTP */

/* ISO 8073 (X.224) TPDU codes, high nibble of the PDU type byte. */
enum {
    S7_COTP_CR = 0xE0, /* connection request */
    S7_COTP_CC = 0xD0, /* connection confirm */
    S7_COTP_DR = 0x80, /* disconnect request */
    S7_COTP_DC = 0xC0, /* disconnect confirm */
    S7_COTP_DT = 0xF0, /* data */
    S7_COTP_ER = 0x70  /* TPDU error */
};

/* ISO 8073 section 13.3.4 parameter codes in CR/CC. */
enum {
    S7_COTP_P_TPDU_SIZE = 0xC0,
    S7_COTP_P_SRC_TSAP = 0xC1, /* calling TSAP */
    S7_COTP_P_DST_TSAP = 0xC2  /* called TSAP */
};

/* DT: length indicator 2, type 0xF0, TPDU number with the EOT bit 0x80
 * (ISO 8073 section 13.7). */
#define S7_COTP_DT_LEN 3
#define S7_COTP_EOT 0x80

/* S7 connection types, the high byte of the called TSAP (snap7 s7_types.h
 * CONNTYPE_PG/OP/BASIC); the low byte is rack * 0x20 + slot. */
enum { S7_CONN_PG = 1, S7_CONN_OP = 2, S7_CONN_BASIC = 3 };

static inline uint16_t s7_remote_tsap(uint8_t conn_type, uint8_t rack, uint8_t slot)
{
    return (uint16_t)((conn_type << 8) | ((rack * 0x20 + slot) & 0xFF));
}

/* A TSAP as COTP carries it: a parameter of any length (ISO 8073 section
 * 13.3.4 a), RFC 905). S7 uses 2 bytes (section 3 of docs/s7comm.md),
 * S7CommPlus the 16 ASCII bytes "SIMATIC-ROOT-HMI" (docs/s7commplus.md
 * S1). We keep at most S7_TSAP_MAX bytes; a longer one is ignored
 * by the decoder like an unknown parameter. */
#define S7_TSAP_MAX 32
typedef struct {
    uint8_t len;                  /* 1..S7_TSAP_MAX; 0 = none */
    uint8_t bytes[S7_TSAP_MAX];
} s7_tsap;

/* A TSAP from len bytes; false (and *t empty) when len is 0 or over
 * S7_TSAP_MAX. */
bool s7_tsap_set(s7_tsap *t, const void *bytes, size_t len);
/* The 2-byte S7 TSAP `v`, high byte first. */
s7_tsap s7_tsap_from16(uint16_t v);
/* True when a and b are the same bytes. */
bool s7_tsap_equal(const s7_tsap *a, const s7_tsap *b);

typedef struct {
    uint8_t type;          /* S7_COTP_* */
    uint16_t dst_ref;      /* CR/CC/DR */
    uint16_t src_ref;
    uint8_t class_opt;     /* CR/CC */
    uint8_t reason;        /* DR */
    bool has_tpdu_size;
    uint8_t tpdu_size;     /* code: 2^code bytes, 0x07..0x0D */
    bool tpdu_size_last;   /* CR/CC: C0 after the TSAPs (python-snap7 and py7
                              send C1 C2 C0); the decoder sets it, the encoder
                              follows it */
    /* TSAPs. has_*: the parameter is there. The 2-byte form (S7) is also in
     * src_tsap/dst_tsap (0 for other lengths); *_tsap_bytes hold any
     * length. Encoding: the bytes when their len > 0, else the uint16. */
    bool has_src_tsap, has_dst_tsap;
    uint16_t src_tsap, dst_tsap;
    s7_tsap src_tsap_bytes, dst_tsap_bytes;
    bool eot;              /* DT: last TPDU of the S7 PDU */
    const uint8_t *payload;/* DT: user data */
    size_t payload_len;
} s7_cotp;

/* Length of a TPKT packet from its 4 header bytes; GW_E_PROTOCOL when the
 * header is not TPKT version 3 or the length is below 7 (TPKT + DT). The
 * length may be anything up to S7_TPKT_MAX, whatever TPDU size was
 * negotiated (py7's S7CommPlus emulator ignores it). */
gw_err s7_tpkt_length(const uint8_t hdr[S7_TPKT_HDR], size_t *total);
/* Decodes the COTP part of a whole TPKT packet (frame, len). */
gw_err s7_cotp_decode(const uint8_t *frame, size_t len, s7_cotp *out);
/* Encodes a CR or CC (c->type) with TPKT: C0 (TPDU size), C1, C2 as the
 * has_* flags say, C0 last when tpdu_size_last. Returns the frame length,
 * 0 when cap is too small or a TSAP's len is over S7_TSAP_MAX. */
size_t s7_cotp_encode_conn(uint8_t *buf, size_t cap, const s7_cotp *c);
/* Encodes a DR with TPKT. */
size_t s7_cotp_encode_dr(uint8_t *buf, size_t cap, uint16_t dst_ref, uint16_t src_ref,
                         uint8_t reason);
/* Encodes a DC (disconnect confirm: no reason byte) with TPKT. */
size_t s7_cotp_encode_dc(uint8_t *buf, size_t cap, uint16_t dst_ref, uint16_t src_ref);
/* Writes TPKT + COTP DT headers in front of an S7 PDU of pdu_len bytes
 * (which the caller put at buf + S7_FRAME_HDR); returns the frame length. */
size_t s7_frame_dt(uint8_t *buf, size_t pdu_len);
/* The same for one DT fragment: EOT set when `eot` (TPDU number 0). */
size_t s7_frame_dt_part(uint8_t *buf, size_t payload_len, bool eot);
#define S7_FRAME_HDR (S7_TPKT_HDR + S7_COTP_DT_LEN)

/* TPDU size code -> bytes (0 for an invalid code). */
size_t s7_tpdu_bytes(uint8_t code);

/* ---------------------------------------------------------------- S7 header */

#define S7_PROTOCOL_ID 0x32
enum { S7_JOB = 1, S7_ACK = 2, S7_ACK_DATA = 3, S7_USERDATA = 7 };
#define S7_HDR_JOB 10
#define S7_HDR_ACK 12

/* S7 functions (first parameter byte of job/ack_data). */
enum {
    S7_FN_READ = 0x04,
    S7_FN_WRITE = 0x05,
    S7_FN_REQ_DOWNLOAD = 0x1A,  /* the client asks to download a block */
    S7_FN_DOWNLOAD = 0x1B,      /* the CPU asks for the block's bytes */
    S7_FN_DOWNLOAD_END = 0x1C,  /* the CPU ends the download */
    S7_FN_UPLOAD_START = 0x1D,
    S7_FN_UPLOAD = 0x1E,
    S7_FN_UPLOAD_END = 0x1F,
    S7_FN_PI = 0x28,            /* program invocation: start, delete, compress, ... */
    S7_FN_STOP = 0x29,          /* PLC stop */
    S7_FN_SETUP = 0xF0
};

/* Userdata function groups (low nibble of the type/group byte). */
enum {
    S7_UD_PROG = 0x1,      /* programmer commands */
    S7_UD_CYCLIC = 0x2,
    S7_UD_BLOCK = 0x3,     /* block functions: list, list of type, info */
    S7_UD_CPU = 0x4,       /* CPU functions: SZL */
    S7_UD_SECURITY = 0x5,  /* session password */
    S7_UD_TIME = 0x7       /* clock */
};

typedef struct {
    uint8_t rosctr;
    uint16_t pdu_ref;
    uint16_t param_len, data_len;
    uint8_t err_class, err_code; /* ack and ack_data only */
    const uint8_t *param;
    const uint8_t *data;
} s7_header;

/* Decodes an S7 PDU (the DT payload): header, and parameter and data
 * inside the given bytes. */
gw_err s7_header_decode(const uint8_t *pdu, size_t len, s7_header *h);
/* Writes a header; returns its size (10 or 12). */
size_t s7_header_encode(uint8_t *p, uint8_t rosctr, uint16_t pdu_ref, uint16_t param_len,
                        uint16_t data_len, uint8_t err_class, uint8_t err_code);

/* ---------------------------------------------------------------- setup */

typedef struct {
    uint16_t amq_calling;  /* jobs the calling side may have open */
    uint16_t amq_called;
    uint16_t pdu_len;
} s7_setup;

#define S7_SETUP_PARAM 8
size_t s7_setup_encode_param(uint8_t *p, const s7_setup *s);
gw_err s7_setup_decode_param(const uint8_t *param, size_t len, s7_setup *out);

/* ---------------------------------------------------------------- items */

/* Memory areas (Wireshark packet-s7comm.c, S7COMM_AREA_*). */
enum {
    S7_AREA_SYSINFO = 0x03,
    S7_AREA_SYSFLAGS = 0x05,
    S7_AREA_ANAIN = 0x06,
    S7_AREA_ANAOUT = 0x07,
    S7_AREA_P = 0x80,
    S7_AREA_I = 0x81,
    S7_AREA_Q = 0x82,
    S7_AREA_M = 0x83,
    S7_AREA_DB = 0x84,
    S7_AREA_DI = 0x85,
    S7_AREA_LOCAL = 0x86,
    S7_AREA_V = 0x87,
    S7_AREA_COUNTER = 0x1C,
    S7_AREA_TIMER = 0x1D,
    S7_AREA_COUNTER200 = 0x1E,
    S7_AREA_TIMER200 = 0x1F
};

/* Transport sizes in a request item (Wireshark S7COMM_TRANSPORT_SIZE_*). */
enum {
    S7_TS_BIT = 0x01,
    S7_TS_BYTE = 0x02,
    S7_TS_CHAR = 0x03,
    S7_TS_WORD = 0x04,
    S7_TS_INT = 0x05,
    S7_TS_DWORD = 0x06,
    S7_TS_DINT = 0x07,
    S7_TS_REAL = 0x08,
    S7_TS_COUNTER = 0x1C,
    S7_TS_TIMER = 0x1D
};

/* Transport sizes of data items (Wireshark S7COMM_DATA_TRANSPORT_SIZE_*). */
enum {
    S7_DTS_NULL = 0x00,
    S7_DTS_BIT = 0x03,    /* length in bits */
    S7_DTS_BYTE = 0x04,   /* BYTE/WORD/DWORD, length in bits */
    S7_DTS_INT = 0x05,    /* INT, length in bits */
    S7_DTS_DINT = 0x06,   /* DINT, length in bytes */
    S7_DTS_REAL = 0x07,   /* REAL, length in bytes */
    S7_DTS_OCTET = 0x09   /* octet string, length in bytes */
};

/* Item return codes (Wireshark S7COMM_ITEM_RETVAL_*). */
enum {
    S7_RC_RESERVED = 0x00,
    S7_RC_HW_FAULT = 0x01,
    S7_RC_ACCESS = 0x03,        /* accessing the object not allowed */
    S7_RC_OUT_OF_RANGE = 0x05,  /* invalid address */
    S7_RC_TYPE_UNSUPPORTED = 0x06,
    S7_RC_TYPE_INCONSISTENT = 0x07,
    S7_RC_NO_OBJECT = 0x0A,     /* object does not exist */
    S7_RC_OK = 0xFF
};

/* One variable specification (S7ANY), 12 bytes on the wire:
 * 0x12, 0x0A, 0x10, transport size, count, DB, area, bit address. */
#define S7_ITEM_SPEC 12
typedef struct {
    uint8_t tsize;
    uint16_t count;    /* elements of tsize */
    uint16_t db;
    uint8_t area;
    uint32_t bitaddr;  /* byte * 8 + bit, 24 bits */
} s7_item;

/* Bytes that `count` elements of a transport size occupy (BIT: 1 byte per
 * bit); 0 for an unknown size. */
size_t s7_item_bytes(uint8_t tsize, uint16_t count);

/* A data item of a read reply or write request: return code (or reserved
 * 0 in a write request), data transport size, and its bytes. */
typedef struct {
    uint8_t rc;
    uint8_t dts;
    const uint8_t *bytes;
    uint16_t len;      /* in bytes */
} s7_data;

/* Request layouts: Read Var / Write Var parameter = function, count, items. */
#define S7_RW_PARAM(n) (2u + S7_ITEM_SPEC * (n))

/* Encodes a whole Read Var job frame (TPKT + COTP + S7) into buf. */
size_t s7_encode_read_req(uint8_t *buf, size_t cap, uint16_t ref, const s7_item *items,
                          size_t n);
/* Encodes a whole Write Var job frame; data[i] carries item i's bytes (for
 * a BIT item, one byte 0 or 1). */
size_t s7_encode_write_req(uint8_t *buf, size_t cap, uint16_t ref, const s7_item *items,
                           const s7_data *data, size_t n);
/* Decodes the items of a Read/Write Var parameter (function byte first).
 * The parameter must be exactly its items; an item of another syntax than
 * S7ANY is skipped by its own length and decoded as transport size 0,
 * count 1: a type nobody serves, so it fails alone. */
gw_err s7_decode_items(const uint8_t *param, size_t len, s7_item *items, size_t max,
                       size_t *n);
/* Decodes n data items (read reply, or write request data): the length
 * field counts bits or bytes as the data transport size says, a fill byte
 * follows odd-length data except after the last item, and an item with an
 * error code (not 0xFF, not 0x00) has no data. */
gw_err s7_decode_data(const uint8_t *data, size_t len, size_t n, s7_data *out);
/* Encodes n data items as above into p; returns bytes written, 0 when cap
 * is too small. */
size_t s7_encode_data(uint8_t *p, size_t cap, const s7_data *items, size_t n);
/* Data transport size a server answers for a request transport size. */
uint8_t s7_reply_dts(uint8_t tsize);

/* Reply sizes: a Read Var ack_data with items of these byte lengths, and a
 * request with n items. Both must fit the negotiated PDU length. */
size_t s7_read_reply_size(const uint16_t *lens, size_t n);
#define S7_READ_REQ_SIZE(n) (S7_HDR_JOB + S7_RW_PARAM(n))

/* ---------------------------------------------------------------- userdata */

/* SZL read (userdata, function group 4 "CPU functions", subfunction 1). */
#define S7_SZL_LIST 0x0000        /* list of lists: the SZL-IDs served */
#define S7_SZL_CPU_ORDER 0x0011   /* module identification */
#define S7_SZL_COMM 0x0131        /* communication capabilities */
#define S7_SZL_PROTECTION 0x0232  /* protection level */
#define S7_SZL_CPU_STATE 0x0424   /* CPU mode */
#define S7_SZL_COMPONENTS 0x001C  /* component identification (names, serial) */

typedef struct {
    uint8_t method;       /* 0x11 request, 0x12 response */
    uint8_t type_group;   /* request 0x4? / response 0x8?, group in the low nibble */
    uint8_t subfunction;
    uint8_t seq;
    uint8_t dur;          /* data unit reference (parameter length 8 only) */
    uint16_t err_code;    /* response only */
    bool last;            /* response: last data unit */
} s7_userdata_param;

size_t s7_encode_szl_req(uint8_t *buf, size_t cap, uint16_t ref, uint16_t szl_id,
                         uint16_t szl_index);
/* The follow-up asking for the next part of a multi-part SZL answer
 * (docs/s7comm.md 11.8): parameter in its 12-byte form (method 0x12) with
 * the answer's sequence number, data `0A 00 00 00`. Returns the frame
 * length, 0 when cap is too small. */
size_t s7_encode_szl_next_req(uint8_t *buf, size_t cap, uint16_t ref, uint8_t seq);
/* Decodes the data part of an SZL read request (docs/s7comm.md 11.2): a
 * return code byte, a transport size byte, a 16-bit length in bytes, then
 * SZL-ID and index. The first two bytes are not checked: snap7's client
 * sends FF 09, python-snap7's 0A 00, and snap7's server (reportedly a
 * CPU too) ignores them. The length must cover ID and index (>= 4) and lie within
 * len. GW_E_PROTOCOL otherwise. */
gw_err s7_decode_szl_req_data(const uint8_t *data, size_t len, uint16_t *szl_id,
                              uint16_t *szl_index);
gw_err s7_decode_userdata_param(const uint8_t *param, size_t len, s7_userdata_param *out);

/* ---------------------------------------------------------------- blocks */

/* A block as the block functions, upload, download and the PI services
 * name it (docs/s7comm.md 14.1): ASCII '0', the type character
 * (gw_s7_block_type), five decimal digits, and in file names a file
 * system character ('A' active, 'P' passive, 'B' both). */
#define S7_BLOCK_ADDR 7          /* '0' type ddddd */
/* Writes the 7 bytes; number 0..65535. */
void s7_block_addr_encode(uint8_t out[S7_BLOCK_ADDR], uint8_t type, uint16_t number);
/* Reads them back; GW_E_PROTOCOL unless '0', a known type and 5 digits
 * naming 0..65535. */
gw_err s7_block_addr_decode(const uint8_t in[S7_BLOCK_ADDR], uint8_t *type, uint16_t *number);

/* MC7 block image (docs/s7comm.md 14.2): a 36-byte header, the code or
 * data (MC7 length), a 20-byte interface section and a 36-byte footer. */
#define S7_MC7_HDR 36
#define S7_MC7_SBB 20
#define S7_MC7_FOOTER 36
#define S7_MC7_OVERHEAD (S7_MC7_HDR + S7_MC7_SBB + S7_MC7_FOOTER)   /* 92 */
/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): the checksum our server
 * reports for a block (docs/s7comm.md 14.2). */
uint16_t s7_crc16(const uint8_t *p, size_t len);

/* ---------------------------------------------------------------- errors */

/* Text for a header error (class, code) and an item return code. */
const char *s7_header_error_text(uint8_t err_class, uint8_t err_code);
const char *s7_item_rc_text(uint8_t rc);

/* ---------------------------------------------------------------- clock */

/* DATE_AND_TIME, 8 BCD bytes (docs/s7comm.md 17; WS-S7
 * `s7comm_add_timestamp_to_tree`): year (2 digits: 90-99 = 1990-1999,
 * 00-89 = 2000-2089), month, day, hour, minute, second, milliseconds (2
 * high digits), then the last millisecond digit in the high nibble and the
 * weekday (1 Sunday .. 7 Saturday) in the low one. */
#define S7_DT_LEN 8
#define S7_DT_MIN_MS 631152000000LL     /* 1990-01-01 00:00:00.000 UTC */
#define S7_DT_MAX_MS 3786911999999LL    /* 2089-12-31 23:59:59.999 UTC */
/* Encodes epoch ms (UTC), clamped to S7_DT_MIN_MS..S7_DT_MAX_MS. */
void s7_dt_encode(uint8_t out[S7_DT_LEN], int64_t epoch_ms);
/* Decodes to epoch ms; GW_E_RANGE for a nibble that is not a BCD digit or
 * a field out of its range (month 1-12, the day within the month, hour
 * < 24, minute and second < 60). The weekday is not checked: a CPU
 * derives it from the date. */
gw_err s7_dt_decode(const uint8_t in[S7_DT_LEN], int64_t *epoch_ms);

#endif
