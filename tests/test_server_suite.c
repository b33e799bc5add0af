/* Unit tests of the server role: the reference server's pieces (users,
 * store, limits, strict replay cache, read endpoint), the mutant table and
 * the suite's case table.  Running the whole suite against serve and the
 * mutants is tests/server_suite_check.c (ctest server/…), because the
 * suite is itself a CMocka runner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emoncrypt/message.h"
#include "emoncrypt/httpclient.h"
#include "emoncrypt/serve.h"
#include "server/server_suite.h"
#include "server/srv.h"

#define APIKEY "0123456789abcdef0123456789abcdef"

static void test_lookup_casts_user_ids_like_php(void **state)
{
    (void)state;
    ec_serve_users u = {0};
    assert_int_equal(ec_serve_users_add(&u, "1", APIKEY, "alice"), EC_OK);
    assert_int_equal(ec_serve_users_add(&u, "12", "ffffffffffffffffffffffffffffffff", NULL), EC_OK);
    uint8_t key[EC_KEY_LEN], want[EC_KEY_LEN];
    ec_key_from_hex(APIKEY, want);
    assert_int_equal(ec_serve_users_lookup(&u, "1", NULL, key), 0);
    assert_memory_equal(key, want, EC_KEY_LEN);
    /* Emoncms reads (int)"1abc" as user 1; so are "01" and " 1" */
    assert_int_equal(ec_serve_users_lookup(&u, "1abc", NULL, key), 0);
    assert_memory_equal(key, want, EC_KEY_LEN);
    assert_int_equal(ec_serve_users_lookup(&u, "01", NULL, key), 0);
    assert_int_equal(ec_serve_users_lookup(&u, " 1", NULL, key), 0);
    assert_int_equal(ec_serve_users_lookup(&u, "1.2e1", NULL, key), 0);   /* (int)"1.2e1" is 12 */
    assert_int_not_equal(memcmp(key, want, EC_KEY_LEN), 0);
    assert_int_equal(ec_serve_users_lookup(&u, "12", NULL, key), 0);
    assert_int_not_equal(memcmp(key, want, EC_KEY_LEN), 0);
    assert_int_equal(ec_serve_users_lookup(&u, "2", NULL, key), -1);
    assert_int_equal(ec_serve_users_lookup(&u, "abc", NULL, key), -1);   /* casts to 0 */
    assert_int_equal(ec_serve_users_lookup(&u, "", NULL, key), -1);
    assert_int_equal(ec_serve_users_lookup(&u, NULL, "alice", key), 0);
    assert_int_equal(ec_serve_users_lookup(&u, NULL, "bob", key), -1);
    /* bad input is refused */
    assert_int_equal(ec_serve_users_add(&u, "1x", APIKEY, NULL), EC_E_ARG);
    assert_int_equal(ec_serve_users_add(&u, "3", "0123", NULL), EC_E_KEY);
    ec_serve_users_free(&u);
}

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/emoncrypt-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_users_config_file(void **state)
{
    (void)state;
    ec_serve_users u = {0};
    char err[300];
    char *good = write_temp("{\"users\": [{\"userid\": 1, \"apikey\": \"" APIKEY "\", \"username\": \"alice\"},"
                            " {\"userid\": \"2\", \"apikey\": \"ffffffffffffffffffffffffffffffff\"}]}");
    assert_int_equal(ec_serve_users_load(&u, good, err, sizeof err), EC_OK);
    assert_int_equal(u.n, 2);
    assert_string_equal(u.items[0].username, "alice");
    assert_string_equal(u.items[1].userid, "2");
    ec_serve_users_free(&u);

    /* a bad key is named by position, never echoed */
    char *bad = write_temp("{\"users\": [{\"userid\": 1, \"apikey\": \"0123456789abcdef0123456789abcdeZ\"}]}");
    assert_int_equal(ec_serve_users_load(&u, bad, err, sizeof err), EC_E_KEY);
    assert_non_null(strstr(err, "users[0]"));
    assert_null(strstr(err, "0123456789abcdef"));
    ec_serve_users_free(&u);

    char *broken = write_temp("{\"users\": [");
    assert_int_equal(ec_serve_users_load(&u, broken, err, sizeof err), EC_E_JSON);
    assert_int_equal(ec_serve_users_load(&u, "/nonexistent/users.json", err, sizeof err), EC_E_IO);
    ec_serve_users_free(&u);
    unlink(good);
    unlink(bad);
    unlink(broken);
    free(good);
    free(bad);
    free(broken);
}

