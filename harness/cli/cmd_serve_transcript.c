/* emoncrypt serve-transcript — answer test-server's requests from a
 * transcript (test-server --seed N --record FILE): each request gets the
 * recorded answer of the first not yet used exchange whose request is the
 * same byte for byte (method, target, the headers the suite set, body);
 * any other request gets a 599 and is counted, so that drift in the
 * suite's requests shows.  The raw-socket probes (stalled requests) are
 * answered as recorded: closed (after the recorded wait) or held open.
 * Also: --args prints the test-server options of the recorded run, and
 * --compare NEW checks that a replay's own transcript has the recorded
 * verdicts and totals (the ctest transcript/NAME). */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "emoncrypt/codec.h"

const char cmd_serve_transcript_usage[] =
    "serve-transcript FILE.json [options]\n"
    "       serve-transcript FILE.json --args\n"
    "       serve-transcript FILE.json --compare REPLAY.json\n"
    "\n"
    "Plays the server of a transcript (written by `test-server --seed N\n"
    "--record FILE`, e.g. a real Emoncms of tests/transcripts/) on loopback:\n"
    "each request is answered with the recorded answer (status, Content-Type,\n"
    "body) of the first unused exchange whose request is byte-identical:\n"
    "method, path and query, the headers the suite set (Host, Content-Length\n"
    "and Connection are the client's and not compared) and body.  A request\n"
    "with no such exchange gets '599 Unrecorded' and a line on stderr.  A\n"
    "recorded timeout is a connection that never answers; a recorded\n"
    "transport error, one closed without an answer; a stalled raw request\n"
    "(server/4.limits/stalled-*) is closed after the recorded wait, or held\n"
    "open until the client gives up, as the server did.  On SIGTERM or\n"
    "SIGINT it prints what it answered and stops.  Exit 0: every request\n"
    "recorded and every exchange asked for; 1: an unrecorded request or an\n"
    "exchange never asked for (the suite's requests drifted); 2: usage error,\n"
    "unreadable transcript, cannot listen.\n"
    "\n"
    "Options:\n"
    "  -l, --listen ADDR     address and port (default 127.0.0.1:0, a free port)\n"
    "      --ready-file F    write the base URL to F once listening\n"
    "      --args            print the test-server options that replay the\n"
    "                        transcript (--seed, --now, the recorded options),\n"
    "                        one per line, and exit\n"
    "      --compare NEW     compare the verdict of every case and the totals of\n"
    "                        NEW (a replay's --record) with the transcript's;\n"
    "                        exit 0 the same, 1 a difference (each one printed)\n"
    "  -q, --quiet           no line per request\n"
    "  -h, --help            show this help\n"
    "  -V, --version         print the version and exit\n"
    "\n"
    "EXAMPLES\n"
    "  emoncrypt serve-transcript tests/transcripts/emoncms-11.16.8.json --ready-file url.txt &\n"
    "  emoncrypt test-server $(cat url.txt) --apikey 0123456789abcdef0123456789abcdef \\\n"
    "      $(emoncrypt serve-transcript tests/transcripts/emoncms-11.16.8.json --args) \\\n"
    "      --record replay.json\n"
    "  emoncrypt serve-transcript tests/transcripts/emoncms-11.16.8.json --compare replay.json\n";

enum { OPT_READY = 256, OPT_ARGS, OPT_COMPARE };

