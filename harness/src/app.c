/* see plaintext.h — the application step: what Emoncms's input/post,
 * input/bulk and the 2017 input/encrypted make of a plaintext.  PHP's loose
 * conversions ((int), (float), is_numeric, ==null, float to string) are
 * reproduced where they decide a row's time, node, name or value. */
#include "emoncrypt/plaintext.h"
#include "emoncrypt/codec.h"
#include "protocol_internal.h"

#include <jansson.h>
#include <math.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- PHP scalar conversions --------------------------------------------- */

static int php_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Length of the numeric prefix PHP recognises (leading whitespace, sign,
 * digits with an optional fraction, optional exponent); 0 when none.
 * *integral = 1 when it has neither '.' nor an exponent. */
static size_t numeric_prefix(const char *s, size_t *start, int *integral)
{
    size_t i = 0;
    while (php_space((unsigned char)s[i]))
        i++;
    *start = i;
    if (s[i] == '+' || s[i] == '-')
        i++;
    size_t int_digits = 0, frac_digits = 0;
    while (is_digit((unsigned char)s[i])) {
        i++;
        int_digits++;
    }
    *integral = 1;
    if (s[i] == '.') {
        size_t j = i + 1;
        while (is_digit((unsigned char)s[j])) {
            j++;
            frac_digits++;
        }
        if (int_digits + frac_digits > 0) {
            i = j;
            *integral = 0;
        }
    }
    if (int_digits + frac_digits == 0)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1;
        if (s[j] == '+' || s[j] == '-')
            j++;
        if (is_digit((unsigned char)s[j])) {
            while (is_digit((unsigned char)s[j]))
                j++;
            i = j;
            *integral = 0;
        }
    }
    return i;
}

/* see plaintext.h */
int ec_php_is_numeric(const char *s)
{
    size_t start;
    int integral;
    size_t end = numeric_prefix(s, &start, &integral);
    if (end == 0)
        return 0;
    while (php_space((unsigned char)s[end]))
        end++;
    return s[end] == '\0';
}

