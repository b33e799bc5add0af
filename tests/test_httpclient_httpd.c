#define _GNU_SOURCE /* strcasestr */
/* The HTTP plumbing both roles stand on: the probing client against the
 * embeddable mock server, over loopback with ports picked by the kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "emoncrypt/httpclient.h"
#include "emoncrypt/httpd.h"

/* ---- a mock whose behaviour is chosen by the request path --------------- */

typedef struct {
    pthread_mutex_t lock;
    char method[16];
    char path[256];
    char query[256];
    char headers[2048]; /* "Name: value\n" per header, as received */
    unsigned char body[4096];
    size_t body_len;
    uint64_t connection_id;
    char events[2048]; /* "kind;" per event */
    int event_count;
} observed;

typedef struct {
    ec_httpd *server;
    ec_http_client *client;
    observed seen;
    char base[64];
} fixture;

static void record_request(observed *o, const ec_httpd_request *req)
{
    pthread_mutex_lock(&o->lock);
    snprintf(o->method, sizeof o->method, "%s", req->method);
    snprintf(o->path, sizeof o->path, "%s", req->path);
    snprintf(o->query, sizeof o->query, "%s", req->query);
    o->headers[0] = '\0';
    for (size_t i = 0; i < req->header_count; i++) {
        size_t used = strlen(o->headers);
        snprintf(o->headers + used, sizeof o->headers - used, "%s: %s\n", req->headers[i].name,
                 req->headers[i].value);
    }
    o->body_len = req->body_len < sizeof o->body ? req->body_len : sizeof o->body;
    memcpy(o->body, req->body, o->body_len);
    o->connection_id = req->connection_id;
    pthread_mutex_unlock(&o->lock);
}

static void handler(void *ctx, const ec_httpd_request *req, ec_httpd_reply *reply)
{
    observed *o = ctx;
    record_request(o, req);
    if (strcmp(req->path, "/echo") == 0) {
        ec_httpd_reply_header(reply, "Content-Type", "application/octet-stream");
        ec_httpd_reply_header(reply, "X-Reply", "one");
        ec_httpd_reply_header(reply, "x-reply", "two");
        ec_httpd_reply_body(reply, req->body, req->body_len);
    } else if (strcmp(req->path, "/delay") == 0) {
        ec_httpd_reply_body(reply, "late", 4);
        ec_httpd_reply_script(reply, EC_HTTPD_DELAY, (unsigned)atoi(req->query), 0, 0, 0);
    } else if (strcmp(req->path, "/trickle") == 0) {
        ec_httpd_reply_body(reply, "0123456789", 10);
        ec_httpd_reply_script(reply, EC_HTTPD_TRICKLE, 0, 2, 50, 0);
    } else if (strcmp(req->path, "/reset") == 0) {
        static unsigned char big[1000];
        memset(big, 'r', sizeof big);
        ec_httpd_reply_body(reply, big, sizeof big);
        ec_httpd_reply_script(reply, EC_HTTPD_RESET, 0, 0, 0, 100);
    } else if (strcmp(req->path, "/reset0") == 0) {
        ec_httpd_reply_body(reply, "never seen", 10);
        ec_httpd_reply_script(reply, EC_HTTPD_RESET, 0, 0, 0, 0);
    } else if (strcmp(req->path, "/never") == 0) {
        ec_httpd_reply_script(reply, EC_HTTPD_NEVER, 0, 0, 0, 0);
    } else if (strcmp(req->path, "/big") == 0) {
        size_t n = 200000;
        unsigned char *b = malloc(n);
        memset(b, 'b', n);
        ec_httpd_reply_body(reply, b, n);
        free(b);
    } else {
        ec_httpd_reply_status(reply, 404);
        ec_httpd_reply_body(reply, "no such path", 12);
    }
}

static void on_event(void *ctx, const ec_httpd_event *ev)
{
    observed *o = ctx;
    pthread_mutex_lock(&o->lock);
    size_t used = strlen(o->events);
    snprintf(o->events + used, sizeof o->events - used, "%s;", ec_httpd_event_name(ev->kind));
    o->event_count++;
    pthread_mutex_unlock(&o->lock);
}

