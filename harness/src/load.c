/* emoncrypt — a fleet of simulated devices (see load.h). */
#include "emoncrypt/load.h"
#include "load_internal.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emoncrypt/message.h"
#include "emoncrypt/httpclient.h"

/* Histogram of latencies: bucket i holds [1.01^i, 1.01^(i+1)) µs, so every
 * percentile is within 1 % and the table is a fixed 16 KiB per worker. */
#define HIST_BUCKETS 2000
#define DEFAULT_DEVICES 4u
#define DEFAULT_CONNECTIONS_MAX 16u
#define DEFAULT_DURATION_S 10.0
#define DEFAULT_MAX_REQUESTS 10000000ull

typedef struct {
    const ec_load_options *opt;
    const char *url;
    volatile int *stop;            /* the caller's, may be NULL */
    atomic_uint_least64_t started; /* posts begun, against max_requests */
    atomic_int halt;               /* a worker found the target unreachable */
    uint64_t max_requests;
    double deadline;               /* monotonic seconds */
    pthread_mutex_t answers_lock;
    ec_load_result *result;        /* answers[] guarded by answers_lock */
    /* for the progress callback: running totals, relaxed */
    atomic_uint_least64_t done, acked, transport_errors;
    atomic_uint workers_left;
} fleet;

typedef struct {
    fleet *f;
    unsigned index;                /* worker number */
    unsigned first_device;         /* devices index, index+stride, … */
    unsigned stride;
    unsigned device_count;
    double rate;                   /* this worker's share; 0 = unthrottled */
    uint64_t hist[HIST_BUCKETS];
    uint64_t sent, acked, ack_mismatch, wrong_answer, transport_errors;
    uint64_t by_transport[16];
    double latency_sum_ms, latency_max_ms;
    double first_start, last_end;  /* monotonic seconds */
    int unreachable;
    char message[256];
} worker;

static double now_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
    double d = t - now_monotonic();
    if (d <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)d;
    ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

static unsigned hist_bucket(double ms)
{
    double us = ms * 1000.0;
    if (us < 1.0)
        return 0;
    double i = floor(log(us) / log(1.01));
    return i >= HIST_BUCKETS - 1 ? HIST_BUCKETS - 1 : (unsigned)i;
}

static double hist_upper_ms(unsigned i)
{
    return pow(1.01, (double)i + 1.0) / 1000.0;
}

/* see load.h */
int ec_load_url_is_loopback(const char *url)
{
    if (!url)
        return 0;
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = strpbrk(p, "@/");
    if (at && *at == '@')           /* user:pass@host */
        p = at + 1;
    char host[256];
    size_t n = 0;
    if (*p == '[') {
        p++;
        while (*p && *p != ']' && n + 1 < sizeof host)
            host[n++] = *p++;
        if (*p != ']')
            return 0;
    } else {
        while (*p && *p != ':' && *p != '/' && *p != '?' && *p != '#' && n + 1 < sizeof host)
            host[n++] = (char)tolower((unsigned char)*p++);
    }
    host[n] = 0;
    if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
        return 1;
    /* 127.0.0.0/8 as a dotted quad of plain decimal numbers */
    unsigned a, b, c, d;
    char tail;
    if (sscanf(host, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
        c < 256 && d < 256 && strspn(host, "0123456789.") == strlen(host))
        return 1;
    return 0;
}

/* The endpoint: a URL already naming /input/post or /input/bulk is kept. */
static char *endpoint_url(const char *base, unsigned bulk_rows)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    const char *suffix = bulk_rows ? "/input/bulk" : "/input/post";
    if ((n >= 11 && strncmp(base + n - 11, "/input/post", 11) == 0) ||
        (n >= 11 && strncmp(base + n - 11, "/input/bulk", 11) == 0))
        suffix = "";
    char *u = malloc(n + strlen(suffix) + 1);
    if (!u)
        return NULL;
    memcpy(u, base, n);
    strcpy(u + n, suffix);
    return u;
}


/* Printable start of an answer, for grouping wrong answers. */
static void answer_text(const ec_http_response *resp, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%ld ", resp->status);
    size_t off = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < resp->body_len && off + 5 < cap && i < 60; i++) {
        unsigned char ch = resp->body[i];
        if (ch >= 0x20 && ch < 0x7f) {
            out[off++] = (char)ch;
        } else {
            snprintf(out + off, cap - off, "\\x%02x", ch);
            off += 4;
        }
    }
    out[off < cap ? off : cap - 1] = 0;
}

