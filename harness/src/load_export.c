/* emoncrypt — a fleet of devices exported for Tsung, and the check of what
 * a Tsung run of it did (load.h).
 *
 * The export builds every request in advance with the same code a device
 * uses (ec_request_build), so Tsung only replays bytes: it never sees a key.
 * The check reads Tsung's protocol dump (one line per HTTP request), traces
 * each answer back to its corpus line by the "?seq=I" the path carries, and
 * compares the rows of the acknowledged lines with the server's store. */
#include "emoncrypt/load.h"
#include "emoncrypt/message.h"
#include "emoncrypt/plaintext.h"
#include "load_internal.h"
#include "textbuf.h"

#include <errno.h>
#include <pthread.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_REQUESTS 10000u
#define DEFAULT_INTERVAL 10.0
#define DEFAULT_RATE 100.0
#define NODE_LIMIT 32u /* distinct nodes an Emoncms account keeps */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One sentence into a result's message (truncated to fit). */
__attribute__((format(printf, 3, 4))) static void msgf(char *msg, size_t cap, const char *fmt,
                                                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
}

/* ---- the target URL ------------------------------------------------------- */

typedef struct {
    char host[256];
    unsigned port;
    char prefix[256]; /* "" or "/emoncms" (no trailing slash) */
} target;

static int parse_target(const char *url, target *t)
{
    memset(t, 0, sizeof *t);
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *p = url + 7;
    size_t n = strcspn(p, ":/");
    /* A host name or IPv4 address: it goes into the XML and Tsung's config. */
    if (n == 0 || n >= sizeof t->host ||
        strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") < n)
        return -1;
    memcpy(t->host, p, n);
    p += n;
    t->port = 80;
    if (*p == ':') {
        char *end = NULL;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535 || (*end && *end != '/'))
            return -1;
        t->port = (unsigned)port;
        p = end;
    }
    size_t plen = strlen(p);
    while (plen > 0 && p[plen - 1] == '/')
        plen--;
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f || p[i] == '\'')
            return -1;
    if (plen >= sizeof t->prefix || memchr(p, ';', plen) || memchr(p, '"', plen) ||
        memchr(p, '<', plen) || memchr(p, '&', plen) || memchr(p, '?', plen))
        return -1;
    memcpy(t->prefix, p, plen);
    return 0;
}

/* ---- writing files --------------------------------------------------------- */

typedef struct {
    char final[4096];
    char tmp[4096];
    FILE *f;
} out_file;

static int out_open(out_file *o, const char *dir, const char *name, char *msg, size_t cap)
{
    o->f = NULL;
    if ((size_t)snprintf(o->final, sizeof o->final, "%s/%s", dir, name) >= sizeof o->final ||
        (size_t)snprintf(o->tmp, sizeof o->tmp, "%s/.%s.tmp", dir, name) >= sizeof o->tmp) {
        msgf(msg, cap, "%s: the path is too long", dir);
        return -1;
    }
    o->f = fopen(o->tmp, "w");
    if (!o->f) {
        msgf(msg, cap, "cannot create %s: %s", o->tmp, strerror(errno));
        return -1;
    }
    setvbuf(o->f, NULL, _IOFBF, 1 << 20);
    return 0;
}

/* Close and move into place; on any earlier or current error, remove. */
static int out_close(out_file *o, int ok, char *msg, size_t cap)
{
    if (!o->f)
        return ok ? 0 : -1;
    int bad = ferror(o->f);
    int err = errno;
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    o->f = NULL;
    if (ok && bad)
        msgf(msg, cap, "cannot write %s: %s", o->tmp, strerror(err));
    if (ok && !bad && rename(o->tmp, o->final) != 0) {
        msgf(msg, cap, "cannot rename %s to %s: %s", o->tmp, o->final, strerror(errno));
        bad = 1;
    }
    if (!ok || bad) {
        unlink(o->tmp);
        return -1;
    }
    return 0;
}

/* XML attribute text: the few characters that need an entity. */
static void xml_attr(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Text inside an XML comment, which may not hold "--" nor end in '-': a
 * '-' after a '-' is written as %2D (the same URL), and the caller never
 * puts a '-' last. */
static void xml_comment(FILE *f, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '-' && p > s && p[-1] == '-')
            fputs("%2D", f);
        else
            fputc(*p, f);
    }
}

