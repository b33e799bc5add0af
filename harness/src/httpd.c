/* see httpd.h */
#include "emoncrypt/httpd.h"
#include "httpd_gate.h"
#include "tcp_info.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY ((size_t)1 << 20)
#define DEFAULT_MAX_CONNECTIONS 32u
#define DEFAULT_IDLE_TIMEOUT_S 30u
/* How often a waiting reply looks at the stop flag and the client socket. */
#define WAIT_SLICE_MS 10

struct ec_httpd {
    struct MHD_Daemon *daemon;
    ec_httpd_handler handler;
    ec_httpd_event_hook on_event;
    void (*on_done)(void *ctx, uint64_t connection_id);
    void *ctx;
    size_t max_body;
    unsigned port;
    char host[INET_ADDRSTRLEN];
    atomic_int stopping;
    atomic_uint_fast64_t next_connection_id;
    /* The deadline sweeper (header_deadline_ms / body_deadline_ms). */
    unsigned header_ms, body_ms;
    void (*on_tick)(void *ctx);
    pthread_t sweeper;
    int sweeper_on;
    pthread_mutex_t conns_lock;     /* guards the list of connections */
    struct conn_state *conns;
    ec_gate *gate;                  /* first_bytes_gate: the listening side */
};

struct ec_httpd_reply {
    unsigned status;
    ec_httpd_header *headers; /* owned strings */
    size_t header_count;
    unsigned char *body;
    size_t body_len;
    ec_httpd_script script;
    unsigned delay_ms;
    size_t trickle_bytes;
    unsigned trickle_interval_ms;
    size_t reset_after;
};

/* One TCP connection (MHD socket context). */
typedef struct conn_state {
    uint64_t id;
    uint64_t requests;
    char remote[INET6_ADDRSTRLEN + 8];
    /* For the sweeper, under conns_lock: */
    struct conn_state *prev, *next;
    int fd;
    int phase;                  /* 0 headers awaited, 1 body, 2 answering */
    long phase_start_ms;
    int cut;                    /* shut down by the sweeper */
} conn_state;

/* One request (MHD con_cls), created when the request line arrives. */
typedef struct {
    conn_state *conn;
    char *uri;    /* raw request target */
    char *method; /* copied on the first handler call */
    double arrival;
    int started;  /* the first access-handler call happened */
    int replied;  /* a response was queued or the connection given up */
    int handled;  /* the user handler ran */
    int too_large;
    int gone_reported;
    unsigned char *body;
    size_t body_len, body_cap;
} req_state;

/* What a callback-driven (trickled or reset) body needs; freed by MHD. */
typedef struct {
    ec_httpd *server;
    unsigned char *body;
    size_t body_len;
    size_t chunk;
    unsigned interval_ms;
    size_t reset_after; /* SIZE_MAX: never reset */
    int fd;
    int sent_any;
} body_stream;

static const char *const event_names[] = {
    "no-request", "incomplete", "too-large", "client-gone", "reply-error", "bad-framing", "empty",
};

const char *ec_httpd_event_name(ec_httpd_event_kind kind)
{
    if ((unsigned)kind >= sizeof event_names / sizeof event_names[0])
        return "unknown";
    return event_names[kind];
}

/* ---- reply setters ------------------------------------------------------- */

void ec_httpd_reply_status(ec_httpd_reply *reply, unsigned status)
{
    if (reply && status >= 100 && status <= 999)
        reply->status = status;
}

ec_status ec_httpd_reply_header(ec_httpd_reply *reply, const char *name, const char *value)
{
    if (!reply || !name || !*name || !value || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
        return EC_E_ARG;
    ec_httpd_header *h = realloc(reply->headers, (reply->header_count + 1) * sizeof *h);
    if (!h)
        return EC_E_NOMEM;
    reply->headers = h;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return EC_E_NOMEM;
    }
    h[reply->header_count].name = n;
    h[reply->header_count].value = v;
    reply->header_count++;
    return EC_OK;
}

ec_status ec_httpd_reply_body(ec_httpd_reply *reply, const void *body, size_t len)
{
    if (!reply || (len && !body))
        return EC_E_ARG;
    unsigned char *copy = malloc(len + 1);
    if (!copy)
        return EC_E_NOMEM;
    if (len)
        memcpy(copy, body, len);
    copy[len] = '\0';
    free(reply->body);
    reply->body = copy;
    reply->body_len = len;
    return EC_OK;
}

