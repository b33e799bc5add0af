/* emoncrypt — a fleet of simulated devices posting encrypted readings to a
 * server, to measure what it sustains (`emoncrypt load`).
 *
 * Each device is what a careful sender would be: its own node name
 * ("emoncrypt_load_7"), a fresh random IV for every post, real timestamps
 * (time=now), and the reply compared with the ack it expects.  Devices are
 * spread over a few worker threads, each with one kept-alive connection
 * (ec_http_client), so that a fleet of thousands of devices does not need
 * thousands of sockets.  A run is bounded both in time (duration_s) and in
 * count (max_requests), and by default only loopback targets are allowed:
 * a load test is an attack on anyone else's server.
 *
 * Latencies go into a fixed histogram (1 % wide buckets), so memory does
 * not grow with the length of the run.
 */
#ifndef EMONCRYPT_LOAD_H
#define EMONCRYPT_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EC_LOAD_MAX_DEVICES     100000u
#define EC_LOAD_MAX_CONNECTIONS 256u
#define EC_LOAD_MAX_DURATION_S  3600.0
#define EC_LOAD_MAX_BULK_ROWS   1000u
/* Distinct answers kept apart in the result; the rest are counted as "other". */
#define EC_LOAD_MAX_ANSWER_KINDS 16

struct ec_load_progress;

typedef struct {
    const char *url;             /* server base ("http://127.0.0.1:8080"), or a URL
                                    already ending in /input/post or /input/bulk */
    const char *userid;          /* Authorization user id */
    uint8_t key[EC_KEY_LEN];     /* hex2bin(write apikey) */
    unsigned devices;            /* simulated devices; 0 = 4 */
    unsigned connections;        /* worker threads = kept-alive connections;
                                    0 = min(devices, 16) */
    double rate;                 /* posts per second over the whole fleet;
                                    0 = as fast as the server answers */
    double duration_s;           /* 0 = 10 s; at most EC_LOAD_MAX_DURATION_S */
    uint64_t max_requests;       /* stop after this many posts; 0 = 10,000,000 */
    unsigned bulk_rows;          /* 0 = /input/post with fulljson; K = /input/bulk
                                    with K rows per post */
    long timeout_ms;             /* per request; <= 0 = 3000 */
    int allow_remote;            /* 1 = a target outside 127.0.0.0/8, ::1 and
                                    localhost is allowed */
    /* Called about once a second from the calling thread while the run
     * goes on (NULL: none); the counts so far.  Never holds the key. */
    void (*progress)(const struct ec_load_progress *p, void *arg);
    void *progress_arg;
} ec_load_options;

/* What ec_load_options.progress is given. */
typedef struct ec_load_progress {
    double elapsed_s;            /* since the run started */
    double duration_s;           /* the run's limit */
    uint64_t sent;               /* exchanges finished */
    uint64_t acked;              /* of which answered with the right ack */
    uint64_t not_acked;          /* answered, but not with the right ack */
    uint64_t transport_errors;   /* no complete answer */
    double rate_last_s;          /* exchanges finished in the last second */
} ec_load_progress;

/* One kind of answer that was not the expected ack: HTTP status plus the
 * start of the body, printable-escaped ("200 invalid data"). */
typedef struct {
    char text[80];
    uint64_t count;
} ec_load_answer_kind;

typedef struct {
    uint64_t sent;               /* posts whose exchange finished (any way) */
    uint64_t acked;              /* answered 200 with exactly the expected ack */
    uint64_t ack_mismatch;       /* answered 200 with a well-formed ack that
                                    is not the one expected */
    uint64_t wrong_answer;       /* any other complete HTTP answer */
    uint64_t transport_errors;   /* no complete answer (see by_transport) */
    uint64_t by_transport[16];   /* indexed by ec_http_error */
    ec_load_answer_kind answers[EC_LOAD_MAX_ANSWER_KINDS];
    size_t answer_kinds;
    uint64_t other_answers;      /* wrong answers beyond the kinds kept */
    double elapsed_s;            /* from the first post to the last answer */
    double achieved_rate;        /* sent / elapsed_s */
    double target_rate;          /* the rate asked for (0 = unthrottled) */
    unsigned devices, connections, bulk_rows;
    /* latency of finished exchanges, milliseconds */
    double p50_ms, p90_ms, p99_ms, p999_ms, max_ms, mean_ms;
    int refused_remote;          /* 1: not run, the target is not loopback */
    char message[256];           /* why the run stopped early, or "" */
} ec_load_result;

/* 1 when url's host is 127.0.0.0/8, ::1 or "localhost" (any case). */
int ec_load_url_is_loopback(const char *url);

/* Run the fleet.  Returns EC_OK when the run happened (see the counts),
 * EC_E_ARG for bad options or a remote target without allow_remote (then
 * result->refused_remote is 1 and result->message says why), EC_E_IO when
 * the first post could not connect at all, EC_E_NOMEM.  The key never
 * appears in result->message.  stop (may be NULL) is polled: set *stop to
 * end the run early (from a signal handler). */
ec_status ec_load_run(const ec_load_options *opt, volatile int *stop,
                      ec_load_result *result);


/* ---- a fleet for an external load engine (Tsung) ------------------------ */

