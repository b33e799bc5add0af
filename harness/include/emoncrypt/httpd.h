/* emoncrypt — an embeddable HTTP/1.1 server for playing Emoncms to a device
 * (libmicrohttpd).
 *
 * The client-role suite is a mock server: it must see each request exactly
 * as the device sent it (header order, case, duplicates, raw path and
 * query, body bytes) and answer in scripted ways a flaky real server might:
 * late, slowly, cut off, or never.  One handler callback receives a request
 * view and fills a reply; the reply's script says how it goes out.
 *
 * Threads: by default every connection gets its own thread (up to
 * max_connections), so a held or trickled answer never delays another
 * client.  With thread_pool_size > 0 a fixed pool polls all connections
 * instead; then a delayed or held reply occupies one pool thread for its
 * duration.  The handler and the event hook may run on several threads at
 * once: guard shared state.
 */
#ifndef EMONCRYPT_HTTPD_H
#define EMONCRYPT_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One header as it arrived: original case, in order, duplicates kept. */
typedef struct {
    const char *name;
    const char *value;
} ec_httpd_header;

/* What the handler sees.  Every pointer is valid only during the call. */
typedef struct {
    const char *method;            /* "POST" */
    const char *path;              /* raw path as sent, not percent-decoded: "/input/post" */
    const char *query;             /* raw text after '?', "" when none */
    const char *version;           /* "HTTP/1.1" */
    const ec_httpd_header *headers;
    size_t header_count;
    const unsigned char *body;     /* exact bytes (NUL-terminated for convenience) */
    size_t body_len;
    const char *remote_addr;       /* "127.0.0.1:53412" */
    uint64_t connection_id;        /* 1, 2, …: equal ids = same TCP connection */
    uint64_t request_index;        /* 1-based count of requests on this connection */
    double arrival_time;           /* Unix time (s, µs precision) the request line arrived */
} ec_httpd_request;

/* How a reply goes out. */
typedef enum {
    EC_HTTPD_NORMAL = 0, /* answer at once */
    EC_HTTPD_DELAY,      /* wait delay_ms, then answer normally */
    EC_HTTPD_TRICKLE,    /* headers at once (after delay_ms), then trickle_bytes of
                            body every trickle_interval_ms */
    EC_HTTPD_RESET,      /* (after delay_ms) send headers and the first reset_after
                            bytes of the body, then reset the connection (TCP RST);
                            reset_after >= body length sends the whole body and
                            ends normally */
    EC_HTTPD_NEVER       /* send nothing; hold until the client closes or the
                            server stops */
} ec_httpd_script;

/* Filled by the handler.  Start: status 200, no headers, empty body,
 * EC_HTTPD_NORMAL.  Use the setters below; they copy their arguments. */
typedef struct ec_httpd_reply ec_httpd_reply;

/* Set the HTTP status (100..999). */
void ec_httpd_reply_status(ec_httpd_reply *reply, unsigned status);
/* Add a header; returns EC_OK, EC_E_ARG (line break in name or value) or
 * EC_E_NOMEM.  Content-Length and Date are managed by the server. */
ec_status ec_httpd_reply_header(ec_httpd_reply *reply, const char *name, const char *value);
/* Replace the body with a copy of body[0..len). */
ec_status ec_httpd_reply_body(ec_httpd_reply *reply, const void *body, size_t len);
/* Choose the script.  delay_ms applies to DELAY, TRICKLE and RESET;
 * trickle_bytes (>= 1) and trickle_interval_ms to TRICKLE; reset_after to
 * RESET.  NORMAL and NEVER ignore the numbers. */
void ec_httpd_reply_script(ec_httpd_reply *reply, ec_httpd_script script, unsigned delay_ms,
                           size_t trickle_bytes, unsigned trickle_interval_ms,
                           size_t reset_after);

/* The handler: called once per complete request (body fully read), on a
 * server thread.  It must not block for long; scripted delays belong in
 * ec_httpd_reply_script. */
typedef void (*ec_httpd_handler)(void *ctx, const ec_httpd_request *req, ec_httpd_reply *reply);

/* Protocol-level events the handler never sees, so that a mock can log a
 * FAIL for a device that sent garbage or gave up half way. */
typedef enum {
    EC_HTTPD_EV_NO_REQUEST,   /* a connection closed without sending a parsable request line */
    EC_HTTPD_EV_INCOMPLETE,   /* a request started but its headers or body never completed */
    EC_HTTPD_EV_TOO_LARGE,    /* a body above max_body was refused with 413 */
    EC_HTTPD_EV_CLIENT_GONE,  /* the client closed while a reply was being sent or held */
    EC_HTTPD_EV_REPLY_ERROR,  /* the handler's reply could not be sent */
    EC_HTTPD_EV_BAD_FRAMING   /* refused with 400 and closed, the handler never ran: the
                                 message framing is ambiguous (RFC 9112 6.3: Content-Length
                                 repeated or beside Transfer-Encoding, a Transfer-Encoding
                                 other than chunked) or a header holds a control byte */
    , EC_HTTPD_EV_EMPTY       /* a connection closed without sending a single byte (a port
                                 probe, a health check, a pre-connect): no request at all,
                                 so not a malformed one; the kernel's count of bytes
                                 received (TCP_INFO) is 0, or, with first_bytes_gate,
                                 it sent only empty lines */
} ec_httpd_event_kind;

