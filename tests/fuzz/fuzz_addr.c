/*
 * fuzz_addr.c - address keys: any string parses or is rejected with a
 * reason, and a parsed address survives format -> parse unchanged.
 */
#include "tags/tags.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char key[64];
    if (size >= sizeof(key))
        return 0;
    memcpy(key, data, size);
    key[size] = '\0';
    gw_addr a, b;
    char why[200];
    if (gw_addr_parse(key, &a, why, sizeof(why)) != GW_OK) {
        if (!why[0])
            __builtin_trap();
        return 0;
    }
    char text[64];
    gw_addr_format(&a, text, sizeof(text));
    if (gw_addr_parse(text, &b, why, sizeof(why)) != GW_OK || memcmp(&a, &b, sizeof(a)) != 0)
        __builtin_trap();
    return 0;
}
