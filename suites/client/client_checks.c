/* emoncrypt — the client-role check table: every check's stable id, the
 * SPEC sentence it holds a device to, and the function that judges it
 * (found in the file named after the id's section, see client_suite.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "client/client_internal.h"

#define REQ(id, fn, text) {id, text, fn, NULL}
#define RUN(id, fn, text) {id, text, NULL, fn}

const cs_check cs_checks[] = {
    /* §3 — the HTTP request */
    REQ("client/3.route/path", c3_route_path,
        "POST /input/post or /input/bulk (optionally .json, or /input/post/NODE)."),
    REQ("client/3.route/method", c3_route_method,
        "The encrypted request is a POST (Emoncms also processes a GET with a body)."),
    REQ("client/3.ctype/exact", c3_content_type_exact,
        "Content-Type is matched exactly, case-sensitively, with no parameters."),
    REQ("client/3.auth/format", c3_auth_format,
        "Authorization has no scheme word; split on ':' it MUST give exactly two parts: "
        "the numeric user id and the HMAC."),
    REQ("client/3.auth/userid", c3_auth_userid,
        "The user id in Authorization is the account's, as a plain decimal number."),
    REQ("client/2.hmac/lowercase", c2_hmac_lowercase,
        "The HMAC is sent as 64 lowercase hex digits."),
    REQ("client/3.body/alphabet", c3_body_alphabet,
        "Body: the client MUST send the URL alphabet."),
    REQ("client/3.body/padding", c3_body_padding,
        "Trailing '=' is optional; when present it completes the last quantum."),
    REQ("client/2.iv/length", c2_iv_length,
        "The body starts with the 16-byte IV, followed by at least one ciphertext block."),
    REQ("client/3.body/block-multiple", c3_body_blocks,
        "Ciphertext length MUST be a non-zero multiple of 16."),
    REQ("client/2.cipher/pkcs7", c2_cipher_pkcs7,
        "AES-128-CBC with PKCS#7 padding (1..16 bytes, a full block when the plaintext "
        "is a multiple of 16)."),
    REQ("client/2.hmac/correct", c2_hmac_correct,
        "MAC: HMAC-SHA256, key = the 16 key bytes, message = the bytes that were "
        "encrypted (compressed bytes for aes128cbcgz)."),
    REQ("client/4.answer/accepted", c4_answer_accepted,
        "A correct server decrypts, authenticates and stores the request, and answers "
        "with the ack."),
    REQ("client/5.plaintext/grammar", c5_plaintext_grammar,
        "Plaintext is an unencoded query string key=value&key=value whose pieces split "
        "into exactly two parts; bulk data is a JSON array of rows [t, node, v1, ...]."),
    REQ("client/5.time/mode", c5_time_mode,
        "Time reference: time=T (absolute), sentat=S, offset=O, or none (now)."),
    REQ("client/5.values/numeric", c5_values_numeric,
        "Values are numbers or null (Emoncms stores anything else as 0)."),
    REQ("client/5.node/characters", c5_node_characters,
        "Node names keep only Unicode letters, digits, '_', whitespace, '-', '.'."),
    /* across requests: the traffic audit */
    RUN("client/3.http/well-formed", c3_http_well_formed,
        "Every connection carries a complete, parsable HTTP/1.1 request within the "
        "server's size limit."),
    RUN("client/2.iv/fresh", c2_iv_fresh,
        "IV = 16 bytes that the client MUST draw fresh from a CSPRNG for every message."),
    RUN("client/2.iv/not-zero", c2_iv_not_zero,
        "The IV is random: never all zero bytes."),
    RUN("client/2.iv/not-counter", c2_iv_not_counter,
        "The IV is unpredictable: not a counter (a repeated or predictable IV leaks "
        "plaintext structure)."),
    RUN("client/2.iv/not-time", c2_iv_not_time,
        "The IV is unpredictable: not derived from the clock."),
    RUN("client/7.time/ascending", c7_time_ascending,
        "Rows SHOULD be in ascending time order within a post."),
    RUN("client/7.time/never-backwards", c7_time_never_backwards,
        "Never go back in time: no row older than one already acknowledged."),
    RUN("client/7.ack/no-duplicates", c7_ack_no_duplicates,
        "After an ack, never resend the same rows (no duplicates)."),
    RUN("client/7.ack/no-data-lost", c7_ack_no_data_lost,
        "Anything but the ack means NOT delivered: keep the data and resend it later, "
        "never drop it silently."),
    RUN("client/7.resend/fresh-iv", c7_resend_fresh_iv,
        "Fresh random IV every message, including every resend."),
    RUN("client/7.apikey/not-in-clear", c7_apikey_not_in_clear,
        "Never send the write API key in clear anywhere (query string, Bearer header, "
        "form field), on any request."),
    RUN("client/7.retry/interval", c7_retry_interval,
        "Report how long the client waits before resending, and whether it backs off."),
};
const size_t cs_check_count = sizeof cs_checks / sizeof cs_checks[0];

