/* emoncrypt — JSONL capture files (see capture.h). */
#include "emoncrypt/capture.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/report.h"

struct ec_capture_writer {
    FILE *f;
    char *secret;                 /* NULL when nothing is to be redacted */
    uint64_t next_seq;
    pthread_mutex_t lock;
};

/* A malloc'd, NUL-terminated copy of buf[0..*len) with the secret
 * redacted by report.h's ec_redact; that one works on C strings, so bytes
 * with NULs are redacted piece by piece between the NULs. */
static char *redact_bytes(const void *buf, size_t *len, const char *secret)
{
    const char *in = buf;
    size_t n = *len;
    size_t cap = n + 1, used = 0;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    for (size_t start = 0; start <= n;) {
        size_t end = start;
        while (end < n && in[end] != 0)
            end++;
        char *piece = ec_redact(in + start, end - start, secret);
        if (piece == NULL) {
            free(out);
            return NULL;
        }
        size_t plen = strlen(piece);
        if (used + plen + 2 > cap) {
            cap = (used + plen + 2) * 2;
            char *grown = realloc(out, cap);
            if (grown == NULL) {
                free(piece);
                free(out);
                return NULL;
            }
            out = grown;
        }
        memcpy(out + used, piece, plen);
        used += plen;
        free(piece);
        if (end < n)
            out[used++] = 0;
        start = end + 1;
    }
    out[used] = 0;
    *len = used;
    return out;
}

/* see capture.h */
ec_status ec_capture_open(const char *path, const char *secret, int show_secret,
                          ec_capture_writer **out, char *errbuf, size_t errbuf_size)
{
    *out = NULL;
    if (path == NULL)
        return EC_E_ARG;
    ec_capture_writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        return EC_E_NOMEM;
    if (secret != NULL && secret[0] != 0 && !show_secret) {
        w->secret = strdup(secret);
        if (w->secret == NULL) {
            free(w);
            return EC_E_NOMEM;
        }
    }
    w->f = fopen(path, "w");
    if (w->f == NULL) {
        if (errbuf != NULL && errbuf_size > 0)
            snprintf(errbuf, errbuf_size, "cannot write %s", path);
        free(w->secret);
        free(w);
        return EC_E_IO;
    }
    w->next_seq = 1;
    pthread_mutex_init(&w->lock, NULL);
    *out = w;
    return EC_OK;
}

/* A JSON string of the redacted text, or NULL when s is NULL. */
static json_t *redacted_string(const ec_capture_writer *w, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *r = redact_bytes(s, &n, w->secret);
    if (r == NULL)
        return NULL;
    json_t *j = json_stringn(r, n);
    if (j == NULL) /* not UTF-8: keep it readable and valid */
        j = json_string("(not UTF-8)");
    free(r);
    return j;
}

/* Set key (text) or key_b64 (other bytes) of o from redacted bytes. */
static void set_bytes(const ec_capture_writer *w, json_t *o, const char *key,
                      const uint8_t *b, size_t n)
{
    if (b == NULL)
        return;
    size_t len = n;
    char *r = redact_bytes(b, &len, w->secret);
    if (r == NULL)
        return;
    int text = 1;
    for (size_t i = 0; i < len; i++)
        if (r[i] == 0)
            text = 0;
    json_t *j = text ? json_stringn(r, len) : NULL;
    if (j != NULL) {
        json_object_set_new(o, key, j);
    } else {
        size_t cap = ec_b64_encoded_len(len, 1) + 1;
        char *b64 = malloc(cap);
        size_t b64_len = 0;
        if (b64 != NULL &&
            ec_b64_encode((const uint8_t *)r, len, EC_B64_STD, 1, b64, cap, &b64_len) == EC_OK) {
            char name[64];
            snprintf(name, sizeof name, "%s_b64", key);
            json_object_set_new(o, name, json_stringn(b64, b64_len));
        }
        free(b64);
    }
    free(r);
}

static void set_string(const ec_capture_writer *w, json_t *o, const char *key, const char *s)
{
    json_t *j = redacted_string(w, s);
    if (j != NULL)
        json_object_set_new(o, key, j);
}