typedef struct {
    ec_serve_users users;
    ec_serve *server;
    char base[128];
    char *store;
    ec_http_client *http;
} fixture;

static void start(fixture *f, int strict, size_t max_body)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(ec_serve_users_add(&f->users, "7", APIKEY, NULL), EC_OK);
    f->store = strdup("/tmp/emoncrypt-store-XXXXXX");
    int fd = mkstemp(f->store);
    assert_true(fd >= 0);
    close(fd);
    ec_serve_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.users = &f->users;
    cfg.store_path = f->store;
    cfg.strict = strict;
    cfg.max_body = max_body;
    cfg.rows_endpoint = 1;
    char err[200];
    assert_int_equal(ec_serve_start(&cfg, &f->server, err, sizeof err), EC_OK);
    assert_true(ec_serve_port(f->server) > 0);
    ec_serve_base_url(f->server, f->base, sizeof f->base);
    f->http = ec_http_client_new();
}

static void stop(fixture *f)
{
    ec_http_client_free(f->http);
    ec_serve_stop(f->server);
    ec_serve_users_free(&f->users);
    unlink(f->store);
    free(f->store);
}

/* Build a correct request for plaintext and POST it. */
static void post(fixture *f, const char *plaintext, int flip_hmac, ec_request *r, ec_http_response *resp)
{
    ec_request_params p;
    memset(&p, 0, sizeof p);
    p.profile = EC_PROFILE_AES128CBC;
    p.endpoint = EC_ENDPOINT_POST;
    ec_key_from_hex(APIKEY, p.key);
    p.userid = "7";
    ec_random(p.iv, EC_IV_LEN);
    p.plaintext = (const uint8_t *)plaintext;
    p.plaintext_len = strlen(plaintext);
    ec_request_init(r);
    assert_int_equal(ec_request_build(&p, r), EC_OK);
    if (flip_hmac) {
        char *last = r->authorization + strlen(r->authorization) - 1;
        *last = *last == '0' ? '1' : '0';
    }
    char url[512];
    snprintf(url, sizeof url, "%s%s", f->base, r->path);
    ec_http_header h[2] = {{"Content-Type", r->content_type}, {"Authorization", r->authorization}};
    ec_http_client_request req;
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.url = url;
    req.headers = h;
    req.header_count = 2;
    req.body = (const unsigned char *)r->body;
    req.body_len = r->body_len;
    req.timeout_ms = 3000;
    memset(resp, 0, sizeof *resp);
    ec_http_client_send(f->http, &req, resp);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, fp);
    buf[n] = 0;
    fclose(fp);
    return buf;
}

static void test_serve_acks_and_stores_before_answering(void **state)
{
    (void)state;
    fixture f;
    start(&f, 0, 0);
    ec_request r;
    ec_http_response resp;
    post(&f, "node=unit&csv=4242,17", 0, &r, &resp);
    assert_int_equal(resp.error, EC_HTTP_ERR_NONE);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body_len, EC_ACK_LEN);
    assert_memory_equal(resp.body, r.ack, EC_ACK_LEN);
    ec_http_response_free(&resp);
    ec_request_free(&r);
    /* the rows are on disk as soon as the ack is read */
    char *text = slurp(f.store);
    assert_non_null(strstr(text, "\"node\":\"unit\""));
    assert_non_null(strstr(text, "\"value\":4242.0"));
    assert_non_null(strstr(text, "\"userid\":\"7\""));
    assert_null(strstr(text, APIKEY));
    free(text);

    /* a rejected request stores nothing */
    post(&f, "node=unit&csv=987654321,98", 1, &r, &resp);
    assert_string_equal((const char *)resp.body, "invalid data");
    ec_http_response_free(&resp);
    ec_request_free(&r);
    uint64_t requests = 0, accepted = 0, rows = 0;
    ec_serve_stats(f.server, &requests, &accepted, &rows);
    assert_int_equal(requests, 2);
    assert_int_equal(accepted, 1);
    assert_int_equal(rows, 2);

    /* the loopback read endpoint returns them, in order */
    char url[512];
    snprintf(url, sizeof url, "%s/emoncrypt/rows?node=unit", f.base);
    ec_http_client_request get;
    memset(&get, 0, sizeof get);
    get.method = "GET";
    get.url = url;
    ec_http_response rows_resp;
    memset(&rows_resp, 0, sizeof rows_resp);
    ec_http_client_send(f.http, &get, &rows_resp);
    assert_int_equal(rows_resp.status, 200);
    const char *b = (const char *)rows_resp.body;
    /* values are searched with their JSON neighbours: a bare "4242" could
     * be part of a timestamp */
    assert_non_null(strstr(b, ",4242.0,"));
    assert_non_null(strstr(b, ",17.0,"));
    assert_true(strstr(b, ",4242.0,") < strstr(b, ",17.0,"));
    assert_null(strstr(b, ",987654321.0,"));
    ec_http_response_free(&rows_resp);
    stop(&f);
}

