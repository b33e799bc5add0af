/* emoncrypt — the reference sender and its mutants (see sender.h). */
#include "client/sender.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client/transport.h"
#include "emoncrypt/message.h"
#include "emoncrypt/report.h"

#define MUTANT(n, m, f, sc, check, text) {n, m, f, sc, check, text}

const ec_sender_mutant ec_sender_mutants[] = {
    /* the IV */
    MUTANT("fixed-iv", 0, EC_FAULT_IV_FIXED, "happy", "client/2.iv/fresh",
           "the same IV for every message"),
    MUTANT("zero-iv", 0, EC_FAULT_IV_ZERO, "happy", "client/2.iv/not-zero",
           "an all-zero IV"),
    MUTANT("counter-iv", 0, EC_FAULT_IV_COUNTER, "happy", "client/2.iv/not-counter",
           "a counter as the IV"),
    MUTANT("time-iv", 0, EC_FAULT_IV_TIME, "happy", "client/2.iv/not-time",
           "the clock in the IV's first bytes"),
    /* the wire, from the shared builder's mistakes */
    MUTANT("std-alphabet", EC_MISTAKE_STD_ALPHABET, 0, "happy", "client/3.body/alphabet",
           "base64 with '+' and '/'"),
    MUTANT("hmac-upper", EC_MISTAKE_HMAC_UPPER, 0, "happy", "client/2.hmac/lowercase",
           "the HMAC in uppercase hex"),
    MUTANT("hmac-over-ct", EC_MISTAKE_HMAC_OVER_CT, 0, "happy", "client/2.hmac/correct",
           "the HMAC over IV || ciphertext"),
    MUTANT("hmac-plus-nul", EC_MISTAKE_HMAC_PLUS_NUL, 0, "happy", "client/2.hmac/correct",
           "the HMAC over the plaintext and its C string's NUL"),
    MUTANT("hmac-hex-key", EC_MISTAKE_HMAC_HEX_KEY, 0, "happy", "client/2.hmac/correct",
           "the HMAC keyed with the 32 characters of the hex key"),
    MUTANT("no-full-pad", EC_MISTAKE_NO_FULL_PAD, EC_FAULT_PAD_TO_BLOCK, "happy",
           "client/2.cipher/pkcs7", "no pad block when the plaintext is a multiple of 16"),
    MUTANT("cbc-chain-bug", EC_MISTAKE_CBC_CHAIN_BUG, EC_FAULT_PAD_TO_BLOCK, "happy",
           "client/2.cipher/pkcs7", "the pad-only block chained from the IV"),
    MUTANT("zero-padding", EC_MISTAKE_ZERO_PADDING, 0, "happy", "client/2.cipher/pkcs7",
           "zero bytes instead of PKCS#7"),
    /* behaviour */
    MUTANT("ignores-ack", 0, EC_FAULT_IGNORE_ACK, "http-500", "client/7.scenario/http-500",
           "every post counts as delivered, whatever the answer"),
    MUTANT("any-200", 0, EC_FAULT_ANY_200, "wrong-ack", "client/7.scenario/wrong-ack",
           "any HTTP 200 counts as delivered"),
    MUTANT("same-iv-resend", 0, EC_FAULT_SAME_IV_RESEND, "http-500", "client/7.resend/fresh-iv",
           "a resend reuses the IV of the failed post"),
    MUTANT("out-of-order", 0, EC_FAULT_OUT_OF_ORDER, "happy", "client/7.time/ascending",
           "rows newest first"),
    MUTANT("drops-data", 0, EC_FAULT_DROP_ON_FAIL, "http-500", "client/7.ack/no-data-lost",
           "a batch that was not acknowledged is dropped"),
    MUTANT("resend-acked", 0, EC_FAULT_RESEND_ACKED, "happy", "client/7.ack/no-duplicates",
           "each acknowledged batch is sent once more"),
    MUTANT("bearer-side-request", 0, EC_FAULT_BEARER_SIDE, "happy",
           "client/7.apikey/not-in-clear",
           "GET /input/get with 'Authorization: Bearer KEY' before each batch"),
    MUTANT("apikey-in-query", 0, EC_FAULT_KEY_IN_QUERY, "happy", "client/7.apikey/not-in-clear",
           "?apikey=KEY on every post"),
};
const size_t ec_sender_mutant_count = sizeof ec_sender_mutants / sizeof ec_sender_mutants[0];

