/* Hostile clients against the two servers of the project: the reference
 * server (serve.h, what `emoncrypt serve` runs) and the client-role mock
 * Emoncms (suites/client, what `emoncrypt test-client` runs), both in this
 * process on a loopback port.  Each hostile peer must get a clear answer
 * or a prompt close, in bounded time and memory, and afterwards the server
 * must still answer a correct request with its ack:
 *
 *   non-HTTP bytes, truncated headers, a 1 MB header line, 10 MB bodies
 *   (413 at the configured cap, declared or chunked), 1,000 idle
 *   connections opened at once (connection cap + idle timeout), a client
 *   sending one byte per second, and a flood of 10,000 requests.
 *
 * Every wait has a deadline, so a server that hangs fails the test instead
 * of blocking ctest. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/client_suite.h"
#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"
#include "emoncrypt/report.h"
#include "emoncrypt/serve.h"
#include "post_support.h"
#include "hostile_support.h"

#define KEY_HEX "0123456789abcdef0123456789abcdef"
#define MAX_BODY 65536
#define SERVE_IDLE_S 1
#define MOCK_IDLE_S 10 /* fixed in suites/client/mock.c */
#define MOCK_MAX_REQUESTS 2000

/* Under AddressSanitizer, freed memory sits in its quarantine (256 MB by
 * default) and every block has redzones, so resident memory says nothing
 * about what the server keeps; there LeakSanitizer checks the memory, and
 * the bounds below apply to the ordinary builds. */
#if defined(__SANITIZE_ADDRESS__)
#define MEMORY_BOUNDS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEMORY_BOUNDS 0
#endif
#endif
#ifndef MEMORY_BOUNDS
#define MEMORY_BOUNDS 1
#endif

typedef enum { TARGET_SERVE, TARGET_MOCK } target_kind;

typedef struct {
    target_kind kind;
    ec_serve_users users;
    ec_serve *serve;
    ec_client_suite *mock;
    unsigned port;
    unsigned idle_s;
    int next_value;
} target;

static const target_kind serve_kind = TARGET_SERVE;
static const target_kind mock_kind = TARGET_MOCK;

static int start_target(void **state)
{
    target *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->kind = *(const target_kind *)*state;
    char err[256] = "";
    if (t->kind == TARGET_SERVE) {
        assert_int_equal(ec_serve_users_add(&t->users, "1", KEY_HEX, NULL), EC_OK);
        ec_serve_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.listen = "127.0.0.1:0";
        cfg.users = &t->users;
        cfg.max_body = MAX_BODY;
        cfg.idle_timeout_s = SERVE_IDLE_S;
        if (ec_serve_start(&cfg, &t->serve, err, sizeof err) != EC_OK)
            fail_msg("serve: %s", err);
        t->port = ec_serve_port(t->serve);
        t->idle_s = SERVE_IDLE_S;
    } else {
        ec_client_suite_options opt;
        memset(&opt, 0, sizeof opt);
        opt.listen = "127.0.0.1:0";
        opt.userid = "1";
        opt.apikey_hex = KEY_HEX;
        opt.scenario = "happy";
        opt.max_body = MAX_BODY;
        opt.linger_ms = 60000;
        /* The mock records every request for its end-of-run audit (about
         * 25 KB each); a request cap is what bounds its memory, and past it
         * every request gets a 503 "the run is over". */
        opt.max_requests = MOCK_MAX_REQUESTS;
        if (ec_client_suite_start(&opt, &t->mock, err, sizeof err) != EC_OK)
            fail_msg("mock: %s", err);
        t->port = ec_client_suite_port(t->mock);
        t->idle_s = MOCK_IDLE_S;
    }
    *state = t;
    return 0;
}

static int stop_target(void **state)
{
    target *t = *state;
    if (t->serve)
        ec_serve_stop(t->serve);
    if (t->mock) {
        ec_report *r = ec_report_new("client", "client", "hostile");
        (void)ec_client_suite_finish(t->mock, r);
        ec_report_free(r);
        ec_client_suite_free(t->mock);
    }
    ec_serve_users_free(&t->users);
    free(t);
    return 0;
}

