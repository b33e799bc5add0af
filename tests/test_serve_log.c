/* serve's request log is buffered (issue 17): N requests reach the log in
 * far fewer writes than N (it was a write and a flush per line), the lines
 * still arrive while serve runs (the timer flushes them), redacted as
 * before.  The log is an unbuffered stdio stream on a counting cookie, as
 * stderr is unbuffered: each write the server makes is one cookie call.
 * That every line is there after SIGTERM/SIGINT is tests/cli/serve_log.sh. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"
#include "emoncrypt/serve.h"
#include "post_support.h"
#include "hostile_support.h"

#define KEY_HEX "0123456789abcdef0123456789abcdef"
#define POSTS 400

/* What reached the log: its bytes and the number of writes. */
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static char sink[256 * 1024];
static size_t sink_len, sink_writes;

static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
    (void)cookie;
    pthread_mutex_lock(&sink_lock);
    size_t room = sizeof sink - 1 - sink_len;
    size_t k = n < room ? n : room;
    memcpy(sink + sink_len, buf, k);
    sink_len += k;
    sink[sink_len] = 0;
    sink_writes++;
    pthread_mutex_unlock(&sink_lock);
    return (ssize_t)n;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* POST one encrypted row; returns the status (the ack is checked). */
static int post(unsigned port, int value)
{
    char plaintext[64];
    snprintf(plaintext, sizeof plaintext, "node=log&fulljson={\"v\":%d}", value);
    ec_request r;
    assert_int_equal(ps_correct_post(KEY_HEX, plaintext, &r), EC_OK);
    char text[2048], answer[4096];
    snprintf(text, sizeof text,
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nAuthorization: %s\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
             r.path, r.content_type, r.authorization, r.body_len, r.body);
    int fd = hs_connect(port);
    assert_true(fd >= 0);
    hs_send_str(fd, text);
    int closed;
    hs_read(fd, answer, sizeof answer, 3000, 5000, &closed);
    close(fd);
    const char *body = strstr(answer, "\r\n\r\n");
    assert_non_null(body);
    assert_string_equal(body + 4, r.ack);
    ec_request_free(&r);
    return hs_status(answer);
}

static void log_is_buffered_and_flushed_while_running(void **state)
{
    (void)state;
    cookie_io_functions_t io = {NULL, sink_write, NULL, NULL};
    FILE *log = fopencookie(NULL, "w", io);
    assert_non_null(log);
    setvbuf(log, NULL, _IONBF, 0);
    ec_serve_users users = {0};
    assert_int_equal(ec_serve_users_add(&users, "1", KEY_HEX, NULL), EC_OK);
    ec_serve_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.users = &users;
    cfg.log = log;
    ec_serve *serve = NULL;
    char err[256] = "";
    if (ec_serve_start(&cfg, &serve, err, sizeof err) != EC_OK)
        fail_msg("serve: %s", err);
    unsigned port = ec_serve_port(serve);

    pthread_mutex_lock(&sink_lock);
    size_t writes_before = sink_writes;
    pthread_mutex_unlock(&sink_lock);
    for (int i = 0; i < POSTS; i++)
        assert_int_equal(post(port, i), 200);
    /* A key a peer sends is redacted in the buffered log as it was. */
    int fd = hs_connect(port);
    assert_true(fd >= 0);
    hs_send_str(fd, "GET /input/post?apikey=" KEY_HEX " HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n");
    char answer[4096];
    int closed;
    hs_read(fd, answer, sizeof answer, 3000, 5000, &closed);
    close(fd);

    /* The timer writes the lines out while serve runs (every 250 ms; 10 s
     * is only the bound of a stuck test). */
    size_t lines = 0, writes = 0;
    int redacted_line = 0;
    for (double end = hs_now_ms() + 10000; hs_now_ms() < end;) {
        pthread_mutex_lock(&sink_lock);
        lines = count(sink, " row stored\n");
        redacted_line = strstr(sink, "apikey=[REDACTED]") != NULL;
        writes = sink_writes - writes_before;
        pthread_mutex_unlock(&sink_lock);
        if (lines >= POSTS && redacted_line)
            break;
        usleep(20 * 1000);
    }
    if (lines != POSTS || !redacted_line)
        fail_msg("%zu of %d request lines%s reached the log while serve ran", lines, POSTS,
                 redacted_line ? "" : " (and not the redacted one)");
    /* A write per line was POSTS + 1 writes. */
    if (writes * 8 > POSTS)
        fail_msg("%zu writes for %d request lines: the log is not buffered", writes, POSTS + 1);
    ec_serve_stop(serve);
    fclose(log);
    ec_serve_users_free(&users);
    assert_null(strstr(sink, KEY_HEX));
    print_message("%d request lines in %zu writes\n", POSTS + 1, writes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(log_is_buffered_and_flushed_while_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
