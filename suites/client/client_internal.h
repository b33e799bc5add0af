/* emoncrypt — what the client-role suite's files share: the record of one
 * received request, the run, and the check table's row type.  Not public:
 * the CLI and the tests use client_suite.h. */
#ifndef EMONCRYPT_CLIENT_INTERNAL_H
#define EMONCRYPT_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "client/client_suite.h"
#include "emoncrypt/capture.h"
#include "emoncrypt/diagnose.h"
#include "emoncrypt/httpd.h"
#include "emoncrypt/message.h"
#include "emoncrypt/report.h"

/* One row of data as the audit compares them across posts: the first 8
 * bytes of the SHA-256 of its "time|node|name|value" identity (a run of a
 * million rows has a chance of about 3e-8 that two different rows share
 * one), so a kept row costs 16 bytes whatever its text. */
typedef struct {
    uint64_t digest;
    int64_t time;
} cs_row;

/* One check's outcome for one request, or for the whole run. */
typedef struct {
    ec_verdict verdict;           /* EC_VERDICT_SKIP = not applicable */
    char message[512];
    char expected[160];
    char actual[160];
} cs_outcome;

/* Everything recorded about one request the mock received. */
typedef struct {
    size_t seq;                   /* 1-based arrival order */
    double arrival;               /* Unix seconds */
    uint64_t connection;
    char *method, *path, *query;
    ec_capture_header *headers;
    size_t header_count;
    uint8_t *body;
    size_t body_len;

    int is_post;                  /* an attempt at the encrypted input
                                     (POST, or anything to /input/post|bulk|encrypted) */
    ec_diagnosis diag;            /* the shared logic's verdict + mistakes */
    int accepted;                 /* diag.answer.fault == EC_OK */
    int has_iv;
    uint8_t iv[EC_IV_LEN];
    cs_row *rows;                 /* what it carries (accepted posts only) */
    size_t row_count;
    int absolute_time;            /* rows carry sender-chosen times */
    int weak_identity;            /* no time at all: the post's text is its
                                     identity (see mock.c record_rows) */
    char time_mode[48];           /* "bulk time=T" …, for the INFO line */

    int scenario;                 /* index in the run's scenario list, -1 none */
    int step;                     /* its step; step_count = the observation post */
    const ec_scripted_reply *script;  /* NULL = answered by the shared logic */
    unsigned reply_status;
    int reply_is_ack;             /* the answer was the correct ack */
    unsigned retry_after_s;
    int client_gone;              /* the device left before the answer was complete */

    /* Outcomes of the per-request checks, indexed like the check table
     * (the suite's one buffer: a request is judged, logged, captured and
     * folded into the run's aggregates before the next one). */
    cs_outcome *outcomes;
} cs_request;

/* What the audit keeps of one request once it has been answered: no
 * header, body or outcome, only what the checks across requests read. */
typedef struct {
    size_t seq;
    double arrival;
    uint64_t connection;
    unsigned char is_post, accepted, has_iv, absolute_time, weak_identity, reply_is_ack,
        client_gone;
    uint8_t iv[EC_IV_LEN];
    cs_row *rows;
    size_t row_count;
    int scenario, step;
    const ec_scripted_reply *script;
    unsigned reply_status;
    unsigned retry_after_s;
    int done;                     /* its answer is over: client_gone is final */
} cs_post;

/* A settled post the audit still needs: one that was not delivered (is it
 * resent?) or a scenario's scripted step (its verdict), with the first
 * later accepted post that carried one of its rows. */
typedef struct {
    cs_post post;                 /* rows freed once the resend is found */
    int undelivered;              /* accepted, with rows, not delivered */
    int scripted;                 /* 0 <= step < the scenario's step_count */
    int found;
    size_t p_seq;                 /* the resend: */
    double p_arrival;
    int p_has_iv;
    uint8_t p_iv[EC_IV_LEN];
} cs_watch;

/* What the checks across posts keep, fed each post once it is settled
 * (its answer over), in arrival order (c7_settle). */