/* PHP's zend_dval_to_lval_cap, used for numeric strings. */
static int64_t dval_to_lval_cap(double d)
{
    if (!isfinite(d))
        return 0;
    if (d >= 9223372036854775808.0)
        return INT64_MAX;
    if (d < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

/* PHP's (int)$float on 64-bit: modular arithmetic outside the range. */
static int64_t dval_to_lval(double d)
{
    if (!isfinite(d))
        return 0;
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return (int64_t)d;
    double two64 = 18446744073709551616.0;
    double m = fmod(d, two64);
    if (m < 0)
        m += two64;
    if (m >= 9223372036854775808.0)
        m -= two64;
    return (int64_t)m;
}

/* PHP's $a + $b and $a - $b on ints: an overflowing result becomes a
 * float; a time is then used as an int again, so it is cast back with
 * PHP's (int) rule.  Plain C arithmetic would be undefined behaviour here
 * (a bulk row time of 2^63, found by tests/fuzz/fuzz_bulk_json). */
static int64_t php_int_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return dval_to_lval((double)a + (double)b);
    return r;
}

static int64_t php_int_sub(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return dval_to_lval((double)a - (double)b);
    return r;
}

static double php_floatval(const char *s)
{
    size_t start;
    int integral;
    size_t end = numeric_prefix(s, &start, &integral);
    if (end == 0)
        return 0.0;
    char buf[128];
    size_t len = end - start;
    if (len >= sizeof buf) {
        char *tmp = malloc(len + 1);
        if (tmp == NULL)
            return 0.0;
        memcpy(tmp, s + start, len);
        tmp[len] = '\0';
        double d = strtod(tmp, NULL);
        free(tmp);
        return d;
    }
    memcpy(buf, s + start, len);
    buf[len] = '\0';
    return strtod(buf, NULL);
}

/* see plaintext.h */
int64_t ec_php_intval(const char *s)
{
    size_t start;
    int integral;
    size_t end = numeric_prefix(s, &start, &integral);
    if (end == 0)
        return 0;
    if (integral) {
        /* fits in 64 bits: exact; otherwise PHP goes through a double */
        int neg = s[start] == '-';
        size_t i = start + (s[start] == '+' || s[start] == '-');
        uint64_t v = 0;
        int overflow = 0;
        for (; i < end; i++) {
            unsigned d = (unsigned)(s[i] - '0');
            if (v > (UINT64_MAX - d) / 10) {
                overflow = 1;
                break;
            }
            v = v * 10 + d;
        }
        if (!overflow) {
            if (!neg && v <= (uint64_t)INT64_MAX)
                return (int64_t)v;
            if (neg && v <= (uint64_t)INT64_MAX + 1)
                return v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
        }
    }
    return dval_to_lval_cap(php_floatval(s));
}

/* PHP 8 (string)$float with precision=14: %.14G, but "1.0E+14" and
 * "1.0E-5" where C writes "1E+14" and "1E-05". */
static void php_float_to_string(double d, char *out, size_t cap)
{
    char tmp[64];
    if (isnan(d)) {
        snprintf(out, cap, "NAN");
        return;
    }
    if (isinf(d)) {
        snprintf(out, cap, d > 0 ? "INF" : "-INF");
        return;
    }
    snprintf(tmp, sizeof tmp, "%.14G", d);
    char *e = strchr(tmp, 'E');
    if (e == NULL) {
        snprintf(out, cap, "%s", tmp);
        return;
    }
    /* mantissa, ".0" when it has no point, 'E', sign, exponent digits */
    char res[80];
    size_t o = (size_t)(e - tmp);
    memcpy(res, tmp, o);
    if (memchr(tmp, '.', o) == NULL) {
        res[o++] = '.';
        res[o++] = '0';
    }
    const char *exp = e + 1;
    res[o++] = 'E';
    res[o++] = *exp == '-' ? '-' : '+';
    if (*exp == '+' || *exp == '-')
        exp++;
    while (*exp == '0' && exp[1] != '\0')
        exp++;
    while (*exp != '\0' && o + 1 < sizeof res)
        res[o++] = *exp++;
    res[o] = '\0';
    snprintf(out, cap, "%.63s", res);
}

/* (float) of a decoded JSON value. */
static double json_floatval(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER: return (double)json_integer_value(v);
    case JSON_REAL:    return json_real_value(v);
    case JSON_STRING:  return php_floatval(json_string_value(v));
    case JSON_TRUE:    return 1.0;
    case JSON_ARRAY:   return json_array_size(v) ? 1.0 : 0.0;
    case JSON_OBJECT:  return 1.0;   /* PHP warns and gives 1 */
    default:           return 0.0;   /* null, false */
    }
}

/* (int) of a decoded JSON value. */
static int64_t json_intval(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER: return (int64_t)json_integer_value(v);
    case JSON_REAL:    return dval_to_lval(json_real_value(v));
    case JSON_STRING:  return ec_php_intval(json_string_value(v));
    case JSON_TRUE:    return 1;
    case JSON_ARRAY:   return json_array_size(v) ? 1 : 0;
    case JSON_OBJECT:  return 1;
    default:           return 0;
    }
}

/* (string) of a scalar JSON value, malloc'd; *len gets its length. */
static char *json_strval(const json_t *v, size_t *len)
{
    char buf[64];
    const char *s = buf;
    size_t n;
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        php_float_to_string(json_real_value(v), buf, sizeof buf);
        break;
    case JSON_STRING:
        s = json_string_value(v);
        break;
    case JSON_TRUE:
        s = "1";
        break;
    default:
        s = "";
        break;
    }
    n = json_typeof(v) == JSON_STRING ? json_string_length(v) : strlen(s);
    char *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    *len = n;
    return d;
}

/* PHP's loose $x == null. */
static int json_loose_null(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
    case JSON_FALSE:   return 1;
    case JSON_INTEGER: return json_integer_value(v) == 0;
    case JSON_REAL:    return json_real_value(v) == 0.0;
    case JSON_STRING:  return json_string_length(v) == 0;
    case JSON_ARRAY:   return json_array_size(v) == 0;
    default:           return 0;
    }
}

