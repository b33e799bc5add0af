/* server/4.limits/… — a server that small devices talk to must bound what
 * a client can make it hold: body size and stalled requests.  Emoncms
 * leaves both to the web server; these cases report what the target does
 * and FAIL only what is plainly wrong (acking garbage, hanging forever).
 *
 * The two stalled-request probes run in background threads from the start
 * of the run, over raw sockets (a stalled request cannot be sent with an
 * HTTP client), so their waiting overlaps the other cases. */
#include "server/srv.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "emoncrypt/codec.h"

/* How long a stalled request is given before we call it held open. */
#define SLOW_BOUND_MS 2500

typedef struct {
    const char *what;           /* "body" or "headers" */
    int done;
    int skipped;
    char skip_reason[600];
    int closed;                 /* the server closed or answered */
    long waited_ms;
    char first_line[128];      /* the answer's status line, if any */
    pthread_t thread;
    int started;
    char host[260], port[260], path[300];
} slow_probe;

struct srv_slow {
    slow_probe body, headers;
};

static long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* "http://host:port/prefix" -> host, port, prefix; 0 when not plain http. */
static int split_url(const char *base, char *host, size_t hc, char *port, size_t pc, char *prefix, size_t xc)
{
    if (strncmp(base, "http://", 7) != 0)
        return 0;
    const char *h = base + 7;
    const char *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    char hostport[256];
    if (hl >= sizeof hostport)
        return 0;
    memcpy(hostport, h, hl);
    hostport[hl] = 0;
    snprintf(prefix, xc, "%s", slash ? slash : "");
    char *colon = strrchr(hostport, ':');
    if (hostport[0] == '[') {
        char *close = strchr(hostport, ']');
        if (!close)
            return 0;
        *close = 0;
        snprintf(host, hc, "%s", hostport + 1);
        snprintf(port, pc, "%s", close[1] == ':' ? close + 2 : "80");
    } else if (colon) {
        *colon = 0;
        snprintf(host, hc, "%s", hostport);
        snprintf(port, pc, "%s", colon + 1);
    } else {
        snprintf(host, hc, "%s", hostport);
        snprintf(port, pc, "80");
    }
    return 1;
}