static int write_scenario(FILE *f, const ec_load_export_options *o, const target *t,
                          const char *corpus_abs, uint64_t requests, double rate,
                          double duration)
{
    fprintf(f,
            "<?xml version=\"1.0\"?>\n"
            "<!DOCTYPE tsung SYSTEM \"/usr/share/tsung/tsung-1.0.dtd\">\n"
            "<!-- emoncrypt fleet export: %llu posts to ",
            (unsigned long long)requests);
    xml_comment(f, o->url);
    fprintf(f,
            " (%u devices of %zu users), one per\n"
            "     session, corpus lines handed out in order so each is sent once; every\n"
            "     answer must be exactly its ack (a nomatch is a protocol error).\n"
            "     Check a run with emoncrypt fleet check DIR, giving it LOGDIR/tsung.dump -->\n"
            "<tsung loglevel=\"notice\" dumptraffic=\"protocol\">\n"
            "  <clients>\n",
            o->devices ? o->devices : (unsigned)o->n_users, o->n_users);
    if (o->n_agents == 0) {
        fputs("    <client host=\"localhost\" use_controller_vm=\"true\" maxusers=\"60000\"/>\n", f);
    } else {
        for (size_t i = 0; i < o->n_agents; i++) {
            char host[256];
            unsigned vms = 1;
            const char *colon = strrchr(o->agents[i], ':');
            size_t hn = colon ? (size_t)(colon - o->agents[i]) : strlen(o->agents[i]);
            if (hn >= sizeof host)
                hn = sizeof host - 1;
            memcpy(host, o->agents[i], hn);
            host[hn] = 0;
            if (colon)
                vms = (unsigned)strtoul(colon + 1, NULL, 10);
            fputs("    <client host=\"", f);
            xml_attr(f, host);
            fprintf(f, "\" cpu=\"%u\" use_controller_vm=\"false\" maxusers=\"60000\"/>\n", vms);
        }
    }
    fputs("  </clients>\n  <servers>\n    <server host=\"", f);
    xml_attr(f, t->host);
    fprintf(f,
            "\" port=\"%u\" type=\"tcp\"/>\n"
            "  </servers>\n"
            "  <load>\n"
            "    <arrivalphase phase=\"1\" duration=\"%llu\" unit=\"second\">\n"
            "      <users maxnumber=\"%llu\" arrivalrate=\"%.3f\" unit=\"second\"/>\n"
            "    </arrivalphase>\n"
            "  </load>\n"
            "  <options>\n"
            "    <option name=\"file_server\" id=\"corpus\" value=\"",
            t->port, (unsigned long long)ceil(duration), (unsigned long long)requests, rate);
    xml_attr(f, corpus_abs);
    fputs("\"/>\n"
          "    <option type=\"ts_http\" name=\"user_agent\">\n"
          "      <user_agent probability=\"100\">emoncrypt-fleet (Tsung)</user_agent>\n"
          "    </option>\n"
          "  </options>\n"
          "  <sessions>\n"
          "    <session name=\"emoncrypt-post\" probability=\"100\" type=\"ts_http\">\n"
          "      <setdynvars sourcetype=\"file\" fileid=\"corpus\" delimiter=\";\" order=\"iter\">\n"
          "        <var name=\"path\"/>\n"
          "        <var name=\"auth\"/>\n"
          "        <var name=\"body\"/>\n"
          "        <var name=\"ack\"/>\n"
          "      </setdynvars>\n"
          "      <request subst=\"true\">\n"
          "        <match do=\"log\" when=\"nomatch\" subst=\"true\" skip_headers=\"http\">^%%_ack%%$</match>\n"
          "        <http url=\"%%_path%%\" method=\"POST\" version=\"1.1\" content_type=\"aes128cbc\" contents=\"%%_body%%\">\n"
          "          <http_header name=\"Authorization\" value=\"%%_auth%%\"/>\n"
          "        </http>\n"
          "      </request>\n"
          "    </session>\n"
          "  </sessions>\n"
          "</tsung>\n",
          f);
    return ferror(f) ? -1 : 0;
}

/* ---- building the corpus, in chunks on every core -------------------------- */

#define CHUNK_LINES 2048u
#define MAX_THREADS 8u
#define IV_POOL 256u /* IVs drawn per call of the generator */

typedef struct {
    const ec_load_export_options *o;
    const char *prefix;
    unsigned devices;
    int64_t end_time;
    uint64_t posts_per_device;
    double interval;
} export_job;

typedef struct {
    const export_job *job;
    uint64_t first, count;  /* the lines of this chunk */
    char *plaintext;
    size_t pt_cap;
    uint8_t ivs[IV_POOL * EC_IV_LEN];
    unsigned ivs_left;
    ec_textbuf corpus, expected; /* this chunk's text of both files */
    uint64_t rows;
    ec_status st;
    char msg[160];
} chunk;

