/* see srv.h — expectations from the protocol core, verifiers and
 * verdicts.  What a conformant server answers is never written down here:
 * it is what ec_server_answer (the same core `emoncrypt serve` runs)
 * answers, in compat and in strict mode. */
#include "server/srv.h"

#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "emoncrypt/message.h"
#include "emoncrypt/serve.h"
#include "common/tolerance.h"

/* see srv.h */
void srv_expect_free(srv_expect *e)
{
    free(e->body);
    free(e->rows);
    memset(e, 0, sizeof *e);
}

/* HTTP drops leading and trailing whitespace of a header value (RFC 9110
 * §5.5); the server sees the trimmed value. */
static char *trimmed(const char *v)
{
    if (!v)
        return NULL;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, v, n);
        out[n] = 0;
    }
    return out;
}

/* see srv.h */
int srv_expect_answer(srv_ctx *ctx, const srv_probe *p, int strict, srv_expect *e)
{
    memset(e, 0, sizeof *e);
    ec_serve_users users = { 0 };
    if (ec_serve_users_add(&users, ctx->opt->userid, ctx->opt->apikey_hex, ctx->opt->username) != EC_OK)
        return -1;
    ec_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.lookup = ec_serve_users_lookup;
    cfg.lookup_ctx = &users;
    cfg.strict = strict;
    cfg.now = srv_now();
    cfg.max_nodes = 32;

    char *ctype = trimmed(p->content_type);
    char *auth = trimmed(p->authorization);
    ec_http_request req;
    memset(&req, 0, sizeof req);
    req.method = p->method;
    req.path = p->path;
    req.query = p->query;
    req.content_type = ctype;
    req.authorization = auth;
    req.body = p->body ? p->body : (const uint8_t *)"";
    req.body_len = p->body_len;

    ec_answer a;
    ec_answer_init(&a);
    ec_status st = ec_server_answer(&cfg, &req, &a);
    free(ctype);
    free(auth);
    ec_serve_users_free(&users);
    if (st != EC_OK) {
        ec_answer_free(&a);
        return -1;
    }
    e->status = a.http_status;
    snprintf(e->content_type, sizeof e->content_type, "%s", a.content_type);
    e->body = malloc(a.answer_len + 1);
    if (e->body) {
        memcpy(e->body, a.answer ? a.answer : "", a.answer_len);
        e->body[a.answer_len] = 0;
        e->body_len = a.answer_len;
    }
    e->accepted = a.fault == EC_OK;
    snprintf(e->fault, sizeof e->fault, "%s", ec_status_name(a.fault));
    snprintf(e->detail, sizeof e->detail, "%s", ec_status_name(a.detail));
    if (a.rows.n) {
        e->rows = calloc(a.rows.n, sizeof *e->rows);
        if (e->rows) {
            for (size_t i = 0; i < a.rows.n; i++) {
                const ec_row *r = &a.rows.rows[i];
                e->rows[i].time = r->time;
                snprintf(e->rows[i].node, sizeof e->rows[i].node, "%s", r->node ? r->node : "");
                snprintf(e->rows[i].name, sizeof e->rows[i].name, "%s", r->name ? r->name : "");
                e->rows[i].value = r->value;
                e->rows[i].is_null = r->is_null;
            }
            e->n_rows = a.rows.n;
        }
    }
    ec_answer_free(&a);
    return 0;
}

/* ---- outcome helpers ---------------------------------------------------- */

/* see srv.h */
void srv_say(srv_outcome *out, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(out->message);
    out->message = strdup(buf);
}

/* see srv.h */
void srv_set_bytes(srv_outcome *out, const void *exp, size_t exp_len, const void *act,
                   size_t act_len)
{
    free(out->expected);
    free(out->actual);
    out->expected = NULL;
    out->actual = NULL;
    out->expected_len = out->actual_len = 0;
    if (exp) {
        out->expected = malloc(exp_len + 1);
        if (out->expected) {
            memcpy(out->expected, exp, exp_len);
            out->expected[exp_len] = 0;
            out->expected_len = exp_len;
        }
    }
    if (act) {
        out->actual = malloc(act_len + 1);
        if (out->actual) {
            memcpy(out->actual, act, act_len);
            out->actual[act_len] = 0;
            out->actual_len = act_len;
        }
    }
}

