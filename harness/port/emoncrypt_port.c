/* emoncrypt port kit — see emoncrypt_port.h.
 *
 * Freestanding C99: the only headers are <stddef.h>, <stdint.h> and the
 * generated vector header; byte helpers are written out here because a
 * freestanding build has no <string.h>.  Define ECP_NO_SELFTEST to leave
 * the vectors and the runner out of a production image.
 */
#include "emoncrypt_port.h"

#ifndef ECP_NO_SELFTEST
/* -DECP_VECTORS_HEADER='"path/to/vectors.h"' picks another vector file. */
#ifdef ECP_VECTORS_HEADER
#include ECP_VECTORS_HEADER
#else
#include "emoncrypt_vectors.h"
#endif
#endif

/* ---- byte helpers ------------------------------------------------------- */

static void bytes_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
    /* Front to back: callers only move data towards lower addresses. */
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

static void bytes_fill(uint8_t *dst, uint8_t value, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = value;
}

static int bytes_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Constant-time comparison: the time does not depend on where a MAC
 * differs, so a verifier does not leak how much of a forged MAC is right. */
static int bytes_equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (uint8_t)(a[i] ^ b[i]);
    return diff == 0;
}

static size_t text_len(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    return n;
}

static const char hex_digits[] = "0123456789abcdef";

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/* Value of one hex digit, -1 when not one.  lower_only rejects 'A'..'F':
 * the protocol's HMAC is lowercase and Emoncms compares it as text. */
static int hex_value(char c, int lower_only)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (!lower_only && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- status names ------------------------------------------------------- */

static const char *const status_names[] = {
#define ECP_STATUS_NAME_(code, name) name,
    ECP_STATUS_LIST(ECP_STATUS_NAME_)
#undef ECP_STATUS_NAME_
};

/* see emoncrypt_port.h */
const char *ecp_status_name(ecp_status s)
{
    if ((unsigned)s >= (unsigned)ECP_STATUS_COUNT_)
        return "unknown";
    return status_names[s];
}

/* see emoncrypt_port.h */
ecp_status ecp_key_from_hex(const char *hex, uint8_t key[ECP_KEY_LEN])
{
    if (hex == NULL || key == NULL)
        return ECP_E_ARG;
    for (size_t i = 0; i < ECP_KEY_LEN; i++) {
        int hi = hex_value(hex[2 * i], 0);
        int lo = hi < 0 ? -1 : hex_value(hex[2 * i + 1], 0);
        if (hi < 0 || lo < 0)
            return ECP_E_KEY;
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return hex[2 * ECP_KEY_LEN] == '\0' ? ECP_OK : ECP_E_KEY;
}

/* ---- AES-128-CBC over the shim ----------------------------------------- */

static int shim_has_aes(const ecp_shim *shim)
{
    return (shim->aes128_cbc_encrypt != NULL && shim->aes128_cbc_decrypt != NULL)
        || (shim->aes128_encrypt_block != NULL && shim->aes128_decrypt_block != NULL);
}

/* CBC encryption in place, len a multiple of 16: the shim's CBC when it
 * has one, else chaining its blocks here. */
static ecp_status cbc_encrypt(const ecp_shim *shim, const uint8_t key[ECP_KEY_LEN],
                              const uint8_t iv[ECP_IV_LEN], uint8_t *data,
                              size_t len)
{
    if (shim->aes128_cbc_encrypt != NULL && shim->aes128_cbc_decrypt != NULL)
        return shim->aes128_cbc_encrypt(shim->ctx, key, iv, data, len) == 0
            ? ECP_OK : ECP_E_SHIM;
    const uint8_t *chain = iv;
    for (size_t off = 0; off < len; off += ECP_BLOCK_LEN) {
        uint8_t *block = data + off;
        for (size_t i = 0; i < ECP_BLOCK_LEN; i++)
            block[i] ^= chain[i];
        if (shim->aes128_encrypt_block(shim->ctx, key, block) != 0)
            return ECP_E_SHIM;
        chain = block;
    }
    return ECP_OK;
}

static ecp_status cbc_decrypt(const ecp_shim *shim, const uint8_t key[ECP_KEY_LEN],
                              const uint8_t iv[ECP_IV_LEN], uint8_t *data,
                              size_t len)
{
    if (shim->aes128_cbc_encrypt != NULL && shim->aes128_cbc_decrypt != NULL)
        return shim->aes128_cbc_decrypt(shim->ctx, key, iv, data, len) == 0
            ? ECP_OK : ECP_E_SHIM;
    uint8_t chain[ECP_BLOCK_LEN], saved[ECP_BLOCK_LEN];
    bytes_copy(chain, iv, ECP_BLOCK_LEN);
    for (size_t off = 0; off < len; off += ECP_BLOCK_LEN) {
        uint8_t *block = data + off;
        /* In place: keep this ciphertext block, it chains the next one. */
        bytes_copy(saved, block, ECP_BLOCK_LEN);
        if (shim->aes128_decrypt_block(shim->ctx, key, block) != 0)
            return ECP_E_SHIM;
        for (size_t i = 0; i < ECP_BLOCK_LEN; i++)
            block[i] ^= chain[i];
        bytes_copy(chain, saved, ECP_BLOCK_LEN);
    }
    return ECP_OK;
}

/* ---- HMAC --------------------------------------------------------------- */

#define SHA256_BLOCK 64

/* K0 ^ xor (RFC 2104: K0 = the key zero-padded to the block size,
 * hashed first when longer) into pad. */
static ecp_status hmac_key_pad(const ecp_shim *shim, const uint8_t *key,
                               size_t key_len, uint8_t xor,
                               uint8_t pad[SHA256_BLOCK])
{
    bytes_fill(pad, 0, SHA256_BLOCK);
    if (key_len > SHA256_BLOCK) {
        ecp_bytes whole = {key, key_len};
        if (shim->sha256(shim->ctx, &whole, 1, pad) != 0)
            return ECP_E_SHIM;
    } else if (key_len > 0) {
        bytes_copy(pad, key, key_len);
    }
    for (size_t i = 0; i < SHA256_BLOCK; i++)
        pad[i] = (uint8_t)(pad[i] ^ xor);
    return ECP_OK;
}

/* H((K0 ^ opad) || inner): the outer hash of HMAC. */
static ecp_status hmac_outer(const ecp_shim *shim, const uint8_t *key,
                             size_t key_len, const uint8_t inner[ECP_SHA256_LEN],
                             uint8_t out[ECP_SHA256_LEN])
{
    uint8_t pad[SHA256_BLOCK];
    ecp_status st = hmac_key_pad(shim, key, key_len, 0x5c, pad);
    ecp_bytes outer_parts[2] = {{pad, SHA256_BLOCK}, {inner, ECP_SHA256_LEN}};
    if (st == ECP_OK && shim->sha256(shim->ctx, outer_parts, 2, out) != 0)
        st = ECP_E_SHIM;
    bytes_fill(pad, 0, sizeof pad);
    return st;
}

/* see emoncrypt_port.h */
ecp_status ecp_hmac_sha256(const ecp_shim *shim, const uint8_t *key,
                           size_t key_len, const uint8_t *msg, size_t len,
                           uint8_t out[ECP_SHA256_LEN])
{
    if (shim == NULL || out == NULL || (key == NULL && key_len > 0)
        || (msg == NULL && len > 0))
        return ECP_E_ARG;
    if (shim->hmac_sha256 != NULL)
        return shim->hmac_sha256(shim->ctx, key, key_len, msg, len, out) == 0
            ? ECP_OK : ECP_E_SHIM;
    if (shim->sha256 == NULL)
        return ECP_E_SHIM_MISSING;

    /* RFC 2104: H((K0 ^ opad) || H((K0 ^ ipad) || msg)), K0 = the key
     * zero-padded to the block size (hashed first when longer). */
    uint8_t pad[SHA256_BLOCK], inner[ECP_SHA256_LEN];
    ecp_status st = hmac_key_pad(shim, key, key_len, 0x36, pad);
    if (st != ECP_OK)
        return st;
    ecp_bytes inner_parts[2] = {{pad, SHA256_BLOCK}, {msg, len}};
    if (shim->sha256(shim->ctx, inner_parts, 2, inner) != 0)
        st = ECP_E_SHIM;
    bytes_fill(pad, 0, sizeof pad);
    return st == ECP_OK ? hmac_outer(shim, key, key_len, inner, out) : st;
}

/* HMAC streamed over the shim's incremental hash: begin hashes the inner
 * pad, the caller updates with the message, hmac_outer finishes. */
static ecp_status hmac_stream_begin(const ecp_shim *shim, const uint8_t *key,
                                    size_t key_len)
{
    uint8_t pad[SHA256_BLOCK];
    ecp_status st = hmac_key_pad(shim, key, key_len, 0x36, pad);
    if (st == ECP_OK && shim->sha256_begin(shim->ctx) != 0)
        st = ECP_E_SHIM;
    if (st == ECP_OK && shim->sha256_update(shim->ctx, pad, SHA256_BLOCK) != 0) {
        uint8_t discard[ECP_SHA256_LEN];
        (void)shim->sha256_end(shim->ctx, discard);
        st = ECP_E_SHIM;
    }
    bytes_fill(pad, 0, sizeof pad);
    return st;
}

static ecp_status hmac_stream_end(const ecp_shim *shim, const uint8_t *key,
                                  size_t key_len, uint8_t out[ECP_SHA256_LEN])
{
    uint8_t inner[ECP_SHA256_LEN];
    if (shim->sha256_end(shim->ctx, inner) != 0)
        return ECP_E_SHIM;
    return hmac_outer(shim, key, key_len, inner, out);
}

/* ---- base64url ---------------------------------------------------------- */

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* see emoncrypt_port.h */
size_t ecp_b64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

/* Encode n bytes at in to out.  Safe when the input lies inside the output
 * buffer at or after offset ecp_b64_encoded_len(n) - n: each 4-character
 * group is written only after its 3 input bytes were read, and never
 * reaches the bytes of a later group (the request builder relies on this
 * to encode in place). */
static void b64url_encode_raw(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t b0 = in[i];
        uint32_t b1 = i + 1 < n ? in[i + 1] : 0;
        uint32_t b2 = i + 2 < n ? in[i + 2] : 0;
        uint32_t triple = b0 << 16 | b1 << 8 | b2;
        out[o] = b64url_alphabet[triple >> 18 & 63];
        out[o + 1] = b64url_alphabet[triple >> 12 & 63];
        out[o + 2] = i + 1 < n ? b64url_alphabet[triple >> 6 & 63] : '=';
        out[o + 3] = i + 2 < n ? b64url_alphabet[triple & 63] : '=';
        o += 4;
    }
    out[o] = '\0';
}

/* see emoncrypt_port.h */
ecp_status ecp_b64url_encode(const uint8_t *in, size_t n, char *out,
                             size_t out_cap, size_t *out_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if ((in == NULL && n > 0) || out == NULL)
        return ECP_E_ARG;
    size_t need = ecp_b64_encoded_len(n);
    if (out_cap < need + 1)
        return ECP_E_BUFFER;
    b64url_encode_raw(in, n, out);
    if (out_len != NULL)
        *out_len = need;
    return ECP_OK;
}

/* The strict base64url decoder, one character at a time: '=' only at
 * the end, at most two, completing the last quantum; unused bits zero.
 * Each decoded byte goes to emit (ECP_OK to go on). */
typedef ecp_status (*byte_fn)(void *ctx, uint8_t byte);

typedef struct {
    uint32_t acc;
    unsigned bits, pad;
    size_t chars;       /* alphabet characters seen */
} b64_decoder;

static ecp_status b64_feed(b64_decoder *d, const char *in, size_t n,
                           byte_fn emit, void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '=') {
            if (++d->pad > 2)
                return ECP_E_B64;
            continue;
        }
        int v = b64url_value(in[i]);
        if (v < 0 || d->pad > 0)
            return ECP_E_B64;     /* not the alphabet, or data after '=' */
        d->acc = (d->acc << 6 | (uint32_t)v) & 0xffffffu;
        d->bits += 6;
        d->chars++;
        if (d->bits >= 8) {
            d->bits -= 8;
            ecp_status st = emit(ctx, (uint8_t)(d->acc >> d->bits));
            if (st != ECP_OK)
                return st;
        }
    }
    return ECP_OK;
}

