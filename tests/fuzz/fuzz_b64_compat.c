/* libFuzzer target: the Emoncms-compatible decoder accepts everything; it
 * must stay in bounds and its output length must be exactly what PHP's
 * algorithm gives: 3/4 of the alphabet characters it kept, rounded down. */
#include <stdint.h>
#include <stdlib.h>

#include "emoncrypt/codec.h"

static int in_alphabet(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '-' || c == '_';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    size_t kept = 0;
    for (size_t i = 0; i < size; i++)
        kept += in_alphabet(data[i]);
    size_t cap = ec_b64_decoded_max(size) + 1;
    uint8_t *out = malloc(cap);
    if (!out)
        return 0;
    size_t n = 0;
    if (ec_b64_decode_compat((const char *)data, size, out, cap, &n) != EC_OK)
        abort();
    if (n != kept * 3 / 4)
        abort();
    free(out);
    return 0;
}
