/* see codec.h — base64 (RFC 4648) written by hand: the strict decoder is
 * what a careful server runs, the compat decoder is what Emoncms runs. */
#include "emoncrypt/codec.h"

static const char b64_std_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Sextet value of each byte, or -1: one table per alphabet, so decoding
 * is a load per character (the 87 KB vector's body used to spend most of
 * its verification time in a chain of range compares).  Only one
 * alphabet's 62 and 63 count in the strict tables, which is what makes
 * the strict decoder strict; the compat table takes both, because
 * Emoncms's str_replace turns '-' into '+' and '_' into '/' before PHP
 * decodes.  Generated from the digit strings above. */
static const signed char b64_std_values[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};
static const signed char b64_url_values[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};
static const signed char b64_compat_values[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, 62, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* Sextet value of c in the given alphabet, or -1. */
static inline int b64_value(unsigned char c, ec_b64_alphabet alpha)
{
    return (alpha == EC_B64_URL ? b64_url_values : b64_std_values)[c];
}

/* Sextet value as Emoncms sees it (both spellings of 62 and 63). */
static inline int b64_compat_value(unsigned char c)
{
    return b64_compat_values[c];
}

/* see codec.h */
size_t ec_b64_encoded_len(size_t n, int with_padding)
{
    if (n / 3 > SIZE_MAX / 4 - 1)
        return SIZE_MAX;   /* cannot be represented; no buffer is that big */
    size_t full = (n / 3) * 4;
    size_t rest = n % 3;
    if (rest == 0)
        return full;
    return full + (with_padding ? 4 : rest + 1);
}

/* see codec.h */
size_t ec_b64_decoded_max(size_t n)
{
    /* Every 4 characters give 3 bytes; 2 give 1, 3 give 2, 1 gives none. */
    return (n / 4) * 3 + ((n % 4) * 6) / 8;
}

/* see codec.h */
ec_status ec_b64_encode(const uint8_t *in, size_t n, ec_b64_alphabet alpha,
                        int with_padding, char *out, size_t out_cap,
                        size_t *out_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out_len == NULL || out == NULL || (in == NULL && n > 0))
        return EC_E_ARG;
    if (alpha != EC_B64_URL && alpha != EC_B64_STD)
        return EC_E_ARG;
    size_t need = ec_b64_encoded_len(n, with_padding);
    if (need == SIZE_MAX || out_cap < need + 1)
        return EC_E_BUFFER;

    const char *digits = alpha == EC_B64_URL ? b64_url_digits : b64_std_digits;
    size_t o = 0;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t group = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = digits[group >> 18 & 63];
        out[o++] = digits[group >> 12 & 63];
        out[o++] = digits[group >> 6 & 63];
        out[o++] = digits[group & 63];
    }
    if (n - i == 1) {
        out[o++] = digits[in[i] >> 2];
        out[o++] = digits[(in[i] & 0x03) << 4];
        if (with_padding) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        out[o++] = digits[in[i] >> 2];
        out[o++] = digits[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
        out[o++] = digits[(in[i + 1] & 0x0f) << 2];
        if (with_padding)
            out[o++] = '=';
    }
    out[o] = '\0';
    *out_len = o;
    return EC_OK;
}

/* Record a fault (when the caller asked for it) and return its status. */
static ec_status b64_fail(ec_b64_fault *fault, ec_status status,
                          const char *in, size_t n, size_t offset)
{
    if (fault != NULL) {
        fault->status = status;
        fault->offset = offset;
        fault->ch = (in != NULL && offset < n) ? (unsigned char)in[offset] : -1;
    }
    return status;
}

/* A byte where padding should be, or after it: a byte that is no base64 at
 * all (a CR, a space) is named as such; '=' or an alphabet character there
 * is a padding fault. */
static ec_status after_padding_fault(const char *in, size_t n, size_t at, ec_b64_alphabet alpha)
{
    if (at >= n || in[at] == '=' || b64_value((unsigned char)in[at], alpha) >= 0)
        return EC_E_B64_PAD;
    return EC_E_B64_CHAR;
}

/* see codec.h
 *
 * Faults are found in input order, so the one reported is the first:
 * a foreign character among the data; a dangling single character (4n+1
 * data characters, padded or not); '=' where no padding can be (after 4n
 * data characters); non-zero unused bits in the last data character;
 * then too little padding, or anything at all after the padding (named
 * b64-char when that byte is no base64 character at all). */

