/* emoncrypt — diagnose a received request (see diagnose.h).
 *
 * Why a rebuild instead of a list of ad-hoc tests: ec_request_build is the
 * one definition of every client mistake, so "the body equals what a client
 * making mistake M would have sent" is a proof, where a heuristic (say, "the
 * HMAC matches the ciphertext") could be right for the wrong reason. */
#include "emoncrypt/diagnose.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "protocol_internal.h"

/* One way to read the body back: which bytes are the IV, which key. */
typedef struct {
    uint8_t iv[EC_IV_LEN];
    uint8_t *plaintext;           /* application plaintext (inflated for gz) */
    size_t plaintext_len;
    unsigned layout_bits;         /* EC_MISTAKE_IV_APPENDED / HEX_KEY_AS_KEY /
                                     GZIP_HEADER the reading assumed */
    /* The bytes a client encrypts for this plaintext (compressed for gz),
     * made once for all the mistake sets tried on it: they depend only on
     * the profile, the plaintext and GZIP_HEADER, which is in layout_bits. */
    uint8_t *wire;
    size_t wire_len;
    int wire_state;               /* 0 not made yet, 1 made, -1 failed */
} candidate;

#define MAX_CANDIDATES 32
/* Bodies above this many decoded bytes are not searched for mistakes. */
#define EC_DIAGNOSE_MAX_BODY (256u * 1024u)

typedef struct {
    candidate items[MAX_CANDIDATES];
    size_t n;
} candidate_set;

void ec_diagnosis_init(ec_diagnosis *d)
{
    memset(d, 0, sizeof *d);
    ec_answer_init(&d->answer);
    d->decrypt_status = EC_E_CT_SHORT;
}

void ec_diagnosis_free(ec_diagnosis *d)
{
    if (d == NULL)
        return;
    ec_answer_free(&d->answer);
    free(d->plaintext);
    memset(d, 0, sizeof *d);
    ec_answer_init(&d->answer);
}

/* see diagnose.h */
const char *ec_mistake_list(unsigned mistakes, char *out, size_t cap)
{
    size_t used = 0;
    if (cap == 0)
        return out;
    out[0] = 0;
    for (unsigned i = 0; i < EC_MISTAKE_COUNT; i++) {
        unsigned bit = 1u << i;
        if ((mistakes & bit) == 0 || used >= cap)
            continue;
        const char *name = ec_mistake_name(bit);
        int w = snprintf(out + used, cap - used, "%s%s", used ? ", " : "",
                         name ? name : "?");
        if (w > 0)
            used += (size_t)w;
    }
    return out;
}

/* The user id rule of the compat profile: the database casts the text to
 * an integer, so "1abc" is user 1 (SPEC §4 quirks). */
static long long leading_integer(const char *s)
{
    long long v = 0;
    int any = 0;
    while (s != NULL && *s >= '0' && *s <= '9' && v < 100000000000LL) {
        v = v * 10 + (*s - '0');
        s++;
        any = 1;
    }
    return any ? v : -1;
}

static int lookup_one_user(void *ctx, const char *userid, const char *username,
                           uint8_t key[EC_KEY_LEN])
{
    const ec_diagnose_config *cfg = ctx;
    if (userid != NULL && cfg->userid != NULL) {
        long long want = leading_integer(cfg->userid);
        long long got = leading_integer(userid);
        if (want >= 0 && got == want) {
            memcpy(key, cfg->key, EC_KEY_LEN);
            return 0;
        }
    }
    if (username != NULL && cfg->username != NULL &&
        strcmp(username, cfg->username) == 0) {
        memcpy(key, cfg->key, EC_KEY_LEN);
        return 0;
    }
    return -1;
}

