/* libFuzzer target: the strict base64 decoder must never read or write out
 * of bounds, and what it accepts must re-encode to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emoncrypt/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    uint8_t *out = malloc(ec_b64_decoded_max(size) + 1);
    if (!out)
        return 0;
    for (int alpha = EC_B64_URL; alpha <= EC_B64_STD; alpha++) {
        size_t n = 0;
        ec_b64_fault fault;
        ec_status st = ec_b64_decode_strict((const char *)data, size, (ec_b64_alphabet)alpha,
                                            out, ec_b64_decoded_max(size) + 1, &n, &fault);
        if (st != EC_OK) {
            if (fault.offset > size)
                abort(); /* a fault must point inside (or at the end of) the input */
            continue;
        }
        /* Canonical by construction: re-encoding gives the input back, with
         * or without its padding. */
        int padded = size > 0 && data[size - 1] == '=';
        char *text = malloc(ec_b64_encoded_len(n, padded) + 1);
        size_t tn = 0;
        if (text && ec_b64_encode(out, n, (ec_b64_alphabet)alpha, padded, text,
                                  ec_b64_encoded_len(n, padded) + 1, &tn) == EC_OK) {
            if (tn != size || memcmp(text, data, size) != 0)
                abort();
        }
        free(text);
    }
    free(out);
    return 0;
}
