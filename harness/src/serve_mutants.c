/* see serve.h — the mutant servers.
 *
 * Each mutant is the reference server broken in exactly one way a real
 * implementation has been, or plausibly could be, broken.  Every hook calls
 * the protocol core (ec_server_answer) and changes either the request it
 * hands over or the answer it gets back; none re-implements verification.
 * The table names, for each mutant, the server-suite case that must FAIL
 * it: tests/server_suite_check.c and the ctest server/mutant/NAME hold the
 * suite to that.
 */
#include "emoncrypt/serve.h"
#include "emoncrypt/plaintext.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- helpers ------------------------------------------------------------- */

static ec_status core(const ec_serve_mutant_env *env, const ec_http_request *req, ec_answer *a)
{
    return ec_server_answer(env->core, req, a);
}

/* Replace the answer body with a copy of s. */
static void set_answer(ec_answer *a, const char *s, size_t n)
{
    char *copy = malloc(n + 1);
    if (!copy)
        return;
    memcpy(copy, s, n);
    copy[n] = 0;
    free(a->answer);
    a->answer = copy;
    a->answer_len = n;
}

/* The body as Emoncms decodes it; malloc'd, caller frees. */
static uint8_t *decode_body(const ec_http_request *req, size_t *n)
{
    uint8_t *out = malloc(req->body_len + 1);
    if (!out)
        return NULL;
    if (ec_b64_decode_compat((const char *)req->body, req->body_len, out, req->body_len + 1, n) != EC_OK) {
        free(out);
        return NULL;
    }
    return out;
}

/* bytes -> URL-alphabet base64 with '='; malloc'd text. */
static char *encode_body(const uint8_t *b, size_t n, size_t *len)
{
    size_t cap = ec_b64_encoded_len(n, 1) + 1;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    if (ec_b64_encode(b, n, EC_B64_URL, 1, out, cap, len) != EC_OK) {
        free(out);
        return NULL;
    }
    return out;
}

/* Answer a request whose decoded body was changed by edit (may be NULL
 * when edit declines: then the request goes to the core unchanged). */
typedef int (*body_edit_fn)(uint8_t *b, size_t *n);

static ec_status answer_with_body_edit(const ec_serve_mutant_env *env, const ec_http_request *req,
                                       ec_answer *a, body_edit_fn edit)
{
    size_t n = 0;
    uint8_t *b = decode_body(req, &n);
    if (!b || !edit(b, &n)) {
        free(b);
        return core(env, req, a);
    }
    size_t len = 0;
    char *text = encode_body(b, n, &len);
    free(b);
    if (!text)
        return EC_E_NOMEM;
    ec_http_request changed = *req;
    changed.body = (const uint8_t *)text;
    changed.body_len = len;
    ec_status st = core(env, &changed, a);
    free(text);
    return st;
}

/* The key of the user the Authorization header names, or -1. */
static int user_key(const ec_serve_mutant_env *env, const char *authorization, uint8_t key[EC_KEY_LEN])
{
    if (!authorization)
        return -1;
    const char *colon = strchr(authorization, ':');
    if (!colon)
        return -1;
    char userid[64];
    size_t n = (size_t)(colon - authorization);
    if (n >= sizeof userid)
        return -1;
    memcpy(userid, authorization, n);
    userid[n] = 0;
    return env->core->lookup(env->core->lookup_ctx, userid, NULL, key);
}

/* Re-answer a request the core rejected for its HMAC alone, with the HMAC
 * the server itself computes over what it decrypted: i.e. the HMAC check
 * skipped.  Returns 1 and fills *redo when that applies. */
static int answer_without_hmac_check(const ec_serve_mutant_env *env, const ec_http_request *req,
                                     const ec_answer *rejected, ec_answer *redo)
{
    if (rejected->fault != EC_F_INVALID_DATA || rejected->detail != EC_E_HMAC || !rejected->decrypted)
        return 0;
    uint8_t key[EC_KEY_LEN];
    if (user_key(env, req->authorization, key) != 0)
        return 0;
    char hex[EC_HMAC_HEX_LEN + 1];
    ec_hmac_sha256_hex(key, EC_KEY_LEN, rejected->decrypted, rejected->decrypted_len, hex);
    ec_wipe(key, sizeof key);
    char auth[160];
    snprintf(auth, sizeof auth, "%s:%s", rejected->userid, hex);
    ec_http_request changed = *req;
    changed.authorization = auth;
    ec_answer_init(redo);
    if (core(env, &changed, redo) != EC_OK) {
        ec_answer_free(redo);
        return 0;
    }
    return 1;
}