/* see srv.h */
void srv_describe(srv_ctx *ctx, const srv_probe *p, srv_outcome *out)
{
    char buf[600];
    char body[80];
    size_t shown = p->body_len < 48 ? p->body_len : 48;
    size_t o = 0;
    for (size_t i = 0; i < shown && o + 5 < sizeof body; i++) {
        unsigned char c = p->body[i];
        if (c >= 0x20 && c < 0x7f)
            body[o++] = (char)c;
        else
            o += (size_t)snprintf(body + o, sizeof body - o, "\\x%02x", c);
    }
    body[o] = 0;
    snprintf(buf, sizeof buf, "%s %s%s%s; Content-Type: %s; Authorization: %s; body %zu B \"%s%s\"",
             p->method, p->path, p->query ? "?" : "", p->query ? p->query : "",
             p->content_type ? p->content_type : "(none)",
             p->authorization ? p->authorization : "(none)", p->body_len, body,
             p->body_len > shown ? "…" : "");
    free(out->sent);
    out->sent = strdup(buf);
    free(out->repro);
    out->repro = srv_curl(ctx, p);
}

/* "STATUS [CTYPE ]BODY": the bytes a verifier compares, so the first
 * differing byte points at whichever part differs. */
static char *render(long status, const char *ctype, const void *body, size_t n, size_t *len)
{
    size_t cap = 64 + (ctype ? strlen(ctype) : 0) + n;
    char *s = malloc(cap + 1);
    if (!s)
        return NULL;
    int k = ctype ? snprintf(s, cap, "%ld %s ", status, ctype) : snprintf(s, cap, "%ld ", status);
    memcpy(s + k, body, n);
    s[k + n] = 0;
    *len = (size_t)k + n;
    return s;
}

/* The media type only: "text/plain" of "text/plain; charset=UTF-8", lowercased. */
static void media_type(const char *ct, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = ct ? ct : ""; *p && *p != ';' && o + 1 < cap; p++)
        if (*p != ' ' && *p != '\t')
            out[o++] = (char)tolower((unsigned char)*p);
    out[o] = 0;
}

static int matches(const srv_expect *e, const srv_reply *r, int compare_ctype)
{
    if (r->net != SRV_NET_OK || r->status != e->status || r->body_len != e->body_len ||
        memcmp(r->body, e->body, e->body_len) != 0)
        return 0;
    if (compare_ctype) {
        char a[64], b[64];
        media_type(e->content_type, a, sizeof a);
        media_type(r->content_type, b, sizeof b);
        return strcmp(a, b) == 0;
    }
    return 1;
}

/* see srv.h */
char *srv_reply_text(const srv_reply *r)
{
    char buf[400];
    if (r->net != SRV_NET_OK) {
        snprintf(buf, sizeof buf, "no answer (%s)", r->message);
        return strdup(buf);
    }
    char body[96];
    size_t o = 0;
    for (size_t i = 0; i < r->body_len && o + 6 < 60; i++) {
        unsigned char c = r->body[i];
        if (c >= 0x20 && c < 0x7f && c != '"')
            body[o++] = (char)c;
        else
            o += (size_t)snprintf(body + o, sizeof body - o, "\\x%02x", c);
    }
    body[o] = 0;
    snprintf(buf, sizeof buf, "%ld %s \"%s%s\"", r->status,
             r->content_type ? r->content_type : "(no Content-Type)", body,
             r->body_len > 60 ? "…" : "");
    return strdup(buf);
}

/* see srv.h */
void srv_judge(srv_ctx *ctx, const srv_case *c, const srv_probe *p, int compare_ctype,
               srv_outcome *out, srv_reply *reply_out)
{
    srv_expect compat, strict;
    if (srv_expect_answer(ctx, p, 0, &compat) != 0 || srv_expect_answer(ctx, p, 1, &strict) != 0) {
        srv_describe(ctx, p, out);
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "internal: the protocol core could not answer this request");
        return;
    }
    srv_judge_against(ctx, c, p, compare_ctype, &compat, &strict, out, reply_out);
    srv_expect_free(&compat);
    srv_expect_free(&strict);
}

