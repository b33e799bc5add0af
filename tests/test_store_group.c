/* Group commit in serve's store (issue 17 point 2): concurrent requests
 * share one sync, and none is acked before the sync that covers its row
 * has completed.  The store's fsync is a hook the test can hold: while it
 * is held, the requests written meanwhile are not answered; released, the
 * one it covers is, and the others wait for the next sync; a failed sync
 * answers every request it would have covered with a 5xx, no ack, and
 * their rows are cut off.  Then 16 clients posting at once: fewer syncs
 * than requests, every post acked and on disk. */
#include <setjmp.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
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
#include "hostile_support.h"

#define KEY_HEX "0123456789abcdef0123456789abcdef"
#define CLIENTS 16
/* Bound of a stuck test only: nothing here is timed. */
#define STUCK_MS 20000

static atomic_int writes;           /* store_write calls */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int holding;                 /* 1: each sync waits for its release */
static int syncs_entered, syncs_released;
static int fail_sync;               /* this sync (1, 2, …) fails with EIO */
static int slow_sync_us;            /* a sync takes this long (a disk) */

static ssize_t counted_write(int fd, const void *buf, size_t n)
{
    atomic_fetch_add(&writes, 1);
    return write(fd, buf, n);
}

static int gated_fsync(int fd)
{
    pthread_mutex_lock(&gate_lock);
    int me = ++syncs_entered;
    pthread_cond_broadcast(&gate_cond);
    while (holding && syncs_released < me)
        pthread_cond_wait(&gate_cond, &gate_lock);
    int fail = fail_sync == me;
    pthread_mutex_unlock(&gate_lock);
    if (slow_sync_us)
        usleep((useconds_t)slow_sync_us);
    if (fail) {
        errno = EIO;
        return -1;
    }
    return fdatasync(fd);
}

static int entered(void)
{
    pthread_mutex_lock(&gate_lock);
    int n = syncs_entered;
    pthread_mutex_unlock(&gate_lock);
    return n;
}

