/* emoncrypt — capture files: every request a device sent and every answer
 * it got, one JSON object per line (JSONL), so that `explain` and `replay`
 * can look at a field test again later.
 *
 * The write API key never reaches the file: every occurrence of it in any
 * text (URL, header values, body, answer) is replaced as report.h's
 * ec_redact does (hex in either case, base64 of its bytes) unless the user
 * asked for --show-secrets.  The
 * ciphertext is kept as sent, so the capture can be decrypted and
 * explained by whoever holds the key.
 *
 * A line looks like
 *   {"seq":3,"time":1732560000.123456,"kind":"exchange","remote":"127.0.0.1:5555",
 *    "connection":2,"method":"POST","path":"/input/bulk","query":"",
 *    "headers":[["Content-Type","aes128cbc"],["Authorization","1:3f…"]],
 *    "body":"AAEC…",                      (or "body_b64" for non-text bytes)
 *    "scenario":"wrong-ack","step":0,
 *    "reply":{"status":200,"content_type":"text/plain","body":"…","script":"normal"},
 *    "fault":"ok","mistakes":"","failed":["client/2.iv/fresh"]}
 * and an event (garbage on the socket, a client that left) as
 *   {"seq":0,"time":…,"kind":"event","event":"no-request","remote":…,"detail":"…"}
 */
#ifndef EMONCRYPT_CAPTURE_H
#define EMONCRYPT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char *name;
    char *value;
} ec_capture_header;

/* One line.  For writing, every pointer is borrowed (NULL = field left
 * out); after ec_capture_read, every pointer is owned by the record. */
typedef struct {
    uint64_t seq;
    double time;                  /* Unix seconds */
    char *kind;                   /* "exchange" or "event" */
    char *remote;
    uint64_t connection;
    char *method;
    char *path;
    char *query;
    ec_capture_header *headers;
    size_t header_count;
    uint8_t *body;                /* request body bytes (NUL-terminated on read) */
    size_t body_len;
    char *scenario;               /* scenario active when it arrived */
    int step;                     /* step index in it, -1 when none */
    int has_reply;
    unsigned reply_status;
    char *reply_content_type;
    uint8_t *reply_body;
    size_t reply_body_len;
    char *reply_script;           /* "normal", "delay", "trickle", "reset", "never" */
    char *fault;                  /* ec_status name of the shared server verdict */
    char *mistakes;               /* diagnosed ec_mistake names, ", "-separated */
    char **failed;                /* ids of the checks this request failed */
    size_t failed_count;
    char *event;                  /* kind "event": httpd event name */
    char *detail;                 /* human sentence */
} ec_capture_record;

typedef struct ec_capture_writer ec_capture_writer;

/* Open path for writing (truncating).  secret is the API key text to
 * redact (may be NULL); show_secret != 0 keeps it.  Returns EC_OK, EC_E_IO
 * (errbuf gets the reason) or EC_E_NOMEM. */
ec_status ec_capture_open(const char *path, const char *secret, int show_secret,
                          ec_capture_writer **out, char *errbuf, size_t errbuf_size);

/* Append one record as one line and flush it (so a capture survives a
 * crash or Ctrl-C).  Thread-safe.  On an exchange, seq 0 is replaced by the
 * next number (one more than the highest so far); events keep their seq
 * (0 = none): they are not requests and do not take a request's number. */
ec_status ec_capture_write(ec_capture_writer *w, const ec_capture_record *rec);

/* Flush and close.  NULL is ignored. */
void ec_capture_close(ec_capture_writer *w);

/* Read the next record from f.  Returns 1 when *rec was filled, 0 at end of
 * file, -1 on a malformed line (errbuf says which and why; the line is
 * skipped, so reading can go on).  Blank lines are skipped. */
int ec_capture_read(FILE *f, ec_capture_record *rec, char *errbuf, size_t errbuf_size);

/* Free what ec_capture_read filled and zero the record. */
void ec_capture_record_free(ec_capture_record *rec);

#ifdef __cplusplus
}
#endif
#endif