static unsigned export_threads(uint64_t requests)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned t = n < 1 ? 1u : n > (long)MAX_THREADS ? MAX_THREADS : (unsigned)n;
    uint64_t chunks = (requests + CHUNK_LINES - 1) / CHUNK_LINES;
    return chunks < t ? (unsigned)(chunks ? chunks : 1) : t;
}

/* One line: its request and the rows it stores.  The IV: the next 16 bytes
 * of a pool drawn from the CSPRNG 256 IVs at a time (one generator call,
 * and so one fork check, per 256 requests instead of per request). */
static int build_line(chunk *c, uint64_t i)
{
    const export_job *j = c->job;
    const ec_load_export_options *o = j->o;
    unsigned device = (unsigned)(i % j->devices);
    uint64_t k = i / j->devices;
    const ec_load_user *u = &o->users[device % o->n_users];
    long long when = (long long)j->end_time -
                     (long long)llround((double)(j->posts_per_device - 1 - k) * j->interval);
    size_t pt_len = ec_load_plaintext_(c->plaintext, c->pt_cap, device, k, o->bulk_rows, when);
    if (c->ivs_left == 0) {
        if (ec_random(c->ivs, sizeof c->ivs) != EC_OK)
            goto crypto;
        c->ivs_left = IV_POOL;
    }
    ec_request_params p;
    memset(&p, 0, sizeof p);
    p.profile = EC_PROFILE_AES128CBC;
    p.endpoint = o->bulk_rows ? EC_ENDPOINT_BULK : EC_ENDPOINT_POST;
    memcpy(p.key, u->key, EC_KEY_LEN);
    c->ivs_left--;
    memcpy(p.iv, c->ivs + (size_t)c->ivs_left * EC_IV_LEN, EC_IV_LEN);
    ec_wipe(c->ivs + (size_t)c->ivs_left * EC_IV_LEN, EC_IV_LEN);
    p.userid = u->userid;
    p.plaintext = (const uint8_t *)c->plaintext;
    p.plaintext_len = pt_len;
    ec_request req;
    ec_request_init(&req);
    ec_status bst = pt_len == 0 ? EC_E_ARG : ec_request_build(&p, &req);
    ec_wipe(p.key, sizeof p.key);
    if (bst != EC_OK) {
        ec_request_free(&req);
        goto crypto;
    }
    ec_textbuf_printf(&c->corpus, "%s%s?seq=%llu;%s;%s;%s\n", j->prefix,
              o->bulk_rows ? "/input/bulk" : "/input/post", (unsigned long long)i,
              req.authorization, req.body, req.ack);
    ec_request_free(&req);

    /* The rows this line stores, as the server's input code reads them. */
    ec_params params;
    ec_params_init(&params);
    ec_dataset rows;
    ec_dataset_init(&rows);
    ec_app_result app;
    memset(&app, 0, sizeof app);
    int ok = ec_params_parse_emoncms(&params, c->plaintext, pt_len) == EC_OK &&
             ec_app_run(o->bulk_rows ? EC_API_BULK : EC_API_POST, &params, NULL, when, 0, &rows,
                        &app) == EC_OK &&
             app.status == EC_OK;
    for (size_t r = 0; ok && r < rows.n; r++)
        ec_textbuf_printf(&c->expected, "%llu\t%s\t%lld\t%s\t%s\t%.17g\n", (unsigned long long)i,
                  u->userid, (long long)rows.rows[r].time, rows.rows[r].node, rows.rows[r].name,
                  rows.rows[r].value);
    c->rows += rows.n;
    ec_dataset_free(&rows);
    ec_params_free(&params);
    if (!ok) {
        snprintf(c->msg, sizeof c->msg, "request %llu does not parse as its own input",
                 (unsigned long long)i);
        c->st = EC_E_ARG;
        return -1;
    }
    if (c->corpus.failed || c->expected.failed) {
        snprintf(c->msg, sizeof c->msg, "out of memory");
        c->st = EC_E_NOMEM;
        return -1;
    }
    return 0;
crypto:
    snprintf(c->msg, sizeof c->msg, "could not build request %llu", (unsigned long long)i);
    c->st = EC_E_CRYPTO;
    return -1;
}

static void build_chunk(chunk *c)
{
    for (uint64_t i = c->first; i < c->first + c->count; i++)
        if (build_line(c, i) != 0)
            return;
}

static void *build_chunk_thread(void *arg)
{
    build_chunk(arg);
    return NULL;
}