/* The server threads write `observed` under its lock; tests that poll it
 * while requests are in flight read it under the lock too. */
static int observed_contains(observed *o, const char *field_name, const char *needle)
{
    pthread_mutex_lock(&o->lock);
    const char *field = strcmp(field_name, "path") == 0 ? o->path : o->events;
    int found = strstr(field, needle) != NULL;
    pthread_mutex_unlock(&o->lock);
    return found;
}

/* Wait up to 2 s for `needle` to show up in the events or the path. */
static int await_observed(observed *o, const char *field_name, const char *needle)
{
    for (int i = 0; i < 200; i++) {
        if (observed_contains(o, field_name, needle))
            return 1;
        usleep(10000);
    }
    return 0;
}

static int start(void **state, unsigned pool)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    pthread_mutex_init(&f->seen.lock, NULL);
    ec_httpd_config cfg = {
        .listen = "127.0.0.1:0",
        .handler = handler,
        .on_event = on_event,
        .ctx = &f->seen,
        .max_body = 1024,
        .max_connections = 8,
        .idle_timeout_s = 5,
        .thread_pool_size = pool,
    };
    char err[128];
    if (ec_httpd_start(&cfg, &f->server, err, sizeof err) != EC_OK) {
        fprintf(stderr, "httpd: %s\n", err);
        free(f);
        return -1;
    }
    f->client = ec_http_client_new();
    ec_httpd_base_url(f->server, f->base, sizeof f->base);
    *state = f;
    return f->client ? 0 : -1;
}

static int setup(void **state) { return start(state, 0); }
static int setup_pool(void **state) { return start(state, 2); }

static int teardown(void **state)
{
    fixture *f = *state;
    ec_http_client_free(f->client);
    ec_httpd_stop(f->server); /* NULL when a test stopped it already */
    pthread_mutex_destroy(&f->seen.lock);
    free(f);
    return 0;
}

static ec_status send_to(fixture *f, const char *method, const char *target,
                         const ec_http_header *h, size_t nh, const void *body, size_t len,
                         long timeout_ms, ec_http_response *resp)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", f->base, target);
    ec_http_client_request req = {
        .method = method, .url = url, .headers = h, .header_count = nh,
        .body = body, .body_len = len, .timeout_ms = timeout_ms,
    };
    return ec_http_client_send(f->client, &req, resp);
}

/* ---- tests --------------------------------------------------------------- */

static void port_zero_is_resolved(void **state)
{
    fixture *f = *state;
    assert_true(ec_httpd_port(f->server) > 0);
    assert_non_null(strstr(f->base, "http://127.0.0.1:"));
}

static void exact_bytes_round_trip(void **state)
{
    fixture *f = *state;
    unsigned char body[256];
    for (int i = 0; i < 256; i++)
        body[i] = (unsigned char)i;
    ec_http_response r;
    assert_int_equal(send_to(f, "POST", "/echo?a=%20b&c", NULL, 0, body, sizeof body, 3000, &r),
                     EC_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.error, EC_HTTP_ERR_NONE);
    assert_int_equal(r.body_len, sizeof body);
    assert_memory_equal(r.body, body, sizeof body);
    assert_int_equal(f->seen.body_len, sizeof body);
    assert_memory_equal(f->seen.body, body, sizeof body);
    assert_string_equal(f->seen.method, "POST");
    assert_string_equal(f->seen.path, "/echo");
    assert_string_equal(f->seen.query, "a=%20b&c");
    assert_string_equal(r.content_type, "application/octet-stream");
    /* Both reply headers arrive, in order, with their case. */
    const char *first = NULL, *second = NULL;
    for (size_t i = 0; i < r.header_count; i++) {
        if (strcmp(r.headers[i].name, "X-Reply") == 0)
            first = r.headers[i].value;
        if (strcmp(r.headers[i].name, "x-reply") == 0)
            second = r.headers[i].value;
    }
    assert_non_null(first);
    assert_non_null(second);
    assert_string_equal(first, "one");
    assert_string_equal(second, "two");
    assert_true(r.elapsed_ms >= 0 && r.elapsed_ms < 3000);
    ec_http_response_free(&r);
}