static void test_serve_refuses_large_bodies_with_413(void **state)
{
    (void)state;
    fixture f;
    start(&f, 0, 1024);
    char url[512];
    snprintf(url, sizeof url, "%s/input/post", f.base);
    char *body = malloc(4096);
    memset(body, 'A', 4096);
    ec_http_header h[2] = {{"Content-Type", "aes128cbc"}, {"Authorization", "7:00"}};
    ec_http_client_request req;
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.url = url;
    req.headers = h;
    req.header_count = 2;
    req.body = (const unsigned char *)body;
    req.body_len = 4096;
    ec_http_response resp;
    memset(&resp, 0, sizeof resp);
    ec_http_client_send(f.http, &req, &resp);
    assert_int_equal(resp.status, 413);
    ec_http_response_free(&resp);
    free(body);
    stop(&f);
}

static void test_strict_serve_refuses_a_replay(void **state)
{
    (void)state;
    fixture f;
    start(&f, 1, 0);
    ec_request r;
    ec_http_response resp;
    post(&f, "node=unit&csv=1", 0, &r, &resp);
    assert_int_equal(resp.status, 200);
    assert_memory_equal(resp.body, r.ack, EC_ACK_LEN);
    ec_http_response_free(&resp);
    /* the very same bytes again */
    char url[512];
    snprintf(url, sizeof url, "%s%s", f.base, r.path);
    ec_http_header h[2] = {{"Content-Type", r.content_type}, {"Authorization", r.authorization}};
    ec_http_client_request req;
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.url = url;
    req.headers = h;
    req.header_count = 2;
    req.body = (const unsigned char *)r.body;
    req.body_len = r.body_len;
    memset(&resp, 0, sizeof resp);
    ec_http_client_send(f.http, &req, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal((const char *)resp.body, "invalid data");
    ec_http_response_free(&resp);
    ec_request_free(&r);
    uint64_t accepted = 0;
    ec_serve_stats(f.server, NULL, &accepted, NULL);
    assert_int_equal(accepted, 1);
    stop(&f);
}

static void test_unknown_mutant_is_refused(void **state)
{
    (void)state;
    ec_serve_users u = {0};
    ec_serve_users_add(&u, "1", APIKEY, NULL);
    ec_serve_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.users = &u;
    cfg.mutant = "no-such-mutant";
    ec_serve *s = NULL;
    char err[200] = "";
    assert_int_equal(ec_serve_start(&cfg, &s, err, sizeof err), EC_E_ARG);
    assert_null(s);
    assert_non_null(strstr(err, "no-such-mutant"));
    ec_serve_users_free(&u);
}

static int case_exists(const char *id)
{
    for (size_t i = 0; i < ec_server_suite_case_count(); i++)
        if (strcmp(ec_server_suite_case_id(i), id) == 0)
            return 1;
    return 0;
}

static void test_mutant_table(void **state)
{
    (void)state;
    size_t n;
    const ec_serve_mutant *m = ec_serve_mutants(&n);
    assert_true(n >= 15);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(m[i].name);
        assert_true(strlen(m[i].description) > 10);
        assert_true(m[i].hook != NULL || m[i].no_replay_cache);
        assert_true(case_exists(m[i].catching_case));
        assert_ptr_equal(ec_serve_mutant_find(m[i].name), &m[i]);
        for (size_t k = i + 1; k < n; k++)
            assert_string_not_equal(m[i].name, m[k].name);
    }
}

