/* emoncrypt — client/5.*: what the decrypted plaintext means (SPEC §3
 * plaintext grammar, §5 application semantics). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/client_internal.h"
#include "emoncrypt/plaintext.h"

/* The application plaintext of r, or NULL when none was recovered. */
static const char *plaintext_of(const cs_request *r, size_t *n)
{
    if (!cs_decodable(r) || r->diag.plaintext == NULL)
        return NULL;
    *n = r->diag.plaintext_len;
    return (const char *)r->diag.plaintext;
}

static int is_bulk(const cs_request *r)
{
    return r->diag.answer.api == EC_API_BULK;
}

/* client/5.plaintext/grammar */
void c5_plaintext_grammar(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    size_t n = 0;
    const char *s = plaintext_of(r, &n);
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
    ec_app_run(is_bulk(r) ? EC_API_BULK : EC_API_POST, &params, NULL, (int64_t)r->arrival, 0,
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
        cs_outcome_set(o, EC_VERDICT_PASS, "%s: %zu values", is_bulk(r) ? "bulk" : "post", d.n);
    }
    ec_dataset_free(&d);
    ec_params_free(&params);
}

/* client/5.time/mode */
void c5_time_mode(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    (void)run;
    if (!r->accepted)
        return;
    cs_outcome_set(o, EC_VERDICT_INFO, "%s", r->time_mode);
}

/* Is v a number, null, a numeric string, or (bulk) an object of those? */
static int value_ok(json_t *v, int allow_object)
{
    if (json_is_number(v) || json_is_null(v))
        return 1;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end = NULL;
        strtod(s, &end);
        return s[0] != 0 && end != NULL && *end == 0;
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

/* client/5.values/numeric */
void c5_values_numeric(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    size_t n = 0;
    const char *s = plaintext_of(r, &n);
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
        const char *v;
        if (is_bulk(r) && (v = ec_params_get(&params, "data")) != NULL) {
            root = json_loads(v, 0, NULL);
            rows_form = 1;
        } else if ((v = ec_params_get(&params, "fulljson")) != NULL ||
                   (v = ec_params_get(&params, "json")) != NULL) {
            root = json_loads(v, JSON_DECODE_ANY, NULL);
        } else if ((v = ec_params_get(&params, "csv")) != NULL ||
                   (v = ec_params_get(&params, "data")) != NULL) {
            /* csv: comma-separated values, optionally name:value */
            size_t bad = 0, total = 0;
            char first[64] = "";
            const char *p = v;
            while (*p) {
                size_t len = strcspn(p, ",");
                const char *val = memchr(p, ':', len);
                val = val ? val + 1 : p;
                size_t vlen = len - (size_t)(val - p);
                char tmp[64];
                snprintf(tmp, sizeof tmp, "%.*s", (int)(vlen < 63 ? vlen : 63), val);
                char *end = NULL;
                strtod(tmp, &end);
                total++;
                if ((tmp[0] == 0 || *end != 0) && strcmp(tmp, "null") != 0 && bad++ == 0)
                    snprintf(first, sizeof first, "%s", tmp);
                p += len;
                if (*p == ',')
                    p++;
            }
            if (bad)
                cs_outcome_set(o, EC_VERDICT_FAIL, "%zu of %zu values are not numbers (first "
                               "'%s'); Emoncms rejects the post or stores 0", bad, total, first);
            else
                cs_outcome_set(o, EC_VERDICT_PASS, "%zu numeric values", total);
            ec_params_free(&params);
            return;
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

/* Does name survive Emoncms's node filter unchanged? */
static int node_ok(const char *name, size_t n)
{
    char *f = ec_filter_name(name, n, 1);
    int same = f != NULL && strlen(f) == n && memcmp(f, name, n) == 0;
    free(f);
    return same;
}

/* client/5.node/characters */
void c5_node_characters(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    size_t n = 0;
    const char *s = plaintext_of(r, &n);
    if (s == NULL || run->opt.profile == EC_PROFILE_LEGACY)
        return;
    char bad[96] = "";
    size_t nodes = 0;
    ec_params params;
    ec_params_init(&params);
    ec_params_parse_emoncms(&params, s, n);
    const char *node = ec_params_get(&params, "node");
    if (node != NULL) {
        nodes++;
        if (!node_ok(node, strlen(node)))
            cs_printable(node, strlen(node), bad, sizeof bad);
    }
    const char *path_node = strncmp(r->path, "/input/post/", 12) == 0 ? r->path + 12 : NULL;
    if (path_node != NULL && path_node[0]) {
        nodes++;
        if (!node_ok(path_node, strlen(path_node)) && !bad[0])
            cs_printable(path_node, strlen(path_node), bad, sizeof bad);
    }
    const char *data = is_bulk(r) ? ec_params_get(&params, "data") : NULL;
    json_t *root = data ? json_loads(data, 0, NULL) : NULL;
    if (json_is_array(root)) {
        size_t i;
        json_t *row;
        json_array_foreach(root, i, row) {
            json_t *nv = json_array_get(row, 1);
            if (!json_is_string(nv))
                continue;
            nodes++;
            const char *t = json_string_value(nv);
            if (!node_ok(t, json_string_length(nv)) && !bad[0])
                cs_printable(t, strlen(t), bad, sizeof bad);
        }
    }
    json_decref(root);
    ec_params_free(&params);
    if (nodes == 0)
        return;
    if (bad[0]) {
        cs_outcome_set(o, EC_VERDICT_NON_STRICT,
                       "node '%s' has characters Emoncms removes: the data lands in a "
                       "differently named node", bad);
        snprintf(o->actual, sizeof o->actual, "%s", bad);
        snprintf(o->expected, sizeof o->expected, "letters, digits, _ - . space");
    } else {
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu node names, all kept as sent", nodes);
    }
}