static const struct option st_options[] = {
    {"listen", required_argument, NULL, 'l'},
    {"ready-file", required_argument, NULL, OPT_READY},
    {"args", no_argument, NULL, OPT_ARGS},
    {"compare", required_argument, NULL, OPT_COMPARE},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct {
    size_t n;
    int raw;                     /* a raw-socket probe */
    char *method, *target;
    char *headers;               /* "name: value\n" per compared header */
    uint8_t *body;               /* raw: the bytes sent, Host as {host} */
    size_t body_len;
    /* the answer */
    int net;                     /* 0 ok, 1 timeout, 2 closed without answer */
    long status;
    char *ctype;                 /* NULL = none */
    uint8_t *rbody;
    size_t rbody_len;
    int closed;                  /* raw: the server closed / answered */
    char *first_line;
    long waited_ms;
    long bound_ms;               /* raw: how long the probe waits at most */
    int used;
} exchange;

static exchange *ex;
static size_t n_ex;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t answered, unrecorded, raw_matched;
static int quiet;
static int stop_pipe[2] = {-1, -1};

/* Headers the HTTP client adds or that only shape the transport. */
static int transport_header(const char *name, size_t n)
{
    static const char *const names[] = {"host", "content-length", "connection", "user-agent",
                                        "accept", "expect", "transfer-encoding", "accept-encoding",
                                        "te", "keep-alive"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0)
            return 1;
    return 0;
}

static int body_of(json_t *j, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    json_t *fill = json_object_get(j, "fill");
    if (fill) {
        size_t n = (size_t)json_integer_value(json_object_get(j, "len"));
        *out = malloc(n + 1);
        if (!*out)
            return -1;
        memset(*out, (int)json_integer_value(fill), n);
        *len = n;
        return 0;
    }
    const char *b = json_string_value(json_object_get(j, "b64"));
    if (!b)
        return -1;
    size_t bl = strlen(b);
    *out = malloc(ec_b64_decoded_max(bl) + 1);
    if (!*out)
        return -1;
    if (bl && ec_b64_decode_strict(b, bl, EC_B64_STD, *out, ec_b64_decoded_max(bl) + 1, len, NULL) != EC_OK)
        return -1;
    return 0;
}

static char *dupe(const char *s)
{
    return strdup(s ? s : "");
}

static int load(const char *path, json_t **doc_out, char *err, size_t cap)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc) {
        snprintf(err, cap, "%s: %s (line %d)", path, je.text, je.line);
        return -1;
    }
    if (strcmp(json_string_value(json_object_get(doc, "format")) ? json_string_value(json_object_get(doc, "format")) : "",
               "emoncrypt-transcript") != 0 ||
        json_integer_value(json_object_get(doc, "format_version")) != 1) {
        snprintf(err, cap, "%s: not an emoncrypt transcript of format version 1", path);
        json_decref(doc);
        return -1;
    }
    *doc_out = doc;
    return 0;
}

static int load_exchanges(json_t *doc, char *err, size_t cap)
{
    json_t *xs = json_object_get(doc, "exchanges");
    n_ex = json_array_size(xs);
    ex = calloc(n_ex + 1, sizeof *ex);
    if (!ex)
        return -1;
    for (size_t i = 0; i < n_ex; i++) {
        json_t *x = json_array_get(xs, i);
        exchange *e = &ex[i];
        e->n = (size_t)json_integer_value(json_object_get(x, "n"));
        const char *kind = json_string_value(json_object_get(x, "kind"));
        if (kind && strcmp(kind, "raw") == 0) {
            e->raw = 1;
            if (body_of(json_object_get(x, "request"), &e->body, &e->body_len) != 0)
                goto bad;
            e->closed = json_is_true(json_object_get(x, "closed"));
            e->first_line = dupe(json_string_value(json_object_get(x, "first_line")));
            e->waited_ms = (long)json_integer_value(json_object_get(x, "waited_ms"));
            e->bound_ms = (long)json_integer_value(json_object_get(x, "bound_ms"));
            continue;
        }
        json_t *rq = json_object_get(x, "request"), *rs = json_object_get(x, "response");
        e->method = dupe(json_string_value(json_object_get(rq, "method")));
        e->target = dupe(json_string_value(json_object_get(rq, "target")));
        size_t hl = 1;
        json_t *h;
        size_t k;
        json_array_foreach(json_object_get(rq, "headers"), k, h)
            hl += strlen(json_string_value(json_array_get(h, 0)) ? json_string_value(json_array_get(h, 0)) : "") +
                  strlen(json_string_value(json_array_get(h, 1)) ? json_string_value(json_array_get(h, 1)) : "") + 3;
        e->headers = calloc(1, hl);
        if (!e->headers)
            goto bad;
        json_array_foreach(json_object_get(rq, "headers"), k, h) {
            const char *name = json_string_value(json_array_get(h, 0));
            const char *value = json_string_value(json_array_get(h, 1));
            if (!name || !value)
                goto bad;
            if (transport_header(name, strlen(name)))
                continue;
            strcat(e->headers, name);
            strcat(e->headers, ": ");
            strcat(e->headers, value);
            strcat(e->headers, "\n");
        }
        if (body_of(json_object_get(rq, "body"), &e->body, &e->body_len) != 0)
            goto bad;
        const char *net = json_string_value(json_object_get(rs, "net"));
        e->net = !net || strcmp(net, "ok") == 0 ? 0 : strcmp(net, "timeout") == 0 ? 1 : 2;
        if (e->net == 0) {
            e->status = (long)json_integer_value(json_object_get(rs, "status"));
            const char *ct = json_string_value(json_object_get(rs, "content_type"));
            e->ctype = ct ? strdup(ct) : NULL;
            if (body_of(json_object_get(rs, "body"), &e->rbody, &e->rbody_len) != 0)
                goto bad;
        }
        continue;
    bad:
        snprintf(err, cap, "exchange %zu is malformed", i);
        return -1;
    }
    return 0;
}

