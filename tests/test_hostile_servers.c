/* The server-role suite against hostile servers: `emoncrypt test-server`
 * runs three cases against a proxy in front of the reference server
 * (serve.h, in this process).  The proxy passes every request through
 * except one — the first case's post — which it answers in a hostile way:
 *
 *   never      reads the request, never answers, keeps the connection
 *   huge       answers 200 with a 1 GB body (streams until the client goes)
 *   non-http   answers bytes that are not HTTP
 *   mid-answer announces a 44-byte ack, sends 4 bytes, closes
 *
 * Each time that case must be a clear FAIL (its message says what went
 * wrong) within its --timeout-ms, and the run must go on: the two other
 * cases PASS, the exit status is 1 (a FAIL), and the whole run ends
 * within a few seconds. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "emoncrypt/serve.h"
#include "hostile_support.h"

#define KEY_HEX "0123456789abcdef0123456789abcdef"
#define TIMEOUT_MS 1000

typedef enum { HOSTILE_NEVER, HOSTILE_HUGE, HOSTILE_NON_HTTP, HOSTILE_MID_ANSWER } hostile_mode;

typedef struct {
    hostile_mode mode;
    unsigned upstream;          /* the reference server's port */
    int listen_fd;
    unsigned port;
    pthread_t thread;
    volatile int stop;
    pthread_mutex_t lock;
    int posts_seen;             /* POSTs to /input/ so far */
    int hostile_post;           /* the 1-based POST to answer badly */
    int hostile_done;
    int held[64];               /* connections held open by "never" */
    int n_held;
} proxy;

typedef struct {
    proxy *p;
    int fd;
} conn_arg;

/* Read one request (headers and Content-Length body) into buf. */
static size_t read_request(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 5000) <= 0)
            return 0;
        ssize_t k = recv(fd, buf + got, cap - 1 - got, 0);
        if (k <= 0)
            return 0;
        got += (size_t)k;
        buf[got] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            const char *cl = hs_find_ci(buf, "\r\nContent-Length:");
            size_t body = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
            if (got >= (size_t)(end + 4 - buf) + body)
                return got;
        }
        if (got + 1 >= cap)
            return got;
    }
}

