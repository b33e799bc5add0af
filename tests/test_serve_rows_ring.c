/* emoncrypt — serve keeps only the newest rows_kept rows for its read
 * endpoints (so its memory stays flat), while the store file and the
 * stats still count every row. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"
#include "emoncrypt/serve.h"
#include "post_support.h"

#define KEY_HEX "0123456789abcdef0123456789abcdef"

/* One HTTP/1.1 exchange with Connection: close; the whole answer into out. */
static void exchange(unsigned port, const char *head, const char *body, size_t body_len,
                     char *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(send(fd, head, strlen(head), 0), (ssize_t)strlen(head));
    if (body_len)
        assert_int_equal(send(fd, body, body_len, 0), (ssize_t)body_len);
    size_t got = 0;
    ssize_t n;
    while (got + 1 < cap && (n = recv(fd, out + got, cap - 1 - got, 0)) > 0)
        got += (size_t)n;
    out[got] = 0;
    close(fd);
}

/* Post "node=ring&fulljson={"p":V}" and check the ack. */
static void post_value(unsigned port, int value)
{
    char plaintext[96];
    snprintf(plaintext, sizeof plaintext, "node=ring&fulljson={\"p%d\":%d}", value, value);
    ec_request r;
    assert_int_equal(ps_correct_post(KEY_HEX, plaintext, &r), EC_OK);
    char head[1024];
    snprintf(head, sizeof head,
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nAuthorization: %s\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
             r.path, r.content_type, r.authorization, r.body_len);
    char answer[2048];
    exchange(port, head, r.body, r.body_len, answer, sizeof answer);
    if (!strstr(answer, r.ack))
        fail_msg("post %d not acked: %.200s", value, answer);
    ec_request_free(&r);
}

static void test_read_endpoints_see_the_newest_rows_only(void **state)
{
    (void)state;
    char store[] = "/tmp/emoncrypt-ring-XXXXXX";
    int sfd = mkstemp(store);
    assert_true(sfd >= 0);
    close(sfd);

    ec_serve_users users = {0};
    assert_int_equal(ec_serve_users_add(&users, "1", KEY_HEX, NULL), EC_OK);
    ec_serve_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.users = &users;
    cfg.store_path = store;
    cfg.rows_endpoint = 1;
    cfg.rows_kept = 3;
    ec_serve *s = NULL;
    char err[256];
    if (ec_serve_start(&cfg, &s, err, sizeof err) != EC_OK)
        fail_msg("serve: %s", err);
    unsigned port = ec_serve_port(s);

    for (int v = 1; v <= 5; v++)
        post_value(port, v);

    char answer[4096];
    exchange(port, "GET /emoncrypt/rows?node=ring HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
             NULL, 0, answer, sizeof answer);
    /* The three newest, oldest first; the first two are gone. */
    const char *p3 = strstr(answer, "\"p3\""), *p4 = strstr(answer, "\"p4\""),
               *p5 = strstr(answer, "\"p5\"");
    if (!p3 || !p4 || !p5 || !(p3 < p4 && p4 < p5))
        fail_msg("rows 3..5 expected in order: %.400s", answer);
    assert_null(strstr(answer, "\"p1\""));
    assert_null(strstr(answer, "\"p2\""));

    /* /input/get sees the newest value of each input still kept. */
    exchange(port, "GET /input/get/ring?apikey=" KEY_HEX " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Connection: close\r\n\r\n", NULL, 0, answer, sizeof answer);
    assert_non_null(strstr(answer, "\"p5\""));
    assert_null(strstr(answer, "\"p1\""));

    uint64_t requests = 0, accepted = 0, rows = 0;
    ec_serve_stats(s, &requests, &accepted, &rows);
    assert_int_equal(accepted, 5);
    assert_int_equal(rows, 5);
    ec_serve_stop(s);

    /* The store file keeps every row. */
    FILE *f = fopen(store, "r");
    assert_non_null(f);
    int lines = 0, c;
    while ((c = fgetc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    assert_int_equal(lines, 5);
    unlink(store);
    ec_serve_users_free(&users);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_endpoints_see_the_newest_rows_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