void ec_httpd_reply_script(ec_httpd_reply *reply, ec_httpd_script script, unsigned delay_ms,
                           size_t trickle_bytes, unsigned trickle_interval_ms,
                           size_t reset_after)
{
    if (!reply)
        return;
    reply->script = script;
    reply->delay_ms = delay_ms;
    reply->trickle_bytes = trickle_bytes ? trickle_bytes : 1;
    reply->trickle_interval_ms = trickle_interval_ms;
    reply->reset_after = reset_after;
}

static void reply_clear(ec_httpd_reply *reply)
{
    for (size_t i = 0; i < reply->header_count; i++) {
        free((char *)reply->headers[i].name);
        free((char *)reply->headers[i].value);
    }
    free(reply->headers);
    free(reply->body);
}

/* ---- helpers ------------------------------------------------------------- */

static void emit(ec_httpd *s, ec_httpd_event_kind kind, const conn_state *conn,
                 const req_state *rq, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void emit(ec_httpd *s, ec_httpd_event_kind kind, const conn_state *conn,
                 const req_state *rq, const char *fmt, ...)
{
    if (!s->on_event || atomic_load(&s->stopping))
        return;
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    ec_httpd_event ev = {
        .kind = kind,
        .connection_id = conn ? conn->id : 0,
        .remote_addr = conn ? conn->remote : "",
        .method = rq ? rq->method : NULL,
        .uri = rq ? rq->uri : NULL,
        .detail = detail,
    };
    s->on_event(s->ctx, &ev);
}

static double unix_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int connection_fd(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? (int)info->connect_fd : -1;
}

/* Has the peer closed (or broken) the connection?  Data the client sends
 * meanwhile (a pipelined request) is left in place. */
static int peer_gone(int fd)
{
    if (fd < 0)
        return 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
        return 1;
    char byte;
    ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Wait up to ms (forever when ms < 0).  Returns 0 when the time passed,
 * 1 when the client went away, 2 when the server is stopping. */
static int wait_reply(ec_httpd *s, int fd, long ms)
{
    long end = ms >= 0 ? mono_ms() + ms : 0;
    for (;;) {
        if (atomic_load(&s->stopping))
            return 2;
        if (peer_gone(fd))
            return 1;
        long left = ms >= 0 ? end - mono_ms() : WAIT_SLICE_MS;
        if (left <= 0)
            return 0;
        sleep_ms(left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS);
    }
}

/* ---- slowloris deadlines ------------------------------------------------- */

static void set_phase(ec_httpd *s, conn_state *cs, int phase)
{
    if (!cs || !s->sweeper_on)
        return;
    pthread_mutex_lock(&s->conns_lock);
    cs->phase = phase;
    cs->phase_start_ms = mono_ms();
    pthread_mutex_unlock(&s->conns_lock);
}

/* Every 50 ms: a connection past its header or body deadline is shut down
 * (MHD then sees the end of the stream and closes it).  The list lock is
 * held, and MHD tells on_connection of a close before it closes the fd, so
 * the fd shut down is always this connection's.  Then the tick hook. */
static void *sweep(void *arg)
{
    ec_httpd *s = arg;
    while (!atomic_load(&s->stopping)) {
        sleep_ms(50);
        long now = mono_ms();
        pthread_mutex_lock(&s->conns_lock);
        for (conn_state *cs = s->conns; cs; cs = cs->next) {
            long limit = cs->phase == 0 ? (long)s->header_ms : cs->phase == 1 ? (long)s->body_ms : 0;
            if (limit > 0 && !cs->cut && cs->fd >= 0 && now - cs->phase_start_ms > limit) {
                cs->cut = 1;
                shutdown(cs->fd, SHUT_RDWR);
            }
        }
        pthread_mutex_unlock(&s->conns_lock);
        if (s->on_tick)
            s->on_tick(s->ctx);
    }
    return NULL;
}

/* ---- MHD callbacks ------------------------------------------------------- */

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    ec_httpd *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_state *cs = calloc(1, sizeof *cs);
        if (!cs)
            return;
        cs->id = atomic_fetch_add(&s->next_connection_id, 1);
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        ec_gate_format_remote(info ? info->client_addr : NULL, cs->remote, sizeof cs->remote);
        cs->fd = connection_fd(c);
        cs->phase_start_ms = mono_ms();
        if (s->sweeper_on) {
            pthread_mutex_lock(&s->conns_lock);
            cs->next = s->conns;
            if (s->conns)
                s->conns->prev = cs;
            s->conns = cs;
            pthread_mutex_unlock(&s->conns_lock);
        }
        *socket_context = cs;
    } else {
        conn_state *cs = *socket_context;
        if (cs && s->sweeper_on) {
            pthread_mutex_lock(&s->conns_lock);
            if (cs->prev)
                cs->prev->next = cs->next;
            else if (s->conns == cs)
                s->conns = cs->next;
            if (cs->next)
                cs->next->prev = cs->prev;
            pthread_mutex_unlock(&s->conns_lock);
        }
        if (cs && cs->requests == 0) {
            if (ec_tcp_bytes_received_(cs->fd) == 0)
                emit(s, EC_HTTPD_EV_EMPTY, cs, NULL,
                     "connection %llu from %s closed without sending a byte (a port probe or a "
                     "pre-connect: no request)", (unsigned long long)cs->id, cs->remote);
            else
                emit(s, EC_HTTPD_EV_NO_REQUEST, cs, NULL,
                     "connection %llu from %s closed without a parsable HTTP request",
                     (unsigned long long)cs->id, cs->remote);
        }
        free(cs);
        *socket_context = NULL;
    }
}