static ecp_status b64_finish(const b64_decoder *d)
{
    /* Padding, when sent, completes the last quantum exactly. */
    if (d->pad > 0 && ((d->chars + d->pad) % 4 != 0 || d->chars % 4 < 2))
        return ECP_E_B64;
    if (d->chars == 0 || d->chars % 4 == 1)
        return ECP_E_B64;
    /* The unused low bits of the last character must be zero: otherwise
     * two different texts decode to the same bytes. */
    if ((d->acc & ((1u << d->bits) - 1)) != 0)
        return ECP_E_B64;
    return ECP_OK;
}

typedef struct {
    uint8_t *out;
    size_t len, cap;
} byte_buffer;

static ecp_status buffer_byte(void *ctx, uint8_t byte)
{
    byte_buffer *b = ctx;
    if (b->len >= b->cap)
        return ECP_E_BUFFER;
    b->out[b->len++] = byte;
    return ECP_OK;
}

/* see emoncrypt_port.h */
ecp_status ecp_b64url_decode(const char *in, size_t n, uint8_t *out,
                             size_t out_cap, size_t *out_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if ((in == NULL && n > 0) || out == NULL || out_len == NULL)
        return ECP_E_ARG;
    /* The output never overtakes the input (3 bytes per 4 characters),
     * so out may be in. */
    b64_decoder d = {0, 0, 0, 0};
    byte_buffer b = {out, 0, out_cap};
    ecp_status st = b64_feed(&d, in, n, buffer_byte, &b);
    if (st == ECP_OK)
        st = b64_finish(&d);
    if (st != ECP_OK)
        return st;
    *out_len = b.len;
    return ECP_OK;
}

/* ---- request ------------------------------------------------------------ */

static size_t padded_len(size_t n)
{
    /* PKCS#7 always adds 1..16 bytes: a full block when n % 16 == 0. */
    return (n / ECP_BLOCK_LEN + 1) * ECP_BLOCK_LEN;
}

/* see emoncrypt_port.h */
size_t ecp_body_cap(size_t n)
{
    return ecp_b64_encoded_len(ECP_IV_LEN + padded_len(n)) + 1;
}

static ecp_status write_authorization(const ecp_shim *shim,
                                      const uint8_t key[ECP_KEY_LEN],
                                      const char *userid, const uint8_t *wire,
                                      size_t wire_len, char *auth,
                                      size_t auth_cap)
{
    size_t id_len = text_len(userid);
    if (id_len == 0 || id_len > 63)
        return ECP_E_ARG;
    for (size_t i = 0; i < id_len; i++)
        if (userid[i] == ':')
            return ECP_E_ARG;
    if (auth_cap < ECP_AUTH_CAP(id_len))
        return ECP_E_BUFFER;
    uint8_t mac[ECP_SHA256_LEN];
    ecp_status st = ecp_hmac_sha256(shim, key, ECP_KEY_LEN, wire, wire_len, mac);
    if (st != ECP_OK)
        return st;
    bytes_copy((uint8_t *)auth, (const uint8_t *)userid, id_len);
    auth[id_len] = ':';
    hex_encode(mac, ECP_SHA256_LEN, auth + id_len + 1);
    return ECP_OK;
}

/* Blocks the streaming builder encrypts per shim call. */
#define STREAM_BLOCKS 4

/* base64url encoder fed piece by piece: up to 2 bytes carried over. */
typedef struct {
    ecp_sink_fn sink;
    void *ctx;
    uint8_t carry[2];
    size_t carried;
} b64_encoder;