const ec_sender_mutant *ec_sender_mutant_find(const char *name)
{
    for (size_t i = 0; i < ec_sender_mutant_count; i++)
        if (strcmp(ec_sender_mutants[i].name, name) == 0)
            return &ec_sender_mutants[i];
    return NULL;
}

/* ---- CSV ---------------------------------------------------------------- */

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static int is_number(const char *s, size_t n)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end = NULL;
    errno = 0;
    strtod(tmp, &end);
    return errno == 0 && end == tmp + n;
}

void ec_sender_rows_free(ec_sender_rows *rows)
{
    if (rows == NULL)
        return;
    for (size_t i = 0; i < rows->n; i++) {
        for (size_t k = 0; k < rows->rows[i].value_count; k++)
            free(rows->rows[i].values[k]);
        free(rows->rows[i].values);
    }
    free(rows->rows);
    rows->rows = NULL;
    rows->n = 0;
}

ec_status ec_sender_rows_parse(const char *text, size_t n, ec_sender_rows *out,
                               char *errbuf, size_t errbuf_size)
{
    out->rows = NULL;
    out->n = 0;
    size_t cap = 0, line_no = 0;
    int seen_data = 0;
    for (size_t pos = 0; pos < n;) {
        size_t end = pos;
        while (end < n && text[end] != '\n')
            end++;
        const char *line = text + pos;
        size_t len = end - pos;
        pos = end + 1;
        line_no++;
        trim(&line, &len);
        if (len == 0 || line[0] == '#')
            continue;
        size_t f_len = 0;
        while (f_len < len && line[f_len] != ',')
            f_len++;
        const char *ts = line;
        size_t ts_len = f_len;
        trim(&ts, &ts_len);
        if (!is_number(ts, ts_len)) {
            if (!seen_data) {
                seen_data = 1; /* a header line */
                continue;
            }
            if (errbuf)
                snprintf(errbuf, errbuf_size, "line %zu: the timestamp is not a number", line_no);
            ec_sender_rows_free(out);
            return EC_E_ARG;
        }
        seen_data = 1;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 64;
            ec_sender_row *grown = realloc(out->rows, cap * sizeof *grown);
            if (grown == NULL) {
                ec_sender_rows_free(out);
                return EC_E_NOMEM;
            }
            out->rows = grown;
        }
        ec_sender_row *row = &out->rows[out->n++];
        memset(row, 0, sizeof *row);
        char tbuf[64];
        memcpy(tbuf, ts, ts_len);
        tbuf[ts_len] = 0;
        row->time = (int64_t)strtod(tbuf, NULL);
        size_t fields = 0;
        for (size_t i = 0; i < len; i++)
            fields += line[i] == ',';
        row->values = calloc(fields ? fields : 1, sizeof *row->values);
        if (row->values == NULL) {
            ec_sender_rows_free(out);
            return EC_E_NOMEM;
        }
        size_t p = f_len;
        while (p < len) {
            p++; /* the comma */
            size_t q = p;
            while (q < len && line[q] != ',')
                q++;
            const char *v = line + p;
            size_t v_len = q - p;
            trim(&v, &v_len);
            char *copy = NULL;
            int null = v_len == 0 || (v_len == 4 && strncasecmp(v, "null", 4) == 0) ||
                       (v_len == 3 && strncasecmp(v, "nan", 3) == 0);
            if (!null) {
                if (!is_number(v, v_len)) {
                    if (errbuf)
                        snprintf(errbuf, errbuf_size, "line %zu: value %zu is not a number",
                                 line_no, row->value_count + 1);
                    ec_sender_rows_free(out);
                    return EC_E_ARG;
                }
                copy = strndup(v, v_len);
            }
            row->values[row->value_count++] = copy;
            p = q;
        }
    }
    return EC_OK;
}

