/*
 * csv.c - a test's points as CSV (RFC 4180: CRLF line ends, no quoting
 * needed since every field is a number), and the SHA-256 of that text.
 *
 * The text is the contract: points.csv serves it, the store keeps its
 * SHA-256 (history.h points_sha256) and every report prints it, so that
 * `curl .../points.csv | sha256sum` checks a filed report. Any change to
 * how a number is printed changes every digest on file; don't.
 *
 * Numbers are gw_json_format_real's: the shortest decimal that reads back
 * as the same double ("0.0", "9.45", "1e-300"). A value that is not a
 * finite number (an unknown position, NAN) is an empty field.
 */
#include "report.h"

#include <sodium.h>
#include <string.h>

#define CSV_HEADER "t_s,force_kN,deflection_mm,position_mm\r\n"

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((gw_report_digest *)0)->state),
               "gw_report_digest.state must hold a crypto_hash_sha256_state");
_Static_assert(_Alignof(crypto_hash_sha256_state) <= 16,
               "gw_report_digest.state is aligned to 16");

size_t gw_report_csv_header(char *buf, size_t size)
{
    size_t n = sizeof(CSV_HEADER) - 1;
    if (size <= n) {
        if (size)
            buf[0] = '\0';
        return 0;
    }
    memcpy(buf, CSV_HEADER, n + 1);
    return n;
}

/* One field and its separator at p (room for 32 bytes at least). */
static char *put_field(char *p, double v, char sep)
{
    if (isfinite(v)) {
        gw_json_format_real(v, p, 32);
        p += strlen(p);
    }
    *p++ = sep;
    return p;
}

size_t gw_report_csv_line(const gw_test_point *pt, char *buf, size_t size)
{
    /* four fields of at most 24 characters ("-2.2250738585072014e-308"),
     * three commas and CRLF fit GW_REPORT_CSV_LINE with room to spare */
    char line[4 * 32 + 8];
    char *p = line;
    p = put_field(p, pt->t_s, ',');
    p = put_field(p, pt->force_kN, ',');
    p = put_field(p, pt->deflection_mm, ',');
    p = put_field(p, pt->position_mm, '\r');
    *p++ = '\n';
    size_t n = (size_t)(p - line);
    if (size <= n) {
        if (size)
            buf[0] = '\0';
        return 0;
    }
    memcpy(buf, line, n);
    buf[n] = '\0';
    return n;
}

static crypto_hash_sha256_state *sha(gw_report_digest *d)
{
    return (crypto_hash_sha256_state *)(void *)d->state;
}

void gw_report_digest_init(gw_report_digest *d)
{
    crypto_hash_sha256_init(sha(d));
    crypto_hash_sha256_update(sha(d), (const unsigned char *)CSV_HEADER,
                              sizeof(CSV_HEADER) - 1);
}

void gw_report_digest_point(gw_report_digest *d, const gw_test_point *p)
{
    char line[GW_REPORT_CSV_LINE];
    size_t n = gw_report_csv_line(p, line, sizeof(line));
    crypto_hash_sha256_update(sha(d), (const unsigned char *)line, n);
}

void gw_report_digest_final(gw_report_digest *d, char hex[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(sha(d), h);
    sodium_bin2hex(hex, 65, h, sizeof(h));
}
