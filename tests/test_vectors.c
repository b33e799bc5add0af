/* Every reference vector of vectors/emoncms_input_v1.json, checked against
 * the C harness: the builder must reproduce each built request byte for
 * byte, and the server model must give each expected answer, compat and
 * strict.  One CMocka test per vector, named after its tcId. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emoncrypt/message.h"
#include "emoncrypt/plaintext.h"
#include "emoncrypt/vectors.h"

#define VECTOR_FILE EMONCRYPT_SOURCE_DIR "/vectors/emoncms_input_v1.json"
#define MIN_VECTORS 300
/* the cap a strict server documents (vectors/README.md, Oversize) */
#define STRICT_MAX_BODY ((size_t)1 << 20)
#define MAX_NODES 32

static size_t n_rebuilt, n_served;

typedef struct {
    const ec_vector *v;
    int strict;
} lookup_ctx;

/* The server knows one user: the vector's.  Compat finds it as Emoncms's
 * (int) cast does; strict wants the id exactly. */
static int lookup(void *ctx, const char *userid, const char *username, uint8_t key[EC_KEY_LEN])
{
    const lookup_ctx *c = ctx;
    if (userid != NULL) {
        int same = c->strict ? strcmp(userid, c->v->userid) == 0
                             : ec_php_intval(userid) == ec_php_intval(c->v->userid);
        if (!same)
            return -1;
    } else if (username == NULL || c->v->username == NULL ||
               strcmp(username, c->v->username) != 0) {
        return -1;
    }
    return ec_key_from_hex(c->v->apikey, key) == EC_OK ? 0 : -1;
}

static void show(const char *what, const char *s, size_t n)
{
    char buf[200];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < sizeof buf; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, sizeof buf - o, "\\x%02x", c);
    }
    buf[o] = '\0';
    print_error("    %s (%zu bytes): %s%s\n", what, n, buf, o + 8 >= sizeof buf ? "…" : "");
}

/* Compare two byte strings; report the first difference. */
static int same_bytes(const char *field, const char *want, size_t want_len,
                      const char *got, size_t got_len)
{
    if (want_len == got_len && (want_len == 0 || memcmp(want, got, want_len) == 0))
        return 1;
    size_t i = 0;
    while (i < want_len && i < got_len && want[i] == got[i])
        i++;
    print_error("  %s differs at byte %zu\n", field, i);
    show("expected", want, want_len);
    show("actual  ", got, got_len);
    return 0;
}

static int same_str(const char *field, const char *want, const char *got)
{
    if (want == NULL)
        want = "";
    if (got == NULL)
        got = "";
    return same_bytes(field, want, strlen(want), got, strlen(got));
}

static int check_rebuild(const ec_vector *v)
{
    ec_request_params p;
    if (ec_vector_request_params(v, &p) != EC_OK) {
        print_error("  cannot turn the vector into builder inputs\n");
        return 0;
    }
    ec_request r;
    ec_request_init(&r);
    ec_status st = ec_request_build(&p, &r);
    if (st != EC_OK) {
        print_error("  ec_request_build: %s\n", ec_status_name(st));
        return 0;
    }
    int ok = same_str("request.method", v->method, r.method) &
             same_str("request.path", v->path, r.path) &
             same_str("request.contentType", v->content_type, r.content_type) &
             same_str("request.authorization", v->authorization, r.authorization) &
             same_bytes("request.body", v->body, v->body_len, r.body, r.body_len);
    if (v->ack != NULL)
        ok &= same_str("ack", v->ack, r.ack);
    ec_request_free(&r);
    n_rebuilt += ok;
    return ok;
}