/* json_decode($s) as PHP does it: integers too big for 64 bits become
 * floats instead of failing. */
static json_t *php_json_decode(const char *s, size_t n)
{
    json_error_t err;
    size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
    json_t *v = json_loadb(s, n, flags, &err);
    if (v == NULL && json_error_code(&err) == json_error_numeric_overflow)
        v = json_loadb(s, n, flags | JSON_DECODE_INT_AS_REAL, &err);
    return v;
}

/* ---- strtotime(), the subset a device would send ------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((unsigned char)(*p)[i]))
            return 0;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 1;
}

/* Understands "@SECONDS", "now", "YYYY-MM-DD", "YYYY-MM-DD[ T]HH:MM[:SS[.f]]"
 * with an optional "Z", "UTC" or "+HH[:]MM"; the server's zone is UTC.
 * Anything else PHP might parse is reported as not understood (0). */
static int strtotime_subset(const char *s, int64_t now, int64_t *out)
{
    while (php_space((unsigned char)*s))
        s++;
    if (strcmp(s, "now") == 0) {
        *out = now;
        return 1;
    }
    if (*s == '@') {
        const char *p = s + 1;
        if (*p == '-' || *p == '+')
            p++;
        if (!is_digit((unsigned char)*p))
            return 0;
        while (is_digit((unsigned char)*p))
            p++;
        if (*p != '\0')
            return 0;
        *out = ec_php_intval(s + 1);
        return 1;
    }
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (!read_digits(&p, 4, &y) || *p++ != '-' || !read_digits(&p, 2, &mo) ||
        *p++ != '-' || !read_digits(&p, 2, &d))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
        return 0;
    int64_t offset = 0;
    if (*p == ' ' || *p == 'T') {
        p++;
        if (!read_digits(&p, 2, &h) || *p++ != ':' || !read_digits(&p, 2, &mi))
            return 0;
        if (*p == ':') {
            p++;
            if (!read_digits(&p, 2, &se))
                return 0;
            if (*p == '.') {
                p++;
                while (is_digit((unsigned char)*p))
                    p++;
            }
        }
        if (h > 24 || mi > 59 || se > 60)
            return 0;
        if (*p == 'Z') {
            p++;
        } else if (strncmp(p, "UTC", 3) == 0) {
            p += 3;
        } else if (*p == '+' || *p == '-') {
            int sign = *p == '-' ? -1 : 1, oh, om = 0;
            p++;
            if (!read_digits(&p, 2, &oh))
                return 0;
            if (*p == ':')
                p++;
            if (is_digit((unsigned char)*p) && !read_digits(&p, 2, &om))
                return 0;
            offset = sign * (oh * 3600 + om * 60);
        }
    }
    if (*p != '\0')
        return 0;
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
           mi * 60 + se - offset;
    return 1;
}

/* The time of input/post: is_numeric -> (int), else strtotime, else now. */
static int64_t post_time_of_string(const char *s, int64_t now)
{
    if (ec_php_is_numeric(s))
        return ec_php_intval(s);
    int64_t t;
    if (strtotime_subset(s, now, &t))
        return t;
    return now;
}

/* ---- one request's run -------------------------------------------------- */

typedef struct {
    char *name;
    double value;
    int is_null;
} input_value;

/* An ordered map name -> value: PHP array semantics (a later set of the
 * same key keeps the first position). */
typedef struct {
    input_value *items;
    size_t n, cap;
} input_list;

static void inputs_free(input_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].name);
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

/* Takes ownership of name. */
static ec_status inputs_set(input_list *l, char *name, double value, int is_null)
{
    if (name == NULL)
        return EC_E_NOMEM;
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].name, name) == 0) {
            free(name);
            l->items[i].value = value;
            l->items[i].is_null = is_null;
            return EC_OK;
        }
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        input_value *items = realloc(l->items, cap * sizeof *items);
        if (items == NULL) {
            free(name);
            return EC_E_NOMEM;
        }
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n].name = name;
    l->items[l->n].value = value;
    l->items[l->n].is_null = is_null;
    l->n++;
    return EC_OK;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d != NULL)
        memcpy(d, s, n + 1);
    return d;
}

