/* see httpclient.h */
#include "textbuf.h"
#include "emoncrypt/httpclient.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_TIMEOUT_MS 10000L
#define DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define DEFAULT_MAX_BODY ((size_t)1 << 20)

struct ec_http_client {
    CURL *curl;
};

static const char *const error_names[] = {
    "none", "connect", "timeout", "no-answer", "closed",
    "protocol", "too-large", "bad-request", "other",
};

const char *ec_http_error_name(ec_http_error e)
{
    if ((unsigned)e >= sizeof error_names / sizeof error_names[0])
        return "unknown";
    return error_names[e];
}



static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* ---- client -------------------------------------------------------------- */

ec_http_client *ec_http_client_new(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    ec_http_client *c = calloc(1, sizeof *c);
    if (!c) {
        curl_global_cleanup();
        return NULL;
    }
    c->curl = curl_easy_init();
    if (!c->curl) {
        free(c);
        curl_global_cleanup();
        return NULL;
    }
    return c;
}

void ec_http_client_free(ec_http_client *client)
{
    if (!client)
        return;
    curl_easy_cleanup(client->curl);
    free(client);
    curl_global_cleanup();
}

void ec_http_response_free(ec_http_response *resp)
{
    if (!resp)
        return;
    for (size_t i = 0; i < resp->header_count; i++) {
        free((char *)resp->headers[i].name);
        free((char *)resp->headers[i].value);
    }
    free(resp->headers);
    free(resp->status_line);
    free(resp->content_type);
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}