static int send_all(int fd, const void *b, size_t n)
{
    const char *p = b;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Wait until the client closes (or 120 s): a recorded timeout, a request
 * the server held open. */
static void wait_for_close(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    for (int i = 0; i < 1200; i++) {
        int rc = poll(&p, 1, 100);
        if (rc < 0 && errno != EINTR)
            return;
        if (rc > 0) {
            char b[4096];
            ssize_t got = recv(fd, b, sizeof b, 0);
            if (got <= 0)
                return;
        }
    }
}

/* The buffer with the Host header's value replaced by {host}. */
static size_t normalise_host(const char *buf, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (i + 6 <= n && memcmp(buf + i, "Host: ", 6) == 0 && (i == 0 || buf[i - 1] == '\n')) {
            memcpy(out + o, "Host: {host}", 12);
            o += 12;
            i += 6;
            while (i < n && buf[i] != '\r' && buf[i] != '\n')
                i++;
            continue;
        }
        out[o++] = buf[i++];
    }
    return o;
}

/* A raw probe whose bytes are exactly buf (Host normalised), or NULL. */
static exchange *match_raw(const char *buf, size_t n)
{
    char *norm = malloc(n + 16);
    if (!norm)
        return NULL;
    size_t nl = normalise_host(buf, n, norm);
    exchange *hit = NULL;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_ex && !hit; i++)
        if (ex[i].raw && !ex[i].used && ex[i].body_len == nl && memcmp(ex[i].body, norm, nl) == 0) {
            hit = &ex[i];
            hit->used = 1;
            raw_matched++;
        }
    pthread_mutex_unlock(&lock);
    free(norm);
    return hit;
}