static void odd_headers_go_out_as_given(void **state)
{
    fixture *f = *state;
    const ec_http_header h[] = {
        {"content-TYPE", "aes128cbc"},
        {"X-Dup", "a"},
        {"X-Dup", "b"},
        {"X-Empty", ""},
        {"AUTHORIZATION", "1:abc"},
    };
    ec_http_response r;
    assert_int_equal(send_to(f, "POST", "/echo", h, 5, "x", 1, 3000, &r), EC_OK);
    assert_int_equal(r.status, 200);
    const char *seen = f->seen.headers;
    /* Order, case and duplicates as sent. */
    const char *ct = strstr(seen, "content-TYPE: aes128cbc\n");
    const char *d1 = strstr(seen, "X-Dup: a\n");
    const char *d2 = strstr(seen, "X-Dup: b\n");
    const char *em = strstr(seen, "X-Empty: \n");
    const char *au = strstr(seen, "AUTHORIZATION: 1:abc\n");
    assert_non_null(ct);
    assert_non_null(d1);
    assert_non_null(d2);
    assert_non_null(em);
    assert_non_null(au);
    assert_true(ct < d1 && d1 < d2 && d2 < em && em < au);
    /* Nothing libcurl would add by itself. */
    assert_null(strcasestr(seen, "Expect:"));
    assert_null(strcasestr(seen, "Accept:"));
    assert_null(strcasestr(seen, "User-Agent:"));
    assert_non_null(strcasestr(seen, "Host: 127.0.0.1:"));
    assert_non_null(strcasestr(seen, "Content-Length: 1\n"));
    ec_http_response_free(&r);

    /* No Content-Type at all when none is given, even for a POST. */
    assert_int_equal(send_to(f, "POST", "/echo", NULL, 0, "k=v", 3, 3000, &r), EC_OK);
    assert_null(strcasestr(f->seen.headers, "Content-Type"));
    ec_http_response_free(&r);
}

static void suppressed_host_header_is_absent(void **state)
{
    fixture *f = *state;
    const ec_http_header h[] = {{"Host", NULL}, {"X-Marker", "no-host"}};
    ec_http_response r;
    assert_int_equal(send_to(f, "POST", "/echo", h, 2, "x", 1, 3000, &r), EC_OK);
    /* libmicrohttpd 0.9.75 lets HTTP/1.1 without Host through, so the
     * handler shows exactly what went out. */
    assert_non_null(strstr(f->seen.headers, "X-Marker: no-host\n"));
    assert_null(strcasestr(f->seen.headers, "Host:"));
    assert_non_null(strcasestr(f->seen.headers, "Content-Length: 1\n"));
    ec_http_response_free(&r);
    /* A header line with a colon in its name is refused up front. */
    const ec_http_header bad[] = {{"X-A:B", "c"}};
    assert_int_equal(send_to(f, "GET", "/echo", bad, 1, NULL, 0, 3000, &r), EC_E_ARG);
    assert_int_equal(r.error, EC_HTTP_ERR_ARG);
    ec_http_response_free(&r);
}

static void body_without_data_and_no_body(void **state)
{
    fixture *f = *state;
    ec_http_response r;
    assert_int_equal(send_to(f, "POST", "/echo", NULL, 0, "", 0, 3000, &r), EC_OK);
    assert_non_null(strcasestr(f->seen.headers, "Content-Length: 0\n"));
    assert_int_equal(r.body_len, 0);
    ec_http_response_free(&r);
    assert_int_equal(send_to(f, "GET", "/echo", NULL, 0, NULL, 0, 3000, &r), EC_OK);
    assert_string_equal(f->seen.method, "GET");
    assert_null(strcasestr(f->seen.headers, "Content-Length"));
    ec_http_response_free(&r);
    assert_int_equal(send_to(f, "PUT", "/nowhere", NULL, 0, "z", 1, 3000, &r), EC_OK);
    assert_string_equal(f->seen.method, "PUT");
    assert_int_equal(r.status, 404);
    assert_string_equal((const char *)r.body, "no such path");
    ec_http_response_free(&r);
}

