/* emoncrypt — client/5.values/…: the values the plaintext carries (SPEC §5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/client_internal.h"
#include "emoncrypt/plaintext.h"

/* Is v stored as sent: a number, null, a string PHP's is_numeric()
 * accepts (" 5", "5\r", "1e3"; Emoncms stores (float) of it), or (bulk)
 * an object of those?  Anything else becomes (float) of it: 0, or the
 * numeric prefix. */
static int value_ok(json_t *v, int allow_object)
{
    if (json_is_number(v) || json_is_null(v))
        return 1;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        return strlen(s) == json_string_length(v) && (ec_php_is_numeric(s) || strcmp(s, "null") == 0);
    }
    if (allow_object && json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            if (!value_ok(x, 0))
                return 0;
        }
        return 1;
    }
    return 0;
}

/* The csv/json/data forms of input/post as Emoncms reads them: the data
 * filtered (preg_replace('/[^\p{N}\p{L}_\s\-.:,]/u', ''): a NUL or '\r'…
 * the filter removes goes, whitespace stays), split on ',' then ':', each
 * value is_numeric() or "null", else the post is refused.  Filtering
 * each piece is filtering the whole: the filter keeps ',' and ':'. */
static void csv_values(const char *v, size_t n, cs_outcome *o)
{
    size_t bad = 0, total = 0;
    char first[64] = "";
    for (size_t start = 0; start <= n;) {
        size_t end = start;
        while (end < n && v[end] != ',')
            end++;
        const char *val = memchr(v + start, ':', end - start);
        val = val ? val + 1 : v + start;
        const char *colon2 = memchr(val, ':', (size_t)(v + end - val));   /* explode(':')[1] only */
        size_t vlen = (size_t)((colon2 ? colon2 : v + end) - val);
        char *f = ec_filter_name(val, vlen, 0);
        total++;
        if (f && !ec_php_is_numeric(f) && strcmp(f, "null") != 0 && bad++ == 0)
            cs_printable(val, vlen, first, sizeof first);
        free(f);
        start = end + 1;
    }
    snprintf(o->expected, sizeof o->expected, "numbers or null");
    if (bad) {
        cs_outcome_set(o, EC_VERDICT_FAIL, "%zu of %zu values are not numbers (first '%s', after "
                       "Emoncms's input filter): Emoncms refuses the post ('Format error')", bad,
                       total, first);
        snprintf(o->actual, sizeof o->actual, "%s", first);
    } else {
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu numeric values (as Emoncms's filter and PHP's "
                       "is_numeric read them)", total);
    }
}

/* client/5.values/numeric */
static void c5_values_numeric(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    size_t n = 0;
    const char *s = cs_plaintext(r, &n);
    if (s == NULL)
        return;
    json_t *root = NULL;
    int rows_form = 0;
    ec_params params;
    ec_params_init(&params);
    if (run->opt.profile == EC_PROFILE_LEGACY) {
        root = json_loadb(s, n, 0, NULL);
        rows_form = 1;
    } else {
        ec_params_parse_emoncms(&params, s, n);
        const char *v = NULL;
        size_t vlen = 0;
        if (cs_is_bulk(r)) {
            if ((v = ec_params_get_len(&params, "data", &vlen)) != NULL)
                root = json_loadb(v, vlen, 0, NULL);
            rows_form = 1;
        } else {
            /* input/post's data: json, else fulljson, else csv, else data;
             * decoded as JSON only when fulljson is there */
            static const char *const keys[] = { "json", "fulljson", "csv", "data" };
            for (size_t i = 0; i < 4 && v == NULL; i++)
                v = ec_params_get_len(&params, keys[i], &vlen);
            if (v != NULL && ec_params_get(&params, "fulljson") != NULL) {
                root = json_loadb(v, vlen, JSON_DECODE_ANY, NULL);
            } else if (v != NULL && vlen > 0) {
                csv_values(v, vlen, o);
                ec_params_free(&params);
                return;
            }
        }
    }
    ec_params_free(&params);
    if (root == NULL)
        return; /* no data to judge: client/5.plaintext/grammar says why */
    size_t total = 0, bad = 0;
    char first[64] = "";
    if (rows_form && json_is_array(root)) {
        size_t i;
        json_t *row;
        json_array_foreach(root, i, row) {
            if (!json_is_array(row))
                continue;
            for (size_t k = 2; k < json_array_size(row); k++) {
                json_t *v = json_array_get(row, k);
                total++;
                if (!value_ok(v, 1) && bad++ == 0) {
                    char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                    snprintf(first, sizeof first, "%s", t ? t : "?");
                    free(t);
                }
            }
        }
    } else if (json_is_object(root)) {
        const char *k;
        json_t *v;
        json_object_foreach(root, k, v) {
            if (strcmp(k, "time") == 0)
                continue;
            total++;
            if (!value_ok(v, 0) && bad++ == 0) {
                char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                snprintf(first, sizeof first, "%s: %s", k, t ? t : "?");
                free(t);
            }
        }
    }
    json_decref(root);
    if (total == 0)
        return;
    snprintf(o->expected, sizeof o->expected, "numbers or null");
    if (bad) {
        cs_outcome_set(o, EC_VERDICT_FAIL, "%zu of %zu values are neither numbers nor null "
                       "(first %s); Emoncms stores 0 or rejects the post", bad, total, first);
        snprintf(o->actual, sizeof o->actual, "%s", first);
    } else {
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu values, numbers or null", total);
    }
}

const cs_check c5_values_numeric_check = {
    .id = "client/5.values/numeric",
    .no_mutant = "no mutant device yet: send builds every request with the shared builder, which has no mistake for this (tests/test_client_checks.c feeds the check such requests)",
    .requirement = "Values are numbers or null (Emoncms stores anything else as 0).",
    .on_request = c5_values_numeric,
};
