/* emoncrypt — the client-role conformance suite: a mock Emoncms that a
 * device posts to, unmodified, and that judges every request it receives
 * and how the device reacts to scripted answers.
 *
 * Where things are (a check's row and code are found from its id in one
 * step: client/N.SUB/NAME is defined in suites/client/cN_SUB.c):
 *   client/2.iv, 2.hmac, 2.cipher   the crypto of one request, the IV audit
 *   client/3.route, 3.ctype, 3.auth, 3.body, 3.http   the HTTP shape
 *   client/4.answer                 the shared server logic's verdict
 *   client/5.plaintext, 5.time, 5.values, 5.node      the plaintext's meaning
 *   client/7.time, 7.ack, 7.resend, 7.apikey, 7.retry  behaviour across
 *                                   requests (the audit; the state it keeps
 *                                   across posts: suites/client/history.c)
 *   client/7.scenario/NAME          the scripted replies (data) and the
 *                                   scenario verdicts, c7_scenario.c
 *   the run order of the checks     suites/client/client_checks.c
 *   the mock server that drives them all   suites/client/mock.c
 *
 * A request is judged by the protocol core (ec_server_answer, through
 * ec_diagnose_request) exactly as the server role judges it, and a wrong
 * one is explained by rebuilding it with ec_request_build and the known
 * client mistakes (diagnose.h).
 */
#ifndef EMONCRYPT_CLIENT_SUITE_H
#define EMONCRYPT_CLIENT_SUITE_H

#include <stddef.h>
#include <stdint.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/httpd.h"
#include "emoncrypt/report.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- scenarios (data: suites/client/c7_scenario.c) ---------------------- */

/* What a scripted answer's body is, computed from the request it answers. */
typedef enum {
    EC_REPLY_ACK = 0,        /* the correct ack of the request */
    EC_REPLY_OTHER_ACK,      /* a well-formed ack of other bytes */
    EC_REPLY_HEX_ACK,        /* SHA-256 of the right bytes, but as 64 hex digits */
    EC_REPLY_NO_PAD_ACK,     /* the right ack without its '=' (43 characters) */
    EC_REPLY_TEXT            /* the step's text, as is */
} ec_reply_kind;

/* One scripted answer, a row of a scenario (curl's test server style). */
typedef struct {
    unsigned status;              /* HTTP status */
    const char *content_type;     /* NULL = none */
    ec_reply_kind kind;
    const char *text;             /* body for EC_REPLY_TEXT */
    unsigned delay_ms;            /* before anything is sent */
    unsigned trickle_interval_ms; /* > 0: body goes out trickle_bytes at a time */
    unsigned trickle_bytes;
    int reset_after;              /* >= 0: reset the connection after this many body bytes */
    int never;                    /* 1: never answer (the client must time out) */
    unsigned retry_after_s;       /* > 0: a Retry-After header */
} ec_scripted_reply;

#define EC_SCENARIO_MAX_STEPS 6

typedef struct {
    const char *name;             /* "wrong-ack" */
    const char *id;               /* "client/7.scenario/wrong-ack" */
    const char *requirement;      /* the SPEC §7 sentence it checks */
    const char *mutants;          /* kill matrix: the mutant devices it must FAIL */
    const char *no_mutant;        /* or why no mutant can show it */
    int expect_delivered;         /* 1: the client must take the answer as the ack
                                     (and never send those rows again);
                                     0: it must keep the rows and resend them */
    ec_verdict if_wrong;          /* FAIL, or NON-STRICT for a lenient reading */
    size_t step_count;
    ec_scripted_reply steps[EC_SCENARIO_MAX_STEPS];
} ec_client_scenario;

extern const ec_client_scenario ec_client_scenarios[];
extern const size_t ec_client_scenario_count;
/* The scenario named name, or NULL. */
const ec_client_scenario *ec_client_scenario_find(const char *name);

/* ---- checks ---------------------------------------------------------- */

/* The check table: stable id, SPEC section, requirement sentence.  Ids
 * never change; each row is in the file named after its section, the run
 * order in client_checks.c. */
typedef struct {
    const char *id;
    const char *requirement;
    const char *mutants;          /* kill matrix (issue 12): the mutant devices
                                     (send --list-mutants) it must FAIL, "a,b" */
    const char *no_mutant;        /* or why no mutant can show it */
} ec_client_check_info;

size_t ec_client_check_count(void);
const ec_client_check_info *ec_client_check_at(size_t i);
/* The row whose id is id (a scenario's id included), or NULL. */
const ec_client_check_info *ec_client_check_find(const char *id);

/* ---- the mock server ------------------------------------------------- */

