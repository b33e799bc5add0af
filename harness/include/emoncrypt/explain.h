/* emoncrypt — explain one request layer by layer: what each layer of the
 * encoding holds (base64 alphabet and padding, IV, ciphertext length,
 * PKCS#7 bytes, plaintext, HMAC expected vs given, the answer a correct
 * server gives and its ack), and, when the request is wrong, which known
 * client mistake makes it valid, in one sentence:
 *   "your HMAC is over the plaintext plus a trailing NUL byte".
 *
 * The verdict and the mistake come from diagnose.h (the shared server
 * logic, then a rebuild of the request with every known mistake and every
 * pair of them, kept when it reproduces body and Authorization byte for
 * byte).  This module adds the layer-by-layer reading of the bytes, done
 * with the codec, and the sentence; so `explain`, the client-role suite and
 * the captures name a mistake the same way.
 *
 * Secrets: the API key is an input; no field of an explanation contains it
 * (every text is passed through report.h's ec_redact, which also catches
 * its base64 and raw forms), so printing an explanation is always safe.
 *
 * Memory: ec_explanation owns its layers; release with ec_explanation_free.
 */
#ifndef EMONCRYPT_EXPLAIN_H
#define EMONCRYPT_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "emoncrypt/message.h"
#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The request to explain.  Every pointer is borrowed for the call. */
typedef struct {
    const char *apikey_hex;       /* required: the write API key, 32 hex digits */
    const char *userid;           /* the user the key belongs to; NULL = the
                                     user id in Authorization (or "1") */
    const char *username;         /* legacy profile's username, or NULL */
    const char *method;           /* NULL = "POST" */
    const char *path;             /* NULL = "/input/post" */
    const char *query;            /* raw query string without '?', or NULL */
    const char *content_type;     /* NULL = header absent */
    const char *authorization;    /* NULL = header absent */
    const uint8_t *body;          /* may be NULL when body_len is 0 */
    size_t body_len;
    int64_t now;                  /* server clock for the application step;
                                     0 = the current time */
    int strict;                   /* judge as the strict profile (default:
                                     compat, i.e. as Emoncms answers) */
} ec_explain_input;

/* Sizes of the text fields of a layer (longer texts are cut with "…"). */
#define EC_EXPLAIN_FIELD 320

/* One layer of the request, outermost first. */
typedef struct {
    const char *name;             /* "route", "content-type", "authorization",
                                     "base64", "iv", "ciphertext", "padding",
                                     "inflate", "plaintext", "hmac",
                                     "application", "answer", "diagnosis" */
    int ok;                       /* 1: as the protocol wants it */
    int reached;                  /* 0: not examined, an outer layer failed
                                     (then ok is 0 and actual says why) */
    char expected[EC_EXPLAIN_FIELD];
    char actual[EC_EXPLAIN_FIELD];
    char note[EC_EXPLAIN_FIELD];  /* "" or one sentence */
} ec_explain_layer;

#define EC_EXPLAIN_MAX_LAYERS 16

typedef struct {
    ec_explain_layer layers[EC_EXPLAIN_MAX_LAYERS];
    size_t layer_count;

    int valid;                    /* 1: accepted and every layer as the
                                     protocol wants (a body without '='
                                     padding is valid) */
    int accepted;                 /* the server answers the ack */
    ec_status fault;              /* the server's verdict (EC_OK = accepted) */
    ec_status detail;             /* its inner cause (never sent on the wire) */
    int http_status;              /* what the server answers */
    char answer_content_type[48];
    char answer[256];             /* its body (cut, printable-escaped) */
    char ack[EC_ACK_LEN + 1];     /* the ack of the request's data, when known
                                     ("" when nothing decrypted) */

    int reproduced;               /* a rebuild reproduced the request */
    unsigned mistakes;            /* the ec_mistake bits that reproduce it
                                     (never EC_MISTAKE_NO_B64_PADDING: that
                                     one is allowed and only noted) */
    unsigned alternatives;        /* other mistakes giving the same bytes */
    int wrong_key;                /* 1: nothing decrypts it with this key */

    char verdict[640];            /* one or two sentences */
} ec_explanation;

void ec_explanation_init(ec_explanation *e);
void ec_explanation_free(ec_explanation *e);

/* Explain in->… into *out (initialise it first).  Returns EC_OK when *out
 * was filled (whatever the verdict), EC_E_KEY when apikey_hex is not 32
 * hex digits, EC_E_ARG or EC_E_NOMEM.  Never crashes on any body bytes. */
ec_status ec_explain_request(const ec_explain_input *in, ec_explanation *out);

/* The verdict sentence for a wrong key, exported so callers and tests
 * match it exactly. */
extern const char ec_explain_wrong_key_text[];

/* Readable layered text: one block per layer ("ok", "FAIL" or "--" for not
 * reached; expected / actual / note), then the verdict.  Returns 0, or -1
 * on a write error. */
int ec_explanation_write_text(const ec_explanation *e, FILE *out);

/* One JSON object {valid, accepted, fault, detail, answer{status,
 * content_type, body}, ack, mistakes[], alternatives[], wrong_key,
 * verdict, layers[{name, ok, reached, expected, actual, note}]}.
 * Returns a malloc'd NUL-terminated string (indented when indent != 0), or
 * NULL when out of memory. */
char *ec_explanation_json(const ec_explanation *e, int indent);

#ifdef __cplusplus
}
#endif
#endif
