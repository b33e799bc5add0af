/* emoncrypt — a small HTTP/1.1 client for probing a live server (libcurl).
 *
 * The server-role suite sends deliberately odd requests and judges the
 * answers byte for byte, so this client adds nothing of its own: no
 * Content-Type, no Expect: 100-continue, no Accept, no User-Agent; only Host
 * and (when a body is sent) Content-Length.  Headers go out exactly as given,
 * in order, duplicates and odd case included.  One client handle keeps its
 * connection alive between requests (like a device would).
 *
 * Errors are sorted into kinds so that a suite can stop early (exit 2) when
 * the target cannot be reached at all, and record a FAIL when the target
 * answered badly.
 */
#ifndef EMONCRYPT_HTTPCLIENT_H
#define EMONCRYPT_HTTPCLIENT_H

#include <stddef.h>

#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What went wrong with one exchange.  EC_HTTP_ERR_CONNECT is the only kind
 * that means "nothing is listening there"; everything else is a property of
 * the answer (or of its absence) that a suite may judge. */
typedef enum {
    EC_HTTP_ERR_NONE = 0,  /* a complete HTTP answer was read */
    EC_HTTP_ERR_CONNECT,   /* could not resolve or connect (refused, unreachable, connect timeout) */
    EC_HTTP_ERR_TIMEOUT,   /* connected, but the whole answer did not arrive in time */
    EC_HTTP_ERR_NO_ANSWER, /* the server closed the connection without sending anything */
    EC_HTTP_ERR_CLOSED,    /* the answer was cut short (reset or close mid-response) */
    EC_HTTP_ERR_PROTOCOL,  /* bytes arrived but they are not an HTTP/1.x answer */
    EC_HTTP_ERR_TOO_LARGE, /* the body passed the caller's cap; reading stopped there */
    EC_HTTP_ERR_ARG,       /* the request itself was unusable (bad URL, bad header) */
    EC_HTTP_ERR_OTHER      /* anything else libcurl reported */
} ec_http_error;

/* Stable kebab-case name of an error kind ("connect", "timeout", …). */
const char *ec_http_error_name(ec_http_error e);

/* One header line.  Both strings are borrowed; name is sent with its case
 * as given.  An empty value "" sends "Name:" with nothing after the colon.
 * A NULL value sends nothing and suppresses the header of that name the
 * client would otherwise add: {"Host", NULL} or {"Content-Length", NULL}
 * give a request without Host or without Content-Length. */
typedef struct {
    const char *name;
    const char *value;
} ec_http_header;

/* One request.  All pointers are borrowed for the duration of the call.
 * (Named ec_http_client_request because message.h owns ec_http_request,
 * the server-side view of a request; the two headers may meet in one
 * file.) */
typedef struct {
    const char *method;           /* "POST", "GET", anything; NULL = "GET" */
    const char *url;              /* "http://127.0.0.1:8080/input/post" */
    const ec_http_header *headers;/* sent in this order; may be NULL */
    size_t header_count;
    const unsigned char *body;    /* exact bytes; NULL = send no body at all */
    size_t body_len;              /* body != NULL && body_len == 0 sends Content-Length: 0 */
    long timeout_ms;              /* whole exchange; <= 0 means 10000 */
    long connect_timeout_ms;      /* <= 0 means min(timeout_ms, 5000) */
    size_t max_response_body;     /* cap on bytes kept; 0 means 1 MiB */
} ec_http_client_request;

/* The answer to one request.  Filled by ec_http_client_send, released by
 * ec_http_response_free (which also zeroes it, so it can be reused). */
typedef struct {
    long status;                  /* e.g. 200; 0 when no status line arrived */
    char *status_line;            /* "HTTP/1.1 200 OK" without CRLF, or NULL */
    ec_http_header *headers;      /* all headers of the final answer, in order,
                                     as received (strings owned here) */
    size_t header_count;
    char *content_type;           /* value of the last Content-Type header, or NULL */
    unsigned char *body;          /* the bytes received (up to the cap), NUL-terminated
                                     for convenience; never NULL after a send */
    size_t body_len;
    int body_truncated;           /* 1 when the cap was hit (error is TOO_LARGE) */
    long elapsed_ms;              /* wall time of the exchange */
    int reused_connection;        /* 1 when an earlier connection was reused */
    ec_http_error error;          /* EC_HTTP_ERR_NONE on a complete answer */
    char message[256];            /* human sentence for error ("" when none) */
} ec_http_response;

typedef struct ec_http_client ec_http_client;

/* Create a client.  Connections are kept alive and reused across sends on
 * the same client.  Returns NULL when out of memory.  Not thread-safe: use
 * one client per thread. */
ec_http_client *ec_http_client_new(void);

/* Close kept-alive connections and free the client.  NULL is ignored. */
void ec_http_client_free(ec_http_client *client);

/* Send one request and read the answer into *resp (which must be zeroed or
 * freed before).  Returns EC_OK when a complete HTTP answer arrived
 * (whatever its status), EC_E_ARG for an unusable request, EC_E_NOMEM,
 * EC_F_TOO_LARGE when the body exceeded the cap (status and headers are
 * still filled), and EC_E_IO for every other failure; resp->error and
 * resp->message say which ("connection refused to 127.0.0.1:9", "timed
 * out after 2000 ms", "not an HTTP answer", …).  Always call
 * ec_http_response_free afterwards. */
ec_status ec_http_client_send(ec_http_client *client, const ec_http_client_request *req,
                              ec_http_response *resp);

/* Free what a response owns and zero it.  NULL is ignored. */
void ec_http_response_free(ec_http_response *resp);

/* First header of the response named `name` (case-insensitive), or NULL. */
const char *ec_http_response_header(const ec_http_response *resp, const char *name);

/* Render a runnable shell command line (`curl …`) that sends the same bytes
 * as `req` would.  Every case-insensitive occurrence of `secret` (when not
 * NULL or empty) is replaced by "REDACTED" unless show_secret is non-zero.
 * Bodies with bytes outside printable ASCII are piped through printf.
 * Returns a malloc'd string the caller frees, or NULL when out of memory. */
char *ec_http_curl_command(const ec_http_client_request *req, const char *secret,
                           int show_secret);

#ifdef __cplusplus
}
#endif
#endif
