/* see codec.h — zlib format (RFC 1950), the one PHP gzcompress writes. */
#include "emoncrypt/codec.h"

#include <limits.h>

#include <zlib.h>

/* PHP's gzcompress and Python's zlib.compress both default to level 6. */
#define ZLIB_LEVEL 6

/* zlib wants real pointers even for zero bytes. */
static const uint8_t no_bytes[1];

/* see codec.h */
size_t ec_zlib_bound(size_t n)
{
    return (size_t)compressBound((uLong)n);
}

/* see codec.h
 *
 * compress2() uses memLevel 8, as Python's zlib.compress does, so the
 * bytes match Python exactly.  PHP's gzcompress asks for memLevel 9: its
 * output is the same for small inputs (every protocol plaintext) but can
 * differ from about 10 KB on; both inflate to the same data. */
ec_status ec_zlib_compress(const uint8_t *in, size_t n, uint8_t *out,
                           size_t out_cap, size_t *out_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out_len == NULL || out == NULL || (in == NULL && n > 0))
        return EC_E_ARG;
    if (n > ULONG_MAX || out_cap > ULONG_MAX)
        return EC_E_ARG;
    uLongf dest_len = (uLongf)out_cap;
    int rc = compress2(out, &dest_len, n > 0 ? in : no_bytes, (uLong)n, ZLIB_LEVEL);
    if (rc == Z_BUF_ERROR)
        return EC_E_BUFFER;
    if (rc == Z_MEM_ERROR)
        return EC_E_NOMEM;
    if (rc != Z_OK)
        return EC_E_ZLIB;
    *out_len = (size_t)dest_len;
    return EC_OK;
}

/* After out filled up without the stream ending: would the stream have
 * produced more bytes?  Inflating on into a scratch block tells a too
 * small buffer (EC_E_BUFFER) from a stream that is merely truncated or
 * broken (EC_E_ZLIB), and from one that ends right here (EC_OK). */
static ec_status zlib_probe_rest(z_stream *stream)
{
    uint8_t scratch[64];
    stream->next_out = scratch;
    stream->avail_out = sizeof scratch;
    int rc = inflate(stream, Z_FINISH);
    if (stream->avail_out < sizeof scratch)
        return EC_E_BUFFER;
    if (rc == Z_STREAM_END)
        return EC_OK;
    return rc == Z_MEM_ERROR ? EC_E_NOMEM : EC_E_ZLIB;
}

/* see codec.h
 *
 * Stricter than PHP on purpose: gzuncompress ignores bytes after the end
 * of the stream, this refuses them, because a conformant client never
 * sends any and the suite wants to notice one that does. */
ec_status ec_zlib_uncompress(const uint8_t *in, size_t n, uint8_t *out,
                             size_t out_cap, size_t *out_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out_len == NULL || out == NULL || (in == NULL && n > 0))
        return EC_E_ARG;
    if (n > UINT_MAX)
        return EC_E_ARG;   /* one z_stream pass takes at most UINT_MAX bytes */
    if (n == 0)
        return EC_E_ZLIB;
    /* A bigger buffer than one pass can fill is simply used up to UINT_MAX. */
    uInt usable_cap = out_cap > UINT_MAX ? UINT_MAX : (uInt)out_cap;

    z_stream stream = {0};
    stream.next_in = (Bytef *)(uintptr_t)in;   /* zlib never writes input */
    stream.avail_in = (uInt)n;
    int rc = inflateInit(&stream);
    if (rc != Z_OK)
        return rc == Z_MEM_ERROR ? EC_E_NOMEM : EC_E_ZLIB;
    stream.next_out = out;
    stream.avail_out = usable_cap;

    ec_status status;
    rc = inflate(&stream, Z_FINISH);
    size_t produced = usable_cap - stream.avail_out;
    if (rc == Z_STREAM_END)
        status = EC_OK;
    else if (rc == Z_MEM_ERROR)
        status = EC_E_NOMEM;
    else if ((rc == Z_BUF_ERROR || rc == Z_OK) && stream.avail_out == 0)
        status = zlib_probe_rest(&stream);
    else
        status = EC_E_ZLIB;   /* corrupt, truncated, or needs a dictionary */
    if (status == EC_OK && stream.avail_in != 0)
        status = EC_E_ZLIB;   /* bytes after the end of the stream */
    inflateEnd(&stream);
    if (status != EC_OK)
        return status;
    *out_len = produced;
    return EC_OK;
}
