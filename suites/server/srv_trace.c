/* see srv.h — deterministic runs (--seed, --now) and transcripts
 * (--record): the suite's random bytes and clock, and a record of every
 * exchange with the target, for `emoncrypt serve-transcript` to answer
 * again (issue 11: the truth about real servers kept in CI; issue 19: one
 * transcript per tested Emoncms version).
 *
 * The seeded source is AES-128-CTR (libcrypto) over zeros, keyed by
 * SHA-256 of the seed: the same bytes in the same order on every run with
 * that seed.  It is for recording and replaying only: a device must never
 * reuse IVs across runs, and a seeded run does exactly that. */
#include "server/srv.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "emoncrypt/codec.h"

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static ec_keystream *seeded;           /* NULL = the OS source (ec_random) */
static int clock_fixed;
static int64_t clock_now;
static json_t *exchanges;              /* NULL = not recording */
static char server_version[32], server_version_from[40];
static char base_path[300];            /* the base URL's path ("/emoncms") */
static char base_host[260];            /* its host[:port], replaced by {host} */
static _Thread_local const char *case_now; /* the case this thread runs */

/* see srv.h */
void srv_trace_case(const char *id)
{
    case_now = id;
}

static void split_base(const char *url)
{
    base_path[0] = base_host[0] = 0;
    const char *h = url ? strstr(url, "://") : NULL;
    if (!h)
        return;
    h += 3;
    const char *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (hl >= sizeof base_host)
        hl = sizeof base_host - 1;
    memcpy(base_host, h, hl);
    base_host[hl] = 0;
    snprintf(base_path, sizeof base_path, "%s", slash ? slash : "");
    size_t n = strlen(base_path);
    while (n > 0 && base_path[n - 1] == '/')
        base_path[--n] = 0;
}

/* see srv.h */
int srv_trace_begin(const ec_server_suite_options *opt)
{
    srv_trace_end();
    pthread_mutex_lock(&trace_lock);
    int rc = 0;
    if (opt->seeded) {
        char text[64];
        int n = snprintf(text, sizeof text, "emoncrypt test-server seed %llu",
                         (unsigned long long)opt->seed);
        uint8_t digest[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)text, (size_t)n, digest);
        static const uint8_t zero_iv[16];
        seeded = ec_keystream_new(digest, zero_iv);
        if (!seeded)
            rc = -1;
        ec_wipe(digest, sizeof digest);
    }
    if (opt->now > 0) {
        clock_fixed = 1;
        clock_now = opt->now;
    } else if (opt->seeded) {
        clock_fixed = 1;               /* the run's one clock, recorded */
        clock_now = (int64_t)time(NULL);
    }
    if (opt->record) {
        exchanges = json_array();
        if (!exchanges)
            rc = -1;
    }
    split_base(opt->base_url);
    pthread_mutex_unlock(&trace_lock);
    return rc;
}

/* see srv.h */
void srv_trace_end(void)
{
    pthread_mutex_lock(&trace_lock);
    ec_keystream_free(seeded);
    seeded = NULL;
    clock_fixed = 0;
    json_decref(exchanges);
    exchanges = NULL;
    server_version[0] = server_version_from[0] = 0;
    pthread_mutex_unlock(&trace_lock);
}

/* see srv.h */
void srv_random(void *out, size_t n)
{
    pthread_mutex_lock(&trace_lock);
    if (seeded) {
        ec_status st = ec_keystream_bytes(seeded, out, n);
        pthread_mutex_unlock(&trace_lock);
        if (st != EC_OK)
            abort();    /* libcrypto failed: no silent zeros in a seeded run */
        return;
    }
    pthread_mutex_unlock(&trace_lock);
    ec_random(out, n);
}

/* see srv.h */
int64_t srv_now(void)
{
    return clock_fixed ? clock_now : (int64_t)time(NULL);
}

/* see srv.h */
void srv_trace_version(const char *version, const char *from)
{
    pthread_mutex_lock(&trace_lock);
    snprintf(server_version, sizeof server_version, "%s", version ? version : "");
    snprintf(server_version_from, sizeof server_version_from, "%s", from ? from : "");
    pthread_mutex_unlock(&trace_lock);
}

/* A body as JSON: {"b64": …}, or {"fill": byte, "len": n} for n copies of
 * one byte (the 1 MiB oversized body). */
static json_t *body_json(const uint8_t *b, size_t n)
{
    if (n >= 256) {
        size_t i = 1;
        while (i < n && b[i] == b[0])
            i++;
        if (i == n)
            return json_pack("{s:i, s:I}", "fill", (int)b[0], "len", (json_int_t)n);
    }
    if (n == 0)
        return json_pack("{s:s}", "b64", "");
    size_t cap = ec_b64_encoded_len(n, 1) + 1;
    char *t = malloc(cap);
    size_t len = 0;
    if (!t || ec_b64_encode(b, n, EC_B64_STD, 1, t, cap, &len) != EC_OK) {
        free(t);
        return json_null();
    }
    json_t *j = json_pack("{s:s%}", "b64", t, len);
    free(t);
    return j;
}

static const char *net_name(srv_net n)
{
    switch (n) {
    case SRV_NET_OK: return "ok";
    case SRV_NET_CONNECT: return "connect";
    case SRV_NET_TIMEOUT: return "timeout";
    default: return "other";
    }
}