static void keep_alive_reuses_the_connection(void **state)
{
    fixture *f = *state;
    ec_http_response r;
    assert_int_equal(send_to(f, "POST", "/echo", NULL, 0, "1", 1, 3000, &r), EC_OK);
    uint64_t first = f->seen.connection_id;
    ec_http_response_free(&r);
    assert_int_equal(send_to(f, "POST", "/echo", NULL, 0, "2", 1, 3000, &r), EC_OK);
    assert_int_equal(f->seen.connection_id, first);
    assert_int_equal(r.reused_connection, 1);
    ec_http_response_free(&r);
}

static void body_above_cap_gets_413(void **state)
{
    fixture *f = *state;
    unsigned char body[2000];
    memset(body, 'x', sizeof body);
    ec_http_response r;
    assert_int_equal(send_to(f, "POST", "/echo", NULL, 0, body, sizeof body, 3000, &r), EC_OK);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr((const char *)r.body, "exceeds 1024 bytes"));
    ec_http_response_free(&r);
    /* Exactly at the cap is still accepted. */
    assert_int_equal(send_to(f, "POST", "/echo", NULL, 0, body, 1024, 3000, &r), EC_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 1024);
    ec_http_response_free(&r);
    assert_true(observed_contains(&f->seen, "events", "too-large;"));
}