static void *slow_thread(void *arg)
{
    slow_probe *s = arg;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    long t0 = mono_ms();
    int fd = -1;
    if (getaddrinfo(s->host, s->port, &hints, &res) == 0 && res) {
        fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
        if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    if (res)
        freeaddrinfo(res);
    if (fd < 0) {
        s->skipped = 1;
        snprintf(s->skip_reason, sizeof s->skip_reason, "could not open a raw connection to %s:%s", s->host, s->port);
        s->done = 1;
        return NULL;
    }
    char req[800];
    int n;
    if (strcmp(s->what, "body") == 0)
        n = snprintf(req, sizeof req,
                     "POST %s/input/post HTTP/1.1\r\nHost: %s\r\nContent-Type: aes128cbc\r\n"
                     "Authorization: 1:00\r\nContent-Length: 100\r\n\r\nAAAAAAAAAA",
                     s->path, s->host);
    else
        n = snprintf(req, sizeof req, "POST %s/input/post HTTP/1.1\r\nHost: %s\r\nContent-Type: aes12",
                     s->path, s->host);
    ssize_t w = send(fd, req, (size_t)n, MSG_NOSIGNAL);
    (void)w;
    t0 = mono_ms();
    struct pollfd pfd = { fd, POLLIN, 0 };
    for (;;) {
        long left = SLOW_BOUND_MS - (mono_ms() - t0);
        if (left <= 0)
            break;
        int rc = poll(&pfd, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        char buf[512];
        ssize_t got = recv(fd, buf, sizeof buf - 1, 0);
        if (got > 0 && !s->first_line[0]) {
            buf[got] = 0;
            char *eol = strpbrk(buf, "\r\n");
            if (eol)
                *eol = 0;
            buf[sizeof s->first_line - 1] = 0;
            memcpy(s->first_line, buf, strlen(buf) + 1);
        }
        if (got <= 0) {
            s->closed = 1;
            break;
        }
        /* an answer arrived: the server gave up on the request */
        s->closed = 1;
        break;
    }
    s->waited_ms = mono_ms() - t0;
    close(fd);
    srv_trace_raw(s->what, req, (size_t)n, s->host, SLOW_BOUND_MS, s->closed, s->first_line, s->waited_ms);
    s->done = 1;
    return NULL;
}

/* The probe runs only for a selected case of a current profile. */
static int wants(const ec_server_suite_options *o, const char *id)
{
    return srv_case_selected(o, id) && o->profile != 2;
}

static void start_one(srv_ctx *ctx, slow_probe *s, const char *what, const char *id)
{
    s->what = what;
    if (!wants(ctx->opt, id))
        return;
    if (!split_url(ctx->base, s->host, sizeof s->host, s->port, sizeof s->port, s->path, sizeof s->path)) {
        s->skipped = 1;
        s->done = 1;
        snprintf(s->skip_reason, sizeof s->skip_reason, "stalled-request probes need a plain http:// URL");
        return;
    }
    if (pthread_create(&s->thread, NULL, slow_thread, s) == 0)
        s->started = 1;
}

/* see srv.h */
void srv_slow_start(srv_ctx *ctx)
{
    ctx->slow = calloc(1, sizeof *ctx->slow);
    if (!ctx->slow)
        return;
    start_one(ctx, &ctx->slow->body, "body", "server/4.limits/stalled-body");
    start_one(ctx, &ctx->slow->headers, "headers", "server/4.limits/stalled-headers");
}

static void join_one(slow_probe *s)
{
    if (s->started) {
        pthread_join(s->thread, NULL);
        s->started = 0;
    }
}

/* see srv.h */
void srv_slow_finish(srv_ctx *ctx)
{
    if (!ctx->slow)
        return;
    join_one(&ctx->slow->body);
    join_one(&ctx->slow->headers);
    free(ctx->slow);
    ctx->slow = NULL;
}

static void run_stalled(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    if (!ctx->slow) {
        out->verdict = EC_VERDICT_SKIP;
        srv_say(out, "the probe could not start");
        return;
    }
    slow_probe *s = strcmp((const char *)c->arg, "body") == 0 ? &ctx->slow->body : &ctx->slow->headers;
    join_one(s);
    if (s->skipped || !s->done) {
        out->verdict = EC_VERDICT_SKIP;
        srv_say(out, "%s", s->skip_reason[0] ? s->skip_reason : "the probe did not run");
        return;
    }
    char sent[200];
    snprintf(sent, sizeof sent, "raw TCP: POST /input/post with %s, then silence",
             strcmp(s->what, "body") == 0 ? "complete headers and 10 of 100 body bytes" : "half a header line");
    free(out->sent);
    out->sent = strdup(sent);
    out->elapsed_ms = s->waited_ms;
    if (s->closed) {
        out->verdict = EC_VERDICT_PASS;
        srv_say(out, "the server gave up on the stalled request after %ld ms%s%s%s", s->waited_ms,
                s->first_line[0] ? " and answered \"" : " (closed the connection)", s->first_line,
                s->first_line[0] ? "\"" : "");
    } else {
        out->verdict = EC_VERDICT_INFO;
        srv_say(out, "the server still held the stalled request open after %d ms: each such connection ties up a "
                "worker (slowloris); a short request timeout protects a small server", SLOW_BOUND_MS);
    }
}

/* 1 MiB of base64: a server should refuse it without reading it all. */
static void run_oversized(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    (void)c;
    size_t n = 1024 * 1024;
    char *body = malloc(n);
    if (!body)
        return;
    memset(body, 'A', n);
    srv_probe p;
    srv_probe_init(&p);
    snprintf(p.path, sizeof p.path, "/input/post");
    srv_probe_set_ctype(&p, "aes128cbc");
    char auth[96];
    snprintf(auth, sizeof auth, "%s:%064d", ctx->opt->userid, 0);
    srv_probe_set_auth(&p, auth);
    srv_probe_set_body(&p, body, n);
    free(body);
    srv_describe(ctx, &p, out);
    srv_reply r;
    srv_send(ctx, &p, &r);
    out->elapsed_ms = r.elapsed_ms;
    char *got = srv_reply_text(&r);
    if (r.status == 413) {
        out->verdict = EC_VERDICT_PASS;
        srv_say(out, "refused with 413 in %ld ms", r.elapsed_ms);
    } else if (r.net == SRV_NET_OK && r.status == 200 && r.body_len == EC_ACK_LEN) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "1 MiB of 'A' with a zero HMAC was acknowledged: %s", got);
    } else if (r.net == SRV_NET_TIMEOUT) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "no answer within %ld ms to a 1 MiB body: %s", ctx->timeout_ms, r.message);
    } else {
        out->verdict = EC_VERDICT_INFO;
        srv_say(out, "no body limit below 1 MiB: answered %s in %ld ms (Emoncms relies on PHP's post_max_size, 8 MB by default)",
                got, r.elapsed_ms);
    }
    free(got);
    srv_reply_free(&r);
    srv_probe_free(&p);
}

const srv_case srv_cases_4_limits[] = {
    { .id = "server/4.limits/oversized-body",
      .no_mutant = "no mutant yet: serve's body cap is its --max-body; a variant that acks an oversized body is not written",
      .requirement = "A server SHOULD refuse a body far larger than any device sends (413) instead of reading it all; it MUST NOT ack it.",
      .run = run_oversized, .profiles = SRV_P_CURRENT, .strict_rule = SRV_STRICT_NON_STRICT },
    { .id = "server/4.limits/stalled-body",
      .no_mutant = "a SHOULD, reported and time-bounded: a server that waits is NON-STRICT at most, never FAIL",
      .requirement = "A server SHOULD give up on a request whose body stops arriving (reported; time-bounded).",
      .run = run_stalled, .arg = "body",
      .profiles = SRV_P_CURRENT, .strict_rule = SRV_STRICT_NON_STRICT },
    { .id = "server/4.limits/stalled-headers",
      .no_mutant = "a SHOULD, reported and time-bounded: a server that waits is NON-STRICT at most, never FAIL",
      .requirement = "A server SHOULD give up on a request whose headers stop arriving (reported; time-bounded).",
      .run = run_stalled, .arg = "headers",
      .profiles = SRV_P_CURRENT, .strict_rule = SRV_STRICT_NON_STRICT },
};
SRV_CASES_COUNT(4_limits);