typedef struct {
    /* the rows of delivered posts: digest and the post (one entry per
     * delivered row, so a post's rows can be counted again) */
    uint64_t *acked_digest;
    uint32_t *acked_seq;          /* 0 = empty slot */
    size_t acked_cap, acked_n;
    /* client/7.time/never-backwards */
    size_t nb_posts, nb_bad, nb_first;
    long long nb_got;
    int nb_have_max;
    int64_t nb_max;
    /* client/7.ack/no-duplicates */
    size_t nd_posts, nd_dups, nd_weak, nd_first, nd_orig, nd_shared;
    /* resends and scenarios */
    cs_watch *watch;
    size_t watch_n, watch_cap;
    size_t last_accepted;         /* seq of the last accepted post, 0 none */
    /* c7_time_needed: gaps between consecutive accepted posts */
    double *after_ack, *after_fail;
    size_t n_ack, n_fail, cap_ack, cap_fail, accepted_posts;
    int have_prev;
    double prev_arrival;
    int prev_delivered;
    /* per scenario of the run list */
    size_t *sc_posts, *sc_steps;
    int *sc_observed;
} cs_history;

/* A per-request check's result so far: its worst outcome, the first
 * request that had it, and how many requests it judged. */
typedef struct {
    size_t judged, worst_count;
    int have;
    cs_outcome worst;
    size_t seq;
    char label[160];
    char sent[256];
} cs_aggregate;

/* A malformed connection (client/3.http/well-formed FAILs one row each). */
typedef struct {
    ec_httpd_event_kind kind;
    uint64_t connection;
    char *remote;
    char *detail;
} cs_bad_connection;

/* A set of 16-byte IVs with the first request that used each. */
typedef struct {
    uint8_t iv[EC_IV_LEN];
    uint32_t seq;                 /* 0 = empty slot */
} cs_iv_slot;

/* The audit's state, updated as each request is answered. */
typedef struct {
    /* client/2.iv/... */
    size_t with_iv;
    cs_iv_slot *iv_slots;
    size_t iv_cap, iv_n;
    size_t iv_repeats, iv_first_a, iv_first_b;
    uint8_t iv_first_b_iv[EC_IV_LEN];
    size_t iv_zeros, iv_zero_first;
    int have_prev_iv;
    size_t prev_iv_seq;
    uint8_t prev_iv[EC_IV_LEN];
    size_t iv_pairs, iv_steps, iv_hit_a, iv_hit_b;
    uint8_t iv_hit_a_iv[EC_IV_LEN], iv_hit_b_iv[EC_IV_LEN];
    size_t iv_timed, iv_timed_first;
    char iv_timed_where[96];
    char iv_timed_hex[2 * EC_IV_LEN + 1];
    /* client/7.time/ascending */
    size_t asc_posts, asc_bad, asc_first;
    long long asc_a, asc_b;
    /* client/7.apikey/not-in-clear */
    size_t key_leaks;
    char key_first_label[160];
    const char *key_first_where;
    /* client/3.http/well-formed */
    cs_bad_connection *bad;
    size_t bad_count, bad_cap, empty_connections;
} cs_audit;

/* The run: options, the key, and what the audit keeps of what it saw: the
 * checks' running state, and a cs_post per request until its answer is
 * over; no request itself. */
typedef struct {
    ec_client_suite_options opt;
    uint8_t key[EC_KEY_LEN];
    char *apikey_hex;             /* owned copy, wiped on free */
    char *userid;
    char *username;
    const ec_client_scenario **scenarios;  /* the run list */
    size_t scenario_count;
    cs_post *queue;               /* answered requests not settled yet, in
                                     order: queue[head .. head + queued) */
    size_t queue_head, queued, queue_cap;
    size_t request_count;
    size_t event_count;           /* connection events seen */
    size_t post_count;            /* requests that were input posts */
    cs_aggregate *aggregates;     /* per-request checks, like the check table */
    cs_audit audit;
    cs_history history;
    double started, ended;        /* Unix seconds: the run's start, and its end
                                     (set when the verdicts are computed) */
    size_t resumed;               /* requests 1..resumed came from earlier runs
                                     (--state, state.c) */
} cs_run;