static void delay_shorter_and_longer_than_timeout(void **state)
{
    fixture *f = *state;
    ec_http_response r;
    assert_int_equal(send_to(f, "GET", "/delay?300", NULL, 0, NULL, 0, 3000, &r), EC_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal((const char *)r.body, "late");
    assert_true(r.elapsed_ms >= 280);
    ec_http_response_free(&r);

    assert_int_equal(send_to(f, "GET", "/delay?3000", NULL, 0, NULL, 0, 400, &r), EC_E_IO);
    assert_int_equal(r.error, EC_HTTP_ERR_TIMEOUT);
    assert_string_equal(r.message, "timed out after 400 ms");
    assert_true(r.elapsed_ms >= 350 && r.elapsed_ms < 2500); /* the answer would come at 3000 */
    ec_http_response_free(&r);
}

static void trickled_body_arrives_whole(void **state)
{
    fixture *f = *state;
    ec_http_response r;
    assert_int_equal(send_to(f, "GET", "/trickle", NULL, 0, NULL, 0, 3000, &r), EC_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 10);
    assert_memory_equal(r.body, "0123456789", 10);
    /* 5 chunks, 4 pauses of 50 ms. */
    assert_true(r.elapsed_ms >= 180);
    ec_http_response_free(&r);
    /* A trickle slower than the client's patience is a timeout. */
    assert_int_equal(send_to(f, "GET", "/trickle", NULL, 0, NULL, 0, 120, &r), EC_E_IO);
    assert_int_equal(r.error, EC_HTTP_ERR_TIMEOUT);
    ec_http_response_free(&r);
}

static void reset_mid_response_is_a_clear_error(void **state)
{
    fixture *f = *state;
    ec_http_response r;
    assert_int_equal(send_to(f, "GET", "/reset", NULL, 0, NULL, 0, 3000, &r), EC_E_IO);
    assert_int_equal(r.error, EC_HTTP_ERR_CLOSED);
    assert_int_equal(r.status, 200);
    assert_true(r.body_len <= 100);
    assert_non_null(strstr(r.message, "cut short"));
    ec_http_response_free(&r);
    /* The client recovers on a fresh connection. */
    assert_int_equal(send_to(f, "POST", "/echo", NULL, 0, "ok", 2, 3000, &r), EC_OK);
    assert_int_equal(r.status, 200);
    ec_http_response_free(&r);
}

static void reset_before_any_body_byte(void **state)
{
    fixture *f = *state;
    ec_http_response r;
    assert_int_equal(send_to(f, "GET", "/reset0", NULL, 0, NULL, 0, 3000, &r), EC_E_IO);
    assert_true(r.error == EC_HTTP_ERR_CLOSED || r.error == EC_HTTP_ERR_NO_ANSWER);
    assert_int_equal(r.body_len, 0);
    assert_true(r.elapsed_ms < 2000);
    ec_http_response_free(&r);
}

static void never_answer_times_out_in_bound(void **state)
{
    fixture *f = *state;
    ec_http_response r;
    assert_int_equal(send_to(f, "POST", "/never", NULL, 0, "x", 1, 500, &r), EC_E_IO);
    assert_int_equal(r.error, EC_HTTP_ERR_TIMEOUT);
    assert_int_equal(r.status, 0);
    assert_true(r.elapsed_ms >= 450 && r.elapsed_ms < 5000); /* generous: it never answers */
    ec_http_response_free(&r);
    /* The server noticed the client leaving within a few wait slices. */
    assert_true(await_observed(&f->seen, "events", "client-gone;"));
}

typedef struct {
    const char *url;
    ec_http_response resp;
    ec_status status;
} background_send;

static void *send_in_background(void *arg)
{
    background_send *b = arg;
    ec_http_client *c = ec_http_client_new();
    ec_http_client_request req = {.method = "POST", .url = b->url, .body = (const unsigned char *)"x",
                           .body_len = 1, .timeout_ms = 8000};
    b->status = ec_http_client_send(c, &req, &b->resp);
    ec_http_client_free(c);
    return NULL;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void stop_releases_held_replies(void **state)
{
    fixture *f = *state;
    char url[128];
    snprintf(url, sizeof url, "%s/never", f->base);
    background_send b = {.url = url};
    pthread_t t;
    pthread_create(&t, NULL, send_in_background, &b);
    assert_true(await_observed(&f->seen, "path", "/never"));
    long start = now_ms();
    /* What a SIGINT handler would do, then the main loop's stop. */
    ec_httpd_interrupt(f->server);
    ec_httpd_stop(f->server);
    f->server = NULL;
    long stop_ms = now_ms() - start;
    pthread_join(t, NULL);
    assert_true(stop_ms < 1000);
    assert_int_equal(b.status, EC_E_IO);
    assert_true(b.resp.error == EC_HTTP_ERR_NO_ANSWER || b.resp.error == EC_HTTP_ERR_CLOSED);
    assert_true(b.resp.elapsed_ms < 2000);
    ec_http_response_free(&b.resp);
}

/* A listener that claims a 1 GB body and keeps sending until the reader
 * hangs up. */
static void *endless_server(void *arg)
{
    int lfd = *(int *)arg;
    int c = accept(lfd, NULL, NULL);
    if (c >= 0) {
        char buf[1024];
        (void)!recv(c, buf, sizeof buf, 0);
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                   "Content-Length: 1073741824\r\n\r\n";
        (void)!send(c, head, sizeof head - 1, MSG_NOSIGNAL);
        static char chunk[65536];
        memset(chunk, 'g', sizeof chunk);
        for (size_t sent = 0; sent < ((size_t)1 << 30);) {
            ssize_t n = send(c, chunk, sizeof chunk, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            sent += (size_t)n;
        }
        close(c);
    }
    return NULL;
}

static void gigabyte_answer_stops_at_cap(void **state)
{
    fixture *f = *state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(lfd, 1), 0);
    getsockname(lfd, (struct sockaddr *)&sin, &len);
    pthread_t t;
    pthread_create(&t, NULL, endless_server, &lfd);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", ntohs(sin.sin_port));
    ec_http_client_request req = {.method = "GET", .url = url, .timeout_ms = 5000,
                           .max_response_body = (size_t)1 << 20};
    ec_http_response r;
    assert_int_equal(ec_http_client_send(f->client, &req, &r), EC_F_TOO_LARGE);
    assert_int_equal(r.error, EC_HTTP_ERR_TOO_LARGE);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, (size_t)1 << 20);
    assert_true(r.elapsed_ms < 3000);
    assert_non_null(strstr(r.message, "larger than 1048576 bytes"));
    ec_http_response_free(&r);
    pthread_join(t, NULL);
    close(lfd);
}

static int connect_raw(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {4, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void limits_idle_timeout_and_max_connections(void **state)
{
    (void)state;
    observed seen = {0};
    pthread_mutex_init(&seen.lock, NULL);
    ec_httpd_config cfg = {.listen = "127.0.0.1:0", .handler = handler, .on_event = on_event,
                           .ctx = &seen, .max_connections = 2, .idle_timeout_s = 1};
    ec_httpd *s = NULL;
    assert_int_equal(ec_httpd_start(&cfg, &s, NULL, 0), EC_OK);
    unsigned port = ec_httpd_port(s);
    int a = connect_raw(port), b = connect_raw(port);
    assert_true(a >= 0 && b >= 0);
    usleep(100000);
    /* A third connection is over the limit: closed without an answer. */
    int c = connect_raw(port);
    char buf[256];
    if (c >= 0) {
        static const char get[] = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
        (void)!send(c, get, sizeof get - 1, MSG_NOSIGNAL);
        assert_true(recv(c, buf, sizeof buf, 0) <= 0);
        close(c);
    }
    /* Idle connections are dropped after about a second. */
    long start = now_ms();
    assert_int_equal(recv(a, buf, sizeof buf, 0), 0);
    long idle = now_ms() - start;
    assert_true(idle >= 500 && idle < 3500);
    close(a);
    close(b);
    /* they sent nothing: "empty" (no request), not "no-request" */
    assert_true(await_observed(&seen, "events", "empty;"));
    ec_httpd_stop(s);
    pthread_mutex_destroy(&seen.lock);
}

static void response_cap_is_enforced(void **state)
{
    fixture *f = *state;
    char url[128];
    snprintf(url, sizeof url, "%s/big", f->base);
    ec_http_client_request req = {.method = "GET", .url = url, .timeout_ms = 3000,
                           .max_response_body = 1000};
    ec_http_response r;
    assert_int_equal(ec_http_client_send(f->client, &req, &r), EC_F_TOO_LARGE);
    assert_int_equal(r.error, EC_HTTP_ERR_TOO_LARGE);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 1000);
    assert_int_equal(r.body_truncated, 1);
    ec_http_response_free(&r);
    assert_int_equal(send_to(f, "POST", "/echo", NULL, 0, "after", 5, 3000, &r), EC_OK);
    assert_memory_equal(r.body, "after", 5);
    ec_http_response_free(&r);
}

static unsigned unused_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    bind(fd, (struct sockaddr *)&sin, sizeof sin);
    getsockname(fd, (struct sockaddr *)&sin, &len);
    close(fd); /* bound but never listening: connecting is refused */
    return ntohs(sin.sin_port);
}

static void connection_refused_is_fast_and_labelled(void **state)
{
    fixture *f = *state;
    char url[64], want[64];
    unsigned port = unused_port();
    snprintf(url, sizeof url, "http://127.0.0.1:%u/input/post", port);
    snprintf(want, sizeof want, "connection refused to 127.0.0.1:%u", port);
    ec_http_client_request req = {.method = "POST", .url = url, .body = (const unsigned char *)"x",
                           .body_len = 1, .timeout_ms = 5000};
    ec_http_response r;
    assert_int_equal(ec_http_client_send(f->client, &req, &r), EC_E_IO);
    assert_int_equal(r.error, EC_HTTP_ERR_CONNECT);
    assert_string_equal(r.message, want);
    assert_true(r.elapsed_ms < 2000);
    ec_http_response_free(&r);
}

/* A listener that answers one connection with something that is not HTTP. */
static void *not_http_server(void *arg)
{
    int lfd = *(int *)arg;
    int c = accept(lfd, NULL, NULL);
    if (c >= 0) {
        char buf[512];
        struct timeval tv = {1, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void)!recv(c, buf, sizeof buf, 0);
        static const char junk[] = "SSH-2.0-OpenSSH_9.2\r\nnot http at all\r\n";
        (void)!send(c, junk, sizeof junk - 1, 0);
        usleep(50000);
        close(c);
    }
    return NULL;
}

static void not_http_answer_is_protocol_error(void **state)
{
    fixture *f = *state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(lfd, 1), 0);
    getsockname(lfd, (struct sockaddr *)&sin, &len);
    pthread_t t;
    pthread_create(&t, NULL, not_http_server, &lfd);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", ntohs(sin.sin_port));
    ec_http_client_request req = {.method = "GET", .url = url, .timeout_ms = 3000};
    ec_http_response r;
    assert_int_equal(ec_http_client_send(f->client, &req, &r), EC_E_IO);
    assert_int_equal(r.error, EC_HTTP_ERR_PROTOCOL);
    assert_non_null(strstr(r.message, "not an HTTP answer"));
    ec_http_response_free(&r);
    pthread_join(t, NULL);
    close(lfd);
}

