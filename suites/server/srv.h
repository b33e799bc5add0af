/* emoncrypt server-role suite — internals shared by the case files
 * (s<SECTION>_<area>.c), the runner and the verifiers.
 *
 * This header includes neither message.h nor httpclient.h: the sender
 * (srv_send.c, over httpclient) and the protocol-core side (srv_core.c and
 * the case files, over message.h) meet here, in plain types, so a case
 * file sees what it sends and what came back and nothing of the transport.
 */
#ifndef EMONCRYPT_SUITES_SERVER_SRV_H
#define EMONCRYPT_SUITES_SERVER_SRV_H

#include <stddef.h>
#include <stdint.h>

#include "emoncrypt/report.h"
#include "server/server_suite.h"

/* ---- what is sent and what came back ----------------------------------- */

#define SRV_MAX_EXTRA_HEADERS 4

/* One request to the target.  Strings are owned by the probe (srv_probe_free);
 * path is relative to the base URL ("/input/post"). */
typedef struct {
    char method[16];
    char path[256];
    char *query;                 /* without '?', NULL = none */
    char *content_type;          /* NULL = header absent */
    char *authorization;         /* NULL = header absent */
    int lower_header_names;      /* send "content-type:" / "authorization:" */
    struct { char *name, *value; } extra[SRV_MAX_EXTRA_HEADERS];
    size_t n_extra;
    uint8_t *body;               /* exact bytes; body_len 0 sends an empty body */
    size_t body_len;
    long timeout_ms;             /* 0 = the suite's */
} srv_probe;

void srv_probe_init(srv_probe *p);
void srv_probe_free(srv_probe *p);
/* Setters copy; NULL value = header absent. */
void srv_probe_set_ctype(srv_probe *p, const char *v);
void srv_probe_set_auth(srv_probe *p, const char *v);
void srv_probe_set_query(srv_probe *p, const char *v);
void srv_probe_set_body(srv_probe *p, const void *b, size_t n);
void srv_probe_add_header(srv_probe *p, const char *name, const char *value);

typedef enum {
    SRV_NET_OK = 0,       /* a complete answer */
    SRV_NET_CONNECT,      /* nothing listening / unreachable */
    SRV_NET_TIMEOUT,      /* no complete answer in time */
    SRV_NET_OTHER         /* closed, reset, not HTTP */
} srv_net;

typedef struct {
    srv_net net;
    long status;
    char *content_type;          /* NULL when absent */
    uint8_t *body;               /* NUL-terminated, never NULL after srv_send */
    size_t body_len;
    long elapsed_ms;
    char message[256];           /* for net != OK */
} srv_reply;

void srv_reply_free(srv_reply *r);

typedef struct srv_ctx srv_ctx;

/* Send (srv_send.c). */
void srv_send(srv_ctx *ctx, const srv_probe *p, srv_reply *r);
/* GET base + path_query with no extra headers (srv_send.c). */
void srv_get(srv_ctx *ctx, const char *base, const char *path_query, long timeout_ms,
             srv_reply *r);
/* A runnable curl line for p, key redacted unless --show-secrets; malloc'd. */
char *srv_curl(srv_ctx *ctx, const srv_probe *p);
/* Per-thread HTTP client handles (srv_send.c). */
void *srv_http_client_new(void);
void srv_http_client_free(void *client);

/* ---- the run ------------------------------------------------------------ */

typedef struct {
    int64_t time;
    char node[128];
    char name[128];
    double value;
    int is_null;
} srv_row;

struct srv_ctx {
    const ec_server_suite_options *opt;
    char base[512];              /* base URL without trailing '/' */
    const char *node;
    uint8_t key[16];
    void *http;                  /* ec_http_client *, keep-alive */
    long timeout_ms;
    int rows_state;              /* -1 not probed, 0 unavailable, 1 available */
    char rows_base[512];
    char rows_reason[300];
    int rows_last_only;          /* the reader sees only each input's last value
                                    (Emoncms's /input/get with --readkey) */
    uint32_t marker;             /* makes each case's values unique */
    int64_t last_post_time;      /* for the cross-post timestamp cases */
    int unreachable;
    char unreachable_message[300];
    struct srv_slow *slow;       /* background slow-request probes */
    int gz_absent;               /* the gz probe got 401 "Invalid API key" */
    char gz_reason[200];
    char version[32];            /* the server's Emoncms version ("11.16.8"),
                                    "" = unknown */
    char version_from[40];       /* "--server-version" or "/version" */
};

