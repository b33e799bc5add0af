/* Nothing acknowledged is lost: `emoncrypt serve --store FILE` writes and
 * fsyncs the rows of a post before it sends the ack, so killing it with
 * SIGKILL in the middle of a burst of posts must leave every row whose ack
 * a client received in the store, and the store valid JSONL (one complete
 * JSON object per line).  Three rounds on the same store: the server is
 * restarted on what the previous kill left behind. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"
#include "hostile_support.h"

#define KEY_HEX "0123456789abcdef0123456789abcdef"
#define SENDERS 4
#define MAX_POSTS 100000
#define ACKS_BEFORE_KILL 150
#define ROUNDS 3

typedef struct {
    int round;
    int id;
    unsigned port;
    int acked[MAX_POSTS / SENDERS]; /* values whose ack came back */
    int n_acked;
    volatile int *total_acked;
    pthread_mutex_t *lock;
} sender;

/* Posts node=kill, input r<round>s<id> = 0, 1, 2, … one per connection,
 * until the server is gone; remembers each value whose exact ack came back. */
static void *send_burst(void *arg)
{
    sender *s = arg;
    uint8_t key[EC_KEY_LEN];
    if (ec_key_from_hex(KEY_HEX, key) != EC_OK)
        return NULL;
    int failures = 0;
    for (int value = 0; value < MAX_POSTS / SENDERS && failures < 20; value++) {
        char plaintext[96];
        snprintf(plaintext, sizeof plaintext, "node=kill&fulljson={\"r%ds%d\":%d}", s->round,
                 s->id, value);
        ec_request_params p;
        memset(&p, 0, sizeof p);
        p.profile = EC_PROFILE_AES128CBC;
        p.endpoint = EC_ENDPOINT_POST;
        memcpy(p.key, key, sizeof key);
        p.userid = "1";
        if (ec_random(p.iv, sizeof p.iv) != EC_OK)
            break;
        p.plaintext = (const uint8_t *)plaintext;
        p.plaintext_len = strlen(plaintext);
        ec_request r;
        ec_request_init(&r);
        if (ec_request_build(&p, &r) != EC_OK)
            break;
        char head[1024];
        snprintf(head, sizeof head,
                 "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n"
                 "Authorization: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                 r.path, r.content_type, r.authorization, r.body_len);
        int fd = hs_connect(s->port);
        if (fd < 0) {
            ec_request_free(&r);
            failures++;
            usleep(10 * 1000);
            continue;
        }
        hs_send_str(fd, head);
        hs_send(fd, r.body, r.body_len);
        char answer[1024];
        int closed;
        hs_read(fd, answer, sizeof answer, 5000, 5000, &closed);
        close(fd);
        const char *body = strstr(answer, "\r\n\r\n");
        if (hs_status(answer) == 200 && body && strcmp(body + 4, r.ack) == 0) {
            s->acked[s->n_acked++] = value;
            pthread_mutex_lock(s->lock);
            (*s->total_acked)++;
            pthread_mutex_unlock(s->lock);
            failures = 0;
        } else {
            failures++;
        }
        ec_request_free(&r);
    }
    return NULL;
}

static pid_t start_serve(const char *dir, const char *store, unsigned *port)
{
    char ready[512], log[512];
    snprintf(ready, sizeof ready, "%s/ready", dir);
    snprintf(log, sizeof log, "%s/serve.log", dir);
    unlink(ready);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *l = freopen(log, "a", stderr);
        (void)l;
        execl(EMONCRYPT_BINARY_DIR "/emoncrypt", "emoncrypt", "serve", "--listen",
              "127.0.0.1:0", "--userid", "1", "--apikey", KEY_HEX, "--store", store,
              "--ready-file", ready, "--quiet", (char *)NULL);
        _exit(127);
    }
    /* Wait for the ready file: "http://127.0.0.1:PORT". */
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(ready, "r");
        if (f) {
            char url[128] = "";
            char *got = fgets(url, sizeof url, f);
            fclose(f);
            const char *colon = got ? strrchr(url, ':') : NULL;
            if (colon && atoi(colon + 1) > 0) {
                *port = (unsigned)atoi(colon + 1);
                return pid;
            }
        }
        usleep(50 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("emoncrypt serve did not start within 10 s (see %s)", log);
    return -1;
}

/* Every line of the store, parsed; fails on an incomplete or invalid line. */
static json_t *read_store(const char *store)
{
    FILE *f = fopen(store, "r");
    assert_non_null(f);
    json_t *rows = json_array();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t number = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        number++;
        if (line[n - 1] != '\n')
            fail_msg("store line %zu has no end of line (a torn write): %.120s", number, line);
        json_error_t err;
        json_t *row = json_loadb(line, (size_t)n, 0, &err);
        if (!json_is_object(row) || !json_is_string(json_object_get(row, "node")) ||
            !json_is_string(json_object_get(row, "name")) ||
            !json_is_number(json_object_get(row, "value")))
            fail_msg("store line %zu is not a row: %.120s (%s)", number, line, err.text);
        json_array_append_new(rows, row);
    }
    free(line);
    fclose(f);
    return rows;
}