/* A correct encrypted post (a fresh value each time) as HTTP text;
 * *ack gets the ack it must be answered with. */
static char *correct_request(target *t, int keep_alive, char ack[EC_ACK_LEN + 1])
{
    char plaintext[96];
    snprintf(plaintext, sizeof plaintext, "node=hostile&fulljson={\"n\":%d}", t->next_value++);
    ec_request r;
    assert_int_equal(ps_correct_post(KEY_HEX, plaintext, &r), EC_OK);
    size_t cap = r.body_len + 512;
    char *text = malloc(cap);
    assert_non_null(text);
    snprintf(text, cap,
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n"
             "Authorization: %s\r\nContent-Length: %zu\r\nConnection: %s\r\n\r\n%s",
             r.path, r.content_type, r.authorization, r.body_len,
             keep_alive ? "keep-alive" : "close", r.body);
    memcpy(ack, r.ack, EC_ACK_LEN + 1);
    ec_request_free(&r);
    return text;
}

/* The server still works: a correct post gets 200 and its ack within 5 s
 * (a few tries: connections the hostile peer left may take a moment to be
 * reaped before a slot under the connection cap is free again). */
static void assert_still_serving(target *t)
{
    char ack[EC_ACK_LEN + 1];
    char *req = correct_request(t, 0, ack);
    double start = hs_now_ms();
    char answer[4096] = "";
    int ok = 0;
    while (!ok && hs_now_ms() - start < 5000) {
        int fd = hs_connect(t->port);
        if (fd >= 0) {
            int closed;
            hs_send_str(fd, req);
            hs_read(fd, answer, sizeof answer, 5000, 5000, &closed);
            close(fd);
            ok = hs_status(answer) == 200 && strstr(answer, ack) != NULL;
        }
        if (!ok)
            usleep(250 * 1000);
    }
    free(req);
    if (!ok)
        fail_msg("5 s after the hostile peer, a correct post still got: %.200s", answer);
}

/* Send bytes (then half-close when shut), read the answer: the server must
 * answer or close within limit_ms.  Returns the status (0 = closed without
 * an HTTP answer). */
static int exchange(unsigned port, const void *bytes, size_t n, int shut, int limit_ms,
                    char *answer, size_t cap)
{
    int fd = hs_connect(port);
    assert_true(fd >= 0);
    double start = hs_now_ms();
    hs_send(fd, bytes, n);
    if (shut)
        shutdown(fd, SHUT_WR);
    int closed;
    hs_read(fd, answer, cap, limit_ms, limit_ms, &closed);
    double took = hs_now_ms() - start;
    close(fd);
    if (!closed)
        fail_msg("the server neither answered nor closed within %d ms (got: %.120s)", limit_ms,
                 answer);
    (void)took;
    return hs_status(answer);
}

/* ---- the hostile peers --------------------------------------------------- */

static void non_http_bytes(void **state)
{
    target *t = *state;
    uint8_t junk[4096];
    assert_int_equal(ec_random(junk, sizeof junk), EC_OK);
    char answer[4096];
    /* Binary noise: a 400 or a close, at once. */
    int st = exchange(t->port, junk, sizeof junk, 1, 3000, answer, sizeof answer);
    assert_true(st == 0 || st == 400);
    /* A text line that is not a request line: 400 Bad Request. */
    static const char text[] = "HELLO THERE, I AM NOT HTTP\r\n\r\n";
    st = exchange(t->port, text, sizeof text - 1, 1, 3000, answer, sizeof answer);
    assert_int_equal(st, 400);
    /* TLS to a plain-HTTP port (a device configured for https). */
    static const uint8_t tls_hello[] = {0x16, 0x03, 0x01, 0x00, 0x2e, 0x01, 0x00, 0x00, 0x2a,
                                        0x03, 0x03, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05};
    st = exchange(t->port, tls_hello, sizeof tls_hello, 1, 3000, answer, sizeof answer);
    assert_true(st == 0 || st == 400);
    assert_still_serving(t);
}