/* Called as soon as the request line is parsed, with the target as sent:
 * the one place MHD shows the raw, undecoded query string. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    req_state *rq = calloc(1, sizeof *rq);
    if (!rq)
        return NULL;
    rq->uri = strdup(uri ? uri : "");
    rq->arrival = unix_now();
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    rq->conn = info ? info->socket_context : NULL;
    if (rq->conn)
        rq->conn->requests++;
    return rq;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    ec_httpd *s = cls;
    (void)c;
    req_state *rq = *con_cls;
    if (!rq)
        return;
    set_phase(s, rq->conn, 0); /* the next request's headers are awaited */
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK &&
        toe != MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN) {
        static const char *const why[] = {
            "completed", "an error", "the idle timeout", "shutdown", "a read error",
            "the client closing",
        };
        const char *reason = (unsigned)toe < 6 ? why[toe] : "an unknown cause";
        if (!rq->handled)
            emit(s, EC_HTTPD_EV_INCOMPLETE, rq->conn, rq,
                 "request %s %s ended by %s before its headers and body were complete",
                 rq->method ? rq->method : "?", rq->uri, reason);
        else if (!rq->gone_reported)
            emit(s, EC_HTTPD_EV_CLIENT_GONE, rq->conn, rq,
                 "reply to %s %s ended early by %s", rq->method ? rq->method : "?", rq->uri,
                 reason);
    }
    if (rq->handled && s->on_done && !atomic_load(&s->stopping))
        s->on_done(s->ctx, rq->conn ? rq->conn->id : 0);
    free(rq->uri);
    free(rq->method);
    free(rq->body);
    free(rq);
    *con_cls = NULL;
}

