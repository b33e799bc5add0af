/* libFuzzer target: the server-side request verifier (SPEC §4/§6) on
 * arbitrary headers and bodies, in both profiles compat and strict.  The
 * input is split into fields at 0xff bytes: method, path, query,
 * content-type, authorization, body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emoncrypt/message.h"

static const uint8_t fuzz_key[EC_KEY_LEN] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                             0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

static int lookup(void *ctx, const char *userid, const char *username, uint8_t key[EC_KEY_LEN])
{
    (void)ctx;
    if ((userid && strcmp(userid, "1") == 0) || (username && strcmp(username, "alice") == 0)) {
        memcpy(key, fuzz_key, EC_KEY_LEN);
        return 0;
    }
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 18)
        return 0;
    char *fields[5] = {0};
    size_t start = 0, f = 0;
    for (size_t i = 0; i <= size && f < 5; i++) {
        if (i == size || data[i] == 0xff) {
            fields[f] = strndup((const char *)data + start, i - start);
            f++;
            start = i + 1;
        }
    }
    const uint8_t *body = start <= size ? data + start : data + size;
    size_t body_len = start <= size ? size - start : 0;

    for (int strict = 0; strict <= 1; strict++) {
        ec_server_config cfg = {lookup, NULL, strict, 1700000000, 1 << 16, 32};
        ec_http_request req = {
            fields[0] ? fields[0] : "POST",
            fields[1] ? fields[1] : "/input/post",
            fields[2],
            fields[3],
            fields[4],
            body,
            body_len,
        };
        ec_answer a;
        ec_answer_init(&a);
        if (ec_server_answer(&cfg, &req, &a) == EC_OK) {
            if (a.answer == NULL || a.http_status < 100 || a.http_status > 599)
                abort();
            /* Nothing is stored for a request refused before the
             * application step (SPEC §4); the application itself may have
             * stored rows before a bad one, as Emoncms does. */
            if (a.fault != EC_OK && a.fault != EC_F_APP && a.rows.n != 0)
                abort();
        }
        ec_answer_free(&a);
    }
    for (size_t i = 0; i < 5; i++)
        free(fields[i]);
    return 0;
}