ec_status ec_load_export_tsung(const ec_load_export_options *o, ec_load_export_result *r)
{
    memset(r, 0, sizeof *r);
    char *msg = r->message;
    const size_t cap = sizeof r->message;
    target t;
    if (!o || !o->dir || !o->url || !o->users || o->n_users == 0) {
        msgf(msg, cap, "a directory, a URL and at least one user are needed");
        return EC_E_ARG;
    }
    if (parse_target(o->url, &t) != 0) {
        msgf(msg, cap, "%s: expected http://HOST[:PORT][/PREFIX]", o->url);
        return EC_E_ARG;
    }
    unsigned devices = o->devices ? o->devices : (unsigned)o->n_users;
    uint64_t requests = o->requests ? o->requests : DEFAULT_REQUESTS;
    double interval = o->interval_s > 0 ? o->interval_s : DEFAULT_INTERVAL;
    double rate = o->rate > 0 ? o->rate : DEFAULT_RATE;
    if (o->n_users > EC_LOAD_MAX_DEVICES || devices > EC_LOAD_MAX_DEVICES ||
        requests > EC_LOAD_EXPORT_MAX_REQUESTS || o->bulk_rows > EC_LOAD_MAX_BULK_ROWS ||
        o->n_agents > EC_LOAD_EXPORT_MAX_AGENTS || !isfinite(interval) || !isfinite(rate) ||
        interval > 86400.0 || rate > 1e7) {
        msgf(msg, cap, "an option is out of range");
        return EC_E_ARG;
    }
    /* One node per device; an Emoncms account keeps NODE_LIMIT of them. */
    if ((devices + o->n_users - 1) / o->n_users > NODE_LIMIT) {
        msgf(msg, cap,
                 "%u devices over %zu users is more than %u nodes per user (an Emoncms "
                 "account's limit): give more users in the config",
                 devices, o->n_users, NODE_LIMIT);
        return EC_E_ARG;
    }
    if (o->bulk_rows > 0 && interval < (double)o->bulk_rows) {
        msgf(msg, cap,
                 "--interval %.3g s is shorter than --bulk-rows %u rows of one second: a "
                 "device's rows would not ascend",
                 interval, o->bulk_rows);
        return EC_E_ARG;
    }
    double duration = o->duration_s > 0 ? o->duration_s : (double)requests / rate;
    if (!isfinite(duration) || duration > 7 * 86400.0) {
        msgf(msg, cap, "the scenario would last longer than a week: raise --rate");
        return EC_E_ARG;
    }
    for (size_t i = 0; i < o->n_agents; i++) {
        const char *a = o->agents[i];
        const char *colon = strrchr(a, ':');
        if (!a[0] || a[0] == ':' || strlen(a) > 255 || strpbrk(a, "\"<>&'; ") ||
            (colon && (strspn(colon + 1, "0123456789") != strlen(colon + 1) || !colon[1] ||
                       strtoul(colon + 1, NULL, 10) < 1 || strtoul(colon + 1, NULL, 10) > 64))) {
            msgf(msg, cap, "--agent '%s': expected HOST or HOST:VMS (1 to 64)", a);
            return EC_E_ARG;
        }
    }
    for (size_t i = 0; i < o->n_users; i++)
        if (!o->users[i].userid || !o->users[i].userid[0] ||
            strspn(o->users[i].userid, "0123456789") != strlen(o->users[i].userid) ||
            strlen(o->users[i].userid) > 20) {
            msgf(msg, cap, "user %zu: the user id is not a decimal number", i + 1);
            return EC_E_ARG;
        }

    if (mkdir(o->dir, 0755) != 0 && errno != EEXIST) {
        msgf(msg, cap, "cannot create %s: %s", o->dir, strerror(errno));
        return EC_E_IO;
    }
    char *dir_abs = realpath(o->dir, NULL);
    if (!dir_abs) {
        msgf(msg, cap, "cannot use %s: %s", o->dir, strerror(errno));
        return EC_E_IO;
    }
    char corpus_abs[4200];
    snprintf(corpus_abs, sizeof corpus_abs, "%s/corpus.csv", dir_abs);
    free(dir_abs);

    double t0 = now_s();
    int64_t end_time = o->end_time ? o->end_time : (int64_t)time(NULL);
    uint64_t posts_per_device = (requests + devices - 1) / devices;
    const size_t pt_cap = 256 + (size_t)o->bulk_rows * 64;
    out_file corpus = {0}, expected = {0}, scenario = {0};
    ec_status st = EC_OK;
    int ok = 1;
    if (ok && (out_open(&corpus, o->dir, "corpus.csv", msg, cap) != 0 ||
               out_open(&expected, o->dir, "expected.tsv", msg, cap) != 0 ||
               out_open(&scenario, o->dir, "scenario.xml", msg, cap) != 0)) {
        ok = 0;
        st = EC_E_IO;
    }
    if (ok)
        fprintf(expected.f, "# emoncrypt fleet export: seq userid time node name value; "
                            "corpus lines %llu\n",
                (unsigned long long)requests);

    export_job job = {.o = o, .prefix = t.prefix, .devices = devices, .end_time = end_time,
                      .posts_per_device = posts_per_device, .interval = interval};
    chunk ch[MAX_THREADS];
    memset(ch, 0, sizeof ch);
    unsigned threads = export_threads(requests);
    for (unsigned k = 0; k < threads; k++) {
        ch[k].job = &job;
        ch[k].pt_cap = pt_cap;
        ch[k].plaintext = malloc(pt_cap);
        if (!ch[k].plaintext && ok) {
            msgf(msg, cap, "out of memory");
            st = EC_E_NOMEM;
            ok = 0;
        }
    }
    /* Rounds of one chunk per thread, built in parallel (the main thread
     * builds the first), then written in order: the files are the same
     * whatever the number of threads, bar the random IVs. */
    for (uint64_t next = 0; ok && next < requests;) {
        pthread_t tid[MAX_THREADS];
        int started[MAX_THREADS] = {0};
        unsigned used = 0;
        for (; used < threads && next < requests; used++) {
            ch[used].first = next;
            ch[used].count = requests - next < CHUNK_LINES ? requests - next : CHUNK_LINES;
            next += ch[used].count;
            ch[used].corpus.len = ch[used].expected.len = 0;
            ch[used].rows = 0;
            ch[used].st = EC_OK;
        }
        for (unsigned k = 1; k < used; k++)
            started[k] = pthread_create(&tid[k], NULL, build_chunk_thread, &ch[k]) == 0;
        build_chunk(&ch[0]);
        for (unsigned k = 1; k < used; k++) {
            if (started[k])
                pthread_join(tid[k], NULL);
            else
                build_chunk(&ch[k]);
        }
        for (unsigned k = 0; ok && k < used; k++) {
            if (ch[k].st != EC_OK) {
                msgf(msg, cap, "%s", ch[k].msg);
                st = ch[k].st;
                ok = 0;
                break;
            }
            if (fwrite(ch[k].corpus.data, 1, ch[k].corpus.len, corpus.f) != ch[k].corpus.len ||
                fwrite(ch[k].expected.data, 1, ch[k].expected.len, expected.f) !=
                    ch[k].expected.len) {
                msgf(msg, cap, "cannot write to %s: %s", o->dir, strerror(errno));
                st = EC_E_IO;
                ok = 0;
                break;
            }
            r->rows += ch[k].rows;
            r->requests = ch[k].first + ch[k].count;
        }
    }
    for (unsigned k = 0; k < threads; k++) {
        ec_wipe(ch[k].ivs, sizeof ch[k].ivs);
        free(ch[k].plaintext);
        free(ch[k].corpus.data);
        free(ch[k].expected.data);
    }
    if (ok && write_scenario(scenario.f, o, &t, corpus_abs, requests, rate, duration) != 0) {
        msgf(msg, cap, "cannot write %s", scenario.tmp);
        st = EC_E_IO;
        ok = 0;
    }
    int c1 = out_close(&corpus, ok, msg, cap);
    int c2 = out_close(&expected, ok && c1 == 0, msg, cap);
    int c3 = out_close(&scenario, ok && c1 == 0 && c2 == 0, msg, cap);
    if (ok && (c1 || c2 || c3)) {
        st = EC_E_IO;
        ok = 0;
    }
    if (!ok) {
        /* Nothing half-written stays: a later check must not read a stub. */
        if (c1 == 0)
            unlink(corpus.final);
        if (c2 == 0)
            unlink(expected.final);
        r->requests = 0;
    }
    r->seconds = now_s() - t0;
    return ok ? EC_OK : st;
}

