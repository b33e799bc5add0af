/* emoncrypt — the reference sender behind `emoncrypt send`: posts
 * readings as a careful device does (SPEC §7) and, for the tests, as the
 * known broken devices do.
 *
 * A good sender: a fresh CSPRNG IV for every message including every
 * resend; the ack compared with its own; anything else keeps the rows and
 * resends them later with backoff; never a row twice after an ack; never
 * the key in clear.  Bulk rows go out IoTaWatt-style:
 * time=T&data=[[dt,"node",v1,…],…] with T the batch's first timestamp.
 *
 * Mutants (test-only, `send --mutant NAME`): wire mistakes come from
 * ec_mistake bits (the same builder as every other request); behaviour
 * faults are switches in the sender loop.  Each names the check of the
 * client-role suite that must FAIL it and the scenario that shows it.
 */
#ifndef EMONCRYPT_CLIENT_SENDER_H
#define EMONCRYPT_CLIENT_SENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Behaviour faults of a mutant sender (bits). */
enum {
    EC_FAULT_IV_FIXED = 1u << 0,       /* the same IV every message */
    EC_FAULT_IV_ZERO = 1u << 1,        /* the all-zero IV */
    EC_FAULT_IV_COUNTER = 1u << 2,     /* random base, +1 per message */
    EC_FAULT_IV_TIME = 1u << 3,        /* unix time in the first 4 bytes */
    EC_FAULT_IGNORE_ACK = 1u << 4,     /* every post counts as delivered */
    EC_FAULT_ANY_200 = 1u << 5,        /* any HTTP 200 counts as delivered */
    EC_FAULT_SAME_IV_RESEND = 1u << 6, /* a resend reuses the failed post's IV */
    EC_FAULT_OUT_OF_ORDER = 1u << 7,   /* rows newest first */
    EC_FAULT_DROP_ON_FAIL = 1u << 8,   /* a failed batch is dropped, not resent */
    EC_FAULT_BEARER_SIDE = 1u << 9,    /* GET /input/get with Authorization: Bearer KEY */
    EC_FAULT_KEY_IN_QUERY = 1u << 10,  /* ?apikey=KEY on every post */
    EC_FAULT_RESEND_ACKED = 1u << 11,  /* sends each delivered batch once more */
    EC_FAULT_PAD_TO_BLOCK = 1u << 12   /* plaintext grown with '&' to a multiple of 16,
                                          so that padding mistakes always show */
};

typedef struct {
    const char *name;             /* "hmac-plus-nul" */
    unsigned mistakes;            /* ec_mistake bits */
    unsigned faults;              /* EC_FAULT_* bits */
    const char *scenario;         /* the scenario that shows the fault */
    const char *expected_check;   /* the check that must FAIL it */
    const char *what;             /* one sentence */
} ec_sender_mutant;

extern const ec_sender_mutant ec_sender_mutants[];
extern const size_t ec_sender_mutant_count;
const ec_sender_mutant *ec_sender_mutant_find(const char *name);

/* One CSV row: a unix timestamp and its values (NULL = null). */
typedef struct {
    int64_t time;
    char **values;                /* numeric text as written, or NULL */
    size_t value_count;
} ec_sender_row;

typedef struct {
    ec_sender_row *rows;
    size_t n;
} ec_sender_rows;

/* Parse "timestamp,value,value…" lines: blank lines and '#' comments are
 * skipped, so is a first line whose timestamp is not a number (a header);
 * an empty value, "null" or "nan" is null.  Returns EC_OK, EC_E_ARG (errbuf
 * names the line) or EC_E_NOMEM. */
ec_status ec_sender_rows_parse(const char *text, size_t n, ec_sender_rows *out,
                               char *errbuf, size_t errbuf_size);
void ec_sender_rows_free(ec_sender_rows *rows);

typedef struct {
    const char *url;              /* http://HOST[:PORT][/prefix][/input/post|bulk…] */
    const char *userid;
    const char *apikey_hex;       /* 32 hex digits */
    const char *username;         /* legacy profile */
    int profile;                  /* ec_profile */
    const char *node;             /* bulk: node of every row (default "emoncrypt");
                                     single: /input/post/NODE when set */
    /* What to send: one plaintext, or rows in batches. */
    const uint8_t *plaintext;
    size_t plaintext_len;
    const ec_sender_rows *rows;
    size_t rows_per_post;         /* 0 = 10 */
    int retries;                  /* resends per batch; < 0 = forever */
    unsigned interval_ms;         /* between batches */
    unsigned retry_ms;            /* first wait after a failure; doubles each time */
    unsigned max_backoff_ms;      /* cap of the doubling */
    unsigned timeout_ms;          /* per request */
    const ec_sender_mutant *mutant; /* NULL = the reference sender */
    FILE *log;                    /* one line per post; NULL = silent */
    const char *undelivered_path; /* rows left undelivered go here as CSV */
    volatile int *stop;           /* set by a signal handler: stop, keep the rest */
    /* The IVs' random source: NULL = the OS's (ec_random); test-client
     * --seed gives its self-test device ec_seeded_random_bytes. */
    void (*random)(void *ctx, uint8_t *out, size_t n);
    void *random_ctx;
} ec_sender_options;

/* A seeded random source (suites/client/seeded.c): AES-128-CTR (libcrypto)
 * keyed from SHA-256 of the seed, the same bytes for the same seed.  For
 * reproducible test runs only.  new: NULL when libcrypto or memory fails. */
typedef struct ec_seeded_random ec_seeded_random;
ec_seeded_random *ec_seeded_random_new(unsigned long long seed);
void ec_seeded_random_bytes(void *rng, uint8_t *out, size_t n);
void ec_seeded_random_free(ec_seeded_random *r);

typedef struct {
    size_t posts;                 /* requests sent (resends included) */
    size_t batches;
    size_t delivered;             /* batches acknowledged */
    size_t dropped;               /* batches a mutant dropped */
    size_t undelivered;           /* batches left when it gave up or was stopped */
    size_t resends;
    char message[256];            /* why it stopped early, "" otherwise */
} ec_sender_result;

/* Send everything.  Returns 0 when every batch was acknowledged, 1 when
 * data is left undelivered (retries exhausted or stopped), 2 on bad options
 * (result->message says which; never the key). */
int ec_sender_run(const ec_sender_options *opt, ec_sender_result *result);

#ifdef __cplusplus
}
#endif
#endif