static int is_ack(const ec_answer *a)
{
    return a->fault == EC_OK && a->answer && a->answer_len == EC_ACK_LEN;
}

/* ---- the ack ------------------------------------------------------------- */

static ec_status mut_ack_of_ciphertext(const ec_serve_mutant_env *env, const ec_http_request *req,
                                       ec_answer *a)
{
    ec_status st = core(env, req, a);
    if (st != EC_OK || !is_ack(a))
        return st;
    size_t n = 0;
    uint8_t *b = decode_body(req, &n);
    if (b) {
        char ack[EC_ACK_LEN + 1];
        ec_ack_of(b, n, ack);   /* hash of IV || ciphertext: proves nothing */
        set_answer(a, ack, EC_ACK_LEN);
        free(b);
    }
    return st;
}

static ec_status mut_ack_hex(const ec_serve_mutant_env *env, const ec_http_request *req, ec_answer *a)
{
    ec_status st = core(env, req, a);
    if (st != EC_OK || !is_ack(a) || !a->decrypted)
        return st;
    uint8_t digest[EC_SHA256_LEN];
    char hex[2 * EC_SHA256_LEN + 1];
    ec_sha256(a->decrypted, a->decrypted_len, digest);
    ec_hex_encode(digest, sizeof digest, hex, sizeof hex);
    set_answer(a, hex, 2 * EC_SHA256_LEN);
    return st;
}

static ec_status mut_ack_no_padding(const ec_serve_mutant_env *env, const ec_http_request *req,
                                    ec_answer *a)
{
    ec_status st = core(env, req, a);
    if (st == EC_OK && is_ack(a) && a->answer[EC_ACK_LEN - 1] == '=') {
        a->answer[EC_ACK_LEN - 1] = 0;
        a->answer_len = EC_ACK_LEN - 1;
    }
    return st;
}

static ec_status mut_ack_std_alphabet(const ec_serve_mutant_env *env, const ec_http_request *req,
                                      ec_answer *a)
{
    ec_status st = core(env, req, a);
    if (st == EC_OK && is_ack(a))
        for (size_t i = 0; i < a->answer_len; i++) {
            if (a->answer[i] == '-')
                a->answer[i] = '+';
            else if (a->answer[i] == '_')
                a->answer[i] = '/';
        }
    return st;
}

static ec_status mut_ack_newline(const ec_serve_mutant_env *env, const ec_http_request *req,
                                 ec_answer *a)
{
    ec_status st = core(env, req, a);
    if (st == EC_OK && is_ack(a)) {
        char buf[EC_ACK_LEN + 2];
        memcpy(buf, a->answer, EC_ACK_LEN);
        buf[EC_ACK_LEN] = '\n';
        set_answer(a, buf, EC_ACK_LEN + 1);
    }
    return st;
}

static ec_status mut_ack_text_html(const ec_serve_mutant_env *env, const ec_http_request *req,
                                   ec_answer *a)
{
    ec_status st = core(env, req, a);
    if (st == EC_OK && is_ack(a))
        snprintf(a->content_type, sizeof a->content_type, "text/html; charset=UTF-8");
    return st;
}

/* ---- authentication ------------------------------------------------------ */

static ec_status mut_accept_wrong_hmac(const ec_serve_mutant_env *env, const ec_http_request *req,
                                       ec_answer *a)
{
    ec_status st = core(env, req, a);
    ec_answer redo;
    if (st == EC_OK && answer_without_hmac_check(env, req, a, &redo)) {
        ec_answer_free(a);
        *a = redo;
    }
    return st;
}

static ec_status mut_hmac_case_insensitive(const ec_serve_mutant_env *env, const ec_http_request *req,
                                           ec_answer *a)
{
    if (!req->authorization)
        return core(env, req, a);
    char auth[256];
    snprintf(auth, sizeof auth, "%s", req->authorization);
    char *colon = strchr(auth, ':');
    for (char *p = colon ? colon + 1 : auth + strlen(auth); *p; p++)
        *p = (char)tolower((unsigned char)*p);
    ec_http_request changed = *req;
    changed.authorization = auth;
    return core(env, &changed, a);
}