static void answer_badly(proxy *p, int fd)
{
    switch (p->mode) {
    case HOSTILE_NEVER:
        pthread_mutex_lock(&p->lock);
        if (p->n_held < 64) {
            p->held[p->n_held++] = fd;
            fd = -1;
        }
        pthread_mutex_unlock(&p->lock);
        break;
    case HOSTILE_HUGE: {
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                   "Content-Length: 1073741824\r\n\r\n";
        hs_send(fd, head, sizeof head - 1);
        static char zeros[65536];
        memset(zeros, 'A', sizeof zeros);
        for (size_t sent = 0; sent < (1u << 30) && !p->stop; sent += sizeof zeros)
            if (hs_send(fd, zeros, sizeof zeros) < sizeof zeros)
                break;
        break;
    }
    case HOSTILE_NON_HTTP: {
        uint8_t junk[300];
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (uint8_t)(i * 131 + 7);
        memcpy(junk, "SSH-2.0-OpenSSH_9.2\r\n", 21);
        hs_send(fd, junk, sizeof junk);
        break;
    }
    case HOSTILE_MID_ANSWER: {
        static const char cut[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                  "Content-Length: 44\r\n\r\nabcd";
        hs_send(fd, cut, sizeof cut - 1);
        break;
    }
    }
    if (fd >= 0)
        close(fd);
}

/* Pass one request to the reference server and its answer back. */
static void pass_through(proxy *p, int fd, const char *req, size_t n)
{
    int up = hs_connect(p->upstream);
    if (up < 0) {
        close(fd);
        return;
    }
    /* Ask the reference server for "Connection: close" so that the whole
     * answer can be read to its end; the client is not told, so it keeps
     * the connection for its next request and finds it closed, as with
     * many real servers (the case httpclient once took for "could not
     * connect" after a later timeout). */
    const char *end = strstr(req, "\r\n\r\n");
    if (end) {
        hs_send(up, req, (size_t)(end - req));
        hs_send_str(up, "\r\nConnection: close");
        hs_send(up, end, n - (size_t)(end - req));
    } else {
        hs_send(up, req, n);
    }
    static __thread char answer[1 << 20];
    int closed;
    size_t got = hs_read(up, answer, sizeof answer, 5000, 5000, &closed);
    close(up);
    char *header_end = strstr(answer, "\r\n\r\n");
    char *conn = (char *)hs_find_ci(answer, "\r\nConnection: close");
    if (conn && header_end && conn < header_end)
        memcpy(conn + 2, "X-Was-Conn", 10); /* same length: the answer stays valid */
    hs_send(fd, answer, got);
    close(fd);
}

static void *serve_connection(void *arg)
{
    conn_arg *c = arg;
    proxy *p = c->p;
    int fd = c->fd;
    free(c);
    static __thread char req[1 << 20];
    size_t n = read_request(fd, req, sizeof req);
    if (n == 0) {
        close(fd);
        return NULL;
    }
    int hostile = 0;
    if (strncmp(req, "POST /input/", 12) == 0) {
        pthread_mutex_lock(&p->lock);
        p->posts_seen++;
        hostile = p->posts_seen == p->hostile_post;
        if (hostile)
            p->hostile_done = 1;
        pthread_mutex_unlock(&p->lock);
    }
    if (hostile)
        answer_badly(p, fd);
    else
        pass_through(p, fd, req, n);
    return NULL;
}

static void *accept_loop(void *arg)
{
    proxy *p = arg;
    while (!p->stop) {
        struct pollfd pf = {p->listen_fd, POLLIN, 0};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        int fd = accept(p->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        conn_arg *c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->p = p;
        c->fd = fd;
        pthread_t t;
        if (pthread_create(&t, NULL, serve_connection, c) != 0) {
            close(fd);
            free(c);
            continue;
        }
        pthread_detach(t);
    }
    return NULL;
}

static void proxy_start(proxy *p, hostile_mode mode, unsigned upstream)
{
    memset(p, 0, sizeof *p);
    p->mode = mode;
    p->upstream = upstream;
    /* POST 1 is the suite's preflight ("does anything answer?"), POST 2
     * the set-up check's correct post (acked: the key is right,
     * srv_setup.c), so the first case's post is POST 3. */
    p->hostile_post = 3;
    pthread_mutex_init(&p->lock, NULL);
    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(p->listen_fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(p->listen_fd, 64), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(p->listen_fd, (struct sockaddr *)&a, &len), 0);
    p->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&p->thread, NULL, accept_loop, p), 0);
}

static void proxy_stop(proxy *p)
{
    p->stop = 1;
    pthread_join(p->thread, NULL);
    close(p->listen_fd);
    for (int i = 0; i < p->n_held; i++)
        close(p->held[i]);
    /* Give detached connection threads a moment to notice. */
    usleep(200 * 1000);
}

static const char *const cases[] = {"server/3.post/fulljson", "server/3.post/json",
                                    "server/3.post/csv"};