static int check_answer(const ec_vector *v, int strict)
{
    const char *role = strict ? "strict" : "compat";
    const ec_vector_expect *e = ec_vector_expectation(v, strict);
    lookup_ctx ctx = {v, strict};
    ec_server_config cfg = {lookup, &ctx, strict, v->now, strict ? STRICT_MAX_BODY : 0, MAX_NODES};
    ec_http_request req;
    ec_vector_http_request(v, &req);
    ec_answer a;
    ec_status st = ec_server_answer(&cfg, &req, &a);
    if (st != EC_OK) {
        print_error("  %s: ec_server_answer: %s\n", role, ec_status_name(st));
        return 0;
    }
    int ok = 1;
    char field[64];
    if (a.http_status != e->status) {
        print_error("  %s: status %d, expected %d\n", role, a.http_status, e->status);
        ok = 0;
    }
    snprintf(field, sizeof field, "%s: contentType", role);
    ok &= same_str(field, e->content_type, a.content_type);
    snprintf(field, sizeof field, "%s: body", role);
    ok &= same_bytes(field, e->body, e->body_len, a.answer, a.answer_len);
    snprintf(field, sizeof field, "%s: fault", role);
    ok &= same_str(field, e->fault, ec_status_name(a.fault));
    snprintf(field, sizeof field, "%s: detail", role);
    ok &= same_str(field, e->detail, a.detail == EC_OK ? "" : ec_status_name(a.detail));
    snprintf(field, sizeof field, "%s: wwwAuthenticate", role);
    ok &= same_str(field, e->www_authenticate, a.www_authenticate);
    size_t want_rows = e->has_rows ? e->n_rows : 0;
    if (a.rows.n != want_rows) {
        print_error("  %s: %zu rows stored, expected %zu\n", role, a.rows.n, want_rows);
        ok = 0;
    } else {
        for (size_t i = 0; i < want_rows; i++) {
            const ec_vector_row *w = &e->rows[i];
            const ec_row *g = &a.rows.rows[i];
            if (w->time != g->time || strcmp(w->node, g->node) != 0 ||
                strcmp(w->name, g->name) != 0 || w->is_null != g->is_null ||
                (!w->is_null && w->value != g->value)) {
                print_error("  %s: row %zu is [%lld, \"%s\", \"%s\", %s%.17g], expected "
                            "[%lld, \"%s\", \"%s\", %s%.17g]\n", role, i,
                            (long long)g->time, g->node, g->name, g->is_null ? "null/" : "",
                            g->value, (long long)w->time, w->node, w->name,
                            w->is_null ? "null/" : "", w->value);
                ok = 0;
            }
        }
    }
    ec_answer_free(&a);
    return ok;
}

static void run_vector(void **state)
{
    const ec_vector *v = *state;
    int ok = 1;
    /* only a vector with `mistakes` is the builder's exact output; the
     * others were changed by hand after building */
    if (v->has_mistakes && v->has_iv && v->has_plaintext)
        ok &= check_rebuild(v);
    int served = check_answer(v, 0);
    served &= check_answer(v, 1);
    n_served += served;
    ok &= served;
    if (!ok)
        fail_msg("vector %s (%s) disagrees with the harness", v->tc_id, v->comment);
}

/* The loader must refuse a malformed file with a clear message. */
static void loader_reports_malformed_files(void **state)
{
    (void)state;
    char path[] = "/tmp/emoncrypt-vectors-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("{\"algorithm\":\"x\",\"numberOfTests\":1,\"testGroups\":[{\"profile\":\"aes128cbc\","
          "\"tests\":[{\"tcId\":\"a\",\"comment\":\"c\",\"flags\":[],\"apikey\":\"k\","
          "\"userid\":\"1\",\"request\":{\"method\":\"POST\",\"path\":\"/input/post\","
          "\"contentType\":null,\"authorization\":null,\"body\":7}}]}]}", f);
    fclose(f);
    ec_vector_file file;
    char err[512];
    assert_int_equal(ec_vectors_load(path, &file, err, sizeof err), EC_E_JSON);
    assert_non_null(strstr(err, "testGroups[0].tests[0].request.body: expected a string"));
    assert_non_null(strstr(err, path));
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"testGroups\": [", f);
    fclose(f);
    assert_int_equal(ec_vectors_load(path, &file, err, sizeof err), EC_E_JSON);
    assert_non_null(strstr(err, "not valid JSON"));
    unlink(path);
    assert_int_equal(ec_vectors_load(path, &file, err, sizeof err), EC_E_IO);
    assert_non_null(strstr(err, "cannot be read"));
    assert_int_equal(file.n, 0);
}

