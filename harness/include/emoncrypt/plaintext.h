/* emoncrypt — plaintext parsing and the application meaning of a request,
 * exactly as Emoncms reads them (SPEC.md §3, §5; Emoncms param.php and
 * Modules/input/input_methods.php).
 *
 * Memory: ec_params and ec_dataset own heap memory; release them with their
 * _free function.  Inputs are never modified.
 */
#ifndef EMONCRYPT_PLAINTEXT_H
#define EMONCRYPT_PLAINTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- key=value pairs ---------------------------------------------------- */

typedef struct {
    char *key;     /* NUL-terminated copies; the key is cut at a NUL */
    char *value;   /* all value_len bytes, a NUL among them kept */
    size_t value_len;
} ec_pair;

typedef struct {
    ec_pair *items;
    size_t n;
    size_t cap;
} ec_params;

void ec_params_init(ec_params *p);
void ec_params_free(ec_params *p);
/* Set key to value; a later set of the same key replaces the value in place
 * (PHP array semantics: the key keeps its first position). */
ec_status ec_params_set(ec_params *p, const char *key, size_t key_len,
                        const char *value, size_t value_len);
/* The value, or NULL when absent (as a C string: cut at a NUL). */
const char *ec_params_get(const ec_params *p, const char *key);
/* The same with its length: every byte, a NUL too (PHP strings keep it,
 * and Emoncms's input filter removes it from csv/json data). */
const char *ec_params_get_len(const ec_params *p, const char *key, size_t *len);

/* Emoncms's split of a decrypted plaintext: explode('&'), then explode('=')
 * on each piece, keeping only pieces that give exactly two parts; no
 * percent-decoding; later duplicates win.  Adds into p (so URL query
 * parameters can be loaded first and the plaintext overrides them). */
ec_status ec_params_parse_emoncms(ec_params *p, const char *s, size_t n);

/* A URL query string as PHP's $_GET sees it (split on '&', first '=' splits
 * key from value, percent- and '+'-decoding); used for the parameters
 * outside the MAC.  Adds into p. */
ec_status ec_params_parse_query(ec_params *p, const char *s, size_t n);

/* ---- the data a request carries ---------------------------------------- */

typedef struct {
    int64_t time;      /* unix seconds */
    char *node;        /* node name after Emoncms's character filter */
    char *name;        /* input name ("1", "2", … for positional values) */
    double value;      /* non-numeric and null become 0, as Emoncms */
    int is_null;       /* the sender sent null */
} ec_row;

typedef struct {
    ec_row *rows;
    size_t n;
    size_t cap;
} ec_dataset;

/* ec_dataset_init/free, ec_app_run, ec_app_run_legacy, ec_php_is_numeric and
 * ec_php_intval are in libemoncrypt-harness (emoncrypt::harness); the rest of
 * this header is in libemoncrypt. */
void ec_dataset_init(ec_dataset *d);
void ec_dataset_free(ec_dataset *d);

/* The application's verdict on one request. */
typedef struct {
    ec_status status;           /* EC_OK or EC_F_APP */
    char message[160];          /* Emoncms's message text when EC_F_APP,
                                   e.g. "Format error, json string supplied is not valid" */
    int http_status;            /* 200; 500 where PHP 8 itself would stop
                                   with a TypeError (e.g. bulk data that is
                                   a JSON object or has a non-array row) */
} ec_app_result;

typedef enum { EC_API_POST = 0, EC_API_BULK = 1 } ec_api;

/* Run input/post or input/bulk on the parameters as Emoncms would, with
 * `now` as the server's clock.  path_node is the NODE of /input/post/NODE
 * or NULL.  Rows are appended to out, as Emoncms stores them: on an
 * application error the rows stored before it stay.  max_nodes bounds distinct nodes per
 * user (Emoncms: 32); 0 means unbounded. */
ec_status ec_app_run(ec_api api, const ec_params *params, const char *path_node,
                     int64_t now, size_t max_nodes, ec_dataset *out,
                     ec_app_result *res);

/* The legacy (2017) plaintext: JSON [[unixtime, node, v1, …], …]. */
ec_status ec_app_run_legacy(const char *json, size_t n, ec_dataset *out,
                            ec_app_result *res);

/* Emoncms's node / input-name filter: keep Unicode letters and digits, '_',
 * whitespace, '-', '.'; an empty result becomes "0" for node names.
 * Returns a malloc'd string (NULL on out-of-memory). */
char *ec_filter_name(const char *s, size_t n, int is_node);

/* PHP 8's is_numeric() of a string (leading/trailing whitespace allowed,
 * no hex).  1 when numeric. */
int ec_php_is_numeric(const char *s);
/* PHP 8's (int)$string: leading numeric prefix, "1e3" is 1000, overflow
 * saturates, no digits gives 0.  Emoncms applies it to the user id, to
 * time=, sentat= and offset=. */
int64_t ec_php_intval(const char *s);

/* The JSON error body Emoncms wraps an application message in:
 * {"success": false, "message": "MSG"} with '"' in MSG replaced by '\''. */
ec_status ec_app_error_body(const char *msg, char *out, size_t out_cap,
                            size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
