/* The one correct post the server tests send (serve, the mock, the store):
 * aes128cbc to /input/post for user 1, a fresh random IV.  Header-only:
 * each test executable is one translation unit. */
#ifndef EMONCRYPT_POST_SUPPORT_H
#define EMONCRYPT_POST_SUPPORT_H

#include <stdint.h>
#include <string.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"

/* Build it into r (initialised here; free with ec_request_free).  Returns
 * EC_OK or the failing call's status. */
static inline ec_status ps_correct_post(const char *key_hex, const char *plaintext, ec_request *r)
{
    ec_request_params p;
    memset(&p, 0, sizeof p);
    p.profile = EC_PROFILE_AES128CBC;
    p.endpoint = EC_ENDPOINT_POST;
    p.userid = "1";
    p.plaintext = (const uint8_t *)plaintext;
    p.plaintext_len = strlen(plaintext);
    ec_request_init(r);
    ec_status st = ec_key_from_hex(key_hex, p.key);
    if (st == EC_OK)
        st = ec_random(p.iv, sizeof p.iv);
    if (st == EC_OK)
        st = ec_request_build(&p, r);
    ec_wipe(p.key, sizeof p.key);
    return st;
}

#endif