/* Raw bytes to the mock; returns what came back (until close or 2 s). */
static size_t raw_exchange(fixture *f, const char *bytes, int close_write, char *out,
                           size_t out_size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)ec_httpd_port(f->server));
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)!send(fd, bytes, strlen(bytes), 0);
    if (close_write)
        shutdown(fd, SHUT_WR);
    size_t got = 0;
    for (;;) {
        ssize_t n = recv(fd, out + got, out_size - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got + 1 >= out_size)
            break;
    }
    out[got] = '\0';
    close(fd);
    return got;
}

static void chunked_body_above_cap_gets_413(void **state)
{
    fixture *f = *state;
    char req[4096];
    char chunk[801];
    memset(chunk, 'c', 800);
    chunk[800] = '\0';
    snprintf(req, sizeof req,
             "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
             "Connection: close\r\n\r\n320\r\n%s\r\n320\r\n%s\r\n0\r\n\r\n",
             chunk, chunk);
    char out[2048];
    raw_exchange(f, req, 0, out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 413"));
    assert_non_null(strstr(out, "exceeds 1024 bytes"));
}

static void garbage_and_truncation_are_reported(void **state)
{
    fixture *f = *state;
    char out[2048];
    raw_exchange(f, "HELLO\r\n\r\n", 1, out, sizeof out);
    assert_true(await_observed(&f->seen, "events", "no-request;"));
    raw_exchange(f, "POST /input/post HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 1,
                 out, sizeof out);
    assert_true(await_observed(&f->seen, "events", "incomplete;"));
    /* The handler never saw either. */
    assert_string_not_equal(f->seen.path, "/input/post");
}

static void pool_mode_serves_too(void **state)
{
    fixture *f = *state;
    ec_http_response r;
    assert_int_equal(send_to(f, "POST", "/echo", NULL, 0, "pool", 4, 3000, &r), EC_OK);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "pool", 4);
    ec_http_response_free(&r);
    assert_int_equal(send_to(f, "GET", "/delay?3000", NULL, 0, NULL, 0, 300, &r), EC_E_IO);
    assert_int_equal(r.error, EC_HTTP_ERR_TIMEOUT);
    ec_http_response_free(&r);
}

