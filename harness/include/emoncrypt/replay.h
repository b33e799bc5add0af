/* emoncrypt — replay captured device traffic to a server and compare the
 * answers, so a field problem can be reproduced without the device.
 *
 * A capture (capture.h) holds every request a device sent and the answer
 * it got.  Replaying sends each request again, byte for byte (method, path,
 * query, headers in their order, body) to another server (the real Emoncms
 * or `emoncrypt serve`) and compares the new answer with the captured one:
 * HTTP status, Content-Type and body, with the first differing byte.
 *
 * What cannot be replayed exactly, and is said so in the item's note:
 *  - Host, Content-Length, Connection, Transfer-Encoding and Expect are
 *    the transport's, not the device's: the client writes its own;
 *  - text the capture redacted (the API key) is sent as "[REDACTED]";
 *  - answers test-client scripted (a wrong ack, a 500, a timeout) are not
 *    what a server says: a difference there is expected, and counted apart
 *    (the caller tells which ones were scripted, see ec_replay_config).
 */
#ifndef EMONCRYPT_REPLAY_H
#define EMONCRYPT_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "emoncrypt/capture.h"
#include "emoncrypt/httpclient.h"
#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Says whether the captured answer to rec was scripted by whoever
 * captured it (test-client answers a scenario's steps with a wrong ack, a
 * 500, …), i.e. it is not what the device's server said on its own.
 * Returns 1 for scripted. */
typedef int (*ec_replay_scripted_fn)(void *ctx, const ec_capture_record *rec);

typedef struct {
    const char *base_url;        /* "http://127.0.0.1:8080" or ".../emoncms";
                                    the captured path is appended */
    long timeout_ms;             /* per request; <= 0 means 5000 */
    ec_replay_scripted_fn scripted;  /* NULL: only a reply script other than
                                        "normal" counts as scripted */
    void *scripted_ctx;
} ec_replay_config;

/* The outcome of one replayed request.  Strings are NUL-terminated and
 * printable-escaped (cut with "..."); none contains the API key, because
 * the capture never did. */
typedef struct {
    uint64_t seq;                /* the record's seq */
    char method[16];
    char target[512];            /* path and query as sent */
    int scripted;                /* 1: the captured answer was scripted by
                                    test-client (script other than "normal") */
    int redacted;                /* 1: the request holds "[REDACTED]" text */
    int has_captured;            /* 0: the capture has no answer for it */
    unsigned captured_status;
    char captured_content_type[96];
    char captured_body[256];
    int sent;                    /* 0: could not send (see error) */
    long replayed_status;        /* 0 when no answer */
    char replayed_content_type[96];
    char replayed_body[256];
    ec_http_error error;         /* EC_HTTP_ERR_NONE on a complete answer */
    char error_text[256];
    int same_status, same_content_type, same_body;
    int same;                    /* all three equal */
    long first_diff;             /* first differing body byte, -1 if none */
    char difference[320];        /* one sentence, "" when same */
    char note[256];              /* what may explain a difference, or "" */
} ec_replay_item;

/* Replay one "exchange" record with client (reuse one client for a whole
 * capture, as a device keeps its connection).  Returns EC_OK when *out
 * was filled (whatever was answered; out->sent says whether it went out),
 * EC_E_ARG for a record that is not a request, EC_E_NOMEM. */
ec_status ec_replay_record(ec_http_client *client, const ec_replay_config *cfg,
                           const ec_capture_record *rec, ec_replay_item *out);

/* 1 when a header of that name is the transport's and not replayed. */
int ec_replay_header_skipped(const char *name);

#ifdef __cplusplus
}
#endif
#endif
