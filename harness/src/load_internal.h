/* emoncrypt — what `emoncrypt load` and its Tsung export share: the
 * plaintext a simulated device posts.  Internal to the library. */
#ifndef EMONCRYPT_LOAD_INTERNAL_H
#define EMONCRYPT_LOAD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A plausible reading that changes from post to post. */
static inline int ec_load_reading_(unsigned device, uint64_t seq, unsigned channel)
{
    return (int)((device * 37u + (unsigned)seq * 11u + channel * 101u) % 3000u);
}

/* The plaintext of one post: post = node, time and two values as fulljson;
 * bulk = IoTaWatt's form, time=T and rows [dt,"node",v1,v2] ending at now. */
static inline size_t ec_load_plaintext_(char *buf, size_t cap, unsigned device, uint64_t seq,
                              unsigned bulk_rows, long long now)
{
    int n;
    if (bulk_rows == 0) {
        n = snprintf(buf, cap,
                     "node=emoncrypt_load_%u&time=%lld&fulljson={\"power1\":%d,\"power2\":%d}",
                     device, now, ec_load_reading_(device, seq, 1), ec_load_reading_(device, seq, 2));
        return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
    }
    n = snprintf(buf, cap, "time=%lld&data=[", now - (long long)(bulk_rows - 1));
    if (n < 0 || (size_t)n >= cap)
        return 0;
    size_t off = (size_t)n;
    for (unsigned r = 0; r < bulk_rows; r++) {
        n = snprintf(buf + off, cap - off, "%s[%u,\"emoncrypt_load_%u\",%d,%d]", r ? "," : "", r,
                     device, ec_load_reading_(device, seq + r, 1), ec_load_reading_(device, seq + r, 2));
        if (n < 0 || (size_t)n >= cap - off)
            return 0;
        off += (size_t)n;
    }
    if (off + 2 > cap)
        return 0;
    buf[off++] = ']';
    buf[off] = 0;
    return off;
}

#endif
