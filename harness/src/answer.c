/* see message.h — the server side of the protocol core: ec_server_answer is
 * how Emoncms (compat) or a hardened server (strict) answers a request.  It
 * runs Emoncms's application semantics (app.c, jansson), so it is part of
 * the harness library, not of libemoncrypt, the codec and request builder
 * (message.c) a client links (issue 15). */
#include "emoncrypt/message.h"
#include "protocol_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* ---- the server side ---------------------------------------------------- */

/* see message.h */
void ec_answer_init(ec_answer *a)
{
    memset(a, 0, sizeof *a);
    ec_params_init(&a->params);
    ec_dataset_init(&a->rows);
}

/* see message.h */
void ec_answer_free(ec_answer *a)
{
    if (a == NULL)
        return;
    free(a->answer);
    free(a->decrypted);
    free(a->plaintext);
    ec_params_free(&a->params);
    ec_dataset_free(&a->rows);
    ec_answer_init(a);
}

#define CT_PHP_HTML "text/html; charset=UTF-8"
/* header('Content-Type: text/plain') as PHP sends it: default_charset added */
#define CT_PLAIN "text/plain;charset=UTF-8"
/* the 2017 index.php sent header('Content-Type: text') for format "text" */
#define CT_LEGACY "text"

static ec_status answer_set(ec_answer *a, int status, const char *content_type,
                            ec_status fault, ec_status detail, const char *body)
{
    size_t n = strlen(body);
    char *copy = malloc(n + 1);
    if (copy == NULL)
        return EC_E_NOMEM;
    memcpy(copy, body, n + 1);
    free(a->answer);
    a->answer = copy;
    a->answer_len = n;
    a->http_status = status;
    snprintf(a->content_type, sizeof a->content_type, "%s", content_type);
    a->fault = fault;
    a->detail = detail;
    return EC_OK;
}

/* Emoncms's route.php: trim '/', keep [./_A-Za-z0-9-], split on '/', and
 * cut the last part at its first '.' (the format, e.g. ".json"). */
typedef struct {
    char controller[64];
    char action[64];
    char subaction[EC_PATH_MAX];
} route;

static void route_decode(const char *path, route *r)
{
    char q[EC_PATH_MAX];
    size_t o = 0;
    for (const char *c = path ? path : ""; *c && o + 1 < sizeof q; c++) {
        unsigned char ch = (unsigned char)*c;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
            (ch >= '0' && ch <= '9') || ch == '.' || ch == '/' || ch == '_' || ch == '-')
            q[o++] = (char)ch;
    }
    q[o] = '\0';
    /* PHP trim($q, '/') runs on the raw text, before the filter; the
     * filter never removes '/', so trimming afterwards is the same */
    char *start = q;
    while (*start == '/')
        start++;
    size_t len = strlen(start);
    while (len > 0 && start[len - 1] == '/')
        start[--len] = '\0';
    char *args[4] = {NULL, NULL, NULL, NULL};
    int nargs = 0;
    char *p = start;
    for (;;) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        if (nargs < 4)
            args[nargs] = p;
        nargs++;
        if (!slash)
            break;
        p = slash + 1;
    }
    char *last = args[nargs - 1 < 4 ? nargs - 1 : 3];
    if (nargs - 1 < 4) {
        char *dot = strchr(last, '.');
        if (dot)
            *dot = '\0';
    }
    snprintf(r->controller, sizeof r->controller, "%s", args[0] ? args[0] : "");
    snprintf(r->action, sizeof r->action, "%s", nargs > 1 && args[1] ? args[1] : "");
    snprintf(r->subaction, sizeof r->subaction, "%s", nargs > 2 && args[2] ? args[2] : "");
}

/* [1-9][0-9]*: Emoncms user ids start at 1 */
static int strict_userid_ok(const char *u)
{
    if (u[0] < '1' || u[0] > '9')
        return 0;
    for (; *u; u++)
        if (*u < '0' || *u > '9')
            return 0;
    return 1;
}