static ssize_t read_body_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    body_stream *bs = cls;
    if (atomic_load(&bs->server->stopping))
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (pos >= bs->reset_after) {
        /* Let what was written reach the client, then abort with RST
         * (linger 0) rather than an orderly FIN. */
        long end = mono_ms() + 200;
        int queued = 0;
        while (bs->fd >= 0 && ioctl(bs->fd, SIOCOUTQ, &queued) == 0 && queued > 0 &&
               mono_ms() < end)
            sleep_ms(2);
        if (bs->fd >= 0) {
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(bs->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (pos >= bs->body_len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (bs->sent_any && bs->interval_ms) {
        if (wait_reply(bs->server, bs->fd, bs->interval_ms) != 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = bs->body_len - (size_t)pos;
    if (n > bs->chunk)
        n = bs->chunk;
    if (n > max)
        n = max;
    if (pos + n > bs->reset_after)
        n = bs->reset_after - (size_t)pos;
    memcpy(buf, bs->body + pos, n);
    bs->sent_any = 1;
    return (ssize_t)n;
}

static void free_body_stream(void *cls)
{
    body_stream *bs = cls;
    free(bs->body);
    free(bs);
}

static enum MHD_Result queue_simple(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result refuse_too_large(ec_httpd *s, struct MHD_Connection *c, req_state *rq,
                                        const char *how)
{
    char text[160];
    snprintf(text, sizeof text, "Payload Too Large: the request body exceeds %zu bytes\n",
             s->max_body);
    rq->replied = 1;
    rq->handled = 1; /* what follows is the server's own answer, not a cut-off request */
    emit(s, EC_HTTPD_EV_TOO_LARGE, rq->conn, rq, "%s %s: body %s exceeds max_body %zu; 413 sent",
         rq->method ? rq->method : "?", rq->uri, how, s->max_body);
    return queue_simple(c, 413, text);
}

/* ---- message framing (RFC 9112) ------------------------------------------ */

typedef struct {
    unsigned content_length, transfer_encoding;
    int te_not_chunked;
    const char *prev_end;  /* just past the previous field's value, or NULL */
    const char *prev_key;
    char why[128];
} framing;

/* MHD 0.9.75 parses the header block in place: each name and value is NUL
 * terminated inside its read buffer, one field after the other, and it
 * hands over a value cut at its first NUL ("aes128cbc\0x" arrives as
 * "aes128cbc") and an obs-fold line glued to the name in new memory.
 * Neither is visible in the values, so the bytes between one field's value
 * and the next field's name are looked at: only the line end and optional
 * white space, zeroed, may be there.  Anything else was hidden by a NUL;
 * a name that is not right after the previous value came from a fold. */
#define FIELD_GAP_MAX 64
static const char *hidden_between(const char *prev_end, const char *key)
{
    if ((uintptr_t)key <= (uintptr_t)prev_end || (uintptr_t)key - (uintptr_t)prev_end > FIELD_GAP_MAX)
        return "a folded (obs-fold) header line";
    for (const char *p = prev_end; p < key; p++)
        if (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            return "bytes after a NUL in a header value";
    return NULL;
}

static enum MHD_Result check_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    framing *f = cls;
    if (!key)
        return MHD_YES;
    /* A field value is visible characters, SP and HTAB (RFC 9110 5.5): a
     * NUL, CR, LF or other control byte is refused, never cut off. */
    for (size_t i = 0; value && i < value_size; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            snprintf(f->why, sizeof f->why, "control byte 0x%02x in the value of %.40s", c, key);
            return MHD_NO;
        }
    }
    for (size_t i = 0; i < key_size; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c <= 0x20 || c == 0x7f || c == ':') {
            snprintf(f->why, sizeof f->why, "byte 0x%02x in a header name", c);
            return MHD_NO;
        }
    }
    if (value && strlen(value) != value_size) {
        snprintf(f->why, sizeof f->why, "NUL in the value of %.40s", key);
        return MHD_NO;
    }
    const char *hidden = f->prev_end ? hidden_between(f->prev_end, key) : NULL;
    if (hidden) {
        snprintf(f->why, sizeof f->why, "%s (after %.40s)", hidden, f->prev_key);
        return MHD_NO;
    }
    f->prev_end = value ? value + value_size : key + key_size;
    f->prev_key = key;
    if (strcasecmp(key, "Content-Length") == 0)
        f->content_length++;
    if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->transfer_encoding++;
        if (!value || strcasecmp(value, "chunked") != 0)
            f->te_not_chunked = 1;
    }
    return MHD_YES;
}

/* Why the request's framing is refused, or NULL when it is unambiguous:
 * RFC 9112 6.3 — a Content-Length sent twice (even with the same value)
 * or beside Transfer-Encoding lets two parsers see two different
 * messages (request smuggling); so does a Transfer-Encoding that is not
 * exactly chunked.  MHD itself already refuses a list ("5, 5"). */
static const char *framing_error(struct MHD_Connection *c, framing *f)
{
    memset(f, 0, sizeof *f);
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, check_field, f);
    if (f->why[0])
        return f->why;
    /* After the last value come its line end and the empty line, zeroed
     * (at least two NULs, one per LF): a byte there was hidden by a NUL. */
    if (f->prev_end && (f->prev_end[0] != '\0' || f->prev_end[1] != '\0')) {
        snprintf(f->why, sizeof f->why, "bytes after a NUL in a header value (%.40s)",
                 f->prev_key);
        return f->why;
    }
    if (f->content_length > 1)
        snprintf(f->why, sizeof f->why, "Content-Length sent %u times", f->content_length);
    else if (f->content_length && f->transfer_encoding)
        snprintf(f->why, sizeof f->why, "Content-Length and Transfer-Encoding both sent");
    else if (f->transfer_encoding > 1 || f->te_not_chunked)
        snprintf(f->why, sizeof f->why, "Transfer-Encoding other than one 'chunked'");
    return f->why[0] ? f->why : NULL;
}

static enum MHD_Result refuse_framing(ec_httpd *s, struct MHD_Connection *c, req_state *rq,
                                      const char *why)
{
    rq->replied = 1;
    rq->handled = 1;
    rq->too_large = 1; /* drop whatever body follows, unbuffered */
    emit(s, EC_HTTPD_EV_BAD_FRAMING, rq->conn, rq, "%s %s: %s; 400 sent and closed",
         rq->method ? rq->method : "?", rq->uri, why);
    char text[192];
    snprintf(text, sizeof text, "Bad Request: %s\n", why);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain");
    MHD_add_response_header(r, "Connection", "close");
    enum MHD_Result ok = MHD_queue_response(c, 400, r);
    MHD_destroy_response(r);
    return ok;
}

typedef struct {
    ec_httpd_header *list;
    size_t count;
    int failed;
} header_list;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    header_list *hl = cls;
    ec_httpd_header *grown = realloc(hl->list, (hl->count + 1) * sizeof *grown);
    if (!grown) {
        hl->failed = 1;
        return MHD_NO;
    }
    hl->list = grown;
    grown[hl->count].name = key;
    grown[hl->count].value = value ? value : "";
    hl->count++;
    return MHD_YES;
}

/* Run the handler and send its reply by its script. */
static enum MHD_Result answer(ec_httpd *s, struct MHD_Connection *c, req_state *rq,
                              const char *version)
{
    header_list hl = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hl);
    if (hl.failed) {
        free(hl.list);
        return MHD_NO;
    }
    char *path = strdup(rq->uri);
    if (!path) {
        free(hl.list);
        return MHD_NO;
    }
    char *q = strchr(path, '?');
    const char *query = "";
    if (q) {
        *q = '\0';
        query = q + 1;
    }
    ec_httpd_request view = {
        .method = rq->method,
        .path = path,
        .query = query,
        .version = version,
        .headers = hl.list,
        .header_count = hl.count,
        .body = rq->body ? rq->body : (const unsigned char *)"",
        .body_len = rq->body_len,
        .remote_addr = rq->conn ? rq->conn->remote : "",
        .connection_id = rq->conn ? rq->conn->id : 0,
        .request_index = rq->conn ? rq->conn->requests : 0,
        .arrival_time = rq->arrival,
    };
    ec_httpd_reply reply = {.status = 200, .trickle_bytes = 1};
    s->handler(s->ctx, &view, &reply);
    rq->handled = 1;
    free(path);
    free(hl.list);

    int fd = connection_fd(c);
    enum MHD_Result result = MHD_NO;
    struct MHD_Response *r = NULL;
    int waited = 0;
    switch (reply.script) {
    case EC_HTTPD_NEVER:
        waited = wait_reply(s, fd, -1);
        break;
    case EC_HTTPD_DELAY:
    case EC_HTTPD_TRICKLE:
    case EC_HTTPD_RESET:
        waited = reply.delay_ms ? wait_reply(s, fd, reply.delay_ms) : 0;
        break;
    default:
        break;
    }
    if (reply.script == EC_HTTPD_NEVER || waited != 0) {
        /* Returning MHD_NO closes the connection without a byte of answer. */
        if (waited == 1) {
            emit(s, EC_HTTPD_EV_CLIENT_GONE, rq->conn, rq,
                 "client closed the connection while the reply to %s %s was held",
                 rq->method, rq->uri);
            rq->gone_reported = 1;
        }
        rq->replied = 1;
        reply_clear(&reply);
        return MHD_NO;
    }

    if (reply.script == EC_HTTPD_TRICKLE || reply.script == EC_HTTPD_RESET) {
        body_stream *bs = calloc(1, sizeof *bs);
        if (!bs)
            goto fail;
        bs->server = s;
        bs->body = reply.body;
        reply.body = NULL;
        bs->body_len = reply.body_len;
        bs->fd = fd;
        if (reply.script == EC_HTTPD_TRICKLE) {
            bs->chunk = reply.trickle_bytes;
            bs->interval_ms = reply.trickle_interval_ms;
            bs->reset_after = SIZE_MAX;
        } else {
            bs->chunk = bs->body_len ? bs->body_len : 1;
            bs->reset_after = reply.reset_after;
        }
        r = MHD_create_response_from_callback(bs->body_len, bs->chunk > 4096 ? bs->chunk : 4096,
                                              read_body_stream, bs, free_body_stream);
        if (!r) {
            free_body_stream(bs);
            goto fail;
        }
    } else {
        r = MHD_create_response_from_buffer(reply.body_len, reply.body ? reply.body : (void *)"",
                                            MHD_RESPMEM_MUST_COPY);
        if (!r)
            goto fail;
    }
    for (size_t i = 0; i < reply.header_count; i++) {
        if (MHD_add_response_header(r, reply.headers[i].name, reply.headers[i].value) != MHD_YES)
            emit(s, EC_HTTPD_EV_REPLY_ERROR, rq->conn, rq,
                 "header \"%s\" was refused by the HTTP library", reply.headers[i].name);
    }
    result = MHD_queue_response(c, reply.status, r);
    MHD_destroy_response(r);
    rq->replied = 1;
    if (result != MHD_YES)
        emit(s, EC_HTTPD_EV_REPLY_ERROR, rq->conn, rq, "status %u could not be queued",
             reply.status);
    reply_clear(&reply);
    return result;
fail:
    emit(s, EC_HTTPD_EV_REPLY_ERROR, rq->conn, rq, "out of memory building the reply");
    reply_clear(&reply);
    rq->replied = 1;
    return MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    ec_httpd *s = cls;
    (void)url; /* already decoded by MHD; the raw target came through on_uri */
    req_state *rq = *con_cls;
    if (!rq)
        return MHD_NO; /* on_uri ran out of memory */
    if (!rq->started) {
        rq->started = 1;
        rq->method = strdup(method);
        if (!rq->method)
            return MHD_NO;
        set_phase(s, rq->conn, 1); /* headers complete: the body's deadline */
        framing f;
        const char *bad = framing_error(c, &f);
        if (bad)
            return refuse_framing(s, c, rq, bad);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end = NULL;
            errno = 0;
            unsigned long long declared = strtoull(cl, &end, 10);
            if (errno == 0 && end && *end == '\0' && declared > s->max_body) {
                /* Answer before reading the body: MHD then discards it. */
                rq->too_large = 1;
                return refuse_too_large(s, c, rq, "declared by Content-Length");
            }
        }
        return MHD_YES;
    }
    if (rq->replied) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rq->too_large)
            return MHD_YES; /* drop the excess unbuffered */
        if (rq->body_len + n > s->max_body) {
            rq->too_large = 1;
            free(rq->body);
            rq->body = NULL;
            rq->body_len = rq->body_cap = 0;
            return MHD_YES;
        }
        if (rq->body_len + n + 1 > rq->body_cap) {
            size_t cap = rq->body_cap ? rq->body_cap : 1024;
            while (rq->body_len + n + 1 > cap)
                cap *= 2;
            unsigned char *p = realloc(rq->body, cap);
            if (!p)
                return MHD_NO;
            rq->body = p;
            rq->body_cap = cap;
        }
        memcpy(rq->body + rq->body_len, upload_data, n);
        rq->body_len += n;
        rq->body[rq->body_len] = '\0';
        return MHD_YES;
    }
    if (rq->too_large)
        return refuse_too_large(s, c, rq, "sent in chunks");
    set_phase(s, rq->conn, 2); /* answering: no deadline (held replies are scripted) */
    return answer(s, c, rq, version);
}