static int stored(json_t *rows, const char *name, int value)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (strcmp(json_string_value(json_object_get(row, "name")), name) == 0 &&
            json_number_value(json_object_get(row, "value")) == value &&
            strcmp(json_string_value(json_object_get(row, "node")), "kill") == 0)
            return 1;
    }
    return 0;
}

static void acked_rows_survive_sigkill(void **state)
{
    (void)state;
    char dir[] = "/tmp/emoncrypt-store-kill-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char store[512];
    snprintf(store, sizeof store, "%s/store.jsonl", dir);
    static sender senders[ROUNDS][SENDERS];
    int acked_total = 0;

    for (int round = 0; round < ROUNDS; round++) {
        unsigned port = 0;
        pid_t pid = start_serve(dir, store, &port);
        volatile int total = 0;
        pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        pthread_t th[SENDERS];
        for (int i = 0; i < SENDERS; i++) {
            sender *s = &senders[round][i];
            memset(s, 0, sizeof *s);
            s->round = round;
            s->id = i;
            s->port = port;
            s->total_acked = &total;
            s->lock = &lock;
            assert_int_equal(pthread_create(&th[i], NULL, send_burst, s), 0);
        }
        /* Kill it mid-burst: the senders are still posting. */
        double deadline = hs_now_ms() + 60000;
        int seen;
        do {
            usleep(20 * 1000);
            pthread_mutex_lock(&lock);
            seen = total;
            pthread_mutex_unlock(&lock);
        } while (seen < ACKS_BEFORE_KILL && hs_now_ms() < deadline);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        for (int i = 0; i < SENDERS; i++)
            pthread_join(th[i], NULL);
        if (seen < ACKS_BEFORE_KILL)
            fail_msg("round %d: only %d acks in 60 s", round, seen);

        json_t *rows = read_store(store);
        int round_acked = 0;
        for (int i = 0; i < SENDERS; i++) {
            const sender *s = &senders[round][i];
            char name[32];
            snprintf(name, sizeof name, "r%ds%d", round, i);
            for (int k = 0; k < s->n_acked; k++) {
                if (!stored(rows, name, s->acked[k]))
                    fail_msg("round %d: %s = %d was acknowledged but is not in the store", round,
                             name, s->acked[k]);
                round_acked++;
            }
        }
        print_message("round %d: %d acks received, %zu rows in the store, all acked rows there\n",
                      round, round_acked, json_array_size(rows));
        acked_total += round_acked;
        json_decref(rows);
    }
    assert_true(acked_total >= ROUNDS * ACKS_BEFORE_KILL);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(acked_rows_survive_sigkill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