static void bad_listen_address_is_refused(void **state)
{
    (void)state;
    ec_httpd *s = NULL;
    char err[128];
    ec_httpd_config cfg = {.listen = "localhost", .handler = handler};
    assert_int_equal(ec_httpd_start(&cfg, &s, err, sizeof err), EC_E_ARG);
    assert_null(s);
    assert_non_null(strstr(err, "localhost"));
    cfg.listen = "127.0.0.1:99999";
    assert_int_equal(ec_httpd_start(&cfg, &s, err, sizeof err), EC_E_ARG);
}

static void curl_command_redacts_the_secret(void **state)
{
    (void)state;
    const char *key = "0123456789abcdef0123456789abcdef";
    const ec_http_header h[] = {{"Content-Type", "aes128cbc"}, {"Authorization", "1:it's"}};
    ec_http_client_request req = {
        .method = "POST",
        .url = "http://127.0.0.1:1/input/post?apikey=0123456789ABCDEF0123456789ABCDEF",
        .headers = h, .header_count = 2,
        .body = (const unsigned char *)"abc", .body_len = 3, .timeout_ms = 2500,
    };
    char *cmd = ec_http_curl_command(&req, key, 0);
    assert_non_null(cmd);
    assert_null(strcasestr(cmd, key));
    assert_non_null(strstr(cmd, "apikey=REDACTED"));
    assert_non_null(strstr(cmd, "-H 'Authorization: 1:it'\\''s'"));
    assert_non_null(strstr(cmd, "-H 'Expect:'"));
    assert_non_null(strstr(cmd, "--data-binary 'abc'"));
    assert_non_null(strstr(cmd, "--max-time 2.500"));
    assert_null(strstr(cmd, "-H 'Content-Type:'"));
    free(cmd);
    const ec_http_header odd[] = {{"Host", NULL}, {"X-Empty", ""}};
    ec_http_client_request bare = {.method = "GET", .url = "http://127.0.0.1:1/", .headers = odd,
                            .header_count = 2};
    cmd = ec_http_curl_command(&bare, NULL, 0);
    assert_non_null(strstr(cmd, "-H 'Host:' -H 'X-Empty;'"));
    assert_null(strstr(cmd, "--data-binary"));
    assert_null(strstr(cmd, " -X "));
    free(cmd);
    cmd = ec_http_curl_command(&req, key, 1);
    assert_non_null(strcasestr(cmd, key));
    free(cmd);
    req.body = (const unsigned char *)"a\0%\n";
    req.body_len = 4;
    cmd = ec_http_curl_command(&req, key, 0);
    assert_non_null(strstr(cmd, "printf 'a\\000%%\\012' | curl"));
    assert_non_null(strstr(cmd, "--data-binary @-"));
    free(cmd);
}