typedef struct {
    const char *listen;           /* "127.0.0.1:8080"; port 0 picks one */
    const char *userid;           /* the device's user id */
    const char *apikey_hex;       /* its write API key (32 hex digits) */
    const char *username;         /* legacy profile only */
    int profile;                  /* ec_profile the device is expected to speak */
    const char *scenario;         /* a scenario name, several "a,b,c", "all",
                                     NULL = "all", or "none" (checks only: every
                                     post is acked) */
    unsigned max_requests;        /* 0 = no limit */
    unsigned duration_ms;         /* 0 = no limit */
    unsigned linger_ms;           /* after the last scenario, end once the device
                                     has been quiet this long; 0 = 1000 */
    int strict;                   /* NON-STRICT verdicts count as FAIL */
    const char *capture_path;     /* JSONL capture, or NULL */
    int show_secrets;
    size_t max_body;              /* 0 = 1 MiB */
    int verbose;                  /* one line per request on stderr */
    const char *state_path;       /* --state: read at start (missing = fresh),
                                     written by finish; NULL = none */
    int progress;                 /* ec_client_suite_wait prints, on stderr, "no
                                     device has connected yet" once after 10 s and,
                                     on a terminal, a status line every 5 s */
} ec_client_suite_options;

typedef struct ec_client_suite ec_client_suite;

/* Start listening.  Returns EC_OK, EC_E_KEY (not 32 hex digits), EC_E_ARG
 * (unknown scenario, missing user id), EC_E_IO (cannot bind or write the
 * capture; errbuf says which, never with the key) or EC_E_NOMEM. */
ec_status ec_client_suite_start(const ec_client_suite_options *opt,
                                ec_client_suite **out, char *errbuf, size_t errbuf_size);

/* The port bound, and "http://127.0.0.1:PORT" into buf (returns buf). */
unsigned ec_client_suite_port(const ec_client_suite *s);
const char *ec_client_suite_url(const ec_client_suite *s, char *buf, size_t size);

/* Requests answered whose posts are not settled yet (their connection's
 * answer not over, httpd's on_done not come): what the mock still holds
 * for the checks across posts.  For tests. */
size_t ec_client_suite_unsettled(ec_client_suite *s);

/* One request straight to the mock's handler on the caller's thread,
 * without a socket (see ec_httpd_call; listen = EC_HTTPD_IN_PROCESS opens
 * none): for in-process fuzzing and tests. */
ec_status ec_client_suite_call(ec_client_suite *s, const ec_httpd_request *req,
                               ec_httpd_result *out) __attribute__((warn_unused_result));

/* Replay (test-client --from-capture): a recorded device's requests and
 * events fed in capture order, in process (listen = EC_HTTPD_IN_PROCESS).
 * set_clock: the suite's clock from now on (the record's captured time;
 * the first call is the run's start), so every check sees the device's
 * real timing.  replay_request: as ec_client_suite_call; held != 0 when
 * the device hung up on this answer (a client-gone event for its
 * connection follows in the capture): the answer is over only when
 * replay_event gives that event, as in the live run.  replay_event: a
 * connection event (httpd.h) as the listening server reports it. */
void ec_client_suite_set_clock(ec_client_suite *s, double now);
ec_status ec_client_suite_replay_request(ec_client_suite *s, const ec_httpd_request *req,
                                         int held, ec_httpd_result *out)
    __attribute__((warn_unused_result));
void ec_client_suite_replay_event(ec_client_suite *s, const ec_httpd_event *ev);

/* 1 once the run should end: max_requests answered, duration over, or the
 * scenarios finished and the device quiet for linger_ms. */
int ec_client_suite_done(ec_client_suite *s);

/* Block until ec_client_suite_done or *stop becomes non-zero (a signal
 * handler's flag; may be NULL).  Polls every 20 ms. */
void ec_client_suite_wait(ec_client_suite *s, volatile int *stop);

/* Async-signal-safe: make held and trickled answers end now. */
void ec_client_suite_interrupt(ec_client_suite *s);

/* Stop the server, run the audit and the scenario verdicts, and add every
 * result to report (created by the caller, with the key to redact).
 * Returns the number of requests seen. */
size_t ec_client_suite_finish(ec_client_suite *s, ec_report *report);

/* After finish with a state_path: NULL when the state was written, else
 * the one line saying why not. */
const char *ec_client_suite_state_error(const ec_client_suite *s);

/* Free (stops the server first if finish was not called).  NULL ignored. */
void ec_client_suite_free(ec_client_suite *s);

/* A one-line summary of the run ("34 requests, 12/12 scenarios complete"). */
const char *ec_client_suite_summary(const ec_client_suite *s);

#ifdef __cplusplus
}
#endif
#endif
