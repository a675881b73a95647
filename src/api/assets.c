/*
 * assets.c - files the gateway serves from inside its binary: Swagger UI
 * (npm swagger-ui-dist, at /docs) so that the API's documentation works on
 * a plant network without internet, and without files to install beside
 * the binary. Each file is there as it is and gzip-compressed (made at
 * build time, src/CMakeLists.txt); the answer is the compressed one when
 * the client accepts gzip.
 */
#include "api_internal.h"

#include <string.h>

/* The bytes of a file, between two symbols (GNU as .incbin). */
#define GW_INCBIN(sym, path)                                                                  \
    __asm__(".section .rodata\n.balign 16\n.global " #sym "\n" #sym ":\n.incbin \"" path      \
            "\"\n.global " #sym "_end\n" #sym "_end:\n.byte 0\n.previous\n");                  \
    extern const char sym[], sym##_end[]

GW_INCBIN(gw_swagger_js, GW_SWAGGER_DIR "/swagger-ui-bundle.js");
GW_INCBIN(gw_swagger_js_gz, GW_ASSET_DIR "/swagger-ui-bundle.js.gz");
GW_INCBIN(gw_swagger_css, GW_SWAGGER_DIR "/swagger-ui.css");
GW_INCBIN(gw_swagger_css_gz, GW_ASSET_DIR "/swagger-ui.css.gz");
GW_INCBIN(gw_swagger_license, GW_SWAGGER_DIR "/swagger-ui-bundle.js.LICENSE.txt");
GW_INCBIN(gw_swagger_notice, GW_SWAGGER_DIR "/LICENSE");
GW_INCBIN(gw_swagger_icon, GW_SWAGGER_DIR "/favicon-32x32.png");

/* Our own page around it: the document, with the session cookie sent by
 * "Try it out" (same origin) and a token from "Authorize" kept. */
static const char init_js[] =
    "window.ui = SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui',\n"
    "  deepLinking: true, persistAuthorization: true, withCredentials: true,\n"
    "  displayRequestDuration: true, defaultModelsExpandDepth: 0});\n";

#define ASSET(n, t, s, z) {n, t, s, s##_end, z, z##_end}
#define ASSET_PLAIN(n, t, s) {n, t, s, s##_end, NULL, NULL}

static const api_asset assets[] = {
    ASSET("swagger-ui-bundle.js", "text/javascript; charset=utf-8", gw_swagger_js,
          gw_swagger_js_gz),
    ASSET("swagger-ui.css", "text/css; charset=utf-8", gw_swagger_css, gw_swagger_css_gz),
    ASSET_PLAIN("swagger-ui-bundle.js.LICENSE.txt", "text/plain; charset=utf-8",
                gw_swagger_license),
    ASSET_PLAIN("LICENSE", "text/plain; charset=utf-8", gw_swagger_notice),
    ASSET_PLAIN("favicon-32x32.png", "image/png", gw_swagger_icon),
    {"init.js", "text/javascript; charset=utf-8", init_js, init_js + sizeof(init_js) - 1, NULL,
     NULL},
};

const api_asset *api__asset(const char *name)
{
    for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
        if (strcmp(assets[i].name, name) == 0)
            return &assets[i];
    return NULL;
}