typedef struct {
    ec_dataset *out;
    size_t max_nodes;
    char **nodes;          /* distinct nodes seen in this request */
    size_t n_nodes;
    int filter_nodes;      /* 0 for the 2017 method, which did not filter */
    ec_app_result *res;
} run_ctx;

static ec_status app_fail(run_ctx *c, const char *msg)
{
    c->res->status = EC_F_APP;
    snprintf(c->res->message, sizeof c->res->message, "%s", msg);
    return EC_OK;
}

/* PHP 8 would throw a TypeError and answer 500 */
static ec_status app_fatal(run_ctx *c, const char *what)
{
    c->res->http_status = 500;
    return app_fail(c, what);
}

static ec_status dataset_push(ec_dataset *d, int64_t time, const char *node,
                              const char *name, double value, int is_null)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        ec_row *rows = realloc(d->rows, cap * sizeof *rows);
        if (rows == NULL)
            return EC_E_NOMEM;
        d->rows = rows;
        d->cap = cap;
    }
    ec_row *r = &d->rows[d->n];
    r->node = dup_str(node);
    r->name = dup_str(name);
    if (r->node == NULL || r->name == NULL) {
        free(r->node);
        free(r->name);
        return EC_E_NOMEM;
    }
    r->time = time;
    r->value = value;
    r->is_null = is_null;
    d->n++;
    return EC_OK;
}

/* process_node(): filter the node, enforce the per-user node limit, store
 * one row per input with its filtered name.  Returns EC_OK with
 * c->res->status = EC_F_APP when the node limit stops it. */
static ec_status process_node(run_ctx *c, int64_t time, const char *node_raw,
                              size_t node_len, const input_list *inputs)
{
    int valid;
    char *node = c->filter_nodes ? ec_filter_chars(node_raw, node_len, NULL, &valid)
                                 : dup_str(node_raw);
    if (node == NULL)
        return EC_E_NOMEM;
    int seen = 0;
    for (size_t i = 0; i < c->n_nodes; i++)
        if (strcmp(c->nodes[i], node) == 0)
            seen = 1;
    if (!seen) {
        if (c->max_nodes > 0 && c->n_nodes >= c->max_nodes) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "Error: Reached the maximal allowed number of different "
                     "NodeIds, limit is %zu. Node '%.40s' was ignored.",
                     c->max_nodes, node);
            free(node);
            return app_fail(c, msg);
        }
        char **nodes = realloc(c->nodes, (c->n_nodes + 1) * sizeof *nodes);
        if (nodes == NULL) {
            free(node);
            return EC_E_NOMEM;
        }
        c->nodes = nodes;
        c->nodes[c->n_nodes++] = node;
    }
    const char *node_name = seen ? NULL : c->nodes[c->n_nodes - 1];
    if (seen) {
        for (size_t i = 0; i < c->n_nodes; i++)
            if (strcmp(c->nodes[i], node) == 0)
                node_name = c->nodes[i];
        free(node);
    }
    for (size_t i = 0; i < inputs->n; i++) {
        const char *raw = inputs->items[i].name;
        char *name = c->filter_nodes ? ec_filter_chars(raw, strlen(raw), NULL, &valid)
                                     : dup_str(raw);
        if (name == NULL)
            return EC_E_NOMEM;
        ec_status st = dataset_push(c->out, time, node_name, name,
                                    inputs->items[i].value, inputs->items[i].is_null);
        free(name);
        if (st != EC_OK)
            return st;
    }
    return EC_OK;
}

static void run_end(run_ctx *c)
{
    for (size_t i = 0; i < c->n_nodes; i++)
        free(c->nodes[i]);
    free(c->nodes);
    /* Emoncms stores row by row: on an application error the rows of the
     * items before the failing one stay stored, and stay in out */
}

