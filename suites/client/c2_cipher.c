/* emoncrypt — client/2.cipher/…: AES-128-CBC with PKCS#7 padding (SPEC §2). */
#include <stdio.h>
#include <string.h>

#include "client/client_internal.h"

static const unsigned padding_mistakes =
    EC_MISTAKE_ZERO_PADDING | EC_MISTAKE_NO_FULL_PAD | EC_MISTAKE_CBC_CHAIN_BUG |
    EC_MISTAKE_IV_APPENDED | EC_MISTAKE_HEX_KEY_AS_KEY | EC_MISTAKE_GZIP_HEADER;

/* client/2.cipher/pkcs7 */
static void c2_cipher_pkcs7(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    (void)run;
    if (!cs_decodable(r) || r->diag.decrypt_status == EC_E_CT_SHORT ||
        r->diag.decrypt_status == EC_E_CT_LENGTH)
        return;
    if (r->diag.decrypt_status == EC_OK) {
        cs_outcome_set(o, EC_VERDICT_PASS, "decrypts with valid PKCS#7 padding");
        return;
    }
    char why[400];
    cs_explain_mistakes(r->diag.reproduced ? r->diag.mistakes | r->diag.alternatives : 0,
                     padding_mistakes, why, sizeof why);
    cs_outcome_set(o, EC_VERDICT_FAIL, "with the key and the IV first, decryption fails: %s%s%s",
                   ec_status_text(r->diag.decrypt_status), why[0] ? "; diagnosis: " : "",
                   why);
    snprintf(o->expected, sizeof o->expected, "PKCS#7 padding");
    snprintf(o->actual, sizeof o->actual, "%s", ec_status_name(r->diag.decrypt_status));
}

const cs_check c2_cipher_pkcs7_check = {
    .id = "client/2.cipher/pkcs7",
    .mutants = "no-full-pad,cbc-chain-bug,zero-padding",
    .requirement = "AES-128-CBC with PKCS#7 padding (1..16 bytes, a full block when the plaintext "
                   "is a multiple of 16).",
    .on_request = c2_cipher_pkcs7,
};