static void count_answer(fleet *f, const char *text)
{
    ec_load_result *r = f->result;
    pthread_mutex_lock(&f->answers_lock);
    size_t i;
    for (i = 0; i < r->answer_kinds; i++)
        if (strcmp(r->answers[i].text, text) == 0)
            break;
    if (i < r->answer_kinds) {
        r->answers[i].count++;
    } else if (r->answer_kinds < EC_LOAD_MAX_ANSWER_KINDS) {
        snprintf(r->answers[i].text, sizeof r->answers[i].text, "%s", text);
        r->answers[i].count = 1;
        r->answer_kinds++;
    } else {
        r->other_answers++;
    }
    pthread_mutex_unlock(&f->answers_lock);
}

static int should_stop(fleet *f)
{
    return (f->stop && *f->stop) || atomic_load(&f->halt) || now_monotonic() >= f->deadline;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    fleet *f = w->f;
    const ec_load_options *opt = f->opt;
    size_t pt_cap = 96 + (size_t)opt->bulk_rows * 64;
    char *plaintext = malloc(pt_cap);
    ec_http_client *client = ec_http_client_new();
    if (!plaintext || !client) {
        snprintf(w->message, sizeof w->message, "out of memory");
        w->unreachable = 1;
        atomic_store(&f->halt, 1);
        goto out;
    }
    double next = now_monotonic();
    uint64_t seq = 0;
    unsigned k = 0;
    while (!should_stop(f)) {
        if (atomic_fetch_add(&f->started, 1) >= f->max_requests)
            break;
        if (w->rate > 0) {
            sleep_until(next);
            next += 1.0 / w->rate;
            if (should_stop(f))
                break;
        }
        unsigned device = w->first_device + k * w->stride;
        k = (k + 1) % w->device_count;
        long long wall = (long long)time(NULL);
        size_t pt_len = ec_load_plaintext_(plaintext, pt_cap, device, seq++, opt->bulk_rows, wall);

        ec_request_params p;
        memset(&p, 0, sizeof p);
        p.profile = EC_PROFILE_AES128CBC;
        p.endpoint = opt->bulk_rows ? EC_ENDPOINT_BULK : EC_ENDPOINT_POST;
        memcpy(p.key, opt->key, EC_KEY_LEN);
        p.userid = opt->userid;
        p.plaintext = (const uint8_t *)plaintext;
        p.plaintext_len = pt_len;
        ec_request req;
        ec_request_init(&req);
        if (ec_random(p.iv, EC_IV_LEN) != EC_OK || pt_len == 0 ||
            ec_request_build(&p, &req) != EC_OK) {
            ec_wipe(p.key, sizeof p.key);
            ec_request_free(&req);
            snprintf(w->message, sizeof w->message, "could not build a request");
            atomic_store(&f->halt, 1);
            break;
        }
        ec_wipe(p.key, sizeof p.key);

        ec_http_header headers[2] = {
            {"Content-Type", req.content_type},
            {"Authorization", req.authorization},
        };
        ec_http_client_request hr;
        memset(&hr, 0, sizeof hr);
        hr.method = "POST";
        hr.url = f->url;
        hr.headers = headers;
        hr.header_count = 2;
        hr.body = (const unsigned char *)req.body;
        hr.body_len = req.body_len;
        hr.timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 3000;
        hr.max_response_body = 4096;

        ec_http_response resp;
        memset(&resp, 0, sizeof resp);
        double t0 = now_monotonic();
        if (w->sent == 0 && w->transport_errors == 0)
            w->first_start = t0;
        ec_http_client_send(client, &hr, &resp);
        double t1 = now_monotonic();
        w->last_end = t1;
        w->sent++;
        atomic_fetch_add_explicit(&f->done, 1, memory_order_relaxed);
        if (resp.error != EC_HTTP_ERR_NONE && resp.error != EC_HTTP_ERR_TOO_LARGE) {
            w->transport_errors++;
            atomic_fetch_add_explicit(&f->transport_errors, 1, memory_order_relaxed);
            w->by_transport[(unsigned)resp.error < 16 ? (unsigned)resp.error : 15]++;
            if (resp.error == EC_HTTP_ERR_CONNECT && w->acked + w->wrong_answer + w->ack_mismatch == 0) {
                /* Nothing has ever answered: a down target, not a slow one. */
                snprintf(w->message, sizeof w->message, "%s", resp.message);
                w->unreachable = 1;
                atomic_store(&f->halt, 1);
            }
        } else {
            double ms = (t1 - t0) * 1000.0;
            w->hist[hist_bucket(ms)]++;
            w->latency_sum_ms += ms;
            if (ms > w->latency_max_ms)
                w->latency_max_ms = ms;
            if (resp.status == 200 && resp.body_len == EC_ACK_LEN &&
                memcmp(resp.body, req.ack, EC_ACK_LEN) == 0) {
                w->acked++;
                atomic_fetch_add_explicit(&f->acked, 1, memory_order_relaxed);
            } else if (resp.status == 200 && resp.body_len >= EC_ACK_LEN &&
                       ec_ack_well_formed((const char *)resp.body, EC_ACK_LEN)) {
                w->ack_mismatch++;
            } else {
                char text[80];
                answer_text(&resp, text, sizeof text);
                w->wrong_answer++;
                count_answer(f, text);
            }
        }
        ec_http_response_free(&resp);
        ec_request_free(&req);
    }
out:
    ec_http_client_free(client);
    free(plaintext);
    atomic_fetch_sub(&f->workers_left, 1);
    return NULL;
}