/* ---- a case --------------------------------------------------------------- */

typedef struct srv_case srv_case;

/* What a case records; strings are malloc'd and freed by the runner. */
typedef struct {
    ec_verdict verdict;
    char *message;               /* one sentence */
    char *sent;                  /* summary of what was sent */
    char *repro;                 /* curl line */
    uint8_t *expected;
    size_t expected_len;
    uint8_t *actual;
    size_t actual_len;
    long elapsed_ms;
} srv_outcome;

typedef void (*srv_case_fn)(srv_ctx *ctx, const srv_case *c, srv_outcome *out);

/* Which --profile runs a case. */
enum {
    SRV_P_CBC = 1u << 0,
    SRV_P_GZ = 1u << 1,          /* aes128cbcgz is part of current Emoncms:
                                    runs with --profile aes128cbc too */
    SRV_P_LEGACY = 1u << 2,
    SRV_P_CURRENT = SRV_P_CBC | SRV_P_GZ
};

/* What a server that answers as Emoncms gets under --strict. */
typedef enum {
    SRV_STRICT_NON_STRICT = 0,   /* NON-STRICT: allowed, flagged */
    SRV_STRICT_FAIL = 1          /* FAIL: strict requires the hardening */
} srv_strict_rule;

struct srv_case {
    const char *id;              /* "server/4.auth/missing-header" */
    const char *requirement;     /* the SPEC sentence it checks */
    srv_case_fn run;
    const void *arg;             /* case data for a table-driven run function */
    unsigned profiles;           /* SRV_P_* */
    srv_strict_rule strict_rule;
    const char *mutants;         /* kill matrix: the server mutants this case
                                    must FAIL, "a,b" (serve --list-mutants) */
    const char *no_mutant;       /* or why no mutant can show it */
};

typedef struct {
    const char *section;         /* "3.post" (the id part after "server/") */
    const char *title;
    const srv_case *cases;
    const size_t *count;
} srv_group;

/* The fields of a table-driven row after the .id and .requirement that the
 * row writes out (so that git grep finds the id where it is defined):
 *   { .id = "server/3.post/csv", .requirement = "…",
 *     SRV_SPEC(.plaintext = "node=${node}&csv=${v}") },
 * the arguments being srv_spec fields. */
#define SRV_SPEC(...) \
    .run = srv_run_spec, .arg = &(const srv_spec){ __VA_ARGS__ }, .profiles = SRV_P_CURRENT, \
    .strict_rule = SRV_STRICT_NON_STRICT
/* The same for the legacy profile. */
#define SRV_LEGACY(...) \
    .run = srv_run_spec, .arg = &(const srv_spec){ .profile = 2, __VA_ARGS__ }, \
    .profiles = SRV_P_LEGACY, .strict_rule = SRV_STRICT_NON_STRICT
/* Declares a case file's table and its length. */
#define SRV_CASES(name_) \
    extern const srv_case srv_cases_##name_[]; \
    extern const size_t srv_cases_##name_##_count
#define SRV_CASES_COUNT(name_) \
    const size_t srv_cases_##name_##_count = sizeof srv_cases_##name_ / sizeof srv_cases_##name_[0]

/* 1 while this thread runs a case that --profile aes128cbcgz sends through
 * the gz path: srv_build then compresses an aes128cbc spec (srv_runner.c). */
int srv_gz_path(void);

/* 1 when the options (--section, --case) select the case id (srv_runner.c). */
int srv_case_selected(const ec_server_suite_options *o, const char *id);

/* All groups in SPEC order (srv_cases.c). */
extern const srv_group srv_groups[];
extern const size_t srv_group_count;