/* ---- input/post --------------------------------------------------------- */

static ec_status post_fulljson(run_ctx *c, const char *datain, size_t datain_len, int has_time_param,
                               int64_t *time, int64_t now, input_list *inputs)
{
    json_t *doc = php_json_decode(datain, datain_len);
    int ok = doc != NULL && (json_is_object(doc) || json_is_array(doc));
    /* json_decode($s, true, 2): no container inside the top level one */
    if (ok) {
        if (json_is_object(doc)) {
            const char *k;
            json_t *v;
            json_object_foreach(doc, k, v)
                if (json_is_object(v) || json_is_array(v))
                    ok = 0;
        } else {
            for (size_t i = 0; i < json_array_size(doc); i++) {
                json_t *v = json_array_get(doc, i);
                if (json_is_object(v) || json_is_array(v))
                    ok = 0;
            }
        }
    }
    if (!ok) {
        json_decref(doc);
        return app_fail(c, "Input in not a valid JSON object");
    }
    /* array_change_key_case: the last key that lowercases to "time" wins;
     * only the exact key "time" is removed from the inputs */
    json_t *time_value = NULL;
    if (!has_time_param && json_is_object(doc)) {
        const char *k;
        json_t *v;
        json_object_foreach(doc, k, v)
            if (strlen(k) == 4 && strncasecmp(k, "time", 4) == 0)
                time_value = v;
        if (time_value != NULL) {
            if (json_is_integer(time_value) || json_is_real(time_value))
                *time = json_intval(time_value);
            else if (json_is_string(time_value))
                *time = post_time_of_string(json_string_value(time_value), now);
            else
                *time = now;
        } else {
            *time = now;
        }
    }
    ec_status st = EC_OK;
    size_t n = json_is_object(doc) ? json_object_size(doc) : json_array_size(doc);
    void *iter = json_is_object(doc) ? json_object_iter(doc) : NULL;
    for (size_t i = 0; i < n && st == EC_OK; i++) {
        char idx[32];
        const char *name;
        json_t *v;
        if (iter != NULL) {
            name = json_object_iter_key(iter);
            v = json_object_iter_value(iter);
            iter = json_object_iter_next(doc, iter);
            if (time_value != NULL && strcmp(name, "time") == 0)
                continue;
        } else {
            snprintf(idx, sizeof idx, "%zu", i);
            name = idx;
            v = json_array_get(doc, i);
        }
        int is_null = json_is_null(v) ||
                      (json_is_string(v) && strcmp(json_string_value(v), "null") == 0);
        st = inputs_set(inputs, dup_str(name), json_floatval(v), is_null);
    }
    json_decref(doc);
    return st;
}

/* datain[0..len): a NUL in it is removed by the filter, as PHP's
 * preg_replace does (issue 11 point 6: "0\r\0" is the value 0). */
static ec_status post_csv(run_ctx *c, const char *datain, size_t len, input_list *inputs)
{
    int valid;
    char *text = ec_filter_chars(datain, len, ":,", &valid);
    if (text == NULL)
        return EC_E_NOMEM;
    ec_status st = EC_OK;
    size_t csv_index = 0;
    char *piece = text;
    for (;;) {
        char *comma = strchr(piece, ',');
        if (comma != NULL)
            *comma = '\0';
        char *colon = strchr(piece, ':');
        if (colon != NULL) {
            *colon = '\0';
            char *value = colon + 1;
            char *colon2 = strchr(value, ':');   /* explode(':')[1] only */
            if (colon2 != NULL)
                *colon2 = '\0';
            if (piece[0] == '\0') {
                app_fail(c, "Format error, json key missing or invalid character");
                break;
            }
            int is_null = strcmp(value, "null") == 0;
            if (!ec_php_is_numeric(value) && !is_null) {
                app_fail(c, "Format error, json value is not numeric");
                break;
            }
            st = inputs_set(inputs, dup_str(piece), php_floatval(value), is_null);
        } else {
            int is_null = strcmp(piece, "null") == 0;
            if (!ec_php_is_numeric(piece) && !is_null) {
                app_fail(c, "Format error: csv value is not numeric");
                break;
            }
            char idx[32];
            snprintf(idx, sizeof idx, "%zu", ++csv_index);
            st = inputs_set(inputs, dup_str(idx), php_floatval(piece), is_null);
        }
        if (st != EC_OK || comma == NULL)
            break;
        piece = comma + 1;
    }
    free(text);
    return st;
}