static ecp_status b64_encode_feed(b64_encoder *e, const uint8_t *in, size_t n)
{
    uint8_t group[3] = {0, 0, 0};
    enum { TEXT_MAX = (ECP_BLOCK_LEN + 2) / 3 * 4 };
    char text[TEXT_MAX + 1];    /* b64url_encode_raw writes a NUL */
    size_t t = 0, g = e->carried;
    bytes_copy(group, e->carry, g);
    for (size_t i = 0; i < n; i++) {
        group[g++] = in[i];
        if (g == 3) {
            b64url_encode_raw(group, 3, text + t);
            t += 4;
            g = 0;
            if (t == TEXT_MAX) {
                if (e->sink(e->ctx, (const uint8_t *)text, t) != 0)
                    return ECP_E_BUFFER;
                t = 0;
            }
        }
    }
    e->carry[0] = group[0];   /* g < 3: what is left of a group */
    e->carry[1] = group[1];
    e->carried = g;
    if (t > 0 && e->sink(e->ctx, (const uint8_t *)text, t) != 0)
        return ECP_E_BUFFER;
    return ECP_OK;
}

static ecp_status b64_encode_finish(b64_encoder *e)
{
    char text[5];
    if (e->carried == 0)
        return ECP_OK;
    b64url_encode_raw(e->carry, e->carried, text);
    return e->sink(e->ctx, (const uint8_t *)text, 4) == 0 ? ECP_OK : ECP_E_BUFFER;
}

static int shim_can_build(const ecp_shim *shim)
{
    return shim_has_aes(shim) && (shim->sha256 != NULL || shim->hmac_sha256 != NULL);
}

/* see emoncrypt_port.h */
ecp_status ecp_request_stream(const ecp_shim *shim,
                              const uint8_t key[ECP_KEY_LEN],
                              const char *userid,
                              const uint8_t iv[ECP_IV_LEN],
                              const uint8_t *wire, size_t wire_len,
                              char *auth, size_t auth_cap,
                              ecp_sink_fn body_sink, void *sink_ctx)
{
    if (shim == NULL || key == NULL || userid == NULL || iv == NULL
        || (wire == NULL && wire_len > 0) || auth == NULL || body_sink == NULL)
        return ECP_E_ARG;
    if (!shim_can_build(shim))
        return ECP_E_SHIM_MISSING;
    ecp_status st = write_authorization(shim, key, userid, wire, wire_len,
                                        auth, auth_cap);
    if (st != ECP_OK)
        return st;

    /* IV || CBC(PKCS7(wire)), STREAM_BLOCKS blocks at a time (a CBC shim
     * chains within a piece, the kit from one piece to the next),
     * straight into base64. */
    b64_encoder enc = {body_sink, sink_ctx, {0, 0}, 0};
    uint8_t chain[ECP_BLOCK_LEN], piece[STREAM_BLOCKS * ECP_BLOCK_LEN];
    bytes_copy(chain, iv, ECP_IV_LEN);
    st = b64_encode_feed(&enc, chain, ECP_IV_LEN);
    size_t padded = padded_len(wire_len);
    for (size_t off = 0; st == ECP_OK && off < padded; off += sizeof piece) {
        size_t n = padded - off < sizeof piece ? padded - off : sizeof piece;
        for (size_t i = 0; i < n; i++)
            piece[i] = off + i < wire_len ? wire[off + i]
                                          : (uint8_t)(padded - wire_len);
        st = cbc_encrypt(shim, key, chain, piece, n);
        if (st == ECP_OK) {
            bytes_copy(chain, piece + n - ECP_BLOCK_LEN, ECP_BLOCK_LEN);
            st = b64_encode_feed(&enc, piece, n);
        }
    }
    if (st == ECP_OK)
        st = b64_encode_finish(&enc);
    bytes_fill(piece, 0, sizeof piece);
    if (st != ECP_OK)
        auth[0] = '\0';
    return st;
}

typedef struct {
    uint8_t *out;
    size_t len, cap;
} text_buffer;

static int text_sink(void *ctx, const uint8_t *data, size_t n)
{
    text_buffer *b = ctx;
    if (n > b->cap - b->len)
        return -1;
    bytes_copy(b->out + b->len, data, n);
    b->len += n;
    return 0;
}

/* see emoncrypt_port.h */
ecp_status ecp_request_build_iv(const ecp_shim *shim,
                                const uint8_t key[ECP_KEY_LEN],
                                const char *userid,
                                const uint8_t iv[ECP_IV_LEN],
                                const uint8_t *wire, size_t wire_len,
                                char *body, size_t body_cap, size_t *body_len,
                                char *auth, size_t auth_cap)
{
    if (body_len != NULL)
        *body_len = 0;
    if (shim == NULL || body == NULL || body_len == NULL)
        return ECP_E_ARG;
    if (body_cap < ecp_body_cap(wire_len))
        return shim_can_build(shim) ? ECP_E_BUFFER : ECP_E_SHIM_MISSING;
    text_buffer b = {(uint8_t *)body, 0, body_cap - 1};
    ecp_status st = ecp_request_stream(shim, key, userid, iv, wire, wire_len,
                                       auth, auth_cap, text_sink, &b);
    body[st == ECP_OK ? b.len : 0] = '\0';
    if (st == ECP_OK)
        *body_len = b.len;
    return st;
}

/* see emoncrypt_port.h */
ecp_status ecp_request_build(const ecp_shim *shim,
                             const uint8_t key[ECP_KEY_LEN],
                             const char *userid,
                             const uint8_t *wire, size_t wire_len,
                             char *body, size_t body_cap, size_t *body_len,
                             char *auth, size_t auth_cap)
{
    if (body_len != NULL)
        *body_len = 0;
    if (shim == NULL)
        return ECP_E_ARG;
    if (shim->random == NULL)
        return ECP_E_SHIM_MISSING;
    uint8_t iv[ECP_IV_LEN];
    if (shim->random(shim->ctx, iv, sizeof iv) != 0)
        return ECP_E_SHIM;
    return ecp_request_build_iv(shim, key, userid, iv, wire, wire_len, body,
                                body_cap, body_len, auth, auth_cap);
}

/* see emoncrypt_port.h */
ecp_status ecp_ack_compute(const ecp_shim *shim, const uint8_t *wire,
                           size_t wire_len, char ack[ECP_ACK_LEN + 1])
{
    if (shim == NULL || ack == NULL || (wire == NULL && wire_len > 0))
        return ECP_E_ARG;
    if (shim->sha256 == NULL)
        return ECP_E_SHIM_MISSING;
    uint8_t digest[ECP_SHA256_LEN];
    ecp_bytes whole = {wire, wire_len};
    if (shim->sha256(shim->ctx, &whole, 1, digest) != 0)
        return ECP_E_SHIM;
    b64url_encode_raw(digest, ECP_SHA256_LEN, ack);
    return ECP_OK;
}

/* see emoncrypt_port.h */
ecp_status ecp_ack_check(const ecp_shim *shim, const uint8_t *wire,
                         size_t wire_len, const char *reply, size_t reply_len)
{
    char ack[ECP_ACK_LEN + 1];
    ecp_status st = ecp_ack_compute(shim, wire, wire_len, ack);
    if (st != ECP_OK)
        return st;
    if (reply == NULL || reply_len != ECP_ACK_LEN
        || !bytes_equal((const uint8_t *)reply, (const uint8_t *)ack, ECP_ACK_LEN))
        return ECP_E_ACK;
    return ECP_OK;
}

/* see emoncrypt_port.h */
ecp_status ecp_iv_ring_init(ecp_iv_ring *ring, uint8_t (*slots)[ECP_IV_LEN],
                            size_t cap)
{
    if (ring == NULL || slots == NULL || cap == 0)
        return ECP_E_ARG;
    ring->slots_ = slots;
    ring->cap_ = cap;
    ring->count_ = ring->next_ = 0;
    return ECP_OK;
}

/* see emoncrypt_port.h */
int ecp_iv_reused(ecp_iv_ring *ring, const uint8_t iv[ECP_IV_LEN])
{
    if (ring == NULL || ring->slots_ == NULL || ring->cap_ == 0 || iv == NULL)
        return -1;
    for (size_t i = 0; i < ring->count_; i++)
        if (bytes_equal(ring->slots_[i], iv, ECP_IV_LEN))
            return 1;
    bytes_copy(ring->slots_[ring->next_], iv, ECP_IV_LEN);
    ring->next_ = (ring->next_ + 1) % ring->cap_;
    if (ring->count_ < ring->cap_)
        ring->count_++;
    return 0;
}

