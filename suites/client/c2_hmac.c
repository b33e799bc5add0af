/* emoncrypt — client/2.hmac/…: the HMAC of each request (SPEC §2). */
#include <stdio.h>
#include <string.h>

#include "client/client_internal.h"

static const unsigned hmac_mistakes =
    EC_MISTAKE_HMAC_OVER_CT | EC_MISTAKE_HMAC_PLUS_NUL | EC_MISTAKE_HMAC_HEX_KEY;

/* client/2.hmac/lowercase */
static void c2_hmac_lowercase(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    (void)run;
    const char *hmac = cs_auth_hmac(r);
    if (!r->is_post || hmac == NULL)
        return;
    size_t n = strlen(hmac);
    size_t upper = 0, other = 0;
    for (size_t i = 0; i < n; i++) {
        char c = hmac[i];
        if (c >= 'A' && c <= 'F')
            upper++;
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            other++;
    }
    snprintf(o->expected, sizeof o->expected, "64 digits [0-9a-f]");
    cs_printable(hmac, n, o->actual, sizeof o->actual);
    if (n == EC_HMAC_HEX_LEN && upper == 0 && other == 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "64 lowercase hex digits");
    else if (upper > 0 && other == 0 && n == EC_HMAC_HEX_LEN)
        cs_outcome_set(o, EC_VERDICT_FAIL,
                       "the HMAC has %zu uppercase hex digits: Emoncms compares the text "
                       "and answers 'invalid data'", upper);
    else
        cs_outcome_set(o, EC_VERDICT_FAIL, "the HMAC is %zu characters, %zu of them not hex",
                       n, other + upper);
}

const cs_check c2_hmac_lowercase_check = {
    .id = "client/2.hmac/lowercase",
    .mutants = "hmac-upper",
    .requirement = "The HMAC is sent as 64 lowercase hex digits.",
    .on_request = c2_hmac_lowercase,
};

/* client/2.hmac/correct */
static void c2_hmac_correct(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    (void)run;
    if (!cs_decodable(r) || r->diag.answer.profile == EC_PROFILE_LEGACY)
        return;
    const ec_diagnosis *d = &r->diag;
    if (d->reproduced && (d->mistakes & hmac_mistakes)) {
        char why[400];
        cs_explain_mistakes(d->mistakes, hmac_mistakes, why, sizeof why);
        cs_outcome_set(o, EC_VERDICT_FAIL, "%s", why);
        snprintf(o->expected, sizeof o->expected, "HMAC-SHA256(key, encrypted bytes)");
        snprintf(o->actual, sizeof o->actual, "%s",
                 ec_mistake_name(d->mistakes & hmac_mistakes & (0u - (d->mistakes & hmac_mistakes))));
        return;
    }
    if (d->reproduced) {
        cs_outcome_set(o, EC_VERDICT_PASS, "HMAC over the encrypted bytes with the 16-byte key");
        return;
    }
    if (d->answer.fault == EC_OK) {
        cs_outcome_set(o, EC_VERDICT_PASS, "the shared server logic authenticated it");
        return;
    }
    if (d->answer.detail == EC_E_HMAC || d->body_reproduced) {
        cs_outcome_set(o, EC_VERDICT_FAIL,
                       "the HMAC does not match the decrypted bytes, and no known mistake "
                       "(over the ciphertext, over plaintext + NUL, keyed with the hex text, "
                       "uppercase) explains it");
        snprintf(o->expected, sizeof o->expected, "HMAC-SHA256(key, encrypted bytes)");
        snprintf(o->actual, sizeof o->actual, "unexplained");
        return;
    }
    cs_outcome_set(o, EC_VERDICT_SKIP, "not checked: the body does not decrypt (%s)",
                   ec_status_name(d->decrypt_status));
}

const cs_check c2_hmac_correct_check = {
    .id = "client/2.hmac/correct",
    .mutants = "hmac-over-ct,hmac-plus-nul,hmac-hex-key",
    .requirement = "MAC: HMAC-SHA256, key = the 16 key bytes, message = the bytes that were "
                   "encrypted (compressed bytes for aes128cbcgz).",
    .on_request = c2_hmac_correct,
};