/* Inflate a zlib (window_bits 15) or gzip (31) stream into a malloc'd
 * buffer.  Returns 0 on success.  One pass over the input: the output
 * buffer starts at four times the input and grows fourfold when it is
 * full, at most seven times (the bound the diagnosis has always had); a
 * stream that ends early, has trailing bytes or is corrupt fails at once
 * instead of being inflated again into ever larger buffers. */
static int inflate_any(const uint8_t *in, size_t n, int window_bits,
                       uint8_t **out, size_t *out_len)
{
    size_t cap = n * 4 + 64;
    int grows_left = 7;
    uint8_t *buf = malloc(cap + 1);
    if (buf == NULL)
        return -1;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, window_bits) != Z_OK) {
        free(buf);
        return -1;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    size_t produced = 0;
    int ok = 0;
    for (;;) {
        size_t room = cap - produced;
        if (room > UINT_MAX)
            room = UINT_MAX;
        zs.next_out = buf + produced;
        zs.avail_out = (uInt)room;
        int rc = inflate(&zs, Z_FINISH);
        produced += room - zs.avail_out;
        if (rc == Z_STREAM_END) {
            ok = zs.avail_in == 0;
            break;
        }
        if ((rc != Z_BUF_ERROR && rc != Z_OK) || zs.avail_out != 0 || grows_left-- == 0)
            break;
        uint8_t *grown = realloc(buf, cap * 4 + 1);
        if (grown == NULL)
            break;
        buf = grown;
        cap *= 4;
    }
    inflateEnd(&zs);
    if (!ok) {
        free(buf);
        return -1;
    }
    buf[produced] = 0;
    *out = buf;
    *out_len = produced;
    return 0;
}

/* A plaintext is text (a query string or JSON): control bytes other than
 * tab and line breaks mean the reading is wrong (wrong key or layout), so
 * the candidate is not worth the rebuilds. */
static int plausible_text(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
            return 0;
    return 1;
}

static void add_candidate(candidate_set *set, const uint8_t iv[EC_IV_LEN],
                          const uint8_t *pt, size_t n, unsigned layout_bits,
                          ec_profile profile)
{
    if (set->n >= MAX_CANDIDATES)
        return;
    if (profile != EC_PROFILE_AES128CBCGZ && !plausible_text(pt, n))
        return;
    uint8_t *app = NULL;
    size_t app_len = 0;
    if (profile == EC_PROFILE_AES128CBCGZ) {
        int wb = (layout_bits & EC_MISTAKE_GZIP_HEADER) ? 31 : 15;
        if (inflate_any(pt, n, wb, &app, &app_len) != 0)
            return;
    } else {
        app = malloc(n + 1);
        if (app == NULL)
            return;
        memcpy(app, pt, n);
        app_len = n;
    }
    /* Keep it NUL-terminated: the checks read it as text. */
    uint8_t *grown = realloc(app, app_len + 1);
    if (grown == NULL) {
        free(app);
        return;
    }
    app = grown;
    app[app_len] = 0;
    for (size_t i = 0; i < set->n; i++) {
        const candidate *c = &set->items[i];
        if (c->layout_bits == layout_bits && c->plaintext_len == app_len &&
            memcmp(c->iv, iv, EC_IV_LEN) == 0 &&
            memcmp(c->plaintext, app, app_len) == 0) {
            free(app);
            return;
        }
    }
    candidate *c = &set->items[set->n++];
    memset(c, 0, sizeof *c);
    memcpy(c->iv, iv, EC_IV_LEN);
    c->plaintext = app;
    c->plaintext_len = app_len;
    c->layout_bits = layout_bits;
}

static void free_candidates(candidate_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->items[i].plaintext);
        free(set->items[i].wire);
    }
    set->n = 0;
}

/* Every plaintext the decrypted bytes P could have come from, one per
 * padding mistake: PKCS#7 removed, the last block dropped (broken CBC chain
 * on a pad-only block), nothing removed (no pad block), zeros removed. */