static void test_case_table(void **state)
{
    (void)state;
    size_t n = ec_server_suite_case_count();
    assert_true(n >= 80);
    for (size_t g = 0; g < srv_group_count; g++) {
        const srv_group *grp = &srv_groups[g];
        char prefix[64];
        snprintf(prefix, sizeof prefix, "server/%s/", grp->section);
        for (size_t i = 0; i < *grp->count; i++) {
            const srv_case *c = &grp->cases[i];
            /* the id says where its code is: server/4.auth/x -> s4_auth.c */
            assert_int_equal(strncmp(c->id, prefix, strlen(prefix)), 0);
            assert_true(strlen(c->requirement) > 20);
            assert_non_null(c->run);
            assert_true(c->profiles != 0);
        }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++)
            assert_string_not_equal(ec_server_suite_case_id(i), ec_server_suite_case_id(k));
}

/* Each table-driven case builds the request it claims: the protocol core
 * answers it with the intended fault (and, where it names one, the precise
 * inner cause).  Without this a case could silently test nothing. */
static const struct {
    const char *id;
    const char *compat;       /* fault name in compat */
    const char *detail;       /* inner cause, or NULL = any */
    const char *strict;       /* fault name in strict, NULL = same as compat, "*" = any */
} intents[] = {
    {"server/3.post/fulljson", "ok", NULL, NULL},
    {"server/3.post/block-multiple", "ok", NULL, NULL},
    {"server/3.post/b64-no-padding", "ok", NULL, NULL},
    {"server/3.post/std-alphabet", "ok", NULL, "strict-base64"},
    {"server/3.post/std-alphabet-no-padding", "ok", NULL, "strict-base64"},
    {"server/3.post/empty-plaintext", "app-error", NULL, "app-error"},
    {"server/3.bulk/sentat", "ok", NULL, NULL},
    {"server/3.bulk/iotawatt-shape", "ok", NULL, NULL},
    {"server/3.gz/post", "ok", NULL, NULL},
    {"server/3.gz/gzip-header", "app-error", "zlib", NULL},
    {"server/3.gz/not-compressed", "app-error", "zlib", NULL},
    {"server/3.gz/mac-over-inflated", "invalid-data", "hmac-mismatch", NULL},
    {"server/3.ctype/uppercase", "not-encrypted", NULL, NULL},
    {"server/3.ctype/with-parameter", "not-encrypted", NULL, NULL},
    {"server/3.ctype/absent", "not-encrypted", NULL, NULL},
    {"server/4.auth/missing-header", "auth-missing", NULL, NULL},
    {"server/4.auth/empty-value", "auth-format", NULL, NULL},
    {"server/4.auth/no-colon", "auth-format", NULL, NULL},
    {"server/4.auth/two-colons", "auth-format", NULL, NULL},
    {"server/4.auth/double-colon", "auth-format", NULL, NULL},
    {"server/4.auth/unknown-user", "user-unknown", NULL, NULL},
    {"server/4.auth/userid-text", "user-unknown", NULL, "strict-userid"},
    {"server/4.auth/userid-suffix", "ok", NULL, "strict-userid"},
    {"server/4.auth/userid-leading-zero", "ok", NULL, "strict-userid"},
    {"server/4.auth/hmac-empty", "invalid-data", NULL, NULL},
    {"server/4.body/empty", "body-empty", NULL, NULL},
    {"server/4.body/whitespace-only", "invalid-data", NULL, "strict-base64"},
    {"server/4.body/char-outside-alphabet", "ok", NULL, "strict-base64"},
    {"server/4.body/newline", "ok", NULL, "strict-base64"},
    {"server/4.body/non-ascii", "ok", NULL, "strict-base64"},
    {"server/4.body/padding-in-middle", "ok", NULL, "strict-base64"},
    {"server/4.body/extra-padding", "ok", NULL, "strict-base64"},
    {"server/4.body/trailing-bits", "ok", NULL, "strict-base64"},
    {"server/4.body/truncated-char", "invalid-data", NULL, "*"},   /* strict: base64 or decrypt */
    {"server/4.body/only-iv", "invalid-data", "ct-short", NULL},
    {"server/4.body/iv-plus-partial-block", "invalid-data", "ct-short", NULL},
    {"server/4.crypto/pad-zero", "invalid-data", "pad-zero", NULL},
    {"server/4.crypto/pad-range", "invalid-data", "pad-range", NULL},
    {"server/4.crypto/pad-bytes", "invalid-data", "pad-bytes", NULL},
    {"server/4.crypto/pad-full-block-bad", "invalid-data", "pad-bytes", NULL},
    {"server/4.crypto/ct-not-multiple-16", "invalid-data", "ct-length", NULL},
    {"server/4.crypto/iv-flipped", "invalid-data", "hmac-mismatch", NULL},
    {"server/4.crypto/hmac-wrong", "invalid-data", "hmac-mismatch", NULL},
    {"server/4.crypto/hmac-uppercase", "invalid-data", "hmac-mismatch", NULL},
    {"server/4.crypto/hmac-short", "invalid-data", "hmac-mismatch", NULL},
    {"server/4.crypto/hmac-long", "invalid-data", "hmac-mismatch", NULL},
    {"server/4.crypto/hmac-of-empty-valid-body", "invalid-data", "hmac-mismatch", NULL},
    {"server/4.crypto/hmac-over-ct", "invalid-data", "hmac-mismatch", NULL},
    {"server/4.crypto/hmac-plus-nul", "invalid-data", "hmac-mismatch", NULL},
    {"server/4.crypto/hmac-hex-key", "invalid-data", "hmac-mismatch", NULL},
    {"server/4.crypto/wrong-key", "invalid-data", NULL, NULL},
    {"server/4.crypto/zero-padding", "invalid-data", NULL, NULL},
    {"server/4.crypto/no-full-pad", "invalid-data", NULL, NULL},
    {"server/4.crypto/cbc-chain-bug", "invalid-data", NULL, NULL},
    {"server/4.quirk/get-method", "ok", NULL, "method"},
};

