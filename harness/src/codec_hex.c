/* see codec.h — hex encoding and the write API key parser. */
#include "emoncrypt/codec.h"

#include <string.h>

static ec_status hex_encode_with(const uint8_t *in, size_t n, char *out,
                                 size_t out_cap, const char digits[16])
{
    if (out == NULL || (in == NULL && n > 0))
        return EC_E_ARG;
    /* 2n + 1 must neither overflow nor exceed the caller's buffer. */
    if (n > (SIZE_MAX - 1) / 2 || out_cap < 2 * n + 1)
        return EC_E_BUFFER;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
    return EC_OK;
}

/* see codec.h */
ec_status ec_hex_encode(const uint8_t *in, size_t n, char *out, size_t out_cap)
{
    return hex_encode_with(in, n, out, out_cap, "0123456789abcdef");
}

/* see codec.h */
ec_status ec_hex_encode_upper(const uint8_t *in, size_t n, char *out, size_t out_cap)
{
    return hex_encode_with(in, n, out, out_cap, "0123456789ABCDEF");
}

/* Value of one hex digit, or -1.  Written out rather than with isxdigit()
 * so that the locale can never widen what counts as a digit. */
static int hex_digit_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* see codec.h */
ec_status ec_hex_decode(const char *in, size_t n, uint8_t *out, size_t out_cap,
                        size_t *out_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out_len == NULL || out == NULL || (in == NULL && n > 0))
        return EC_E_ARG;
    if (n % 2 != 0)
        return EC_E_HEX;
    if (out_cap < n / 2)
        return EC_E_BUFFER;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_digit_value((unsigned char)in[2 * i]);
        int lo = hex_digit_value((unsigned char)in[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            /* Half-decoded key material must not stay behind. */
            ec_wipe(out, i);
            return EC_E_HEX;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = n / 2;
    return EC_OK;
}

/* see codec.h */
ec_status ec_key_from_hex(const char *hex, uint8_t key[EC_KEY_LEN])
{
    if (hex == NULL || key == NULL)
        return EC_E_ARG;
    /* strnlen: a key longer than 32 digits is wrong however long it is. */
    if (strnlen(hex, 2 * EC_KEY_LEN + 1) != 2 * EC_KEY_LEN)
        return EC_E_KEY;
    size_t key_len = 0;
    if (ec_hex_decode(hex, 2 * EC_KEY_LEN, key, EC_KEY_LEN, &key_len) != EC_OK)
        return EC_E_KEY;
    return EC_OK;
}