/* Decrypt IV || CT the way PHP's openssl_decrypt(substr($d,16), …,
 * substr($d,0,16)) does; EC_OK or the precise cause. */
static ec_status decrypt_body(const uint8_t key[EC_KEY_LEN], const uint8_t *raw,
                              size_t raw_len, ec_answer *a)
{
    if (raw_len < EC_IV_LEN + EC_BLOCK_LEN) {
        if (raw_len >= EC_IV_LEN)
            memcpy(a->iv, raw, EC_IV_LEN);
        return EC_E_CT_SHORT;
    }
    memcpy(a->iv, raw, EC_IV_LEN);
    size_t ct_len = raw_len - EC_IV_LEN;
    if (ct_len % EC_BLOCK_LEN != 0)
        return EC_E_CT_LENGTH;
    uint8_t *out = malloc(ct_len + 1);
    if (out == NULL)
        return EC_E_NOMEM;
    size_t out_len = 0;
    ec_status st = ec_aes128_cbc_decrypt(key, a->iv, raw + EC_IV_LEN, ct_len, out,
                                         ct_len, &out_len);
    if (st != EC_OK) {
        free(out);
        return st;
    }
    out[out_len] = '\0';
    a->decrypted = out;
    a->decrypted_len = out_len;
    return EC_OK;
}

/* PHP's gzuncompress: a complete zlib stream, whatever follows its end
 * (checked with PHP 8.2: gzuncompress(gzcompress("hello")."junk") is
 * "hello").  The codec refuses trailing bytes, so compat inflates here. */