/* see client_suite.h */
size_t ec_client_check_count(void)
{
    return cs_check_count + ec_client_scenario_count;
}

/* see client_suite.h */
const ec_client_check_info *ec_client_check_at(size_t i)
{
    static ec_client_check_info rows[64];
    static int filled;
    if (!filled) {
        /* Built once from the two tables; both are constant. */
        size_t k = 0;
        for (size_t j = 0; j < cs_check_count && k < 64; j++, k++)
            rows[k] = (ec_client_check_info){cs_checks[j].id, cs_checks[j].requirement};
        for (size_t j = 0; j < ec_client_scenario_count && k < 64; j++, k++)
            rows[k] = (ec_client_check_info){ec_client_scenarios[j].id,
                                             ec_client_scenarios[j].requirement};
        filled = 1;
    }
    return i < ec_client_check_count() && i < 64 ? &rows[i] : NULL;
}

/* see client_suite.h */
const ec_client_check_info *ec_client_check_find(const char *id)
{
    for (size_t i = 0; i < ec_client_check_count(); i++) {
        const ec_client_check_info *c = ec_client_check_at(i);
        if (c != NULL && strcmp(c->id, id) == 0)
            return c;
    }
    return NULL;
}

/* ---- helpers shared by the check files -------------------------------- */

void cs_outcome_set(cs_outcome *o, ec_verdict v, const char *fmt, ...)
{
    o->verdict = v;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->message, sizeof o->message, fmt, ap);
    va_end(ap);
}

const char *cs_header(const cs_request *r, const char *name, size_t *count)
{
    const char *first = NULL;
    size_t n = 0;
    for (size_t i = 0; i < r->header_count; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            if (first == NULL)
                first = r->headers[i].value;
            n++;
        }
    }
    if (count != NULL)
        *count = n;
    return first;
}

const char *cs_printable(const void *bytes, size_t n, char *out, size_t cap)
{
    const unsigned char *b = bytes;
    size_t o = 0;
    if (cap == 0)
        return out;
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\') {
            out[o++] = (char)b[i];
        } else {
            int w = snprintf(out + o, cap - o, "\\x%02x", b[i]);
            if (w > 0)
                o += (size_t)w;
        }
        if (o + 8 >= cap && i + 1 < n) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
    }
    out[o < cap ? o : cap - 1] = 0;
    return out;
}

const char *cs_label(const cs_request *r, char *out, size_t cap)
{
    snprintf(out, cap, "#%zu %s %s%s%s", r->seq, r->method ? r->method : "?",
             r->path ? r->path : "?", r->query && r->query[0] ? "?" : "",
             r->query && r->query[0] ? "…" : "");
    return out;
}

size_t cs_rows_shared(const cs_post *a, const cs_post *b)
{
    size_t shared = 0;
    for (size_t i = 0; i < a->row_count; i++)
        for (size_t j = 0; j < b->row_count; j++)
            if (a->rows[i].digest == b->rows[j].digest) {
                shared++;
                break;
            }
    return shared;
}

int cs_delivered(const cs_post *r)
{
    return r->accepted && r->reply_is_ack && !r->client_gone;
}

int cs_decodable(const cs_request *r)
{
    if (!r->is_post)
        return 0;
    switch (r->diag.answer.fault) {
    case EC_F_ROUTE: case EC_F_NOT_ENCRYPTED: case EC_F_AUTH_MISSING:
    case EC_F_AUTH_FORMAT: case EC_F_USER_UNKNOWN: case EC_F_BODY_EMPTY:
    case EC_F_LEGACY_PARAMS: case EC_F_TOO_LARGE: case EC_F_METHOD:
        return 0;
    default:
        return 1;
    }
}

const char *cs_auth_hmac(const cs_request *r)
{
    const char *auth = cs_header(r, "Authorization", NULL);
    const char *colon = auth ? strchr(auth, ':') : NULL;
    return colon ? colon + 1 : NULL;
}

void cs_audit_free(cs_audit *a)
{
    if (a == NULL)
        return;
    cs_big_free(a->iv_slots, a->iv_cap, sizeof *a->iv_slots);
    for (size_t i = 0; i < a->bad_count; i++) {
        free(a->bad[i].remote);
        free(a->bad[i].detail);
    }
    free(a->bad);
    memset(a, 0, sizeof *a);
}

/* see client_internal.h */
void *cs_big_calloc(size_t n, size_t size)
{
    if (n == 0 || size == 0 || n > SIZE_MAX / size)
        return NULL;
    void *p = mmap(NULL, n * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* see client_internal.h */
void cs_big_free(void *p, size_t n, size_t size)
{
    if (p != NULL)
        munmap(p, n * size);
}