/* see srv.h */
int srv_account_limit(const srv_reply *r)
{
    static const char needle[] = "Reached the maximal allowed number of different NodeIds";
    if (r->net != SRV_NET_OK || !r->body || r->body_len < sizeof needle - 1)
        return 0;
    for (size_t i = 0; i + sizeof needle - 1 <= r->body_len; i++)
        if (memcmp(r->body + i, needle, sizeof needle - 1) == 0)
            return 1;
    return 0;
}

/* see srv.h */
void srv_judge_against(srv_ctx *ctx, const srv_case *c, const srv_probe *p, int compare_ctype,
                       const srv_expect *compat, const srv_expect *strict, srv_outcome *out,
                       srv_reply *reply_out)
{
    srv_describe(ctx, p, out);
    srv_reply reply;
    srv_send(ctx, p, &reply);
    out->elapsed_ms = reply.elapsed_ms;
    if (reply.net == SRV_NET_CONNECT) {
        ctx->unreachable = 1;
        snprintf(ctx->unreachable_message, sizeof ctx->unreachable_message, "%s", reply.message);
    }
    const srv_expect *want = ctx->opt->strict ? strict : compat;
    const srv_expect *other = ctx->opt->strict ? compat : strict;
    int same_both = matches(other, &(srv_reply){ .net = SRV_NET_OK, .status = want->status,
                                                 .content_type = (char *)want->content_type,
                                                 .body = (uint8_t *)want->body,
                                                 .body_len = want->body_len },
                            compare_ctype);
    size_t elen = 0, alen = 0;
    char *e = render(want->status, compare_ctype ? want->content_type : NULL, want->body,
                     want->body_len, &elen);
    char *a = reply.net == SRV_NET_OK
                  ? render(reply.status, compare_ctype ? (reply.content_type ? reply.content_type : "(none)") : NULL,
                           reply.body, reply.body_len, &alen)
                  : strdup("(no answer)");
    if (a && reply.net != SRV_NET_OK)
        alen = strlen(a);
    srv_set_bytes(out, e, elen, a, alen);
    free(e);
    free(a);

    char *got = srv_reply_text(&reply);
    if (matches(want, &reply, compare_ctype)) {
        out->verdict = EC_VERDICT_PASS;
        srv_say(out, "answered %s as %s", got, ctx->opt->strict ? "a strict server must" : "Emoncms does");
    } else if (!same_both && matches(other, &reply, compare_ctype)) {
        if (ctx->opt->strict) {
            /* what Emoncms tolerates (the table both roles judge by) is
             * NON-STRICT and names the table; under --strict a NON-STRICT
             * counts as a failure (docs/SPEC.md, Verdicts and --strict), as
             * in the client role */
            const ec_tolerance *tol = ec_tolerance_of_server_case(c->id);
            out->verdict = c->strict_rule == SRV_STRICT_FAIL ? EC_VERDICT_FAIL : EC_VERDICT_NON_STRICT;
            srv_say(out, "answered %s as Emoncms does; a strict server answers %d \"%s\" (%s)%s%s", got,
                    strict->status, strict->body ? strict->body : "", strict->fault,
                    tol ? "; tolerated by Emoncms, refused under --strict: " : "", tol ? tol->what : "");
        } else {
            out->verdict = EC_VERDICT_PASS;
            srv_say(out, "answered %s as a strict (hardened) server does; Emoncms answers %d \"%s\"",
                    got, compat->status, compat->body ? compat->body : "");
        }
    } else if (srv_account_limit(&reply) &&
               (want->accepted || (want->body && strstr(want->body, "maximal allowed number of different NodeIds")))) {
        /* The account's node limit (Emoncms: 32 node ids per account,
         * over its life) is a fact about the account, not this case: an
         * accepted request refused, or a limit case refused at another
         * node than its own 33rd because the account had nodes already. */
        out->verdict = EC_VERDICT_SKIP;
        srv_say(out, "not judged: the account's node limit answered %s (an account limit, used up by nodes "
                "already stored, not the verdict of this case; an emptied account or one with fewer nodes "
                "runs it)", got);
    } else {
        out->verdict = EC_VERDICT_FAIL;
        int has_detail = want->detail[0] && strcmp(want->detail, "ok") && strcmp(want->detail, want->fault);
        srv_say(out, "expected %d \"%s\" (%s%s%s), got %s", want->status, want->body ? want->body : "",
                want->fault, has_detail ? " / " : "", has_detail ? want->detail : "", got);
        srv_note_known_ctx(ctx, c, &reply, want->body, want->body_len, out);
    }
    free(got);
    if (reply_out)
        *reply_out = reply;
    else
        srv_reply_free(&reply);
}

