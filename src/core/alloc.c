/*
 * alloc.c - every allocation in plcgw goes through here, so that a test or
 * a fuzzer can see them in one place. Thin wrappers today; the seam is what
 * matters.
 */
#include "core.h"

#include <stdlib.h>
#include <string.h>

void *gw_malloc(size_t n)
{
    return malloc(n ? n : 1);
}

void *gw_calloc(size_t count, size_t size)
{
    return calloc(count ? count : 1, size ? size : 1);
}

void *gw_realloc(void *p, size_t n)
{
    return realloc(p, n ? n : 1);
}

char *gw_strndup(const char *s, size_t n)
{
    char *d = gw_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *gw_strdup(const char *s)
{
    return s ? gw_strndup(s, strlen(s)) : NULL;
}

void gw_free(void *p)
{
    free(p);
}

/* ---------------------------------------------------------------- arena */

typedef struct chunk {
    struct chunk *next;
    size_t used;
    size_t cap;
    size_t pad; /* keeps the header 32 bytes, so data stays 16-aligned */
} chunk;

struct gw_arena {
    chunk *chunks;
};

#define ARENA_CHUNK 16384u

gw_arena *gw_arena_new(void)
{
    return gw_calloc(1, sizeof(gw_arena));
}

void *gw_arena_alloc(gw_arena *a, size_t n)
{
    if (n > SIZE_MAX - 64)
        return NULL;
    n = (n + 15u) & ~(size_t)15u;
    chunk *c = a->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        chunk *nc = gw_malloc(sizeof(chunk) + cap);
        if (!nc)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        if (c && n > ARENA_CHUNK) {
            /* a big block: keep the current chunk in front for small ones */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->chunks = nc;
        }
        c = nc;
    }
    void *p = (char *)(c + 1) + c->used;
    c->used += n;
    return p;
}

char *gw_arena_strndup(gw_arena *a, const char *s, size_t n)
{
    char *d = gw_arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *gw_arena_strdup(gw_arena *a, const char *s)
{
    return s ? gw_arena_strndup(a, s, strlen(s)) : NULL;
}

void gw_arena_free(gw_arena *a)
{
    if (!a)
        return;
    chunk *c = a->chunks;
    while (c) {
        chunk *next = c->next;
        gw_free(c);
        c = next;
    }
    gw_free(a);
}

bool gw_grow(void **items, size_t *cap, size_t n, size_t size, size_t max)
{
    if (n < *cap)
        return true;
    if (n >= max)
        return false;
    size_t want = *cap ? *cap * 2 : 64;
    if (want > max)
        want = max;
    if (want > SIZE_MAX / size)
        return false;
    void *p = gw_realloc(*items, want * size);
    if (!p)
        return false;
    *items = p;
    *cap = want;
    return true;
}