static void append(json_t *x)
{
    pthread_mutex_lock(&trace_lock);
    if (exchanges && x) {
        json_object_set_new(x, "n", json_integer((json_int_t)json_array_size(exchanges)));
        if (case_now)
            json_object_set_new(x, "case", json_string(case_now));
        json_array_append(exchanges, x);
    }
    pthread_mutex_unlock(&trace_lock);
    json_decref(x);
}

/* see srv.h */
int srv_trace_recording(void)
{
    return exchanges != NULL;
}

/* see srv.h */
void srv_trace_http(const char *base, const char *method, const char *path_query,
                    const char *const *names, const char *const *values, size_t n_headers,
                    const uint8_t *body, size_t body_len, long timeout_ms, const srv_reply *r)
{
    if (!exchanges)
        return;
    json_t *hdrs = json_array();
    for (size_t i = 0; i < n_headers; i++)
        json_array_append_new(hdrs, json_pack("[s,s]", names[i], values[i]));
    json_t *resp = json_pack("{s:s}", "net", net_name(r->net));
    if (r->net == SRV_NET_OK) {
        json_object_set_new(resp, "status", json_integer(r->status));
        json_object_set_new(resp, "content_type",
                            r->content_type ? json_string(r->content_type) : json_null());
        json_object_set_new(resp, "body", body_json(r->body, r->body_len));
    }
    json_object_set_new(resp, "elapsed_ms", json_integer(r->elapsed_ms));
    json_t *req = json_pack("{s:s, s:s, s:o, s:o, s:i}", "method", method, "target", path_query,
                            "headers", hdrs, "body", body_json(body, body_len), "timeout_ms",
                            (int)timeout_ms);
    /* the target itself or another reader (--rows-url) */
    append(json_pack("{s:s, s:s, s:o, s:o}", "kind", "http", "base", base, "request", req,
                     "response", resp));
}

/* see srv.h */
void srv_trace_raw(const char *probe, const char *sent, size_t sent_len, const char *host,
                   long bound_ms, int closed, const char *first_line, long waited_ms)
{
    if (!exchanges)
        return;
    /* the Host header's value and the base's path become {host}, {base} */
    char *norm = malloc(sent_len * 2 + 64);
    if (!norm)
        return;
    size_t o = 0;
    const char *s = sent, *end = sent + sent_len;
    size_t hl = strlen(host), pl = strlen(base_path);
    while (s < end) {
        if (hl && (size_t)(end - s) >= hl && memcmp(s, host, hl) == 0 && s >= sent + 6 &&
            memcmp(s - 6, "Host: ", 6) == 0) {
            memcpy(norm + o, "{host}", 6);
            o += 6;
            s += hl;
        } else if (pl && s - sent < 16 && (size_t)(end - s) >= pl && memcmp(s, base_path, pl) == 0 &&
                   s > sent && s[-1] == ' ') {
            s += pl;   /* the request target is relative to the base */
        } else {
            norm[o++] = *s++;
        }
    }
    json_t *x = json_pack("{s:s, s:s, s:o, s:i, s:b, s:s, s:i}", "kind", "raw", "probe", probe,
                          "request", body_json((const uint8_t *)norm, o), "bound_ms", (int)bound_ms,
                          "closed", closed, "first_line", first_line ? first_line : "",
                          "waited_ms", (int)waited_ms);
    free(norm);
    append(x);
}

/* The test-server arguments a replay needs, from the command line. */
static json_t *args_json(const char *const *args, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(args[i]));
    return a;
}

/* see server_suite.h */
int ec_server_suite_write_transcript(const ec_server_suite_options *opt, const ec_report *report,
                                     const char *const *args, size_t n_args, const char *path,
                                     char *err, size_t err_cap)
{
    if (!exchanges) {
        snprintf(err, err_cap, "nothing recorded");
        return -1;
    }
    json_t *verdicts = json_array();
    ec_report_totals t = ec_report_get_totals(report);
    for (size_t i = 0; i < ec_report_count(report); i++) {
        const ec_case_result *r = ec_report_result(report, i);
        json_array_append_new(verdicts, json_pack("[s,s]", r->id, ec_verdict_name(r->verdict)));
    }
    json_t *totals = json_pack("{s:I}", "cases", (json_int_t)t.total);
    for (int v = 0; v < EC_VERDICT_COUNT_; v++)
        json_object_set_new(totals, ec_verdict_name((ec_verdict)v), json_integer((json_int_t)t.by_verdict[v]));
    char url[400];
    snprintf(url, sizeof url, "%.10s{host}%s",
             opt->base_url && strncmp(opt->base_url, "https://", 8) == 0 ? "https://" : "http://",
             base_path);
    json_t *server = json_pack("{s:s, s:s, s:s}", "url", url, "version", server_version,
                               "version_from", server_version_from);
    pthread_mutex_lock(&trace_lock);
    json_t *doc = json_pack(
        "{s:s, s:i, s:s, s:o, s:o, s:I, s:I, s:O, s:o, s:o}",
        "format", "emoncrypt-transcript", "format_version", 1,
        "note", "a seeded run of emoncrypt test-server (reused IVs: for replay only) and every "
                "exchange with the server, for emoncrypt serve-transcript",
        "server", server, "args", args_json(args, n_args), "seed", (json_int_t)opt->seed, "now",
        (json_int_t)clock_now, "exchanges", exchanges, "verdicts", verdicts, "totals", totals);
    pthread_mutex_unlock(&trace_lock);
    int rc = 0;
    if (!doc || json_dump_file(doc, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0) {
        snprintf(err, err_cap, "cannot write %s", path);
        rc = -1;
    }
    json_decref(doc);
    return rc;
}
