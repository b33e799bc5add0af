/* emoncrypt — client/5.plaintext/…: the grammar of the decrypted plaintext
 * (SPEC §3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/client_internal.h"
#include "emoncrypt/plaintext.h"

/* client/5.plaintext/grammar */
static void c5_plaintext_grammar(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    size_t n = 0;
    const char *s = cs_plaintext(r, &n);
    if (s == NULL)
        return;
    if (run->opt.profile == EC_PROFILE_LEGACY) {
        ec_dataset d;
        ec_app_result res;
        ec_dataset_init(&d);
        ec_app_run_legacy(s, n, &d, &res);
        if (res.status == EC_OK)
            cs_outcome_set(o, EC_VERDICT_PASS, "JSON rows: %zu values", d.n);
        else
            cs_outcome_set(o, EC_VERDICT_FAIL, "%s", res.message);
        ec_dataset_free(&d);
        return;
    }
    /* Pieces that do not split into exactly two parts are dropped silently. */
    size_t dropped = 0, empty = 0;
    char first[64] = "";
    for (size_t start = 0; start <= n;) {
        size_t end = start;
        while (end < n && s[end] != '&')
            end++;
        size_t eq = 0;
        for (size_t i = start; i < end; i++)
            eq += s[i] == '=';
        if (end == start)
            empty++;
        else if (eq != 1 && dropped++ == 0)
            cs_printable(s + start, end - start, first, sizeof first);
        start = end + 1;
    }
    ec_params params;
    ec_dataset d;
    ec_app_result res;
    ec_params_init(&params);
    ec_dataset_init(&d);
    memset(&res, 0, sizeof res);
    ec_params_parse_emoncms(&params, s, n);
    ec_app_run(cs_is_bulk(r) ? EC_API_BULK : EC_API_POST, &params, NULL, (int64_t)r->arrival, 0,
               &d, &res);
    snprintf(o->expected, sizeof o->expected, "key=value&key=value");
    if (dropped > 0) {
        cs_outcome_set(o, EC_VERDICT_FAIL,
                       "%zu pieces do not split into exactly two parts on '=' and are dropped "
                       "by Emoncms (first: '%s')", dropped, first);
        snprintf(o->actual, sizeof o->actual, "%s", first);
    } else if (res.status != EC_OK) {
        cs_outcome_set(o, EC_VERDICT_FAIL, "Emoncms rejects it: %s", res.message);
        snprintf(o->actual, sizeof o->actual, "%s", res.message);
    } else if (empty > 0) {
        cs_outcome_set(o, EC_VERDICT_NON_STRICT, "%zu empty pieces ('&&' or a trailing '&'), "
                       "ignored by Emoncms; %zu values", empty, d.n);
    } else {
        cs_outcome_set(o, EC_VERDICT_PASS, "%s: %zu values", cs_is_bulk(r) ? "bulk" : "post", d.n);
    }
    ec_dataset_free(&d);
    ec_params_free(&params);
}

const cs_check c5_plaintext_grammar_check = {
    .id = "client/5.plaintext/grammar",
    .mutants = "cbc-chain-bug,no-full-pad",
    .requirement = "Plaintext is an unencoded query string key=value&key=value whose pieces split "
                   "into exactly two parts; bulk data is a JSON array of rows [t, node, v1, ...].",
    .on_request = c5_plaintext_grammar,
};