static ec_status run_post(run_ctx *c, const ec_params *params,
                          const char *path_node, int64_t now)
{
    /* route->subaction wins when PHP finds it truthy ("" and "0" are not) */
    const char *node = "0";
    if (path_node != NULL && path_node[0] != '\0' && strcmp(path_node, "0") != 0)
        node = path_node;
    else if (ec_params_get(params, "node") != NULL)
        node = ec_params_get(params, "node");
    char *node_f = ec_filter_name(node, strlen(node), 1);
    if (node_f == NULL)
        return EC_E_NOMEM;

    const char *time_param = ec_params_get(params, "time");
    int64_t time = time_param ? post_time_of_string(time_param, now) : now;

    const char *datain = NULL;
    size_t datain_len = 0;
    static const char *const data_keys[] = {"json", "fulljson", "csv", "data"};
    for (size_t i = 0; i < 4 && datain == NULL; i++)
        datain = ec_params_get_len(params, data_keys[i], &datain_len);

    input_list inputs = {0};
    ec_status st = EC_OK;
    if (datain == NULL || datain_len == 0)   /* PHP: "\0" == "" is false */
        app_fail(c, "Request contains no data via csv, json or data tag");
    else if (ec_params_get(params, "fulljson") != NULL)
        st = post_fulljson(c, datain, datain_len, time_param != NULL, &time, now, &inputs);
    else
        st = post_csv(c, datain, datain_len, &inputs);
    if (st == EC_OK && c->res->status == EC_OK)
        st = process_node(c, time, node_f, strlen(node_f), &inputs);
    inputs_free(&inputs);
    free(node_f);
    return st;
}

/* ---- input/bulk and the 2017 input/encrypted ---------------------------- */

/* The node of a bulk row as a string; *fatal when PHP would stop. */
static char *bulk_node(const json_t *v, int legacy, size_t *len)
{
    if (!legacy && json_loose_null(v) && !json_is_array(v)) {
        /* if ($nodeid=="") $nodeid = 0;  (null, false, "" and 0 alike) */
        *len = 1;
        return dup_str("0");
    }
    return json_strval(v, len);
}

/* One row [t, node, v1, …]; legacy selects the 2017 rules. */
static ec_status bulk_item(run_ctx *c, const json_t *item, int64_t time_ref,
                           int legacy)
{
    int64_t time = php_int_add(time_ref, json_intval(json_array_get(item, 0)));
    const json_t *nodev = json_array_get(item, 1);
    if (json_is_object(nodev))
        return app_fail(c, "Format error, node must not be an object");
    if (json_is_array(nodev) && !legacy)
        return app_fatal(c, "Illegal offset type (node is an array)");
    size_t node_len = 0;
    char *node = bulk_node(nodev, legacy, &node_len);
    if (node == NULL)
        return EC_E_NOMEM;
    input_list inputs = {0};
    ec_status st = EC_OK;
    size_t name = 1;
    for (size_t i = 2; i < json_array_size(item) && st == EC_OK; i++) {
        const json_t *v = json_array_get(item, i);
        char idx[32];
        if (json_is_object(v)) {
            const char *k;
            json_t *ov;
            if (legacy) {
                /* current() and key(): the first property only */
                void *it = json_object_iter((json_t *)v);
                if (it == NULL)
                    st = inputs_set(&inputs, dup_str(""), 0.0, 0);
                else
                    st = inputs_set(&inputs, dup_str(json_object_iter_key(it)),
                                    json_floatval(json_object_iter_value(it)), 0);
                continue;
            }
            json_object_foreach((json_t *)v, k, ov) {
                st = inputs_set(&inputs, dup_str(k), json_floatval(ov), json_is_null(ov));
                if (st != EC_OK)
                    break;
            }
            continue;
        }
        if (legacy) {
            /* if (strlen($v)): null, "", false and arrays are skipped */
            size_t l = 0;
            int keep = 0;
            if (json_is_string(v))
                keep = json_string_length(v) > 0;
            else if (json_is_number(v) || json_is_true(v))
                keep = 1;
            (void)l;
            if (keep) {
                snprintf(idx, sizeof idx, "%zu", name);
                st = inputs_set(&inputs, dup_str(idx), json_floatval(v), 0);
            }
        } else {
            /* if ($v==null || strlen($v)): every scalar; a non-empty array
             * makes strlen() throw */
            if (json_is_array(v) && json_array_size(v) > 0) {
                st = app_fatal(c, "strlen(): Argument #1 must be of type string, array given");
                break;
            }
            snprintf(idx, sizeof idx, "%zu", name);
            st = inputs_set(&inputs, dup_str(idx), json_floatval(v), json_is_null(v));
        }
        name++;
    }
    if (st == EC_OK && c->res->status == EC_OK)
        st = process_node(c, time, node, node_len, &inputs);
    inputs_free(&inputs);
    free(node);
    return st;
}