static void add_paddings(candidate_set *set, const uint8_t iv[EC_IV_LEN],
                         const uint8_t *p, size_t n, unsigned layout_bits,
                         ec_profile profile)
{
    if (n == 0 || n % EC_BLOCK_LEN != 0)
        return;
    unsigned pad = p[n - 1];
    int pkcs7_ok = pad >= 1 && pad <= EC_BLOCK_LEN;
    for (unsigned i = 0; pkcs7_ok && i < pad; i++)
        if (p[n - 1 - i] != pad)
            pkcs7_ok = 0;
    if (pkcs7_ok)
        add_candidate(set, iv, p, n - pad, layout_bits, profile);
    add_candidate(set, iv, p, n - EC_BLOCK_LEN, layout_bits, profile);
    add_candidate(set, iv, p, n, layout_bits, profile);
    size_t z = n;
    while (z > 0 && n - z < EC_BLOCK_LEN && p[z - 1] == 0)
        z--;
    if (z != n)
        add_candidate(set, iv, p, z, layout_bits, profile);
}

static void add_readings(candidate_set *set, const uint8_t *dec, size_t dec_len,
                         const uint8_t key[EC_KEY_LEN], unsigned layout_bits,
                         ec_profile profile)
{
    if (dec_len < 2 * EC_BLOCK_LEN || (dec_len - EC_IV_LEN) % EC_BLOCK_LEN != 0)
        return;
    size_t ct_len = dec_len - EC_IV_LEN;
    const uint8_t *iv = dec;
    const uint8_t *ct = dec + EC_IV_LEN;
    if (layout_bits & EC_MISTAKE_IV_APPENDED) {
        iv = dec + ct_len;
        ct = dec;
    }
    uint8_t *p = malloc(ct_len);
    if (p == NULL)
        return;
    if (ec_aes128_cbc_decrypt_raw(key, iv, ct, ct_len, p, ct_len) == EC_OK) {
        add_paddings(set, iv, p, ct_len, layout_bits, profile);
        if (profile == EC_PROFILE_AES128CBCGZ)
            add_paddings(set, iv, p, ct_len, layout_bits | EC_MISTAKE_GZIP_HEADER,
                         profile);
    }
    free(p);
}

/* The next larger mask with as many bits set as m (m != 0), so that the
 * sets of a size are visited in increasing order without walking all
 * 2^EC_MISTAKE_COUNT masks for each size. */
static unsigned next_same_popcount(unsigned m)
{
    unsigned low = m & (0u - m);
    unsigned ripple = m + low;
    return (((ripple ^ m) >> 2) / low) | ripple;
}

/* Does a request built from c with mistakes m equal what was received? */
static int rebuild_matches(const ec_diagnose_config *cfg, const ec_answer *a,
                           const ec_http_request *req, const char *auth_userid,
                           const char *path_node, candidate *c, unsigned m,
                           int *body_only)
{
    ec_request_params p;
    memset(&p, 0, sizeof p);
    p.profile = a->profile;
    p.endpoint = a->api == EC_API_BULK ? EC_ENDPOINT_BULK : EC_ENDPOINT_POST;
    p.path_node = path_node;
    memcpy(p.key, cfg->key, EC_KEY_LEN);
    p.apikey_hex = cfg->apikey_hex;
    p.userid = auth_userid;
    p.username = cfg->username;
    memcpy(p.iv, c->iv, EC_IV_LEN);
    p.plaintext = c->plaintext;
    p.plaintext_len = c->plaintext_len;
    p.mistakes = m;
    if (c->wire_state == 0)
        c->wire_state = ec_request_wire(&p, &c->wire, &c->wire_len) == EC_OK ? 1 : -1;
    if (c->wire_state < 0)
        return 0; /* ec_request_build would fail the same way */
    ec_request built;
    ec_request_init(&built);
    int same = 0;
    int differs = 0;
    if (ec_request_build_wire(&p, c->wire, c->wire_len, req->body, req->body_len, &differs,
                              &built) == EC_OK &&
        !differs && built.body_len == req->body_len &&
        memcmp(built.body, req->body, req->body_len) == 0) {
        if (a->profile == EC_PROFILE_LEGACY)
            same = 1;
        else if (req->authorization != NULL &&
                 strcmp(built.authorization, req->authorization) == 0)
            same = 1;
        else
            *body_only = 1;
    }
    ec_request_free(&built);
    return same;
}