/* ---- sending --------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
} buf;

static void buf_addf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_addf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0)
        return;
    if (b->len + (size_t)need + 1 > b->cap) {
        size_t cap = (b->len + (size_t)need + 1) * 2;
        char *grown = realloc(b->data, cap);
        if (grown == NULL)
            return;
        b->data = grown;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)need;
}

/* time=T&data=[[dt,"node",v1,…],…] for rows[first .. first+count). */
static void bulk_plaintext(const ec_sender_rows *rows, size_t first, size_t count,
                           const char *node, unsigned faults, buf *b)
{
    int64_t t0 = rows->rows[first].time;
    buf_addf(b, "time=%lld&data=[", (long long)t0);
    for (size_t k = 0; k < count; k++) {
        size_t i = (faults & EC_FAULT_OUT_OF_ORDER) ? first + count - 1 - k : first + k;
        const ec_sender_row *row = &rows->rows[i];
        buf_addf(b, "%s[%lld,\"%s\"", k ? "," : "", (long long)(row->time - t0), node);
        for (size_t v = 0; v < row->value_count; v++)
            buf_addf(b, ",%s", row->values[v] ? row->values[v] : "null");
        buf_addf(b, "]");
    }
    buf_addf(b, "]");
}

/* The 2017 legacy plaintext: [[unixtime,"node",v1,…],…], absolute times. */
static void legacy_plaintext(const ec_sender_rows *rows, size_t first, size_t count,
                             const char *node, unsigned faults, buf *b)
{
    buf_addf(b, "[");
    for (size_t k = 0; k < count; k++) {
        size_t i = (faults & EC_FAULT_OUT_OF_ORDER) ? first + count - 1 - k : first + k;
        const ec_sender_row *row = &rows->rows[i];
        buf_addf(b, "%s[%lld,\"%s\"", k ? "," : "", (long long)row->time, node);
        for (size_t v = 0; v < row->value_count; v++)
            buf_addf(b, ",%s", row->values[v] ? row->values[v] : "null");
        buf_addf(b, "]");
    }
    buf_addf(b, "]");
}

