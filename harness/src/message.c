/* see message.h — one protocol core for both roles: ec_request_build is how
 * a client (correct or mutant) writes a request, ec_server_answer (answer.c,
 * in the harness library) is how Emoncms (compat) or a hardened server
 * (strict) answers it.  This file is in libemoncrypt: libcrypto and zlib only. */
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

static ec_status check_params(const ec_request_params *p, const ec_request *out)
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
    return EC_OK;
}

static ec_status build_from_wire(const ec_request_params *p, const uint8_t *want_body,
                                 size_t want_len, int *differs, ec_request *out);

/* see message.h */
ec_status ec_request_build(const ec_request_params *p, ec_request *out)
{
    ec_status st = check_params(p, out);
    if (st != EC_OK)
        return st;
    ec_request_init(out);
    st = compress_wire(p, &out->wire_plaintext, &out->wire_plaintext_len);
    if (st != EC_OK) {
        ec_request_free(out);
        return st;
    }
    return build_from_wire(p, NULL, 0, NULL, out);
}

/* see protocol_internal.h */
ec_status ec_request_wire(const ec_request_params *p, uint8_t **wire, size_t *wire_len)
{
    *wire = NULL;
    *wire_len = 0;
    if (p == NULL || (p->plaintext == NULL && p->plaintext_len > 0))
        return EC_E_ARG;
    return compress_wire(p, wire, wire_len);
}

/* see protocol_internal.h */
ec_status ec_request_build_wire(const ec_request_params *p, const uint8_t *wire,
                                size_t wire_len, const uint8_t *want_body, size_t want_len,
                                int *differs, ec_request *out)
{
    if (differs != NULL)
        *differs = 0;
    ec_status st = check_params(p, out);
    if (st != EC_OK)
        return st;
    if ((wire == NULL && wire_len > 0) || (want_body != NULL && differs == NULL))
        return EC_E_ARG;
    ec_request_init(out);
    out->wire_plaintext = malloc(wire_len + 1);
    if (out->wire_plaintext == NULL)
        return EC_E_NOMEM;
    if (wire_len)
        memcpy(out->wire_plaintext, wire, wire_len);
    out->wire_plaintext_len = wire_len;
    return build_from_wire(p, want_body, want_len, differs, out);
}

/* The body's bytes are those of want_body[0..want_len)? (The legacy body
 * is username=U&data=B64, the others B64.) */
static int body_is(const ec_request_params *p, const char *user, const char *b64,
                   size_t b64_len, const uint8_t *want, size_t want_len)
{
    if (p->profile != EC_PROFILE_LEGACY)
        return b64_len == want_len && memcmp(b64, want, want_len) == 0;
    static const char head[] = "username=", mid[] = "&data=";
    size_t user_len = strlen(user);
    size_t h = sizeof head - 1, m = sizeof mid - 1;
    return want_len == h + user_len + m + b64_len && memcmp(want, head, h) == 0 &&
           memcmp(want + h, user, user_len) == 0 &&
           memcmp(want + h + user_len, mid, m) == 0 &&
           memcmp(want + h + user_len + m, b64, b64_len) == 0;
}

/* The rest of ec_request_build, from out->wire_plaintext on: pad, encrypt,
 * encode, MAC.  Frees out on failure.  With want_body: when the body would
 * not be those bytes, stops there (before the ack and the MAC), sets
 * *differs and leaves out empty. */
static ec_status build_from_wire(const ec_request_params *p, const uint8_t *want_body,
                                 size_t want_len, int *differs, ec_request *out)
{
    uint8_t *padded = NULL, *raw = NULL;
    char *b64 = NULL;
    uint8_t aes_key[EC_KEY_LEN];
    ec_status st;
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

    char user[3 * 64 + 1] = "";
    if (p->profile == EC_PROFILE_LEGACY)
        percent_encode(p->username, user, sizeof user);
    if (want_body != NULL && !body_is(p, user, b64, b64_len, want_body, want_len)) {
        /* Not the received body: no request, and not an error either. */
        *differs = 1;
        st = EC_OK;
        goto fail;
    }

    st = ec_ack_of(wire, n, out->ack);
    if (st != EC_OK)
        goto fail;
    snprintf(out->method, sizeof out->method, "POST");

    if (p->profile == EC_PROFILE_LEGACY) {
        snprintf(out->path, sizeof out->path, "/input/encrypted");
        snprintf(out->content_type, sizeof out->content_type,
                 "application/x-www-form-urlencoded");
        out->authorization[0] = '\0';
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
