/* libFuzzer target: the reference server's request handler and protocol
 * core (serve.h) in this process, without a socket: each input is one
 * request view (format: fuzz_inproc.h; bit 1 of byte 0 picks the strict
 * server instead of the compat one) given to ec_serve_call.  Every request
 * must get a status from 100 to 599, played at once (serve never holds a
 * reply), and the write key is never in an answer that did not have it in
 * its request.  fuzz_serve_handler drives the same server over loopback. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emoncrypt/serve.h"
#include "fuzz_http.h"
#include "fuzz_inproc.h"

#define FUZZ_KEY "0123456789abcdef0123456789abcdef"

static ec_serve_users users;
static ec_serve *servers[2]; /* compat, strict */

static void stop_servers(void)
{
    for (int i = 0; i < 2; i++) {
        ec_serve_stop(servers[i]);
        servers[i] = NULL;
    }
    ec_serve_users_free(&users);
}

static void start_servers(void)
{
    if (ec_serve_users_add(&users, "1", FUZZ_KEY, "emonuser") != EC_OK ||
        ec_serve_users_add(&users, "42", FUZZ_KEY, NULL) != EC_OK)
        abort();
    for (int strict = 0; strict <= 1; strict++) {
        ec_serve_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.listen = EC_HTTPD_IN_PROCESS;
        cfg.users = &users;
        cfg.store_path = NULL; /* memory only: the store is test_store_*'s */
        cfg.strict = strict;
        cfg.max_body = 16384;
        cfg.replay_cache_size = 256;
        cfg.rows_endpoint = 1;
        char err[256];
        if (ec_serve_start(&cfg, &servers[strict], err, sizeof err) != EC_OK) {
            fprintf(stderr, "fuzz_serve_inproc: %s\n", err);
            abort();
        }
    }
    atexit(stop_servers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    if (!servers[0])
        start_servers();
    fuzz_inproc_input in;
    if (fuzz_inproc_make(data, size, &in) != 0)
        return 0;
    ec_httpd_result out;
    if (ec_serve_call(servers[(data[0] >> 1) & 1], &in.req, &out) != EC_OK) {
        fprintf(stderr, "fuzz_serve_inproc: ec_serve_call failed\n");
        abort();
    }
    if (out.status < 100 || out.status > 599 || out.script != EC_HTTPD_NORMAL) {
        fprintf(stderr, "fuzz_serve_inproc: answered %u (script %d)\n", out.status,
                (int)out.script);
        abort();
    }
    if ((strstr(out.headers, FUZZ_KEY) || fuzz_http_contains(out.body, out.body_len, FUZZ_KEY)) &&
        !fuzz_http_contains(data, size, FUZZ_KEY))
        abort();
    ec_httpd_result_free(&out);
    fuzz_inproc_free(&in);
    return 0;
}