/* A one-vector file that loads; each field is then spoiled in turn. */
static const char minimal_doc[] =
    "{\"algorithm\":\"x\",\"numberOfTests\":1,\"notes\":{\"Normal\":{}},"
    "\"testGroups\":[{\"profile\":\"aes128cbc\",\"tests\":[{\"tcId\":\"post/a\","
    "\"comment\":\"c\",\"flags\":[\"Normal\"],\"apikey\":\"0123456789abcdef0123456789abcdef\","
    "\"userid\":\"1\",\"iv\":\"000102030405060708090a0b0c0d0e0f\",\"plaintext\":\"6e3d31\","
    "\"mistakes\":[\"hmac-upper\"],"
    "\"request\":{\"method\":\"POST\",\"path\":\"/input/post\",\"contentType\":\"aes128cbc\","
    "\"authorization\":\"1:x\",\"body\":\"AAAA\"},\"now\":1700000000,"
    "\"expected\":{\"status\":200,\"contentType\":\"text/plain\",\"body\":\"b\",\"fault\":\"ok\","
    "\"rows\":[[1700000000,\"n\",\"1\",null]]},"
    "\"ack\":\"6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48=\",\"result\":\"valid\"}]}]}";

static int load_text(const char *text, char *err, size_t err_cap)
{
    char path[] = "/tmp/emoncrypt-vectors-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    ec_vector_file file;
    ec_status st = ec_vectors_load(path, &file, err, err_cap);
    if (st == EC_OK)
        ec_vectors_free(&file);
    unlink(path);
    return st;
}

/* Every field replaced by a value of a wrong type or value: always an
 * error that names the field, never a crash (run under valgrind too). */
static void every_spoiled_field_is_named(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(load_text(minimal_doc, err, sizeof err), EC_OK);
    static const struct {
        const char *from, *to, *named;
    } spoils[] = {
        {"\"numberOfTests\":1", "\"numberOfTests\":2", "numberOfTests"},
        {"\"numberOfTests\":1", "\"numberOfTests\":\"1\"", "numberOfTests"},
        {"\"profile\":\"aes128cbc\"", "\"profile\":\"aes256\"", "testGroups[0].profile"},
        {"\"tcId\":\"post/a\"", "\"tcId\":\"Post A\"", "tests[0].tcId"},
        {"\"flags\":[\"Normal\"]", "\"flags\":[\"Unexplained\"]", "tests[0].flags"},
        {"\"flags\":[\"Normal\"]", "\"flags\":\"Normal\"", "tests[0].flags"},
        {"\"iv\":\"000102030405060708090a0b0c0d0e0f\"", "\"iv\":\"0001\"", "tests[0].iv"},
        {"\"plaintext\":\"6e3d31\"", "\"plaintext\":\"6e3\"", "tests[0].plaintext"},
        {"\"mistakes\":[\"hmac-upper\"]", "\"mistakes\":[\"hmac-lower\"]", "tests[0].mistakes"},
        {"\"method\":\"POST\"", "\"method\":null", "request.method"},
        {"\"contentType\":\"aes128cbc\",", "", "request.contentType"},
        {"\"body\":\"AAAA\"", "\"body\":[]", "request.body"},
        {"\"now\":1700000000", "\"now\":1.5", "tests[0].now"},
        {"\"status\":200", "\"status\":99", "expected.status"},
        {"\"fault\":\"ok\"", "\"fault\":\"fine\"", "expected.fault"},
        {"[[1700000000,\"n\",\"1\",null]]", "[[1700000000,\"n\",\"1\"]]", "expected.rows[0]"},
        {"[[1700000000,\"n\",\"1\",null]]", "[[1700000000,\"n\",1,null]]", "expected.rows[0]"},
        {"\"ack\":\"6YBB", "\"ack\":\"6+BB", "tests[0].ack"},
        {"\"result\":\"valid\"", "\"result\":\"ok\"", "tests[0].result"},
        {"\"testGroups\":[", "\"testGroups\":7,\"x\":[", "testGroups"},
    };
    for (size_t i = 0; i < sizeof spoils / sizeof spoils[0]; i++) {
        char doc[sizeof minimal_doc + 64];
        const char *at = strstr(minimal_doc, spoils[i].from);
        assert_non_null(at);
        size_t head = (size_t)(at - minimal_doc);
        snprintf(doc, sizeof doc, "%.*s%s%s", (int)head, minimal_doc, spoils[i].to,
                 at + strlen(spoils[i].from));
        int st = load_text(doc, err, sizeof err);
        if (st == EC_OK || strstr(err, spoils[i].named) == NULL)
            fail_msg("spoil %zu (%s): status %d, message \"%s\"", i, spoils[i].named, st, err);
    }
}

