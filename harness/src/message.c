/* see message.h — one protocol core for both roles: ec_request_build is how
 * a client (correct or mutant) writes a request, ec_server_answer is how
 * Emoncms (compat) or a hardened server (strict) answers it. */
#include "emoncrypt/message.h"
#include "protocol_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* ---- names -------------------------------------------------------------- */

static const char *const profile_names[] = {"aes128cbc", "aes128cbcgz", "legacy"};

/* see message.h */
const char *ec_profile_name(ec_profile p)
{
    if ((unsigned)p > EC_PROFILE_LEGACY)
        return "unknown";
    return profile_names[p];
}

/* see message.h */
int ec_profile_from_name(const char *name)
{
    for (int i = 0; name != NULL && i <= (int)EC_PROFILE_LEGACY; i++)
        if (strcmp(profile_names[i], name) == 0)
            return i;
    return -1;
}

static const struct {
    const char *name;
    const char *text;
} mistake_table[EC_MISTAKE_COUNT] = {
    {"std-alphabet",   "your body uses the standard base64 alphabet ('+' '/') instead of the URL one ('-' '_')"},
    {"no-b64-padding", "your body has its trailing '=' padding stripped (allowed)"},
    {"hmac-upper",     "your HMAC hex is uppercase; Emoncms compares it byte for byte with lowercase"},
    {"hmac-over-ct",   "your HMAC is over the encrypted body (IV || ciphertext), not over the plaintext"},
    {"hmac-plus-nul",  "your HMAC is over the plaintext plus a trailing NUL byte"},
    {"hmac-hex-key",   "your HMAC key is the 32 ASCII characters of the API key, not its 16 bytes"},
    {"zero-padding",   "you pad with zero bytes instead of PKCS#7"},
    {"no-full-pad",    "you add no PKCS#7 pad block when the plaintext is a multiple of 16 bytes"},
    {"iv-appended",    "you send the IV after the ciphertext instead of before it"},
    {"cbc-chain-bug",  "your last (full pad) block is chained from the IV, not from the previous ciphertext block"},
    {"hex-key-as-key", "your AES key is the first 16 ASCII characters of the API key, not hex2bin of it"},
    {"gzip-header",    "you compress with a gzip (RFC 1952) header; aes128cbcgz wants zlib (RFC 1950)"},
};

static int bit_index(unsigned bit)
{
    if (bit == 0 || (bit & (bit - 1)) != 0)
        return -1;
    int i = 0;
    while ((bit >> i) != 1u)
        i++;
    return i < EC_MISTAKE_COUNT ? i : -1;
}

/* see message.h */
const char *ec_mistake_name(unsigned bit)
{
    int i = bit_index(bit);
    return i < 0 ? NULL : mistake_table[i].name;
}

/* see message.h */
unsigned ec_mistake_from_name(const char *name)
{
    for (int i = 0; name != NULL && i < EC_MISTAKE_COUNT; i++)
        if (strcmp(mistake_table[i].name, name) == 0)
            return 1u << i;
    return 0;
}

/* see message.h */
const char *ec_mistake_text(unsigned bit)
{
    int i = bit_index(bit);
    return i < 0 ? NULL : mistake_table[i].text;
}

/* ---- building a request ------------------------------------------------- */

/* see message.h */
void ec_request_init(ec_request *r)
{
    memset(r, 0, sizeof *r);
}

/* see message.h */
void ec_request_free(ec_request *r)
{
    if (r == NULL)
        return;
    free(r->body);
    free(r->wire_plaintext);
    ec_request_init(r);
}

/* gzip (RFC 1952) of in: the fixed 10-byte header message.h names, raw
 * deflate at level 6, CRC-32 and ISIZE little-endian. */