const char *ec_http_response_header(const ec_http_response *resp, const char *name)
{
    for (size_t i = 0; resp && i < resp->header_count; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

/* State shared with libcurl's callbacks during one send. */
typedef struct {
    ec_http_response *resp;
    size_t cap;
    size_t body_cap_alloc;
    int out_of_memory;
} exchange;

static void clear_headers(ec_http_response *r)
{
    for (size_t i = 0; i < r->header_count; i++) {
        free((char *)r->headers[i].name);
        free((char *)r->headers[i].value);
    }
    r->header_count = 0;
    free(r->status_line);
    r->status_line = NULL;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    exchange *x = userdata;
    ec_http_response *r = x->resp;
    size_t n = size * nmemb;
    size_t len = n;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len == 0)
        return n; /* the blank line ending a header block */
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        /* A new status line: an interim 1xx answer is replaced by the final one. */
        clear_headers(r);
        r->status_line = dup_range(data, len);
        if (!r->status_line)
            x->out_of_memory = 1;
        return n;
    }
    const char *colon = memchr(data, ':', len);
    size_t name_len = colon ? (size_t)(colon - data) : len;
    const char *value = colon ? colon + 1 : data + len;
    size_t value_len = (size_t)(data + len - value);
    while (value_len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        value_len--;
    }
    ec_http_header *h = realloc(r->headers, (r->header_count + 1) * sizeof *h);
    if (!h) {
        x->out_of_memory = 1;
        return 0;
    }
    r->headers = h;
    char *nm = dup_range(data, name_len);
    char *val = dup_range(value, value_len);
    if (!nm || !val) {
        free(nm);
        free(val);
        x->out_of_memory = 1;
        return 0;
    }
    h[r->header_count].name = nm;
    h[r->header_count].value = val;
    r->header_count++;
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    exchange *x = userdata;
    ec_http_response *r = x->resp;
    size_t n = size * nmemb;
    size_t keep = n;
    if (r->body_len + keep > x->cap) {
        keep = x->cap - r->body_len;
        r->body_truncated = 1;
    }
    if (r->body_len + keep + 1 > x->body_cap_alloc) {
        size_t want = x->body_cap_alloc ? x->body_cap_alloc : 4096;
        while (r->body_len + keep + 1 > want)
            want *= 2;
        unsigned char *p = realloc(r->body, want);
        if (!p) {
            x->out_of_memory = 1;
            return 0;
        }
        r->body = p;
        x->body_cap_alloc = want;
    }
    memcpy(r->body + r->body_len, data, keep);
    r->body_len += keep;
    r->body[r->body_len] = '\0';
    /* Returning less than n makes libcurl stop reading: the rest of a huge
     * answer is never pulled off the socket. */
    return r->body_truncated ? keep : n;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int has_header(const ec_http_client_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (req->headers[i].name && strcasecmp(req->headers[i].name, name) == 0)
            return 1;
    return 0;
}

/* Host part of a URL, for messages ("127.0.0.1:9"). */
static void url_authority(const char *url, char *out, size_t out_size)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    if (n >= out_size)
        n = out_size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static void set_message(ec_http_response *r, ec_http_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_message(ec_http_response *r, ec_http_error e, const char *fmt, ...)
{
    va_list ap;
    r->error = e;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

/* Sort a libcurl failure into an error kind with a sentence. */
static void classify(ec_http_response *r, CURLcode rc, const char *url, long timeout_ms,
                     const char *curl_text, long os_errno, int connected)
{
    char where[128];
    url_authority(url, where, sizeof where);
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        if (os_errno == ECONNREFUSED || strstr(curl_text, "refused"))
            set_message(r, EC_HTTP_ERR_CONNECT, "connection refused to %s", where);
        else
            set_message(r, EC_HTTP_ERR_CONNECT, "could not connect to %s: %s", where,
                        os_errno ? strerror((int)os_errno) : curl_text);
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        set_message(r, EC_HTTP_ERR_CONNECT, "could not resolve the host in %s", where);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        /* Whether a connection was made, not libcurl's error text: after a
         * kept-alive connection turns out dead, the text is that stale
         * "Connection reset" while the timeout hit a new, connected one. */
        if (r->status == 0 && r->status_line == NULL && !connected)
            set_message(r, EC_HTTP_ERR_CONNECT, "could not connect to %s within the timeout",
                        where);
        else
            set_message(r, EC_HTTP_ERR_TIMEOUT, "timed out after %ld ms", timeout_ms);
        break;
    case CURLE_GOT_NOTHING:
        set_message(r, EC_HTTP_ERR_NO_ANSWER,
                    "%s closed the connection without answering", where);
        break;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        if (r->status_line)
            set_message(r, EC_HTTP_ERR_CLOSED,
                        "the answer was cut short after %zu body bytes: %s",
                        r->body_len, curl_text);
        else if (rc == CURLE_SEND_ERROR)
            set_message(r, EC_HTTP_ERR_CLOSED, "the connection broke while sending: %s",
                        curl_text);
        else
            set_message(r, EC_HTTP_ERR_NO_ANSWER,
                        "the connection to %s broke before an answer: %s", where, curl_text);
        break;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
        if (r->status_line == NULL)
            set_message(r, EC_HTTP_ERR_PROTOCOL, "not an HTTP answer (%s)", curl_text);
        else
            set_message(r, EC_HTTP_ERR_PROTOCOL, "malformed HTTP answer (%s)", curl_text);
        break;
    case CURLE_URL_MALFORMAT:
        set_message(r, EC_HTTP_ERR_ARG, "malformed URL: %s", url);
        break;
    default:
        set_message(r, EC_HTTP_ERR_OTHER, "%s", curl_text);
        break;
    }
}

ec_status ec_http_client_send(ec_http_client *client, const ec_http_client_request *req,
                              ec_http_response *resp)
{
    if (!resp)
        return EC_E_ARG;
    memset(resp, 0, sizeof *resp);
    if (!client || !req || !req->url || (req->header_count && !req->headers)) {
        set_message(resp, EC_HTTP_ERR_ARG, "missing client, request or URL");
        return EC_E_ARG;
    }
    if (!client->curl && !(client->curl = curl_easy_init())) {
        set_message(resp, EC_HTTP_ERR_OTHER, "libcurl could not create a handle");
        return EC_E_NOMEM;
    }
    CURL *c = client->curl;
    const char *method = req->method ? req->method : "GET";
    long timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
    long connect_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms
                                                  : (timeout_ms < DEFAULT_CONNECT_TIMEOUT_MS
                                                         ? timeout_ms
                                                         : DEFAULT_CONNECT_TIMEOUT_MS);
    exchange x = {.resp = resp,
                  .cap = req->max_response_body ? req->max_response_body : DEFAULT_MAX_BODY};
    ec_status st = EC_OK;
    struct curl_slist *list = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";

    /* Reset options but keep the connection cache: that is what gives
     * keep-alive reuse across sends. */
    curl_easy_reset(c);

    for (size_t i = 0; i < req->header_count; i++) {
        const ec_http_header *h = &req->headers[i];
        if (!h->name || !*h->name || strpbrk(h->name, "\r\n:") ||
            (h->value && strpbrk(h->value, "\r\n"))) {
            set_message(resp, EC_HTTP_ERR_ARG, "header %zu has an empty name or a line break", i);
            st = EC_E_ARG;
            goto out;
        }
        ec_textbuf line = {0};
        ec_textbuf_puts(&line, h->name);
        /* libcurl sends "Name;" as an empty "Name:" header, and "Name:"
         * alone removes a header it would add (Host, Content-Length). */
        if (!h->value) {
            ec_textbuf_puts(&line, ":");
        } else if (!*h->value) {
            ec_textbuf_puts(&line, ";");
        } else {
            ec_textbuf_puts(&line, ": ");
            ec_textbuf_puts(&line, h->value);
        }
        struct curl_slist *grown = line.failed ? NULL : curl_slist_append(list, line.data);
        free(line.data);
        if (!grown) {
            st = EC_E_NOMEM;
            goto out;
        }
        list = grown;
    }
    /* Suppress every header libcurl would add on its own. */
    static const char *const automatic[] = {"Accept", "Expect", "Content-Type", "User-Agent",
                                            "Transfer-Encoding"};
    for (size_t i = 0; i < sizeof automatic / sizeof automatic[0]; i++) {
        if (has_header(req, automatic[i]))
            continue;
        char line[64];
        snprintf(line, sizeof line, "%s:", automatic[i]);
        struct curl_slist *grown = curl_slist_append(list, line);
        if (!grown) {
            st = EC_E_NOMEM;
            goto out;
        }
        list = grown;
    }

    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (req->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        /* POSTFIELDS must not be NULL or libcurl would read from stdin. */
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body_len ? (const char *)req->body : "");
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }

    long start = now_ms();
    CURLcode rc = curl_easy_perform(c);
    resp->elapsed_ms = now_ms() - start;
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    resp->status = code;
    long connects = 0;
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
    resp->reused_connection = (rc == CURLE_OK && connects == 0);

    if (!resp->body) {
        resp->body = calloc(1, 1);
        if (!resp->body)
            x.out_of_memory = 1;
    }
    for (size_t i = 0; i < resp->header_count; i++)
        if (strcasecmp(resp->headers[i].name, "Content-Type") == 0) {
            free(resp->content_type);
            resp->content_type = strdup(resp->headers[i].value);
        }

    if (x.out_of_memory) {
        set_message(resp, EC_HTTP_ERR_OTHER, "out of memory while reading the answer");
        st = EC_E_NOMEM;
    } else if (resp->body_truncated) {
        set_message(resp, EC_HTTP_ERR_TOO_LARGE,
                    "the answer body is larger than %zu bytes; reading stopped there", x.cap);
        st = EC_F_TOO_LARGE;
    } else if (rc != CURLE_OK) {
        long os_errno = 0;
        curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
        /* Connected (afresh or over a kept-alive connection) once the
         * request could start going out. */
        curl_off_t connect_us = 0, pretransfer_us = 0;
        curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connect_us);
        curl_easy_getinfo(c, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
        classify(resp, rc, req->url, timeout_ms, errbuf[0] ? errbuf : curl_easy_strerror(rc),
                 os_errno, connect_us > 0 || pretransfer_us > 0);
        st = resp->error == EC_HTTP_ERR_ARG ? EC_E_ARG : EC_E_IO;
    }
out:
    curl_slist_free_all(list);
    /* libcurl keeps a pointer to errbuf in the handle: drop it before the
     * stack frame goes away. */
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    if (st == EC_F_TOO_LARGE) {
        /* Drop the half-read connection now so the next send starts clean. */
        curl_easy_cleanup(client->curl);
        client->curl = curl_easy_init();
    }
    if (!resp->body)
        resp->body = calloc(1, 1);
    return st;
}

/* ---- curl command line --------------------------------------------------- */

/* Append s, with every case-insensitive occurrence of secret replaced. */
static void append_redacted(ec_textbuf *b, const char *s, size_t n, const char *secret)
{
    size_t slen = secret ? strlen(secret) : 0;
    size_t i = 0;
    while (i < n) {
        if (slen && i + slen <= n && strncasecmp(s + i, secret, slen) == 0) {
            ec_textbuf_puts(b, "REDACTED");
            i += slen;
        } else {
            ec_textbuf_append(b, s + i, 1);
            i++;
        }
    }
}

/* Append a shell single-quoted word ('…' with ' written as '\''). */
static void append_quoted(ec_textbuf *b, const char *s, size_t n, const char *secret)
{
    ec_textbuf plain = {0};
    append_redacted(&plain, s, n, secret);
    ec_textbuf_puts(b, "'");
    for (size_t i = 0; i < plain.len; i++) {
        if (plain.data[i] == '\'')
            ec_textbuf_puts(b, "'\\''");
        else
            ec_textbuf_append(b, plain.data + i, 1);
    }
    ec_textbuf_puts(b, "'");
    if (plain.failed)
        b->failed = 1;
    free(plain.data);
}

char *ec_http_curl_command(const ec_http_client_request *req, const char *secret, int show_secret)
{
    if (!req || !req->url)
        return NULL;
    const char *hide = (show_secret || !secret || !*secret) ? NULL : secret;
    const char *method = req->method ? req->method : "GET";
    ec_textbuf b = {0};
    int printable = 1;
    for (size_t i = 0; req->body && i < req->body_len; i++)
        if (req->body[i] < 0x20 || req->body[i] > 0x7e)
            printable = 0;

    if (req->body && !printable) {
        /* printf reproduces any byte from \ooo escapes; only %, \ and '
         * need care inside the format. */
        ec_textbuf fmt = {0};
        for (size_t i = 0; i < req->body_len; i++) {
            unsigned char ch = req->body[i];
            char tmp[8];
            if (ch == '%')
                ec_textbuf_puts(&fmt, "%%");
            else if (ch == '\\')
                ec_textbuf_puts(&fmt, "\\\\");
            else if (ch >= 0x20 && ch <= 0x7e)
                ec_textbuf_append(&fmt, (const char *)&ch, 1);
            else {
                snprintf(tmp, sizeof tmp, "\\%03o", ch);
                ec_textbuf_puts(&fmt, tmp);
            }
        }
        ec_textbuf_puts(&b, "printf ");
        append_quoted(&b, fmt.data ? fmt.data : "", fmt.len, hide);
        ec_textbuf_puts(&b, " | ");
        if (fmt.failed)
            b.failed = 1;
        free(fmt.data);
    }
    ec_textbuf_puts(&b, "curl -sS -i --http1.1");
    if (strcmp(method, "HEAD") == 0)
        ec_textbuf_puts(&b, " -I");
    else if (!(req->body && strcmp(method, "POST") == 0) && strcmp(method, "GET") != 0) {
        ec_textbuf_puts(&b, " -X ");
        append_quoted(&b, method, strlen(method), hide);
    } else if (req->body && strcmp(method, "GET") == 0) {
        ec_textbuf_puts(&b, " -X GET");
    }
    if (req->timeout_ms > 0) {
        char tmp[48];
        snprintf(tmp, sizeof tmp, " --max-time %ld.%03ld", req->timeout_ms / 1000,
                 req->timeout_ms % 1000);
        ec_textbuf_puts(&b, tmp);
    }
    static const char *const automatic[] = {"Accept", "Expect", "Content-Type", "User-Agent"};
    for (size_t i = 0; i < sizeof automatic / sizeof automatic[0]; i++) {
        if (has_header(req, automatic[i]))
            continue;
        ec_textbuf_puts(&b, " -H ");
        char tmp[48];
        snprintf(tmp, sizeof tmp, "%s:", automatic[i]);
        append_quoted(&b, tmp, strlen(tmp), NULL);
    }
    for (size_t i = 0; i < req->header_count; i++) {
        const ec_http_header *h = &req->headers[i];
        if (!h->name)
            continue;
        ec_textbuf line = {0};
        ec_textbuf_puts(&line, h->name);
        if (!h->value) {
            ec_textbuf_puts(&line, ":");
        } else if (!*h->value) {
            ec_textbuf_puts(&line, ";");
        } else {
            ec_textbuf_puts(&line, ": ");
            ec_textbuf_puts(&line, h->value);
        }
        ec_textbuf_puts(&b, " -H ");
        append_quoted(&b, line.data ? line.data : "", line.len, hide);
        if (line.failed)
            b.failed = 1;
        free(line.data);
    }
    if (req->body) {
        ec_textbuf_puts(&b, " --data-binary ");
        if (printable)
            append_quoted(&b, (const char *)req->body, req->body_len, hide);
        else
            ec_textbuf_puts(&b, "@-");
    }
    ec_textbuf_puts(&b, " ");
    append_quoted(&b, req->url, strlen(req->url), hide);
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}