/* see srv.h */
void srv_run_spec(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    const srv_spec *spec = c->arg;
    srv_probe p;
    char *why = NULL;
    if (srv_build(ctx, spec, srv_next_marker(ctx), &p, NULL, &why) != 0) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "%s", why ? why : "could not build the request");
        free(why);
        srv_probe_free(&p);
        return;
    }
    srv_judge(ctx, c, &p, spec->compare_ctype, out, NULL);
    srv_probe_free(&p);
}

/* ---- stored data ---------------------------------------------------------- */

static int is_loopback_url(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    return strncmp(p, "127.", 4) == 0 || strncmp(p, "localhost", 9) == 0 || strncmp(p, "[::1]", 5) == 0;
}

static const char *str_or_empty(const json_t *j)
{
    const char *s = json_string_value(j);
    return s ? s : "";
}

/* see srv.h */
int srv_target_is_loopback(const srv_ctx *ctx)
{
    return is_loopback_url(ctx->base);
}

/* Emoncms's own read API, with the account's READ key the user gave:
 * GET /input/get/NODE -> {"name": {"time": T, "value": V}, …}.  It holds
 * only the last value of each input, so the rows are one per input and
 * ctx->rows_last_only tells the cases. */
static int rows_read_emoncms(srv_ctx *ctx, srv_row **rows, size_t *n, char *why, size_t why_cap)
{
    ctx->rows_last_only = 1;
    if (ctx->rows_state == 0) {
        snprintf(why, why_cap, "%s", ctx->rows_reason);
        return 0;
    }
    char pq[600];
    snprintf(pq, sizeof pq, "/input/get/%s?apikey=%s", ctx->node, ctx->opt->readkey);
    srv_reply r;
    srv_get(ctx, ctx->base, pq, ctx->timeout_ms, &r);
    json_t *root = NULL;
    if (r.net == SRV_NET_OK && r.status == 200)
        root = json_loadb((const char *)r.body, r.body_len, 0, NULL);
    srv_reply_free(&r);
    if (!json_is_object(root)) {
        json_decref(root);
        if (ctx->rows_state == 1) {
            snprintf(why, why_cap, "reading the inputs back with --readkey failed this time");
            return -1;
        }
        ctx->rows_state = 0;
        snprintf(ctx->rows_reason, sizeof ctx->rows_reason,
                 "GET /input/get/%s with --readkey did not return the node's inputs (wrong read key?)", ctx->node);
        snprintf(why, why_cap, "%s", ctx->rows_reason);
        return 0;
    }
    ctx->rows_state = 1;
    srv_row *out = calloc(json_object_size(root) + 1, sizeof *out);
    size_t k = 0;
    const char *name;
    json_t *input;
    json_object_foreach(root, name, input) {
        if (!out || !json_is_object(input))
            continue;
        json_t *t = json_object_get(input, "time"), *v = json_object_get(input, "value");
        out[k].time = json_is_number(t) ? (int64_t)json_number_value(t) : 0;
        snprintf(out[k].node, sizeof out[k].node, "%s", ctx->node);
        snprintf(out[k].name, sizeof out[k].name, "%s", name);
        out[k].is_null = json_is_null(v);
        if (json_is_string(v))
            out[k].value = strtod(json_string_value(v), NULL);
        else
            out[k].value = json_number_value(v);
        k++;
    }
    json_decref(root);
    *rows = out;
    *n = k;
    return 1;
}

