/* emoncrypt — the reference server as a library: Emoncms's encrypted input
 * (SPEC.md §3–§6) answered by the protocol core (ec_server_answer) over
 * the embeddable HTTP server (httpd.h), with a durable JSONL store.
 *
 * What it adds to the protocol core:
 *  - users: from arguments or a small JSON config file (ec_serve_users_load);
 *  - a store: every accepted row is appended to a JSONL file and fsync'd
 *    BEFORE the ack is sent, so an ack always means "on disk";
 *  - strict hardening the core cannot do alone: a replay cache;
 *  - limits: a body cap (413) and an idle timeout per connection;
 *  - read endpoints for the conformance suite, served to loopback
 *    clients only: GET /emoncrypt/rows?node=NODE[&userid=U] returns the
 *    stored rows as JSON, in the order stored; GET /input/get/NODE?apikey=K
 *    answers as Emoncms does (each input's last time and value), with K the
 *    user's write key (serve has no read keys).  Both see only the last
 *    rows_kept rows (a ring, so memory stays flat however long serve
 *    runs); the store file keeps every row;
 *  - mutants: deliberately broken variants selected by name, each of which
 *    the server-role suite must FAIL with a named case (ec_serve_mutants).
 *
 * Threads: the HTTP server answers on a pool of threads (one per core,
 * each polling many connections); the store and the replay cache are
 * guarded inside.
 */
#ifndef EMONCRYPT_SERVE_H
#define EMONCRYPT_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/httpd.h"
#include "emoncrypt/message.h"
#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- users --------------------------------------------------------------- */

typedef struct {
    char userid[32];            /* decimal user id, e.g. "1" */
    char username[64];          /* legacy (/input/encrypted) name, may be "" */
    uint8_t key[EC_KEY_LEN];    /* hex2bin(write apikey) */
} ec_serve_user;

typedef struct {
    ec_serve_user *items;       /* owned; free with ec_serve_users_free */
    size_t n;
} ec_serve_users;

/* Add one user.  apikey_hex must be 32 hex digits (EC_E_KEY otherwise),
 * userid a plain decimal number (EC_E_ARG otherwise); username may be NULL. */
ec_status ec_serve_users_add(ec_serve_users *u, const char *userid,
                             const char *apikey_hex, const char *username);

/* Load users from a JSON file:
 *   {"users": [{"userid": 1, "apikey": "32 hex", "username": "alice"}, …]}
 * (userid may be a number or a decimal string; username is optional).
 * Appends to u.  On error errbuf gets one sentence that never contains a
 * key.  Returns EC_OK, EC_E_IO, EC_E_JSON, EC_E_KEY or EC_E_ARG. */
ec_status ec_serve_users_load(ec_serve_users *u, const char *path,
                              char *errbuf, size_t errbuf_size);

/* Wipe the keys and free. */
void ec_serve_users_free(ec_serve_users *u);

/* The key lookup the protocol core calls (ec_key_lookup_fn), with ctx an
 * ec_serve_users.  The user id is read as Emoncms's get_apikey_write()
 * reads it, with PHP's (int) cast: leading whitespace skipped, then the
 * longest numeric prefix; nothing numeric is 0.  So "1abc", "01" and " 1"
 * are user 1, and "1e3" is user 1000.  A legacy lookup (userid NULL) is by
 * exact username. */
int ec_serve_users_lookup(void *ctx, const char *userid, const char *username,
                          uint8_t key[EC_KEY_LEN]);

/* ---- mutants ------------------------------------------------------------- */

/* What a mutant's hook may use to answer: the real core's configuration. */
typedef struct {
    const ec_server_config *core;   /* lookup, strict, now, limits */
} ec_serve_mutant_env;

/* A mutant answers in place of the protocol core.  Most call
 * ec_server_answer themselves, on a changed request or with the answer
 * changed afterwards, so each differs from the reference in one way. */
typedef ec_status (*ec_serve_mutant_hook)(const ec_serve_mutant_env *env,
                                          const ec_http_request *req,
                                          ec_answer *a);

typedef struct {
    const char *name;            /* "ack-hex" (the --mutant NAME) */
    const char *catching_case;   /* the server-suite case id that must FAIL */
    const char *description;     /* one sentence: what is broken */
    int suite_strict;            /* 1: the suite must run with --strict to
                                    catch it (the mutant is a strict server) */
    int serve_strict;            /* 1: the mutant runs in strict mode */
    int no_replay_cache;         /* 1: strict without the replay cache */
    ec_serve_mutant_hook hook;   /* NULL: only the flags above differ */
} ec_serve_mutant;