int main(void)
{
    const struct CMUnitTest per_connection[] = {
        cmocka_unit_test_setup_teardown(port_zero_is_resolved, setup, teardown),
        cmocka_unit_test_setup_teardown(exact_bytes_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(odd_headers_go_out_as_given, setup, teardown),
        cmocka_unit_test_setup_teardown(suppressed_host_header_is_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(body_without_data_and_no_body, setup, teardown),
        cmocka_unit_test_setup_teardown(keep_alive_reuses_the_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(body_above_cap_gets_413, setup, teardown),
        cmocka_unit_test_setup_teardown(chunked_body_above_cap_gets_413, setup, teardown),
        cmocka_unit_test_setup_teardown(delay_shorter_and_longer_than_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(trickled_body_arrives_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(reset_mid_response_is_a_clear_error, setup, teardown),
        cmocka_unit_test_setup_teardown(reset_before_any_body_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(never_answer_times_out_in_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_releases_held_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(gigabyte_answer_stops_at_cap, setup, teardown),
        cmocka_unit_test(limits_idle_timeout_and_max_connections),
        cmocka_unit_test_setup_teardown(response_cap_is_enforced, setup, teardown),
        cmocka_unit_test_setup_teardown(connection_refused_is_fast_and_labelled, setup, teardown),
        cmocka_unit_test_setup_teardown(not_http_answer_is_protocol_error, setup, teardown),
        cmocka_unit_test_setup_teardown(garbage_and_truncation_are_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(pool_mode_serves_too, setup_pool, teardown),
        cmocka_unit_test(bad_listen_address_is_refused),
        cmocka_unit_test(curl_command_redacts_the_secret),
    };
    return cmocka_run_group_tests_name("httpclient_httpd", per_connection, NULL, NULL);
}