static const srv_case *find_case(const char *id)
{
    for (size_t g = 0; g < srv_group_count; g++)
        for (size_t i = 0; i < *srv_groups[g].count; i++)
            if (strcmp(srv_groups[g].cases[i].id, id) == 0)
                return &srv_groups[g].cases[i];
    return NULL;
}

static void test_cases_build_what_they_claim(void **state)
{
    (void)state;
    ec_server_suite_options opt;
    memset(&opt, 0, sizeof opt);
    opt.userid = "7";
    opt.apikey_hex = APIKEY;
    srv_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.opt = &opt;
    ctx.node = "emoncrypt_conformance";
    ctx.marker = 500000;
    ec_key_from_hex(APIKEY, ctx.key);
    snprintf(ctx.base, sizeof ctx.base, "http://127.0.0.1:1");
    for (int round = 0; round < 16; round++) {   /* random IVs: several draws */
        for (size_t i = 0; i < sizeof intents / sizeof intents[0]; i++) {
            const srv_case *c = find_case(intents[i].id);
            if (!c)
                fail_msg("no case %s", intents[i].id);
            assert_ptr_equal(c->run, srv_run_spec);
            srv_probe p;
            assert_int_equal(srv_build(&ctx, c->arg, srv_next_marker(&ctx), &p, NULL, NULL), 0);
            srv_expect compat, strict;
            assert_int_equal(srv_expect_answer(&ctx, &p, 0, &compat), 0);
            assert_int_equal(srv_expect_answer(&ctx, &p, 1, &strict), 0);
            if (strcmp(compat.fault, intents[i].compat) != 0 ||
                (intents[i].detail && strcmp(compat.detail, intents[i].detail) != 0) ||
                (!(intents[i].strict && strcmp(intents[i].strict, "*") == 0) &&
                 strcmp(strict.fault, intents[i].strict ? intents[i].strict : intents[i].compat) != 0))
                fail_msg("%s builds a request the core answers compat %s/%s, strict %s", intents[i].id,
                         compat.fault, compat.detail, strict.fault);
            srv_expect_free(&compat);
            srv_expect_free(&strict);
            srv_probe_free(&p);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_casts_user_ids_like_php),
        cmocka_unit_test(test_users_config_file),
        cmocka_unit_test(test_serve_acks_and_stores_before_answering),
        cmocka_unit_test(test_serve_refuses_large_bodies_with_413),
        cmocka_unit_test(test_strict_serve_refuses_a_replay),
        cmocka_unit_test(test_unknown_mutant_is_refused),
        cmocka_unit_test(test_mutant_table),
        cmocka_unit_test(test_case_table),
        cmocka_unit_test(test_cases_build_what_they_claim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