static void play_raw(int fd, const exchange *e)
{
    if (!quiet)
        fprintf(stderr, "emoncrypt serve-transcript: raw probe (exchange %zu): %s\n", e->n,
                e->closed ? "closed as recorded" : "held open as recorded");
    if (!e->closed) {
        wait_for_close(fd);
        return;
    }
    /* the recorded wait, but well inside the probe's bound: a server that
     * closed after 2.4 s of a 2.5 s bound must not look like one that held
     * the request open on a loaded machine */
    long ms = e->waited_ms > 0 ? e->waited_ms : 0;
    if (e->bound_ms > 0 && ms > e->bound_ms / 2)
        ms = e->bound_ms / 2;
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
    if (e->first_line && *e->first_line) {
        char head[300];
        int hn = snprintf(head, sizeof head, "%s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                          e->first_line);
        send_all(fd, head, (size_t)hn);
    }
}

/* One complete request: answer it; 0 = keep the connection, -1 = close. */
static int answer(int fd, const char *method, const char *target, const char *headers,
                  const uint8_t *body, size_t body_len)
{
    exchange *hit = NULL, *near = NULL;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_ex && !hit; i++) {
        exchange *e = &ex[i];
        if (e->raw || e->used || strcmp(e->method, method) != 0 || strcmp(e->target, target) != 0)
            continue;
        if (strcmp(e->headers, headers) == 0 && e->body_len == body_len &&
            (body_len == 0 || memcmp(e->body, body, body_len) == 0)) {
            hit = e;
            e->used = 1;
            answered++;
        } else if (!near) {
            near = e;
        }
    }
    if (!hit)
        unrecorded++;
    pthread_mutex_unlock(&lock);
    if (!hit) {
        fprintf(stderr, "emoncrypt serve-transcript: UNRECORDED %s %s (%zu body bytes)%s", method, target,
                body_len, near ? "" : ": no unused exchange has this method and target\n");
        if (near)
            fprintf(stderr, ": differs from exchange %zu in its %s\n", near->n,
                    strcmp(near->headers, headers) != 0 ? "headers" : "body");
        static const char msg[] = "emoncrypt serve-transcript: no recorded exchange for this request\n";
        char head[200];
        int hn = snprintf(head, sizeof head,
                          "HTTP/1.1 599 Unrecorded\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
                          sizeof msg - 1);
        if (send_all(fd, head, (size_t)hn) != 0 || send_all(fd, msg, sizeof msg - 1) != 0)
            return -1;
        return 0;
    }
    if (!quiet)
        fprintf(stderr, "emoncrypt serve-transcript: %s %s -> exchange %zu: %s%ld\n", method, target,
                hit->n, hit->net == 1 ? "timeout" : hit->net == 2 ? "closed" : "", hit->net ? 0 : hit->status);
    if (hit->net == 1) {
        wait_for_close(fd);
        return -1;
    }
    if (hit->net == 2)
        return -1;
    char head[400];
    int hn = snprintf(head, sizeof head, "HTTP/1.1 %ld Recorded\r\n", hit->status);
    if (hit->ctype)
        hn += snprintf(head + hn, sizeof head - (size_t)hn, "Content-Type: %.200s\r\n", hit->ctype);
    hn += snprintf(head + hn, sizeof head - (size_t)hn, "Content-Length: %zu\r\n\r\n", hit->rbody_len);
    /* one write: head and body in two would meet Nagle and delayed ACKs */
    char *whole = malloc((size_t)hn + hit->rbody_len);
    if (!whole)
        return -1;
    memcpy(whole, head, (size_t)hn);
    if (hit->rbody_len)
        memcpy(whole + hn, hit->rbody, hit->rbody_len);
    int rc = send_all(fd, whole, (size_t)hn + hit->rbody_len);
    free(whole);
    return rc;
}

/* Parse buf[0..*len) as one request; 1 = answered (consumed), 0 = more
 * bytes needed, -1 = close. */
static int try_request(int fd, char *buf, size_t *len, int *continued)
{
    char *end = NULL;
    for (size_t i = 0; i + 4 <= *len; i++)
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
            end = buf + i;
            break;
        }
    if (!end)
        return 0;
    size_t head_len = (size_t)(end - buf) + 4;
    char *line_end = strstr(buf, "\r\n");
    char method[32], target[2048];
    if (!line_end || sscanf(buf, "%31s %2047s", method, target) != 2)
        return -1;
    size_t content_length = 0;
    int expect_continue = 0;
    char *headers = calloc(1, head_len + 1);
    if (!headers)
        return -1;
    for (char *p = line_end + 2; p < end;) {
        char *eol = strstr(p, "\r\n");
        if (!eol || eol > end)
            eol = end;
        char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon) {
            size_t nl = (size_t)(colon - p);
            char *v = colon + 1;
            if (v < eol && *v == ' ')
                v++;
            if (nl == 14 && strncasecmp(p, "content-length", 14) == 0)
                content_length = strtoul(v, NULL, 10);
            if (nl == 6 && strncasecmp(p, "expect", 6) == 0 && strncasecmp(v, "100-continue", 12) == 0)
                expect_continue = 1;
            if (!transport_header(p, nl)) {
                strncat(headers, p, nl);
                strcat(headers, ": ");
                strncat(headers, v, (size_t)(eol - v));
                strcat(headers, "\n");
            }
        }
        p = eol + 2;
    }
    if (expect_continue && !*continued && *len == head_len) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        send_all(fd, cont, sizeof cont - 1);
        *continued = 1;
    }
    if (*len < head_len + content_length) {
        free(headers);
        return 0;
    }
    int rc = answer(fd, method, target, headers, (const uint8_t *)buf + head_len, content_length);
    free(headers);
    size_t used = head_len + content_length;
    memmove(buf, buf + used, *len - used);
    *len -= used;
    *continued = 0;
    return rc == 0 ? 1 : -1;
}