/* The calling thread while the workers run: the progress callback about
 * once a second, until every worker has ended. */
static void report_progress(fleet *f, double started)
{
    const ec_load_options *opt = f->opt;
    double next = started + 1.0;
    uint64_t last_done = 0;
    while (atomic_load(&f->workers_left) > 0) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        double now = now_monotonic();
        if (now < next)
            continue;
        ec_load_progress p;
        memset(&p, 0, sizeof p);
        p.elapsed_s = now - started;
        p.duration_s = opt->duration_s;
        p.sent = atomic_load_explicit(&f->done, memory_order_relaxed);
        p.acked = atomic_load_explicit(&f->acked, memory_order_relaxed);
        p.transport_errors = atomic_load_explicit(&f->transport_errors, memory_order_relaxed);
        p.not_acked = p.sent >= p.acked + p.transport_errors ? p.sent - p.acked - p.transport_errors : 0;
        p.rate_last_s = (double)(p.sent - last_done) / (now - next + 1.0);
        last_done = p.sent;
        opt->progress(&p, opt->progress_arg);
        next = now + 1.0;
    }
}

/* see load.h */
ec_status ec_load_run(const ec_load_options *opt, volatile int *stop, ec_load_result *result)
{
    memset(result, 0, sizeof *result);
    if (!opt || !opt->url || !opt->userid || !opt->userid[0]) {
        snprintf(result->message, sizeof result->message, "a URL and a user id are needed");
        return EC_E_ARG;
    }
    if (!opt->allow_remote && !ec_load_url_is_loopback(opt->url)) {
        result->refused_remote = 1;
        snprintf(result->message, sizeof result->message,
                 "the target is not on loopback (127.0.0.0/8, ::1, localhost); a load test "
                 "against someone else's server needs --allow-remote");
        return EC_E_ARG;
    }
    ec_load_options o = *opt;
    if (o.devices == 0)
        o.devices = DEFAULT_DEVICES;
    if (o.connections == 0)
        o.connections = o.devices < DEFAULT_CONNECTIONS_MAX ? o.devices : DEFAULT_CONNECTIONS_MAX;
    if (o.connections > o.devices)
        o.connections = o.devices;
    if (o.duration_s <= 0)
        o.duration_s = DEFAULT_DURATION_S;
    if (o.devices > EC_LOAD_MAX_DEVICES || o.connections > EC_LOAD_MAX_CONNECTIONS ||
        o.duration_s > EC_LOAD_MAX_DURATION_S || o.bulk_rows > EC_LOAD_MAX_BULK_ROWS ||
        o.rate < 0 || o.rate > 1e7) {
        snprintf(result->message, sizeof result->message,
                 "out of bounds: at most %u devices, %u connections, %.0f s, %u bulk rows",
                 EC_LOAD_MAX_DEVICES, EC_LOAD_MAX_CONNECTIONS, EC_LOAD_MAX_DURATION_S,
                 EC_LOAD_MAX_BULK_ROWS);
        ec_wipe(o.key, sizeof o.key);
        return EC_E_ARG;
    }
    result->devices = o.devices;
    result->connections = o.connections;
    result->bulk_rows = o.bulk_rows;
    result->target_rate = o.rate;

    fleet f;
    memset(&f, 0, sizeof f);
    f.opt = &o;
    f.stop = stop;
    f.result = result;
    f.max_requests = o.max_requests ? o.max_requests : DEFAULT_MAX_REQUESTS;
    atomic_init(&f.started, 0);
    atomic_init(&f.halt, 0);
    atomic_init(&f.done, 0);
    atomic_init(&f.acked, 0);
    atomic_init(&f.transport_errors, 0);
    atomic_init(&f.workers_left, 0);
    pthread_mutex_init(&f.answers_lock, NULL);
    char *url = endpoint_url(o.url, o.bulk_rows);
    worker *workers = calloc(o.connections, sizeof *workers);
    pthread_t *threads = calloc(o.connections, sizeof *threads);
    int *running = calloc(o.connections, sizeof *running);
    ec_status st = EC_OK;
    if (!url || !workers || !threads || !running) {
        st = EC_E_NOMEM;
        goto out;
    }
    f.url = url;
    f.deadline = now_monotonic() + o.duration_s;
    for (unsigned i = 0; i < o.connections; i++) {
        worker *w = &workers[i];
        w->f = &f;
        w->index = i;
        w->first_device = i;
        w->stride = o.connections;
        w->device_count = (o.devices - i + o.connections - 1) / o.connections;
        w->rate = o.rate > 0 ? o.rate * (double)w->device_count / (double)o.devices : 0;
        atomic_fetch_add(&f.workers_left, 1);
        running[i] = pthread_create(&threads[i], NULL, worker_main, w) == 0;
        if (!running[i]) {
            atomic_fetch_sub(&f.workers_left, 1);
            atomic_store(&f.halt, 1);
            st = EC_E_NOMEM;
        }
    }
    if (o.progress)
        report_progress(&f, f.deadline - o.duration_s);
    double first = 0, last = 0, sum = 0;
    uint64_t hist[HIST_BUCKETS] = {0};
    for (unsigned i = 0; i < o.connections; i++) {
        if (!running[i])
            continue;
        pthread_join(threads[i], NULL);
        worker *w = &workers[i];
        result->sent += w->sent;
        result->acked += w->acked;
        result->ack_mismatch += w->ack_mismatch;
        result->wrong_answer += w->wrong_answer;
        result->transport_errors += w->transport_errors;
        for (unsigned e = 0; e < 16; e++)
            result->by_transport[e] += w->by_transport[e];
        for (unsigned b = 0; b < HIST_BUCKETS; b++)
            hist[b] += w->hist[b];
        sum += w->latency_sum_ms;
        if (w->latency_max_ms > result->max_ms)
            result->max_ms = w->latency_max_ms;
        if (w->sent && (first == 0 || w->first_start < first))
            first = w->first_start;
        if (w->last_end > last)
            last = w->last_end;
        if (w->message[0] && !result->message[0])
            snprintf(result->message, sizeof result->message, "%s", w->message);
        if (w->unreachable && result->acked + result->wrong_answer + result->ack_mismatch == 0 &&
            st == EC_OK)
            st = EC_E_IO;
    }
    if (st == EC_E_IO && result->acked + result->wrong_answer + result->ack_mismatch > 0)
        st = EC_OK;   /* another worker got through: the target is up */
    result->elapsed_s = last > first ? last - first : 0;
    result->achieved_rate = result->elapsed_s > 0 ? (double)result->sent / result->elapsed_s : 0;
    uint64_t answered = result->sent - result->transport_errors;
    if (answered > 0) {
        result->mean_ms = sum / (double)answered;
        const double q[4] = {0.50, 0.90, 0.99, 0.999};
        double *dst[4] = {&result->p50_ms, &result->p90_ms, &result->p99_ms, &result->p999_ms};
        for (int j = 0; j < 4; j++) {
            uint64_t want = (uint64_t)ceil(q[j] * (double)answered), cum = 0;
            for (unsigned b = 0; b < HIST_BUCKETS; b++) {
                cum += hist[b];
                if (cum >= want) {
                    double v = hist_upper_ms(b);
                    *dst[j] = v < result->max_ms ? v : result->max_ms;
                    break;
                }
            }
        }
    }
out:
    pthread_mutex_destroy(&f.answers_lock);
    ec_wipe(o.key, sizeof o.key);
    free(url);
    free(workers);
    free(threads);
    free(running);
    return st;
}