/* ---- the check --------------------------------------------------------- */

typedef struct {
    char *text; /* "userid\ttime\tnode\tname\tvalue" (value as %.17g) */
    uint64_t seq;
} row_key;

static int row_cmp(const void *a, const void *b)
{
    return strcmp(((const row_key *)a)->text, ((const row_key *)b)->text);
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    void *v;
    size_t n, cap, size;
} vec;

static void *vec_push(vec *v)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 1024;
        void *nv = realloc(v->v, nc * v->size);
        if (!nv)
            return NULL;
        v->v = nv;
        v->cap = nc;
    }
    return (char *)v->v + v->size * v->n++;
}

static void free_rows(vec *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(((row_key *)v->v)[i].text);
    free(v->v);
    v->v = NULL;
    v->n = v->cap = 0;
}

static char *join_row(const char *userid, long long time, const char *node, const char *name,
                      double value)
{
    int n = snprintf(NULL, 0, "%s\t%lld\t%s\t%s\t%.17g", userid, time, node, name, value);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (s)
        snprintf(s, (size_t)n + 1, "%s\t%lld\t%s\t%s\t%.17g", userid, time, node, name, value);
    return s;
}

/* Field i (0-based) of a ';'-separated line, into out. */
static int field(const char *line, unsigned i, char *out, size_t cap)
{
    const char *p = line;
    for (unsigned k = 0; k < i; k++) {
        p = strchr(p, ';');
        if (!p)
            return -1;
        p++;
    }
    size_t n = strcspn(p, ";\r\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
}

static int seq_of_url(const char *url, uint64_t *seq)
{
    const char *q = strstr(url, "?seq=");
    if (!q)
        q = strstr(url, "&seq=");
    if (!q)
        return -1;
    char *end = NULL;
    unsigned long long v = strtoull(q + 5, &end, 10);
    if (end == q + 5)
        return -1;
    *seq = v;
    return 0;
}

static int in_sorted(const uint64_t *a, size_t n, uint64_t x)
{
    return bsearch(&x, a, n, sizeof *a, u64_cmp) != NULL;
}

/* Tsung's statistics: tsung.log holds a block of "stats: NAME ..." lines
 * every 10 s, a counter as "NAME COUNT TOTAL" (TOTAL: so far, this block
 * included), a sample as "NAME COUNT MEAN STDDEV MAX MIN MEAN_BEFORE
 * COUNT_BEFORE" (the block's count, then the totals before it: seen in
 * Tsung 1.7.0's logs).  A name's total is read from its last line.  0, or
 * -1 when an explicitly named file is missing. */
static int read_tsung_log(const ec_load_check_options *o, ec_load_check_result *r)
{
    char path[4200];
    const char *p = o->tsung_log_path;
    if (!p) {
        const char *slash = strrchr(o->dump_path, '/');
        int n = slash ? (int)(slash - o->dump_path) + 1 : 0;
        snprintf(path, sizeof path, "%.*stsung.log", n, o->dump_path);
        p = path;
    }
    FILE *f = fopen(p, "r");
    if (!f) {
        if (!o->tsung_log_path)
            return 0;
        msgf(r->message, sizeof r->message, "cannot open %s: %s", p, strerror(errno));
        return -1;
    }
    /* The totals of every counter seen, by name (a few dozen at most). */
    struct { char name[64]; uint64_t total; } seen[128];
    size_t n_seen = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, "stats: ", 7) != 0)
            continue;
        char *name = line + 7;
        size_t nl = strcspn(name, " \n");
        if (nl == 0 || nl >= sizeof seen[0].name || name[0] == '{')
            continue;
        double v[8];
        int nv = 0;
        for (char *q = name + nl; nv < 8;) {
            char *end = NULL;
            v[nv] = strtod(q, &end);
            if (end == q)
                break;
            nv++;
            q = end;
        }
        if (nv != 2 && nv != 7)
            continue;
        uint64_t total = (uint64_t)(nv == 2 ? v[1] : v[0] + v[6]);
        size_t i = 0;
        while (i < n_seen && (strlen(seen[i].name) != nl || strncmp(seen[i].name, name, nl) != 0))
            i++;
        if (i == n_seen) {
            if (n_seen == sizeof seen / sizeof seen[0])
                continue;
            memcpy(seen[i].name, name, nl);
            seen[i].name[nl] = 0;
            n_seen++;
        }
        seen[i].total = total;
    }
    free(line);
    fclose(f);
    for (size_t i = 0; i < n_seen; i++) {
        const char *nm = seen[i].name;
        if (strcmp(nm, "request") == 0)
            r->tsung_requests = seen[i].total;
        else if (strcmp(nm, "match") == 0)
            r->tsung_match = seen[i].total;
        else if (strcmp(nm, "nomatch") == 0)
            r->tsung_nomatch = seen[i].total;
        else if (strncmp(nm, "error_", 6) == 0)
            r->tsung_errors += seen[i].total;
        else if (strlen(nm) == 3 && strspn(nm, "0123456789") == 3 && strcmp(nm, "200") != 0)
            r->tsung_not_200 += seen[i].total;
    }
    r->tsung_checked = 1;
    return 0;
}