static void *connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap + 1);
    int continued = 0;
    while (buf) {
        struct pollfd p = { fd, POLLIN, 0 };
        int rc = poll(&p, 1, 30000);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0) {
            if (len > 0) {
                pthread_mutex_lock(&lock);
                unrecorded++;
                pthread_mutex_unlock(&lock);
                fprintf(stderr, "emoncrypt serve-transcript: UNRECORDED partial request of %zu bytes, "
                        "silent for 30 s, matches no recorded raw probe\n", len);
            }
            break;
        }
        if (rc < 0)
            break;
        if (len == cap) {
            char *grown = realloc(buf, cap * 2 + 1);
            if (!grown)
                break;
            buf = grown;
            cap *= 2;
        }
        ssize_t got = recv(fd, buf + len, cap - len, 0);
        if (got <= 0)
            break;
        len += (size_t)got;
        buf[len] = 0;
        int done = 0;
        for (;;) {
            int r = try_request(fd, buf, &len, &continued);
            if (r < 0) {
                done = 1;
                break;
            }
            if (r == 0)
                break;
        }
        if (done)
            break;
        if (len > 0) {
            exchange *raw = match_raw(buf, len);
            if (raw) {
                play_raw(fd, raw);
                break;
            }
        }
    }
    free(buf);
    close(fd);
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    if (stop_pipe[1] >= 0) {
        ssize_t w = write(stop_pipe[1], "x", 1);
        (void)w;
    }
}

static int listen_on(const char *addr, char *url, size_t url_cap)
{
    char host[256], port[32];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host || strlen(colon + 1) >= sizeof port)
        return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = 0;
    snprintf(port, sizeof port, "%s", colon + 1);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
        return -1;
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    int p = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                     : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    snprintf(url, url_cap, "http://%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", p);
    return fd;
}

/* --args: the recorded run's options, one per line. */
static int print_args(json_t *doc)
{
    printf("--seed\n%lld\n--now\n%lld\n", (long long)json_integer_value(json_object_get(doc, "seed")),
           (long long)json_integer_value(json_object_get(doc, "now")));
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "args"), i, a)
        printf("%s\n", json_string_value(a) ? json_string_value(a) : "");
    return EC_EXIT_PASS;
}

/* --compare: verdicts and totals of a replay against the transcript's. */
static int compare(json_t *doc, const char *path)
{
    json_t *other;
    char err[600];
    if (load(path, &other, err, sizeof err) != 0)
        return cli_usage_error("--compare: %s", err);
    json_t *va = json_object_get(doc, "verdicts"), *vb = json_object_get(other, "verdicts");
    size_t diffs = 0, i;
    json_t *row;
    json_t *seen = json_object();
    json_array_foreach(vb, i, row)
        json_object_set(seen, json_string_value(json_array_get(row, 0)), json_array_get(row, 1));
    json_array_foreach(va, i, row) {
        const char *id = json_string_value(json_array_get(row, 0));
        const char *want = json_string_value(json_array_get(row, 1));
        const char *got = json_string_value(json_object_get(seen, id));
        if (!got || strcmp(got, want) != 0) {
            printf("DIFFERS %s: recorded %s, replayed %s\n", id, want, got ? got : "(not run)");
            diffs++;
        }
        json_object_del(seen, id);
    }
    const char *extra;
    json_t *v;
    json_object_foreach(seen, extra, v) {
        printf("DIFFERS %s: not recorded, replayed %s\n", extra, json_string_value(v));
        diffs++;
    }
    json_decref(seen);
    char *ta = json_dumps(json_object_get(doc, "totals"), JSON_SORT_KEYS | JSON_COMPACT);
    char *tb = json_dumps(json_object_get(other, "totals"), JSON_SORT_KEYS | JSON_COMPACT);
    int same_totals = ta && tb && strcmp(ta, tb) == 0;
    if (!same_totals) {
        printf("DIFFERS totals: recorded %s, replayed %s\n", ta ? ta : "?", tb ? tb : "?");
        diffs++;
    }
    printf("%zu cases compared, %zu differences; totals %s\n", json_array_size(va), diffs, ta ? ta : "?");
    free(ta);
    free(tb);
    json_decref(other);
    return diffs ? EC_EXIT_FAIL : EC_EXIT_PASS;
}

