/* emoncrypt tests — the per-request checks and the audit that no mutant
 * sender reaches: each case posts a few hand-made requests to the mock
 * server and expects one check's verdict.  One CMocka test per case, named
 * after the check id and the case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/client_suite.h"
#include "client/transport.h"
#include "emoncrypt/message.h"
#include "emoncrypt/report.h"

#define KEY "0123456789abcdef0123456789abcdef"

/* One request to send: a plaintext built into a correct request, then
 * edited as the case says. */
typedef struct {
    const char *plaintext;        /* NULL = a raw request (below) */
    int bulk;
    const char *method;           /* NULL = the builder's */
    const char *path_suffix;      /* appended to the path ("?apikey=…") */
    const char *content_type;     /* NULL = the builder's */
    const char *userid;           /* NULL = "1" */
    const char *auth_override;    /* NULL = the builder's */
    size_t plaintext_len;         /* 0 = strlen(plaintext) (for a NUL inside) */
    unsigned mistakes;            /* ec_mistake bits for the builder */
} one_request;

typedef struct {
    const char *name;
    one_request requests[3];
    size_t count;
    const char *check;
    ec_verdict verdict;
    int strict;                   /* run test-client --strict */
} check_case;

static const char post_pt[] = "node=emontx&fulljson={\"power1\":100,\"power2\":200}";