static void truncated_headers(void **state)
{
    target *t = *state;
    static const char head[] = "POST /input/post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty";
    char answer[4096];
    /* Cut off, then the client leaves: closed at once. */
    int st = exchange(t->port, head, sizeof head - 1, 1, 3000, answer, sizeof answer);
    assert_true(st == 0 || st == 400);
    /* Cut off and the client stays, silent: closed by the idle timeout. */
    double start = hs_now_ms();
    st = exchange(t->port, head, sizeof head - 1, 0, (int)t->idle_s * 1000 + 5000, answer,
                  sizeof answer);
    assert_true(st == 0 || st == 400 || st == 408);
    assert_true(hs_now_ms() - start >= t->idle_s * 1000.0 - 200);
    /* Headers complete but the body shorter than Content-Length. */
    static const char short_body[] = "POST /input/post HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                     "Content-Type: aes128cbc\r\nAuthorization: 1:00\r\n"
                                     "Content-Length: 100\r\n\r\nAAAA";
    st = exchange(t->port, short_body, sizeof short_body - 1, 1, 3000, answer, sizeof answer);
    assert_true(st == 0 || st == 400);
    assert_still_serving(t);
}

static void header_line_of_1mb(void **state)
{
    target *t = *state;
    size_t n = (1u << 20) + 256;
    char *req = malloc(n);
    assert_non_null(req);
    int head = snprintf(req, n, "POST /input/post HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ");
    memset(req + head, 'a', 1u << 20);
    memcpy(req + head + (1u << 20), "\r\n\r\n", 4);
    char answer[4096];
    int st = exchange(t->port, req, (size_t)head + (1u << 20) + 4, 1, 5000, answer, sizeof answer);
    free(req);
    /* libmicrohttpd: 431 Request Header Fields Too Large. */
    if (st != 431 && st != 413 && st != 400)
        fail_msg("a 1 MB header line got: %.120s", answer);
    assert_still_serving(t);
}

/* One 10 MB push: head, then ten 1 MiB pieces (each a chunk when chunked),
 * watching for the answer all along; returns its status. */
static int push_10mb(unsigned port, const char *head, const char *chunk, int chunked,
                     char *answer, size_t cap)
{
    int fd = hs_connect(port);
    if (fd < 0)
        return -1;
    size_t got = 0;
    int closed = 0;
    answer[0] = 0;
    hs_send_watch(fd, head, strlen(head), answer, cap, &got, 5000, &closed);
    for (int i = 0; i < 10 && !closed; i++) {
        if (chunked)
            hs_send_watch(fd, "100000\r\n", 8, answer, cap, &got, 5000, &closed);
        hs_send_watch(fd, chunk, 1u << 20, answer, cap, &got, 5000, &closed);
        if (chunked)
            hs_send_watch(fd, "\r\n", 2, answer, cap, &got, 5000, &closed);
    }
    if (chunked && !closed)
        hs_send_watch(fd, "0\r\n\r\n", 5, answer, cap, &got, 5000, &closed);
    if (!closed && got < 12)
        hs_read(fd, answer + got, cap - got, 5000, 10000, &closed);
    close(fd);
    return hs_status(answer);
}

static void body_of_10mb(void **state)
{
    target *t = *state;
    long rss_before = hs_rss_kib();
    char *chunk = malloc(1u << 20);
    assert_non_null(chunk);
    memset(chunk, 'A', 1u << 20);
    char head[256], answer[4096], why[300] = "";
    snprintf(head, sizeof head,
             "POST /input/post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: aes128cbc\r\n"
             "Authorization: 1:00\r\nContent-Length: %u\r\n\r\n", 10u << 20);
    static const char chunked_head[] = "POST /input/post HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                       "Content-Type: aes128cbc\r\nAuthorization: 1:00\r\n"
                                       "Transfer-Encoding: chunked\r\n\r\n";
    for (int round = 0; round < 3 && !why[0]; round++) {
        /* Declared: the 413 comes as soon as the headers are read, and the
         * server must not take in what is pushed after it. */
        if (push_10mb(t->port, head, chunk, 0, answer, sizeof answer) != 413)
            snprintf(why, sizeof why, "a declared 10 MB body got: %.160s", answer);
        /* Chunked, so nothing is declared: 413 once the cap is passed. */
        else if (push_10mb(t->port, chunked_head, chunk, 1, answer, sizeof answer) != 413)
            snprintf(why, sizeof why, "a chunked 10 MB body got: %.160s", answer);
    }
    free(chunk);            /* before any failure: a leak report must not hide it */
    if (why[0])
        fail_msg("%s", why);
    /* Six 10 MB bodies went by: kept, they would be 60 MB. */
    long grown = hs_rss_kib() - rss_before;
    if (MEMORY_BOUNDS && grown > 40 * 1024)
        fail_msg("memory grew by %ld KiB while refusing 10 MB bodies", grown);
    assert_still_serving(t);
}

