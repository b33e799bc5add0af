/* emoncrypt — diagnose one received request: what a correct server answers
 * to it, and which known client mistake (message.h, ec_mistake) explains
 * the bytes when it is wrong.
 *
 * The verdict comes from the shared server logic (ec_server_answer, compat
 * profile), so a request is judged exactly as the server role judges it.
 * The diagnosis then recovers the IV and the plaintext from the body under
 * each way a client is known to get it wrong (IV appended, key taken from
 * the hex text, zero padding, no pad block, broken CBC chaining, gzip
 * instead of zlib), rebuilds the request with ec_request_build and each
 * combination of one or two mistake bits, and keeps the combination that
 * reproduces the received body AND Authorization byte for byte.  The
 * client-role suite and `explain` both use it, so a mistake is named the
 * same way everywhere.
 *
 * Memory: ec_diagnosis owns heap buffers; release with ec_diagnosis_free.
 */
#ifndef EMONCRYPT_DIAGNOSE_H
#define EMONCRYPT_DIAGNOSE_H

#include <stddef.h>
#include <stdint.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"
#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the diagnosis needs to know besides the request. */
typedef struct {
    uint8_t key[EC_KEY_LEN];      /* the user's key (hex2bin of the apikey) */
    const char *apikey_hex;       /* the 32 hex digits: the hex-key mistakes
                                     need them; NULL skips those two */
    const char *userid;           /* the user id the key belongs to */
    const char *username;         /* legacy profile's username, or NULL */
    int64_t now;                  /* server clock for the application step */
    int strict;                   /* passed on to ec_server_answer */
} ec_diagnose_config;

typedef struct {
    ec_answer answer;             /* the shared server logic's verdict */

    /* The body as it decodes (lenient decoder, IV first, right key). */
    size_t decoded_len;           /* bytes after base64 decoding */
    int has_iv;                   /* decoded_len >= 16 */
    uint8_t iv[EC_IV_LEN];        /* first 16 decoded bytes (or the IV the
                                     found mistake implies) */
    ec_status decrypt_status;     /* ec_aes128_cbc_decrypt with the right key
                                     and IV-first layout: EC_OK, EC_E_CT_*,
                                     EC_E_PAD_* */

    /* The application plaintext, when any hypothesis recovered one that
     * reproduced the request (or, failing that, when the plain decryption
     * succeeded).  NULL otherwise. */
    uint8_t *plaintext;
    size_t plaintext_len;
    int plaintext_trusted;        /* 1 when the rebuild reproduced the bytes */

    /* The mistake bits whose rebuild reproduced body and Authorization
     * exactly; 0 with reproduced = 1 means a correct request. */
    int reproduced;
    unsigned mistakes;
    /* Other mistake sets of the same size that reproduce the same bytes
     * (OR of their bits): the bytes cannot tell them apart. */
    unsigned alternatives;
    /* When nothing reproduced everything: did some rebuild reproduce the
     * body alone (then the HMAC is wrong in a way no mistake explains)? */
    int body_reproduced;
} ec_diagnosis;

void ec_diagnosis_init(ec_diagnosis *d);
void ec_diagnosis_free(ec_diagnosis *d);

/* Judge req with the shared server logic (lookup answers cfg->userid with
 * cfg->key) and then search for the mistakes that explain it.  Returns
 * EC_OK when d was filled (whatever the verdict), EC_E_NOMEM or EC_E_ARG. */
ec_status ec_diagnose_request(const ec_diagnose_config *cfg,
                              const ec_http_request *req, ec_diagnosis *d);

/* "hmac-over-ct, no-b64-padding" style list of the bits, into out.
 * Returns out; "" for 0. */
const char *ec_mistake_list(unsigned mistakes, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
