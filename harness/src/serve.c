/* see serve.h */
#include "emoncrypt/serve.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "emoncrypt/httpd.h"
#include "emoncrypt/report.h"
#include "protocol_internal.h"

#define DEFAULT_MAX_BODY (256 * 1024)
#define DEFAULT_IDLE_TIMEOUT_S 1
#define DEFAULT_REPLAY_CACHE 4096
#define ROWS_PATH "/emoncrypt/rows"

#define DEFAULT_ROWS_KEPT 4096
#define ROW_INLINE_TEXT 40

/* The request log is kept in a buffer and written out when it fills, by
 * httpd's timer thread at least every LOG_FLUSH_MS, and at stop: a write
 * and a flush per line cost a syscall or three per request. */
#define LOG_BUF_SIZE (64 * 1024)
#define LOG_FLUSH_MS 250

/* A request waiting for the sync that covers its rows (group commit). */
typedef struct store_waiter {
    uint64_t seq;                   /* its rows' place in the store's order */
    int done;                       /* 0 waiting, 1 synced, -1 not (err) */
    int err;
    struct store_waiter *next;
    pthread_cond_t wake;            /* signalled when done, or to sync next */
} store_waiter;

/* One stored row, kept in memory as well so the read endpoints can answer
 * without re-reading the file.  The three strings are laid out as
 * "userid\0node\0name\0" inside the row when they fit (the usual case),
 * so the ring, allocated once, is all the memory rows take; longer ones
 * get one allocation of their own. */
typedef struct {
    int64_t time;
    double value;
    int is_null;
    char *heap_text;            /* owned, or NULL when in inline_text */
    const char *userid;         /* into inline_text or heap_text */
    const char *node;
    const char *name;
    char inline_text[ROW_INLINE_TEXT];
} stored_row;

struct ec_serve {
    ec_httpd *httpd;
    const ec_serve_users *users;
    const ec_serve_mutant *mutant;
    int strict;
    int replay_cache_on;
    int rows_endpoint;
    FILE *log;
    /* Every user's key in hex, for the log's redaction (wiped at stop):
     * a device may put its key in the URL (?apikey=) or anywhere else. */
    char (*key_hex)[2 * EC_KEY_LEN + 1];
    const char **secrets;
    size_t nsecrets;
    pthread_mutex_t log_lock;       /* guards the three below */
    char *log_buf;                  /* LOG_BUF_SIZE bytes, log_len used */
    size_t log_len;
    struct timespec log_flushed;    /* the timer's last flush (monotonic) */

    pthread_mutex_t lock;           /* guards everything below */
    int store_fd;                   /* -1 = memory only */
    off_t store_size;               /* end of the last complete row written */
    off_t store_synced;             /* end of the last row known on disk */
    ssize_t (*store_write)(int, const void *, size_t);
    int (*store_fsync)(int);
    /* Group commit: requests append their rows in turn, then one of them
     * syncs for all that were written (the lock is not held during the
     * sync, so more are written meanwhile, for the next one). */
    uint64_t store_seq;             /* requests written so far */
    int store_syncing;              /* a request is in store_fsync */
    store_waiter *waiters, **waiters_tail; /* oldest first */
    stored_row *rows;               /* ring of the newest rows_cap rows */
    size_t rows_n, rows_cap, rows_oldest;
    uint64_t rows_total;            /* every row stored since start */
    uint8_t (*replay)[EC_SHA256_LEN]; /* ring of request digests */
    size_t replay_cap, replay_n, replay_next;
    uint64_t requests, accepted;
};

/* ---- users --------------------------------------------------------------- */