int cmd_serve_transcript(const ec_cli_command *self, int argc, char **argv)
{
    const char *addr = "127.0.0.1:0", *ready = NULL, *compare_path = NULL;
    int args = 0, c;
    while ((c = getopt_long(argc, argv, ":l:qhV", st_options, NULL)) != -1) {
        switch (c) {
        case 'l': addr = optarg; break;
        case OPT_READY: ready = optarg; break;
        case OPT_ARGS: args = 1; break;
        case OPT_COMPARE: compare_path = optarg; break;
        case 'q': quiet = 1; break;
        case 'V': return cli_print_version();
        case 'h':
            cli_print_usage(self, stdout);
            return EC_EXIT_PASS;
        case ':': return cli_usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("missing the transcript (FILE.json, written by test-server --record)");
    if (optind + 1 < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind + 1]);
    json_t *doc;
    char err[600];
    if (load(argv[optind], &doc, err, sizeof err) != 0)
        return cli_usage_error("%s", err);
    if (args) {
        int rc = print_args(doc);
        json_decref(doc);
        return rc;
    }
    if (compare_path) {
        int rc = compare(doc, compare_path);
        json_decref(doc);
        return rc;
    }
    if (load_exchanges(doc, err, sizeof err) != 0) {
        json_decref(doc);
        return cli_usage_error("%s: %s", argv[optind], err[0] ? err : "out of memory");
    }
    json_decref(doc);
    char url[300];
    int lfd = listen_on(addr, url, sizeof url);
    if (lfd < 0)
        return cli_usage_error("cannot listen on %s", addr);
    if (pipe(stop_pipe) != 0)
        return cli_usage_error("pipe: %s", strerror(errno));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "emoncrypt serve-transcript: listening on %s (%zu exchanges)\n", url, n_ex);
    if (ready) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", ready);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%s\n", url) < 0 || fclose(f) != 0 || rename(tmp, ready) != 0)
            return cli_usage_error("cannot write %s", ready);
    }
    for (;;) {
        struct pollfd p[2] = { { lfd, POLLIN, 0 }, { stop_pipe[0], POLLIN, 0 } };
        int rc = poll(p, 2, -1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0 || (p[1].revents & POLLIN))
            break;
        if (p[0].revents & POLLIN) {
            int fd = accept(lfd, NULL, NULL);
            if (fd < 0)
                continue;
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            pthread_t t;
            if (pthread_create(&t, NULL, connection, (void *)(intptr_t)fd) == 0)
                pthread_detach(t);
            else
                close(fd);
        }
    }
    close(lfd);
    pthread_mutex_lock(&lock);
    size_t unasked = 0;
    for (size_t i = 0; i < n_ex; i++)
        if (!ex[i].used) {
            unasked++;
            fprintf(stderr, "emoncrypt serve-transcript: NOT ASKED exchange %zu: %s %s\n", ex[i].n,
                    ex[i].raw ? "raw probe" : ex[i].method, ex[i].raw ? "" : ex[i].target);
        }
    fprintf(stderr, "emoncrypt serve-transcript: stopped: %zu of %zu exchanges answered "
            "(%zu raw), %zu unrecorded requests, %zu exchanges not asked for\n",
            answered + raw_matched, n_ex, raw_matched, unrecorded, unasked);
    int rc = unrecorded || unasked ? EC_EXIT_FAIL : EC_EXIT_PASS;
    pthread_mutex_unlock(&lock);
    return rc;
}
