/* Acked => on disk, also when the disk fails: serve's store (serve.h
 * store_path) under injected write and fsync failures (ENOSPC part way
 * through a write, EIO from fsync) answers 500, never the ack, and leaves
 * the file as it was (no torn row for the next one to land on); the next
 * post is acked and stored.  On start a store is read back (the read
 * endpoint serves its rows again) and a torn last line is cut off, with a
 * line in the log saying so. */
#include <setjmp.h>
#include <errno.h>
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

/* The fault to inject: 0 none, 1 ENOSPC after half of a write, 2 EIO from fsync. */
static int fault;

static ssize_t faulty_write(int fd, const void *buf, size_t n)
{
    if (fault == 1) {
        /* Half of the rows reach the file, then the disk is full. */
        if (write(fd, buf, n / 2) < 0)
            return -1;
        errno = ENOSPC;
        return -1;
    }
    return write(fd, buf, n);
}

static int faulty_fsync(int fd)
{
    if (fault == 2) {
        errno = EIO;
        return -1;
    }
    return fsync(fd);
}

typedef struct {
    ec_serve_users users;
    ec_serve *serve;
    char path[64];
    char log[4096];
    FILE *logf;
} fixture;

static void start(fixture *fx)
{
    memset(&fx->users, 0, sizeof fx->users);
    assert_int_equal(ec_serve_users_add(&fx->users, "1", KEY_HEX, NULL), EC_OK);
    memset(fx->log, 0, sizeof fx->log);
    fx->logf = fmemopen(fx->log, sizeof fx->log - 1, "w");
    assert_non_null(fx->logf);
    ec_serve_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.users = &fx->users;
    cfg.store_path = fx->path;
    cfg.rows_endpoint = 1;
    cfg.log = fx->logf;
    cfg.store_write = faulty_write;
    cfg.store_fsync = faulty_fsync;
    char err[256] = "";
    if (ec_serve_start(&cfg, &fx->serve, err, sizeof err) != EC_OK)
        fail_msg("serve: %s", err);
}

static void stop(fixture *fx)
{
    ec_serve_stop(fx->serve);
    fclose(fx->logf);
    ec_serve_users_free(&fx->users);
}

/* POST one encrypted row {"v":value}; returns the status, *acked = 1 when
 * the answer was the ack. */
static int post(fixture *fx, int value, int *acked)
{
    char plaintext[64];
    snprintf(plaintext, sizeof plaintext, "node=faults&fulljson={\"v\":%d}", value);
    ec_request r;
    assert_int_equal(ps_correct_post(KEY_HEX, plaintext, &r), EC_OK);
    char text[2048], answer[4096];
    snprintf(text, sizeof text,
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nAuthorization: %s\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
             r.path, r.content_type, r.authorization, r.body_len, r.body);
    int fd = hs_connect(ec_serve_port(fx->serve));
    assert_true(fd >= 0);
    hs_send_str(fd, text);
    int closed;
    hs_read(fd, answer, sizeof answer, 3000, 5000, &closed);
    close(fd);
    const char *body = strstr(answer, "\r\n\r\n");
    *acked = body && strcmp(body + 4, r.ack) == 0;
    ec_request_free(&r);
    return hs_status(answer);
}

/* The read endpoint's answer (GET /emoncrypt/rows?node=faults). */
static void rows_of(fixture *fx, char *out, size_t cap)
{
    int fd = hs_connect(ec_serve_port(fx->serve));
    assert_true(fd >= 0);
    hs_send_str(fd, "GET /emoncrypt/rows?node=faults HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Connection: close\r\n\r\n");
    int closed;
    hs_read(fd, out, cap, 3000, 5000, &closed);
    close(fd);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 65536);
    assert_non_null(buf);
    *len = fread(buf, 1, 65535, f);
    fclose(f);
    return buf;
}

static void make_path(fixture *fx)
{
    snprintf(fx->path, sizeof fx->path, "/tmp/emoncrypt-store-XXXXXX");
    int fd = mkstemp(fx->path);
    assert_true(fd >= 0);
    close(fd);
}

static void failed_write_or_fsync_is_never_acked(void **state)
{
    (void)state;
    fixture fx;
    make_path(&fx);
    start(&fx);
    int acked;
    assert_int_equal(post(&fx, 1, &acked), 200);
    assert_true(acked);
    size_t before_len;
    char *before = slurp(fx.path, &before_len);
    for (int f = 1; f <= 2; f++) {
        fault = f;
        int st = post(&fx, 10 + f, &acked);
        fault = 0;
        if (st < 500 || acked)
            fail_msg("%s: answered %d%s, want a 5xx and no ack", f == 1 ? "ENOSPC" : "EIO", st,
                     acked ? " with the ack" : "");
        size_t now_len;
        char *now = slurp(fx.path, &now_len);
        if (now_len != before_len || memcmp(now, before, now_len) != 0)
            fail_msg("%s: the store changed (%zu bytes, was %zu): a torn or unacked row",
                     f == 1 ? "ENOSPC" : "EIO", now_len, before_len);
        free(now);
    }
    free(before);
    assert_int_equal(post(&fx, 2, &acked), 200);
    assert_true(acked);
    stop(&fx);
    size_t len;
    char *text = slurp(fx.path, &len);
    /* Two rows, two complete lines, the failed ones nowhere. */
    assert_non_null(strstr(text, "\"v\""));
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    assert_int_equal(lines, 2);
    assert_int_equal(text[len - 1], '\n');
    free(text);
    unlink(fx.path);
}

static void torn_store_is_cut_and_read_back(void **state)
{
    (void)state;
    fixture fx;
    make_path(&fx);
    static const char old[] = "{\"userid\":\"1\",\"time\":1700000000,\"node\":\"faults\","
                              "\"name\":\"v\",\"value\":7.5}\n{\"us";
    FILE *f = fopen(fx.path, "w");
    assert_non_null(f);
    fputs(old, f);
    fclose(f);
    start(&fx);
    fflush(fx.logf);
    if (!strstr(fx.log, "torn last line"))
        fail_msg("the log does not say the torn line was cut: %s", fx.log);
    char answer[8192];
    rows_of(&fx, answer, sizeof answer);
    if (!strstr(answer, "[1700000000,\"faults\",\"v\",7.5,\"1\"]"))
        fail_msg("the row on disk is not served again: %.300s", answer);
    int acked;
    assert_int_equal(post(&fx, 3, &acked), 200);
    assert_true(acked);
    stop(&fx);
    size_t len;
    char *text = slurp(fx.path, &len);
    /* The torn bytes are gone and every line is one JSON object. */
    assert_null(strstr(text, "{\"us\n"));
    assert_null(strstr(text, "{\"us{"));
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    assert_int_equal(lines, 2);
    assert_int_equal(strncmp(text, old, sizeof old - 6), 0);
    free(text);
    unlink(fx.path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failed_write_or_fsync_is_never_acked),
        cmocka_unit_test(torn_store_is_cut_and_read_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
