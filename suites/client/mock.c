/* emoncrypt — the mock Emoncms of the client-role suite (see
 * client_suite.h): receives whatever the device sends, judges it with the
 * shared server logic, answers with the active scenario's next scripted
 * answer, captures everything, and turns it all into a report at the end.
 *
 * The device needs no change: scenarios advance on each accepted post of
 * the configured user, so pointing a device's server setting here is
 * enough.  A post the shared logic rejects gets the answer Emoncms would
 * give and does not advance the scenario. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "client/client_internal.h"
#include "emoncrypt/plaintext.h"
#include "emoncrypt/report.h"

struct ec_client_suite {
    cs_run run;
    pthread_mutex_t lock;
    ec_httpd *httpd;
    ec_capture_writer *capture;
    double started;
    double last_request;
    cs_cursor cur;                /* where the scenarios are */
    char state_err[512];          /* --state could not be written */
    int stopped;
    cs_outcome *outcomes;         /* the request being answered's, cs_check_count */
    char summary[768];
    /* A replay (test-client --from-capture): the clock is the captured
     * time of the record being replayed, and the answer to a request whose
     * device hung up on it (a client-gone event later in the capture) is
     * over only when that event is replayed, as in the live run. */
    double clock;                 /* > 0: the replay's clock */
    uint64_t hold_connection;     /* its on_done is the event's, not the call's */
};

