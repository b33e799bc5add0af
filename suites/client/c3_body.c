/* emoncrypt — client/3.body/…: the base64 body of each request (SPEC §3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "common/tolerance.h"

/* The base64 text of the body (the data= field for the legacy form). */
static void body_b64(const cs_run *run, const cs_request *r, const char **s, size_t *n)
{
    *s = (const char *)r->body;
    *n = r->body_len;
    if (run->opt.profile != EC_PROFILE_LEGACY || r->body == NULL)
        return;
    const char *d = strstr((const char *)r->body, "data=");
    while (d != NULL && d != (const char *)r->body && d[-1] != '&')
        d = strstr(d + 1, "data=");
    if (d == NULL)
        return;
    *s = d + 5;
    *n = strcspn(*s, "&");
}

/* client/3.body/alphabet */
static void c3_body_alphabet(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    if (!cs_decodable(r))
        return;
    const char *s;
    size_t n;
    body_b64(run, r, &s, &n);
    size_t std = 0, other = 0, first_other = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '=')
            continue;
        if (c == '+' || c == '/')
            std++;
        else if (other++ == 0)
            first_other = i;
    }
    snprintf(o->expected, sizeof o->expected, "[A-Za-z0-9-_] and '='");
    if (std == 0 && other == 0) {
        cs_outcome_set(o, EC_VERDICT_PASS, "URL alphabet");
    } else if (other == 0) {
        /* tolerated by Emoncms (the table both roles judge by): NON-STRICT,
         * FAIL under --strict */
        const ec_tolerance *t = ec_tolerance_find("std-alphabet");
        cs_outcome_set(o, EC_VERDICT_NON_STRICT,
                       "%zu characters of the standard alphabet ('+' '/'): the client MUST "
                       "send the URL alphabet; Emoncms accepts it (%s)", std, t ? t->emoncms : "");
        snprintf(o->actual, sizeof o->actual, "'+' or '/' (%zu)", std);
    } else {
        cs_outcome_set(o, EC_VERDICT_FAIL, "%zu bytes outside the alphabet, first at offset %zu",
                       other, first_other);
        cs_printable(s + first_other, 1, o->actual, sizeof o->actual);
    }
}

const cs_check c3_body_alphabet_check = {
    .id = "client/3.body/alphabet",
    .mutants = "std-alphabet",
    .requirement = "Body: the client MUST send the URL alphabet.",
    .on_request = c3_body_alphabet,
};

/* client/3.body/padding */
static void c3_body_padding(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    if (!cs_decodable(r))
        return;
    const char *s;
    size_t n;
    body_b64(run, r, &s, &n);
    if (n == 0)
        return;
    uint8_t *buf = malloc(ec_b64_decoded_max(n) + 1);
    if (buf == NULL)
        return;
    size_t len = 0;
    ec_b64_fault f = {0};
    /* The alphabet is judged separately: read '+' '/' as '-' '_' here. */
    char *copy = malloc(n + 1);
    if (copy == NULL) {
        free(buf);
        return;
    }
    for (size_t i = 0; i < n; i++)
        copy[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
    ec_status st = ec_b64_decode_strict(copy, n, EC_B64_URL, buf, ec_b64_decoded_max(n) + 1,
                                        &len, &f);
    free(copy);
    free(buf);
    int padded = s[n - 1] == '=';
    if (st == EC_OK)
        cs_outcome_set(o, EC_VERDICT_PASS, "%s", padded ? "'=' padding kept" :
                       (n % 4 == 0 ? "no padding needed" : "without '=' padding (allowed)"));
    else if (st == EC_E_B64_CHAR)
        cs_outcome_set(o, EC_VERDICT_SKIP, "judged by client/3.body/alphabet");
    else {
        cs_outcome_set(o, EC_VERDICT_FAIL, "%s at offset %zu", ec_status_text(st), f.offset);
        snprintf(o->actual, sizeof o->actual, "%s", ec_status_name(st));
        snprintf(o->expected, sizeof o->expected, "canonical base64url");
    }
}

const cs_check c3_body_padding_check = {
    .id = "client/3.body/padding",
    .no_mutant = "no mutant device yet: send builds every request with the shared builder, which has no mistake for this (tests/test_client_checks.c feeds the check such requests)",
    .requirement = "Trailing '=' is optional; when present it completes the last quantum.",
    .on_request = c3_body_padding,
};

/* client/3.body/block-multiple */
static void c3_body_blocks(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    (void)run;
    if (!cs_decodable(r) || r->diag.decoded_len < EC_IV_LEN)
        return;
    size_t ct = r->diag.decoded_len - EC_IV_LEN;
    snprintf(o->expected, sizeof o->expected, "a non-zero multiple of 16");
    snprintf(o->actual, sizeof o->actual, "%zu", ct);
    if (ct > 0 && ct % EC_BLOCK_LEN == 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu ciphertext bytes (%zu blocks)", ct,
                       ct / EC_BLOCK_LEN);
    else
        cs_outcome_set(o, EC_VERDICT_FAIL, "%zu ciphertext bytes after the IV", ct);
}

const cs_check c3_body_blocks_check = {
    .id = "client/3.body/block-multiple",
    .no_mutant = "no mutant device yet: send builds every request with the shared builder, which has no mistake for this (tests/test_client_checks.c feeds the check such requests)",
    .requirement = "Ciphertext length MUST be a non-zero multiple of 16.",
    .on_request = c3_body_blocks,
};