/* ---- start / stop -------------------------------------------------------- */

static int parse_listen(const char *listen, struct sockaddr_in *sin, char *host, size_t host_size)
{
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    if (!colon || (size_t)(colon - listen) >= host_size || colon == listen)
        return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end = NULL;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno || !end || *end || end == colon + 1 || port > 65535)
        return -1;
    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
        return -1;
    return 0;
}

/* first_bytes_gate: a connection whose request has begun goes to
 * libmicrohttpd, with on_connection's bookkeeping as for one it accepted. */
static void gate_admit(void *ctx, int fd, const struct sockaddr *addr, socklen_t addr_len)
{
    ec_httpd *s = ctx;
    (void)MHD_add_connection(s->daemon, fd, addr, addr_len); /* on failure it closes fd */
}

static void gate_no_request(void *ctx, const char *remote, size_t empty_line_bytes,
                            int timed_out)
{
    ec_httpd *s = ctx;
    conn_state cs = {.id = atomic_fetch_add(&s->next_connection_id, 1), .fd = -1};
    snprintf(cs.remote, sizeof cs.remote, "%s", remote);
    const char *how = timed_out ? "was closed by the server after its deadline" : "closed";
    if (empty_line_bytes == 0)
        emit(s, EC_HTTPD_EV_EMPTY, &cs, NULL,
             "connection %llu from %s %s without sending a byte (a port probe or a "
             "pre-connect: no request)", (unsigned long long)cs.id, cs.remote, how);
    else
        emit(s, EC_HTTPD_EV_EMPTY, &cs, NULL,
             "connection %llu from %s %s having sent only %zu bytes of empty lines (RFC 9112 "
             "2.2: ignored before a request line; no request)",
             (unsigned long long)cs.id, cs.remote, how, empty_line_bytes);
}