/* The text of the received body that is base64 (the legacy form's data=;
 * all of the body when it has none). */
static void body_text(const ec_answer *a, const ec_http_request *req,
                      const char **text, size_t *len)
{
    *text = (const char *)req->body;
    *len = req->body_len;
    if (a->profile == EC_PROFILE_LEGACY && req->body != NULL)
        ec_form_data_field((const char *)req->body, req->body_len, text, len);
}

/* see diagnose.h */
ec_status ec_diagnose_request(const ec_diagnose_config *cfg,
                              const ec_http_request *req, ec_diagnosis *d)
{
    if (cfg == NULL || req == NULL || d == NULL)
        return EC_E_ARG;
    ec_server_config sc;
    memset(&sc, 0, sizeof sc);
    sc.lookup = lookup_one_user;
    sc.lookup_ctx = (void *)(uintptr_t)cfg;
    sc.strict = cfg->strict;
    sc.now = cfg->now;
    ec_status st = ec_server_answer(&sc, req, &d->answer);
    if (st != EC_OK)
        return st;
    const ec_answer *a = &d->answer;
    /* Not the encrypted method at all, or no key to read it with: nothing
     * to decode. */
    if (a->fault == EC_F_ROUTE || a->fault == EC_F_NOT_ENCRYPTED ||
        a->fault == EC_F_AUTH_MISSING || a->fault == EC_F_AUTH_FORMAT ||
        a->fault == EC_F_USER_UNKNOWN || a->fault == EC_F_BODY_EMPTY ||
        a->fault == EC_F_LEGACY_PARAMS || a->fault == EC_F_TOO_LARGE)
        return EC_OK;

    const char *text;
    size_t text_len;
    body_text(a, req, &text, &text_len);
    size_t cap = ec_b64_decoded_max(text_len) + 4;
    uint8_t *dec = malloc(cap);
    if (dec == NULL)
        return EC_E_NOMEM;
    size_t dec_len = 0;
    if (ec_b64_decode_compat(text, text_len, dec, cap, &dec_len) != EC_OK)
        dec_len = 0;
    d->decoded_len = dec_len;
    if (dec_len >= EC_IV_LEN) {
        d->has_iv = 1;
        memcpy(d->iv, dec, EC_IV_LEN);
    }
    uint8_t *plain = malloc(dec_len + 1);
    if (plain == NULL) {
        free(dec);
        return EC_E_NOMEM;
    }
    size_t plain_len = 0;
    d->decrypt_status = dec_len < EC_IV_LEN + EC_BLOCK_LEN
        ? EC_E_CT_SHORT
        : ec_aes128_cbc_decrypt(cfg->key, dec, dec + EC_IV_LEN, dec_len - EC_IV_LEN,
                                plain, dec_len, &plain_len);
    plain[plain_len] = 0;

    /* Every reading of the body, then every mistake set of at most two bits
     * (fewest first), until one reproduces the request. */
    candidate_set set = {.n = 0};
    uint8_t hexkey[EC_KEY_LEN];
    int have_hexkey = cfg->apikey_hex != NULL && strlen(cfg->apikey_hex) >= EC_KEY_LEN;
    if (have_hexkey)
        memcpy(hexkey, cfg->apikey_hex, EC_KEY_LEN);
    /* Past this size a body is not a device's reading: judge it, but do
     * not spend seconds explaining it. */
    if (dec_len > EC_DIAGNOSE_MAX_BODY)
        dec_len = 0;
    add_readings(&set, dec, dec_len, cfg->key, 0, a->profile);
    add_readings(&set, dec, dec_len, cfg->key, EC_MISTAKE_IV_APPENDED, a->profile);
    if (have_hexkey) {
        add_readings(&set, dec, dec_len, hexkey, EC_MISTAKE_HEX_KEY_AS_KEY, a->profile);
        add_readings(&set, dec, dec_len, hexkey,
                     EC_MISTAKE_HEX_KEY_AS_KEY | EC_MISTAKE_IV_APPENDED, a->profile);
    }

    char auth_userid[64] = "";
    const char *path_node = NULL;
    char node_buf[EC_PATH_MAX] = "";
    if (req->authorization != NULL) {
        size_t colon = strcspn(req->authorization, ":");
        if (colon < sizeof auth_userid) {
            memcpy(auth_userid, req->authorization, colon);
            auth_userid[colon] = 0;
        }
    }
    if (req->path != NULL && strncmp(req->path, "/input/post/", 12) == 0 &&
        req->path[12] != 0) {
        snprintf(node_buf, sizeof node_buf, "%s", req->path + 12);
        path_node = node_buf;
    }

    const unsigned layout_mask = EC_MISTAKE_IV_APPENDED | EC_MISTAKE_HEX_KEY_AS_KEY |
                                 EC_MISTAKE_GZIP_HEADER;
    int found = 0;
    for (int bits = 0; bits <= 2 && !found; bits++) {
        /* Every set of this size is tried, so that two mistakes that give
         * the same bytes (zero-padding and no-full-pad on a plaintext that
         * is a multiple of 16) are both reported. */
        for (unsigned m = (1u << bits) - 1; m < (1u << EC_MISTAKE_COUNT);
             m = m ? next_same_popcount(m) : (1u << EC_MISTAKE_COUNT)) {
            if ((m & EC_MISTAKE_GZIP_HEADER) && a->profile != EC_PROFILE_AES128CBCGZ)
                continue;
            if ((m & (EC_MISTAKE_HEX_KEY_AS_KEY | EC_MISTAKE_HMAC_HEX_KEY)) && !have_hexkey)
                continue;
            for (size_t i = 0; i < set.n; i++) {
                candidate *c = &set.items[i];
                if ((m & layout_mask) != c->layout_bits)
                    continue;
                if (!rebuild_matches(cfg, a, req, auth_userid, path_node, c, m,
                                     &d->body_reproduced))
                    continue;
                if (found) {
                    d->alternatives |= m;
                    break;
                }
                found = 1;
                d->reproduced = 1;
                d->mistakes = m;
                memcpy(d->iv, c->iv, EC_IV_LEN);
                /* A copy: the candidate is still needed to find alternatives. */
                d->plaintext = malloc(c->plaintext_len + 1);
                if (d->plaintext != NULL) {
                    memcpy(d->plaintext, c->plaintext, c->plaintext_len + 1);
                    d->plaintext_len = c->plaintext_len;
                    d->plaintext_trusted = 1;
                }
                break;
            }
            if (found && bits == 0)
                break; /* a correct request: nothing else to look for */
        }
    }
    if (!found && d->decrypt_status == EC_OK) {
        /* Unexplained, but it decrypted: keep what it says, untrusted. */
        if (a->profile == EC_PROFILE_AES128CBCGZ) {
            uint8_t *app = NULL;
            size_t app_len = 0;
            if (inflate_any(plain, plain_len, 15, &app, &app_len) == 0) {
                d->plaintext = app;
                d->plaintext_len = app_len;
            }
        } else {
            d->plaintext = plain;
            d->plaintext_len = plain_len;
            plain = NULL;
        }
    }
    free_candidates(&set);
    ec_wipe(hexkey, sizeof hexkey);
    free(plain);
    free(dec);
    return EC_OK;
}