/* Where the scenarios are: the mock's cursor, kept across runs by --state. */
typedef struct {
    size_t scenario_pos;          /* the active scenario in run.scenarios */
    size_t step_pos;              /* its next step; step_count = observation */
    int scenarios_done;
    size_t runs;                  /* earlier runs that wrote the state */
} cs_cursor;

/* --state FILE (state.c): read it into a run just set up (scenario list
 * built, nothing seen): 0 = no such file (a fresh start), 1 = resumed,
 * -1 = unreadable, corrupt, of another version, user id, profile or
 * scenario selection (err: one line naming the file).  Write it
 * atomically (FILE.tmp.PID, fsync, rename): 0, or -1 with err. */
int cs_state_load(cs_run *run, cs_cursor *cur, const char *path, char *err, size_t cap);
int cs_state_save(const cs_run *run, const cs_cursor *cur, const char *path, char *err,
                  size_t cap);

/* A delivered post: the device got the correct ack, all of it. */
int cs_delivered(const cs_post *r);

/* ---- the check table ------------------------------------------------- */

typedef void (*cs_request_check_fn)(const cs_run *run, const cs_request *r, cs_outcome *o);
typedef void (*cs_audit_check_fn)(const cs_run *run, cs_outcome *o);

typedef struct {
    const char *id;
    const char *requirement;
    cs_request_check_fn on_request;  /* per request (NULL for audit checks) */
    cs_audit_check_fn on_audit;      /* across the run (NULL for per-request) */
    const char *mutants;             /* kill matrix (issue 12): the mutant devices
                                        (send --list-mutants) it must FAIL, "a,b" */
    const char *no_mutant;           /* or why no mutant can show it */
} cs_check;

/* The rows, in run order (the order --list shows). */
extern const cs_check *const cs_checks[];
extern const size_t cs_check_count;

/* Each row is defined in the file named after its id's section
 * (client/2.iv/length: c2_iv.c), after the function that judges it. */
/* c2_cipher.c */
extern const cs_check c2_cipher_pkcs7_check;
/* c2_hmac.c */
extern const cs_check c2_hmac_lowercase_check, c2_hmac_correct_check;
/* c2_iv.c */
extern const cs_check c2_iv_length_check, c2_iv_fresh_check, c2_iv_not_zero_check,
    c2_iv_not_counter_check, c2_iv_not_time_check;
/* c3_auth.c */
extern const cs_check c3_auth_format_check, c3_auth_userid_check;
/* c3_body.c */
extern const cs_check c3_body_alphabet_check, c3_body_padding_check, c3_body_blocks_check;
/* c3_ctype.c */
extern const cs_check c3_content_type_exact_check;
/* c3_http.c */
extern const cs_check c3_http_well_formed_check;
/* c3_route.c */
extern const cs_check c3_route_path_check, c3_route_method_check;
/* c4_answer.c */
extern const cs_check c4_answer_accepted_check;
/* c5_node.c */
extern const cs_check c5_node_characters_check;
/* c5_plaintext.c */
extern const cs_check c5_plaintext_grammar_check;
/* c5_time.c */
extern const cs_check c5_time_mode_check;
/* c5_values.c */
extern const cs_check c5_values_numeric_check;
/* c7_ack.c */
extern const cs_check c7_ack_no_duplicates_check, c7_ack_no_data_lost_check;
/* c7_apikey.c */
extern const cs_check c7_apikey_not_in_clear_check;
/* c7_resend.c */
extern const cs_check c7_resend_fresh_iv_check;
/* c7_retry.c */
extern const cs_check c7_retry_interval_check;
/* c7_time.c */
extern const cs_check c7_time_ascending_check, c7_time_never_backwards_check;