/* The gate's own listening socket on sin; -1 and errno on failure. */
static int gate_listen(const struct sockaddr_in *sin)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (const struct sockaddr *)sin, sizeof *sin) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void stop_sweeper(ec_httpd *s)
{
    atomic_store(&s->stopping, 1);
    if (s->sweeper_on)
        pthread_join(s->sweeper, NULL);
    s->sweeper_on = 0;
    pthread_mutex_destroy(&s->conns_lock);
}

ec_status ec_httpd_start(const ec_httpd_config *config, ec_httpd **out, char *errbuf,
                         size_t errbuf_size)
{
    if (errbuf && errbuf_size)
        errbuf[0] = '\0';
    if (!out)
        return EC_E_ARG;
    *out = NULL;
    if (!config || !config->handler) {
        if (errbuf)
            snprintf(errbuf, errbuf_size, "no handler given");
        return EC_E_ARG;
    }
    ec_httpd *s = calloc(1, sizeof *s);
    if (!s)
        return EC_E_NOMEM;
    s->handler = config->handler;
    s->on_event = config->on_event;
    s->on_done = config->on_done;
    s->ctx = config->ctx;
    s->max_body = config->max_body ? config->max_body : DEFAULT_MAX_BODY;
    atomic_init(&s->stopping, 0);
    atomic_init(&s->next_connection_id, 1);
    if (config->listen && strcmp(config->listen, EC_HTTPD_IN_PROCESS) == 0) {
        /* No daemon, no sweeper, no timer: ec_httpd_call only. */
        pthread_mutex_init(&s->conns_lock, NULL);
        snprintf(s->host, sizeof s->host, "in-process");
        *out = s;
        return EC_OK;
    }
    struct sockaddr_in sin;
    if (parse_listen(config->listen, &sin, s->host, sizeof s->host) != 0) {
        if (errbuf)
            snprintf(errbuf, errbuf_size, "listen address \"%s\" is not IPv4-ADDRESS:PORT",
                     config->listen ? config->listen : "(null)");
        free(s);
        return EC_E_ARG;
    }
    s->header_ms = config->header_deadline_ms;
    s->body_ms = config->body_deadline_ms;
    s->on_tick = config->on_tick;
    pthread_mutex_init(&s->conns_lock, NULL);
    if (s->header_ms || s->body_ms || s->on_tick) {
        if (pthread_create(&s->sweeper, NULL, sweep, s) != 0) {
            if (errbuf)
                snprintf(errbuf, errbuf_size, "cannot start the deadline thread");
            pthread_mutex_destroy(&s->conns_lock);
            free(s);
            return EC_E_NOMEM;
        }
        s->sweeper_on = 1;
    }

    unsigned max_conn = config->max_connections ? config->max_connections
                                                : DEFAULT_MAX_CONNECTIONS;
    unsigned idle = config->idle_timeout_s ? config->idle_timeout_s : DEFAULT_IDLE_TIMEOUT_S;
    unsigned pool = config->thread_pool_size;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
    if (pool)
        flags |= MHD_USE_EPOLL;
    else
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    int gate_fd = -1;
    if (config->first_bytes_gate) {
        gate_fd = gate_listen(&sin);
        if (gate_fd < 0) {
            if (errbuf)
                snprintf(errbuf, errbuf_size, "cannot listen on %s (%s)", config->listen,
                         strerror(errno));
            stop_sweeper(s);
            free(s);
            return EC_E_IO;
        }
        flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    }

    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
        MHD_OPTION_CONNECTION_LIMIT, max_conn,
        MHD_OPTION_CONNECTION_TIMEOUT, idle,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, config->max_per_address,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        config->connection_memory ? config->connection_memory : (size_t)32 * 1024,
        pool ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, pool,
        MHD_OPTION_END);
    if (!s->daemon) {
        if (errbuf)
            snprintf(errbuf, errbuf_size, "cannot listen on %s (address in use or not local?)",
                     config->listen);
        if (gate_fd >= 0)
            close(gate_fd);
        stop_sweeper(s);
        free(s);
        return EC_E_IO;
    }
    if (gate_fd >= 0) {
        struct sockaddr_in bound;
        socklen_t len = sizeof bound;
        s->port = getsockname(gate_fd, (struct sockaddr *)&bound, &len) == 0
                      ? ntohs(bound.sin_port) : ntohs(sin.sin_port);
        ec_gate_config gc = {
            .listen_fd = gate_fd,
            .max_pending = max_conn,
            .max_per_address = config->max_per_address,
            .deadline_ms = s->header_ms ? s->header_ms : idle * 1000u,
            .admit = gate_admit,
            .no_request = gate_no_request,
            .ctx = s,
        };
        if (ec_gate_start(&gc, &s->gate) != 0) {   /* it closed gate_fd */
            if (errbuf)
                snprintf(errbuf, errbuf_size, "cannot start the listening thread on %s",
                         config->listen);
            MHD_stop_daemon(s->daemon);
            stop_sweeper(s);
            free(s);
            return EC_E_NOMEM;
        }
        *out = s;
        return EC_OK;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : ntohs(sin.sin_port);
    *out = s;
    return EC_OK;
}