/* The table of mutants (serve_mutants.c); *count gets its length. */
const ec_serve_mutant *ec_serve_mutants(size_t *count);
/* Emulations (issue 11): the reference server with a limit a real
 * Emoncms account has (account-node-limit: 32 node ids per account;
 * float-store: values kept as FLOAT, read back with 6 digits).  They have
 * no catching case: the suite must give them 0 FAIL, run after run. */
const ec_serve_mutant *ec_serve_emulations(size_t *count);
/* The mutant or emulation named name, or NULL. */
const ec_serve_mutant *ec_serve_mutant_find(const char *name);

/* ---- the server ---------------------------------------------------------- */

typedef struct {
    const char *listen;             /* "127.0.0.1:PORT", PORT 0 = any free one;
                                       NULL = "127.0.0.1:8080" */
    const ec_serve_users *users;    /* required, borrowed for the server's life */
    const char *store_path;         /* JSONL file appended to, or NULL = memory only */
    int strict;                     /* 0 = compat (as Emoncms), 1 = hardened */
    size_t max_body;                /* 413 above; 0 = 262144 (256 KiB) */
    unsigned idle_timeout_s;        /* per-connection inactivity; 0 = 1 s */
    size_t replay_cache_size;       /* strict: remembered requests; 0 = 4096 */
    int rows_endpoint;              /* 1 = serve the read endpoints to loopback */
    const char *mutant;             /* NULL, or a name of ec_serve_mutants() */
    FILE *log;                      /* one line per request, or NULL; never
                                       contains a key.  Buffered: written at
                                       least every 250 ms and at stop */
    size_t rows_kept;               /* rows the read endpoints can see (the
                                       newest); 0 = 4096 */
    /* Fault injection for tests: the store's write(2) and its sync, NULL =
     * the real ones (write, fdatasync).  A failed write or sync is
     * answered 500 (the device resends) and the file is cut back (below). */
    ssize_t (*store_write)(int fd, const void *buf, size_t n);
    int (*store_fsync)(int fd);
} ec_serve_config;

typedef struct ec_serve ec_serve;

/* The store (store_path): acked => on disk.  Every row of a post is
 * written and synced (fdatasync) before its ack; posts written while a
 * sync runs share the next one (group commit).  A write or sync that fails
 * (ENOSPC, EIO) gets a 500 and no ack for every post it would have covered,
 * and the file is truncated back to the end of its last complete (after a
 * failed sync: last synced) row.  On start the file is read back (the read
 * endpoints serve its newest rows_kept rows again); a torn last line (a
 * crash mid-write) is cut off, and the log says so. */

/* Start serving.  On failure *out is NULL, errbuf (when given) gets one
 * sentence, and EC_E_ARG (bad config, unknown mutant), EC_E_IO (cannot
 * bind, cannot open the store) or EC_E_NOMEM is returned. */
ec_status ec_serve_start(const ec_serve_config *cfg, ec_serve **out,
                         char *errbuf, size_t errbuf_size);

/* The port bound (useful with PORT 0). */
unsigned ec_serve_port(const ec_serve *s);

/* "http://127.0.0.1:PORT" into buf; returns buf. */
const char *ec_serve_base_url(const ec_serve *s, char *buf, size_t size);

/* One request straight to serve's handler on the caller's thread, without
 * a socket (see ec_httpd_call): for in-process fuzzing and tests.  Start
 * serve with listen = EC_HTTPD_IN_PROCESS to open no socket at all. */
ec_status ec_serve_call(ec_serve *s, const ec_httpd_request *req, ec_httpd_result *out)
    __attribute__((warn_unused_result));

/* Requests answered and rows stored so far (all of them, also those the
 * read endpoints no longer see). */
void ec_serve_stats(ec_serve *s, uint64_t *requests, uint64_t *accepted,
                    uint64_t *rows_stored);

/* Async-signal-safe: ask held replies to end (see ec_httpd_interrupt). */
void ec_serve_interrupt(ec_serve *s);

/* Close every connection, flush and close the store, free.  NULL ignored. */
void ec_serve_stop(ec_serve *s);

#ifdef __cplusplus
}
#endif
#endif
