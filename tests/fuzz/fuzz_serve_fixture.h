/* The two reference servers (compat, strict) that the serve fuzz targets
 * feed: fuzz_serve_handler over loopback, fuzz_serve_inproc without a
 * socket (listen = EC_HTTPD_IN_PROCESS).  Started on the first input,
 * stopped at exit.  Memory-only store: an fsync on a busy disk can take
 * seconds, which would read as a hang (the store's durability is
 * tests/test_store_*.c's subject). */
#ifndef EMONCRYPT_FUZZ_SERVE_FIXTURE_H
#define EMONCRYPT_FUZZ_SERVE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emoncrypt/serve.h"

#define FUZZ_KEY "0123456789abcdef0123456789abcdef"

static ec_serve_users fuzz_users;
static ec_serve *fuzz_servers[2]; /* compat, strict */

static inline void fuzz_stop_servers(void)
{
    for (int i = 0; i < 2; i++) {
        ec_serve_stop(fuzz_servers[i]);
        fuzz_servers[i] = NULL;
    }
    ec_serve_users_free(&fuzz_users);
}

static inline void fuzz_start_servers(const char *listen, const char *target)
{
    if (ec_serve_users_add(&fuzz_users, "1", FUZZ_KEY, "emonuser") != EC_OK ||
        ec_serve_users_add(&fuzz_users, "42", FUZZ_KEY, NULL) != EC_OK)
        abort();
    for (int strict = 0; strict <= 1; strict++) {
        ec_serve_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.listen = listen;
        cfg.users = &fuzz_users;
        cfg.store_path = NULL;
        cfg.strict = strict;
        cfg.max_body = 16384; /* below -max_len, so 413 is reached */
        cfg.idle_timeout_s = 2;
        cfg.replay_cache_size = 256;
        cfg.rows_endpoint = 1;
        /* A small ring: once full, a stored row frees the oldest, so an
         * input allocates no more than it frees and libFuzzer's per-input
         * leak check does not scan the heap for every accepted post. */
        cfg.rows_kept = 64;
        char err[256];
        if (ec_serve_start(&cfg, &fuzz_servers[strict], err, sizeof err) != EC_OK) {
            fprintf(stderr, "%s: %s\n", target, err);
            abort();
        }
    }
    atexit(fuzz_stop_servers);
}

#endif