static ec_status run_bulk(run_ctx *c, const ec_params *params, int64_t now)
{
    static const char *const not_valid = "Format error, json string supplied is not valid";
    const char *data = ec_params_get(params, "data");
    uint8_t *inflated = NULL;
    size_t inflated_len = 0;
    if (ec_params_get(params, "cb") != NULL) {
        /* the body is the base64 text here, never a zlib stream */
        return app_fail(c, not_valid);
    } else if (ec_params_get(params, "c") != NULL) {
        size_t hex_len = data ? strlen(data) : 0;
        uint8_t *bin = malloc(hex_len / 2 + 1);
        size_t bin_len = 0;
        if (bin == NULL)
            return EC_E_NOMEM;
        if (hex_len == 0 || ec_hex_decode(data, hex_len, bin, hex_len / 2 + 1, &bin_len) != EC_OK) {
            free(bin);
            return app_fail(c, "Format error, compressed hex not valid");
        }
        size_t cap = bin_len * 8 + 1024;
        for (;;) {
            inflated = malloc(cap + 1);
            if (inflated == NULL) {
                free(bin);
                return EC_E_NOMEM;
            }
            ec_status zs = ec_zlib_uncompress(bin, bin_len, inflated, cap, &inflated_len);
            if (zs == EC_E_BUFFER && cap < ((size_t)64 << 20)) {
                free(inflated);
                inflated = NULL;
                cap *= 4;
                continue;
            }
            if (zs != EC_OK) {
                free(inflated);
                free(bin);
                return app_fail(c, not_valid);
            }
            break;
        }
        free(bin);
        inflated[inflated_len] = '\0';
        data = (const char *)inflated;
    }
    if (data == NULL || (inflated == NULL && data[0] == '\0')) {
        free(inflated);
        return app_fail(c, not_valid);
    }
    json_t *doc = php_json_decode(data, inflated ? inflated_len : strlen(data));
    free(inflated);
    ec_status st = EC_OK;
    if (doc == NULL || json_loose_null(doc)) {
        app_fail(c, not_valid);
        goto out;
    }
    if (!json_is_array(doc)) {
        app_fatal(c, "count(): Argument #1 must be of type Countable|array");
        goto out;
    }
    size_t len = json_array_size(doc);
    const json_t *last = json_array_get(doc, len - 1);
    /* isset($data[$len-1][0]) */
    if (json_is_object(last)) {
        app_fatal(c, "Cannot use object of type stdClass as array");
        goto out;
    }
    int has_first = (json_is_array(last) && json_array_size(last) > 0 &&
                     !json_is_null(json_array_get(last, 0))) ||
                    (json_is_string(last) && json_string_length(last) > 0);
    if (!has_first) {
        app_fail(c, "Format error, last item in bulk data does not contain any data");
        goto out;
    }
    int64_t time_ref;
    if (ec_params_get(params, "sentat") != NULL)
        time_ref = php_int_sub(now, ec_php_intval(ec_params_get(params, "sentat")));
    else if (ec_params_get(params, "offset") != NULL)
        time_ref = php_int_sub(now, ec_php_intval(ec_params_get(params, "offset")));
    else if (ec_params_get(params, "time") != NULL)
        time_ref = ec_php_intval(ec_params_get(params, "time"));
    else
        time_ref = json_is_array(last) ? php_int_sub(now, json_intval(json_array_get(last, 0))) : now;

    for (size_t i = 0; i < len && st == EC_OK && c->res->status == EC_OK; i++) {
        const json_t *item = json_array_get(doc, i);
        if (!json_is_array(item)) {
            app_fatal(c, "count(): Argument #1 must be of type Countable|array");
            break;
        }
        if (json_array_size(item) > 2)
            st = bulk_item(c, item, time_ref, 0);
    }
out:
    json_decref(doc);
    return st;
}

