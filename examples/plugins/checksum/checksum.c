/*
 * Example external operation plugin for diffusiond: "checksum".
 *
 * Computes the 64-bit FNV-1a hash of `text` repeated `rounds` times. It needs nothing but libc, and its
 * running time grows with `rounds`, so it also shows progress reporting and cooperative cancellation.
 *
 * Build:  cc -shared -fPIC -O2 -I ../../../protocol/c -o checksum.so checksum.c
 * Load:   diffusiond serve --plugins DIR   (with checksum.so in DIR)
 * Call:   {"jsonrpc":"2.0","id":1,"method":"checksum","params":{"text":"abc","rounds":3}}
 */
#include "diffusiond_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char schema[] =
    "{\"type\":\"object\","
    "\"properties\":{"
    "\"text\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":65536,\"description\":\"bytes to hash (UTF-8)\"},"
    "\"rounds\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000000000,\"description\":\"how many times text is fed to the hash\"}},"
    "\"required\":[\"text\"],"
    "\"additionalProperties\":false}";

/* Finds "key": in a flat JSON object produced by the daemon (validated, compact, keys sorted). This is not a
 * general JSON parser: it relies on the daemon having validated params against the schema above. */
static const char *find_value(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(json, pattern);
    return p ? p + strlen(pattern) : NULL;
}

/* Decodes the JSON string starting at p (at the opening quote) into a new buffer; returns its length. */
static char *decode_string(const char *p, size_t *length) {
    if (*p != '"') return NULL;
    p++;
    char *out = malloc(strlen(p) + 1);
    if (!out) return NULL;
    size_t n = 0;
    while (*p && *p != '"') {
        if (*p != '\\') { out[n++] = *p++; continue; }
        p++;
        switch (*p) {
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case 'r': out[n++] = '\r'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'u': {
            /* The daemon escapes only control characters and U+2028/9 this way; encode the code point as UTF-8. */
            unsigned v = (unsigned)strtoul((char[]){p[1], p[2], p[3], p[4], 0}, NULL, 16);
            if (v < 0x80) out[n++] = (char)v;
            else if (v < 0x800) { out[n++] = (char)(0xC0 | v >> 6); out[n++] = (char)(0x80 | (v & 0x3F)); }
            else { out[n++] = (char)(0xE0 | v >> 12); out[n++] = (char)(0x80 | (v >> 6 & 0x3F)); out[n++] = (char)(0x80 | (v & 0x3F)); }
            p += 4;
            break;
        }
        default: out[n++] = *p; break; /* \" \\ \/ */
        }
        p++;
    }
    *length = n;
    return out;
}

static int run(const char *params_json, const diffusiond_host_v1 *host, char **result_json, char **error_message) {
    const char *text_at = find_value(params_json, "text");
    const char *rounds_at = find_value(params_json, "rounds");
    size_t length = 0;
    char *text = text_at ? decode_string(text_at, &length) : NULL;
    if (!text) {
        *error_message = strdup("text must be a string");
        return DIFFUSIOND_INVALID_PARAMS;
    }
    long long rounds = rounds_at ? strtoll(rounds_at, NULL, 10) : 1;

    unsigned long long hash = 0xcbf29ce484222325ULL;
    const long long report_every = rounds / 100 > 0 ? rounds / 100 : 1;
    for (long long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < length; i++) {
            hash ^= (unsigned char)text[i];
            hash *= 0x100000001b3ULL;
        }
        if ((r & 1023) == 0 && host->is_cancelled(host->context)) {
            free(text);
            return DIFFUSIOND_CANCELLED;
        }
        if ((r + 1) % report_every == 0 || r + 1 == rounds) host->progress(host->context, "hash", r + 1, rounds);
    }
    free(text);

    char *result = malloc(96);
    if (!result) {
        *error_message = strdup("out of memory");
        return DIFFUSIOND_FAILED;
    }
    snprintf(result, 96, "{\"fnv1a64\":\"%016llx\",\"rounds\":%lld,\"bytes\":%zu}", hash, rounds, length);
    *result_json = result;
    return DIFFUSIOND_OK;
}

static void free_string(char *s) { free(s); }

static const diffusiond_plugin_v1 descriptor = {
    .abi_version = DIFFUSIOND_PLUGIN_ABI_VERSION,
    .method = "checksum",
    .summary = "FNV-1a 64-bit hash of text repeated rounds times (example external plugin).",
    .params_schema_json = schema,
    .run = run,
    .free_string = free_string,
};

const diffusiond_plugin_v1 *diffusiond_plugin_entry(void) { return &descriptor; }