static ec_status gzip_compress(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len)
{
    static const uint8_t header[10] = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff};
    size_t cap = 10 + ec_zlib_bound(n) + 8 + 16;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return EC_E_NOMEM;
    memcpy(buf, header, sizeof header);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(buf);
        return EC_E_ZLIB;
    }
    static const uint8_t none[1];
    zs.next_in = (Bytef *)(n ? in : none);
    zs.avail_in = (uInt)n;
    zs.next_out = buf + 10;
    zs.avail_out = (uInt)(cap - 10 - 8);
    int rc = deflate(&zs, Z_FINISH);
    size_t deflated = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(buf);
        return EC_E_ZLIB;
    }
    uint32_t crc = (uint32_t)crc32(0L, n ? in : none, (uInt)n);
    uint32_t isize = (uint32_t)n;
    uint8_t *t = buf + 10 + deflated;
    for (int i = 0; i < 4; i++) {
        t[i] = (uint8_t)(crc >> (8 * i));
        t[4 + i] = (uint8_t)(isize >> (8 * i));
    }
    *out = buf;
    *out_len = 10 + deflated + 8;
    return EC_OK;
}

static ec_status compress_wire(const ec_request_params *p, uint8_t **wire, size_t *wire_len)
{
    if (p->profile == EC_PROFILE_AES128CBCGZ && (p->mistakes & EC_MISTAKE_GZIP_HEADER))
        return gzip_compress(p->plaintext, p->plaintext_len, wire, wire_len);
    if (p->profile == EC_PROFILE_AES128CBCGZ) {
        size_t cap = ec_zlib_bound(p->plaintext_len) + 16;
        uint8_t *buf = malloc(cap);
        if (buf == NULL)
            return EC_E_NOMEM;
        ec_status st = ec_zlib_compress(p->plaintext, p->plaintext_len, buf, cap, wire_len);
        if (st != EC_OK) {
            free(buf);
            return st;
        }
        *wire = buf;
        return EC_OK;
    }
    uint8_t *buf = malloc(p->plaintext_len + 1);
    if (buf == NULL)
        return EC_E_NOMEM;
    if (p->plaintext_len)
        memcpy(buf, p->plaintext, p->plaintext_len);
    *wire = buf;
    *wire_len = p->plaintext_len;
    return EC_OK;
}

/* The padded plaintext the client encrypts, per its padding mistakes. */
static ec_status pad_wire(unsigned mistakes, const uint8_t *wire, size_t n,
                          uint8_t **out, size_t *out_len, int *has_full_pad_block)
{
    size_t pad;
    uint8_t pad_byte;
    if (mistakes & EC_MISTAKE_ZERO_PADDING) {
        pad = n == 0 ? 16 : (16 - n % 16) % 16;
        pad_byte = 0;
    } else if ((mistakes & EC_MISTAKE_NO_FULL_PAD) && n > 0 && n % 16 == 0) {
        pad = 0;
        pad_byte = 0;
    } else {
        pad = 16 - n % 16;
        pad_byte = (uint8_t)pad;
    }
    uint8_t *buf = malloc(n + pad + 1);
    if (buf == NULL)
        return EC_E_NOMEM;
    if (n)
        memcpy(buf, wire, n);
    memset(buf + n, pad_byte, pad);
    *out = buf;
    *out_len = n + pad;
    *has_full_pad_block = pad == 16 && pad_byte == 16;
    return EC_OK;
}