/* see capture.h */
ec_status ec_capture_write(ec_capture_writer *w, const ec_capture_record *rec)
{
    if (w == NULL || rec == NULL)
        return EC_E_ARG;
    json_t *o = json_object();
    if (o == NULL)
        return EC_E_NOMEM;
    pthread_mutex_lock(&w->lock);
    int is_event = rec->kind != NULL && strcmp(rec->kind, "event") == 0;
    uint64_t seq = rec->seq != 0 || is_event ? rec->seq : w->next_seq;
    if (!is_event && seq >= w->next_seq)
        w->next_seq = seq + 1;
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    json_object_set_new(o, "time", json_real(rec->time));
    set_string(w, o, "kind", rec->kind ? rec->kind : "exchange");
    set_string(w, o, "remote", rec->remote);
    if (rec->connection != 0)
        json_object_set_new(o, "connection", json_integer((json_int_t)rec->connection));
    set_string(w, o, "method", rec->method);
    set_string(w, o, "path", rec->path);
    set_string(w, o, "query", rec->query);
    if (rec->headers != NULL) {
        json_t *hs = json_array();
        for (size_t i = 0; i < rec->header_count; i++) {
            json_t *pair = json_array();
            json_t *name = redacted_string(w, rec->headers[i].name);
            json_t *value = redacted_string(w, rec->headers[i].value);
            json_array_append_new(pair, name ? name : json_string(""));
            json_array_append_new(pair, value ? value : json_string(""));
            json_array_append_new(hs, pair);
        }
        json_object_set_new(o, "headers", hs);
    }
    set_bytes(w, o, "body", rec->body, rec->body_len);
    set_string(w, o, "scenario", rec->scenario);
    if (rec->scenario != NULL)
        json_object_set_new(o, "step", json_integer(rec->step));
    if (rec->has_reply) {
        json_t *r = json_object();
        json_object_set_new(r, "status", json_integer(rec->reply_status));
        set_string(w, r, "content_type", rec->reply_content_type);
        set_bytes(w, r, "body", rec->reply_body, rec->reply_body_len);
        set_string(w, r, "script", rec->reply_script);
        json_object_set_new(o, "reply", r);
    }
    set_string(w, o, "fault", rec->fault);
    set_string(w, o, "mistakes", rec->mistakes);
    if (rec->failed != NULL) {
        json_t *fl = json_array();
        for (size_t i = 0; i < rec->failed_count; i++)
            json_array_append_new(fl, json_string(rec->failed[i]));
        json_object_set_new(o, "failed", fl);
    }
    set_string(w, o, "event", rec->event);
    set_string(w, o, "detail", rec->detail);
    ec_status st = EC_OK;
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line == NULL) {
        st = EC_E_NOMEM;
    } else {
        if (fprintf(w->f, "%s\n", line) < 0 || fflush(w->f) != 0)
            st = EC_E_IO;
        free(line);
    }
    pthread_mutex_unlock(&w->lock);
    json_decref(o);
    return st;
}

/* see capture.h */
void ec_capture_close(ec_capture_writer *w)
{
    if (w == NULL)
        return;
    fclose(w->f);
    pthread_mutex_destroy(&w->lock);
    if (w->secret != NULL) {
        ec_wipe(w->secret, strlen(w->secret));
        free(w->secret);
    }
    free(w);
}

/* ---- reading ------------------------------------------------------------ */

static char *dup_field(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? strdup(s) : NULL;
}

/* Bytes from key (text) or key_b64; returns 0, or -1 when key_b64 is bad. */
static int get_bytes(json_t *o, const char *key, uint8_t **out, size_t *out_len)
{
    json_t *t = json_object_get(o, key);
    if (json_is_string(t)) {
        size_t n = json_string_length(t);
        *out = malloc(n + 1);
        if (*out == NULL)
            return -1;
        memcpy(*out, json_string_value(t), n);
        (*out)[n] = 0;
        *out_len = n;
        return 0;
    }
    char name[64];
    snprintf(name, sizeof name, "%s_b64", key);
    t = json_object_get(o, name);
    if (!json_is_string(t))
        return 0;
    size_t n = json_string_length(t);
    size_t cap = ec_b64_decoded_max(n) + 1;
    *out = malloc(cap);
    if (*out == NULL)
        return -1;
    if (ec_b64_decode_strict(json_string_value(t), n, EC_B64_STD, *out, cap, out_len,
                             NULL) != EC_OK) {
        free(*out);
        *out = NULL;
        return -1;
    }
    (*out)[*out_len] = 0;
    return 0;
}

