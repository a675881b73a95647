/*
 * fuzz_json.c - the located JSON reader must accept or reject any bytes
 * without crashing, and an accepted document must convert to jansson.
 * The guarded jansson load (HTTP bodies, Socket.IO packets) too: what it
 * accepts is never nested deeper than GW_JSON_MAX_DEPTH, and the two
 * readers agree on that.
 */
#include "core/core.h"

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_diag d;
    gw_diag_init(&d, "fuzz");
    gw_json_doc *doc;
    if (gw_json_parse((const char *)data, size, &doc, &d) == GW_OK) {
        json_t *j = gw_json_to_jansson(gw_json_root(doc));
        json_decref(j);
        gw_json_doc_free(doc);
    } else if (d.count == 0) {
        __builtin_trap(); /* a failure must always say why */
    }
    json_error_t e;
    json_t *j = gw_json_load_untrusted((const char *)data, size, JSON_DECODE_ANY, &e);
    if (!j && !e.text[0])
        __builtin_trap();
    if (j && !gw_json_nesting_ok((const char *)data, size, GW_JSON_MAX_DEPTH, NULL))
        __builtin_trap();
    json_decref(j);
    return 0;
}