static const ec_vector_file *loaded;

/* Filters select by profile, result and flag; every vector is in exactly
 * one profile and one result. */
static void filters_partition_the_file(void **state)
{
    (void)state;
    size_t by_profile = 0, by_result = 0;
    for (int p = 0; p <= (int)EC_PROFILE_LEGACY; p++) {
        ec_vector_filter f = ec_vector_filter_all();
        f.profile = p;
        size_t cursor = 0;
        const ec_vector *v;
        while ((v = ec_vectors_next(loaded, &f, &cursor)) != NULL) {
            assert_int_equal(v->profile, p);
            by_profile++;
        }
    }
    for (int r = 0; r <= (int)EC_VECTOR_ACCEPTABLE; r++) {
        ec_vector_filter f = ec_vector_filter_all();
        f.result = r;
        size_t cursor = 0;
        while (ec_vectors_next(loaded, &f, &cursor) != NULL)
            by_result++;
    }
    assert_int_equal(by_profile, loaded->n);
    assert_int_equal(by_result, loaded->n);
    ec_vector_filter spec8 = ec_vector_filter_all();
    spec8.flag = "Spec8";
    size_t cursor = 0;
    const ec_vector *v = ec_vectors_next(loaded, &spec8, &cursor);
    assert_non_null(v);
    assert_ptr_equal(ec_vectors_find(loaded, v->tc_id), v);
    assert_int_equal(v->result, EC_VECTOR_VALID);
    assert_null(ec_vectors_find(loaded, "no/such-vector"));
    assert_int_equal(ec_vector_result_from_name("acceptable"), EC_VECTOR_ACCEPTABLE);
    assert_int_equal(ec_vector_result_from_name("maybe"), -1);
}

int main(void)
{
    ec_vector_file file;
    char err[1024];
    /* EMONCRYPT_VECTORS points at another copy, e.g. a fresh generator run */
    const char *path = getenv("EMONCRYPT_VECTORS") ? getenv("EMONCRYPT_VECTORS") : VECTOR_FILE;
    ec_status st = ec_vectors_load(path, &file, err, sizeof err);
    if (st != EC_OK) {
        fprintf(stderr, "test_vectors: %s\n", err);
        return 1;
    }
    loaded = &file;
    const struct CMUnitTest loader_tests[] = {
        cmocka_unit_test(loader_reports_malformed_files),
        cmocka_unit_test(filters_partition_the_file),
        cmocka_unit_test(every_spoiled_field_is_named),
    };
    int failed = cmocka_run_group_tests_name("vector-loader", loader_tests, NULL, NULL);

    struct CMUnitTest *tests = calloc(file.n + 1, sizeof *tests);
    if (tests == NULL)
        return 1;
    size_t cursor = 0, n = 0;
    ec_vector_filter all = ec_vector_filter_all();
    const ec_vector *v;
    while ((v = ec_vectors_next(&file, &all, &cursor)) != NULL) {
        tests[n].name = v->tc_id;
        tests[n].test_func = run_vector;
        tests[n].initial_state = (void *)v;
        n++;
    }
    failed += _cmocka_run_group_tests("vectors", tests, n, NULL, NULL);
    size_t with_mistakes = 0;
    for (size_t i = 0; i < file.n; i++)
        with_mistakes += file.tests[i].has_mistakes && file.tests[i].has_iv &&
                         file.tests[i].has_plaintext;
    printf("test_vectors: %zu vectors in %s; %zu/%zu requests rebuilt byte for byte; "
           "%zu/%zu answered as expected (compat and strict)\n",
           file.n, path, n_rebuilt, with_mistakes, n_served, file.n);
    if (file.n < MIN_VECTORS) {
        fprintf(stderr, "test_vectors: only %zu vectors, at least %d expected\n", file.n,
                MIN_VECTORS);
        failed++;
    }
    free(tests);
    ec_vectors_free(&file);
    return failed ? 1 : 0;
}
