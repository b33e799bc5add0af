/* emoncrypt — the reference vector file (vectors/emoncms_input_v1.json,
 * format in vectors/README.md) loaded into C structs.
 *
 * The loader checks the whole file before handing anything out: every
 * field it reads must have the documented type, and the first one that
 * does not is reported with the file name and its JSON path
 * ("…/emoncms_input_v1.json: testGroups[1].tests[7].request.body: expected
 * a string").  A malformed file is an error, never a crash.
 *
 * Memory: ec_vector_file owns everything it points to; release it with
 * ec_vectors_free.  Pointers into it stay valid until then.
 */
#ifndef EMONCRYPT_VECTORS_H
#define EMONCRYPT_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include "emoncrypt/message.h"
#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    EC_VECTOR_VALID = 0,        /* every conformant server accepts */
    EC_VECTOR_INVALID = 1,      /* every conformant server rejects */
    EC_VECTOR_ACCEPTABLE = 2    /* Emoncms accepts, a strict server may reject */
} ec_vector_result;

/* "valid", "invalid", "acceptable"; -1 when unknown. */
int ec_vector_result_from_name(const char *name);
const char *ec_vector_result_name(ec_vector_result r);

/* One stored row: [time, node, name, value-or-null]. */
typedef struct {
    int64_t time;
    char *node;
    char *name;
    double value;
    int is_null;
} ec_vector_row;

/* `expected` / `expectedStrict`. */
typedef struct {
    int status;
    char *content_type;
    char *body;                 /* may contain NUL; body_len is exact */
    size_t body_len;
    char *fault;                /* ec_status name */
    char *detail;               /* NULL when absent */
    char *www_authenticate;     /* NULL when absent */
    int has_rows;
    ec_vector_row *rows;
    size_t n_rows;
} ec_vector_expect;

typedef struct {
    char *tc_id;
    char *comment;
    char **flags;
    size_t n_flags;
    ec_profile profile;         /* of its test group */
    char *apikey;               /* the server's key for userid, as written */
    char *client_apikey;        /* the key the client used when it differs
                                   (wrong-key vectors), else NULL */
    char *userid;
    char *username;             /* NULL when absent */
    int has_iv;
    uint8_t iv[EC_IV_LEN];
    int has_plaintext;
    uint8_t *plaintext;         /* decoded from hex */
    size_t plaintext_len;
    int has_mistakes;
    unsigned mistakes;          /* OR of ec_mistake */
    /* request */
    char *method;
    char *path;
    char *query;                /* NULL when absent */
    char *content_type;         /* NULL = header absent */
    char *authorization;        /* NULL = header absent */
    char *body;
    size_t body_len;
    int64_t now;
    ec_vector_expect expected;
    int has_expected_strict;
    ec_vector_expect expected_strict;
    char *ack;                  /* NULL when absent */
    ec_vector_result result;
} ec_vector;

typedef struct {
    char *path;                 /* the file it was loaded from */
    char *algorithm;
    int number_of_tests;
    ec_vector *tests;           /* in file order, all groups together */
    size_t n;
} ec_vector_file;

/* Load and check a vector file.  On failure returns EC_E_IO (unreadable),
 * EC_E_JSON (not JSON, or a field of the wrong type or value) or
 * EC_E_NOMEM, writes a one-line reason with file and JSON path into err
 * (may be NULL), and leaves *out empty. */
ec_status ec_vectors_load(const char *path, ec_vector_file *out, char *err,
                          size_t err_cap);
void ec_vectors_free(ec_vector_file *f);

/* Selects vectors; -1 / NULL fields match everything. */
typedef struct {
    int profile;                /* ec_profile or -1 */
    int result;                 /* ec_vector_result or -1 */
    const char *flag;           /* a flag the vector must carry, or NULL */
} ec_vector_filter;

/* An all-matching filter. */
ec_vector_filter ec_vector_filter_all(void);
int ec_vector_matches(const ec_vector *v, const ec_vector_filter *f);
/* Iterate: start with *cursor = 0; returns the next matching vector or
 * NULL at the end.  f may be NULL (everything). */
const ec_vector *ec_vectors_next(const ec_vector_file *file,
                                 const ec_vector_filter *f, size_t *cursor);
/* The vector with this tcId, or NULL. */
const ec_vector *ec_vectors_find(const ec_vector_file *file, const char *tc_id);

/* The builder inputs of a vector that has iv and plaintext (EC_E_ARG
 * otherwise, or when its apikey is not 32 hex digits).  The strings point
 * into v. */
ec_status ec_vector_request_params(const ec_vector *v, ec_request_params *p);
/* The request as the server sees it; pointers into v. */
void ec_vector_http_request(const ec_vector *v, ec_http_request *req);

/* The expectation for a profile of server: strict uses expectedStrict when
 * the vector has one, else expected. */
const ec_vector_expect *ec_vector_expectation(const ec_vector *v, int strict);

#ifdef __cplusplus
}
#endif
#endif
