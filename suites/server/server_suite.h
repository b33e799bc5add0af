/* emoncrypt — the server-role conformance suite: what `emoncrypt
 * test-server` runs against an Emoncms (or any server claiming the
 * encrypted input protocol).
 *
 * Each case is a row in one file per SPEC section: the case id
 * "server/4.auth/missing-header" lives in suites/server/s4_auth.c.  A case
 * builds a request with the protocol core's builder (ec_request_build),
 * asks the protocol core (ec_server_answer) what Emoncms and a strict
 * server would answer, sends it, and records expected vs actual in an
 * ec_report.  CMocka is the runner: one CMocka test per case, one group
 * per SPEC section, so CMOCKA_MESSAGE_OUTPUT=xml works as usual.
 */
#ifndef EMONCRYPT_SERVER_SUITE_H
#define EMONCRYPT_SERVER_SUITE_H

#include <stddef.h>
#include <stdint.h>

#include "common/select.h"
#include "emoncrypt/report.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *base_url;        /* Emoncms base, e.g. "http://127.0.0.1:8080" */
    const char *userid;          /* the account's user id */
    const char *apikey_hex;      /* the write API key: 32 hex digits */
    const char *username;        /* legacy profile only, else NULL */
    int profile;                 /* ec_profile: which endpoints the target speaks */
    int profile_set;             /* 1 = --profile was given: aes128cbc leaves the
                                    aes128cbcgz cases out, aes128cbcgz sends the
                                    post, bulk, ack and crypto cases compressed;
                                    0 = aes128cbc plus the gz cases (the default) */
    const char *server_version;  /* "11.16.8": what the server is (--server-version);
                                    NULL = read from the server's /version when it
                                    answers one, else unknown */
    int strict;                  /* judge against the strict profile */
    ec_select select;            /* --case, --section, --exclude (common/select.h);
                                    all zero = every case */
    long timeout_ms;             /* per request; <= 0 = 3000 */
    const char *node;            /* every row goes to this node; NULL =
                                    "emoncrypt_conformance" */
    int show_secrets;            /* do not redact the key in reports */
    int progress;                /* 1 = progress line on a terminal */
    const char *rows_url;        /* read endpoint base for the stored-data
                                    cases; NULL = the target itself when it
                                    is on loopback (emoncrypt serve) */
    const char *readkey;         /* the account's READ API key: read stored
                                    inputs back from Emoncms's /input/get
                                    (last values only); sent in the URL, so
                                    only by the user's choice */
    const char *vectors_path;    /* reference vectors to re-key and send; NULL =
                                    the source tree's vectors/emoncms_input_v1.json
                                    when present, "" = none */
    int require_gz;              /* 1 = a server without aes128cbcgz FAILs (--require gz);
                                    0 = its gz cases SKIP with one INFO */
    int check_setup;             /* 1 = after the preflight, the set-up diagnosis
                                    (ec_server_suite_check_setup): a wrong key,
                                    user id or URL ends the run with exit 2 */
    int cmocka_output;           /* 1 = let CMocka print its own output
                                    (forced when CMOCKA_MESSAGE_OUTPUT is set) */
    int seeded;                  /* 1 = a deterministic run (--seed): the IVs,
                                    random bytes and markers come from seed,
                                    the clock is fixed; for
                                    recording and replay only (IVs repeat
                                    across runs, which a device must never do) */
    uint64_t seed;
    int64_t now;                 /* > 0 = the run's fixed clock (--now); a seeded
                                    run without it fixes the clock at its start */
    int record;                  /* 1 = keep every exchange for
                                    ec_server_suite_write_transcript */
} ec_server_suite_options;

/* Outcome of a run, beyond the per-case results in the report. */
typedef struct {
    int unreachable;             /* 1: nothing answered at base_url */
    char message[320];           /* one line when unreachable or misconfigured */
    size_t cases_run;            /* cases not SKIPped */
    long elapsed_ms;
} ec_server_suite_outcome;

/* Run the selected cases against opt->base_url and add one result per case
 * to report (which the caller created and gave the key to redact).
 * Returns 0 when the suite ran (see report for FAILs), 2 when it could not
 * (unreachable target, bad options: outcome->message says why, in one
 * line, without the key). */
int ec_server_suite_run(const ec_server_suite_options *opt, ec_report *report,
                        ec_server_suite_outcome *outcome);

/* --list: the cases a run with these options would report, in run order
 * (the generated cases, then the vectors of opt->vectors_path), without
 * any traffic: each = fn(user, id, requirement, skip) where skip is the
 * reason it will SKIP under opt (profile) or NULL.  A run adds
 * server/3.gz/feature only when the server turns out to lack aes128cbcgz.
 * Returns 0 with *count set, or 2 with one line in outcome->message
 * (a pattern that matches nothing, an unreadable vector file). */
int ec_server_suite_list(const ec_server_suite_options *opt,
                         void (*fn)(void *user, const char *id, const char *requirement,
                                    const char *skip),
                         void *user, size_t *count, ec_server_suite_outcome *outcome);

/* The set-up diagnosis (srv_setup.c), run by ec_server_suite_run when
 * opt->check_setup, after the selection and preflight: one correct post (to
 * the run's node) and, when it is not acked, a few more.  Returns 2 with
 * one line in message (no key) when the key or user id is wrong (every
 * correct post answered "invalid data", or "User not found"), or the URL is
 * not an Emoncms (an HTML page, a 404; naming URL/emoncms when that one
 * answers as Emoncms); 0 when the post was acked, nothing answered (the
 * run's own preflight says so) or the answer is for the suite to judge. */
int ec_server_suite_check_setup(const ec_server_suite_options *opt, char *message, size_t cap);

/* After a run with opt->record: write the transcript (JSON, format
 * "emoncrypt-transcript" version 1) to path: the server (its URL with the
 * host replaced by {host}, its version), args (the test-server options a
 * replay passes again), the seed and clock, every exchange in order and
 * each case's verdict with the totals.  Returns 0, or -1 with err set. */
int ec_server_suite_write_transcript(const ec_server_suite_options *opt, const ec_report *report,
                                     const char *const *args, size_t n_args, const char *path,
                                     char *err, size_t err_cap);

/* The case table, for listing and for checking that a named case exists. */
size_t ec_server_suite_case_count(void);
/* The i-th case's id, SPEC section and requirement sentence (NULL past
 * the end). */
const char *ec_server_suite_case_id(size_t i);
const char *ec_server_suite_case_requirement(size_t i);
/* --list --mutants, the kill matrix (issue 12): as ec_server_suite_list,
 * but fn gets each case's declaration: mutants = the server mutants it
 * must FAIL ("a,b", `emoncrypt serve --list-mutants` names) or NULL, and
 * no_mutant = why it has none or NULL (both NULL: the row declares
 * nothing, which the ctest kill/matrix rejects).  A vector's declaration
 * follows from its expected answer (s8_vectors.c). */
int ec_server_suite_list_mutants(const ec_server_suite_options *opt,
                                 void (*fn)(void *user, const char *id, const char *mutants,
                                            const char *no_mutant),
                                 void *user, size_t *count, ec_server_suite_outcome *outcome);

#ifdef __cplusplus
}
#endif
#endif
