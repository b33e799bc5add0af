/* emoncrypt — the client-role check table: the order in which the checks
 * run and are listed.  Each row (stable id, the SPEC sentence it holds a
 * device to, the function that judges it) is in the file named after its
 * id's section: client/2.iv/length in c2_iv.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "client/client_internal.h"

/* Run order: the checks on each request, then the audits across requests. */
const cs_check *const cs_checks[] = {
    /* on each request */
    &c3_route_path_check,
    &c3_route_method_check,
    &c3_content_type_exact_check,
    &c3_auth_format_check,
    &c3_auth_userid_check,
    &c2_hmac_lowercase_check,
    &c3_body_alphabet_check,
    &c3_body_padding_check,
    &c2_iv_length_check,
    &c3_body_blocks_check,
    &c2_cipher_pkcs7_check,
    &c2_hmac_correct_check,
    &c4_answer_accepted_check,
    &c5_plaintext_grammar_check,
    &c5_time_mode_check,
    &c5_values_numeric_check,
    &c5_node_characters_check,
    /* across requests: the traffic audit */
    &c3_http_well_formed_check,
    &c2_iv_fresh_check,
    &c2_iv_not_zero_check,
    &c2_iv_not_counter_check,
    &c2_iv_not_time_check,
    &c7_time_ascending_check,
    &c7_time_never_backwards_check,
    &c7_ack_no_duplicates_check,
    &c7_ack_no_data_lost_check,
    &c7_resend_fresh_iv_check,
    &c7_apikey_not_in_clear_check,
    &c7_retry_interval_check,
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
            rows[k] = (ec_client_check_info){cs_checks[j]->id, cs_checks[j]->requirement,
                                             cs_checks[j]->mutants, cs_checks[j]->no_mutant};
        for (size_t j = 0; j < ec_client_scenario_count && k < 64; j++, k++)
            rows[k] = (ec_client_check_info){ec_client_scenarios[j].id,
                                             ec_client_scenarios[j].requirement,
                                             ec_client_scenarios[j].mutants,
                                             ec_client_scenarios[j].no_mutant};
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

/* see client_internal.h */
void cs_explain_mistakes(unsigned m, unsigned mask, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (unsigned i = 0; i < EC_MISTAKE_COUNT && used < cap; i++) {
        unsigned bit = 1u << i;
        if (!(m & mask & bit))
            continue;
        int w = snprintf(out + used, cap - used, "%s%s (%s)", used ? "; or equally: " : "",
                         ec_mistake_text(bit), ec_mistake_name(bit));
        if (w > 0)
            used += (size_t)w;
    }
}

/* see client_internal.h */
const char *cs_plaintext(const cs_request *r, size_t *n)
{
    if (!cs_decodable(r) || r->diag.plaintext == NULL)
        return NULL;
    *n = r->diag.plaintext_len;
    return (const char *)r->diag.plaintext;
}

/* see client_internal.h */
int cs_is_bulk(const cs_request *r)
{
    return r->diag.answer.api == EC_API_BULK;
}
