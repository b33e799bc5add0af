/* A program outside the project that uses the installed harness library
 * (libemoncrypt-harness, emoncrypt::harness): a request built with the
 * codec library is answered by the reference server's core, and the answer
 * is the request's ack.  Built by ctest install/consumer. */
#include <emoncrypt/emoncrypt.h>
#include <stdio.h>
#include <string.h>

#include "consumer_request.h"

static int lookup(void *ctx, const char *userid, const char *username, uint8_t key[EC_KEY_LEN])
{
    (void)ctx;
    (void)username;
    if (userid == NULL || strcmp(userid, "1") != 0)
        return -1;
    return ec_key_from_hex(CONSUMER_KEY, key) == EC_OK ? 0 : -1;
}

int main(void)
{
    ec_request r;
    ec_request_init(&r);
    if (consumer_request(&r) != EC_OK)
        return 1;
    ec_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.lookup = lookup;
    cfg.now = 1700000000;
    ec_http_request hr = {"POST", r.path, NULL, r.content_type, r.authorization,
                          (const uint8_t *)r.body, r.body_len};
    ec_answer a;
    ec_answer_init(&a);
    ec_ack_check c;
    memset(&c, 0, sizeof c);
    int ok = ec_server_answer(&cfg, &hr, &a) == EC_OK && a.fault == EC_OK && a.rows.n == 2;
    if (ok)
        ec_ack_verify(&r, a.http_status, a.answer, a.answer_len, 1, &c);
    ok = ok && c.ok;
    if (!ok)
        fprintf(stderr, "answer %d %s, %zu rows\n", a.http_status, a.answer ? a.answer : "", a.rows.n);
    ec_answer_free(&a);
    ec_request_free(&r);
    if (!ok)
        return 1;
    puts("installed libemoncrypt-harness works");
    return 0;
}