/* `emoncrypt fleet export`: the same posts as ec_load_run would send, built
 * in advance and written as a Tsung scenario plus the corpus it replays, so
 * that Tsung's controller and agents (any number of hosts) send correct
 * protocol traffic and match every answer against its ack.  Files in dir:
 *
 *   corpus.csv      one request per line, "PATH;AUTHORIZATION;BODY;ACK"
 *                   (PATH carries "?seq=I", the line's index, so answers in
 *                   Tsung's dump can be traced back to their line); the
 *                   write key appears nowhere, only the MAC and ciphertext
 *   expected.tsv    the rows each line stores, "SEQ\tUSERID\tTIME\tNODE\t
 *                   NAME\tVALUE", as Emoncms's input code reads them
 *   scenario.xml    the Tsung scenario: one POST per session, lines handed
 *                   out in order (each once), answers matched to ^ACK$
 *
 * Line I is device I mod D (user (I mod D) mod U), its (I div D)-th post;
 * every device's times ascend by interval_s and end at end_time.  Every
 * request has a fresh random IV. */
typedef struct {
    const char *userid;              /* decimal user id */
    uint8_t key[EC_KEY_LEN];         /* hex2bin(write apikey) */
} ec_load_user;

#define EC_LOAD_EXPORT_MAX_REQUESTS 100000000ull
#define EC_LOAD_EXPORT_MAX_AGENTS   64u

typedef struct {
    const char *dir;                 /* created if absent; its three files replaced */
    const char *url;                 /* the target: http://HOST[:PORT][/PREFIX] */
    const ec_load_user *users;       /* at least one */
    size_t n_users;
    unsigned devices;                /* 0 = n_users; at most 32 per user (the
                                        node limit of an Emoncms account) */
    uint64_t requests;               /* corpus lines; 0 = 10000 */
    unsigned bulk_rows;              /* 0 = /input/post fulljson; K = /input/bulk */
    double interval_s;               /* a device's time step; 0 = 10; >= bulk_rows */
    int64_t end_time;                /* the newest post's time; 0 = now */
    double rate;                     /* Tsung's arrival rate, posts/s; 0 = 100 */
    double duration_s;               /* Tsung's phase, rounded up to whole seconds
                                        (Tsung reads an integer); 0 = requests / rate */
    const char *const *agents;       /* "HOST" or "HOST:VMS"; none = the
                                        controller's own VM */
    size_t n_agents;
} ec_load_export_options;

typedef struct {
    uint64_t requests;               /* lines written */
    uint64_t rows;                   /* rows they carry */
    double seconds;                  /* time taken */
    char message[256];               /* why it failed, or "" (never a key) */
} ec_load_export_result;

/* EC_OK; EC_E_ARG (bad options: message says which); EC_E_IO (cannot
 * create or write a file: message names it; a partial file is removed);
 * EC_E_NOMEM. */
ec_status ec_load_export_tsung(const ec_load_export_options *opt,
                               ec_load_export_result *result);

/* `emoncrypt fleet check`: what a Tsung run of an exported fleet did, and
 * whether the server stored exactly what it acknowledged. */
typedef struct {
    const char *dir;                 /* the export's directory (expected.tsv) */
    const char *dump_path;           /* Tsung's tsung.dump (dumptraffic="protocol") */
    const char *store_path;          /* the server's JSONL store (emoncrypt serve
                                        --store), or NULL: no store check */
    const char *serve_log_path;      /* emoncrypt serve's log, or NULL: no
                                        replay count */
    const char *tsung_log_path;      /* Tsung's tsung.log (its statistics), or
                                        NULL: the tsung.log beside the dump
                                        when there is one */
} ec_load_check_options;

typedef struct {
    uint64_t answered;               /* requests in the dump */
    uint64_t acked;                  /* 200 whose body matched the ack */
    uint64_t not_acked;              /* any other answer */
    uint64_t corpus_lines;           /* lines in expected.tsv's corpus */
    uint64_t duplicate_sends;        /* a line sent twice (the corpus wrapped) */
    double elapsed_s;                /* first to last request in the dump */
    double rate;                     /* answered / elapsed_s */
    double p50_ms, p90_ms, p99_ms, max_ms, mean_ms;
    int store_checked;
    uint64_t rows_expected;          /* rows of the acked lines */
    uint64_t rows_stored;            /* rows in the store */
    uint64_t rows_lost;              /* acked, not in the store */
    uint64_t rows_duplicated;        /* in the store more often than acked */
    uint64_t rows_unexpected;        /* in the store, of no acked line */
    int tsung_checked;               /* Tsung's own totals, from tsung.log: */
    uint64_t tsung_requests;         /*   requests it counted */
    uint64_t tsung_match;            /*   answers that matched their ack */
    uint64_t tsung_nomatch;          /*   answers that did not */
    uint64_t tsung_errors;           /*   error_* counters (connect, timeout, …) */
    uint64_t tsung_not_200;          /*   answers with another HTTP status */
    int replays_checked;
    uint64_t replays;                /* requests the strict server refused as replays */
    char message[256];
} ec_load_check_result;

/* EC_OK when the files could be read (see the counts: a run is good when
 * not_acked, rows_lost, rows_duplicated, rows_unexpected, replays and
 * duplicate_sends are all 0, and Tsung's own counts, when read, agree:
 * tsung_match == acked and no nomatch, error or other status); EC_E_IO /
 * EC_E_JSON with message naming the file and line; EC_E_NOMEM. */
ec_status ec_load_check_tsung(const ec_load_check_options *opt,
                              ec_load_check_result *result);

#ifdef __cplusplus
}
#endif
#endif