static int shim_can_verify(const ecp_shim *shim)
{
    return shim_has_aes(shim) && shim->sha256 != NULL
        && shim->sha256_begin != NULL && shim->sha256_update != NULL
        && shim->sha256_end != NULL;
}

/* A plaintext piece known not to be the padding: into the HMAC and out. */
static ecp_status verify_release(ecp_verify_stream *vs, const uint8_t *p,
                                 size_t n)
{
    const ecp_shim *shim = vs->shim_;
    if (n == 0)
        return ECP_OK;
    if (shim->sha256_update(shim->ctx, p, n) != 0)
        return ECP_E_SHIM;
    if (vs->sink_ != NULL && vs->sink_(vs->sink_ctx_, p, n) != 0)
        return ECP_E_BUFFER;
    vs->plain_len_ += n;
    return ECP_OK;
}

/* One decoded byte of IV || ciphertext. */
static ecp_status verify_byte(void *ctx, uint8_t byte)
{
    ecp_verify_stream *vs = ctx;
    vs->block_[vs->raw_len_ % ECP_BLOCK_LEN] = byte;
    vs->raw_len_++;
    if (vs->raw_len_ % ECP_BLOCK_LEN != 0)
        return ECP_OK;
    if (vs->raw_len_ == ECP_IV_LEN) {
        bytes_copy(vs->chain_, vs->block_, ECP_BLOCK_LEN);
        return ECP_OK;
    }
    /* A new block: the one held back was not the last, release it. */
    if (vs->have_held_) {
        ecp_status st = verify_release(vs, vs->held_, ECP_BLOCK_LEN);
        if (st != ECP_OK)
            return st;
    }
    bytes_copy(vs->held_, vs->block_, ECP_BLOCK_LEN);
    ecp_status st = cbc_decrypt(vs->shim_, vs->key_, vs->chain_, vs->held_,
                                ECP_BLOCK_LEN);
    bytes_copy(vs->chain_, vs->block_, ECP_BLOCK_LEN);
    vs->have_held_ = 1;
    return st;
}

static void verify_close(ecp_verify_stream *vs)
{
    if (vs->hashing_) {
        uint8_t discard[ECP_SHA256_LEN];
        (void)vs->shim_->sha256_end(vs->shim_->ctx, discard);
        vs->hashing_ = 0;
    }
    bytes_fill(vs->held_, 0, sizeof vs->held_);
    bytes_fill(vs->key_, 0, sizeof vs->key_);
}

/* see emoncrypt_port.h */
ecp_status ecp_verify_begin(ecp_verify_stream *vs, const ecp_shim *shim,
                            const uint8_t key[ECP_KEY_LEN],
                            const char *authorization,
                            ecp_sink_fn sink, void *sink_ctx)
{
    if (vs == NULL)
        return ECP_E_ARG;
    bytes_fill((uint8_t *)vs, 0, sizeof *vs);
    vs->status_ = ECP_E_ARG;
    if (shim == NULL || key == NULL)
        return ECP_E_ARG;
    vs->shim_ = shim;
    vs->sink_ = sink;
    vs->sink_ctx_ = sink_ctx;
    if (!shim_can_verify(shim))
        return vs->status_ = ECP_E_SHIM_MISSING;

    /* Authorization: USERID ":" HMAC, exactly one colon (SPEC §4). */
    if (authorization == NULL)
        return vs->status_ = ECP_E_AUTH_MISSING;
    size_t colon = 0, colons = 0, auth_len = text_len(authorization);
    for (size_t i = 0; i < auth_len; i++)
        if (authorization[i] == ':') {
            colon = i;
            colons++;
        }
    if (colons != 1 || colon == 0)
        return vs->status_ = ECP_E_AUTH_FORMAT;
    /* A malformed HMAC is not told apart from a wrong one (ECP_E_HMAC at
     * the end), as a server compares it as text. */
    const char *mac_hex = authorization + colon + 1;
    vs->claimed_ok_ = auth_len - colon - 1 == ECP_HMAC_HEX_LEN;
    for (size_t i = 0; vs->claimed_ok_ && i < ECP_SHA256_LEN; i++) {
        int hi = hex_value(mac_hex[2 * i], 1);
        int lo = hex_value(mac_hex[2 * i + 1], 1);
        if (hi < 0 || lo < 0)
            vs->claimed_ok_ = 0;
        else
            vs->claimed_[i] = (uint8_t)(hi << 4 | lo);
    }
    bytes_copy(vs->key_, key, ECP_KEY_LEN);
    vs->status_ = hmac_stream_begin(shim, vs->key_, ECP_KEY_LEN);
    vs->hashing_ = vs->status_ == ECP_OK;
    return vs->status_;
}

/* see emoncrypt_port.h */
ecp_status ecp_verify_update(ecp_verify_stream *vs, const char *body, size_t n)
{
    if (vs == NULL)
        return ECP_E_ARG;
    if (vs->status_ != ECP_OK)
        return vs->status_;
    if (body == NULL && n > 0)
        return vs->status_ = ECP_E_ARG;
    b64_decoder d = {vs->b64_acc_, vs->b64_bits_, vs->b64_pad_, vs->b64_chars_};
#ifdef ECP_MUTANT_STREAM_CARRY
    /* MUTANT (tests only): the bits of a base64 quantum split across two
     * updates are dropped. */
    d.acc = 0;
    d.bits = 0;
#endif
    vs->status_ = b64_feed(&d, body, n, verify_byte, vs);
    vs->b64_acc_ = d.acc;
    vs->b64_bits_ = d.bits;
    vs->b64_pad_ = d.pad;
    vs->b64_chars_ = d.chars;
    if (vs->status_ != ECP_OK)
        verify_close(vs);
    return vs->status_;
}

static ecp_status verify_finish(ecp_verify_stream *vs)
{
    if (vs->b64_chars_ == 0 && vs->b64_pad_ == 0)
        return ECP_E_BODY_EMPTY;
    b64_decoder d = {vs->b64_acc_, vs->b64_bits_, vs->b64_pad_, vs->b64_chars_};
    ecp_status st = b64_finish(&d);
    if (st != ECP_OK)
        return st;
    if (vs->raw_len_ < ECP_IV_LEN + ECP_BLOCK_LEN
        || vs->raw_len_ % ECP_BLOCK_LEN != 0)
        return ECP_E_CT_LENGTH;

    uint8_t pad = vs->held_[ECP_BLOCK_LEN - 1];
    int pad_ok = pad >= 1 && pad <= ECP_BLOCK_LEN;
    for (size_t i = 0; pad_ok && i < pad; i++)
        if (vs->held_[ECP_BLOCK_LEN - 1 - i] != pad)
            pad_ok = 0;
    if (!pad_ok)
        return ECP_E_PADDING;
    st = verify_release(vs, vs->held_, ECP_BLOCK_LEN - pad);
    if (st != ECP_OK)
        return st;

    uint8_t mac[ECP_SHA256_LEN];
    vs->hashing_ = 0;
    st = hmac_stream_end(vs->shim_, vs->key_, ECP_KEY_LEN, mac);
    if (st != ECP_OK)
        return st;
    if (!vs->claimed_ok_ || !bytes_equal_ct(mac, vs->claimed_, ECP_SHA256_LEN))
        return ECP_E_HMAC;
    return ECP_OK;
}

/* see emoncrypt_port.h */
ecp_status ecp_verify_end(ecp_verify_stream *vs, size_t *plain_len)
{
    if (plain_len != NULL)
        *plain_len = 0;
    if (vs == NULL || plain_len == NULL)
        return ECP_E_ARG;
    ecp_status st = vs->status_ == ECP_OK ? verify_finish(vs) : vs->status_;
    verify_close(vs);
    vs->status_ = st == ECP_OK ? ECP_E_ARG : st;   /* ended: no more updates */
    if (st == ECP_OK)
        *plain_len = vs->plain_len_;
    return st;
}