static int userid_is_decimal(const char *s)
{
    if (!s || !*s || strlen(s) >= sizeof(((ec_serve_user *)0)->userid))
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* see serve.h */
ec_status ec_serve_users_add(ec_serve_users *u, const char *userid,
                             const char *apikey_hex, const char *username)
{
    if (!u || !userid_is_decimal(userid) || !apikey_hex)
        return EC_E_ARG;
    if (username && strlen(username) >= sizeof(u->items[0].username))
        return EC_E_ARG;
    ec_serve_user user;
    memset(&user, 0, sizeof user);
    ec_status st = ec_key_from_hex(apikey_hex, user.key);
    if (st != EC_OK)
        return st;
    snprintf(user.userid, sizeof user.userid, "%s", userid);
    if (username)
        snprintf(user.username, sizeof user.username, "%s", username);
    ec_serve_user *grown = realloc(u->items, (u->n + 1) * sizeof *grown);
    if (!grown) {
        ec_wipe(&user, sizeof user);
        return EC_E_NOMEM;
    }
    u->items = grown;
    u->items[u->n++] = user;
    ec_wipe(&user, sizeof user);
    return EC_OK;
}

static void set_err(char *errbuf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *errbuf, size_t size, const char *fmt, ...)
{
    if (!errbuf || size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, size, fmt, ap);
    va_end(ap);
}

/* see serve.h */
ec_status ec_serve_users_load(ec_serve_users *u, const char *path,
                              char *errbuf, size_t errbuf_size)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        int missing = access(path, R_OK) != 0;
        set_err(errbuf, errbuf_size, "%s: %s", path,
                missing ? strerror(errno) : jerr.text);
        return missing ? EC_E_IO : EC_E_JSON;
    }
    ec_status st = EC_OK;
    json_t *list = json_object_get(root, "users");
    if (!json_is_array(list) || json_array_size(list) == 0) {
        set_err(errbuf, errbuf_size, "%s: expected {\"users\": [{\"userid\": N, \"apikey\": \"HEX\"}, …]}", path);
        st = EC_E_JSON;
        goto out;
    }
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        json_t *jid = json_object_get(item, "userid");
        json_t *jkey = json_object_get(item, "apikey");
        json_t *jname = json_object_get(item, "username");
        char idbuf[32];
        if (json_is_integer(jid) && json_integer_value(jid) >= 0)
            snprintf(idbuf, sizeof idbuf, "%lld", (long long)json_integer_value(jid));
        else if (json_is_string(jid))
            snprintf(idbuf, sizeof idbuf, "%s", json_string_value(jid));
        else {
            set_err(errbuf, errbuf_size, "%s: users[%zu]: \"userid\" must be a number", path, i);
            st = EC_E_JSON;
            goto out;
        }
        if (!json_is_string(jkey)) {
            set_err(errbuf, errbuf_size, "%s: users[%zu]: \"apikey\" must be a string of 32 hex digits", path, i);
            st = EC_E_JSON;
            goto out;
        }
        if (jname && !json_is_string(jname)) {
            set_err(errbuf, errbuf_size, "%s: users[%zu]: \"username\" must be a string", path, i);
            st = EC_E_JSON;
            goto out;
        }
        st = ec_serve_users_add(u, idbuf, json_string_value(jkey),
                                jname ? json_string_value(jname) : NULL);
        if (st != EC_OK) {
            set_err(errbuf, errbuf_size, "%s: users[%zu]: %s", path, i,
                    st == EC_E_KEY ? "\"apikey\" is not 32 hex digits"
                                   : "\"userid\" is not a plain decimal number");
            goto out;
        }
    }
out:
    json_decref(root);
    return st;
}

/* see serve.h */
void ec_serve_users_free(ec_serve_users *u)
{
    if (!u)
        return;
    if (u->items)
        ec_wipe(u->items, u->n * sizeof *u->items);
    free(u->items);
    u->items = NULL;
    u->n = 0;
}

/* see serve.h */
int ec_serve_users_lookup(void *ctx, const char *userid, const char *username,
                          uint8_t key[EC_KEY_LEN])
{
    const ec_serve_users *u = ctx;
    if (!u)
        return -1;
    for (size_t i = 0; i < u->n; i++) {
        const ec_serve_user *user = &u->items[i];
        if (userid) {
            /* Emoncms's get_apikey_write() does $userid = (int)$userid */
            if (ec_php_intval(userid) != ec_php_intval(user->userid))
                continue;
        } else if (!username || !user->username[0] || strcmp(username, user->username) != 0) {
            continue;
        }
        memcpy(key, user->key, EC_KEY_LEN);
        return 0;
    }
    return -1;
}

/* ---- the log ------------------------------------------------------------- */

/* Write the buffered lines out.  Called with s->log_lock held. */
static void log_flush_locked(ec_serve *s)
{
    if (s->log_len)
        fwrite(s->log_buf, 1, s->log_len, s->log);
    s->log_len = 0;
    fflush(s->log);
}