/* Run test-server through the proxy; check the report. */
static void run_suite_against(hostile_mode mode, const char *must_say)
{
    ec_serve_users users = {0};
    assert_int_equal(ec_serve_users_add(&users, "1", KEY_HEX, NULL), EC_OK);
    ec_serve_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.users = &users;
    cfg.rows_endpoint = 1;
    ec_serve *srv = NULL;
    char err[256];
    if (ec_serve_start(&cfg, &srv, err, sizeof err) != EC_OK)
        fail_msg("serve: %s", err);
    proxy p;
    proxy_start(&p, mode, ec_serve_port(srv));

    char dir[] = "/tmp/emoncrypt-hostile-servers-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char json_path[256], out_path[256], url[64], rows_url[64], timeout[16];
    snprintf(json_path, sizeof json_path, "%s/report.json", dir);
    snprintf(out_path, sizeof out_path, "%s/out.txt", dir);
    snprintf(url, sizeof url, "http://127.0.0.1:%u", p.port);
    snprintf(rows_url, sizeof rows_url, "http://127.0.0.1:%u", ec_serve_port(srv));
    snprintf(timeout, sizeof timeout, "%d", TIMEOUT_MS);

    double start = hs_now_ms();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(out_path, "w", stdout) || !freopen(out_path, "a", stderr))
            _exit(126);
        alarm(60); /* a hung suite ends here instead of blocking ctest */
        execl(EMONCRYPT_BINARY_DIR "/emoncrypt", "emoncrypt", "test-server", url, "--userid", "1",
              "--apikey", KEY_HEX, "--no-vectors", "--timeout-ms", timeout, "--rows-url",
              rows_url, "--json", json_path, "--case", cases[0], "--case", cases[1], "--case",
              cases[2], (char *)NULL);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    double took = hs_now_ms() - start;
    proxy_stop(&p);
    ec_serve_stop(srv);
    ec_serve_users_free(&users);

    char shown[4096] = "";
    FILE *o = fopen(out_path, "r");
    if (o) {
        size_t n = fread(shown, 1, sizeof shown - 1, o);
        shown[n] = 0;
        fclose(o);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        fail_msg("test-server exited %d (want 1: a FAIL); its output:\n%s",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), shown);
    assert_true(p.hostile_done);
    /* Within the case's timeout, plus the other two cases. */
    if (took > TIMEOUT_MS * 3 + 5000)
        fail_msg("the run took %.0f ms", took);

    json_error_t jerr;
    json_t *report = json_load_file(json_path, 0, &jerr);
    if (!report)
        fail_msg("no JSON report: %s", jerr.text);
    json_t *results = json_object_get(report, "results");
    int verdicts_seen = 0;
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r) {
        const char *id = json_string_value(json_object_get(r, "id"));
        const char *verdict = json_string_value(json_object_get(r, "verdict"));
        const char *message = json_string_value(json_object_get(r, "message"));
        if (!id || !verdict)
            continue;
        if (strcmp(id, cases[0]) == 0) {
            verdicts_seen++;
            if (strcmp(verdict, "FAIL") != 0 || !message ||
                (must_say && !hs_find_ci(message, must_say)))
                fail_msg("%s: %s \"%s\" (want a FAIL saying '%s')", id, verdict,
                         message ? message : "", must_say ? must_say : "");
            print_message("%s: FAIL \"%s\"\n", id, message);
        } else if (strcmp(id, cases[1]) == 0 || strcmp(id, cases[2]) == 0) {
            verdicts_seen++;
            if (strcmp(verdict, "PASS") != 0)
                fail_msg("%s after the hostile answer: %s \"%s\"", id, verdict,
                         message ? message : "");
        }
    }
    json_decref(report);
    assert_int_equal(verdicts_seen, 3);
    print_message("run ended in %.0f ms\n", took);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void server_that_never_answers(void **state)
{
    (void)state;
    run_suite_against(HOSTILE_NEVER, NULL);
}

static void server_that_answers_1gb(void **state)
{
    (void)state;
    run_suite_against(HOSTILE_HUGE, NULL);
}

static void server_that_answers_non_http(void **state)
{
    (void)state;
    run_suite_against(HOSTILE_NON_HTTP, NULL);
}

static void server_that_closes_mid_answer(void **state)
{
    (void)state;
    run_suite_against(HOSTILE_MID_ANSWER, NULL);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(server_that_never_answers),
        cmocka_unit_test(server_that_answers_1gb),
        cmocka_unit_test(server_that_answers_non_http),
        cmocka_unit_test(server_that_closes_mid_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