static void sleep_ms(unsigned ms, volatile int *stop)
{
    while (ms > 0 && !(stop && *stop)) {
        unsigned step = ms > 50 ? 50 : ms;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static void logf_(const ec_sender_options *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void logf_(const ec_sender_options *o, const char *fmt, ...)
{
    if (o->log == NULL)
        return;
    /* Redacted like every log line: a URL given with ?apikey= in it, or
     * an answer quoting the key, must not print it. */
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    const char *secret = o->apikey_hex;
    ec_redact_printf(o->log, &secret, secret && *secret ? 1 : 0, "send: %s\n", line);
}

/* The URL split into the Emoncms base and what the path asks for. */
typedef struct {
    char base[512];
    int bulk;                     /* the path named /input/bulk */
    char node[128];               /* the path named /input/post/NODE */
} target;

static int parse_target(const char *url, target *t)
{
    memset(t, 0, sizeof *t);
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    size_t len = strlen(url);
    while (len > 7 && url[len - 1] == '/')
        len--;
    if (len >= sizeof t->base)
        return -1;
    memcpy(t->base, url, len);
    t->base[len] = 0;
    char *q = strchr(t->base + 7, '?');
    if (q != NULL)
        *q = 0;
    char *in = strstr(t->base + 7, "/input/");
    if (in != NULL) {
        const char *what = in + 7;
        if (strncmp(what, "bulk", 4) == 0)
            t->bulk = 1;
        else if (strncmp(what, "post/", 5) == 0)
            snprintf(t->node, sizeof t->node, "%s", what + 5);
        *in = 0;
    }
    return 0;
}

static void choose_iv(const ec_sender_options *o, unsigned faults, uint8_t iv[EC_IV_LEN],
                      const uint8_t *previous, int resend)
{
    static uint64_t counter;
    static uint8_t counter_base[8];
    if ((faults & EC_FAULT_SAME_IV_RESEND) && resend && previous != NULL) {
        memcpy(iv, previous, EC_IV_LEN);
        return;
    }
    if (o->random != NULL)
        o->random(o->random_ctx, iv, EC_IV_LEN);
    else
        ec_random(iv, EC_IV_LEN);
    if (faults & EC_FAULT_IV_FIXED)
        memcpy(iv, "emoncrypt-fixed!", EC_IV_LEN);
    else if (faults & EC_FAULT_IV_ZERO)
        memset(iv, 0, EC_IV_LEN);
    else if (faults & EC_FAULT_IV_COUNTER) {
        if (counter == 0) {
            if (o->random != NULL)
                o->random(o->random_ctx, counter_base, sizeof counter_base);
            else
                ec_random(counter_base, sizeof counter_base);
        }
        counter++;
        memcpy(iv, counter_base, 8);
        for (int i = 0; i < 8; i++)
            iv[15 - i] = (uint8_t)(counter >> (8 * i));
    } else if (faults & EC_FAULT_IV_TIME) {
        uint32_t t = (uint32_t)time(NULL);
        iv[0] = (uint8_t)(t >> 24);
        iv[1] = (uint8_t)(t >> 16);
        iv[2] = (uint8_t)(t >> 8);
        iv[3] = (uint8_t)t;
    }
    (void)o;
}

/* One post of plaintext pt; returns 1 when the sender takes it as
 * delivered.  *retry_after_s gets the server's Retry-After. */
static int post_once(const ec_sender_options *o, cs_transport *tr, const target *t,
                     const uint8_t key[EC_KEY_LEN], const uint8_t *pt, size_t pt_len,
                     const uint8_t iv[EC_IV_LEN], const char *label, unsigned *retry_after_s,
                     ec_sender_result *res)
{
    const ec_sender_mutant *m = o->mutant;
    unsigned faults = m ? m->faults : 0;
    ec_request_params p;
    memset(&p, 0, sizeof p);
    p.profile = (ec_profile)o->profile;
    p.endpoint = (o->rows != NULL || t->bulk) ? EC_ENDPOINT_BULK : EC_ENDPOINT_POST;
    p.path_node = t->node[0] ? t->node : (o->rows == NULL ? o->node : NULL);
    memcpy(p.key, key, EC_KEY_LEN);
    p.apikey_hex = o->apikey_hex;
    p.userid = o->userid;
    p.username = o->username;
    memcpy(p.iv, iv, EC_IV_LEN);
    p.plaintext = pt;
    p.plaintext_len = pt_len;
    p.mistakes = m ? m->mistakes : 0;
    ec_request r;
    ec_request_init(&r);
    ec_status st = ec_request_build(&p, &r);
    if (st != EC_OK) {
        snprintf(res->message, sizeof res->message, "cannot build the request: %s",
                 ec_status_text(st));
        ec_request_free(&r);
        return -1;
    }
    char url[1024];
    snprintf(url, sizeof url, "%s%s%s%s", t->base, r.path,
             (faults & EC_FAULT_KEY_IN_QUERY) ? "?apikey=" : "",
             (faults & EC_FAULT_KEY_IN_QUERY) ? o->apikey_hex : "");
    const char *headers[] = {"Content-Type", r.content_type,
                             r.authorization[0] ? "Authorization" : NULL, r.authorization,
                             NULL};
    cs_http_answer a;
    cs_transport_send(tr, r.method, url, headers, r.body, r.body_len,
                      (long)(o->timeout_ms ? o->timeout_ms : 3000), &a);
    res->posts++;
    if (!a.complete && strcmp(a.error, "connect") == 0 && res->posts == 1) {
        /* Nothing listens there at all: a wrong URL, not a flaky server. */
        snprintf(res->message, sizeof res->message, "cannot connect: %.200s", a.message);
        cs_http_answer_free(&a);
        ec_request_free(&r);
        return -1;
    }
    ec_ack_check check;
    memset(&check, 0, sizeof check);
    if (a.complete)
        ec_ack_verify(&r, (int)a.status, a.body, a.body_len, 0, &check);
    int delivered = a.complete && check.ok;
    if (faults & EC_FAULT_ANY_200)
        delivered = a.complete && a.status == 200;
    if (faults & EC_FAULT_IGNORE_ACK)
        delivered = 1;
    *retry_after_s = a.retry_after_s;
    char shown[64];
    size_t k = 0;
    for (size_t i = 0; a.body && i < a.body_len && k + 1 < sizeof shown; i++)
        shown[k++] = (a.body[i] >= 0x20 && a.body[i] < 0x7f) ? a.body[i] : '.';
    shown[k] = 0;
    if (!a.complete)
        logf_(o, "%s: %s%s", label, delivered ? "taken as delivered anyway: " : "NOT delivered: ",
              a.message[0] ? a.message : a.error);
    else if (check.ok)
        logf_(o, "%s: delivered (HTTP %ld, ack matches) in %ld ms", label, a.status,
              a.elapsed_ms);
    else
        logf_(o, "%s: %sHTTP %ld '%s'%s%s", label,
              delivered ? "taken as delivered anyway: " : "NOT delivered: ", a.status, shown,
              check.why ? ": " : "", check.why ? check.why : "");
    cs_http_answer_free(&a);
    ec_request_free(&r);
    return delivered;
}

/* The side request a known-bad device makes: its key as a Bearer token. */
static void bearer_side_request(const ec_sender_options *o, cs_transport *tr, const target *t)
{
    char url[1024], auth[128];
    snprintf(url, sizeof url, "%s/input/get?node=%s", t->base, o->node ? o->node : "emoncrypt");
    snprintf(auth, sizeof auth, "Bearer %s", o->apikey_hex);
    const char *headers[] = {"Authorization", auth, NULL};
    cs_http_answer a;
    cs_transport_send(tr, "GET", url, headers, NULL, 0, 2000, &a);
    cs_http_answer_free(&a);
}

static void write_undelivered(const ec_sender_options *o, size_t from)
{
    if (o->undelivered_path == NULL || o->rows == NULL)
        return;
    FILE *f = fopen(o->undelivered_path, "w");
    if (f == NULL) {
        logf_(o, "cannot write %s", o->undelivered_path);
        return;
    }
    for (size_t i = from; i < o->rows->n; i++) {
        const ec_sender_row *row = &o->rows->rows[i];
        fprintf(f, "%lld", (long long)row->time);
        for (size_t v = 0; v < row->value_count; v++)
            fprintf(f, ",%s", row->values[v] ? row->values[v] : "");
        fputc('\n', f);
    }
    fclose(f);
    logf_(o, "%zu undelivered rows written to %s", o->rows->n - from, o->undelivered_path);
}

/* see sender.h */
int ec_sender_run(const ec_sender_options *o, ec_sender_result *res)
{
    memset(res, 0, sizeof *res);
    target t;
    uint8_t key[EC_KEY_LEN];
    if (o->url == NULL || parse_target(o->url, &t) != 0) {
        snprintf(res->message, sizeof res->message, "URL: expected http://HOST[:PORT][/PATH]");
        return 2;
    }
    if (o->apikey_hex == NULL || ec_key_from_hex(o->apikey_hex, key) != EC_OK) {
        snprintf(res->message, sizeof res->message, "--apikey: not 32 hex digits");
        return 2;
    }
    if (o->rows == NULL && o->plaintext == NULL) {
        snprintf(res->message, sizeof res->message, "nothing to send");
        return 2;
    }
    cs_transport *tr = cs_transport_new();
    if (tr == NULL) {
        snprintf(res->message, sizeof res->message, "out of memory");
        return 2;
    }
    const ec_sender_mutant *m = o->mutant;
    unsigned faults = m ? m->faults : 0;
    const char *node = o->node ? o->node : "emoncrypt";
    size_t per_post = o->rows_per_post ? o->rows_per_post : 10;
    size_t total = o->rows ? (o->rows->n + per_post - 1) / per_post : 1;
    res->batches = total;
    int rc = 0;
    for (size_t b = 0; b < total; b++) {
        size_t first = b * per_post;
        size_t count = o->rows ? (o->rows->n - first < per_post ? o->rows->n - first : per_post)
                               : 0;
        buf pt = {0};
        if (o->rows != NULL && o->profile == EC_PROFILE_LEGACY)
            legacy_plaintext(o->rows, first, count, node, faults, &pt);
        else if (o->rows != NULL)
            bulk_plaintext(o->rows, first, count, node, faults, &pt);
        else
            buf_addf(&pt, "%.*s", (int)o->plaintext_len, (const char *)o->plaintext);
        if (faults & EC_FAULT_PAD_TO_BLOCK)
            while (pt.len % EC_BLOCK_LEN != 0)
                buf_addf(&pt, "&");
        if (pt.data == NULL) {
            snprintf(res->message, sizeof res->message, "out of memory");
            rc = 2;
            break;
        }
        if (faults & EC_FAULT_BEARER_SIDE)
            bearer_side_request(o, tr, &t);
        uint8_t iv[EC_IV_LEN], prev_iv[EC_IV_LEN];
        int delivered = 0;
        unsigned wait = o->retry_ms;
        for (int attempt = 0;; attempt++) {
            char label[96];
            if (o->rows != NULL)
                snprintf(label, sizeof label, "post %zu (batch %zu/%zu, %zu rows%s)",
                         res->posts + 1, b + 1, total, count, attempt ? ", resend" : "");
            else
                snprintf(label, sizeof label, "post %zu%s", res->posts + 1,
                         attempt ? " (resend)" : "");
            choose_iv(o, faults, iv, attempt ? prev_iv : NULL, attempt > 0);
            memcpy(prev_iv, iv, EC_IV_LEN);
            unsigned retry_after = 0;
            if (attempt > 0)
                res->resends++;
            int d = post_once(o, tr, &t, key, (const uint8_t *)pt.data, pt.len, iv, label,
                              &retry_after, res);
            if (d < 0) {
                rc = 2;
                break;
            }
            if (d) {
                delivered = 1;
                break;
            }
            if (faults & EC_FAULT_DROP_ON_FAIL) {
                logf_(o, "batch %zu dropped", b + 1);
                res->dropped++;
                break;
            }
            if (o->retries >= 0 && attempt >= o->retries) {
                snprintf(res->message, sizeof res->message,
                         "batch %zu not delivered after %d attempts; giving up", b + 1,
                         attempt + 1);
                break;
            }
            if (o->stop && *o->stop)
                break;
            unsigned pause = wait;
            if (retry_after * 1000u > pause)
                pause = retry_after * 1000u;
            logf_(o, "resending in %u ms with a fresh IV%s", pause,
                  retry_after ? " (Retry-After)" : "");
            sleep_ms(pause, o->stop);
            if (wait < o->max_backoff_ms / 2)
                wait *= 2;
            else
                wait = o->max_backoff_ms;
        }
        if (rc == 2) {
            free(pt.data);
            break;
        }
        if (delivered) {
            res->delivered++;
            if (faults & EC_FAULT_RESEND_ACKED) {
                unsigned ra;
                choose_iv(o, faults, iv, NULL, 0);
                post_once(o, tr, &t, key, (const uint8_t *)pt.data, pt.len, iv,
                          "the same batch again", &ra, res);
            }
        }
        free(pt.data);
        if (!delivered && !(faults & EC_FAULT_DROP_ON_FAIL)) {
            res->undelivered = total - b;
            if (!res->message[0])
                snprintf(res->message, sizeof res->message, "stopped with %zu batches left",
                         res->undelivered);
            write_undelivered(o, first);
            rc = 1;
            break;
        }
        if (o->stop && *o->stop && b + 1 < total) {
            res->undelivered = total - b - 1;
            snprintf(res->message, sizeof res->message, "stopped with %zu batches left",
                     res->undelivered);
            write_undelivered(o, first + count);
            rc = 1;
            break;
        }
        if (b + 1 < total)
            sleep_ms(o->interval_ms, o->stop);
    }
    cs_transport_free(tr);
    ec_wipe(key, sizeof key);
    return rc;
}
