/*
 * fuzz_json.c - the located JSON reader must accept or reject any bytes
 * without crashing, and an accepted document must convert to jansson.
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
    return 0;
}