static double wall_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* The suite's clock: the wall clock, or a replay's. */
static double now_of(const ec_client_suite *s)
{
    return s->clock > 0 ? s->clock : wall_s();
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* ---- recording --------------------------------------------------------- */

/* The request being answered: judged, logged, captured and folded into
 * the run's state, then freed; only a cs_post stays. */
static void init_request(ec_client_suite *s, cs_request *r)
{
    cs_run *run = &s->run;
    memset(r, 0, sizeof *r);
    ec_diagnosis_init(&r->diag);
    r->seq = run->request_count + 1;
    r->scenario = -1;
    r->step = -1;
    r->outcomes = s->outcomes;
    memset(r->outcomes, 0, cs_check_count * sizeof *r->outcomes);
}

static void free_request(cs_request *r)
{
    free(r->method);
    free(r->path);
    free(r->query);
    for (size_t i = 0; i < r->header_count; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    free(r->body);
    ec_diagnosis_free(&r->diag);
    free(r->rows);
}

/* Settle the posts at the head of the queue whose answers are over, in
 * arrival order: the checks across posts take them (c7_settle). */
static void drain_queue(cs_run *run)
{
    while (run->queued > 0 && run->queue[run->queue_head].done) {
        cs_post *p = &run->queue[run->queue_head];
        c7_settle(run, p);
        free(p->rows);
        p->rows = NULL;
        run->queue_head++;
        run->queued--;
    }
    if (run->queued == 0)
        run->queue_head = 0;
}

/* The posts on this connection are over (HTTP/1.1: one at a time). */
static void connection_done(cs_run *run, uint64_t connection)
{
    for (size_t i = 0; i < run->queued; i++)
        if (run->queue[run->queue_head + i].connection == connection)
            run->queue[run->queue_head + i].done = 1;
    drain_queue(run);
}

/* Queue what the audit across requests needs of r (its rows move there)
 * until its answer is over: a device that hangs up on it makes it
 * undelivered (client_gone), whatever came first. */
static void keep_post(cs_run *run, cs_request *r)
{
    run->request_count++;
    run->post_count += r->is_post != 0;
    /* An earlier request on the same connection is over. */
    connection_done(run, r->connection);
    if (run->queue_head + run->queued == run->queue_cap) {
        if (run->queue_head > 0) {
            memmove(run->queue, run->queue + run->queue_head, run->queued * sizeof *run->queue);
            run->queue_head = 0;
        } else {
            size_t cap = run->queue_cap ? run->queue_cap * 2 : 64;
            cs_post *grown = realloc(run->queue, cap * sizeof *grown);
            if (grown == NULL)
                return; /* out of memory: the checks across posts do without it */
            run->queue = grown;
            run->queue_cap = cap;
        }
    }
    cs_post *p = &run->queue[run->queue_head + run->queued++];
    memset(p, 0, sizeof *p);
    p->seq = r->seq;
    p->arrival = r->arrival;
    p->connection = r->connection;
    p->is_post = (unsigned char)r->is_post;
    p->accepted = (unsigned char)r->accepted;
    p->has_iv = (unsigned char)r->has_iv;
    p->absolute_time = (unsigned char)r->absolute_time;
    p->weak_identity = (unsigned char)r->weak_identity;
    p->reply_is_ack = (unsigned char)r->reply_is_ack;
    p->client_gone = (unsigned char)r->client_gone;
    memcpy(p->iv, r->iv, EC_IV_LEN);
    p->rows = r->rows;
    p->row_count = r->row_count;
    r->rows = NULL;
    r->row_count = 0;
    p->scenario = r->scenario;
    p->step = r->step;
    p->script = r->script;
    p->reply_status = r->reply_status;
    p->retry_after_s = r->retry_after_s;
}

/* A row's identity as the audit keeps it (see cs_row). */
static uint64_t row_digest(const char *key, size_t n)
{
    uint8_t d[EC_SHA256_LEN];
    if (ec_sha256((const uint8_t *)key, n, d) != EC_OK)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | d[i];
    return v;
}

static int looks_like_input_post(const char *path)
{
    return strstr(path, "/input/post") != NULL || strstr(path, "/input/bulk") != NULL ||
           strstr(path, "/input/encrypted") != NULL;
}

/* The rows an accepted post carries, with identities that survive a
 * resend.  Absolute times (time=T, a time in fulljson, legacy) identify a
 * row fully.  Bulk rows relative to sentat/offset/now keep their own t.
 * A post with no time at all gets the server's clock, so the post's text
 * is its only identity: a resend is the same text again, and so is the
 * same reading sent twice (weak_identity: duplicates are only INFO). */
static void record_rows(cs_request *r, int64_t now)
{
    const ec_answer *a = &r->diag.answer;
    const char *t = ec_params_get(&a->params, "time");
    const char *sentat = ec_params_get(&a->params, "sentat");
    const char *offset = ec_params_get(&a->params, "offset");
    int bulk = a->api == EC_API_BULK;
    const char *api = a->profile == EC_PROFILE_LEGACY ? "legacy" : bulk ? "bulk" : "post";
    int64_t shift = 0;
    int fulljson_time = !bulk && a->rows.n > 0 && a->rows.rows[0].time != now && t == NULL;
    if (a->profile == EC_PROFILE_LEGACY) {
        r->absolute_time = 1;
        snprintf(r->time_mode, sizeof r->time_mode, "legacy: absolute unix times");
    } else if (t != NULL) {
        r->absolute_time = 1;
        snprintf(r->time_mode, sizeof r->time_mode, "%s time=T (absolute)", api);
    } else if (fulljson_time) {
        r->absolute_time = 1;
        snprintf(r->time_mode, sizeof r->time_mode, "post, time in the JSON (absolute)");
    } else if (bulk && sentat != NULL) {
        shift = strtoll(sentat, NULL, 10);
        snprintf(r->time_mode, sizeof r->time_mode, "bulk sentat=S (relative)");
    } else if (bulk && offset != NULL) {
        shift = strtoll(offset, NULL, 10);
        snprintf(r->time_mode, sizeof r->time_mode, "bulk offset=O (relative)");
    } else if (bulk) {
        snprintf(r->time_mode, sizeof r->time_mode, "bulk without a reference (relative to now)");
    } else {
        r->weak_identity = 1;
        snprintf(r->time_mode, sizeof r->time_mode, "post without a time (the server's now)");
    }
    if (a->rows.n == 0)
        return;
    if (r->weak_identity) {
        r->rows = calloc(1, sizeof *r->rows);
        if (r->rows == NULL)
            return;
        size_t n = r->diag.plaintext_len;
        char *key = malloc(n + 6);
        if (key == NULL)
            return;
        memcpy(key, "post|", 5);
        memcpy(key + 5, r->diag.plaintext ? (const char *)r->diag.plaintext : "", n);
        key[5 + n] = 0;
        r->rows[0].digest = row_digest(key, strlen(key));
        r->rows[0].time = a->rows.rows[0].time;
        free(key);
        r->row_count = 1;
        return;
    }
    r->rows = calloc(a->rows.n, sizeof *r->rows);
    if (r->rows == NULL)
        return;
    for (size_t i = 0; i < a->rows.n; i++) {
        const ec_row *row = &a->rows.rows[i];
        char key[512];
        char value[40];
        if (row->is_null)
            snprintf(value, sizeof value, "null");
        else
            snprintf(value, sizeof value, "%.17g", row->value);
        if (r->absolute_time)
            snprintf(key, sizeof key, "%lld|%s|%s|%s", (long long)row->time, row->node,
                     row->name, value);
        else /* the sender's own t: row time = now - S + t */
            snprintf(key, sizeof key, "t%lld|%s|%s|%s", (long long)(row->time - now + shift),
                     row->node, row->name, value);
        r->rows[i].digest = row_digest(key, strlen(key));
        r->rows[i].time = row->time;
        r->row_count = i + 1;
    }
}

/* ---- answering ----------------------------------------------------------- */

/* The scripted answer for an accepted post, advancing the scenario. */
static const ec_scripted_reply *next_step(ec_client_suite *s, cs_request *r)
{
    static const ec_scripted_reply ack = {.status = 200,
                                          .content_type = "text/plain;charset=UTF-8",
                                          .kind = EC_REPLY_ACK, .reset_after = -1};
    if (s->cur.scenarios_done)
        return &ack;
    const ec_client_scenario *sc = s->run.scenarios[s->cur.scenario_pos];
    r->scenario = (int)s->cur.scenario_pos;
    r->step = (int)s->cur.step_pos;
    if (s->cur.step_pos < sc->step_count)
        return &sc->steps[s->cur.step_pos++];
    /* The observation post: answered with the ack; the scenario is over. */
    s->cur.step_pos = 0;
    if (++s->cur.scenario_pos == s->run.scenario_count)
        s->cur.scenarios_done = 1;
    return &ack;
}

static void reply_scripted(const ec_scripted_reply *step, const cs_request *r,
                           ec_httpd_reply *reply, char *body, size_t cap, size_t *body_len)
{
    const ec_answer *a = &r->diag.answer;
    switch (step->kind) {
    case EC_REPLY_ACK:
        snprintf(body, cap, "%s", a->ack);
        break;
    case EC_REPLY_OTHER_ACK: {
        /* A well-formed ack, of the bytes plus one: "other data". */
        uint8_t *other = malloc(a->decrypted_len + 1);
        if (other != NULL) {
            if (a->decrypted_len)
                memcpy(other, a->decrypted, a->decrypted_len);
            other[a->decrypted_len] = '\n';
            ec_ack_of(other, a->decrypted_len + 1, body);
            free(other);
        }
        break;
    }
    case EC_REPLY_HEX_ACK: {
        uint8_t digest[EC_SHA256_LEN];
        ec_sha256(a->decrypted, a->decrypted_len, digest);
        ec_hex_encode(digest, sizeof digest, body, cap);
        break;
    }
    case EC_REPLY_NO_PAD_ACK:
        snprintf(body, cap, "%.*s", EC_ACK_LEN - 1, a->ack);
        break;
    case EC_REPLY_TEXT:
        snprintf(body, cap, "%s", step->text ? step->text : "");
        break;
    }
    *body_len = strlen(body);
    ec_httpd_reply_status(reply, step->status);
    if (step->content_type != NULL)
        ec_httpd_reply_header(reply, "Content-Type", step->content_type);
    if (step->retry_after_s > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%u", step->retry_after_s);
        ec_httpd_reply_header(reply, "Retry-After", ra);
    }
    ec_httpd_reply_body(reply, body, *body_len);
    if (step->never)
        ec_httpd_reply_script(reply, EC_HTTPD_NEVER, 0, 0, 0, 0);
    else if (step->reset_after >= 0)
        ec_httpd_reply_script(reply, EC_HTTPD_RESET, step->delay_ms, 0, 0,
                              (size_t)step->reset_after);
    else if (step->trickle_interval_ms > 0)
        ec_httpd_reply_script(reply, EC_HTTPD_TRICKLE, step->delay_ms,
                              step->trickle_bytes ? step->trickle_bytes : 1,
                              step->trickle_interval_ms, 0);
    else if (step->delay_ms > 0)
        ec_httpd_reply_script(reply, EC_HTTPD_DELAY, step->delay_ms, 0, 0, 0);
}

static const char *script_name(const ec_scripted_reply *step)
{
    if (step == NULL)
        return "normal";
    if (step->never)
        return "never";
    if (step->reset_after >= 0)
        return "reset";
    if (step->trickle_interval_ms > 0)
        return "trickle";
    return step->delay_ms ? "delay" : "normal";
}

static void run_request_checks(const cs_run *run, cs_request *r)
{
    for (size_t c = 0; c < cs_check_count; c++) {
        r->outcomes[c].verdict = EC_VERDICT_SKIP;
        if (cs_checks[c]->on_request != NULL)
            cs_checks[c]->on_request(run, r, &r->outcomes[c]);
    }
}

/* A -v line on stderr, redacted: the path, query and events are the
 * device's and may hold its key (/input/post/KEY, ?apikey=KEY). */
static void mock_log(const ec_client_suite *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void mock_log(const ec_client_suite *s, const char *fmt, ...)
{
    const char *secret = s->run.opt.show_secrets ? NULL : s->run.apikey_hex;
    va_list ap;
    va_start(ap, fmt);
    ec_redact_vprintf(stderr, &secret, secret ? 1 : 0, fmt, ap);
    va_end(ap);
}

static void log_request(const ec_client_suite *s, const cs_request *r, const char *answer)
{
    if (!s->run.opt.verbose)
        return;
    char label[160], failed[256] = "";
    size_t used = 0;
    for (size_t c = 0; c < cs_check_count; c++) {
        ec_verdict v = r->outcomes[c].verdict;
        if (v != EC_VERDICT_FAIL && v != EC_VERDICT_NON_STRICT)
            continue;
        if (used < sizeof failed - 2) {
            int w = snprintf(failed + used, sizeof failed - used, " %s %s",
                             ec_verdict_name(v), cs_checks[c]->id);
            if (w > 0)
                used += (size_t)w;
        }
    }
    const char *sc = r->scenario >= 0 ? s->run.scenarios[r->scenario]->name : NULL;
    mock_log(s, "%s %zu B%s%s%s -> %s%s%s\n", cs_label(r, label, sizeof label), r->body_len,
             sc ? " [" : "", sc ? sc : "", sc ? "]" : "", answer, failed[0] ? " |" : "", failed);
}

static void capture_request(ec_client_suite *s, const cs_request *r, unsigned status,
                            const char *content_type, const char *body, size_t body_len)
{
    if (s->capture == NULL)
        return;
    const char *failed[64];
    size_t nf = 0;
    for (size_t c = 0; c < cs_check_count && nf < 64; c++)
        if (r->outcomes[c].verdict == EC_VERDICT_FAIL)
            failed[nf++] = cs_checks[c]->id;
    char mistakes[256] = "";
    if (r->diag.reproduced)
        ec_mistake_list(r->diag.mistakes, mistakes, sizeof mistakes);
    ec_capture_record rec;
    memset(&rec, 0, sizeof rec);
    rec.seq = r->seq;
    rec.time = r->arrival;
    rec.kind = "exchange";
    rec.connection = r->connection;
    rec.method = r->method;
    rec.path = r->path;
    rec.query = r->query;
    rec.headers = r->headers;
    rec.header_count = r->header_count;
    rec.body = r->body;
    rec.body_len = r->body_len;
    rec.scenario = r->scenario >= 0 ? (char *)s->run.scenarios[r->scenario]->name : NULL;
    rec.step = r->step;
    rec.has_reply = 1;
    rec.reply_status = status;
    rec.reply_content_type = (char *)content_type;
    rec.reply_body = (uint8_t *)body;
    rec.reply_body_len = body_len;
    rec.reply_script = (char *)script_name(r->script);
    rec.fault = r->is_post ? (char *)ec_status_name(r->diag.answer.fault) : NULL;
    rec.mistakes = r->is_post && r->diag.reproduced ? mistakes : NULL;
    rec.failed = (char **)failed;
    rec.failed_count = nf;
    ec_capture_write(s->capture, &rec);
}

static int severity(ec_verdict v)
{
    switch (v) {
    case EC_VERDICT_FAIL: return 4;
    case EC_VERDICT_NON_STRICT: return 3;
    case EC_VERDICT_PASS: return 2;
    case EC_VERDICT_INFO: return 1;
    default: return 0;
    }
}

/* Each per-request check's worst outcome so far, naming the first request
 * that had it (what the report says at the end), and the audit's state. */
static void fold_request(cs_run *run, const cs_request *r)
{
    for (size_t c = 0; c < cs_check_count; c++) {
        const cs_outcome *o = &r->outcomes[c];
        cs_aggregate *ag = &run->aggregates[c];
        if (o->verdict == EC_VERDICT_SKIP)
            continue;
        ag->judged++;
        if (!ag->have || severity(o->verdict) > severity(ag->worst.verdict)) {
            ag->have = 1;
            ag->worst = *o;
            ag->worst_count = 1;
            ag->seq = r->seq;
            cs_label(r, ag->label, sizeof ag->label);
            /* What the device sent, for the request the verdict names. */
            char iv[2 * EC_IV_LEN + 1] = "";
            if (r->has_iv)
                ec_hex_encode(r->iv, EC_IV_LEN, iv, sizeof iv);
            snprintf(ag->sent, sizeof ag->sent, "request #%zu: %s %s, %zu-byte body%s%s%s",
                     r->seq, r->method, r->path, r->body_len, iv[0] ? ", IV " : "", iv,
                     r->diag.reproduced && r->diag.mistakes ? ", built with a known mistake"
                                                            : "");
        } else if (o->verdict == ag->worst.verdict) {
            ag->worst_count++;
        }
    }
    c2_iv_observe(run, r);
    c7_time_observe(run, r);
    c7_apikey_observe(run, r);
}

static void handle(void *ctx, const ec_httpd_request *req, ec_httpd_reply *reply)
{
    ec_client_suite *s = ctx;
    pthread_mutex_lock(&s->lock);
    const ec_client_suite_options *o = &s->run.opt;
    if (s->stopped ||
        (o->max_requests > 0 && s->run.request_count - s->run.resumed >= o->max_requests) ||
        (o->duration_ms > 0 && (now_of(s) - s->started) * 1000.0 >= o->duration_ms)) {
        /* The run is over: what comes now is not judged. */
        pthread_mutex_unlock(&s->lock);
        static const char over[] = "emoncrypt test-client: the run is over\n";
        ec_httpd_reply_status(reply, 503);
        ec_httpd_reply_header(reply, "Content-Type", "text/plain");
        ec_httpd_reply_body(reply, over, sizeof over - 1);
        return;
    }
    cs_request request;
    cs_request *r = &request;
    init_request(s, r);
    r->arrival = req->arrival_time > 0 ? req->arrival_time : now_of(s);
    r->connection = req->connection_id;
    r->method = dup_or_empty(req->method);
    r->path = dup_or_empty(req->path);
    r->query = dup_or_empty(req->query);
    r->headers = calloc(req->header_count ? req->header_count : 1, sizeof *r->headers);
    for (size_t i = 0; r->headers != NULL && i < req->header_count; i++) {
        r->headers[i].name = dup_or_empty(req->headers[i].name);
        r->headers[i].value = dup_or_empty(req->headers[i].value);
        r->header_count++;
    }
    r->body = malloc(req->body_len + 1);
    if (r->body != NULL) {
        if (req->body_len)
            memcpy(r->body, req->body, req->body_len);
        r->body[req->body_len] = 0;
        r->body_len = req->body_len;
    }
    r->is_post = strcmp(r->method, "POST") == 0 || looks_like_input_post(r->path);

    char body[1024];
    size_t body_len = 0;
    unsigned status = 200;
    const char *content_type = "text/plain";
    char answer[160];
    if (r->is_post) {
        ec_diagnose_config dc;
        memset(&dc, 0, sizeof dc);
        memcpy(dc.key, s->run.key, EC_KEY_LEN);
        dc.apikey_hex = s->run.apikey_hex;
        dc.userid = s->run.userid;
        dc.username = s->run.username;
        dc.now = (int64_t)r->arrival;
        ec_http_request hr = {
            .method = r->method,
            .path = r->path,
            .query = r->query[0] ? r->query : NULL,
            .content_type = cs_header(r, "Content-Type", NULL),
            .authorization = cs_header(r, "Authorization", NULL),
            .body = r->body,
            .body_len = r->body_len,
        };
        ec_diagnose_request(&dc, &hr, &r->diag);
        r->accepted = r->diag.answer.fault == EC_OK;
        r->has_iv = cs_decodable(r) && r->diag.has_iv;
        if (r->has_iv)
            memcpy(r->iv, r->diag.iv, EC_IV_LEN);
        if (r->accepted)
            record_rows(r, dc.now);
    }
    run_request_checks(&s->run, r);

    if (r->is_post && r->accepted) {
        const ec_scripted_reply *step = next_step(s, r);
        r->script = step;
        reply_scripted(step, r, reply, body, sizeof body, &body_len);
        status = step->status;
        content_type = step->content_type;
        r->reply_status = status;
        r->reply_is_ack = step->kind == EC_REPLY_ACK && !step->never && step->reset_after < 0 &&
                          step->status == 200;
        r->retry_after_s = step->retry_after_s;
        char shown[64];
        cs_printable(body, body_len, shown, sizeof shown);
        snprintf(answer, sizeof answer, "%u %s (%s)", status, shown, script_name(step));
    } else if (r->is_post) {
        /* What Emoncms answers: the shared logic's exact answer. */
        const ec_answer *a = &r->diag.answer;
        status = (unsigned)a->http_status;
        content_type = a->content_type[0] ? a->content_type : NULL;
        body_len = a->answer ? a->answer_len : 0;
        if (body_len >= sizeof body)
            body_len = sizeof body - 1;
        if (body_len)
            memcpy(body, a->answer, body_len);
        body[body_len] = 0;
        ec_httpd_reply_status(reply, status);
        if (content_type != NULL)
            ec_httpd_reply_header(reply, "Content-Type", content_type);
        if (a->www_authenticate[0])
            ec_httpd_reply_header(reply, "WWW-Authenticate", a->www_authenticate);
        ec_httpd_reply_body(reply, body, body_len);
        r->reply_status = status;
        char shown[64];
        cs_printable(body, body_len, shown, sizeof shown);
        snprintf(answer, sizeof answer, "%u %s (rejected: %s)", status, shown,
                 ec_status_name(a->fault));
    } else {
        /* A side request (a device asking for its inputs, say): answered
         * plainly, audited for the key. */
        snprintf(body, sizeof body, "{}");
        body_len = 2;
        content_type = "application/json";
        ec_httpd_reply_status(reply, 200);
        ec_httpd_reply_header(reply, "Content-Type", content_type);
        ec_httpd_reply_body(reply, body, body_len);
        r->reply_status = 200;
        snprintf(answer, sizeof answer, "200 {} (not an input post)");
    }
    log_request(s, r, answer);
    capture_request(s, r, status, content_type, body, body_len);
    fold_request(&s->run, r);
    keep_post(&s->run, r);
    free_request(r);
    s->last_request = now_of(s);
    pthread_mutex_unlock(&s->lock);
}

static void on_event(void *ctx, const ec_httpd_event *ev)
{
    ec_client_suite *s = ctx;
    pthread_mutex_lock(&s->lock);
    cs_run *run = &s->run;
    if (ev->kind == EC_HTTPD_EV_CLIENT_GONE) {
        for (size_t i = run->queued; i-- > 0;)
            if (run->queue[run->queue_head + i].connection == ev->connection_id) {
                run->queue[run->queue_head + i].client_gone = 1;
                break;
            }
    }
    run->event_count++;
    cs_audit *au = &run->audit;
    if (ev->kind == EC_HTTPD_EV_EMPTY)
        au->empty_connections++;
    if (c3_event_is_malformed(ev->kind)) {
        /* Each one is a FAIL row of its own in the report: kept. */
        if (au->bad_count == au->bad_cap) {
            size_t cap = au->bad_cap ? au->bad_cap * 2 : 16;
            cs_bad_connection *grown = realloc(au->bad, cap * sizeof *grown);
            if (grown != NULL) {
                au->bad = grown;
                au->bad_cap = cap;
            }
        }
        if (au->bad_count < au->bad_cap) {
            cs_bad_connection *e = &au->bad[au->bad_count++];
            e->kind = ev->kind;
            e->connection = ev->connection_id;
            e->remote = dup_or_empty(ev->remote_addr);
            e->detail = dup_or_empty(ev->detail);
        }
    }
    if (s->run.opt.verbose && ev->kind != EC_HTTPD_EV_CLIENT_GONE)
        mock_log(s, "connection %llu from %s: %s: %s\n", (unsigned long long)ev->connection_id,
                 ev->remote_addr ? ev->remote_addr : "?", ec_httpd_event_name(ev->kind),
                 ev->detail ? ev->detail : "");
    if (s->capture != NULL) {
        ec_capture_record rec;
        memset(&rec, 0, sizeof rec);
        rec.time = now_of(s);
        rec.kind = "event";
        rec.event = (char *)ec_httpd_event_name(ev->kind);
        rec.remote = (char *)ev->remote_addr;
        rec.connection = ev->connection_id;
        rec.method = (char *)ev->method;
        rec.path = (char *)ev->uri;
        rec.detail = (char *)ev->detail;
        rec.step = -1;
        ec_capture_write(s->capture, &rec);
    }
    pthread_mutex_unlock(&s->lock);
}

static void on_done(void *ctx, uint64_t connection_id)
{
    ec_client_suite *s = ctx;
    pthread_mutex_lock(&s->lock);
    if (s->hold_connection == 0 || s->hold_connection != connection_id)
        connection_done(&s->run, connection_id);
    pthread_mutex_unlock(&s->lock);
}

/* ---- life cycle ---------------------------------------------------------- */

static void errf(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *buf, size_t cap, const char *fmt, ...)
{
    if (buf == NULL || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

/* see client_suite.h */
ec_status ec_client_suite_start(const ec_client_suite_options *opt, ec_client_suite **out,
                                char *errbuf, size_t errbuf_size)
{
    *out = NULL;
    if (opt == NULL || opt->userid == NULL || opt->apikey_hex == NULL) {
        errf(errbuf, errbuf_size, "--userid and --apikey are required");
        return EC_E_ARG;
    }
    ec_client_suite *s = calloc(1, sizeof *s);
    if (s == NULL)
        return EC_E_NOMEM;
    pthread_mutex_init(&s->lock, NULL);
    s->run.opt = *opt;
    if (ec_key_from_hex(opt->apikey_hex, s->run.key) != EC_OK) {
        errf(errbuf, errbuf_size, "--apikey: not 32 hex digits");
        ec_client_suite_free(s);
        return EC_E_KEY;
    }
    s->run.apikey_hex = strdup(opt->apikey_hex);
    s->run.userid = strdup(opt->userid);
    s->run.username = opt->username ? strdup(opt->username) : NULL;
    s->run.opt.apikey_hex = NULL; /* only the owned copy, wiped on free */
    const char *name = opt->scenario ? opt->scenario : "all";
    s->run.scenarios = calloc(ec_client_scenario_count, sizeof *s->run.scenarios);
    s->run.aggregates = calloc(cs_check_count, sizeof *s->run.aggregates);
    s->outcomes = calloc(cs_check_count, sizeof *s->outcomes);
    cs_history *h = &s->run.history;
    h->sc_posts = calloc(ec_client_scenario_count, sizeof *h->sc_posts);
    h->sc_steps = calloc(ec_client_scenario_count, sizeof *h->sc_steps);
    h->sc_observed = calloc(ec_client_scenario_count, sizeof *h->sc_observed);
    if (s->run.apikey_hex == NULL || s->run.userid == NULL || s->run.scenarios == NULL ||
        s->run.aggregates == NULL || s->outcomes == NULL || h->sc_posts == NULL ||
        h->sc_steps == NULL || h->sc_observed == NULL) {
        ec_client_suite_free(s);
        return EC_E_NOMEM;
    }
    if (strcmp(name, "none") == 0) {
        /* --case/--section chose checks only: every post gets the ack */
        s->run.scenario_count = 0;
        s->cur.scenarios_done = 1;
    } else if (strcmp(name, "all") == 0) {
        for (size_t i = 0; i < ec_client_scenario_count; i++)
            s->run.scenarios[i] = &ec_client_scenarios[i];
        s->run.scenario_count = ec_client_scenario_count;
    } else {
        /* One name, or several separated by commas, run in that order. */
        for (const char *p = name; *p;) {
            size_t len = strcspn(p, ",");
            char one[64];
            snprintf(one, sizeof one, "%.*s", (int)(len < 63 ? len : 63), p);
            const ec_client_scenario *sc = ec_client_scenario_find(one);
            if (sc == NULL || s->run.scenario_count == ec_client_scenario_count) {
                errf(errbuf, errbuf_size, "--scenario: no scenario named '%s' (see --list)", one);
                ec_client_suite_free(s);
                return EC_E_ARG;
            }
            s->run.scenarios[s->run.scenario_count++] = sc;
            p += len;
            if (*p == ',')
                p++;
        }
        if (s->run.scenario_count == 0) {
            errf(errbuf, errbuf_size, "--scenario: empty");
            ec_client_suite_free(s);
            return EC_E_ARG;
        }
    }
    if (opt->state_path != NULL) {
        char why[512] = "";
        if (cs_state_load(&s->run, &s->cur, opt->state_path, why, sizeof why) < 0) {
            errf(errbuf, errbuf_size, "%s", why);
            ec_client_suite_free(s);
            return EC_E_ARG;
        }
    }
    if (opt->capture_path != NULL) {
        ec_status st = ec_capture_open(opt->capture_path, opt->apikey_hex, opt->show_secrets,
                                       &s->capture, errbuf, errbuf_size);
        if (st != EC_OK) {
            ec_client_suite_free(s);
            return st;
        }
    }
    ec_httpd_config hc;
    memset(&hc, 0, sizeof hc);
    hc.listen = opt->listen ? opt->listen : "127.0.0.1:8080";
    hc.handler = handle;
    hc.on_event = on_event;
    hc.on_done = on_done;
    hc.ctx = s;
    hc.max_body = opt->max_body;
    /* Room for a load generator's 64 kept-alive connections (wrk -c 64
     * got refused connections from the default 32), and slowloris: 128
     * connections sending a byte a second held every slot (the idle
     * timeout restarts with each byte).  Now a request's headers and its
     * body each have a deadline, and one address may hold a quarter of
     * the slots (a thread each: idle ones only sleep). */
    hc.max_connections = 1024;
    hc.idle_timeout_s = 10;
    hc.header_deadline_ms = 10000;
    hc.body_deadline_ms = 30000;
    hc.max_per_address = 256;
    /* A health check that sends a blank line and closes is no request
     * (issue 11 point 9): the gate tells it from garbage. */
    hc.first_bytes_gate = 1;
    s->started = now_of(s);
    s->run.started = s->started;
    s->last_request = s->started;
    ec_status st = ec_httpd_start(&hc, &s->httpd, errbuf, errbuf_size);
    if (st != EC_OK) {
        ec_client_suite_free(s);
        return st;
    }
    *out = s;
    return EC_OK;
}

/* see client_suite.h */
ec_status ec_client_suite_call(ec_client_suite *s, const ec_httpd_request *req,
                               ec_httpd_result *out)
{
    return s ? ec_httpd_call(s->httpd, req, out) : EC_E_ARG;
}

/* see client_suite.h */
void ec_client_suite_set_clock(ec_client_suite *s, double now)
{
    if (s == NULL || now <= 0)
        return;
    pthread_mutex_lock(&s->lock);
    if (s->clock <= 0) {
        /* The replay starts when its first record arrived. */
        s->started = now;
        s->run.started = now;
        s->last_request = now;
    }
    s->clock = now;
    pthread_mutex_unlock(&s->lock);
}

/* see client_suite.h */
ec_status ec_client_suite_replay_request(ec_client_suite *s, const ec_httpd_request *req,
                                         int held, ec_httpd_result *out)
{
    if (s == NULL || req == NULL)
        return EC_E_ARG;
    s->hold_connection = held ? req->connection_id : 0;
    ec_status st = ec_httpd_call(s->httpd, req, out);
    s->hold_connection = 0;
    return st;
}

/* see client_suite.h */
void ec_client_suite_replay_event(ec_client_suite *s, const ec_httpd_event *ev)
{
    if (s == NULL || ev == NULL)
        return;
    on_event(s, ev);
    /* In the live run the answer ended with this event (httpd.c emits it
     * before the request's on_done). */
    if (ev->kind == EC_HTTPD_EV_CLIENT_GONE)
        on_done(s, ev->connection_id);
}

/* see client_suite.h */
unsigned ec_client_suite_port(const ec_client_suite *s)
{
    return s && s->httpd ? ec_httpd_port(s->httpd) : 0;
}

/* see client_suite.h */
size_t ec_client_suite_unsettled(ec_client_suite *s)
{
    if (s == NULL)
        return 0;
    pthread_mutex_lock(&s->lock);
    size_t n = s->run.queued;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* see client_suite.h */
const char *ec_client_suite_url(const ec_client_suite *s, char *buf, size_t size)
{
    snprintf(buf, size, "http://127.0.0.1:%u", ec_client_suite_port(s));
    return buf;
}

/* see client_suite.h */
int ec_client_suite_done(ec_client_suite *s)
{
    pthread_mutex_lock(&s->lock);
    double now = now_of(s);
    const ec_client_suite_options *o = &s->run.opt;
    unsigned linger = o->linger_ms ? o->linger_ms : 1000;
    int done = s->stopped ||
               /* the last answers still going out (a trickled ack) or held
                * (the device must time out) end first, for up to 5 s */
               (o->max_requests > 0 && s->run.request_count - s->run.resumed >= o->max_requests &&
                (s->run.queued == 0 || (now - s->last_request) >= 5.0)) ||
               (o->duration_ms > 0 && (now - s->started) * 1000.0 >= o->duration_ms) ||
               (s->cur.scenarios_done && s->run.request_count > s->run.resumed &&
                (now - s->last_request) * 1000.0 >= linger);
    pthread_mutex_unlock(&s->lock);
    return done;
}

/* Progress on stderr while waiting (issue 13 point 6): "no device has
 * connected yet" once after 10 s without a connection (terminal or not),
 * and on a terminal a status line every 5 s.  Never in the reports. */
static void wait_progress(ec_client_suite *s, double *next_status, int *told_none)
{
    pthread_mutex_lock(&s->lock);
    double now = now_of(s), elapsed = now - s->started;
    size_t requests = s->run.request_count, events = s->run.event_count;
    size_t done = s->cur.scenarios_done ? s->run.scenario_count : s->cur.scenario_pos;
    size_t total = s->run.scenario_count;
    unsigned duration_ms = s->run.opt.duration_ms;
    pthread_mutex_unlock(&s->lock);
    char url[64];
    if (!*told_none && requests == 0 && events == 0 && elapsed >= 10) {
        *told_none = 1;
        fprintf(stderr, "emoncrypt test-client: no device has connected yet to %s (after %.0f s): "
                "point the device's server setting at it\n",
                ec_client_suite_url(s, url, sizeof url), elapsed);
    }
    if (now >= *next_status && isatty(STDERR_FILENO)) {
        *next_status = now + 5;
        char left[48] = "no time limit";
        if (duration_ms > 0) {
            double l = duration_ms / 1000.0 - elapsed;
            snprintf(left, sizeof left, "%.0f s left", l > 0 ? l : 0);
        }
        fprintf(stderr, "emoncrypt test-client: %.0f s: %zu requests seen, %zu/%zu scenarios done, %s\n",
                elapsed, requests, done, total, left);
    }
}

/* see client_suite.h */
void ec_client_suite_wait(ec_client_suite *s, volatile int *stop)
{
    double next_status = now_of(s) + 5;
    int told_none = 0;
    while (!ec_client_suite_done(s) && !(stop != NULL && *stop)) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (s->run.opt.progress)
            wait_progress(s, &next_status, &told_none);
    }
}

/* see client_suite.h */
void ec_client_suite_interrupt(ec_client_suite *s)
{
    if (s != NULL && s->httpd != NULL)
        ec_httpd_interrupt(s->httpd);
}

static void stop_server(ec_client_suite *s)
{
    if (s->httpd == NULL)
        return;
    /* Let an answer that is already going out finish. */
    if (now_of(s) - s->last_request < 0.1) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ec_httpd_stop(s->httpd);
    s->httpd = NULL;
    pthread_mutex_lock(&s->lock);
    s->stopped = 1;
    pthread_mutex_unlock(&s->lock);
}

static void add_result(ec_report *report, const cs_run *run, const char *id,
                       const char *requirement, const cs_outcome *o, const char *repro,
                       const char *sent)
{
    ec_case_result cr;
    memset(&cr, 0, sizeof cr);
    cr.repro = repro;
    cr.sent = sent;
    cr.id = id;
    cr.requirement = requirement;
    (void)run;
    /* NON-STRICT stays NON-STRICT: the report, made strict by --strict,
     * counts it as a failure (ec_report_is_failure). */
    cr.verdict = o->verdict;
    cr.message = o->message;
    cr.diff_offset = -1;
    if (o->expected[0]) {
        cr.expected = (const unsigned char *)o->expected;
        cr.expected_len = strlen(o->expected);
    }
    if (o->actual[0]) {
        cr.actual = (const unsigned char *)o->actual;
        cr.actual_len = strlen(o->actual);
    }
    ec_report_add(report, &cr);
}

/* One result for a per-request check: its worst outcome over all requests,
 * naming the first request that had it (fold_request kept them). */
static void aggregate(const cs_run *run, size_t c, cs_outcome *out, char *sent, size_t sent_cap,
                      size_t *named_seq)
{
    const cs_aggregate *ag = &run->aggregates[c];
    size_t judged = ag->judged, worst_count = ag->worst_count;
    memset(out, 0, sizeof *out);
    if (judged == 0) {
        cs_outcome_set(out, EC_VERDICT_SKIP, "no request to judge");
        return;
    }
    const cs_outcome *w = &ag->worst;
    const char *label = ag->label;
    *named_seq = ag->seq;
    snprintf(sent, sent_cap, "%s", ag->sent);
    if (w->verdict == EC_VERDICT_PASS)
        cs_outcome_set(out, EC_VERDICT_PASS, "%zu requests; e.g. %s", judged, w->message);
    else if (w->verdict == EC_VERDICT_INFO)
        cs_outcome_set(out, EC_VERDICT_INFO, "%zu requests; first %s: %s", judged, label,
                       w->message);
    else
        cs_outcome_set(out, w->verdict, "%zu of %zu requests; first %s: %s", worst_count,
                       judged, label, w->message);
    memcpy(out->expected, w->expected, sizeof out->expected);
    memcpy(out->actual, w->actual, sizeof out->actual);
}

/* see client_suite.h */
size_t ec_client_suite_finish(ec_client_suite *s, ec_report *report)
{
    stop_server(s);
    s->run.ended = now_of(s);
    /* Every answer is over now: the rest of the queue settles. */
    for (size_t i = 0; i < s->run.queued; i++)
        s->run.queue[s->run.queue_head + i].done = 1;
    drain_queue(&s->run);
    const cs_run *run = &s->run;
    /* --strict: the report counts NON-STRICT as a failure (one rule for
     * both roles, docs/SPEC.md "Verdicts and --strict"). */
    ec_report_set_strict(report, run->opt.strict);
    size_t well_formed = (size_t)-1;
    for (size_t c = 0; c < cs_check_count; c++) {
        const cs_check *k = cs_checks[c];
        cs_outcome o;
        memset(&o, 0, sizeof o);
        char sent[256] = "";
        size_t named_seq = 0;
        if (k->on_request != NULL) {
            aggregate(run, c, &o, sent, sizeof sent, &named_seq);
        } else {
            o.verdict = EC_VERDICT_SKIP;
            k->on_audit(run, &o);
        }
        if (k == &c3_http_well_formed_check)
            well_formed = c;
        if (k == &c3_http_well_formed_check && o.verdict == EC_VERDICT_FAIL) {
            /* One FAIL per broken connection, so each one is seen. */
            for (size_t e = 0; e < run->audit.bad_count; e++) {
                const cs_bad_connection *ev = &run->audit.bad[e];
                cs_outcome one;
                memset(&one, 0, sizeof one);
                cs_outcome_set(&one, EC_VERDICT_FAIL, "connection %llu from %s: %s: %s",
                               (unsigned long long)ev->connection, ev->remote,
                               ec_httpd_event_name(ev->kind), ev->detail);
                snprintf(one.expected, sizeof one.expected, "a complete HTTP request");
                snprintf(one.actual, sizeof one.actual, "%s", ec_httpd_event_name(ev->kind));
                add_result(report, run, k->id, k->requirement, &one, NULL, NULL);
            }
            continue;
        }
        /* A request the verdict names can be explained from the capture
         * (--index counts requests from 0, "#N" from 1). */
        char repro[512] = "";
        if (o.verdict == EC_VERDICT_FAIL && named_seq > 0 && run->opt.capture_path != NULL)
            snprintf(repro, sizeof repro, "emoncrypt explain --apikey KEY --capture %s --index %zu",
                     run->opt.capture_path, named_seq - 1);
        add_result(report, run, k->id, k->requirement, &o, repro[0] ? repro : NULL,
                   sent[0] ? sent : NULL);
    }
    (void)well_formed;
    size_t complete = 0;
    for (size_t i = 0; i < run->scenario_count; i++) {
        cs_outcome o;
        memset(&o, 0, sizeof o);
        c7_scenario_verdict(run, i, &o);
        if (strcmp(o.actual, "incomplete") != 0)
            complete++;
        /* The same scenario alone, the device pointed at it again. */
        char repro[256];
        snprintf(repro, sizeof repro, "emoncrypt test-client --listen %s --userid %s "
                 "--apikey KEY --scenario %s",
                 run->opt.listen && strcmp(run->opt.listen, EC_HTTPD_IN_PROCESS) != 0
                     ? run->opt.listen : "127.0.0.1:8080",
                 run->userid, run->scenarios[i]->name);
        add_result(report, run, run->scenarios[i]->id, run->scenarios[i]->requirement, &o, repro,
                   NULL);
    }
    size_t posts = run->post_count;
    char need[400] = "", saved[600] = "";
    if (complete < run->scenario_count)
        c7_time_needed(run, need, sizeof need);
    if (run->opt.state_path != NULL) {
        if (cs_state_save(run, &s->cur, run->opt.state_path, s->state_err, sizeof s->state_err) == 0)
            snprintf(saved, sizeof saved, ", state saved to %s (run %zu, %zu requests in all)",
                     run->opt.state_path, s->cur.runs + 1, run->request_count);
        else
            snprintf(saved, sizeof saved, ", state NOT saved");
    }
    snprintf(s->summary, sizeof s->summary,
             "%zu requests (%zu posts), %zu/%zu scenarios complete%s, %.1f s%s%s",
             run->request_count - run->resumed, posts, complete, run->scenario_count, saved,
             now_of(s) - s->started, need[0] ? "; INCOMPLETE: " : "", need);
    return run->request_count;
}

/* see client_suite.h */
const char *ec_client_suite_state_error(const ec_client_suite *s)
{
    return s->state_err[0] ? s->state_err : NULL;
}

/* see client_suite.h */
const char *ec_client_suite_summary(const ec_client_suite *s)
{
    return s->summary;
}

/* see client_suite.h */
void ec_client_suite_free(ec_client_suite *s)
{
    if (s == NULL)
        return;
    stop_server(s);
    ec_capture_close(s->capture);
    cs_run *run = &s->run;
    for (size_t i = 0; i < run->queued; i++)
        free(run->queue[run->queue_head + i].rows);
    free(run->queue);
    cs_audit_free(&run->audit);
    cs_history_free(&run->history);
    free(run->aggregates);
    free(s->outcomes);
    if (run->apikey_hex != NULL) {
        ec_wipe(run->apikey_hex, strlen(run->apikey_hex));
        free(run->apikey_hex);
    }
    free(run->userid);
    free(run->username);
    free(run->scenarios);
    ec_wipe(run->key, sizeof run->key);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