/* see capture.h */
int ec_capture_read(FILE *f, ec_capture_record *rec, char *errbuf, size_t errbuf_size)
{
    memset(rec, 0, sizeof *rec);
    rec->step = -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    do {
        got = getline(&line, &cap, f);
        if (got < 0) {
            free(line);
            return 0;
        }
    } while (strspn(line, " \t\r\n") == (size_t)got);
    json_error_t jerr;
    json_t *o = json_loadb(line, (size_t)got, 0, &jerr);
    free(line);
    if (!json_is_object(o)) {
        if (errbuf != NULL && errbuf_size > 0)
            snprintf(errbuf, errbuf_size, "not a JSON object: %s", o ? "wrong type" : jerr.text);
        json_decref(o);
        return -1;
    }
    rec->seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
    rec->time = json_number_value(json_object_get(o, "time"));
    rec->kind = dup_field(o, "kind");
    rec->remote = dup_field(o, "remote");
    rec->connection = (uint64_t)json_integer_value(json_object_get(o, "connection"));
    rec->method = dup_field(o, "method");
    rec->path = dup_field(o, "path");
    rec->query = dup_field(o, "query");
    json_t *hs = json_object_get(o, "headers");
    if (json_is_array(hs) && json_array_size(hs) > 0) {
        rec->headers = calloc(json_array_size(hs), sizeof *rec->headers);
        for (size_t i = 0; rec->headers != NULL && i < json_array_size(hs); i++) {
            json_t *pair = json_array_get(hs, i);
            const char *n = json_string_value(json_array_get(pair, 0));
            const char *v = json_string_value(json_array_get(pair, 1));
            rec->headers[i].name = strdup(n ? n : "");
            rec->headers[i].value = strdup(v ? v : "");
            rec->header_count++;
        }
    }
    int bad = get_bytes(o, "body", &rec->body, &rec->body_len);
    rec->scenario = dup_field(o, "scenario");
    if (json_is_integer(json_object_get(o, "step")))
        rec->step = (int)json_integer_value(json_object_get(o, "step"));
    json_t *r = json_object_get(o, "reply");
    if (json_is_object(r)) {
        rec->has_reply = 1;
        rec->reply_status = (unsigned)json_integer_value(json_object_get(r, "status"));
        rec->reply_content_type = dup_field(r, "content_type");
        bad |= get_bytes(r, "body", &rec->reply_body, &rec->reply_body_len);
        rec->reply_script = dup_field(r, "script");
    }
    rec->fault = dup_field(o, "fault");
    rec->mistakes = dup_field(o, "mistakes");
    json_t *fl = json_object_get(o, "failed");
    if (json_is_array(fl) && json_array_size(fl) > 0) {
        rec->failed = calloc(json_array_size(fl), sizeof *rec->failed);
        for (size_t i = 0; rec->failed != NULL && i < json_array_size(fl); i++) {
            const char *s = json_string_value(json_array_get(fl, i));
            rec->failed[rec->failed_count++] = strdup(s ? s : "");
        }
    }
    rec->event = dup_field(o, "event");
    rec->detail = dup_field(o, "detail");
    json_decref(o);
    if (bad) {
        if (errbuf != NULL && errbuf_size > 0)
            snprintf(errbuf, errbuf_size, "record %llu: a *_b64 field is not base64",
                     (unsigned long long)rec->seq);
        ec_capture_record_free(rec);
        return -1;
    }
    return 1;
}

/* see capture.h */
void ec_capture_record_free(ec_capture_record *rec)
{
    if (rec == NULL)
        return;
    free(rec->kind);
    free(rec->remote);
    free(rec->method);
    free(rec->path);
    free(rec->query);
    for (size_t i = 0; i < rec->header_count; i++) {
        free(rec->headers[i].name);
        free(rec->headers[i].value);
    }
    free(rec->headers);
    free(rec->body);
    free(rec->scenario);
    free(rec->reply_content_type);
    free(rec->reply_body);
    free(rec->reply_script);
    free(rec->fault);
    free(rec->mistakes);
    for (size_t i = 0; i < rec->failed_count; i++)
        free(rec->failed[i]);
    free(rec->failed);
    free(rec->event);
    free(rec->detail);
    memset(rec, 0, sizeof *rec);
    rec->step = -1;
}