/* see emoncrypt_port.h */
ecp_status ecp_request_verify(const ecp_shim *shim,
                              const uint8_t key[ECP_KEY_LEN],
                              const char *authorization,
                              const char *body, size_t body_len,
                              uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if (shim == NULL || key == NULL || (body == NULL && body_len > 0)
        || out == NULL || out_len == NULL)
        return ECP_E_ARG;
    ecp_verify_stream vs;
    text_buffer b = {out, 0, out_cap};
    ecp_status st = ecp_verify_begin(&vs, shim, key, authorization, text_sink, &b);
    if (st == ECP_OK)
        st = ecp_verify_update(&vs, body, body_len);
    size_t n = 0;
    st = st == ECP_OK ? ecp_verify_end(&vs, &n) : st;
    if (st == ECP_OK)
        *out_len = n;
    return st;
}

#ifndef ECP_NO_SELFTEST

/* ---- self-test ---------------------------------------------------------- */

static int text_equal(const char *a, const char *b)
{
    size_t i = 0;
    while (a[i] != '\0' && a[i] == b[i])
        i++;
    return a[i] == b[i];
}

typedef struct {
    const ecp_port *port;
    ecp_failure_fn on_failure;
    void *failure_ctx;
    ecp_selftest_result *result;
    ecp_status first_status;
    int stop;
    int kit_build;      /* port->build is the kit's: check it streamed */
    ecp_case_fn on_case;
    void *case_ctx;
} run_state;

static void fail(run_state *rs, const char *tc_id, const char *check,
                 ecp_status status, const char *expected, const char *actual,
                 long first_diff)
{
    ecp_selftest_result *r = rs->result;
    if (status == ECP_OK)
        status = ECP_E_SELFTEST;   /* the call succeeded, the result is wrong */
    if (r->failed == 0) {
        r->first_failed_id = tc_id;
        r->first_failed_check = check;
        rs->first_status = status;
    }
    r->failed++;
    if (rs->on_failure != NULL) {
        ecp_failure f = {tc_id, check, status, expected, actual, first_diff};
        if (rs->on_failure(rs->failure_ctx, &f) != 0)
            rs->stop = 1;
    }
}

/* A case is done: its verdict from the failures since failed_before
 * (skip_reason non-NULL: it was not run). */
static void case_done(run_state *rs, const char *tc_id, const char *kind,
                      unsigned failed_before, const char *skip_reason)
{
    if (rs->on_case == NULL)
        return;
    ecp_case c;
    c.tc_id = tc_id;
    c.kind = kind;
    c.failed_checks = rs->result->failed - failed_before;
    c.skip_reason = NULL;
    if (c.failed_checks > 0) {
        c.verdict = ECP_CASE_FAIL;
    } else if (skip_reason != NULL) {
        c.verdict = ECP_CASE_SKIP;
        c.skip_reason = skip_reason;
    } else {
        c.verdict = ECP_CASE_PASS;
    }
    rs->on_case(rs->case_ctx, &c);
}

/* Byte offset of the first difference, -1 when equal. */
static long first_difference(const char *a, size_t a_len, const char *b,
                             size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return (long)i;
    return a_len == b_len ? -1 : (long)n;
}

/* Compare produced text with the vector's: a failure names both. */
static int check_text(run_state *rs, const char *tc_id, const char *check,
                      const char *expected, size_t expected_len,
                      const char *actual, size_t actual_len)
{
    long diff = first_difference(expected, expected_len, actual, actual_len);
    if (diff < 0)
        return 1;
    fail(rs, tc_id, check, ECP_OK, expected, actual, diff);
    return 0;
}

static int hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(hex[2 * i], 0);
        int lo = hex_value(hex[2 * i + 1], 0);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* One primitive known answer: computed bytes against a published hex. */
static void kat_expect(run_state *rs, const char *tc_id, ecp_status st,
                       const uint8_t *got, size_t n, const char *expected_hex)
{
    char got_hex[2 * 64 + 1];
    unsigned before = rs->result->failed;
    if (rs->stop)
        return;     /* on_failure asked to stop */
    rs->result->kat_run++;
    if (st != ECP_OK) {
        fail(rs, tc_id, "primitive", st, expected_hex, NULL, -1);
    } else {
        hex_encode(got, n, got_hex);
        check_text(rs, tc_id, "primitive", expected_hex, 2 * n, got_hex, 2 * n);
    }
    case_done(rs, tc_id, "kat", before, NULL);
}

/* Known answers for each primitive first, so that a broken port is told
 * which primitive is wrong before any vector fails. */