static void release_one(void)
{
    pthread_mutex_lock(&gate_lock);
    syncs_released++;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

/* Wait (bounded by STUCK_MS) until *value (read by get) reaches want. */
static int wait_for(int (*get)(void), int want)
{
    for (double end = hs_now_ms() + STUCK_MS; hs_now_ms() < end; usleep(2000))
        if (get() >= want)
            return 1;
    return get() >= want;
}

static int writes_now(void) { return atomic_load(&writes); }

typedef struct {
    ec_serve_users users;
    ec_serve *serve;
    char path[64];
} fixture;

static void start(fixture *fx)
{
    snprintf(fx->path, sizeof fx->path, "/tmp/emoncrypt-group-XXXXXX");
    int fd = mkstemp(fx->path);
    assert_true(fd >= 0);
    close(fd);
    memset(&fx->users, 0, sizeof fx->users);
    assert_int_equal(ec_serve_users_add(&fx->users, "1", KEY_HEX, NULL), EC_OK);
    ec_serve_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.users = &fx->users;
    cfg.store_path = fx->path;
    cfg.store_write = counted_write;
    cfg.store_fsync = gated_fsync;
    char err[256] = "";
    if (ec_serve_start(&cfg, &fx->serve, err, sizeof err) != EC_OK)
        fail_msg("serve: %s", err);
}

/* Stop serve; returns the store's line count. */
static size_t stop(fixture *fx)
{
    ec_serve_stop(fx->serve);
    ec_serve_users_free(&fx->users);
    FILE *f = fopen(fx->path, "r");
    assert_non_null(f);
    size_t lines = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    unlink(fx->path);
    return lines;
}

/* One client: posts one row per request, keep-alive off. */
typedef struct {
    unsigned port;
    int id, posts;
    pthread_t thread;
    atomic_int answered, acked, status;
} client;

static void *client_run(void *arg)
{
    client *c = arg;
    for (int k = 0; k < c->posts; k++) {
        char plaintext[64];
        snprintf(plaintext, sizeof plaintext, "node=group&fulljson={\"c%d\":%d}", c->id, k);
        ec_request_params p;
        memset(&p, 0, sizeof p);
        p.profile = EC_PROFILE_AES128CBC;
        p.endpoint = EC_ENDPOINT_POST;
        ec_key_from_hex(KEY_HEX, p.key);
        p.userid = "1";
        ec_random(p.iv, sizeof p.iv);
        p.plaintext = (const uint8_t *)plaintext;
        p.plaintext_len = strlen(plaintext);
        ec_request r;
        ec_request_init(&r);
        if (ec_request_build(&p, &r) != EC_OK)
            break;
        char text[2048], answer[4096] = "";
        snprintf(text, sizeof text,
                 "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nAuthorization: %s\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 r.path, r.content_type, r.authorization, r.body_len, r.body);
        int fd = hs_connect(c->port);
        if (fd >= 0) {
            hs_send_str(fd, text);
            int closed;
            hs_read(fd, answer, sizeof answer, STUCK_MS, STUCK_MS, &closed);
            close(fd);
        }
        const char *body = strstr(answer, "\r\n\r\n");
        atomic_store(&c->status, hs_status(answer));
        if (body && strcmp(body + 4, r.ack) == 0)
            atomic_fetch_add(&c->acked, 1);
        atomic_fetch_add(&c->answered, 1);
        ec_request_free(&r);
    }
    return NULL;
}

static void client_start(client *c, unsigned port, int id, int posts)
{
    memset(c, 0, sizeof *c);
    c->port = port;
    c->id = id;
    c->posts = posts;
    assert_int_equal(pthread_create(&c->thread, NULL, client_run, c), 0);
}

static int answered(const client *cs, int n)
{
    int a = 0;
    for (int i = 0; i < n; i++)
        a += atomic_load(&cs[i].answered);
    return a;
}

static client *held_clients;
static int answered_held(void) { return answered(held_clients, CLIENTS); }

/* Client 0 posts alone; its sync is held.  Then clients 1..15 post: each
 * row is written, none is answered while the sync is held.  Released, the
 * sync covers client 0 only: it is answered, and the other 15 wait for
 * the second sync (held too).  That one succeeds or, fail_second, fails. */
static void held_syncs(int fail_second)
{
    fixture fx;
    atomic_store(&writes, 0);
    holding = 1;
    syncs_entered = syncs_released = 0;
    fail_sync = fail_second ? 2 : 0;
    slow_sync_us = 0;
    start(&fx);
    unsigned port = ec_serve_port(fx.serve);
    client cs[CLIENTS];
    held_clients = cs;

    client_start(&cs[0], port, 0, 1);
    if (!wait_for(entered, 1))
        fail_msg("the first post's sync never started");
    for (int i = 1; i < CLIENTS; i++)
        client_start(&cs[i], port, i, 1);
    if (!wait_for(writes_now, CLIENTS))
        fail_msg("%d of %d rows written while one sync was held: requests wait for a sync "
                 "before writing (one sync per request)", writes_now(), CLIENTS);
    usleep(50 * 1000); /* time to answer early, were it wrong */
    if (answered_held() != 0)
        fail_msg("%d requests answered before the sync covering their rows ended",
                 answered_held());

    release_one();
    if (!wait_for(entered, 2))
        fail_msg("no second sync for the rows written during the first");
    for (double end = hs_now_ms() + STUCK_MS; hs_now_ms() < end && !atomic_load(&cs[0].answered);)
        usleep(2000);
    assert_int_equal(atomic_load(&cs[0].acked), 1);
    usleep(50 * 1000);
    if (answered(cs + 1, CLIENTS - 1) != 0)
        fail_msg("%d requests answered after the first sync, which did not cover their rows",
                 answered(cs + 1, CLIENTS - 1));

    release_one();
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(cs[i].thread, NULL);
    int acked = 0;
    for (int i = 1; i < CLIENTS; i++) {
        acked += atomic_load(&cs[i].acked);
        if (fail_second && atomic_load(&cs[i].status) < 500)
            fail_msg("client %d: answered %d after the sync covering its row failed, want 5xx", i,
                     atomic_load(&cs[i].status));
    }
    assert_int_equal(acked, fail_second ? 0 : CLIENTS - 1);
    assert_int_equal(entered(), 2);
    size_t lines = stop(&fx);
    /* A failed sync takes its rows back: only client 0's stays. */
    assert_int_equal(lines, fail_second ? 1 : CLIENTS);
}

static void no_ack_before_the_sync_covering_its_row(void **state)
{
    (void)state;
    held_syncs(0);
}

static void failed_group_sync_fails_every_request_it_covers(void **state)
{
    (void)state;
    held_syncs(1);
}

static void concurrent_requests_share_syncs(void **state)
{
    (void)state;
    fixture fx;
    atomic_store(&writes, 0);
    holding = 0;
    syncs_entered = syncs_released = 0;
    fail_sync = 0;
    slow_sync_us = 2000; /* a disk's sync; tmpfs has none */
    start(&fx);
    enum { POSTS = 20 };
    client cs[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        client_start(&cs[i], ec_serve_port(fx.serve), i, POSTS);
    int acked = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(cs[i].thread, NULL);
        acked += atomic_load(&cs[i].acked);
    }
    int syncs = entered();
    size_t lines = stop(&fx);
    print_message("%d requests from %d clients: %d syncs\n", CLIENTS * POSTS, CLIENTS, syncs);
    assert_int_equal(acked, CLIENTS * POSTS);
    assert_int_equal(lines, CLIENTS * POSTS);
    if (syncs >= CLIENTS * POSTS)
        fail_msg("%d syncs for %d concurrent requests: none shared", syncs, CLIENTS * POSTS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_ack_before_the_sync_covering_its_row),
        cmocka_unit_test(failed_group_sync_fails_every_request_it_covers),
        cmocka_unit_test(concurrent_requests_share_syncs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