static const check_case cases[] = {
    {"uppercase-content-type", {{post_pt, 0, NULL, NULL, "AES128CBC", NULL, NULL, 0, 0}}, 1,
     "client/3.ctype/exact", EC_VERDICT_FAIL, 0},
    {"content-type-parameter", {{post_pt, 0, NULL, NULL, "aes128cbc; charset=utf-8", NULL, NULL, 0, 0}}, 1,
     "client/3.ctype/exact", EC_VERDICT_FAIL, 0},
    {"bearer-scheme", {{post_pt, 0, NULL, NULL, NULL, NULL, "Bearer 1:00", 0, 0}}, 1,
     "client/3.auth/format", EC_VERDICT_FAIL, 0},
    {"two-colons", {{post_pt, 0, NULL, NULL, NULL, NULL, "1:2:3", 0, 0}}, 1,
     "client/3.auth/format", EC_VERDICT_FAIL, 0},
    {"userid-cast", {{post_pt, 0, NULL, NULL, NULL, "1abc", NULL, 0, 0}}, 1,
     "client/3.auth/userid", EC_VERDICT_NON_STRICT, 0},
    {"userid-cast-strict", {{post_pt, 0, NULL, NULL, NULL, "1abc", NULL, 0, 0}}, 1,
     "client/3.auth/userid", EC_VERDICT_NON_STRICT, 1},
    {"other-user", {{post_pt, 0, NULL, NULL, NULL, "2", NULL, 0, 0}}, 1,
     "client/3.auth/userid", EC_VERDICT_FAIL, 0},
    {"get-with-body", {{post_pt, 0, "GET", NULL, NULL, NULL, NULL, 0, 0}}, 1,
     "client/3.route/method", EC_VERDICT_NON_STRICT, 0},
    {"wrong-path", {{post_pt, 0, NULL, "x", NULL, NULL, NULL, 0, 0}}, 1,
     "client/3.route/path", EC_VERDICT_FAIL, 0},
    {"piece-with-two-equals", {{"node=emontx&fulljson={\"a\":1}&x=1=2", 0, NULL, NULL, NULL, NULL, NULL, 0, 0}},
     1, "client/5.plaintext/grammar", EC_VERDICT_FAIL, 0},
    {"bad-json", {{"node=emontx&fulljson={\"a\":", 0, NULL, NULL, NULL, NULL, NULL, 0, 0}}, 1,
     "client/4.answer/accepted", EC_VERDICT_FAIL, 0},
    {"string-value", {{"time=1764000000&data=[[0,\"emontx\",\"high\",2]]", 1, NULL, NULL, NULL, NULL, NULL, 0, 0}},
     1, "client/5.values/numeric", EC_VERDICT_FAIL, 0},
    {"null-value", {{"time=1764000000&data=[[0,\"emontx\",null,2]]", 1, NULL, NULL, NULL, NULL, NULL, 0, 0}},
     1, "client/5.values/numeric", EC_VERDICT_PASS, 0},
    {"node-renamed", {{"time=1764000000&data=[[0,\"emon/tx!\",1,2]]", 1, NULL, NULL, NULL, NULL, NULL, 0, 0}},
     1, "client/5.node/characters", EC_VERDICT_NON_STRICT, 0},
    {"back-in-time",
     {{"time=1764000100&data=[[0,\"emontx\",1,2]]", 1, NULL, NULL, NULL, NULL, NULL, 0, 0},
      {"time=1764000000&data=[[0,\"emontx\",3,4]]", 1, NULL, NULL, NULL, NULL, NULL, 0, 0}},
     2, "client/7.time/never-backwards", EC_VERDICT_FAIL, 0},
    {"relative-time-mode", {{"data=[[0,\"emontx\",1],[10,\"emontx\",2]]&sentat=10", 1, NULL, NULL, NULL,
                             NULL, NULL, 0, 0}},
     1, "client/5.time/mode", EC_VERDICT_INFO, 0},
    {"same-reading-twice", {{post_pt, 0, NULL, NULL, NULL, NULL, NULL, 0, 0},
                            {post_pt, 0, NULL, NULL, NULL, NULL, NULL, 0, 0}},
     2, "client/7.ack/no-duplicates", EC_VERDICT_INFO, 0},
    {"same-rows-twice",
     {{"time=1764000000&data=[[0,\"emontx\",1,2]]", 1, NULL, NULL, NULL, NULL, NULL, 0, 0},
      {"time=1764000000&data=[[0,\"emontx\",1,2]]", 1, NULL, NULL, NULL, NULL, NULL, 0, 0}},
     2, "client/7.ack/no-duplicates", EC_VERDICT_FAIL, 0},
    /* issue 11 point 6: Emoncms's input filter removes the NUL, and PHP's
     * is_numeric("0\r") is true: stored as 0, accepted (grammar too) */
    {"cr-nul-value", {{"node=emontx&csv=0\r\0", 0, NULL, NULL, NULL, NULL, NULL, 19, 0}}, 1,
     "client/5.values/numeric", EC_VERDICT_PASS, 0},
    {"cr-nul-value-grammar", {{"node=emontx&csv=0\r\0", 0, NULL, NULL, NULL, NULL, NULL, 19, 0}}, 1,
     "client/5.plaintext/grammar", EC_VERDICT_PASS, 0},
    {"nul-between-values", {{"node=emontx&csv=1\0,2", 0, NULL, NULL, NULL, NULL, NULL, 20, 0}}, 1,
     "client/5.values/numeric", EC_VERDICT_PASS, 0},
    {"spaced-json-value", {{"node=emontx&json={a: 5 }", 0, NULL, NULL, NULL, NULL, NULL, 0, 0}}, 1,
     "client/5.values/numeric", EC_VERDICT_PASS, 0},
    {"fulljson-cr-string", {{"node=emontx&fulljson={\"a\":\"5\\r\"}", 0, NULL, NULL, NULL, NULL, NULL, 0, 0}}, 1,
     "client/5.values/numeric", EC_VERDICT_PASS, 0},
    {"csv-not-numeric", {{"node=emontx&csv=1,5x", 0, NULL, NULL, NULL, NULL, NULL, 0, 0}}, 1,
     "client/5.values/numeric", EC_VERDICT_FAIL, 0},
    {"fulljson-not-numeric", {{"node=emontx&fulljson={\"a\":\"high\"}", 0, NULL, NULL, NULL, NULL, NULL, 0, 0}}, 1,
     "client/5.values/numeric", EC_VERDICT_FAIL, 0},
    /* issue 11 point 7: the tolerance table, as in the server role */
    {"std-alphabet", {{"node=emontx&csv=1,2,3,4,5,6,7,8,9", 0, NULL, NULL, NULL, NULL, NULL, 0,
                       EC_MISTAKE_STD_ALPHABET}}, 1,
     "client/3.body/alphabet", EC_VERDICT_NON_STRICT, 0},
    {"std-alphabet-strict", {{"node=emontx&csv=1,2,3,4,5,6,7,8,9", 0, NULL, NULL, NULL, NULL, NULL, 0,
                              EC_MISTAKE_STD_ALPHABET}}, 1,
     "client/3.body/alphabet", EC_VERDICT_NON_STRICT, 1},
    {"basic-auth-side-request", {{NULL, 0, "GET", "/input/get?node=emontx", NULL, NULL,
                                  /* base64("admin:" KEY) */
                                  "Basic YWRtaW46MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", 0, 0}},
     1, "client/7.apikey/not-in-clear", EC_VERDICT_FAIL, 0},
    {"key-in-form-field", {{NULL, 0, "POST", "/input/post", "application/x-www-form-urlencoded",
                            NULL, NULL, 0, 0}},
     1, "client/7.apikey/not-in-clear", EC_VERDICT_FAIL, 0},
};