static void percent_encode(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

/* see message.h */
ec_status ec_request_build(const ec_request_params *p, ec_request *out)
{
    if (p == NULL || out == NULL || (p->plaintext == NULL && p->plaintext_len > 0) ||
        (unsigned)p->profile > EC_PROFILE_LEGACY)
        return EC_E_ARG;
    if ((p->mistakes & (EC_MISTAKE_HMAC_HEX_KEY | EC_MISTAKE_HEX_KEY_AS_KEY)) &&
        (p->apikey_hex == NULL || strlen(p->apikey_hex) != 32))
        return EC_E_ARG;
    if (p->profile == EC_PROFILE_LEGACY && (p->username == NULL || strlen(p->username) > 64))
        return EC_E_ARG;
    if (p->profile != EC_PROFILE_LEGACY && p->userid == NULL)
        return EC_E_ARG;
    ec_request_init(out);

    uint8_t *padded = NULL, *raw = NULL;
    char *b64 = NULL;
    uint8_t aes_key[EC_KEY_LEN];
    ec_status st = compress_wire(p, &out->wire_plaintext, &out->wire_plaintext_len);
    if (st != EC_OK)
        goto fail;
    const uint8_t *wire = out->wire_plaintext;
    size_t n = out->wire_plaintext_len;

    size_t padded_len;
    int full_pad_block;
    st = pad_wire(p->mistakes, wire, n, &padded, &padded_len, &full_pad_block);
    if (st != EC_OK)
        goto fail;

    if (p->mistakes & EC_MISTAKE_HEX_KEY_AS_KEY)
        memcpy(aes_key, p->apikey_hex, EC_KEY_LEN);
    else
        memcpy(aes_key, p->key, EC_KEY_LEN);

    /* raw = IV || CT (or CT || IV) */
    size_t raw_len = EC_IV_LEN + padded_len;
    raw = malloc(raw_len);
    if (raw == NULL) {
        st = EC_E_NOMEM;
        goto fail;
    }
    uint8_t *ct = (p->mistakes & EC_MISTAKE_IV_APPENDED) ? raw : raw + EC_IV_LEN;
    uint8_t *ivp = (p->mistakes & EC_MISTAKE_IV_APPENDED) ? raw + padded_len : raw;
    memcpy(ivp, p->iv, EC_IV_LEN);
    if (padded_len > 0) {
        st = ec_aes128_cbc_encrypt_raw(aes_key, p->iv, padded, padded_len, ct, padded_len);
        if (st != EC_OK)
            goto fail;
    }
    if ((p->mistakes & EC_MISTAKE_CBC_CHAIN_BUG) && n > 0 && n % 16 == 0 && full_pad_block) {
        /* C_last = AES(K, P_last XOR IV): one block "encrypted" with the IV */
        st = ec_aes128_cbc_encrypt_raw(aes_key, p->iv, padded + padded_len - 16, 16,
                                       ct + padded_len - 16, 16);
        if (st != EC_OK)
            goto fail;
    }
    ec_wipe(aes_key, sizeof aes_key);

    size_t b64_cap = ec_b64_encoded_len(raw_len, 1) + 1;
    b64 = malloc(b64_cap);
    if (b64 == NULL) {
        st = EC_E_NOMEM;
        goto fail;
    }
    size_t b64_len;
    st = ec_b64_encode(raw, raw_len,
                       (p->mistakes & EC_MISTAKE_STD_ALPHABET) ? EC_B64_STD : EC_B64_URL,
                       !(p->mistakes & EC_MISTAKE_NO_B64_PADDING), b64, b64_cap, &b64_len);
    if (st != EC_OK)
        goto fail;

    st = ec_ack_of(wire, n, out->ack);
    if (st != EC_OK)
        goto fail;
    snprintf(out->method, sizeof out->method, "POST");

    if (p->profile == EC_PROFILE_LEGACY) {
        snprintf(out->path, sizeof out->path, "/input/encrypted");
        snprintf(out->content_type, sizeof out->content_type,
                 "application/x-www-form-urlencoded");
        out->authorization[0] = '\0';
        char user[3 * 64 + 1];
        percent_encode(p->username, user, sizeof user);
        size_t body_cap = strlen(user) + b64_len + 32;
        out->body = malloc(body_cap);
        if (out->body == NULL) {
            st = EC_E_NOMEM;
            goto fail;
        }
        int w = snprintf(out->body, body_cap, "username=%s&data=%s", user, b64);
        out->body_len = (size_t)w;
        free(b64);
        b64 = NULL;
    } else {
        if (p->endpoint == EC_ENDPOINT_BULK)
            snprintf(out->path, sizeof out->path, "/input/bulk");
        else if (p->path_node != NULL)
            snprintf(out->path, sizeof out->path, "/input/post/%s", p->path_node);
        else
            snprintf(out->path, sizeof out->path, "/input/post");
        snprintf(out->content_type, sizeof out->content_type, "%s",
                 ec_profile_name(p->profile));

        /* what the MAC is computed over, and with which key */
        const uint8_t *mac_key = p->key;
        size_t mac_key_len = EC_KEY_LEN;
        if (p->mistakes & EC_MISTAKE_HMAC_HEX_KEY) {
            mac_key = (const uint8_t *)p->apikey_hex;
            mac_key_len = 32;
        }
        uint8_t *mac_in = NULL;
        size_t mac_len;
        if (p->mistakes & EC_MISTAKE_HMAC_OVER_CT) {
            mac_len = raw_len;
            mac_in = malloc(mac_len + 1);
            if (mac_in)
                memcpy(mac_in, raw, raw_len);
        } else {
            mac_len = n + ((p->mistakes & EC_MISTAKE_HMAC_PLUS_NUL) ? 1 : 0);
            mac_in = malloc(mac_len + 1);
            if (mac_in) {
                if (n)
                    memcpy(mac_in, wire, n);
                if (mac_len > n)
                    mac_in[n] = 0;
            }
        }
        if (mac_in == NULL) {
            st = EC_E_NOMEM;
            goto fail;
        }
        uint8_t mac[EC_SHA256_LEN];
        char mac_hex[EC_HMAC_HEX_LEN + 1];
        st = ec_hmac_sha256(mac_key, mac_key_len, mac_in, mac_len, mac);
        free(mac_in);
        if (st == EC_OK)
            st = (p->mistakes & EC_MISTAKE_HMAC_UPPER)
                     ? ec_hex_encode_upper(mac, sizeof mac, mac_hex, sizeof mac_hex)
                     : ec_hex_encode(mac, sizeof mac, mac_hex, sizeof mac_hex);
        if (st != EC_OK)
            goto fail;
        if ((size_t)snprintf(out->authorization, sizeof out->authorization, "%s:%s",
                             p->userid, mac_hex) >= sizeof out->authorization) {
            st = EC_E_ARG;
            goto fail;
        }
        out->body = b64;
        out->body_len = b64_len;
        b64 = NULL;
    }
    free(padded);
    free(raw);
    return EC_OK;

fail:
    ec_wipe(aes_key, sizeof aes_key);
    free(padded);
    free(raw);
    free(b64);
    ec_request_free(out);
    return st;
}

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

/* ---- the client side ---------------------------------------------------- */

static void printable(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        }
    }
    out[o] = '\0';
}