/* see srv.h */
int srv_rows_read(srv_ctx *ctx, srv_row **rows, size_t *n, char *why, size_t why_cap)
{
    *rows = NULL;
    *n = 0;
    if (ctx->rows_state == 0) {
        snprintf(why, why_cap, "%s", ctx->rows_reason);
        return 0;
    }
    if (ctx->opt->readkey && *ctx->opt->readkey)
        return rows_read_emoncms(ctx, rows, n, why, why_cap);
    if (ctx->rows_state == -1) {
        if (ctx->opt->rows_url) {
            snprintf(ctx->rows_base, sizeof ctx->rows_base, "%s", ctx->opt->rows_url);
        } else if (is_loopback_url(ctx->base)) {
            snprintf(ctx->rows_base, sizeof ctx->rows_base, "%s", ctx->base);
        } else {
            ctx->rows_state = 0;
            snprintf(ctx->rows_reason, sizeof ctx->rows_reason,
                     "what the target stored is not readable: it is not on loopback, and neither --readkey "
                     "nor --rows-url was given");
            snprintf(why, why_cap, "%s", ctx->rows_reason);
            return 0;
        }
    }
    char pq[400];
    snprintf(pq, sizeof pq, "/emoncrypt/rows?node=%s&userid=%s", ctx->node, ctx->opt->userid);
    srv_reply r;
    srv_get(ctx, ctx->rows_base, pq, ctx->timeout_ms, &r);
    json_t *root = NULL;
    if (r.net == SRV_NET_OK && r.status == 200)
        root = json_loadb((const char *)r.body, r.body_len, 0, NULL);
    if (!json_is_array(root)) {
        json_decref(root);
        srv_reply_free(&r);
        if (ctx->rows_state == 1) {
            snprintf(why, why_cap, "reading the stored rows failed this time");
            return -1;
        }
        ctx->rows_state = 0;
        snprintf(ctx->rows_reason, sizeof ctx->rows_reason,
                 "what the target stored is not readable: no /emoncrypt/rows endpoint (not emoncrypt serve)");
        snprintf(why, why_cap, "%s", ctx->rows_reason);
        return 0;
    }
    ctx->rows_state = 1;
    size_t count = json_array_size(root);
    srv_row *out = calloc(count ? count : 1, sizeof *out);
    size_t k = 0;
    for (size_t i = 0; out && i < count; i++) {
        json_t *row = json_array_get(root, i);
        if (!json_is_array(row) || json_array_size(row) < 4)
            continue;
        out[k].time = (int64_t)json_integer_value(json_array_get(row, 0));
        snprintf(out[k].node, sizeof out[k].node, "%s", str_or_empty(json_array_get(row, 1)));
        snprintf(out[k].name, sizeof out[k].name, "%s", str_or_empty(json_array_get(row, 2)));
        json_t *v = json_array_get(row, 3);
        out[k].is_null = json_is_null(v);
        out[k].value = json_number_value(v);
        k++;
    }
    json_decref(root);
    srv_reply_free(&r);
    *rows = out;
    *n = k;
    return 1;
}

/* see srv.h */
int srv_value_is(double read, double sent)
{
    double tol = fabs(sent) * 4e-7;   /* < 0.5 below 10^6: neighbours stay apart */
    return fabs(read - sent) <= (tol > 1e-6 ? tol : 1e-6);
}

/* see srv.h */
void srv_rows_values(const srv_row *rows, size_t n, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap == 0)
        return;
    buf[0] = 0;
    for (size_t i = 0; i < n && len + 1 < cap; i++) {
        int w = rows[i].is_null ? snprintf(buf + len, cap - len, "%snull", i ? ", " : "")
                                : snprintf(buf + len, cap - len, "%s%.9g", i ? ", " : "", rows[i].value);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (len >= cap)
        buf[cap - 1] = 0;
    if (n == 0)
        snprintf(buf, cap, "nothing");
}