/* One line (or more) into the log, redacted as every line of it is. */
static void log_printf(ec_serve *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_printf(ec_serve *s, const char *fmt, ...)
{
    if (!s->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    size_t len;
    char *line = ec_redact_vasprintf(&len, s->secrets, s->nsecrets, fmt, ap);
    va_end(ap);
    /* Out of memory: say so rather than print what could not be redacted. */
    static const char oom[] = "[line not shown: out of memory while redacting]\n";
    const char *text = line ? line : oom;
    if (!line)
        len = sizeof oom - 1;
    pthread_mutex_lock(&s->log_lock);
    if (s->log_len + len > LOG_BUF_SIZE)
        log_flush_locked(s);
    if (len > LOG_BUF_SIZE) {
        fwrite(text, 1, len, s->log);
        fflush(s->log);
    } else {
        memcpy(s->log_buf + s->log_len, text, len);
        s->log_len += len;
    }
    pthread_mutex_unlock(&s->log_lock);
    free(line);
}

/* httpd's timer (every ~50 ms): flush what is LOG_FLUSH_MS old at most. */
static void on_tick(void *ctx)
{
    ec_serve *s = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (long)(now.tv_sec - s->log_flushed.tv_sec) * 1000 +
              (now.tv_nsec - s->log_flushed.tv_nsec) / 1000000;
    if (ms < LOG_FLUSH_MS)
        return;
    s->log_flushed = now;  /* only this thread reads or writes it */
    pthread_mutex_lock(&s->log_lock);
    if (s->log_len)
        log_flush_locked(s);
    pthread_mutex_unlock(&s->log_lock);
}

/* ---- the store ----------------------------------------------------------- */

static int keep_row(ec_serve *s, const char *userid, int64_t time, const char *node,
                    const char *name, double value, int is_null);

/* Cut the store back to s->store_size (its last complete row after a
 * failed write, its last synced row after a failed sync). */
static void store_cut_back(ec_serve *s)
{
    if (ftruncate(s->store_fd, s->store_size) != 0)
        log_printf(s, "store: cannot cut a failed write back (%s)\n", strerror(errno));
}

/* A thread waits for one request's sync at a time: its place in the list
 * of waiters. */
static _Thread_local store_waiter this_thread_waiter = {.wake = PTHREAD_COND_INITIALIZER};

/* Sync the store for every request written so far, as their leader: the
 * lock is let go during the sync.  A failed sync takes back every row not
 * known to be on disk (also those written during it): each of their
 * requests gets a 500, the devices resend.  Called with s->lock held. */
static void store_sync(ec_serve *s)
{
    s->store_syncing = 1;
    uint64_t upto = s->store_seq;
    off_t end = s->store_size;
    pthread_mutex_unlock(&s->lock);
    int failed = s->store_fsync(s->store_fd) != 0;
    int e = errno;
    pthread_mutex_lock(&s->lock);
    s->store_syncing = 0;
    if (failed) {
        s->store_size = s->store_synced;
        store_cut_back(s);
    } else {
        s->store_synced = end;
    }
    while (s->waiters && (failed || s->waiters->seq <= upto)) {
        store_waiter *w = s->waiters;
        w->done = failed ? -1 : 1;
        w->err = e;
        s->waiters = w->next;
        pthread_cond_signal(&w->wake);
    }
    /* Only those it covered are woken (a broadcast woke every waiter on
     * every sync), and the oldest of the others, to sync next. */
    if (s->waiters)
        pthread_cond_signal(&s->waiters->wake);
    else
        s->waiters_tail = &s->waiters;
}

/* Append the accepted rows to the JSONL file, wait for a sync that covers
 * them (store_sync), then keep them in memory.  Called with s->lock held
 * (let go while waiting).  Returns 0, or -1 when the file could not be
 * written or synced (then nothing is kept and the request is not acked). */
static int store_rows(ec_serve *s, const char *userid, const ec_dataset *rows)
{
    if (rows->n == 0)
        return 0;
    if (s->store_fd >= 0) {
        char *text = NULL;
        size_t text_len = 0;
        FILE *mem = open_memstream(&text, &text_len);
        if (!mem)
            return -1;
        for (size_t i = 0; i < rows->n; i++) {
            const ec_row *r = &rows->rows[i];
            json_t *line = json_object();
            json_object_set_new(line, "userid", json_string(userid));
            json_object_set_new(line, "time", json_integer(r->time));
            json_object_set_new(line, "node", json_string(r->node ? r->node : ""));
            json_object_set_new(line, "name", json_string(r->name ? r->name : ""));
            json_object_set_new(line, "value", r->is_null ? json_null() : json_real(r->value));
            char *dump = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(line);
            if (!dump) {
                fclose(mem);
                free(text);
                return -1;
            }
            fprintf(mem, "%s\n", dump);
            free(dump);
        }
        fclose(mem);
        size_t off = 0;
        while (off < text_len) {
            ssize_t w = s->store_write(s->store_fd, text + off, text_len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                int e = w == 0 ? ENOSPC : errno;
                free(text);
                store_cut_back(s);   /* no torn row for the next one to land on */
                errno = e;
                return -1;
            }
            off += (size_t)w;
        }
        free(text);
        s->store_size += (off_t)text_len;
        /* The ack promises the rows are durable: wait for the sync that
         * covers them, or be the one who syncs. */
        store_waiter *me = &this_thread_waiter;
        me->seq = ++s->store_seq;
        me->done = 0;
        me->next = NULL;
        *s->waiters_tail = me;
        s->waiters_tail = &me->next;
        while (!me->done) {
            if (!s->store_syncing)
                store_sync(s);
            else
                pthread_cond_wait(&me->wake, &s->lock);
        }
        if (me->done < 0) {
            errno = me->err;
            return -1;
        }
    }
    for (size_t i = 0; i < rows->n; i++) {
        const ec_row *r = &rows->rows[i];
        if (keep_row(s, userid, r->time, r->node, r->name, r->value, r->is_null) != 0)
            return -1;
    }
    return 0;
}

/* Only the newest rows_cap rows stay in memory: the read endpoints are
 * for a suite reading back what it just sent, and memory must not grow
 * with every request of a long run.  The oldest row makes room. */
static int keep_row(ec_serve *s, const char *userid, int64_t time, const char *node,
                    const char *name, double value, int is_null)
{
    node = node ? node : "";
    name = name ? name : "";
    size_t id_len = strlen(userid), node_len = strlen(node), name_len = strlen(name);
    size_t text_len = id_len + node_len + name_len + 3;
    char *heap_text = NULL;
    if (text_len > ROW_INLINE_TEXT && !(heap_text = malloc(text_len)))
        return -1;
    stored_row *d;
    if (s->rows_n < s->rows_cap) {
        d = &s->rows[(s->rows_oldest + s->rows_n) % s->rows_cap];
        s->rows_n++;
    } else {
        d = &s->rows[s->rows_oldest];
        s->rows_oldest = (s->rows_oldest + 1) % s->rows_cap;
        free(d->heap_text);
    }
    char *text = heap_text ? heap_text : d->inline_text;
    memcpy(text, userid, id_len + 1);
    memcpy(text + id_len + 1, node, node_len + 1);
    memcpy(text + id_len + 1 + node_len + 1, name, name_len + 1);
    d->heap_text = heap_text;
    d->time = time;
    d->value = value;
    d->is_null = is_null;
    d->userid = text;
    d->node = text + id_len + 1;
    d->name = text + id_len + 1 + node_len + 1;
    s->rows_total++;
    return 0;
}

/* The i-th row in memory, oldest first (i < rows_n).  Called with s->lock held. */
static const stored_row *row_at(const ec_serve *s, size_t i)
{
    return &s->rows[(s->rows_oldest + i) % s->rows_cap];
}

/* ---- the replay cache (strict) ------------------------------------------- */

/* Digest of what makes a request replayable: the user and the exact body
 * (the IV is inside it, so a resend with a fresh IV is a new request). */
static void request_digest(const char *userid, const uint8_t *body, size_t n,
                           uint8_t out[EC_SHA256_LEN])
{
    size_t id_len = strlen(userid);
    uint8_t *buf = malloc(id_len + 1 + n);
    if (!buf) {
        memset(out, 0, EC_SHA256_LEN);
        return;
    }
    memcpy(buf, userid, id_len);
    buf[id_len] = 0;
    if (n)
        memcpy(buf + id_len + 1, body, n);
    ec_sha256(buf, id_len + 1 + n, out);
    free(buf);
}

/* 1 when seen before; otherwise remembers it.  Called with s->lock held. */
static int replay_seen(ec_serve *s, const uint8_t digest[EC_SHA256_LEN])
{
    for (size_t i = 0; i < s->replay_n; i++)
        if (memcmp(s->replay[i], digest, EC_SHA256_LEN) == 0)
            return 1;
    memcpy(s->replay[s->replay_next], digest, EC_SHA256_LEN);
    s->replay_next = (s->replay_next + 1) % s->replay_cap;
    if (s->replay_n < s->replay_cap)
        s->replay_n++;
    return 0;
}

/* ---- answering ----------------------------------------------------------- */

static const char *find_header(const ec_httpd_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

/* A header value without the whitespace around it, which HTTP says is not
 * part of the value (RFC 9110 §5.5); Apache hands PHP the same.  Copied
 * into buf; NULL stays NULL. */
static const char *trim_value(const char *v, char *buf, size_t cap)
{
    if (!v)
        return NULL;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, v, n);
    buf[n] = 0;
    return buf;
}

static int is_loopback(const char *addr)
{
    return addr && (strncmp(addr, "127.", 4) == 0 || strncmp(addr, "[::1]", 5) == 0 ||
                    strncmp(addr, "::1", 3) == 0);
}

static void reply_text(ec_httpd_reply *reply, unsigned status, const char *ctype,
                       const char *body, size_t len)
{
    ec_httpd_reply_status(reply, status);
    if (ctype && *ctype)
        ec_httpd_reply_header(reply, "Content-Type", ctype);
    ec_httpd_reply_body(reply, body, len);
}

/* Value of key in a raw query string (no decoding needed for our keys). */
static int query_value(const char *query, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    const char *p = query;
    while (p && *p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t vlen = len - klen - 1;
            if (vlen >= cap)
                return 0;
            memcpy(out, p + klen + 1, vlen);
            out[vlen] = 0;
            return 1;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* GET /emoncrypt/rows?node=N[&userid=U]: [[time, node, name, value|null, userid], …] */
static void answer_rows(ec_serve *s, const ec_httpd_request *req, ec_httpd_reply *reply)
{
    if (!is_loopback(req->remote_addr)) {
        reply_text(reply, 403, "text/plain", "loopback only", 13);
        return;
    }
    char node[128] = "", userid[32] = "";
    int want_node = query_value(req->query, "node", node, sizeof node);
    int want_user = query_value(req->query, "userid", userid, sizeof userid);
    json_t *arr = json_array();
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->rows_n; i++) {
        const stored_row *r = row_at(s, i);
        if (want_node && strcmp(r->node, node) != 0)
            continue;
        if (want_user && strcmp(r->userid, userid) != 0)
            continue;
        json_array_append_new(arr, json_pack("[I s s o s]", (json_int_t)r->time, r->node, r->name,
                                             r->is_null ? json_null() : json_real(r->value),
                                             r->userid));
    }
    pthread_mutex_unlock(&s->lock);
    char *dump = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!dump) {
        reply_text(reply, 500, "text/plain", "out of memory", 13);
        return;
    }
    reply_text(reply, 200, "application/json", dump, strlen(dump));
    free(dump);
}

/* GET /input/get/NODE?apikey=KEY, as Emoncms answers it: each input's
 * last value, {"name": {"time": T, "value": V}, …}.  serve has no read
 * keys: KEY is the user's write key.  Loopback clients only. */
static void answer_input_get(ec_serve *s, const ec_httpd_request *req, ec_httpd_reply *reply)
{
    if (!is_loopback(req->remote_addr)) {
        reply_text(reply, 403, "text/plain", "loopback only", 13);
        return;
    }
    char apikey[80] = "";
    uint8_t key[EC_KEY_LEN];
    const ec_serve_user *user = NULL;
    if (query_value(req->query, "apikey", apikey, sizeof apikey) && ec_key_from_hex(apikey, key) == EC_OK) {
        for (size_t i = 0; i < s->users->n; i++)
            if (ec_ct_equal(s->users->items[i].key, EC_KEY_LEN, key, EC_KEY_LEN))
                user = &s->users->items[i];
        ec_wipe(key, sizeof key);
    }
    ec_wipe(apikey, sizeof apikey);
    if (!user) {
        reply_text(reply, 401, "text/plain", "Invalid API key", 15);
        return;
    }
    const char *node = req->path + strlen("/input/get/");
    json_t *obj = json_object();
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->rows_n; i++) {
        const stored_row *r = row_at(s, i);
        if (strcmp(r->userid, user->userid) != 0 || strcmp(r->node, node) != 0)
            continue;
        json_object_set_new(obj, r->name, json_pack("{s:I s:o}", "time", (json_int_t)r->time, "value",
                                                    r->is_null ? json_null() : json_real(r->value)));
    }
    pthread_mutex_unlock(&s->lock);
    char *dump = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (!dump) {
        reply_text(reply, 500, "text/plain", "out of memory", 13);
        return;
    }
    reply_text(reply, 200, "application/json", dump, strlen(dump));
    free(dump);
}

static void log_line(ec_serve *s, const ec_httpd_request *req, const char *ctype,
                     const ec_answer *a, size_t stored)
{
    if (!s->log)
        return;
    /* The log names the step that failed and the inner cause; it never
     * prints the Authorization header or the body, which an attacker could
     * replay.  The Content-Type is named when it is exactly one of the protocol's
     * (so a log shows which requests came compressed), never echoed. */
    const char *named = !ctype ? NULL
                        : strcmp(ctype, "aes128cbcgz") == 0 ? "aes128cbcgz"
                        : strcmp(ctype, "aes128cbc") == 0   ? "aes128cbc"
                                                                : NULL;
    char stored_text[96] = "";
    if (a->fault == EC_OK)
        snprintf(stored_text, sizeof stored_text, " user %s, %zu row%s stored", a->userid, stored,
                 stored == 1 ? "" : "s");
    /* The path and query are the peer's: redacted (a key in ?apikey= or in
     * the path), as every line of this log. */
    log_printf(s, "%s %s%s%s%s%s%s -> %d %s%s%s%s\n", req->method, req->path,
               req->query && *req->query ? "?" : "", req->query ? req->query : "",
               named ? " [" : "", named ? named : "", named ? "]" : "", a->http_status,
               ec_status_name(a->fault), a->detail != EC_OK && a->detail != a->fault ? " / " : "",
               a->detail != EC_OK && a->detail != a->fault ? ec_status_name(a->detail) : "",
               stored_text);
}

/* The user id of the legacy form's username= (the form as PHP reads it). */
static void legacy_userid(const ec_serve_users *users, const ec_httpd_request *req, char *out,
                          size_t cap)
{
    ec_params form;
    ec_params_init(&form);
    if (ec_params_parse_query(&form, (const char *)req->body, req->body_len) == EC_OK) {
        const char *name = ec_params_get(&form, "username");
        for (size_t i = 0; name && i < users->n; i++)
            if (strcmp(users->items[i].username, name) == 0) {
                snprintf(out, cap, "%s", users->items[i].userid);
                break;
            }
    }
    ec_params_free(&form);
}

static void handle(void *ctx, const ec_httpd_request *req, ec_httpd_reply *reply)
{
    ec_serve *s = ctx;
    if (s->rows_endpoint && strcmp(req->method, "GET") == 0) {
        if (strcmp(req->path, ROWS_PATH) == 0) {
            answer_rows(s, req, reply);
            return;
        }
        if (strncmp(req->path, "/input/get/", 11) == 0 && req->path[11] && !strchr(req->path + 11, '/')) {
            answer_input_get(s, req, reply);
            return;
        }
    }

    ec_server_config core;
    memset(&core, 0, sizeof core);
    core.lookup = ec_serve_users_lookup;
    core.lookup_ctx = (void *)s->users;
    core.strict = s->strict;
    core.now = (int64_t)time(NULL);
    core.max_body = 0;          /* the HTTP layer already refused larger bodies */
    core.max_nodes = 32;        /* as Emoncms */

    ec_http_request hr;
    memset(&hr, 0, sizeof hr);
    hr.method = req->method;
    hr.path = req->path;
    hr.query = req->query && *req->query ? req->query : NULL;
    char ctype_buf[256], auth_buf[512];
    hr.content_type = trim_value(find_header(req, "Content-Type"), ctype_buf, sizeof ctype_buf);
    hr.authorization = trim_value(find_header(req, "Authorization"), auth_buf, sizeof auth_buf);
    hr.body = req->body;
    hr.body_len = req->body_len;

    ec_answer a;
    ec_answer_init(&a);
    ec_status st;
    if (s->mutant && s->mutant->hook) {
        ec_serve_mutant_env env = { &core };
        st = s->mutant->hook(&env, &hr, &a);
    } else {
        st = ec_server_answer(&core, &hr, &a);
    }
    if (st != EC_OK || !a.answer) {
        reply_text(reply, 500, "text/plain", "internal error", 14);
        ec_answer_free(&a);
        return;
    }

    /* A legacy request names its user by username: store the user id. */
    if (a.profile == EC_PROFILE_LEGACY && a.fault == EC_OK && !a.userid[0])
        legacy_userid(s->users, req, a.userid, sizeof a.userid);

    size_t stored = 0;
    pthread_mutex_lock(&s->lock);
    s->requests++;
    if (a.fault == EC_OK && s->replay_cache_on) {
        uint8_t digest[EC_SHA256_LEN];
        request_digest(a.userid, req->body, req->body_len, digest);
        if (replay_seen(s, digest)) {
            /* Strict: a byte-identical request was acknowledged before.
             * Answer as for any other rejected request and store nothing. */
            static const char replay_body[] = "invalid data";
            a.fault = EC_F_REPLAY;
            a.detail = EC_F_REPLAY;
            a.http_status = 200;
            snprintf(a.content_type, sizeof a.content_type, "text/html; charset=UTF-8");
            free(a.answer);
            a.answer = strdup(replay_body);
            a.answer_len = a.answer ? sizeof replay_body - 1 : 0;
            ec_dataset_free(&a.rows);
            ec_dataset_init(&a.rows);
        }
    }
    /* The core leaves rows in an answer exactly when Emoncms would have
     * stored them: every accepted request, and in compat also the rows of
     * a bulk request stored before a later row's application error
     * (docs/DISAGREEMENTS.md).  Strict stores accepted requests only.  The
     * mutant "store-rejected" adds rows to an HMAC rejection. */
    int store_failed = 0;
    if (a.rows.n > 0 && (a.fault == EC_OK || !s->strict || s->mutant)) {
        if (store_rows(s, a.userid, &a.rows) != 0)
            store_failed = 1;
        else
            stored = a.rows.n;
    }
    if (a.fault == EC_OK && !store_failed)
        s->accepted++;
    pthread_mutex_unlock(&s->lock);

    if (store_failed && a.fault == EC_OK) {
        /* Never ack what is not on disk. */
        reply_text(reply, 500, "text/plain", "store failed", 12);
        log_printf(s, "%s %s -> 500 store failed (%s)\n", req->method, req->path,
                   strerror(errno));
    } else {
        reply_text(reply, (unsigned)a.http_status, a.content_type, a.answer ? a.answer : "",
                   a.answer_len);
        if (a.www_authenticate[0])
            ec_httpd_reply_header(reply, "WWW-Authenticate", a.www_authenticate);
        log_line(s, req, hr.content_type, &a, stored);
    }
    ec_answer_free(&a);
}

static void on_event(void *ctx, const ec_httpd_event *ev)
{
    ec_serve *s = ctx;
    if (s->log && (ev->kind == EC_HTTPD_EV_TOO_LARGE || ev->kind == EC_HTTPD_EV_INCOMPLETE ||
                   ev->kind == EC_HTTPD_EV_BAD_FRAMING))
        log_printf(s, "%s: %s\n", ec_httpd_event_name(ev->kind), ev->detail ? ev->detail : "");
}

/* Read the store back into memory (its newest rows_cap rows), and cut a
 * torn last line (no '\n': a crash or a full disk mid-write) off the file.
 * Returns 0, or -1 with errbuf set. */
static int store_load(ec_serve *s, const char *path, char *errbuf, size_t errbuf_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        set_err(errbuf, errbuf_size, "cannot read store %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    off_t complete = 0;
    size_t bad = 0, rows = 0, torn = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n') {
            torn = (size_t)n;
            break;
        }
        complete += n;
        json_error_t jerr;
        json_t *row = json_loadb(line, (size_t)n - 1, 0, &jerr);
        json_t *value = row ? json_object_get(row, "value") : NULL;
        const char *userid = row ? json_string_value(json_object_get(row, "userid")) : NULL;
        json_t *time = row ? json_object_get(row, "time") : NULL;
        if (!userid || !json_is_integer(time) || !(json_is_number(value) || json_is_null(value))) {
            bad++;
        } else if (keep_row(s, userid, json_integer_value(time),
                            json_string_value(json_object_get(row, "node")),
                            json_string_value(json_object_get(row, "name")),
                            json_is_null(value) ? 0 : json_number_value(value),
                            json_is_null(value)) == 0) {
            rows++;
        }
        json_decref(row);
    }
    free(line);
    fclose(f);
    s->rows_total = 0; /* rows stored since start; these were there before */
    s->store_size = s->store_synced = complete;
    if (torn && truncate(path, complete) != 0) {
        set_err(errbuf, errbuf_size, "store %s ends in a torn line that cannot be cut: %s", path,
                strerror(errno));
        return -1;
    }
    if (s->log && (rows || torn || bad)) {
        fprintf(s->log, "emoncrypt serve: store %s: %zu rows read back", path, rows);
        if (bad)
            fprintf(s->log, ", %zu unreadable lines kept in the file but not served", bad);
        if (torn)
            fprintf(s->log, "; a torn last line (%zu bytes, no newline) was cut off", torn);
        fputc('\n', s->log);
        fflush(s->log);
    }
    return 0;
}

