#include "VipsShim.h"
#include <stdlib.h>
#include <zlib.h>

/* Counts what a zlib stream inflates to without keeping it, so a PNG's compressed text can be bounded before
   libpng inflates it in full (libpng caps one chunk, not the sum of a thousand). */
struct vshim_inflate_counter {
    z_stream stream;
    unsigned long long total;
    int finished;
    int failed;
};

vshim_inflate_counter *vshim_inflate_counter_new(void) {
    vshim_inflate_counter *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (inflateInit(&c->stream) != Z_OK) { free(c); return NULL; }
    return c;
}

long long vshim_inflate_counter_feed(vshim_inflate_counter *c, const unsigned char *data, size_t length,
                                     unsigned long long limit) {
    unsigned char scratch[65536];
    c->stream.next_in = (Bytef *) data;
    c->stream.avail_in = (uInt) length;
    while (!c->finished && !c->failed && c->total <= limit && c->stream.avail_in > 0) {
        c->stream.next_out = scratch;
        c->stream.avail_out = sizeof scratch;
        int r = inflate(&c->stream, Z_NO_FLUSH);
        c->total += sizeof scratch - c->stream.avail_out;
        if (r == Z_STREAM_END) { c->finished = 1; break; }
        if (r == Z_BUF_ERROR) break;  /* needs more input */
        if (r != Z_OK) { c->failed = 1; break; }
    }
    return (long long) c->total;
}

int vshim_inflate_counter_finished(const vshim_inflate_counter *c) { return c->finished || c->failed; }

void vshim_inflate_counter_free(vshim_inflate_counter *c) {
    if (!c) return;
    inflateEnd(&c->stream);
    free(c);
}