ec_status ec_b64_decode_strict(const char *in, size_t n, ec_b64_alphabet alpha,
                               uint8_t *out, size_t out_cap, size_t *out_len,
                               ec_b64_fault *fault)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out_len == NULL || out == NULL || (in == NULL && n > 0) ||
        (alpha != EC_B64_URL && alpha != EC_B64_STD))
        return b64_fail(fault, EC_E_ARG, in, n, 0);
    if (n == 0)
        return b64_fail(fault, EC_E_B64_EMPTY, in, n, 0);

    /* data_len: the characters before the first '=' (or all of them). */
    size_t data_len = 0;
    while (data_len < n && in[data_len] != '=') {
        if (b64_value((unsigned char)in[data_len], alpha) < 0)
            return b64_fail(fault, EC_E_B64_CHAR, in, n, data_len);
        data_len++;
    }
    int has_padding = data_len < n;

    if (data_len % 4 == 1)
        return b64_fail(fault, EC_E_B64_LENGTH, in, n, data_len - 1);
    if (has_padding && data_len % 4 == 0)
        return b64_fail(fault, EC_E_B64_PAD, in, n, data_len);
    if (data_len % 4 != 0) {
        /* The last character carries 4 (xx) or 2 (xxx) bits nobody reads;
         * a canonical encoder leaves them zero. */
        int last = b64_value((unsigned char)in[data_len - 1], alpha);
        int unused_mask = data_len % 4 == 2 ? 0x0f : 0x03;
        if ((last & unused_mask) != 0)
            return b64_fail(fault, EC_E_B64_BITS, in, n, data_len - 1);
    }
    if (has_padding) {
        size_t pad_len = 4 - data_len % 4;
        for (size_t k = 0; k < pad_len; k++) {
            size_t at = data_len + k;
            if (at >= n || in[at] != '=')
                return b64_fail(fault, after_padding_fault(in, n, at, alpha), in, n, at);
        }
        if (data_len + pad_len < n)
            return b64_fail(fault, after_padding_fault(in, n, data_len + pad_len, alpha), in, n,
                            data_len + pad_len);
    }

    size_t decoded_len = ec_b64_decoded_max(data_len);
    if (out_cap < decoded_len)
        return b64_fail(fault, EC_E_BUFFER, in, n, 0);

    /* Every character is known good here: whole quads first, four
     * sextets into three bytes at a time, then the 2 or 3 left over. */
    const signed char *values = alpha == EC_B64_URL ? b64_url_values : b64_std_values;
    const unsigned char *u = (const unsigned char *)in;
    size_t o = 0, i = 0;
    for (; i + 4 <= data_len; i += 4) {
        uint32_t quad = (uint32_t)values[u[i]] << 18 | (uint32_t)values[u[i + 1]] << 12 |
                        (uint32_t)values[u[i + 2]] << 6 | (uint32_t)values[u[i + 3]];
        out[o++] = (uint8_t)(quad >> 16);
        out[o++] = (uint8_t)(quad >> 8);
        out[o++] = (uint8_t)quad;
    }
    uint32_t bits = 0;
    unsigned bit_count = 0;
    for (; i < data_len; i++) {
        bits = bits << 6 | (uint32_t)values[u[i]];
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            out[o++] = (uint8_t)(bits >> bit_count);
        }
    }
    *out_len = o;
    if (fault != NULL) {
        fault->status = EC_OK;
        fault->offset = n;
        fault->ch = -1;
    }
    return EC_OK;
}

/* see codec.h
 *
 * PHP's non-strict loop, restated: '=' is skipped wherever it is, so is
 * every byte outside the alphabet; the sextets of the rest are packed
 * into bytes and a final incomplete byte (a lone sextet, or the low bits
 * of the last character) is dropped.  The first pass only counts, so an
 * undersized buffer is reported before a single byte is written. */
ec_status ec_b64_decode_compat(const char *in, size_t n, uint8_t *out,
                               size_t out_cap, size_t *out_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out_len == NULL || out == NULL || (in == NULL && n > 0))
        return EC_E_ARG;

    size_t sextets = 0;
    for (size_t i = 0; i < n; i++)
        if (b64_compat_value((unsigned char)in[i]) >= 0)
            sextets++;
    if (out_cap < ec_b64_decoded_max(sextets))
        return EC_E_BUFFER;

    const unsigned char *u = (const unsigned char *)in;
    uint32_t bits = 0;
    unsigned bit_count = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        /* Fast path: at a byte boundary (bit_count 0), four good characters
         * in a row are three bytes; anything else goes one by one. */
        if (bit_count == 0 && i + 4 <= n) {
            int a = b64_compat_values[u[i]], b = b64_compat_values[u[i + 1]],
                c = b64_compat_values[u[i + 2]], d = b64_compat_values[u[i + 3]];
            if ((a | b | c | d) >= 0) {
                uint32_t quad = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 |
                                (uint32_t)d;
                out[o++] = (uint8_t)(quad >> 16);
                out[o++] = (uint8_t)(quad >> 8);
                out[o++] = (uint8_t)quad;
                i += 3;
                continue;
            }
        }
        int v = b64_compat_value(u[i]);
        if (v < 0)
            continue;
        bits = bits << 6 | (uint32_t)v;
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            out[o++] = (uint8_t)(bits >> bit_count);
        }
    }
    *out_len = o;
    return EC_OK;
}