static void run_kats(run_state *rs)
{
    const ecp_shim *shim = rs->port->shim;
    uint8_t out[64];
    ecp_status st;

    /* FIPS 180-4 example "abc", once whole and once split in two parts
     * (the kit's HMAC hashes parts: a shim that drops one shows here). */
    static const uint8_t abc[] = {'a', 'b', 'c'};
    static const char sha_abc[] =
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    ecp_bytes whole = {abc, 3};
    st = shim->sha256(shim->ctx, &whole, 1, out) == 0 ? ECP_OK : ECP_E_SHIM;
    kat_expect(rs, "kat/sha256-abc", st, out, 32, sha_abc);
    ecp_bytes split[3] = {{abc, 1}, {abc + 1, 0}, {abc + 1, 2}};
    st = shim->sha256(shim->ctx, split, 3, out) == 0 ? ECP_OK : ECP_E_SHIM;
    kat_expect(rs, "kat/sha256-abc-in-parts", st, out, 32, sha_abc);

    /* RFC 4231 test cases 1 and 2. */
    static const uint8_t key1[20] = {
        0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
        0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
    static const uint8_t data1[] = {'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'};
    st = ecp_hmac_sha256(shim, key1, sizeof key1, data1, sizeof data1, out);
    kat_expect(rs, "kat/hmac-sha256-rfc4231-1", st, out, 32,
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    static const uint8_t key2[] = {'J', 'e', 'f', 'e'};
    static const uint8_t data2[] = "what do ya want for nothing?";
    st = ecp_hmac_sha256(shim, key2, sizeof key2, data2, sizeof data2 - 1, out);
    kat_expect(rs, "kat/hmac-sha256-rfc4231-2", st, out, 32,
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* The same through the incremental hash the verifier streams with,
     * the message in three updates (one of them empty). */
    st = hmac_stream_begin(shim, key2, sizeof key2);
    if (st == ECP_OK) {
        if (shim->sha256_update(shim->ctx, data2, 5) != 0
            || shim->sha256_update(shim->ctx, data2 + 5, 0) != 0
            || shim->sha256_update(shim->ctx, data2 + 5, sizeof data2 - 6) != 0)
            st = ECP_E_SHIM;
        ecp_status end = hmac_stream_end(shim, key2, sizeof key2, out);
        if (st == ECP_OK)
            st = end;
    }
    kat_expect(rs, "kat/hmac-sha256-rfc4231-2-streamed", st, out, 32,
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    /* NIST SP 800-38A F.2.1 (encrypt) and F.2.2 (decrypt), CBC-AES128. */
    static const char sp_key[] = "2b7e151628aed2a6abf7158809cf4f3c";
    static const char sp_iv[] = "000102030405060708090a0b0c0d0e0f";
    static const char sp_plain[] =
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
    static const char sp_cipher[] =
        "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
        "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7";
    uint8_t key[16], iv[16];
    hex_to_bytes(sp_key, key, 16);
    hex_to_bytes(sp_iv, iv, 16);
    hex_to_bytes(sp_plain, out, 64);
    st = cbc_encrypt(shim, key, iv, out, 64);
    kat_expect(rs, "kat/aes128-cbc-sp800-38a-f2.1", st, out, 64, sp_cipher);
    hex_to_bytes(sp_cipher, out, 64);
    st = cbc_decrypt(shim, key, iv, out, 64);
    kat_expect(rs, "kat/aes128-cbc-sp800-38a-f2.2", st, out, 64, sp_plain);
}

/* The vector's mistakes list, as a set of the encoding-level mistakes a
 * valid vector may carry, and the two that change nothing unless the
 * plaintext is a multiple of 16 bytes (message.h defines them so);
 * anything else is not a request a correct port builds. */
typedef struct {
    int no_b64_padding;
    int std_alphabet;
    int block_multiple_only;
    int other;
} mistake_set;

static mistake_set parse_mistakes(const char *list)
{
    mistake_set m = {0, 0, 0, 0};
    const char *p = list == NULL ? "" : list;
    while (*p != '\0') {
        char name[32];
        size_t n = 0;
        while (p[n] != '\0' && p[n] != ',')
            n++;
        if (n < sizeof name) {
            bytes_copy((uint8_t *)name, (const uint8_t *)p, n);
            name[n] = '\0';
            if (text_equal(name, "no-b64-padding"))
                m.no_b64_padding = 1;
            else if (text_equal(name, "std-alphabet"))
                m.std_alphabet = 1;
            else if (text_equal(name, "cbc-chain-bug")
                     || text_equal(name, "no-full-pad"))
                m.block_multiple_only = 1;
            else if (n > 0)
                m.other = 1;
        } else {
            m.other = 1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return m;
}

static int in_scope_profile(const char *profile)
{
    return text_equal(profile, "aes128cbc") || text_equal(profile, "aes128cbcgz");
}

/* Faults the request verifier is responsible for: header shape, empty
 * body, and everything Emoncms collapses into "invalid data". */
static int verifier_fault(const char *fault)
{
    return fault != NULL
        && (text_equal(fault, "invalid-data") || text_equal(fault, "auth-format")
            || text_equal(fault, "auth-missing") || text_equal(fault, "body-empty")
            || text_equal(fault, "strict-base64"));
}

/* Carve n bytes from the scratch area; NULL when it is exhausted. */
typedef struct {
    uint8_t *next;
    size_t left;
} scratch;

static uint8_t *scratch_take(scratch *s, size_t n)
{
    if (n > s->left)
        return NULL;
    uint8_t *p = s->next;
    s->next += n;
    s->left -= n;
    return p;
}

/* Where the streamed output of the kit is compared with a vector, byte
 * by byte, as it comes: no buffer.  For a body, the vector's accepted
 * variants: without '=' (skip them) or in the standard alphabet. */
typedef struct {
    const uint8_t *expected;
    size_t expected_len, pos;
    long first_diff;
    int drop_padding, std_alphabet;
} compare_sink;

static int compare_bytes(void *ctx, const uint8_t *data, size_t n)
{
    compare_sink *c = ctx;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = data[i];
        if (c->drop_padding && b == '=')
            continue;
        if (c->std_alphabet)
            b = b == '-' ? '+' : b == '_' ? '/' : b;
        if (c->first_diff < 0
            && (c->pos >= c->expected_len || c->expected[c->pos] != b))
            c->first_diff = (long)c->pos;
        c->pos++;
    }
    return 0;
}

/* The first difference, -1 when the whole of expected came and no more. */
static long compare_result(const compare_sink *c)
{
    if (c->first_diff >= 0)
        return c->first_diff;
    return c->pos == c->expected_len ? -1 : (long)c->pos;
}

/* Feed a body to the streaming verifier in pieces of 1, 2, 3, ... 64
 * characters (then 1 again): every split of a base64 quantum and of a
 * block boundary is crossed. */
static ecp_status verify_in_pieces(const ecp_shim *shim, const uint8_t *key,
                                   const char *authorization, const char *body,
                                   size_t body_len, ecp_sink_fn sink, void *ctx,
                                   size_t *plain_len)
{
    ecp_verify_stream vs;
    ecp_status st = ecp_verify_begin(&vs, shim, key, authorization, sink, ctx);
    size_t off = 0, piece = 1;
    while (st == ECP_OK && off < body_len) {
        size_t n = body_len - off < piece ? body_len - off : piece;
        st = ecp_verify_update(&vs, body + off, n);
        off += n;
        piece = piece % 64 + 1;
    }
    return ecp_verify_end(&vs, plain_len);
}

/* The body through the strict decoder alone: is it canonical base64url? */
static ecp_status discard_byte(void *ctx, uint8_t byte)
{
    (void)ctx;
    (void)byte;
    return ECP_OK;
}

static int canonical_b64url(const char *body, size_t len)
{
    b64_decoder d = {0, 0, 0, 0};
    return b64_feed(&d, body, len, discard_byte, NULL) == ECP_OK
        && b64_finish(&d) == ECP_OK;
}

/* The request a port's own builder (ecp_port.build) makes, in work[]: its
 * interface is a whole body buffer.  0 when it does not fit. */
static int build_with_port(run_state *rs, const emoncrypt_vector *v,
                           scratch s, const uint8_t *wire, size_t wire_len,
                           compare_sink *body_cmp, char *auth, size_t auth_cap,
                           ecp_status *st)
{
    size_t body_cap = ecp_body_cap(wire_len);
    char *body = (char *)scratch_take(&s, body_cap);
    if (body == NULL)
        return 0;
    size_t body_len = 0;
    *st = rs->port->build(rs->port->shim, v->key, v->userid, v->iv, wire,
                          wire_len, body, body_cap, &body_len, auth, auth_cap);
    if (*st == ECP_OK)
        compare_bytes(body_cmp, (const uint8_t *)body, body_len);
    return 1;
}

static void run_valid(run_state *rs, const emoncrypt_vector *v, scratch s)
{
    const ecp_port *port = rs->port;
    const ecp_shim *shim = port->shim;
    const uint8_t *wire = v->wire_plaintext;
    size_t wire_len = v->wire_plaintext_len;
    if (wire == NULL && text_equal(v->profile, "aes128cbc")) {
        wire = v->plaintext;
        wire_len = v->plaintext_len;
    }
    mistake_set m = parse_mistakes(v->mistakes);
    if (m.block_multiple_only && wire_len % ECP_BLOCK_LEN == 0)
        m.other = 1;
    if ((wire == NULL && wire_len > 0) || !v->has_iv || m.other
        || v->authorization == NULL || v->ack == NULL) {
        rs->result->skipped++;
        return;
    }
    if (wire == NULL)
        wire = (const uint8_t *)"";

    /* A vector whose body is not canonical base64url (line breaks, '%3D',
     * ...) is about a lenient server, not about what a client builds:
     * check its Authorization and ack, not its body. */
    int canonical = m.std_alphabet || canonical_b64url(v->body, v->body_len);

    /* 1. The request, byte for byte, streamed (the kit's builder) or in
     * work[] (a port's own).  A valid vector may be sent without '=' or
     * in the standard alphabet; the kit always builds the canonical form,
     * so it is compared in the vector's form. */
    char auth[ECP_AUTH_CAP(63)];
    compare_sink body_cmp = {(const uint8_t *)v->body, v->body_len, 0, -1,
                             m.no_b64_padding, m.std_alphabet};
    ecp_status st;
    auth[0] = '\0';
    if (rs->kit_build) {
        st = ecp_request_stream(shim, v->key, v->userid, v->iv, wire, wire_len,
                                auth, sizeof auth, compare_bytes, &body_cmp);
    } else if (!build_with_port(rs, v, s, wire, wire_len, &body_cmp, auth,
                                sizeof auth, &st)) {
        rs->result->too_large++;
        return;
    }
    rs->result->valid_run++;
    if (st != ECP_OK) {
        fail(rs, v->tc_id, "build", st, NULL, NULL, -1);
    } else {
        long diff = compare_result(&body_cmp);
        if (canonical && diff >= 0)
            fail(rs, v->tc_id, "body", ECP_OK, v->body, NULL, diff);
        if (!rs->stop)
            check_text(rs, v->tc_id, "authorization", v->authorization,
                       text_len(v->authorization), auth, text_len(auth));
    }
    if (rs->stop)
        return;

    /* 2. The ack: computed, accepted, and nothing else accepted. */
    char ack[ECP_ACK_LEN + 1];
    st = ecp_ack_compute(shim, wire, wire_len, ack);
    if (st != ECP_OK)
        fail(rs, v->tc_id, "ack", st, v->ack, NULL, -1);
    else
        check_text(rs, v->tc_id, "ack", v->ack, text_len(v->ack), ack,
                   ECP_ACK_LEN);
    if (rs->stop)
        return;
    size_t ack_len = text_len(v->ack);
    st = port->ack_check(shim, wire, wire_len, v->ack, ack_len);
    if (st != ECP_OK)
        fail(rs, v->tc_id, "ack-check-accepts", st, v->ack, NULL, -1);
    if (rs->stop || ack_len != ECP_ACK_LEN)
        return;
    char wrong[ECP_ACK_LEN + 1];
    bytes_copy((uint8_t *)wrong, (const uint8_t *)v->ack, ECP_ACK_LEN + 1);
    wrong[10] = wrong[10] == 'A' ? 'B' : 'A';
    static const char invalid_data[] = "invalid data";
    if (port->ack_check(shim, wire, wire_len, wrong, ECP_ACK_LEN) == ECP_OK)
        fail(rs, v->tc_id, "ack-check-rejects-other-hash", ECP_OK,
             "rejected", wrong, -1);
    else if (port->ack_check(shim, wire, wire_len, invalid_data,
                             sizeof invalid_data - 1) == ECP_OK)
        fail(rs, v->tc_id, "ack-check-rejects-error-text", ECP_OK,
             "rejected", invalid_data, -1);
    if (rs->stop)
        return;

    /* 3. The server side: the vector's own request decodes back, streamed
     * in pieces, the plaintext compared as it comes. */
    if (!canonical)
        return;
    compare_sink plain_cmp = {wire, wire_len, 0, -1, 0, 0};
    size_t decoded_len = 0;
    st = verify_in_pieces(shim, v->key, v->authorization, v->body, v->body_len,
                          compare_bytes, &plain_cmp, &decoded_len);
    if (m.std_alphabet && st == ECP_E_B64)
        return;   /* the strict verifier takes the URL alphabet only */
    long diff = compare_result(&plain_cmp);
    if (st != ECP_OK)
        fail(rs, v->tc_id, "verify-valid", st, "ok", ecp_status_name(st), -1);
    else if (decoded_len != wire_len || diff >= 0)
        fail(rs, v->tc_id, "verify-valid-plaintext", ECP_OK, NULL, NULL, diff);
}

/* An invalid vector, or an acceptable one a strict server rejects: when
 * the fault is the verifier's to find, the streaming verifier must reject
 * it.  (Other faults — unknown user, wrong Content-Type, bad application
 * data — are beyond a request verifier and are skipped.) */
static void run_reject(run_state *rs, const emoncrypt_vector *v)
{
    const char *strict = v->fault_strict != NULL ? v->fault_strict : v->fault;
    int acceptable = text_equal(v->result, "acceptable");
    if (acceptable ? !verifier_fault(strict)
                   : !verifier_fault(v->fault) && !verifier_fault(strict)) {
        rs->result->skipped++;
        return;
    }
    if (acceptable)
        rs->result->strict_reject_run++;
    else
        rs->result->invalid_run++;
    size_t decoded_len = 0;
    ecp_status st = verify_in_pieces(rs->port->shim, v->key, v->authorization,
                                     v->body, v->body_len, NULL, NULL,
                                     &decoded_len);
    if (st == ECP_OK)
        fail(rs, v->tc_id, acceptable ? "verify-strict-rejects" : "verify-invalid",
             ECP_OK, acceptable ? strict : v->fault, "accepted", -1);
    else if (st == ECP_E_SHIM || st == ECP_E_SHIM_MISSING || st == ECP_E_ARG
             || st == ECP_E_BUFFER)
        /* Rejected, but for the wrong reason: the port itself failed. */
        fail(rs, v->tc_id, "verify-invalid", st, v->fault, ecp_status_name(st), -1);
}

/* The random source: two draws differ and are not all zero, and a
 * request built with a fresh IV decodes back through the verifier.  Two
 * cases; the round trip is not run when the draws failed. */
static int run_random_distinct(run_state *rs, const char *id)
{
    const ecp_shim *shim = rs->port->shim;
    uint8_t a[ECP_IV_LEN], b[ECP_IV_LEN], zero[ECP_IV_LEN];
    bytes_fill(zero, 0, sizeof zero);
    if (shim->random == NULL) {
        fail(rs, id, "random", ECP_E_SHIM_MISSING, NULL, NULL, -1);
        return 0;
    }
    if (shim->random(shim->ctx, a, sizeof a) != 0
        || shim->random(shim->ctx, b, sizeof b) != 0) {
        fail(rs, id, "random", ECP_E_SHIM, NULL, NULL, -1);
        return 0;
    }
    if (bytes_equal(a, b, sizeof a) || bytes_equal(a, zero, sizeof a)
        || bytes_equal(b, zero, sizeof b)) {
        fail(rs, id, "random", ECP_OK, "two different non-zero IVs",
             "a repeated or zero IV", -1);
        return 0;
    }
    return 1;
}

static void run_random_roundtrip(run_state *rs, const char *id, scratch s)
{
    const ecp_shim *shim = rs->port->shim;
    static const uint8_t key[ECP_KEY_LEN] = {
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    static const uint8_t wire[] = "time=1700000000&data=[[0,\"emontx\",100,200]]";
    size_t wire_len = sizeof wire - 1;
    size_t body_cap = ecp_body_cap(wire_len);
    char *body = (char *)scratch_take(&s, body_cap);
    char *auth = (char *)scratch_take(&s, ECP_AUTH_CAP(1));
    uint8_t *decoded = scratch_take(&s, body_cap);
    if (body == NULL || auth == NULL || decoded == NULL) {
        fail(rs, id, "workspace", ECP_E_BUFFER, NULL, NULL, -1);
        return;
    }
    size_t body_len = 0, decoded_len = 0;
    ecp_status st = ecp_request_build(shim, key, "1", wire, wire_len, body,
                                      body_cap, &body_len, auth, ECP_AUTH_CAP(1));
    if (st == ECP_OK)
        st = ecp_request_verify(shim, key, auth, body, body_len, decoded,
                                body_cap, &decoded_len);
    if (st != ECP_OK)
        fail(rs, id, "roundtrip", st, "ok", ecp_status_name(st), -1);
    else if (decoded_len != wire_len || !bytes_equal(decoded, wire, wire_len))
        fail(rs, id, "roundtrip", ECP_OK, NULL, NULL, -1);
}

/* ecp_iv_reused over a ring of 3: a repeated IV is reported (and not
 * recorded twice), distinct ones are not, one byte apart is distinct, and
 * the ring forgets the oldest when full. */
static void run_iv_reuse(run_state *rs, scratch s)
{
    static const char id[] = "kit/iv-reuse";
    /* IVs A, B, C, D, and C with its last byte changed */
    static const uint8_t first[5] = {0xa0, 0xb1, 0xc2, 0xd3, 0xc2};
    static const uint8_t last[5] = {0x0a, 0x1b, 0x2c, 0x3d, 0x2d};
    /* the calls and their answers: A B C fresh; B reused; D fresh (A
     * forgotten); A fresh again (B forgotten); D reused; C' fresh although
     * C is in the ring (C forgotten); C fresh */
    static const uint8_t order[9] = {0, 1, 2, 1, 3, 0, 3, 4, 2};
    static const int want[9] = {0, 0, 0, 1, 0, 0, 1, 0, 0};
    rs->result->kat_run++;
    unsigned before = rs->result->failed;
    uint8_t (*slots)[ECP_IV_LEN] = (uint8_t (*)[ECP_IV_LEN])scratch_take(&s, 3 * ECP_IV_LEN);
    ecp_iv_ring ring;
    if (slots == NULL || ecp_iv_ring_init(&ring, slots, 3) != ECP_OK) {
        fail(rs, id, "workspace", ECP_E_BUFFER, NULL, NULL, -1);
    } else {
        for (size_t i = 0; i < sizeof order && !rs->stop; i++) {
            uint8_t iv[ECP_IV_LEN];
            bytes_fill(iv, first[order[i]], ECP_IV_LEN);
            iv[ECP_IV_LEN - 1] = last[order[i]];
            int got = ecp_iv_reused(&ring, iv);
            if (got != want[i])
                fail(rs, id, "iv-reuse", ECP_E_SELFTEST,
                     want[i] ? "reused" : "fresh",
                     got == 1 ? "reused" : got == 0 ? "fresh" : "error", -1);
        }
    }
    case_done(rs, id, "kit", before, NULL);
}

static void run_random(run_state *rs, scratch s)
{
    static const char id_distinct[] = "kit/random-distinct-ivs";
    static const char id_roundtrip[] = "kit/random-iv-roundtrip";
    rs->result->kat_run += 2;
    unsigned before = rs->result->failed;
    int drawn = run_random_distinct(rs, id_distinct);
    case_done(rs, id_distinct, "kit", before, NULL);
    if (rs->stop)
        return;
    before = rs->result->failed;
    if (drawn)
        run_random_roundtrip(rs, id_roundtrip, s);
    case_done(rs, id_roundtrip, "kit", before, drawn ? NULL : "not-run");
}

/* see emoncrypt_port.h */
ecp_status ecp_selftest(const ecp_port *port, uint8_t *work, size_t work_cap,
                        ecp_failure_fn on_failure, void *failure_ctx,
                        ecp_selftest_result *result)
{
    return ecp_selftest_cases(port, work, work_cap, on_failure, failure_ctx,
                              NULL, NULL, result);
}

/* see emoncrypt_port.h */
ecp_status ecp_selftest_cases(const ecp_port *port, uint8_t *work,
                              size_t work_cap, ecp_failure_fn on_failure,
                              void *failure_ctx, ecp_case_fn on_case,
                              void *case_ctx, ecp_selftest_result *result)
{
    ecp_selftest_result local;
    if (result == NULL)
        result = &local;
    result->kat_run = result->valid_run = result->invalid_run = 0;
    result->strict_reject_run = result->skipped = result->too_large = 0;
    result->failed = 0;
    result->first_failed_id = result->first_failed_check = NULL;
    if (port == NULL || port->shim == NULL || work == NULL)
        return ECP_E_ARG;
    ecp_port effective = *port;
    if (effective.build == NULL)
        effective.build = ecp_request_build_iv;
    if (effective.ack_check == NULL)
        effective.ack_check = ecp_ack_check;
    run_state rs = {&effective, on_failure, failure_ctx, result, ECP_OK, 0,
                    port->build == NULL, on_case, case_ctx};
    scratch all = {work, work_cap};

    const ecp_shim *shim = port->shim;
    if (!shim_can_verify(shim)) {
        fail(&rs, "kit/shim", "shim-incomplete", ECP_E_SHIM_MISSING,
             "AES blocks or CBC (both directions), sha256 and the "
             "incremental sha256_begin/update/end", NULL, -1);
        case_done(&rs, "kit/shim", "kit", 0, NULL);
        return rs.first_status;
    }

    run_kats(&rs);
    /* sizeof, not EMONCRYPT_VECTOR_COUNT: a header that leaves some rows
     * out under #ifdef still counts right. */
    size_t count = sizeof emoncrypt_vectors / sizeof emoncrypt_vectors[0];
    for (size_t i = 0; i < count && !rs.stop; i++) {
        const emoncrypt_vector *v = &emoncrypt_vectors[i];
        unsigned failed = result->failed, skipped = result->skipped;
        unsigned too_large = result->too_large;
        if (!in_scope_profile(v->profile))
            result->skipped++;
        else if (text_equal(v->result, "valid"))
            run_valid(&rs, v, all);
        else
            run_reject(&rs, v);
        case_done(&rs, v->tc_id, v->result, failed,
                  result->skipped != skipped ? "out-of-scope"
                  : result->too_large != too_large ? "too-large" : NULL);
    }
    if (!rs.stop)
        run_random(&rs, all);
    if (!rs.stop)
        run_iv_reuse(&rs, all);
    return rs.first_status;
}

/* ---- the report lines (README section 7) -------------------------------- */

#define REPORT_MAX_CHECKS 6

typedef struct {
    ecp_write_fn write;
    void *write_ctx;
    ecp_failure_fn on_failure;
    void *failure_ctx;
    /* The case running now: its failed checks (the kit's own string
     * literals, so keeping the pointers is safe), first status and diff. */
    const char *checks[REPORT_MAX_CHECKS];
    unsigned n_checks;
    ecp_status status;
    long first_diff;
    unsigned long counts[3];   /* lines, by ecp_case_verdict */
} report_state;

static void put(report_state *rs, const char *text)
{
    rs->write(rs->write_ctx, text, text_len(text));
}

static void put_word(report_state *rs, const char *word)
{
    put(rs, word != NULL && word[0] != '\0' ? word : "unknown");
}

static void put_number(report_state *rs, const char *key, unsigned long v)
{
    char digits[24];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    put(rs, key);
    rs->write(rs->write_ctx, digits + i, sizeof digits - i);
}

static int report_failure(void *ctx, const ecp_failure *f)
{
    report_state *rs = (report_state *)ctx;
    unsigned i = 0;
    if (rs->n_checks == 0) {
        rs->status = f->status;
        rs->first_diff = f->first_diff;
    }
    while (i < rs->n_checks && !text_equal(rs->checks[i], f->check))
        i++;
    if (i == rs->n_checks && rs->n_checks < REPORT_MAX_CHECKS)
        rs->checks[rs->n_checks++] = f->check;
    return rs->on_failure != NULL ? rs->on_failure(rs->failure_ctx, f) : 0;
}

static void report_case(void *ctx, const ecp_case *c)
{
    static const char *const verdicts[] = {"PASS", "FAIL", "SKIP"};
    report_state *rs = (report_state *)ctx;
    rs->counts[c->verdict]++;
    put(rs, "ECP ");
    put(rs, verdicts[c->verdict]);
    put(rs, " ");
    put(rs, c->tc_id);
    put(rs, " ");
    put(rs, c->kind);
    if (c->verdict == ECP_CASE_FAIL) {
        put(rs, " check=");
        if (rs->n_checks == 0)
            put(rs, "unknown");
        for (unsigned i = 0; i < rs->n_checks; i++) {
            if (i > 0)
                put(rs, ",");
            put(rs, rs->checks[i]);
        }
        put(rs, " status=");
        put(rs, ecp_status_name(rs->status));
        if (rs->first_diff >= 0)
            put_number(rs, " diff=", (unsigned long)rs->first_diff);
        put_number(rs, " failed=", c->failed_checks);
    } else if (c->verdict == ECP_CASE_SKIP) {
        put(rs, " ");
        put(rs, c->skip_reason);
    }
    put(rs, "\n");
    rs->n_checks = 0;
}

/* see emoncrypt_port.h */
ecp_status ecp_selftest_report(const ecp_port *port, uint8_t *work,
                               size_t work_cap, const char *backend,
                               const char *board, ecp_write_fn write,
                               void *write_ctx, ecp_failure_fn on_failure,
                               void *failure_ctx, ecp_selftest_result *result)
{
    if (write == NULL)
        return ecp_selftest(port, work, work_cap, on_failure, failure_ctx, result);
    report_state rs;
    bytes_fill((uint8_t *)&rs, 0, sizeof rs);
    rs.write = write;
    rs.write_ctx = write_ctx;
    rs.on_failure = on_failure;
    rs.failure_ctx = failure_ctx;
    put(&rs, "ECP BEGIN 1 ");
    put_word(&rs, backend);
    put(&rs, " ");
    put_word(&rs, board);
    put(&rs, "\n");
    ecp_status st = ecp_selftest_cases(port, work, work_cap, report_failure, &rs,
                                       report_case, &rs, result);
    put_number(&rs, "ECP END total=",
               rs.counts[ECP_CASE_PASS] + rs.counts[ECP_CASE_FAIL] + rs.counts[ECP_CASE_SKIP]);
    put_number(&rs, " pass=", rs.counts[ECP_CASE_PASS]);
    put_number(&rs, " fail=", rs.counts[ECP_CASE_FAIL]);
    put_number(&rs, " skip=", rs.counts[ECP_CASE_SKIP]);
    put(&rs, "\n");
    return st;
}

#endif /* ECP_NO_SELFTEST */