/* see plaintext.h */
void ec_dataset_init(ec_dataset *d)
{
    d->rows = NULL;
    d->n = 0;
    d->cap = 0;
}

/* see plaintext.h */
void ec_dataset_free(ec_dataset *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->rows[i].node);
        free(d->rows[i].name);
    }
    free(d->rows);
    ec_dataset_init(d);
}

static void result_init(ec_app_result *res)
{
    res->status = EC_OK;
    res->message[0] = '\0';
    res->http_status = 200;
}

/* see plaintext.h */
ec_status ec_app_run(ec_api api, const ec_params *params, const char *path_node,
                     int64_t now, size_t max_nodes, ec_dataset *out,
                     ec_app_result *res)
{
    if (params == NULL || out == NULL || res == NULL)
        return EC_E_ARG;
    result_init(res);
    run_ctx c = {out, max_nodes, NULL, 0, 1, res};
    ec_status st = api == EC_API_BULK ? run_bulk(&c, params, now)
                                      : run_post(&c, params, path_node, now);
    if (st != EC_OK) {
        res->status = st;
        snprintf(res->message, sizeof res->message, "%s", ec_status_text(st));
    }
    run_end(&c);
    return st;
}

/* see plaintext.h */
ec_status ec_app_run_legacy(const char *json, size_t n, ec_dataset *out,
                            ec_app_result *res)
{
    if (out == NULL || res == NULL || (json == NULL && n > 0))
        return EC_E_ARG;
    result_init(res);
    run_ctx c = {out, 0, NULL, 0, 0, res};
    ec_status st = EC_OK;
    json_t *doc = json ? php_json_decode(json, n) : NULL;
    /* if ($data==null): also false, 0, "" and [] */
    if (doc == NULL || json_loose_null(doc)) {
        app_fail(&c, "Invalid data string or encryption key");
    } else if (json_is_array(doc) || json_is_object(doc)) {
        /* foreach over an object walks its property values; a scalar is
         * not iterated at all.  In the PHP 7.0 of 2017 count() of a
         * non-array was 1 (0 for null), so such items were skipped. */
        size_t len = json_is_array(doc) ? json_array_size(doc) : json_object_size(doc);
        void *iter = json_is_object(doc) ? json_object_iter(doc) : NULL;
        for (size_t i = 0; i < len && st == EC_OK && res->status == EC_OK; i++) {
            const json_t *item;
            if (iter != NULL) {
                item = json_object_iter_value(iter);
                iter = json_object_iter_next(doc, iter);
            } else {
                item = json_array_get(doc, i);
            }
            if (json_is_array(item) && json_array_size(item) > 2)
                st = bulk_item(&c, item, 0, 1);
        }
    }
    json_decref(doc);
    if (st != EC_OK) {
        res->status = st;
        snprintf(res->message, sizeof res->message, "%s", ec_status_text(st));
    }
    run_end(&c);
    return st;
}