/* 1 when a connection event is a malformed request (what
 * client/3.http/well-formed FAILs, one row per connection): not a closed
 * reply, not a connection that sent nothing at all (RFC 9112 §2.2: no
 * request is no malformed request). */
int c3_event_is_malformed(int kind);
/* client/7.retry/interval's judgements (issue 11 point 8), pure for the
 * unit test: w[0..n) the waits (ms) of one run of failures of the same
 * rows: "backoff" only when each wait grows beyond jitter (250 ms or 15 %),
 * "no backoff" when all stay within jitter of their median, else "cannot
 * tell".  A wait after 'Retry-After: N' is "honoured" only when the
 * device's usual wait (others[0..n), waits without Retry-After) is clearly
 * shorter than N s; "not honoured" when it waited less; else "cannot tell". */
const char *c7_judge_backoff(const long *w, size_t n, char *out, size_t cap);
const char *c7_judge_retry_after(unsigned retry_after_s, long waited, const long *others, size_t n,
                                 char *out, size_t cap);

/* The verdict of one scenario of the run list (index i) (c7_scenario.c). */
void c7_scenario_verdict(const cs_run *run, size_t i, cs_outcome *o);
/* How long this device needs for the scenarios still to run, from its
 * observed intervals: a sentence ending in the --duration to give, into
 * out.  Returns the seconds suggested for the whole run (0: unknown). */
unsigned c7_time_needed(const cs_run *run, char *out, size_t cap);

/* Helpers shared by the check files. */
void cs_outcome_set(cs_outcome *o, ec_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The first header named name (case-insensitive) and how many there are. */
const char *cs_header(const cs_request *r, const char *name, size_t *count);
/* Printable, escaped, possibly shortened copy of bytes into out. */
const char *cs_printable(const void *bytes, size_t n, char *out, size_t cap);
/* "POST /input/bulk" style label of request r ("#3 POST /input/bulk"). */
const char *cs_label(const cs_request *r, char *out, size_t cap);
/* The body was meant to be IV || ciphertext for this user (the request got
 * past the header steps), so the crypto checks apply. */
int cs_decodable(const cs_request *r);
/* The HMAC part of Authorization (after the first ':'), or NULL. */
const char *cs_auth_hmac(const cs_request *r);
/* Does any row of later post b equal a row of post a? Returns the count. */
size_t cs_rows_shared(const cs_post *a, const cs_post *b);
/* "hmac-over-ct: your HMAC is over …" for the bits of m in mask, into out. */
void cs_explain_mistakes(unsigned m, unsigned mask, char *out, size_t cap);
/* The application plaintext of r, or NULL when none was recovered. */
const char *cs_plaintext(const cs_request *r, size_t *n);
/* r went to input/bulk. */
int cs_is_bulk(const cs_request *r);

/* What the checks across posts read of a watched post (history.c). */
/* Its resend carried the same IV. */
int cs_same_iv(const cs_watch *q);
/* q was not delivered and its rows came again later (q->p_seq). */
int cs_resent(const cs_watch *q);
/* How long the device waited before that resend, in ms. */
long cs_wait_ms(const cs_watch *q);

/* Fold an answered request into the audit's state (mock.c calls them in
 * arrival order, under the suite's lock). */
void c2_iv_observe(cs_run *run, const cs_request *r);
void c7_time_observe(cs_run *run, const cs_request *r);
void c7_apikey_observe(cs_run *run, const cs_request *r);
/* A post whose answer is over, in arrival order: the checks across posts
 * take what they need (copying it when it must be kept) (history.c). */
void c7_settle(cs_run *run, const cs_post *p);
/* The state's memory.  NULL-safe. */
void cs_audit_free(cs_audit *a);
void cs_history_free(cs_history *h);
/* Zeroed memory for the audit's large tables, straight from the kernel
 * (mmap), so that a table outgrown goes back to it instead of leaving a
 * hole in the heap.  NULL when out of memory. */
void *cs_big_calloc(size_t n, size_t size);
void cs_big_free(void *p, size_t n, size_t size);

#endif