/* ---- building requests (srv_build.c, over the protocol core) ------------ */

#define SRV_ABSENT ((const char *)1)  /* header template: leave the header out */

/* Edits applied to a correctly built body. */
typedef enum {
    SRV_EDIT_NONE = 0,
    SRV_EDIT_EMPTY,              /* body "" */
    SRV_EDIT_REPLACE,            /* body = arg */
    SRV_EDIT_INSERT_MIDDLE,      /* arg inserted in the middle of the text */
    SRV_EDIT_APPEND,             /* arg appended to the text */
    SRV_EDIT_STRIP_PADDING,      /* '=' removed */
    SRV_EDIT_DROP_LAST_CHAR,     /* padding removed, then one more char: 4n+1 or a lost byte */
    SRV_EDIT_TRAILING_BITS,      /* padding removed, unused bits of the last char set */
    SRV_EDIT_PERCENT_PADDING,    /* '=' sent as %3D */
    SRV_EDIT_FORM,               /* "data=" + body */
    /* on the decoded bytes (re-encoded with the URL alphabet and '=') */
    SRV_EDIT_APPEND_BYTES,       /* atoi(arg) random bytes appended */
    SRV_EDIT_KEEP_BYTES,         /* only the first atoi(arg) bytes */
    SRV_EDIT_FLIP_IV_BIT,
    SRV_EDIT_FLIP_LAST_BIT,      /* last ciphertext byte */
    SRV_EDIT_DROP_LAST_BLOCK,
    SRV_EDIT_SWAP_BLOCKS,        /* the first two ciphertext blocks swapped */
    /* re-encrypted (raw) with a faulty padding, MAC over the plaintext */
    SRV_EDIT_PAD_ZERO,           /* last byte 0x00 */
    SRV_EDIT_PAD_RANGE,          /* last byte 0x11 */
    SRV_EDIT_PAD_BYTES,          /* last byte 0x04, one pad byte wrong */
    SRV_EDIT_PAD_FULL_BLOCK_BAD, /* a full pad block of 0x0f bytes but 0x10 last */
    SRV_EDIT_WRONG_KEY,          /* encrypted and MAC'd with another key */
    SRV_EDIT_STD_ALPHABET_NO_PAD /* '+' '/' without '=' */
} srv_edit;

/* Plaintext lengths some cases need ('&' pieces are ignored by Emoncms). */
enum {
    SRV_SHAPE_NONE = 0,
    SRV_SHAPE_BLOCK_MULTIPLE,    /* a multiple of 16: a full pad block */
    SRV_SHAPE_PARTIAL_QUANTUM    /* body bytes not a multiple of 3: base64 has '=' */
};

/* A request described as data: the rows of most case tables. */
typedef struct {
    int profile;                 /* ec_profile: 0 aes128cbc, 1 aes128cbcgz, 2 legacy */
    int bulk;                    /* 1 = /input/bulk */
    const char *plaintext;       /* template: ${node} ${now} ${now-100}
                                    ${v} ${v1} ${v2} (this case's values) */
    unsigned mistakes;           /* ec_mistake bits */
    const char *path;            /* NULL = /input/post or /input/bulk; template */
    const char *query;           /* template or NULL */
    const char *method;          /* NULL = POST */
    const char *content_type;    /* NULL = the profile's; SRV_ABSENT = none */
    const char *authorization;   /* NULL = correct; SRV_ABSENT = none; else template:
                                    ${uid} ${hmac} ${HMAC} ${hmac-empty} ${hmac-flip}
                                    ${hmac-short} ${hmac-inflated} ${uid-unknown} */
    srv_edit edit;
    const char *edit_arg;
    int shape;                   /* SRV_SHAPE_*: pad the plaintext with '&' first */
    int lower_header_names;
    int compare_ctype;           /* also compare the answer's media type */
    int check_rows;              /* also compare what was stored (when readable) */
} srv_spec;

/* Expand a template into out (malloc'd).  marker gives ${v}, ${v1}, ${v2}. */
char *srv_expand(srv_ctx *ctx, const char *tmpl, uint32_t marker);

