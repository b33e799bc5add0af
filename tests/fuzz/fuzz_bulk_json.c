/* libFuzzer target: the application step — input/bulk, input/post and the
 * legacy JSON — on an arbitrary plaintext. */
#include <stdint.h>
#include <stdlib.h>

#include "emoncrypt/plaintext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    for (int api = EC_API_POST; api <= EC_API_BULK; api++) {
        ec_params p;
        ec_params_init(&p);
        if (ec_params_parse_emoncms(&p, (const char *)data, size) == EC_OK) {
            ec_dataset d;
            ec_dataset_init(&d);
            ec_app_result r;
            /* Rows before a bad one may already be stored, as in Emoncms,
             * so only memory safety is checked here. */
            (void)ec_app_run((ec_api)api, &p, NULL, 1700000000, 32, &d, &r);
            ec_dataset_free(&d);
        }
        ec_params_free(&p);
    }
    ec_dataset d;
    ec_dataset_init(&d);
    ec_app_result r;
    (void)ec_app_run_legacy((const char *)data, size, &d, &r);
    ec_dataset_free(&d);
    return 0;
}