/* ---- lifecycle ----------------------------------------------------------- */

/* see serve.h */
ec_status ec_serve_start(const ec_serve_config *cfg, ec_serve **out,
                         char *errbuf, size_t errbuf_size)
{
    *out = NULL;
    if (!cfg || !cfg->users || cfg->users->n == 0) {
        set_err(errbuf, errbuf_size, "no user configured (give --userid and --apikey, or --config)");
        return EC_E_ARG;
    }
    const ec_serve_mutant *mutant = NULL;
    if (cfg->mutant && *cfg->mutant) {
        mutant = ec_serve_mutant_find(cfg->mutant);
        if (!mutant) {
            set_err(errbuf, errbuf_size, "unknown mutant '%s'", cfg->mutant);
            return EC_E_ARG;
        }
    }
    ec_serve *s = calloc(1, sizeof *s);
    if (!s)
        return EC_E_NOMEM;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->log_lock, NULL);
    s->waiters_tail = &s->waiters;
    s->users = cfg->users;
    s->mutant = mutant;
    s->strict = cfg->strict || (mutant && mutant->serve_strict);
    s->replay_cache_on = s->strict && !(mutant && mutant->no_replay_cache);
    s->rows_endpoint = cfg->rows_endpoint;
    s->log = cfg->log;
    clock_gettime(CLOCK_MONOTONIC, &s->log_flushed);
    s->store_fd = -1;
    s->store_write = cfg->store_write ? cfg->store_write : write;
    s->store_fsync = cfg->store_fsync ? cfg->store_fsync : fdatasync;
    s->key_hex = calloc(cfg->users->n, sizeof *s->key_hex);
    s->secrets = calloc(cfg->users->n, sizeof *s->secrets);
    s->log_buf = s->log ? malloc(LOG_BUF_SIZE) : NULL;
    if (!s->key_hex || !s->secrets || (s->log && !s->log_buf)) {
        ec_serve_stop(s);
        return EC_E_NOMEM;
    }
    for (size_t i = 0; i < cfg->users->n; i++) {
        (void)ec_hex_encode(cfg->users->items[i].key, EC_KEY_LEN, s->key_hex[i],
                            sizeof s->key_hex[i]);
        s->secrets[i] = s->key_hex[i];
    }
    s->nsecrets = cfg->users->n;
    s->replay_cap = cfg->replay_cache_size ? cfg->replay_cache_size : DEFAULT_REPLAY_CACHE;
    s->replay = calloc(s->replay_cap, sizeof *s->replay);
    s->rows_cap = cfg->rows_kept ? cfg->rows_kept : DEFAULT_ROWS_KEPT;
    s->rows = calloc(s->rows_cap, sizeof *s->rows);
    if (!s->replay || !s->rows) {
        ec_serve_stop(s);
        return EC_E_NOMEM;
    }
    if (cfg->store_path) {
        s->store_fd = open(cfg->store_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (s->store_fd < 0) {
            set_err(errbuf, errbuf_size, "cannot open store %s: %s", cfg->store_path, strerror(errno));
            ec_serve_stop(s);
            return EC_E_IO;
        }
        if (store_load(s, cfg->store_path, errbuf, errbuf_size) != 0) {
            ec_serve_stop(s);
            return EC_E_IO;
        }
    }
    ec_httpd_config hc;
    memset(&hc, 0, sizeof hc);
    hc.listen = cfg->listen ? cfg->listen : "127.0.0.1:8080";
    hc.handler = handle;
    hc.on_event = on_event;
    hc.on_tick = s->log ? on_tick : NULL;
    hc.ctx = s;
    hc.max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
    /* A fixed pool polling every connection, one thread per core: serve
     * never holds or delays a reply in memory, and a thread per connection cost a
     * third more CPU per request under load (thread switches, a stack and
     * a malloc arena each).  A polled connection costs only its buffer, so
     * the cap is high: at the cap the pool stops accepting (new clients
     * wait in the backlog instead of being closed), and 1000 idle
     * connections must not keep a real client waiting for their idle
     * timeouts to run out batch by batch. */
    hc.max_connections = 1024;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    hc.thread_pool_size = cores < 2 ? 2u : cores > 16 ? 16u : (unsigned)cores;
    /* Except with a store: a request waits for the sync that covers its
     * rows and holds its thread meanwhile, so each connection has its own,
     * and every connection's rows can be written during one sync and share
     * the next (a pool of two would let two requests share a sync). */
    if (s->store_fd >= 0)
        hc.thread_pool_size = 0;
    hc.idle_timeout_s = cfg->idle_timeout_s ? cfg->idle_timeout_s : DEFAULT_IDLE_TIMEOUT_S;
    /* Slowloris: a byte now and then resets the idle timeout, not these.
     * A device sends its headers in one go and a post's body in well under
     * a second; one address may hold a quarter of the slots. */
    hc.header_deadline_ms = 2000 + 1000 * hc.idle_timeout_s;
    hc.body_deadline_ms = 10000;
    hc.max_per_address = hc.max_connections / 4;
    /* A post's head is a few hundred bytes; 8 KiB is Apache's limit for a
     * request line and Emoncms runs behind one.  Not libmicrohttpd's
     * 32 KiB, which it clears for every request. */
    hc.connection_memory = 8 * 1024;
    ec_status st = ec_httpd_start(&hc, &s->httpd, errbuf, errbuf_size);
    if (st != EC_OK) {
        ec_serve_stop(s);
        return st;
    }
    *out = s;
    return EC_OK;
}