typedef struct {
    ec_httpd_event_kind kind;
    uint64_t connection_id;
    const char *remote_addr;  /* "127.0.0.1:53412" */
    const char *method;       /* when known, else NULL */
    const char *uri;          /* raw request target when known, else NULL */
    const char *detail;       /* human sentence */
} ec_httpd_event;

typedef void (*ec_httpd_event_hook)(void *ctx, const ec_httpd_event *ev);

/* Stable kebab-case name of an event kind. */
const char *ec_httpd_event_name(ec_httpd_event_kind kind);

/* The listen address that opens no socket: the server starts no thread
 * and requests reach its handler only through ec_httpd_call (in-process
 * fuzzing of the handlers, tests). */
#define EC_HTTPD_IN_PROCESS "in-process"

typedef struct {
    const char *listen;             /* "127.0.0.1:PORT"; PORT 0 picks a free port;
                                       or EC_HTTPD_IN_PROCESS */
    ec_httpd_handler handler;       /* required */
    ec_httpd_event_hook on_event;   /* optional */
    void *ctx;                      /* passed to handler and on_event */
    size_t max_body;                /* larger bodies get 413; 0 means 1 MiB */
    unsigned max_connections;       /* 0 means 32 */
    unsigned idle_timeout_s;        /* per-connection inactivity limit; 0 means 30 */
    unsigned thread_pool_size;      /* 0 = one thread per connection (see above) */
    /* Slowloris: deadlines for a whole request's headers (from the
     * connection's start or the end of its previous request) and for its
     * body (from the end of its headers), not reset by each byte as the
     * idle timeout is; past one the connection is closed.  0 = none. */
    unsigned header_deadline_ms;
    unsigned body_deadline_ms;
    unsigned max_per_address;       /* connections from one client address;
                                       0 = no cap */
    /* libmicrohttpd's memory per connection (its read buffer for the
     * request line and headers, and the reply's headers); a request whose
     * head does not fit is refused by it (431).  0 = its default, 32 KiB. */
    size_t connection_memory;
    /* Called with ctx about every 50 ms from the server's timer thread
     * (the one that enforces the deadlines) while it runs, never after
     * ec_httpd_stop returns; NULL = none.  serve flushes its log from it. */
    void (*on_tick)(void *ctx);
    /* Optional: a request the handler answered is over on this connection
     * (its reply sent, or the client gone: a client-gone event for it
     * comes first).  Not called while the server stops. */
    void (*on_done)(void *ctx, uint64_t connection_id);
    /* Nonzero: the server accepts each connection itself and looks at its
     * first bytes before libmicrohttpd does, so that a connection that
     * sends only empty lines (CR/LF, which RFC 9112 2.2 says to ignore
     * before a request line) and closes is EC_HTTPD_EV_EMPTY, no request,
     * where libmicrohttpd cannot tell it from a malformed request line
     * (EC_HTTPD_EV_NO_REQUEST).  Costs a thread; test-client's mock uses it. */
    int first_bytes_gate;
} ec_httpd_config;

typedef struct ec_httpd ec_httpd;

/* Start serving.  On success *out is the server and EC_OK is returned; on
 * failure *out is NULL and EC_E_ARG (bad listen address, no handler) or
 * EC_E_IO (cannot bind; errbuf, when given, gets a sentence) is returned. */
ec_status ec_httpd_start(const ec_httpd_config *config, ec_httpd **out, char *errbuf,
                         size_t errbuf_size);

/* The port actually bound (useful after PORT 0). */
unsigned ec_httpd_port(const ec_httpd *server);

/* "http://127.0.0.1:PORT" for this server, into buf.  Returns buf. */
const char *ec_httpd_base_url(const ec_httpd *server, char *buf, size_t size);

/* Ask every delayed, trickled or held reply to end now.  Only sets a flag,
 * so it is async-signal-safe: call it from a signal handler, then call
 * ec_httpd_stop from the main loop. */
void ec_httpd_interrupt(ec_httpd *server);

/* What ec_httpd_call hands back.  Free with ec_httpd_result_free. */
typedef struct {
    unsigned status;
    char *headers;                  /* "Name: value\r\n" per header, NUL-terminated */
    unsigned char *body;            /* NUL-terminated for convenience */
    size_t body_len;
    ec_httpd_script script;         /* reported, not played */
} ec_httpd_result;

/* Call server's handler on req as if it had arrived, on the caller's
 * thread: no socket, no HTTP parsing or framing checks (those are
 * libmicrohttpd's and httpd.c's), no delay.  A NULL req->version,
 * remote_addr or arrival_time of 0 are filled in.  For an in-process
 * server (EC_HTTPD_IN_PROCESS), or beside a listening one.  The answer is
 * over when the handler returns: on_done follows at once.  Returns EC_OK,
 * EC_E_ARG or EC_E_NOMEM (then *out holds nothing to free). */
ec_status ec_httpd_call(ec_httpd *server, const ec_httpd_request *req, ec_httpd_result *out)
    __attribute__((warn_unused_result));
void ec_httpd_result_free(ec_httpd_result *result);

/* Interrupt, close every connection, join all threads and free the server.
 * Not async-signal-safe.  NULL is ignored. */
void ec_httpd_stop(ec_httpd *server);

#ifdef __cplusplus
}
#endif
#endif