/* Build spec into probe; *ack_out (45 bytes, may be NULL) gets the ack a
 * correct server answers (of the wire plaintext); *plain_out/plain_len the
 * application plaintext (malloc'd; may be NULL). */
int srv_build(srv_ctx *ctx, const srv_spec *spec, uint32_t marker, srv_probe *probe,
              char *ack_out, char **why);

/* A fresh marker (random base, so reruns never collide). */
uint32_t srv_next_marker(srv_ctx *ctx);

/* ---- expectations and verdicts (srv_core.c) ----------------------------- */

typedef struct {
    int status;
    char content_type[64];
    char *body;
    size_t body_len;
    int accepted;                /* the core accepted (fault ok) */
    char fault[32];              /* ec_status name */
    char detail[32];
    srv_row *rows;               /* what would be stored */
    size_t n_rows;
} srv_expect;

void srv_expect_free(srv_expect *e);

/* What Emoncms (strict 0) or a strict server (1) answers to p. */
int srv_expect_answer(srv_ctx *ctx, const srv_probe *p, int strict, srv_expect *e);

/* The table-driven case: build spec, expect, send, compare, judge. */
void srv_run_spec(srv_ctx *ctx, const srv_case *c, srv_outcome *out);

/* Send p, compare with the two expectations and set out's verdict by the
 * case's strict rule.  compare_ctype also checks the media type. */
void srv_judge(srv_ctx *ctx, const srv_case *c, const srv_probe *p, int compare_ctype,
               srv_outcome *out, srv_reply *reply_out);

/* 1 when r is Emoncms's per-account node-limit answer ("Reached the
 * maximal allowed number of different NodeIds"): never a case's verdict. */
int srv_account_limit(const srv_reply *r);

/* The same against expectations the caller has (e.g. a vector's). */
void srv_judge_against(srv_ctx *ctx, const srv_case *c, const srv_probe *p, int compare_ctype,
                       const srv_expect *compat, const srv_expect *strict, srv_outcome *out,
                       srv_reply *reply_out);