static void idle_connections_1000(void **state)
{
    target *t = *state;
    enum { N = 1000 };
    hs_allow_files(N + 512);
    int *fds = calloc(N, sizeof *fds);
    assert_non_null(fds);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)t->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < N; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        assert_true(fds[i] >= 0);
        (void)connect(fds[i], (struct sockaddr *)&a, sizeof a);
    }
    /* While they sit there, another client gets an answer or a clear
     * refusal (a close), not a hang: at the latest once the idle timeout
     * has freed the slots (before that it may wait in the listen queue). */
    char ack[EC_ACK_LEN + 1];
    char *req = correct_request(t, 0, ack);
    int fd = hs_connect(t->port);
    if (fd >= 0) {
        hs_send_str(fd, req);
        char answer[4096];
        int closed;
        int limit_ms = (int)t->idle_s * 1000 + 5000;
        double start = hs_now_ms();
        size_t got = hs_read(fd, answer, sizeof answer, limit_ms, limit_ms, &closed);
        if (got == 0 && !closed)
            fail_msg("a client arriving among 1,000 idle connections heard nothing in %d ms",
                     limit_ms);
        print_message("a client among the idle connections: %s after %.0f ms\n",
                      got ? "answered" : "closed", hs_now_ms() - start);
        close(fd);
    }
    free(req);
    /* Every idle connection is closed by the server: refused over the
     * connection cap, or by the idle timeout. */
    int open_left = N;
    double deadline = hs_now_ms() + t->idle_s * 1000.0 * 2 + 10000;
    struct pollfd *p = calloc(N, sizeof *p);
    assert_non_null(p);
    while (open_left > 0 && hs_now_ms() < deadline) {
        int k = 0;
        for (int i = 0; i < N; i++)
            if (fds[i] >= 0)
                p[k++] = (struct pollfd){fds[i], POLLIN, 0};
        if (poll(p, (nfds_t)k, 200) <= 0)
            continue;
        for (int j = 0; j < k; j++) {
            if (!(p[j].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[512];
            (void)recv(p[j].fd, buf, sizeof buf, 0);
            { /* data (an error page), EOF or an error: done with it */
                for (int i = 0; i < N; i++)
                    if (fds[i] == p[j].fd) {
                        close(fds[i]);
                        fds[i] = -1;
                        open_left--;
                    }
            }
        }
    }
    for (int i = 0; i < N; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(p);
    free(fds);
    if (open_left > 0)
        fail_msg("%d of %d idle connections still open after %u s idle timeout + 10 s",
                 open_left, N, t->idle_s * 2);
    assert_still_serving(t);
}

typedef struct {
    unsigned port;
    volatile int stop;
    int sent;
    int cut_off;                  /* the server closed it */
} slow_client;

/* Sends a request head one byte per second until told to stop. */
static void *trickle(void *arg)
{
    slow_client *c = arg;
    static const char head[] = "POST /input/post HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               "Content-Type: aes128cbc\r\nAuthorization: 1:";
    int fd = hs_connect(c->port);
    if (fd < 0)
        return NULL;
    for (size_t i = 0; i < sizeof head - 1 && !c->stop; i++) {
        if (send(fd, head + i, 1, MSG_NOSIGNAL) != 1) {
            c->cut_off = 1;
            break;
        }
        c->sent++;
        for (int ms = 0; ms < 1000 && !c->stop; ms += 50)
            usleep(50 * 1000);
    }
    close(fd);
    return NULL;
}

/* Rows the target stored so far (serve only; the mock stores nothing). */
static uint64_t rows_stored(const target *t)
{
    uint64_t rows = 0;
    if (t->serve)
        ec_serve_stats(t->serve, NULL, NULL, &rows);
    return rows;
}

/* RFC 9112 message framing: each ambiguous request gets 400 and a close,
 * and nothing of it is stored, even when the "second request" a lax parser
 * would see in its body is a correct, encrypted post (request smuggling:
 * serve took the first of two Content-Lengths and stored the smuggled
 * row).  A well-framed request with odd but legal spacing, bare LF line
 * ends and chunking is still served. */
static void framing_rules(void **state)
{
    target *t = *state;
    char ack[EC_ACK_LEN + 1];
    char *inner = correct_request(t, 1, ack);
    size_t inner_len = strlen(inner);
    /* In each template '@' is the inner request's length and '~' a NUL. */
    static const struct {
        const char *name, *head;
    } bad[] = {
        {"conflicting Content-Length", "Content-Length: 0\r\nContent-Length: @\r\n"},
        {"repeated Content-Length", "Content-Length: @\r\nContent-Length: @\r\n"},
        {"Content-Length list", "Content-Length: @, @\r\n"},
        {"Content-Length with Transfer-Encoding",
         "Content-Length: @\r\nTransfer-Encoding: chunked\r\n"},
        {"Transfer-Encoding not chunked", "Transfer-Encoding: gzip\r\n"},
        {"obs-fold (SP)", "Content-Type: aes128cbc\r\n folded\r\nContent-Length: @\r\n"},
        {"obs-fold (HT)", "Content-Length: @\r\nContent-Type: aes128cbc\r\n\tfolded\r\n"},
        {"NUL in a value", "Content-Type: aes128cbc~x\r\nContent-Length: @\r\n"},
        {"NUL in the last value", "Content-Length: @\r\nContent-Type: aes128cbc~x\r\n"},
        {"control byte in a value", "Content-Type: aes\001cbc\r\nContent-Length: @\r\n"},
        {"DEL in a value", "Content-Length: @\r\nX-Note: a\177b\r\n"},
    };
    uint64_t rows_before = rows_stored(t);
    char why[300] = "";
    for (size_t i = 0; i < sizeof bad / sizeof bad[0] && !why[0]; i++) {
        char head[512], len[24];
        snprintf(len, sizeof len, "%zu", inner_len);
        size_t n = (size_t)snprintf(head, sizeof head, "POST /input/post HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (const char *p = bad[i].head; *p; p++) {
            if (*p == '@') {
                memcpy(head + n, len, strlen(len));
                n += strlen(len);
            } else {
                head[n++] = *p == '~' ? '\0' : *p;
            }
        }
        memcpy(head + n, "\r\n", 2);
        n += 2;
        size_t total = n + inner_len;
        char *req = malloc(total);
        assert_non_null(req);
        memcpy(req, head, n);
        memcpy(req + n, inner, inner_len);
        char answer[4096];
        int fd = hs_connect(t->port);
        assert_true(fd >= 0);
        hs_send(fd, req, total);
        int closed;
        hs_read(fd, answer, sizeof answer, 3000, 3000, &closed);
        close(fd);
        free(req);
        if (hs_status(answer) != 400 || !closed)
            snprintf(why, sizeof why, "%s: want 400 and a close, got %s: %.160s", bad[i].name,
                     closed ? "closed" : "left open", answer);
        else if (strstr(answer, ack))
            snprintf(why, sizeof why, "%s: the smuggled post was acked", bad[i].name);
    }
    if (!why[0] && rows_stored(t) != rows_before)
        snprintf(why, sizeof why, "%llu rows stored from refused requests",
                 (unsigned long long)(rows_stored(t) - rows_before));
    free(inner);
    if (why[0])
        fail_msg("%s", why);
    /* Legal: trailing spaces, bare LF line ends, a chunked body. */
    static const char *const good[] = {
        "GET /input/post HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A:  b  \r\nConnection: close\r\n\r\n",
        "GET /input/post HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n",
        ("POST /input/post HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
         "Connection: close\r\n\r\n1\r\nx\r\n0\r\n\r\n"),
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char answer[4096];
        int st = exchange(t->port, good[i], strlen(good[i]), 0, 3000, answer, sizeof answer);
        if (st == 400)
            fail_msg("a well-framed request (#%zu) got 400: %.160s", i, answer);
    }
    assert_still_serving(t);
}

/* Slowloris: 300 connections from another address, each sending its
 * headers a byte every 0.5 s.  Meanwhile a correct device gets its ack
 * within 1 s every time, and once the header deadline has passed the
 * server has closed them all (each byte restarts the idle timeout; the
 * deadline is for the whole header block).  Bounded: deadline + 8 s. */
static void slowloris_300(void **state)
{
    target *t = *state;
    enum { N = 300 };
    hs_allow_files(N + 512);
    static const char head[] = "POST /input/post HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int fds[N];
    size_t sent[N];
    for (int i = 0; i < N; i++) {
        fds[i] = hs_connect_from(t->port, "127.0.0.2");
        sent[i] = 0;
    }
    double header_deadline_ms = t->kind == TARGET_SERVE ? 2000 + 1000.0 * t->idle_s : 10000;
    double start = hs_now_ms(), worst = 0;
    double end = start + header_deadline_ms + 3000;
    int posts = 0, open_left = N;
    char why[200] = "";
    while (hs_now_ms() < end && !why[0]) {
        /* A byte to each connection still open. */
        open_left = 0;
        for (int i = 0; i < N; i++) {
            if (fds[i] < 0)
                continue;
            char b;
            ssize_t r = recv(fds[i], &b, 1, MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
                (sent[i] < sizeof head - 1 &&
                 send(fds[i], head + sent[i], 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
                 errno != EAGAIN && errno != ENOTCONN)) {
                close(fds[i]);
                fds[i] = -1;
                continue;
            }
            if (r < 0 && sent[i] < sizeof head - 1)
                sent[i]++;
            open_left++;
        }
        /* A correct device, in the middle of it. */
        char ack[EC_ACK_LEN + 1], answer[4096];
        char *req = correct_request(t, 0, ack);
        double t0 = hs_now_ms();
        int fd = hs_connect(t->port);
        int closed = 0;
        answer[0] = 0;
        if (fd >= 0) {
            hs_send_str(fd, req);
            hs_read(fd, answer, sizeof answer, 1000, 1000, &closed);
            close(fd);
        }
        free(req);
        double took = hs_now_ms() - t0;
        worst = took > worst ? took : worst;
        posts++;
        if (hs_status(answer) != 200 || !strstr(answer, ack) || took > 1000)
            snprintf(why, sizeof why, "with %d slowloris connections open, a correct post got "
                     "in %.0f ms: %.100s", open_left, took, answer);
        usleep(500 * 1000);
    }
    for (int i = 0; i < N; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (why[0])
        fail_msg("%s", why);
    print_message("slowloris: %d correct posts acked, slowest %.0f ms; %d of %d slow "
                  "connections open %.1f s after the start\n", posts, worst, open_left, N,
                  (hs_now_ms() - start) / 1000);
    if (open_left > 0)
        fail_msg("%d slowloris connections still open %.0f ms after the start (header deadline "
                 "%.0f ms)", open_left, hs_now_ms() - start, header_deadline_ms);
}

static void one_byte_per_second(void **state)
{
    target *t = *state;
    slow_client c = {t->port, 0, 0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, trickle, &c), 0);
    /* While it trickles, others are answered at once. */
    for (int i = 0; i < 5; i++) {
        usleep(1000 * 1000);
        assert_still_serving(t);
    }
    c.stop = 1;
    pthread_join(th, NULL);
    /* Cut off by a short idle timeout (serve: 1 s) or tolerated on its own
     * thread (the mock): either way it held no one up. */
    assert_true(c.sent >= 1);
    print_message("slow client: %d bytes sent, %s\n", c.sent,
                  c.cut_off ? "then cut off by the server" : "still connected");
}

typedef struct {
    target *t;
    int requests;
    int answered;
    int bad;
    char first_bad[160];
} flooder;

/* Sends its share of the flood over keep-alive connections (a new one
 * whenever the server closes), every tenth request a correct post, the
 * rest an unauthenticated one, and counts the HTTP answers. */
static void *flood(void *arg)
{
    flooder *f = arg;
    static const char wrong[] = "POST /input/post HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Content-Type: aes128cbc\r\nAuthorization: 1:00\r\n"
                                "Content-Length: 4\r\n\r\nAAAA";
    int fd = -1;
    char buf[8192];
    for (int i = 0; i < f->requests; i++) {
        if (fd < 0)
            fd = hs_connect(f->t->port);
        if (fd < 0) {
            f->bad++;
            continue;
        }
        char ack[EC_ACK_LEN + 1];
        char *req = NULL;
        if (i % 10 == 0)
            req = correct_request(f->t, 1, ack);
        const char *text = req ? req : wrong;
        if (hs_send_str(fd, text) != strlen(text)) {
            free(req);
            close(fd);
            fd = -1;
            i--; /* the server closed the kept-alive connection: again */
            continue;
        }
        free(req);
        /* One answer: headers, then Content-Length bytes. */
        size_t got = 0;
        int status = 0;
        for (;;) {
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, 10000) <= 0)
                break;
            ssize_t k = recv(fd, buf + got, sizeof buf - 1 - got, 0);
            if (k <= 0)
                break;
            got += (size_t)k;
            buf[got] = 0;
            char *end = strstr(buf, "\r\n\r\n");
            const char *cl = hs_find_ci(buf, "\r\nContent-Length:");
            if (end && cl && got >= (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10)) {
                status = hs_status(buf);
                break;
            }
        }
        if (status == 0) {
            if (f->bad++ == 0)
                snprintf(f->first_bad, sizeof f->first_bad, "%.150s", buf);
            close(fd);
            fd = -1;
            continue;
        }
        f->answered++;
        if (hs_find_ci(buf, "Connection: close")) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void flood_of_10000(void **state)
{
    target *t = *state;
    enum { THREADS = 4, TOTAL = 10000 };
    long rss_before = hs_rss_kib();
    double start = hs_now_ms();
    flooder f[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        f[i] = (flooder){t, TOTAL / THREADS, 0, 0, ""};
        assert_int_equal(pthread_create(&th[i], NULL, flood, &f[i]), 0);
    }
    int answered = 0, bad = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        answered += f[i].answered;
        bad += f[i].bad;
        if (f[i].bad)
            print_message("flooder %d: %d without an answer, first: %s\n", i, f[i].bad,
                          f[i].first_bad);
    }
    double took = hs_now_ms() - start;
    long grown = hs_rss_kib() - rss_before;
    print_message("%d requests answered in %.1f s, memory +%ld KiB\n", answered, took / 1000,
                  grown);
    assert_int_equal(answered, TOTAL);
    assert_int_equal(bad, 0);
    if (t->kind == TARGET_SERVE) {
        uint64_t requests = 0, accepted = 0, rows = 0;
        ec_serve_stats(t->serve, &requests, &accepted, &rows);
        assert_true(requests >= TOTAL);
        assert_true(accepted >= TOTAL / 10);
    }
    /* The server keeps only the stored rows; the mock keeps what it
     * judged, up to its request cap. */
    if (MEMORY_BOUNDS && grown > 100 * 1024)
        fail_msg("memory grew by %ld KiB over 10,000 requests", grown);
    if (t->kind == TARGET_SERVE)
        assert_still_serving(t);
}

#define BOTH(test)                                                                         \
    cmocka_unit_test_prestate_setup_teardown(test, start_target, stop_target,             \
                                             (void *)&serve_kind),                        \
        cmocka_unit_test_prestate_setup_teardown(test, start_target, stop_target,         \
                                                 (void *)&mock_kind)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(non_http_bytes),      BOTH(truncated_headers),     BOTH(header_line_of_1mb),
        BOTH(body_of_10mb),        BOTH(idle_connections_1000), BOTH(one_byte_per_second),
        BOTH(flood_of_10000),       BOTH(framing_rules),
        BOTH(slowloris_300),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
