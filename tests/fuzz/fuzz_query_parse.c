/* libFuzzer target: both key=value parsers (Emoncms's explode split of the
 * plaintext and PHP-style URL query parsing) on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "emoncrypt/plaintext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    ec_params p;
    ec_params_init(&p);
    if (ec_params_parse_emoncms(&p, (const char *)data, size) == EC_OK) {
        /* explode() keeps only pieces with exactly one '=': no more pairs
         * than '&'-separated pieces. */
        size_t pieces = 1;
        for (size_t i = 0; i < size; i++)
            pieces += data[i] == '&';
        if (p.n > pieces)
            abort();
    }
    ec_params_free(&p);
    ec_params_init(&p);
    (void)ec_params_parse_query(&p, (const char *)data, size);
    ec_params_free(&p);
    return 0;
}
