/* see vectors.h — a checked loader for the reference vector file. */
#include "emoncrypt/vectors.h"
#include "emoncrypt/codec.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const result_names[] = {"valid", "invalid", "acceptable"};

/* see vectors.h */
int ec_vector_result_from_name(const char *name)
{
    for (int i = 0; name != NULL && i < 3; i++)
        if (strcmp(result_names[i], name) == 0)
            return i;
    return -1;
}

/* see vectors.h */
const char *ec_vector_result_name(ec_vector_result r)
{
    return (unsigned)r < 3 ? result_names[r] : "unknown";
}

/* The loader's state: where in the document it is, for error messages. */
typedef struct {
    const char *file;
    char path[256];
    char *err;
    size_t err_cap;
    ec_status status;
} loader;

/* The reason is documented as one line, but it may quote the file (a
 * string value, jansson's "near '…'"), which may hold line breaks and
 * other control bytes: those become '?'. */
static void keep_one_line(char *s)
{
    for (; s != NULL && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

static ec_status fail(loader *L, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ec_status fail(loader *L, const char *field, const char *fmt, ...)
{
    if (L->status != EC_OK)
        return L->status;
    L->status = EC_E_JSON;
    if (L->err != NULL && L->err_cap > 0) {
        char why[200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        snprintf(L->err, L->err_cap, "%s: %s%s%s: %s", L->file, L->path,
                 (L->path[0] && field[0]) ? "." : "", field, why);
        keep_one_line(L->err);
    }
    return L->status;
}

static ec_status nomem(loader *L)
{
    if (L->status == EC_OK) {
        L->status = EC_E_NOMEM;
        if (L->err != NULL && L->err_cap > 0)
            snprintf(L->err, L->err_cap, "%s: out of memory", L->file);
    }
    return L->status;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* A string member: required or optional; null allowed only if nullable
 * (then *out stays NULL). */
static ec_status get_string(loader *L, const json_t *obj, const char *field,
                            int required, int nullable, char **out, size_t *len)
{
    *out = NULL;
    if (len)
        *len = 0;
    const json_t *v = json_object_get(obj, field);
    if (v == NULL)
        return required ? fail(L, field, "missing") : EC_OK;
    if (json_is_null(v) && nullable)
        return EC_OK;
    if (!json_is_string(v))
        return fail(L, field, "expected a string%s", nullable ? " or null" : "");
    *out = dup_n(json_string_value(v), json_string_length(v));
    if (*out == NULL)
        return nomem(L);
    if (len)
        *len = json_string_length(v);
    return EC_OK;
}

static ec_status get_int(loader *L, const json_t *obj, const char *field, int64_t *out)
{
    const json_t *v = json_object_get(obj, field);
    if (v == NULL)
        return fail(L, field, "missing");
    if (!json_is_integer(v))
        return fail(L, field, "expected an integer");
    *out = (int64_t)json_integer_value(v);
    return EC_OK;
}

static ec_status get_hex(loader *L, const json_t *obj, const char *field,
                         uint8_t **out, size_t *out_len, size_t exact)
{
    char *hex = NULL;
    size_t n;
    *out = NULL;
    *out_len = 0;
    if (get_string(L, obj, field, 1, 0, &hex, &n) != EC_OK)
        return L->status;
    if (exact && n != 2 * exact) {
        free(hex);
        return fail(L, field, "expected %zu hex digits, got %zu characters", 2 * exact, n);
    }
    uint8_t *bytes = malloc(n / 2 + 1);
    if (bytes == NULL) {
        free(hex);
        return nomem(L);
    }
    if (ec_hex_decode(hex, n, bytes, n / 2 + 1, out_len) != EC_OK) {
        free(hex);
        free(bytes);
        return fail(L, field, "not an even-length string of hex digits");
    }
    free(hex);
    *out = bytes;
    return EC_OK;
}

static void push_path(loader *L, size_t *saved, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void push_path(loader *L, size_t *saved, const char *fmt, ...)
{
    *saved = strlen(L->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->path + *saved, sizeof L->path - *saved, fmt, ap);
    va_end(ap);
}

static void pop_path(loader *L, size_t saved)
{
    L->path[saved] = '\0';
}

static void expect_free(ec_vector_expect *e)
{
    free(e->content_type);
    free(e->body);
    free(e->fault);
    free(e->detail);
    free(e->www_authenticate);
    for (size_t i = 0; i < e->n_rows; i++) {
        free(e->rows[i].node);
        free(e->rows[i].name);
    }
    free(e->rows);
    memset(e, 0, sizeof *e);
}

static ec_status load_row(loader *L, const json_t *r, ec_vector_row *row)
{
    if (!json_is_array(r) || json_array_size(r) != 4)
        return fail(L, "", "expected [time, node, name, value-or-null]");
    const json_t *t = json_array_get(r, 0), *node = json_array_get(r, 1),
                 *name = json_array_get(r, 2), *val = json_array_get(r, 3);
    if (!json_is_integer(t))
        return fail(L, "", "row time is not an integer");
    if (!json_is_string(node) || !json_is_string(name))
        return fail(L, "", "row node and name must be strings");
    if (!json_is_number(val) && !json_is_null(val))
        return fail(L, "", "row value must be a number or null");
    row->time = (int64_t)json_integer_value(t);
    row->node = dup_n(json_string_value(node), json_string_length(node));
    row->name = dup_n(json_string_value(name), json_string_length(name));
    if (row->node == NULL || row->name == NULL)
        return nomem(L);
    row->is_null = json_is_null(val);
    row->value = json_is_null(val) ? 0.0 : json_number_value(val);
    return EC_OK;
}

static ec_status load_expect(loader *L, const json_t *obj, const char *field,
                             ec_vector_expect *e)
{
    const json_t *x = json_object_get(obj, field);
    size_t saved;
    if (!json_is_object(x))
        return fail(L, field, x ? "expected an object" : "missing");
    push_path(L, &saved, ".%s", field);
    int64_t status = 0;
    if (get_int(L, x, "status", &status) == EC_OK) {
        if (status < 100 || status > 599)
            fail(L, "status", "not an HTTP status: %lld", (long long)status);
        e->status = (int)status;
    }
    if (L->status == EC_OK)
        get_string(L, x, "contentType", 1, 0, &e->content_type, NULL);
    if (L->status == EC_OK)
        get_string(L, x, "body", 1, 0, &e->body, &e->body_len);
    if (L->status == EC_OK && get_string(L, x, "fault", 1, 0, &e->fault, NULL) == EC_OK &&
        ec_status_from_name(e->fault) < 0)
        fail(L, "fault", "unknown status name \"%s\"", e->fault);
    if (L->status == EC_OK && get_string(L, x, "detail", 0, 0, &e->detail, NULL) == EC_OK &&
        e->detail != NULL && ec_status_from_name(e->detail) < 0)
        fail(L, "detail", "unknown status name \"%s\"", e->detail);
    if (L->status == EC_OK)
        get_string(L, x, "wwwAuthenticate", 0, 0, &e->www_authenticate, NULL);
    const json_t *rows = json_object_get(x, "rows");
    if (L->status == EC_OK && rows != NULL) {
        if (!json_is_array(rows)) {
            fail(L, "rows", "expected an array");
        } else {
            e->has_rows = 1;
            e->rows = calloc(json_array_size(rows) + 1, sizeof *e->rows);
            if (e->rows == NULL) {
                nomem(L);
            } else {
                for (size_t i = 0; i < json_array_size(rows) && L->status == EC_OK; i++) {
                    size_t s2;
                    push_path(L, &s2, ".rows[%zu]", i);
                    e->n_rows = i + 1;
                    load_row(L, json_array_get(rows, i), &e->rows[i]);
                    if (L->status == EC_OK)
                        pop_path(L, s2);
                }
            }
        }
    }
    if (L->status == EC_OK)
        pop_path(L, saved);
    return L->status;
}

static void vector_free(ec_vector *v)
{
    free(v->tc_id);
    free(v->comment);
    for (size_t i = 0; i < v->n_flags; i++)
        free(v->flags[i]);
    free(v->flags);
    free(v->apikey);
    free(v->client_apikey);
    free(v->userid);
    free(v->username);
    free(v->plaintext);
    free(v->method);
    free(v->path);
    free(v->query);
    free(v->content_type);
    free(v->authorization);
    free(v->body);
    free(v->ack);
    expect_free(&v->expected);
    expect_free(&v->expected_strict);
    memset(v, 0, sizeof *v);
}

static ec_status load_test(loader *L, const json_t *t, const json_t *notes, ec_vector *v)
{
    if (!json_is_object(t))
        return fail(L, "", "expected an object");
    if (get_string(L, t, "tcId", 1, 0, &v->tc_id, NULL) != EC_OK)
        return L->status;
    for (const char *c = v->tc_id; *c; c++) {
        int ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                 (c != v->tc_id && (*c == '.' || *c == '_' || *c == '/' || *c == '-' ||
                                    *c == '+'));
        if (!ok)
            return fail(L, "tcId", "\"%s\" is not [a-z0-9][a-z0-9._/+-]*", v->tc_id);
    }
    if (v->tc_id[0] == '\0')
        return fail(L, "tcId", "empty");
    if (get_string(L, t, "comment", 1, 0, &v->comment, NULL) != EC_OK)
        return L->status;
    const json_t *flags = json_object_get(t, "flags");
    if (!json_is_array(flags))
        return fail(L, "flags", flags ? "expected an array" : "missing");
    v->flags = calloc(json_array_size(flags) + 1, sizeof *v->flags);
    if (v->flags == NULL)
        return nomem(L);
    for (size_t i = 0; i < json_array_size(flags); i++) {
        const json_t *f = json_array_get(flags, i);
        if (!json_is_string(f))
            return fail(L, "flags", "item %zu is not a string", i);
        if (notes != NULL && json_object_get(notes, json_string_value(f)) == NULL)
            return fail(L, "flags", "\"%s\" is not explained in notes", json_string_value(f));
        v->flags[i] = dup_n(json_string_value(f), json_string_length(f));
        if (v->flags[i] == NULL)
            return nomem(L);
        v->n_flags = i + 1;
    }
    if (get_string(L, t, "apikey", 1, 0, &v->apikey, NULL) != EC_OK ||
        get_string(L, t, "clientApikey", 0, 0, &v->client_apikey, NULL) != EC_OK ||
        get_string(L, t, "userid", 1, 0, &v->userid, NULL) != EC_OK ||
        get_string(L, t, "username", 0, 0, &v->username, NULL) != EC_OK)
        return L->status;
    if (json_object_get(t, "iv") != NULL) {
        uint8_t *iv;
        size_t n;
        if (get_hex(L, t, "iv", &iv, &n, EC_IV_LEN) != EC_OK)
            return L->status;
        memcpy(v->iv, iv, EC_IV_LEN);
        free(iv);
        v->has_iv = 1;
    }
    if (json_object_get(t, "plaintext") != NULL) {
        if (get_hex(L, t, "plaintext", &v->plaintext, &v->plaintext_len, 0) != EC_OK)
            return L->status;
        v->has_plaintext = 1;
    }
    const json_t *mistakes = json_object_get(t, "mistakes");
    if (mistakes != NULL) {
        if (!json_is_array(mistakes))
            return fail(L, "mistakes", "expected an array");
        v->has_mistakes = 1;
        for (size_t i = 0; i < json_array_size(mistakes); i++) {
            const json_t *m = json_array_get(mistakes, i);
            unsigned bit = json_is_string(m) ? ec_mistake_from_name(json_string_value(m)) : 0;
            if (bit == 0)
                return fail(L, "mistakes", "item %zu is not a known mistake name", i);
            v->mistakes |= bit;
        }
    }
    const json_t *req = json_object_get(t, "request");
    if (!json_is_object(req))
        return fail(L, "request", req ? "expected an object" : "missing");
    size_t saved;
    push_path(L, &saved, ".request");
    if (get_string(L, req, "method", 1, 0, &v->method, NULL) != EC_OK ||
        get_string(L, req, "path", 1, 0, &v->path, NULL) != EC_OK ||
        get_string(L, req, "query", 0, 0, &v->query, NULL) != EC_OK)
        return L->status;
    if (json_object_get(req, "contentType") == NULL)
        return fail(L, "contentType", "missing (null means the header is absent)");
    if (json_object_get(req, "authorization") == NULL)
        return fail(L, "authorization", "missing (null means the header is absent)");
    if (get_string(L, req, "contentType", 1, 1, &v->content_type, NULL) != EC_OK ||
        get_string(L, req, "authorization", 1, 1, &v->authorization, NULL) != EC_OK ||
        get_string(L, req, "body", 1, 0, &v->body, &v->body_len) != EC_OK)
        return L->status;
    pop_path(L, saved);
    if (get_int(L, t, "now", &v->now) != EC_OK)
        return L->status;
    if (load_expect(L, t, "expected", &v->expected) != EC_OK)
        return L->status;
    if (json_object_get(t, "expectedStrict") != NULL) {
        if (load_expect(L, t, "expectedStrict", &v->expected_strict) != EC_OK)
            return L->status;
        v->has_expected_strict = 1;
    }
    if (get_string(L, t, "ack", 0, 0, &v->ack, NULL) != EC_OK)
        return L->status;
    if (v->ack != NULL && !ec_ack_well_formed(v->ack, strlen(v->ack)))
        return fail(L, "ack", "not a 44-character base64url SHA-256 ending in '='");
    char *result = NULL;
    if (get_string(L, t, "result", 1, 0, &result, NULL) != EC_OK)
        return L->status;
    int r = ec_vector_result_from_name(result);
    if (r < 0) {
        fail(L, "result", "\"%s\" is not valid, invalid or acceptable", result);
        free(result);
        return L->status;
    }
    free(result);
    v->result = (ec_vector_result)r;
    return EC_OK;
}

/* see vectors.h */
ec_status ec_vectors_load(const char *path, ec_vector_file *out, char *err, size_t err_cap)
{
    loader L = {path ? path : "(null)", "", err, err_cap, EC_OK};
    if (err != NULL && err_cap > 0)
        err[0] = '\0';
    if (out == NULL || path == NULL) {
        if (err != NULL && err_cap > 0)
            snprintf(err, err_cap, "no vector file given");
        return EC_E_ARG;
    }
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            if (err != NULL && err_cap > 0)
                snprintf(err, err_cap, "%s: cannot be read", path);
            return EC_E_IO;
        }
        fclose(f);
        if (err != NULL && err_cap > 0) {
            snprintf(err, err_cap, "%s:%d:%d: not valid JSON: %s", path, jerr.line,
                     jerr.column, jerr.text);
            keep_one_line(err);
        }
        return EC_E_JSON;
    }
    out->path = dup_n(path, strlen(path));
    if (out->path == NULL)
        nomem(&L);
    if (!json_is_object(root)) {
        fail(&L, "", "the top level is not an object");
        goto out;
    }
    if (L.status == EC_OK)
        get_string(&L, root, "algorithm", 1, 0, &out->algorithm, NULL);
    int64_t count = 0;
    if (L.status == EC_OK && get_int(&L, root, "numberOfTests", &count) == EC_OK)
        out->number_of_tests = (int)count;
    const json_t *notes = json_object_get(root, "notes");
    if (L.status == EC_OK && notes != NULL && !json_is_object(notes))
        fail(&L, "notes", "expected an object");
    const json_t *groups = json_object_get(root, "testGroups");
    if (L.status == EC_OK && !json_is_array(groups))
        fail(&L, "testGroups", groups ? "expected an array" : "missing");
    if (L.status != EC_OK)
        goto out;
    size_t total = 0;
    for (size_t g = 0; g < json_array_size(groups); g++) {
        const json_t *tests = json_object_get(json_array_get(groups, g), "tests");
        if (json_is_array(tests))
            total += json_array_size(tests);
    }
    out->tests = calloc(total + 1, sizeof *out->tests);
    if (out->tests == NULL) {
        nomem(&L);
        goto out;
    }
    for (size_t g = 0; g < json_array_size(groups) && L.status == EC_OK; g++) {
        const json_t *group = json_array_get(groups, g);
        size_t saved;
        push_path(&L, &saved, "testGroups[%zu]", g);
        if (!json_is_object(group)) {
            fail(&L, "", "expected an object");
            break;
        }
        char *profile = NULL;
        if (get_string(&L, group, "profile", 1, 0, &profile, NULL) != EC_OK)
            break;
        int prof = ec_profile_from_name(profile);
        if (prof < 0)
            fail(&L, "profile", "unknown profile \"%s\"", profile);
        free(profile);
        const json_t *tests = json_object_get(group, "tests");
        if (L.status == EC_OK && !json_is_array(tests))
            fail(&L, "tests", tests ? "expected an array" : "missing");
        for (size_t i = 0; L.status == EC_OK && i < json_array_size(tests); i++) {
            size_t s2;
            push_path(&L, &s2, ".tests[%zu]", i);
            ec_vector *v = &out->tests[out->n++];
            v->profile = (ec_profile)prof;
            if (load_test(&L, json_array_get(tests, i), notes, v) != EC_OK)
                break;
            for (size_t j = 0; j + 1 < out->n; j++)
                if (strcmp(out->tests[j].tc_id, v->tc_id) == 0) {
                    fail(&L, "tcId", "\"%s\" is used twice", v->tc_id);
                    break;
                }
            pop_path(&L, s2);
        }
        if (L.status == EC_OK)
            pop_path(&L, saved);
    }
    if (L.status == EC_OK && (size_t)out->number_of_tests != out->n) {
        L.path[0] = '\0';
        fail(&L, "numberOfTests", "says %d but the file holds %zu tests",
             out->number_of_tests, out->n);
    }
out:
    json_decref(root);
    if (L.status != EC_OK)
        ec_vectors_free(out);
    return L.status;
}

/* see vectors.h */
void ec_vectors_free(ec_vector_file *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++)
        vector_free(&f->tests[i]);
    free(f->tests);
    free(f->path);
    free(f->algorithm);
    memset(f, 0, sizeof *f);
}

/* see vectors.h */
ec_vector_filter ec_vector_filter_all(void)
{
    ec_vector_filter f = {-1, -1, NULL};
    return f;
}

/* see vectors.h */
int ec_vector_matches(const ec_vector *v, const ec_vector_filter *f)
{
    if (v == NULL)
        return 0;
    if (f == NULL)
        return 1;
    if (f->profile >= 0 && (int)v->profile != f->profile)
        return 0;
    if (f->result >= 0 && (int)v->result != f->result)
        return 0;
    if (f->flag != NULL) {
        for (size_t i = 0; i < v->n_flags; i++)
            if (strcmp(v->flags[i], f->flag) == 0)
                return 1;
        return 0;
    }
    return 1;
}

/* see vectors.h */
const ec_vector *ec_vectors_next(const ec_vector_file *file, const ec_vector_filter *f,
                                 size_t *cursor)
{
    if (file == NULL || cursor == NULL)
        return NULL;
    while (*cursor < file->n) {
        const ec_vector *v = &file->tests[(*cursor)++];
        if (ec_vector_matches(v, f))
            return v;
    }
    return NULL;
}

/* see vectors.h */
const ec_vector *ec_vectors_find(const ec_vector_file *file, const char *tc_id)
{
    for (size_t i = 0; file != NULL && tc_id != NULL && i < file->n; i++)
        if (strcmp(file->tests[i].tc_id, tc_id) == 0)
            return &file->tests[i];
    return NULL;
}

/* see vectors.h */
ec_status ec_vector_request_params(const ec_vector *v, ec_request_params *p)
{
    if (v == NULL || p == NULL || !v->has_iv || !v->has_plaintext)
        return EC_E_ARG;
    memset(p, 0, sizeof *p);
    const char *apikey = v->client_apikey ? v->client_apikey : v->apikey;
    if (ec_key_from_hex(apikey, p->key) != EC_OK)
        return EC_E_ARG;
    p->profile = v->profile;
    /* the endpoint and /input/post/NODE come from the request path */
    const char *path = v->path;
    p->endpoint = strncmp(path, "/input/bulk", 11) == 0 ? EC_ENDPOINT_BULK : EC_ENDPOINT_POST;
    if (strncmp(path, "/input/post/", 12) == 0 && path[12] != '\0')
        p->path_node = path + 12;
    p->apikey_hex = apikey;
    p->userid = v->userid;
    p->username = v->username;
    memcpy(p->iv, v->iv, EC_IV_LEN);
    p->plaintext = v->plaintext;
    p->plaintext_len = v->plaintext_len;
    p->mistakes = v->mistakes;
    return EC_OK;
}

/* see vectors.h */
void ec_vector_http_request(const ec_vector *v, ec_http_request *req)
{
    req->method = v->method;
    req->path = v->path;
    req->query = v->query;
    req->content_type = v->content_type;
    req->authorization = v->authorization;
    req->body = (const uint8_t *)v->body;
    req->body_len = v->body_len;
}

/* see vectors.h */
const ec_vector_expect *ec_vector_expectation(const ec_vector *v, int strict)
{
    if (strict && v->has_expected_strict)
        return &v->expected_strict;
    return &v->expected;
}