/* Fill out's sent/repro from p. */
void srv_describe(srv_ctx *ctx, const srv_probe *p, srv_outcome *out);
/* printf into out->message (replaces). */
void srv_say(srv_outcome *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copy expected/actual bytes into out. */
void srv_set_bytes(srv_outcome *out, const void *exp, size_t exp_len, const void *act,
                   size_t act_len);
/* A short printable rendering of a reply ("200 text/plain \"abc…\""), malloc'd. */
char *srv_reply_text(const srv_reply *r);

/* ---- known Emoncms behaviours by version (known_bugs.c, issue 19) --------- */

/* The note of a known Emoncms bug or missing feature that explains this
 * answer to this case ("known Emoncms bug, fixed in 11.9.8 (27cc63e4): …"),
 * or NULL. */
const char *srv_known_behaviour(const char *case_id, const srv_reply *r);
/* The same, for a server of version (e.g. "11.16.8"; NULL or "" = unknown):
 * a behaviour fixed in or before version is no longer expected (NULL).
 * want_body (want_len bytes; NULL = not known) is the answer the case
 * expected: a row may match every case that expects its body (the bulk
 * vectors that meet the bulk-JSON bug), not only the cases it lists. */
const char *srv_known_behaviour_at(const char *case_id, const srv_reply *r, const char *version,
                                   const char *want_body, size_t want_len);
/* Compare two dotted versions ("10.8.5" < "11.2.3"): <0, 0, >0. */
int srv_version_cmp(const char *a, const char *b);
/* 1 when text is a plain dotted version "N.N.N" (what Emoncms's /version answers). */
int srv_version_valid(const char *text);
/* The release that added aes128cbcgz (c1c32c5b). */
#define SRV_GZ_SINCE "11.2.3"
/* 1 when the case needs aes128cbcgz (the gz cases and gz vectors). */
int srv_needs_gz(const char *case_id);
/* When out is a FAIL and r matches a known behaviour, append its note. */
void srv_note_known(const srv_case *c, const srv_reply *r, srv_outcome *out);
/* The same, knowing the run's server version (ctx->version) and the body
 * the case expected (want_body, want_len; NULL = none). */
void srv_note_known_ctx(srv_ctx *ctx, const srv_case *c, const srv_reply *r, const char *want_body,
                        size_t want_len, srv_outcome *out);
/* 1 when c is a reference vector sent with Content-Type aes128cbcgz (any
 * case): it needs aes128cbcgz whatever its id (s8_vectors.c). */
int srv_vector_sends_gz(const srv_case *c);

/* ---- stored data (srv_core.c) --------------------------------------------- */

/* Read the rows stored for the suite's node: from emoncrypt serve's
 * /emoncrypt/rows (loopback or --rows-url: every row, in store order), or
 * from Emoncms's /input/get/NODE with --readkey (each input's last value
 * only: ctx->rows_last_only is then 1).  Returns 1 and fills *rows
 * (malloc'd), 0 when unavailable (why says so: the case SKIPs), -1 on a
 * read error. */
int srv_rows_read(srv_ctx *ctx, srv_row **rows, size_t *n, char *why, size_t why_cap);

/* Whether a value read back is the value sent, as a MariaDB FLOAT column
 * (Emoncms's input.value) read through /input/get keeps it: 6 significant
 * digits.  Markers are integers below 10^6, so they survive exactly and
 * neighbours (v, v+1, v+2) never match each other. */
int srv_value_is(double read, double sent);

/* "v1, v2, ..." of the rows read back (at most cap bytes), for a FAIL to
 * say what was read. */
void srv_rows_values(const srv_row *rows, size_t n, char *buf, size_t cap);

/* 1 when the base URL is on loopback (127.x, localhost, [::1]). */
int srv_target_is_loopback(const srv_ctx *ctx);

/* ---- reference vectors (s8_vectors.c) ------------------------------------- */

/* Load the vector file (opt->vectors_path; NULL = the source tree's, ""
 * = none) into a group of cases, one per vector.  Returns 0 (group->count
 * NULL or 0 when there are none), or -1 with err set when the file
 * (named or the default) cannot be loaded. */
int srv_vectors_open(srv_ctx *ctx, srv_group *group, void **state, char *err, size_t err_cap);
void srv_vectors_close(void *state);

/* ---- slow requests (s4_limits.c) ------------------------------------------ */

void srv_slow_start(srv_ctx *ctx);
void srv_slow_finish(srv_ctx *ctx);

/* ---- deterministic runs and transcripts (srv_trace.c) -------------------- */

/* Set up the run's random source (opt->seeded: a keystream of the seed,
 * else the OS's), its clock (opt->now, or with a seed the time at this
 * call; else time(NULL) each time) and, with opt->record, the transcript.
 * Returns -1 when libcrypto or memory fails. */
int srv_trace_begin(const ec_server_suite_options *opt);
void srv_trace_end(void);
/* The suite's random bytes: never ec_random directly. */
void srv_random(void *out, size_t n);
/* The suite's clock (seconds since the epoch). */
int64_t srv_now(void);
/* The server's version as the run found it (recorded). */
void srv_trace_version(const char *version, const char *from);
int srv_trace_recording(void);
/* The case id this thread runs (NULL between cases): each exchange names it. */
void srv_trace_case(const char *id);
/* One HTTP exchange: base "target" or "rows" (another reader), the request
 * as the suite built it (the headers it set; the client adds Host and
 * Content-Length) and the reply. */
void srv_trace_http(const char *base, const char *method, const char *path_query,
                    const char *const *names, const char *const *values, size_t n_headers,
                    const uint8_t *body, size_t body_len, long timeout_ms, const srv_reply *r);
/* One raw-socket probe (s4_limits.c): what was sent (host is the Host
 * header's value, recorded as {host}), how long it waited at most, and
 * whether the server closed or answered (first_line) after waited_ms. */
void srv_trace_raw(const char *probe, const char *sent, size_t sent_len, const char *host,
                   long bound_ms, int closed, const char *first_line, long waited_ms);

#endif