/* see message.h */
void ec_ack_verify(const ec_request *r, int http_status, const char *body,
                   size_t body_len, int strict, ec_ack_check *out)
{
    memset(out, 0, sizeof *out);
    out->first_diff = -1;
    if (r != NULL)
        snprintf(out->expected, sizeof out->expected, "%s", r->ack);
    if (body == NULL)
        body_len = 0;
    printable(body ? body : "", body_len, out->actual, sizeof out->actual);
    size_t exp_len = strlen(out->expected);
    for (size_t i = 0; i < exp_len; i++) {
        if (i >= body_len || body[i] != out->expected[i]) {
            out->first_diff = (long)i;
            break;
        }
    }
    if (r == NULL) {
        out->why = "no request to compare with";
    } else if (http_status != 200) {
        out->why = "HTTP status is not 200";
    } else if (out->first_diff >= 0) {
        out->why = (size_t)out->first_diff >= body_len ? "reply is shorter than the ack"
                                                        : "reply differs from the ack";
    } else if (strict && body_len != exp_len) {
        out->first_diff = (long)exp_len;
        out->why = "reply has bytes after the ack";
    } else {
        out->ok = 1;
    }
}

/* see message.h */
int ec_ack_well_formed(const char *s, size_t n)
{
    if (s == NULL || n != EC_ACK_LEN || s[EC_ACK_LEN - 1] != '=')
        return 0;
    for (size_t i = 0; i + 1 < EC_ACK_LEN; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}