unsigned ec_httpd_port(const ec_httpd *server) { return server ? server->port : 0; }

const char *ec_httpd_base_url(const ec_httpd *server, char *buf, size_t size)
{
    if (buf && size)
        snprintf(buf, size, "http://%s:%u", server ? server->host : "", ec_httpd_port(server));
    return buf;
}

void ec_httpd_interrupt(ec_httpd *server)
{
    if (server)
        atomic_store(&server->stopping, 1);
}

ec_status ec_httpd_call(ec_httpd *server, const ec_httpd_request *req, ec_httpd_result *out)
{
    if (!out)
        return EC_E_ARG;
    memset(out, 0, sizeof *out);
    if (!server || !req || !req->method || !req->path || (!req->body && req->body_len))
        return EC_E_ARG;
    ec_httpd_request view = *req;
    if (!view.query)
        view.query = "";
    if (!view.version)
        view.version = "HTTP/1.1";
    if (!view.remote_addr)
        view.remote_addr = "127.0.0.1:1";
    if (!view.body)
        view.body = (const unsigned char *)"";
    if (view.arrival_time == 0) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        view.arrival_time = (double)tv.tv_sec + tv.tv_usec / 1e6;
    }
    if (view.connection_id == 0) {
        view.connection_id = atomic_fetch_add(&server->next_connection_id, 1);
        view.request_index = 1;
    }
    ec_httpd_reply reply = {.status = 200, .trickle_bytes = 1};
    server->handler(server->ctx, &view, &reply);
    /* No socket: the answer is over once the handler has given it. */
    if (server->on_done)
        server->on_done(server->ctx, view.connection_id);
    size_t head_len = 1;
    for (size_t i = 0; i < reply.header_count; i++)
        head_len += strlen(reply.headers[i].name) + strlen(reply.headers[i].value) + 4;
    out->headers = malloc(head_len);
    out->body = malloc(reply.body_len + 1);
    if (!out->headers || !out->body) {
        reply_clear(&reply);
        ec_httpd_result_free(out);
        return EC_E_NOMEM;
    }
    char *h = out->headers;
    for (size_t i = 0; i < reply.header_count; i++)
        h += sprintf(h, "%s: %s\r\n", reply.headers[i].name, reply.headers[i].value);
    *h = '\0';
    if (reply.body_len)
        memcpy(out->body, reply.body, reply.body_len);
    out->body[reply.body_len] = '\0';
    out->body_len = reply.body_len;
    out->status = reply.status;
    out->script = reply.script;
    reply_clear(&reply);
    return EC_OK;
}

void ec_httpd_result_free(ec_httpd_result *result)
{
    if (!result)
        return;
    free(result->headers);
    free(result->body);
    memset(result, 0, sizeof *result);
}

void ec_httpd_stop(ec_httpd *server)
{
    if (!server)
        return;
    ec_httpd_interrupt(server);
    ec_gate_stop(server->gate);     /* no connection is handed over after this */
    if (server->daemon)
        MHD_stop_daemon(server->daemon);
    stop_sweeper(server);
    free(server);
}