ec_status ec_load_check_tsung(const ec_load_check_options *o, ec_load_check_result *r)
{
    memset(r, 0, sizeof *r);
    char *msg = r->message;
    const size_t cap = sizeof r->message;
    if (!o || !o->dir || !o->dump_path) {
        msgf(msg, cap, "the export's directory and Tsung's dump are needed");
        return EC_E_ARG;
    }
    ec_status st = EC_OK;
    vec acked = {.size = sizeof(uint64_t)}, sent = {.size = sizeof(uint64_t)};
    vec lat = {.size = sizeof(double)};
    vec want = {.size = sizeof(row_key)}, have = {.size = sizeof(row_key)};
    char *line = NULL;
    size_t line_cap = 0;
    FILE *f = fopen(o->dump_path, "r");
    if (!f) {
        msgf(msg, cap, "cannot open %s: %s", o->dump_path, strerror(errno));
        return EC_E_IO;
    }
    /* #date;pid;id;http method;host;URL;HTTP status;size;duration;transaction;match;error;tag */
    double first = 0, last = 0, sum = 0;
    unsigned long lineno = 0;
    while (getline(&line, &line_cap, f) > 0) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char date[64], url[512], status[16], dur[64], match[64], err[128];
        uint64_t seq;
        if (field(line, 0, date, sizeof date) || field(line, 5, url, sizeof url) ||
            field(line, 6, status, sizeof status) || field(line, 8, dur, sizeof dur) ||
            field(line, 10, match, sizeof match) || field(line, 11, err, sizeof err) ||
            seq_of_url(url, &seq) != 0) {
            msgf(msg, cap, "%s:%lu: not a line of Tsung's protocol dump of a fleet export",
                     o->dump_path, lineno);
            st = EC_E_JSON;
            goto out;
        }
        double d = strtod(date, NULL), ms = strtod(dur, NULL);
        if (r->answered == 0 || d < first)
            first = d;
        if (d > last)
            last = d;
        double *lp = vec_push(&lat);
        uint64_t *sp = vec_push(&sent);
        if (!lp || !sp) {
            st = EC_E_NOMEM;
            goto out;
        }
        *lp = ms;
        *sp = seq;
        sum += ms;
        r->answered++;
        /* Tsung 1.7 writes "nomatch" in the match column when the answer
         * was not the ack and leaves it empty when it was (seen in a run);
         * Tsung's own match count (tsung.log) is compared with these below. */
        if (strcmp(status, "200") == 0 && strcmp(match, "nomatch") != 0 && err[0] == 0) {
            uint64_t *ap = vec_push(&acked);
            if (!ap) {
                st = EC_E_NOMEM;
                goto out;
            }
            *ap = seq;
            r->acked++;
        } else {
            r->not_acked++;
        }
    }
    fclose(f);
    f = NULL;
    if (r->answered == 0) {
        msgf(msg, cap, "%s holds no request: did Tsung run the scenario?", o->dump_path);
        st = EC_E_JSON;
        goto out;
    }
    r->elapsed_s = last - first;
    r->rate = r->elapsed_s > 0 ? (double)r->answered / r->elapsed_s : 0;
    qsort(lat.v, lat.n, sizeof(double), dbl_cmp);
    const double *L = lat.v;
    r->p50_ms = L[(size_t)(0.50 * (double)(lat.n - 1))];
    r->p90_ms = L[(size_t)(0.90 * (double)(lat.n - 1))];
    r->p99_ms = L[(size_t)(0.99 * (double)(lat.n - 1))];
    r->max_ms = L[lat.n - 1];
    r->mean_ms = sum / (double)lat.n;
    qsort(sent.v, sent.n, sizeof(uint64_t), u64_cmp);
    for (size_t i = 1; i < sent.n; i++)
        if (((uint64_t *)sent.v)[i] == ((uint64_t *)sent.v)[i - 1])
            r->duplicate_sends++;
    qsort(acked.v, acked.n, sizeof(uint64_t), u64_cmp);

    /* The rows the acked lines carry. */
    char path[4200];
    snprintf(path, sizeof path, "%s/expected.tsv", o->dir);
    f = fopen(path, "r");
    if (!f) {
        msgf(msg, cap, "cannot open %s: %s", path, strerror(errno));
        st = EC_E_IO;
        goto out;
    }
    lineno = 0;
    while (getline(&line, &line_cap, f) > 0) {
        lineno++;
        if (line[0] == '#') {
            const char *c = strstr(line, "corpus lines ");
            if (c)
                r->corpus_lines = strtoull(c + 13, NULL, 10);
            continue;
        }
        line[strcspn(line, "\n")] = 0;
        char *tab = strchr(line, '\t');
        char *end = NULL;
        unsigned long long seq = strtoull(line, &end, 10);
        if (!tab || end != tab) {
            msgf(msg, cap, "%s:%lu: not a line of a fleet export", path, lineno);
            st = EC_E_JSON;
            goto out;
        }
        if (!in_sorted(acked.v, acked.n, seq))
            continue;
        row_key *k = vec_push(&want);
        if (!k || !(k->text = strdup(tab + 1))) {
            if (k)
                want.n--;
            st = EC_E_NOMEM;
            goto out;
        }
        k->seq = seq;
    }
    fclose(f);
    f = NULL;
    r->rows_expected = want.n;

    if (o->store_path) {
        f = fopen(o->store_path, "r");
        if (!f) {
            msgf(msg, cap, "cannot open %s: %s", o->store_path, strerror(errno));
            st = EC_E_IO;
            goto out;
        }
        lineno = 0;
        while (getline(&line, &line_cap, f) > 0) {
            lineno++;
            json_error_t jerr;
            json_t *j = json_loads(line, 0, &jerr);
            json_t *value = j ? json_object_get(j, "value") : NULL;
            const char *uid = j ? json_string_value(json_object_get(j, "userid")) : NULL;
            const char *node = j ? json_string_value(json_object_get(j, "node")) : NULL;
            const char *name = j ? json_string_value(json_object_get(j, "name")) : NULL;
            json_t *time_j = j ? json_object_get(j, "time") : NULL;
            if (!uid || !node || !name || !json_is_integer(time_j) ||
                !(json_is_number(value) || json_is_null(value))) {
                json_decref(j);
                msgf(msg, cap, "%s:%lu: not a row of emoncrypt serve's store",
                         o->store_path, lineno);
                st = EC_E_JSON;
                goto out;
            }
            row_key *k = vec_push(&have);
            if (!k) {
                json_decref(j);
                st = EC_E_NOMEM;
                goto out;
            }
            k->seq = 0;
            k->text = join_row(uid, (long long)json_integer_value(time_j), node, name,
                               json_is_null(value) ? 0.0 : json_number_value(value));
            json_decref(j);
            if (!k->text) {
                have.n--;
                st = EC_E_NOMEM;
                goto out;
            }
        }
        fclose(f);
        f = NULL;
        r->store_checked = 1;
        r->rows_stored = have.n;
        /* Merge the two sorted lists: equal keys pair up; what is left over
         * on the expected side is lost, on the stored side duplicated (when
         * the key was expected) or unexpected. */
        qsort(want.v, want.n, sizeof(row_key), row_cmp);
        qsort(have.v, have.n, sizeof(row_key), row_cmp);
        const row_key *W = want.v, *H = have.v;
        size_t i = 0, k = 0;
        while (i < want.n || k < have.n) {
            int c = i == want.n ? 1 : k == have.n ? -1 : strcmp(W[i].text, H[k].text);
            if (c == 0) {
                i++;
                k++;
            } else if (c < 0) {
                r->rows_lost++;
                i++;
            } else {
                if (k > 0 && strcmp(H[k].text, H[k - 1].text) == 0)
                    r->rows_duplicated++;
                else
                    r->rows_unexpected++;
                k++;
            }
        }
    }

    if (read_tsung_log(o, r) != 0) {
        st = EC_E_IO;
        goto out;
    }

    if (o->serve_log_path) {
        f = fopen(o->serve_log_path, "r");
        if (!f) {
            msgf(msg, cap, "cannot open %s: %s", o->serve_log_path, strerror(errno));
            st = EC_E_IO;
            goto out;
        }
        char needle[64];
        snprintf(needle, sizeof needle, " %s", ec_status_name(EC_F_REPLAY));
        while (getline(&line, &line_cap, f) > 0)
            if (strstr(line, needle))
                r->replays++;
        fclose(f);
        f = NULL;
        r->replays_checked = 1;
    }
out:
    if (f)
        fclose(f);
    free(line);
    free(acked.v);
    free(sent.v);
    free(lat.v);
    free_rows(&want);
    free_rows(&have);
    return st;
}
