/* The one request both consumers (consumer.c, consumer_harness.c) build:
 * SPEC §8's reference plaintext for user 1 under the vectors' key, with
 * the IV 00 01 … 0f. */
#ifndef CONSUMER_REQUEST_H
#define CONSUMER_REQUEST_H
#include <emoncrypt/codec.h>
#include <emoncrypt/message.h>
#include <string.h>

#define CONSUMER_KEY "0123456789abcdef0123456789abcdef"
#define CONSUMER_PLAINTEXT "node=emontx&fulljson={\"power1\":100,\"power2\":200}"

/* Builds the request into r (ec_request_init'd by the caller); EC_OK or why not. */
static inline ec_status consumer_request(ec_request *r)
{
    ec_request_params p;
    memset(&p, 0, sizeof p);
    p.profile = EC_PROFILE_AES128CBC;
    p.endpoint = EC_ENDPOINT_POST;
    p.userid = "1";
    p.plaintext = (const uint8_t *)CONSUMER_PLAINTEXT;
    p.plaintext_len = strlen(CONSUMER_PLAINTEXT);
    for (int i = 0; i < EC_IV_LEN; i++)
        p.iv[i] = (uint8_t)i;
    ec_status st = ec_key_from_hex(CONSUMER_KEY, p.key);
    return st != EC_OK ? st : ec_request_build(&p, r);
}
#endif