/* see serve.h */
ec_status ec_serve_call(ec_serve *s, const ec_httpd_request *req, ec_httpd_result *out)
{
    return s ? ec_httpd_call(s->httpd, req, out) : EC_E_ARG;
}

/* see serve.h */
unsigned ec_serve_port(const ec_serve *s)
{
    return s && s->httpd ? ec_httpd_port(s->httpd) : 0;
}

/* see serve.h */
const char *ec_serve_base_url(const ec_serve *s, char *buf, size_t size)
{
    if (s && s->httpd)
        return ec_httpd_base_url(s->httpd, buf, size);
    if (size)
        buf[0] = 0;
    return buf;
}

/* see serve.h */
void ec_serve_stats(ec_serve *s, uint64_t *requests, uint64_t *accepted,
                    uint64_t *rows_stored)
{
    pthread_mutex_lock(&s->lock);
    if (requests)
        *requests = s->requests;
    if (accepted)
        *accepted = s->accepted;
    if (rows_stored)
        *rows_stored = s->rows_total;
    pthread_mutex_unlock(&s->lock);
}

/* see serve.h */
void ec_serve_interrupt(ec_serve *s)
{
    if (s && s->httpd)
        ec_httpd_interrupt(s->httpd);
}

/* see serve.h */
void ec_serve_stop(ec_serve *s)
{
    if (!s)
        return;
    ec_httpd_stop(s->httpd);
    if (s->log) {
        /* Every handler and the timer have ended: the last lines out. */
        pthread_mutex_lock(&s->log_lock);
        log_flush_locked(s);
        pthread_mutex_unlock(&s->log_lock);
    }
    if (s->store_fd >= 0) {
        fsync(s->store_fd);
        close(s->store_fd);
    }
    for (size_t i = 0; s->rows && i < s->rows_n; i++)
        free(s->rows[(s->rows_oldest + i) % s->rows_cap].heap_text);
    free(s->rows);
    free(s->replay);
    if (s->key_hex)
        ec_wipe(s->key_hex, s->nsecrets * sizeof *s->key_hex);
    free(s->key_hex);
    free(s->secrets);
    free(s->log_buf);
    pthread_mutex_destroy(&s->log_lock);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