static ec_status mut_hmac_uppercase_only(const ec_serve_mutant_env *env, const ec_http_request *req,
                                         ec_answer *a)
{
    /* Compares against the HMAC in uppercase hex: the protocol's lowercase
     * fails, an uppercase one passes. */
    if (!req->authorization || !strchr(req->authorization, ':'))
        return core(env, req, a);
    char auth[256];
    snprintf(auth, sizeof auth, "%s", req->authorization);
    char *p = strchr(auth, ':') + 1;
    int has_lower = 0;
    for (char *q = p; *q; q++)
        has_lower |= *q >= 'a' && *q <= 'f';
    for (char *q = p; *q; q++)
        *q = has_lower ? (*q == '0' ? '1' : '0') : (char)tolower((unsigned char)*q);
    ec_http_request changed = *req;
    changed.authorization = auth;
    return core(env, &changed, a);
}

static ec_status mut_auth_extra_colon(const ec_serve_mutant_env *env, const ec_http_request *req,
                                      ec_answer *a)
{
    /* Splits at the first colon and reads the HMAC up to the next one, so
     * "1:HMAC:anything" passes as "1:HMAC". */
    if (!req->authorization)
        return core(env, req, a);
    char auth[256];
    snprintf(auth, sizeof auth, "%s", req->authorization);
    char *first = strchr(auth, ':');
    char *second = first ? strchr(first + 1, ':') : NULL;
    if (second)
        *second = 0;
    ec_http_request changed = *req;
    changed.authorization = auth;
    return core(env, &changed, a);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static ec_status mut_hmac_timing(const ec_serve_mutant_env *env, const ec_http_request *req,
                                 ec_answer *a)
{
    /* Same verdicts as the reference, but the comparison leaks how many
     * leading HMAC digits were right.  A real byte-by-byte compare leaks
     * nanoseconds, far below what a network test can see; this one is
     * amplified to 2 ms per digit so the suite's timing probe can. */
    ec_status st = core(env, req, a);
    if (st != EC_OK || a->fault != EC_F_INVALID_DATA || a->detail != EC_E_HMAC || !a->decrypted)
        return st;
    uint8_t key[EC_KEY_LEN];
    if (user_key(env, req->authorization, key) != 0)
        return st;
    char hex[EC_HMAC_HEX_LEN + 1];
    ec_hmac_sha256_hex(key, EC_KEY_LEN, a->decrypted, a->decrypted_len, hex);
    ec_wipe(key, sizeof key);
    const char *sent = strchr(req->authorization, ':');
    size_t same = 0;
    if (sent)
        for (sent++; same < EC_HMAC_HEX_LEN && sent[same] == hex[same]; same++) {
        }
    sleep_ms(2 * (long)same);
    return st;
}

/* ---- Content-Type -------------------------------------------------------- */

static ec_status mut_ctype_case_insensitive(const ec_serve_mutant_env *env, const ec_http_request *req,
                                            ec_answer *a)
{
    ec_http_request changed = *req;
    if (req->content_type && strcasecmp(req->content_type, "aes128cbc") == 0)
        changed.content_type = "aes128cbc";
    else if (req->content_type && strcasecmp(req->content_type, "aes128cbcgz") == 0)
        changed.content_type = "aes128cbcgz";
    return core(env, &changed, a);
}

static ec_status mut_ctype_parameters(const ec_serve_mutant_env *env, const ec_http_request *req,
                                      ec_answer *a)
{
    /* Parses the media type and drops parameters, as a generic HTTP
     * framework would; Emoncms compares the whole header value. */
    ec_http_request changed = *req;
    char media[64];
    if (req->content_type) {
        snprintf(media, sizeof media, "%s", req->content_type);
        char *semi = strchr(media, ';');
        if (semi) {
            *semi = 0;
            while (semi > media && (semi[-1] == ' ' || semi[-1] == '\t'))
                *--semi = 0;
            changed.content_type = media;
        }
    }
    return core(env, &changed, a);
}

/* ---- padding and ciphertext ---------------------------------------------- */

static int is_padding_fault(ec_status detail)
{
    return detail == EC_E_PAD_ZERO || detail == EC_E_PAD_RANGE || detail == EC_E_PAD_BYTES;
}

static ec_status mut_padding_oracle(const ec_serve_mutant_env *env, const ec_http_request *req,
                                    ec_answer *a)
{
    ec_status st = core(env, req, a);
    if (st == EC_OK && a->fault == EC_F_INVALID_DATA && is_padding_fault(a->detail)) {
        static const char text[] = "invalid padding";
        set_answer(a, text, sizeof text - 1);
    }
    return st;
}

static ec_status mut_oracle_status(const ec_serve_mutant_env *env, const ec_http_request *req,
                                   ec_answer *a)
{
    /* Same body for every crypto failure, but padding faults get HTTP 400. */
    ec_status st = core(env, req, a);
    if (st == EC_OK && a->fault == EC_F_INVALID_DATA && is_padding_fault(a->detail))
        a->http_status = 400;
    return st;
}

static int edit_zero_iv(uint8_t *b, size_t *n)
{
    if (*n < EC_IV_LEN)
        return 0;
    memset(b, 0, EC_IV_LEN);
    return 1;
}

static ec_status mut_ignore_iv(const ec_serve_mutant_env *env, const ec_http_request *req, ec_answer *a)
{
    /* Decrypts with an all-zero IV whatever the client sent. */
    if (!req->content_type || strncmp(req->content_type, "aes128cbc", 9) != 0)
        return core(env, req, a);
    return answer_with_body_edit(env, req, a, edit_zero_iv);
}

static int edit_truncate_partial_block(uint8_t *b, size_t *n)
{
    (void)b;
    if (*n <= EC_IV_LEN || (*n - EC_IV_LEN) % EC_BLOCK_LEN == 0)
        return 0;
    *n -= (*n - EC_IV_LEN) % EC_BLOCK_LEN;
    return *n > EC_IV_LEN;
}

static ec_status mut_accept_partial_block(const ec_serve_mutant_env *env, const ec_http_request *req,
                                          ec_answer *a)
{
    /* Ignores trailing bytes that do not fill a block instead of failing. */
    if (!req->content_type || strncmp(req->content_type, "aes128cbc", 9) != 0)
        return core(env, req, a);
    return answer_with_body_edit(env, req, a, edit_truncate_partial_block);
}

/* ---- storage ------------------------------------------------------------- */

static ec_status mut_store_rejected(const ec_serve_mutant_env *env, const ec_http_request *req,
                                    ec_answer *a)
{
    /* Runs the application before the HMAC verdict: rows of a request that
     * decrypted but failed the HMAC are stored, while the answer is still
     * the rejection. */
    ec_status st = core(env, req, a);
    ec_answer redo;
    if (st == EC_OK && answer_without_hmac_check(env, req, a, &redo)) {
        ec_dataset_free(&a->rows);
        a->rows = redo.rows;
        ec_dataset_init(&redo.rows);
        ec_answer_free(&redo);
    }
    return st;
}

static int same_row_group(const ec_row *x, const ec_row *y)
{
    return x->time == y->time && strcmp(x->node ? x->node : "", y->node ? y->node : "") == 0;
}

static ec_status mut_drop_last_bulk_row(const ec_serve_mutant_env *env, const ec_http_request *req,
                                        ec_answer *a)
{
    ec_status st = core(env, req, a);
    if (st != EC_OK || a->fault != EC_OK || a->api != EC_API_BULK || a->rows.n < 2)
        return st;
    /* The inputs of the last bulk row share its time and node. */
    size_t keep = a->rows.n - 1;
    while (keep > 0 && same_row_group(&a->rows.rows[keep - 1], &a->rows.rows[a->rows.n - 1]))
        keep--;
    if (keep == 0)
        return st;
    for (size_t i = keep; i < a->rows.n; i++) {
        free(a->rows.rows[i].node);
        free(a->rows.rows[i].name);
    }
    a->rows.n = keep;
    return st;
}

static ec_status mut_reorder_rows(const ec_serve_mutant_env *env, const ec_http_request *req,
                                  ec_answer *a)
{
    ec_status st = core(env, req, a);
    if (st != EC_OK || a->fault != EC_OK)
        return st;
    for (size_t i = 0, j = a->rows.n ? a->rows.n - 1 : 0; i < j; i++, j--) {
        ec_row t = a->rows.rows[i];
        a->rows.rows[i] = a->rows.rows[j];
        a->rows.rows[j] = t;
    }
    return st;
}

static ec_status mut_ignore_sentat(const ec_serve_mutant_env *env, const ec_http_request *req,
                                   ec_answer *a)
{
    ec_status st = core(env, req, a);
    if (st != EC_OK || a->fault != EC_OK || a->api != EC_API_BULK || !ec_params_get(&a->params, "sentat"))
        return st;
    /* Re-run the application step with the same parameters minus sentat. */
    ec_params p;
    ec_params_init(&p);
    for (size_t i = 0; i < a->params.n; i++)
        if (strcmp(a->params.items[i].key, "sentat") != 0)
            ec_params_set(&p, a->params.items[i].key, strlen(a->params.items[i].key),
                          a->params.items[i].value, strlen(a->params.items[i].value));
    ec_dataset rows;
    ec_dataset_init(&rows);
    ec_app_result res;
    memset(&res, 0, sizeof res);
    if (ec_app_run(EC_API_BULK, &p, NULL, env->core->now, env->core->max_nodes, &rows, &res) == EC_OK &&
        res.status == EC_OK) {
        ec_dataset_free(&a->rows);
        a->rows = rows;
    } else {
        ec_dataset_free(&rows);
    }
    ec_params_free(&p);
    return st;
}

/* ---- other answers ------------------------------------------------------- */

static ec_status mut_empty_body_text(const ec_serve_mutant_env *env, const ec_http_request *req,
                                     ec_answer *a)
{
    ec_status st = core(env, req, a);
    if (st == EC_OK && a->fault == EC_F_BODY_EMPTY) {
        static const char text[] = "empty body";
        set_answer(a, text, sizeof text - 1);
    }
    return st;
}

static ec_status mut_unknown_user_text(const ec_serve_mutant_env *env, const ec_http_request *req,
                                       ec_answer *a)
{
    ec_status st = core(env, req, a);
    if (st == EC_OK && a->fault == EC_F_USER_UNKNOWN && a->profile != EC_PROFILE_LEGACY) {
        a->http_status = 404;
    }
    return st;
}

/* ---- old Emoncms releases (issue 19) ---------------------------------- */

static ec_status mut_emoncms_no_gz(const ec_serve_mutant_env *env, const ec_http_request *req,
                                   ec_answer *a)
{
    /* Emoncms before 11.2.3 (c1c32c5b): aes128cbcgz is an unknown
     * Content-Type, the Authorization header is read as an API key. */
    ec_status st = core(env, req, a);
    if (st == EC_OK && req->content_type && strcmp(req->content_type, "aes128cbcgz") == 0) {
        static const char text[] = "Invalid API key";
        ec_dataset_free(&a->rows);
        a->http_status = 401;
        snprintf(a->content_type, sizeof a->content_type, "text/html; charset=UTF-8");
        set_answer(a, text, sizeof text - 1);
    }
    return st;
}

static ec_status mut_emoncms_bulk_json_500(const ec_serve_mutant_env *env, const ec_http_request *req,
                                           ec_answer *a)
{
    /* Emoncms before 11.9.8 (27cc63e4) on PHP 8: invalid bulk JSON is a
     * TypeError, HTTP 500 with an empty body. */
    static const char bad[] = "{\"success\": false, \"message\": \"Format error, json string supplied is not valid\"}";
    ec_status st = core(env, req, a);
    if (st == EC_OK && a->answer && a->answer_len == sizeof bad - 1 && memcmp(a->answer, bad, a->answer_len) == 0) {
        a->http_status = 500;
        snprintf(a->content_type, sizeof a->content_type, "text/html; charset=UTF-8");
        set_answer(a, "", 0);
    }
    return st;
}


/* ---- emulations of a real Emoncms account (issue 11) ------------------- */

/* Emoncms limits an account to 32 distinct node ids over its whole life
 * (the input table), not per request: the 33rd new node of any later post
 * is answered success:false "Reached the maximal allowed number of
 * different NodeIds, limit is 32. Node 'X' was ignored." and its rows are
 * not stored.  One account per process (every user shares the set). */
#define ACCOUNT_NODES 32
static pthread_mutex_t account_lock = PTHREAD_MUTEX_INITIALIZER;
static char account_nodes[ACCOUNT_NODES][128];
static size_t account_n;

static int account_has(const char *node)
{
    for (size_t i = 0; i < account_n; i++)
        if (strcmp(account_nodes[i], node) == 0)
            return 1;
    return 0;
}

static ec_status emu_account_node_limit(const ec_serve_mutant_env *env, const ec_http_request *req,
                                        ec_answer *a)
{
    ec_status st = core(env, req, a);
    if (st != EC_OK || a->rows.n == 0)
        return st;
    pthread_mutex_lock(&account_lock);
    size_t keep = a->rows.n;
    const char *refused = NULL;
    for (size_t i = 0; i < a->rows.n; i++) {
        const char *node = a->rows.rows[i].node ? a->rows.rows[i].node : "";
        if (account_has(node))
            continue;
        if (account_n >= ACCOUNT_NODES) {
            keep = i;
            refused = node;
            break;
        }
        snprintf(account_nodes[account_n++], sizeof account_nodes[0], "%s", node);
    }
    if (refused) {
        char msg[200], body[300];
        size_t len = 0;
        snprintf(msg, sizeof msg,
                 "Error: Reached the maximal allowed number of different NodeIds, limit is %d. Node '%.40s' was ignored.",
                 ACCOUNT_NODES, refused);
        if (ec_app_error_body(msg, body, sizeof body, &len) == EC_OK) {
            set_answer(a, body, len);
            a->fault = EC_F_APP;
            a->http_status = 200;
        }
        for (size_t i = keep; i < a->rows.n; i++) {
            free(a->rows.rows[i].node);
            free(a->rows.rows[i].name);
        }
        a->rows.n = keep;
    }
    pthread_mutex_unlock(&account_lock);
    return st;
}

/* Emoncms keeps input.value in a MariaDB FLOAT column and /input/get
 * answers it with 6 significant digits: 6296221 reads back 6296220. */
static ec_status emu_float_store(const ec_serve_mutant_env *env, const ec_http_request *req, ec_answer *a)
{
    ec_status st = core(env, req, a);
    for (size_t i = 0; st == EC_OK && i < a->rows.n; i++) {
        char text[40];
        snprintf(text, sizeof text, "%.6g", (double)(float)a->rows.rows[i].value);
        a->rows.rows[i].value = strtod(text, NULL);
    }
    return st;
}

static const ec_serve_mutant emulations[] = {
    { "account-node-limit", "",
      "a real Emoncms account: at most 32 distinct node ids over the account's life, the 33rd refused",
      0, 0, 0, emu_account_node_limit },
    { "float-store", "",
      "a real Emoncms: stored values kept as a 32-bit FLOAT and read back with 6 significant digits",
      0, 0, 0, emu_float_store },
};

/* see serve.h */
const ec_serve_mutant *ec_serve_emulations(size_t *count)
{
    if (count)
        *count = sizeof emulations / sizeof emulations[0];
    return emulations;
}

/* ---- the table ----------------------------------------------------------- */

static const ec_serve_mutant mutants[] = {
    { "ack-of-ciphertext", "server/4.ack/of-plaintext",
      "acks SHA-256 of the received IV and ciphertext instead of the decrypted bytes",
      0, 0, 0, mut_ack_of_ciphertext },
    { "ack-hex", "server/4.ack/length-44",
      "acks with the SHA-256 in 64 hex digits instead of 44 base64url characters",
      0, 0, 0, mut_ack_hex },
    { "ack-no-padding", "server/4.ack/padding-kept",
      "strips the trailing '=' from the ack",
      0, 0, 0, mut_ack_no_padding },
    { "ack-std-alphabet", "server/4.ack/url-alphabet",
      "acks in the standard base64 alphabet ('+' '/') instead of the URL one",
      0, 0, 0, mut_ack_std_alphabet },
    { "ack-newline", "server/4.ack/exact-body",
      "sends the ack followed by a newline",
      0, 0, 0, mut_ack_newline },
    { "ack-text-html", "server/4.ack/content-type",
      "sends the ack as text/html instead of text/plain",
      0, 0, 0, mut_ack_text_html },
    { "accept-wrong-hmac", "server/4.crypto/hmac-wrong",
      "never rejects an HMAC mismatch (authentication skipped)",
      0, 0, 0, mut_accept_wrong_hmac },
    { "hmac-case-insensitive", "server/4.crypto/hmac-uppercase",
      "compares the HMAC hex case-insensitively, accepting uppercase digits",
      0, 0, 0, mut_hmac_case_insensitive },
    { "hmac-uppercase-only", "server/4.crypto/hmac-uppercase",
      "accepts the HMAC only in uppercase hex, refusing the protocol's lowercase",
      0, 0, 0, mut_hmac_uppercase_only },
    { "auth-extra-colon", "server/4.auth/two-colons",
      "accepts 'userid:hmac:extra' by reading the HMAC up to the second colon",
      0, 0, 0, mut_auth_extra_colon },
    { "hmac-timing", "server/4.oracle/hmac-timing",
      "compares the HMAC digit by digit with an early exit (timing amplified to 2 ms/digit)",
      0, 0, 0, mut_hmac_timing },
    { "padding-oracle", "server/4.oracle/one-answer",
      "answers 'invalid padding' for PKCS#7 faults and 'invalid data' for others",
      0, 0, 0, mut_padding_oracle },
    { "oracle-status", "server/4.oracle/one-answer",
      "answers padding faults with HTTP 400 (same body), other crypto faults with 200",
      0, 0, 0, mut_oracle_status },
    { "ignore-iv", "server/3.post/fulljson",
      "decrypts with an all-zero IV instead of the one sent",
      0, 0, 0, mut_ignore_iv },
    { "accept-partial-block", "server/4.crypto/ct-not-multiple-16",
      "drops trailing ciphertext bytes that do not fill a block instead of rejecting",
      0, 0, 0, mut_accept_partial_block },
    { "ctype-case-insensitive", "server/3.ctype/uppercase",
      "matches Content-Type case-insensitively (AES128CBC taken as encrypted)",
      0, 0, 0, mut_ctype_case_insensitive },
    { "ctype-parameters", "server/3.ctype/with-parameter",
      "ignores Content-Type parameters ('aes128cbc; charset=utf-8' taken as encrypted)",
      0, 0, 0, mut_ctype_parameters },
    { "store-rejected", "server/5.store/nothing-on-reject",
      "stores the rows of a request that decrypted but failed the HMAC check",
      0, 0, 0, mut_store_rejected },
    { "drop-last-bulk-row", "server/5.store/bulk-all-rows",
      "stores every bulk row but the last",
      0, 0, 0, mut_drop_last_bulk_row },
    { "reorder-rows", "server/5.store/bulk-row-order",
      "stores the rows of a request in reverse order",
      0, 0, 0, mut_reorder_rows },
    { "ignore-sentat", "server/5.time/sentat",
      "ignores the bulk 'sentat' time reference",
      0, 0, 0, mut_ignore_sentat },
    { "empty-body-text", "server/4.body/empty",
      "answers an empty body with 'empty body' instead of Emoncms's text",
      0, 0, 0, mut_empty_body_text },
    { "unknown-user-404", "server/4.auth/unknown-user",
      "answers an unknown user id with HTTP 404 instead of 200 'User not found'",
      0, 0, 0, mut_unknown_user_text },
    { "emoncms-no-gz", "server/3.gz/post",
      "Emoncms before 11.2.3: answers aes128cbcgz with 401 'Invalid API key'",
      0, 0, 0, mut_emoncms_no_gz },
    { "emoncms-bulk-json-500", "server/5.app/bulk-bad-json",
      "Emoncms before 11.9.8 on PHP 8: invalid bulk JSON is HTTP 500 with an empty body",
      0, 0, 0, mut_emoncms_bulk_json_500 },
    { "no-replay-cache", "server/4.quirk/replay",
      "a strict server without its replay cache: accepts a byte-identical request twice",
      1, 1, 1, NULL },
};

/* see serve.h */
const ec_serve_mutant *ec_serve_mutants(size_t *count)
{
    if (count)
        *count = sizeof mutants / sizeof mutants[0];
    return mutants;
}

/* see serve.h */
const ec_serve_mutant *ec_serve_mutant_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof mutants / sizeof mutants[0]; i++)
        if (strcmp(mutants[i].name, name) == 0)
            return &mutants[i];
    for (size_t i = 0; i < sizeof emulations / sizeof emulations[0]; i++)
        if (strcmp(emulations[i].name, name) == 0)
            return &emulations[i];
    return NULL;
}