static ec_status inflate_php(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (n == 0 || n > UINT32_MAX || inflateInit(&zs) != Z_OK)
        return EC_E_ZLIB;
    size_t cap = n * 4 + 256, len = 0;
    uint8_t *buf = malloc(cap + 1);
    ec_status st = buf ? EC_E_ZLIB : EC_E_NOMEM;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    while (buf != NULL) {
        zs.next_out = buf + len;
        zs.avail_out = (uInt)(cap - len);
        int rc = inflate(&zs, Z_NO_FLUSH);
        len = cap - zs.avail_out;
        if (rc == Z_STREAM_END) {
            st = EC_OK;
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            break;
        if (zs.avail_out != 0 || cap > ((size_t)256 << 20))
            break;   /* input used up without the end: truncated */
        uint8_t *bigger = realloc(buf, cap * 4 + 1);
        if (bigger == NULL) {
            st = EC_E_NOMEM;
            break;
        }
        buf = bigger;
        cap *= 4;
    }
    inflateEnd(&zs);
    if (st != EC_OK) {
        free(buf);
        return st;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return EC_OK;
}

static ec_status inflate_all(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len)
{
    size_t cap = n * 4 + 256;
    for (;;) {
        uint8_t *buf = malloc(cap + 1);
        if (buf == NULL)
            return EC_E_NOMEM;
        ec_status st = ec_zlib_uncompress(in, n, buf, cap, out_len);
        if (st == EC_OK) {
            buf[*out_len] = '\0';
            *out = buf;
            return EC_OK;
        }
        free(buf);
        if (st != EC_E_BUFFER || cap > ((size_t)256 << 20))
            return st == EC_E_BUFFER ? EC_E_ZLIB : st;
        cap *= 4;
    }
}

static ec_status answer_app(const ec_server_config *cfg, ec_answer *a, const char *path_node,
                            ec_status zlib_detail)
{
    ec_app_result res;
    ec_status st = ec_app_run(a->api, &a->params, path_node, cfg->now,
                              cfg->max_nodes, &a->rows, &res);
    if (st != EC_OK)
        return st;
    if (res.status != EC_OK) {
        char body[256];
        size_t len;
        if (res.http_status == 500)
            return answer_set(a, 500, CT_PHP_HTML, EC_F_APP, zlib_detail, "");
        st = ec_app_error_body(res.message, body, sizeof body, &len);
        if (st != EC_OK)
            return st;
        return answer_set(a, 200, CT_PLAIN, EC_F_APP, zlib_detail, body);
    }
    return answer_set(a, 200, CT_PLAIN, EC_OK, zlib_detail, a->ack);
}

static ec_status answer_legacy(const ec_server_config *cfg, const ec_http_request *req,
                               ec_answer *a)
{
    a->profile = EC_PROFILE_LEGACY;
    ec_params form;
    ec_params_init(&form);
    ec_status st = EC_OK;
    /* PHP fills $_POST only for a form body */
    if (req->content_type != NULL &&
        strncmp(req->content_type, "application/x-www-form-urlencoded", 33) == 0 &&
        req->body_len > 0) {
        st = ec_params_parse_query(&form, (const char *)req->body, req->body_len);
        if (st != EC_OK)
            goto out;
    }
    const char *username = ec_params_get(&form, "username");
    const char *data = ec_params_get(&form, "data");
    if (username == NULL || data == NULL) {
        st = answer_set(a, 200, CT_LEGACY, EC_F_LEGACY_PARAMS, EC_OK,
                        "Missing username or data parameters");
        goto out;
    }
    uint8_t key[EC_KEY_LEN];
    if (cfg->lookup(cfg->lookup_ctx, NULL, username, key) != 0) {
        st = answer_set(a, 200, CT_LEGACY, EC_F_USER_UNKNOWN, EC_OK, "User not found");
        goto out;
    }
    size_t dlen = strlen(data);
    uint8_t *raw = malloc(ec_b64_decoded_max(dlen) + 1);
    size_t raw_len = 0;
    if (raw == NULL) {
        st = EC_E_NOMEM;
        goto out;
    }
    /* the 2017 method has no MAC to harden: strict answers as compat */
    ec_status detail = EC_OK;
    st = ec_b64_decode_compat(data, dlen, raw, ec_b64_decoded_max(dlen) + 1, &raw_len);
    if (st == EC_OK)
        detail = decrypt_body(key, raw, raw_len, a);
    free(raw);
    ec_wipe(key, sizeof key);
    if (st != EC_OK)
        goto out;
    if (detail == EC_E_NOMEM) {
        st = detail;
        goto out;
    }
    if (detail != EC_OK) {
        st = answer_set(a, 200, CT_LEGACY, EC_F_LEGACY_DATA, detail,
                        "Invalid data string or encryption key");
        goto out;
    }
    st = ec_ack_of(a->decrypted, a->decrypted_len, a->ack);
    if (st != EC_OK)
        goto out;
    a->plaintext = malloc(a->decrypted_len + 1);
    if (a->plaintext == NULL) {
        st = EC_E_NOMEM;
        goto out;
    }
    memcpy(a->plaintext, a->decrypted, a->decrypted_len + 1);
    a->plaintext_len = a->decrypted_len;
    ec_app_result res;
    st = ec_app_run_legacy((const char *)a->plaintext, a->plaintext_len, &a->rows, &res);
    if (st != EC_OK)
        goto out;
    if (res.status != EC_OK) {
        int is_data = strcmp(res.message, "Invalid data string or encryption key") == 0;
        st = answer_set(a, 200, CT_LEGACY, is_data ? EC_F_LEGACY_DATA : EC_F_APP,
                        EC_OK, res.message);
        goto out;
    }
    st = answer_set(a, 200, CT_LEGACY, EC_OK, EC_OK, a->ack);
out:
    ec_params_free(&form);
    return st;
}

/* see message.h */
ec_status ec_server_answer(const ec_server_config *cfg, const ec_http_request *req,
                           ec_answer *a)
{
    if (cfg == NULL || req == NULL || a == NULL || cfg->lookup == NULL ||
        (req->body == NULL && req->body_len > 0))
        return EC_E_ARG;
    ec_answer_init(a);
    route r;
    route_decode(req->path, &r);
    int is_legacy = strcmp(r.controller, "input") == 0 && strcmp(r.action, "encrypted") == 0;
    int is_input = strcmp(r.controller, "input") == 0 &&
                   (strcmp(r.action, "post") == 0 || strcmp(r.action, "bulk") == 0);
    const char *ct = req->content_type;
    int encrypted = ct != NULL && (strcmp(ct, "aes128cbc") == 0 || strcmp(ct, "aes128cbcgz") == 0);

    /* index.php: any Authorization without the encrypted Content-Type is
     * read as a Bearer API key, and the write key is never "userid:hmac" */
    if (!encrypted && req->authorization != NULL) {
        ec_status st = answer_set(a, 401, CT_PHP_HTML, EC_F_NOT_ENCRYPTED, EC_OK,
                                  "Invalid API key");
        if (st == EC_OK)
            snprintf(a->www_authenticate, sizeof a->www_authenticate,
                     "Bearer realm=\"API KEY\", error=\"invalid_apikey\", "
                     "error_description=\"Invalid API key\"");
        return st;
    }
    if (is_legacy)
        return answer_legacy(cfg, req, a);
    if (!is_input)
        return answer_set(a, 404, CT_PHP_HTML, EC_F_ROUTE, EC_OK, "");
    if (!encrypted)
        return answer_set(a, 200, CT_PHP_HTML, EC_F_NOT_ENCRYPTED, EC_OK, "");
    if (cfg->strict && (req->method == NULL || strcmp(req->method, "POST") != 0))
        return answer_set(a, 405, CT_PHP_HTML, EC_F_METHOD, EC_OK, "method not allowed");
    if (cfg->max_body > 0 && req->body_len > cfg->max_body)
        return answer_set(a, 413, CT_PHP_HTML, EC_F_TOO_LARGE, EC_OK,
                          "request body too large");

    a->profile = strcmp(ct, "aes128cbcgz") == 0 ? EC_PROFILE_AES128CBCGZ : EC_PROFILE_AES128CBC;
    a->api = strcmp(r.action, "bulk") == 0 ? EC_API_BULK : EC_API_POST;

    /* param.php: the URL's parameters first, the plaintext's override them */
    ec_status st = EC_OK;
    if (req->query != NULL) {
        st = ec_params_parse_query(&a->params, req->query, strlen(req->query));
        if (st != EC_OK)
            return st;
    }

    if (req->authorization == NULL)
        return answer_set(a, 200, CT_PHP_HTML, EC_F_AUTH_MISSING, EC_OK,
                          "missing authorization header");
    const char *auth = req->authorization;
    const char *colon = strchr(auth, ':');
    if (colon == NULL || strchr(colon + 1, ':') != NULL)
        return answer_set(a, 200, CT_PHP_HTML, EC_F_AUTH_FORMAT, EC_OK,
                          "authorization header format should be userid:hmac");
    size_t uid_len = (size_t)(colon - auth);
    /* a->userid keeps the start for reports; the lookup gets all of it */
    snprintf(a->userid, sizeof a->userid, "%.*s", (int)(uid_len < 63 ? uid_len : 63), auth);
    char *userid = malloc(uid_len + 1);
    if (userid == NULL)
        return EC_E_NOMEM;
    memcpy(userid, auth, uid_len);
    userid[uid_len] = '\0';
    const char *hmac1 = colon + 1;

    uint8_t key[EC_KEY_LEN];
    int strict_bad = cfg->strict && !strict_userid_ok(userid);
    int unknown = !strict_bad && cfg->lookup(cfg->lookup_ctx, userid, NULL, key) != 0;
    free(userid);
    if (strict_bad)
        return answer_set(a, 200, CT_PHP_HTML, EC_F_STRICT_USERID, EC_OK, "User not found");
    if (unknown)
        return answer_set(a, 200, CT_PHP_HTML, EC_F_USER_UNKNOWN, EC_OK, "User not found");

    if (req->body_len == 0) {
        ec_wipe(key, sizeof key);
        return answer_set(a, 200, CT_PHP_HTML, EC_F_BODY_EMPTY, EC_OK,
                          "no content in post body");
    }

    /* base64, decrypt */
    const char *body = (const char *)req->body;
    size_t cap = ec_b64_decoded_max(req->body_len) + 1;
    uint8_t *raw = malloc(cap);
    size_t raw_len = 0;
    if (raw == NULL) {
        ec_wipe(key, sizeof key);
        return EC_E_NOMEM;
    }
    ec_status detail = EC_OK;
    ec_b64_fault bf;
    if (cfg->strict) {
        detail = ec_b64_decode_strict(body, req->body_len, EC_B64_URL, raw, cap, &raw_len, &bf);
        if (detail != EC_OK) {
            free(raw);
            ec_wipe(key, sizeof key);
            return answer_set(a, 200, CT_PHP_HTML, EC_F_STRICT_B64, detail, "invalid data");
        }
    } else {
        st = ec_b64_decode_compat(body, req->body_len, raw, cap, &raw_len);
        if (st != EC_OK) {
            free(raw);
            ec_wipe(key, sizeof key);
            return st;
        }
    }
    detail = decrypt_body(key, raw, raw_len, a);
    free(raw);
    if (detail == EC_E_NOMEM) {
        ec_wipe(key, sizeof key);
        return detail;
    }

    /* HMAC over the decrypted bytes; a failed decrypt is hashed as "" */
    char hmac2[EC_HMAC_HEX_LEN + 1];
    static const uint8_t empty[1];
    st = ec_hmac_sha256_hex(key, EC_KEY_LEN, detail == EC_OK ? a->decrypted : empty,
                            detail == EC_OK ? a->decrypted_len : 0, hmac2);
    ec_wipe(key, sizeof key);
    if (st != EC_OK)
        return st;
    int mac_ok = ec_ct_equal(hmac1, strlen(hmac1), hmac2, EC_HMAC_HEX_LEN);
    if (!mac_ok || (detail != EC_OK && cfg->strict))
        return answer_set(a, 200, CT_PHP_HTML, EC_F_INVALID_DATA,
                          detail != EC_OK ? detail : EC_E_HMAC, "invalid data");

    /* accepted by the MAC step (in compat also a failed decrypt whose MAC
     * is HMAC(key, ""): PHP goes on with false, i.e. "") */
    if (a->decrypted == NULL) {
        a->decrypted = calloc(1, 1);
        if (a->decrypted == NULL)
            return EC_E_NOMEM;
        a->decrypted_len = 0;
    }
    st = ec_ack_of(a->decrypted, a->decrypted_len, a->ack);
    if (st != EC_OK)
        return st;

    ec_status zlib_detail = detail;
    if (a->profile == EC_PROFILE_AES128CBCGZ) {
        ec_status zs = cfg->strict
            ? inflate_all(a->decrypted, a->decrypted_len, &a->plaintext, &a->plaintext_len)
            : inflate_php(a->decrypted, a->decrypted_len, &a->plaintext, &a->plaintext_len);
        if (zs == EC_E_NOMEM)
            return zs;
        if (zs != EC_OK) {
            /* gzuncompress() gives false: no plaintext parameters at all */
            a->plaintext = calloc(1, 1);
            if (a->plaintext == NULL)
                return EC_E_NOMEM;
            a->plaintext_len = 0;
            if (zlib_detail == EC_OK)
                zlib_detail = EC_E_ZLIB;
        }
    } else {
        a->plaintext = malloc(a->decrypted_len + 1);
        if (a->plaintext == NULL)
            return EC_E_NOMEM;
        memcpy(a->plaintext, a->decrypted, a->decrypted_len + 1);
        a->plaintext_len = a->decrypted_len;
    }
    if (a->plaintext_len > 0) {
        st = ec_params_parse_emoncms(&a->params, (const char *)a->plaintext, a->plaintext_len);
        if (st != EC_OK)
            return st;
    }
    return answer_app(cfg, a, a->api == EC_API_POST ? r.subaction : NULL, zlib_detail);
}