static void send_one(cs_transport *t, const char *base, const one_request *q, int seq)
{
    char url[512];
    cs_http_answer a;
    if (q->plaintext == NULL) {
        /* Raw: a side request, or a form post with the key in a field. */
        snprintf(url, sizeof url, "%s%s", base, q->path_suffix);
        const char *headers[] = {q->auth_override ? "Authorization" : "Content-Type",
                                 q->auth_override ? q->auth_override : q->content_type,
                                 NULL};
        static const char form[] = "apikey=" KEY "&node=emontx&fulljson={\"power1\":1}";
        int is_post = strcmp(q->method, "POST") == 0;
        assert_int_equal(cs_transport_send(t, q->method, url, headers, is_post ? form : NULL,
                                           is_post ? sizeof form - 1 : 0, 10000, &a), 0);
        cs_http_answer_free(&a);
        return;
    }
    ec_request_params p;
    memset(&p, 0, sizeof p);
    p.profile = EC_PROFILE_AES128CBC;
    p.endpoint = q->bulk ? EC_ENDPOINT_BULK : EC_ENDPOINT_POST;
    ec_key_from_hex(KEY, p.key);
    p.userid = q->userid ? q->userid : "1";
    for (int i = 0; i < EC_IV_LEN; i++)
        p.iv[i] = (uint8_t)(0xa5 ^ (seq * 17 + i * 29));
    p.plaintext = (const uint8_t *)q->plaintext;
    p.plaintext_len = q->plaintext_len ? q->plaintext_len : strlen(q->plaintext);
    p.mistakes = q->mistakes;
    ec_request r;
    ec_request_init(&r);
    assert_int_equal(ec_request_build(&p, &r), EC_OK);
    snprintf(url, sizeof url, "%s%s%s", base, r.path, q->path_suffix ? q->path_suffix : "");
    const char *headers[] = {"Content-Type", q->content_type ? q->content_type : r.content_type,
                             "Authorization", q->auth_override ? q->auth_override : r.authorization,
                             NULL};
    assert_int_equal(cs_transport_send(t, q->method ? q->method : r.method, url, headers, r.body,
                                       r.body_len, 10000, &a), 0);   /* generous: valgrind on a loaded machine */
    assert_true(a.complete);
    cs_http_answer_free(&a);
    ec_request_free(&r);
}

static void test_case(void **state)
{
    const check_case *c = *state;
    ec_client_suite_options so;
    memset(&so, 0, sizeof so);
    so.listen = "127.0.0.1:0";
    so.userid = "1";
    so.apikey_hex = KEY;
    so.scenario = "happy";
    so.strict = c->strict;
    ec_client_suite *suite = NULL;
    char err[256];
    assert_int_equal(ec_client_suite_start(&so, &suite, err, sizeof err), EC_OK);
    char base[128];
    ec_client_suite_url(suite, base, sizeof base);
    cs_transport *t = cs_transport_new();
    assert_non_null(t);
    for (size_t i = 0; i < c->count; i++)
        send_one(t, base, &c->requests[i], (int)i);
    cs_transport_free(t);

    ec_report *report = ec_report_new("client", "client", base);
    ec_report_set_secret(report, KEY, 0);
    ec_client_suite_finish(suite, report);
    ec_client_suite_free(suite);
    int found = 0;
    for (size_t i = 0; i < ec_report_count(report); i++) {
        const ec_case_result *r = ec_report_result(report, i);
        if (strcmp(r->id, c->check) != 0)
            continue;
        found = 1;
        if (r->verdict != c->verdict)
            fprintf(stderr, "%s: %s is %s, expected %s: %s\n", c->name, c->check,
                    ec_verdict_name(r->verdict), ec_verdict_name(c->verdict),
                    r->message ? r->message : "");
        assert_int_equal(r->verdict, c->verdict);
        /* --strict: the NON-STRICT verdict is kept and counts as a failure. */
        assert_int_equal(ec_report_is_failure(report, r),
                         c->verdict == EC_VERDICT_FAIL ||
                             (c->strict && c->verdict == EC_VERDICT_NON_STRICT));
        /* No message ever holds the key. */
        assert_null(r->message ? strstr(r->message, KEY) : NULL);
    }
    assert_true(found);
    ec_report_free(report);
}

int main(void)
{
    enum { N = sizeof cases / sizeof cases[0] };
    struct CMUnitTest tests[N];
    static char names[N][128];
    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "%s/%s", cases[i].check, cases[i].name);
        tests[i] = (struct CMUnitTest){names[i], test_case, NULL, NULL,
                                       (void *)(uintptr_t)&cases[i]};
    }
    return _cmocka_run_group_tests("client_checks", tests, N, NULL, NULL);
}
