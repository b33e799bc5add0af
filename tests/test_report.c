/* Reports: each writer on a small run, the key redacted everywhere, and
 * hostile text (quotes, &, <, bytes that are not UTF-8) kept well-formed. */
#define _GNU_SOURCE /* open_memstream is POSIX; memmem and strcasestr are GNU */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emoncrypt/report.h"

/* The key and every form it can take in output. */
static const char KEY[] = "00112233445566778899aabbccddeeff";
static const char KEY_UPPER[] = "00112233445566778899AABBCCDDEEFF";
static const char KEY_B64[] = "ABEiM0RVZneImaq7zN3u/w==";
static const char KEY_B64URL_BARE[] = "ABEiM0RVZneImaq7zN3u_w";
static const unsigned char KEY_RAW[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                          0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

static ec_report *small_report(int show_secrets)
{
    ec_report *r = ec_report_new("server", "server", "http://127.0.0.1:8080/?apikey=00112233445566778899aabbccddeeff");
    assert_non_null(r);
    assert_int_equal(ec_report_set_secret(r, KEY, show_secrets), EC_OK);

    ec_case_result pass = {
        .id = "server/4.auth/missing-header",
        .requirement = "Authorization present, else `missing authorization header`.",
        .verdict = EC_VERDICT_PASS,
        .expected = (const unsigned char *)"missing authorization header",
        .expected_len = 28,
        .actual = (const unsigned char *)"missing authorization header",
        .actual_len = 28,
        .diff_offset = -1,
        .message = "answered as Emoncms does",
        .sent = "POST /input/post, 1 header, 44 B",
        .repro = "curl -H 'Content-Type: aes128cbc' http://127.0.0.1:8080/input/post",
        .elapsed_ms = 3,
    };
    assert_int_equal(ec_report_add(r, &pass), EC_OK);

    unsigned char actual[64];
    memcpy(actual, "invalid data ", 13);
    memcpy(actual + 13, KEY_RAW, 16); /* the raw key leaking in an answer */
    ec_case_result fail = {
        .id = "server/4.crypto/bad-padding",
        .requirement = "One indistinguishable answer \"invalid data\" for every crypto failure & <no> oracle.",
        .verdict = EC_VERDICT_FAIL,
        .expected = (const unsigned char *)"invalid data",
        .expected_len = 12,
        .actual = actual,
        .actual_len = 29,
        .diff_offset = -1,
        .message = "server said \"bad\" <padding> & more \xff\xfe (key 00112233445566778899AABBCCDDEEFF)",
        .sent = "body base64 ABEiM0RVZneImaq7zN3u/w== and ABEiM0RVZneImaq7zN3u_w",
        .repro = "curl -sS -H 'Authorization: 1:abc' 'http://127.0.0.1:8080/input/post?apikey="
                 "00112233445566778899aabbccddeeff'",
        .elapsed_ms = 12,
    };
    assert_int_equal(ec_report_add(r, &fail), EC_OK);

    ec_case_result skip = {
        .id = "server/6.legacy/form",
        .verdict = EC_VERDICT_SKIP,
        .diff_offset = -1,
        .message = "legacy profile not selected",
    };
    assert_int_equal(ec_report_add(r, &skip), EC_OK);

    ec_case_result nonstrict = {
        .id = "server/3.body/lenient-base64",
        .section = "3",
        .verdict = EC_VERDICT_NON_STRICT,
        .diff_offset = -1,
        .message = "accepted whitespace inside base64",
        .elapsed_ms = 2,
    };
    assert_int_equal(ec_report_add(r, &nonstrict), EC_OK);
    ec_case_result info = {
        .id = "server/4.ack/timing",
        .verdict = EC_VERDICT_INFO,
        .diff_offset = -1,
        .message = "ack in 2 ms",
    };
    assert_int_equal(ec_report_add(r, &info), EC_OK);
    return r;
}

typedef int (*writer_fn)(const ec_report *, FILE *);

static int console_plain(const ec_report *r, FILE *f) { return ec_report_write_console(r, f, 0, 0); }
static int console_verbose(const ec_report *r, FILE *f) { return ec_report_write_console(r, f, 0, 1); }

static char *render(const ec_report *r, writer_fn w, size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    assert_non_null(f);
    assert_int_equal(w(r, f), 0);
    fclose(f);
    /* A plain heap copy: GCC 12 at -O2 mistakes pointers into the
     * memstream buffer for pointers to the local that named it. */
    char *copy = malloc(n + 1);
    assert_non_null(copy);
    memcpy(copy, text, n + 1);
    free(text);
    if (len)
        *len = n;
    return copy;
}

static void assert_no_secret(const char *text, size_t len)
{
    assert_null(strcasestr(text, KEY));
    assert_null(strstr(text, KEY_B64));
    assert_null(strstr(text, "ABEiM0RVZneImaq7zN3u"));
    assert_null(strstr(text, KEY_B64URL_BARE));
    assert_null(memmem(text, len, KEY_RAW + 1, 15));
    assert_non_null(strstr(text, "[REDACTED]"));
}

/* ---- tests --------------------------------------------------------------- */

static void verdicts_sections_and_diff(void **state)
{
    (void)state;
    assert_string_equal(ec_verdict_name(EC_VERDICT_NON_STRICT), "NON-STRICT");
    assert_int_equal(ec_verdict_from_name("non-strict"), EC_VERDICT_NON_STRICT);
    assert_int_equal(ec_verdict_from_name("maybe"), -1);
    ec_report *r = small_report(0);
    assert_int_equal(ec_report_count(r), 5);
    assert_string_equal(ec_report_result(r, 0)->section, "4");
    assert_string_equal(ec_report_result(r, 2)->section, "6");
    assert_string_equal(ec_report_result(r, 3)->section, "3");
    assert_int_equal(ec_report_result(r, 0)->diff_offset, -1);
    assert_int_equal(ec_report_result(r, 1)->diff_offset, 12); /* "invalid data" then more */
    assert_null(ec_report_result(r, 5));
    ec_report_totals t = ec_report_get_totals(r);
    assert_int_equal(t.total, 5);
    assert_int_equal(t.by_verdict[EC_VERDICT_FAIL], 1);
    assert_int_equal(t.by_verdict[EC_VERDICT_SKIP], 1);
    assert_int_equal(ec_report_exit_code(r), 1);
    ec_case_result bad = {.id = NULL};
    assert_int_equal(ec_report_add(r, &bad), EC_E_ARG);
    ec_report_free(r);

    ec_report *ok = ec_report_new("client", "client", "device");
    ec_case_result p = {.id = "client/3.iv/fresh", .verdict = EC_VERDICT_PASS, .diff_offset = -1};
    assert_int_equal(ec_report_add(ok, &p), EC_OK);
    assert_int_equal(ec_report_exit_code(ok), 0);
    ec_report_free(ok);
}

/* INCOMPLETE (issue 11): its own name in every writer, exit code 2 when it
 * is the only problem, 1 as soon as there is a FAIL too. */
static void incomplete_is_its_own_verdict(void **state)
{
    (void)state;
    assert_string_equal(ec_verdict_name(EC_VERDICT_INCOMPLETE), "INCOMPLETE");
    assert_int_equal(ec_verdict_from_name("incomplete"), EC_VERDICT_INCOMPLETE);
    ec_report *r = ec_report_new("client", "client", "device");
    ec_case_result p = {.id = "client/7.scenario/happy", .verdict = EC_VERDICT_PASS,
                        .diff_offset = -1};
    ec_case_result i = {.id = "client/7.scenario/http-500", .verdict = EC_VERDICT_INCOMPLETE,
                        .message = "not completed: run with --duration 160", .diff_offset = -1};
    assert_int_equal(ec_report_add(r, &p), EC_OK);
    assert_int_equal(ec_report_add(r, &i), EC_OK);
    assert_int_equal(ec_report_exit_code(r), 2);
    assert_int_equal(ec_report_get_totals(r).by_verdict[EC_VERDICT_INCOMPLETE], 1);
    for (int f = EC_REPORT_CONSOLE; f <= EC_REPORT_HTML; f++) {
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        assert_non_null(out);
        if (f == EC_REPORT_CONSOLE)
            assert_int_equal(ec_report_write_console(r, out, 0, 0), 0);
        else if (f == EC_REPORT_JUNIT)
            assert_int_equal(ec_report_write_junit(r, out), 0);
        else if (f == EC_REPORT_JSON)
            assert_int_equal(ec_report_write_json(r, out), 0);
        else
            assert_int_equal(ec_report_write_html(r, out), 0);
        fclose(out);
        assert_non_null(strstr(text, "INCOMPLETE"));
        if (f == EC_REPORT_CONSOLE)
            assert_non_null(strstr(text, "result: INCOMPLETE"));
        if (f == EC_REPORT_JUNIT) /* counted as skipped, never as a failure */
            assert_non_null(strstr(text, "failures=\"0\" errors=\"0\" skipped=\"1\""));
        if (f == EC_REPORT_JSON)
            assert_non_null(strstr(text, "\"exit_code\": 2"));
        free(text);
    }
    ec_case_result x = {.id = "client/2.iv/fresh", .verdict = EC_VERDICT_FAIL, .diff_offset = -1};
    assert_int_equal(ec_report_add(r, &x), EC_OK);
    assert_int_equal(ec_report_exit_code(r), 1);
    ec_report_free(r);
}

static void redact_every_form(void **state)
{
    (void)state;
    char text[200];
    int n = snprintf(text, sizeof text, "a %s b %s c %s d %s e ", KEY, KEY_UPPER, KEY_B64,
                     KEY_B64URL_BARE);
    memcpy(text + n, KEY_RAW, 16);
    char *out = ec_redact(text, (size_t)n + 16, KEY);
    assert_string_equal(out, "a [REDACTED] b [REDACTED] c [REDACTED] d [REDACTED] e [REDACTED]");
    free(out);
    out = ec_redact("no secret here", 14, NULL);
    assert_string_equal(out, "no secret here");
    free(out);
    out = ec_redact("pw=hunter2;", 11, "hunter2"); /* not a key: literal */
    assert_string_equal(out, "pw=[REDACTED];");
    free(out);
}

/* Several keys at once (serve: one per user), and a key found by its
 * place whatever its value (a peer's key no one configured); with no key
 * at all (--show-secrets) nothing changes. */
static void redact_keys_and_places(void **state)
{
    (void)state;
    const char *keys[] = {KEY, "fedcba9876543210fedcba9876543210"};
    char text[256];
    snprintf(text, sizeof text, "POST /input/post/%s?x=FEDCBA9876543210FEDCBA9876543210"
             "&apikey=c0ffee&node=1 Authorization: Bearer abc.def\n{\"apikey\":\"zz\"} apikey=&",
             KEY);
    char *out = ec_redact_keys(text, strlen(text), keys, 2);
    assert_non_null(out);
    assert_string_equal(out, "POST /input/post/[REDACTED]?x=[REDACTED]&apikey=[REDACTED]&node=1 "
                             "Authorization: Bearer [REDACTED]\n{\"apikey\":\"[REDACTED]\"} "
                             "apikey=&");
    free(out);
    out = ec_redact_keys(text, strlen(text), NULL, 0);
    assert_string_equal(out, text);
    free(out);
    char line[256] = "";
    FILE *f = fmemopen(line, sizeof line, "w");
    assert_non_null(f);
    ec_redact_printf(f, keys, 1, "GET %s?apikey=%s -> %d\n", "/input/get", KEY, 200);
    fclose(f);
    assert_string_equal(line, "GET /input/get?apikey=[REDACTED] -> 200\n");
}

static void console_marks_the_failure(void **state)
{
    (void)state;
    ec_report *r = small_report(0);
    size_t len;
    char *text = render(r, console_plain, &len);
    assert_no_secret(text, len);
    assert_null(strchr(text, '\033'));
    assert_non_null(strstr(text, "PASS       server/4.auth/missing-header  answered as Emoncms does  (3 ms)\n"));
    assert_non_null(strstr(text, "FAIL       server/4.crypto/bad-padding"));
    assert_non_null(strstr(text, "      section:     4\n"));
    /* The caret sits under byte 12 of the shown actual value. */
    const char *exp = strstr(text, "      expected:    invalid data   (12 bytes)\n");
    const char *act = strstr(text, "      actual:      invalid data [REDACTED]   (29 bytes)\n");
    assert_non_null(exp);
    assert_non_null(act);
    const char *caret = strstr(text, "^ first difference at byte 12\n");
    assert_non_null(caret);
    const char *line = caret;
    while (line > text && line[-1] != '\n')
        line--;
    assert_int_equal(caret - line, 19 + 12);
    assert_non_null(strstr(text, "      repro:       curl -sS -H 'Authorization: 1:abc'"));
    /* Non-UTF-8 bytes are shown, not emitted. */
    assert_non_null(strstr(text, "\\xff\\xfe"));
    /* Only FAIL gets details unless verbose. */
    assert_null(strstr(text, "id:          server/4.auth/missing-header"));
    assert_non_null(strstr(text, "5 cases, 1 PASS, 1 FAIL, 1 NON-STRICT, 1 INFO, 1 SKIP"));
    assert_non_null(strstr(text, "result: FAIL\n"));
    free(text);
    text = render(r, console_verbose, &len);
    assert_non_null(strstr(text, "id:          server/4.auth/missing-header"));
    assert_no_secret(text, len);
    free(text);

    char *colored = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&colored, &n);
    assert_int_equal(ec_report_write_console(r, f, 1, 0), 0);
    fclose(f);
    assert_non_null(strstr(colored, "\033[1;31mFAIL"));
    free(colored);
    ec_report_free(r);
}

static void console_windows_long_values(void **state)
{
    (void)state;
    ec_report *r = ec_report_new("s", "server", "t");
    unsigned char exp[300], act[300];
    memset(exp, 'a', sizeof exp);
    memcpy(act, exp, sizeof act);
    act[250] = 'B';
    ec_case_result c = {.id = "server/5.x/long", .verdict = EC_VERDICT_FAIL,
                        .expected = exp, .expected_len = 300, .actual = act, .actual_len = 300,
                        .diff_offset = -1};
    assert_int_equal(ec_report_add(r, &c), EC_OK);
    char *text = render(r, console_plain, NULL);
    const char *act_line = strstr(text, "      actual:      ...");
    assert_non_null(act_line);
    const char *b = strchr(act_line, 'B');
    const char *caret = strstr(text, "^ first difference at byte 250");
    assert_non_null(b);
    assert_non_null(caret);
    const char *caret_line = caret;
    while (caret_line[-1] != '\n')
        caret_line--;
    assert_int_equal(caret - caret_line, b - act_line);
    free(text);
    ec_report_free(r);
}

static int have_xmllint(void) { return access("/usr/bin/xmllint", X_OK) == 0; }

static int run_xmllint(const char *args, const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/xmllint --noout %s '%s' 2>&1", args, path);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void junit_is_valid_and_grouped(void **state)
{
    (void)state;
    ec_report *r = small_report(0);
    size_t len;
    char *text = render(r, ec_report_write_junit, &len);
    assert_no_secret(text, len);
    assert_true(strncmp(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", 50) == 0);
    /* One testsuite per section, in order of first appearance: 4, 6, 3. */
    const char *s4 = strstr(text, "<testsuite name=\"server SPEC 4\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\"");
    const char *s6 = strstr(text, "<testsuite name=\"server SPEC 6\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\"");
    const char *s3 = strstr(text, "<testsuite name=\"server SPEC 3\" tests=\"1\"");
    assert_non_null(s4);
    assert_non_null(s6);
    assert_non_null(s3);
    assert_true(s4 < s6 && s6 < s3);
    /* skipped: the SKIP, the NON-STRICT (not strict) and the INFO. */
    assert_non_null(strstr(text, "<testsuites name=\"server\" tests=\"5\" failures=\"1\" errors=\"0\" skipped=\"3\""));
    assert_non_null(strstr(text, "<testcase name=\"server/4.crypto/bad-padding\" classname=\"server.section4\" time=\"0.012\" status=\"FAIL\">"));
    /* NON-STRICT and INFO are visible to CI reporters: a <skipped> whose
     * message and text name the verdict, and a property per case. */
    assert_non_null(strstr(text, "<skipped message=\"NON-STRICT: accepted whitespace inside base64\" type=\"NON-STRICT\">NON-STRICT: accepted whitespace inside base64\n</skipped>"));
    assert_non_null(strstr(text, "<skipped message=\"INFO: ack in 2 ms\" type=\"INFO\">INFO: ack in 2 ms\n</skipped>"));
    assert_non_null(strstr(text, "<property name=\"server/3.body/lenient-base64\" value=\"NON-STRICT\"/>"));
    assert_non_null(strstr(text, "<property name=\"server/4.ack/timing\" value=\"INFO\"/>"));
    assert_non_null(strstr(text, "<property name=\"strict\" value=\"false\"/>"));
    assert_non_null(strstr(text, "status=\"NON-STRICT\""));
    assert_non_null(strstr(text, "<failure message=\"server said &quot;bad&quot; &lt;padding&gt; &amp; more \\xff\\xfe (key [REDACTED])\" type=\"FAIL\">"));
    assert_non_null(strstr(text, "first difference at byte 12"));
    assert_non_null(strstr(text, "<skipped message=\"legacy profile not selected\" type=\"SKIP\">legacy profile not selected\n</skipped>"));
    assert_non_null(strstr(text, "&quot;invalid data&quot; for every crypto failure &amp; &lt;no&gt; oracle."));
    /* Nothing outside well-formed UTF-8 made it through. */
    assert_null(strchr(text, '\xff'));

    if (have_xmllint()) {
        char path[] = "/tmp/emoncrypt-junit-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t)len);
        close(fd);
        assert_int_equal(run_xmllint("", path), 0);
        char schema[512];
        snprintf(schema, sizeof schema, "--schema '%s/tests/data/junit.xsd'", EMONCRYPT_SOURCE_DIR);
        assert_int_equal(run_xmllint(schema, path), 0);
        unlink(path);
    } else {
        /* Without xmllint, at least the tags balance. */
        size_t open = 0, close_ = 0;
        for (const char *p = text; (p = strstr(p, "<testcase ")); p++)
            open++;
        for (const char *p = text; (p = strstr(p, "</testcase>")); p++)
            close_++;
        assert_int_equal(open, 5);
        assert_int_equal(close_, 5);
    }
    free(text);
    ec_report_free(r);
}

static void write_to_file(const char *text, size_t len, char *path)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* Issue 13 point 2: --strict means one thing in every writer. */
static void strict_makes_non_strict_a_failure(void **state)
{
    (void)state;
    ec_report *r = ec_report_new("client", "client", "device");
    ec_case_result ns = {.id = "client/3.route/method", .verdict = EC_VERDICT_NON_STRICT,
                         .message = "GET with a body", .diff_offset = -1, .repro = "curl x"};
    ec_case_result info = {.id = "client/4.answer/timing", .verdict = EC_VERDICT_INFO,
                           .message = "answered in 3 ms", .diff_offset = -1};
    assert_int_equal(ec_report_add(r, &ns), EC_OK);
    assert_int_equal(ec_report_add(r, &info), EC_OK);
    assert_false(ec_report_is_strict(r));
    assert_false(ec_report_is_failure(r, ec_report_result(r, 0)));
    assert_int_equal(ec_report_exit_code(r), 0);
    char *text = render(r, console_plain, NULL);
    assert_non_null(strstr(text, "result: OK\n"));
    free(text);

    ec_report_set_strict(r, 1);
    assert_int_equal(ec_report_set_run(r, "aes128cbcgz", 0, 1500), EC_OK);
    assert_true(ec_report_is_strict(r));
    assert_true(ec_report_is_failure(r, ec_report_result(r, 0)));
    assert_false(ec_report_is_failure(r, ec_report_result(r, 1))); /* INFO never fails */
    assert_int_equal(ec_report_exit_code(r), 1);
    /* the verdict itself is kept */
    assert_int_equal(ec_report_result(r, 0)->verdict, EC_VERDICT_NON_STRICT);

    text = render(r, console_plain, NULL);
    assert_non_null(strstr(text, "strict: the 1 NON-STRICT count as failures\nresult: FAIL\n"));
    assert_non_null(strstr(text, "      repro:       curl x\n")); /* details, as for a FAIL */
    free(text);

    size_t len;
    text = render(r, ec_report_write_junit, &len);
    assert_non_null(strstr(text, "<testsuites name=\"client\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"1\" time=\"1.500\">"));
    assert_non_null(strstr(text, "<failure message=\"NON-STRICT (--strict): GET with a body\" type=\"NON-STRICT\">"));
    assert_non_null(strstr(text, "<skipped message=\"INFO: answered in 3 ms\" type=\"INFO\">"));
    assert_non_null(strstr(text, "<property name=\"strict\" value=\"true\"/>"));
    assert_non_null(strstr(text, "<property name=\"profile\" value=\"aes128cbcgz\"/>"));
    assert_non_null(strstr(text, "<property name=\"client/3.route/method\" value=\"NON-STRICT\"/>"));
    if (have_xmllint()) {
        char path[] = "/tmp/emoncrypt-junit-strict-XXXXXX";
        write_to_file(text, len, path);
        char schema[512];
        snprintf(schema, sizeof schema, "--schema '%s/tests/data/junit.xsd'", EMONCRYPT_SOURCE_DIR);
        assert_int_equal(run_xmllint(schema, path), 0);
        unlink(path);
    }
    free(text);

    text = render(r, ec_report_write_json, NULL);
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    assert_non_null(root);
    assert_true(json_is_true(json_object_get(root, "strict")));
    assert_string_equal(json_string_value(json_object_get(root, "profile")), "aes128cbcgz");
    assert_int_equal(json_integer_value(json_object_get(root, "duration_ms")), 1500);
    assert_int_equal(json_integer_value(json_object_get(root, "exit_code")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "totals"), "failures")), 1);
    json_t *results = json_object_get(root, "results");
    assert_true(json_is_true(json_object_get(json_array_get(results, 0), "failure")));
    assert_true(json_is_false(json_object_get(json_array_get(results, 1), "failure")));
    json_decref(root);
    free(text);

    text = render(r, ec_report_write_html, NULL);
    assert_non_null(strstr(text, "result: <b class=\"FAIL\">FAIL</b>"));
    assert_non_null(strstr(text, "<dt>profile</dt><dd>aes128cbcgz, --strict</dd>"));
    assert_non_null(strstr(text, "<dt>exit code</dt><dd>1</dd>"));
    assert_non_null(strstr(text, "<h2>NON-STRICT (1)</h2>\n<p class=\"note\">What Emoncms does but the "
                                 "strict profile does not allow: each one is a failure of this run"));
    /* its card is a failure card, marked as one */
    assert_non_null(strstr(text, "<article class=\"case card failure\" data-verdict=\"NON-STRICT\""));
    assert_non_null(strstr(text, "<span class=\"why\">a failure: --strict</span>"));
    free(text);
    ec_report_free(r);
}

static void json_round_trips(void **state)
{
    (void)state;
    ec_report *r = small_report(0);
    size_t len;
    char *text = render(r, ec_report_write_json, &len);
    assert_no_secret(text, len);
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "suite")), "server");
    assert_string_equal(json_string_value(json_object_get(root, "target")),
                        "http://127.0.0.1:8080/?apikey=[REDACTED]");
    json_t *totals = json_object_get(root, "totals");
    assert_int_equal(json_integer_value(json_object_get(totals, "total")), 5);
    assert_int_equal(json_integer_value(json_object_get(totals, "FAIL")), 1);
    assert_int_equal(json_integer_value(json_object_get(root, "exit_code")), 1);
    json_t *results = json_object_get(root, "results");
    assert_int_equal(json_array_size(results), 5);
    json_t *fail = json_array_get(results, 1);
    assert_string_equal(json_string_value(json_object_get(fail, "verdict")), "FAIL");
    assert_int_equal(json_integer_value(json_object_get(fail, "diff_offset")), 12);
    assert_string_equal(json_string_value(json_object_get(fail, "actual")), "invalid data [REDACTED]");
    assert_int_equal(json_integer_value(json_object_get(fail, "actual_len")), 29);
    assert_string_equal(json_string_value(json_object_get(fail, "message")),
                        "server said \"bad\" <padding> & more \\xff\\xfe (key [REDACTED])");
    json_t *skip = json_array_get(results, 2);
    assert_true(json_is_null(json_object_get(skip, "expected")));
    assert_true(json_is_null(json_object_get(skip, "diff_offset")));
    json_decref(root);
    free(text);
    ec_report_free(r);
}

static void html_is_self_contained_and_escaped(void **state)
{
    (void)state;
    ec_report *r = small_report(0);
    size_t len;
    char *text = render(r, ec_report_write_html, &len);
    assert_no_secret(text, len);
    assert_true(strncmp(text, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(text, "</html>\n"));
    /* Self-contained: the script and the style are inline, nothing is fetched. */
    assert_non_null(strstr(text, "<script>\n"));
    assert_null(strstr(text, "<script src"));
    assert_null(strstr(text, " src="));
    assert_null(strstr(text, "http-equiv"));
    assert_null(strstr(text, "<link"));
    /* Issue 13 point 3: summary, then failures, then NON-STRICT, then all. */
    const char *summary = strstr(text, "<header id=\"summary\">");
    const char *fails = strstr(text, "<section id=\"failures\">\n<h2>Failures (1)</h2>");
    const char *ns = strstr(text, "<section id=\"non-strict\">\n<h2>NON-STRICT (1)</h2>");
    const char *all = strstr(text, "<section id=\"all\">\n<h2>Every case by section (5)</h2>");
    assert_non_null(summary);
    assert_non_null(fails);
    assert_non_null(ns);
    assert_non_null(all);
    assert_true(summary < fails && fails < ns && ns < all);
    assert_non_null(strstr(text, "result: <b class=\"FAIL\">FAIL</b>"));
    assert_non_null(strstr(text, "<dt>version</dt><dd>emoncrypt "));
    assert_non_null(strstr(text, "<dt>target</dt><dd><code>http://127.0.0.1:8080/?apikey=[REDACTED]</code>"));
    /* the failure card, in its section group, before any PASS row */
    const char *card = strstr(text, "<article class=\"case card failure\" data-verdict=\"FAIL\" "
                                    "data-text=\"server/4.crypto/bad-padding §4 fail server said");
    assert_non_null(card);
    assert_true(fails < card && card < ns);
    assert_non_null(strstr(fails, "<section class=\"group\"><h3>§4 — <span class=\"count\">1</span></h3>"));
    const char *ns_card = strstr(text, "<article class=\"case card\" data-verdict=\"NON-STRICT\"");
    assert_true(ns_card && ns < ns_card && ns_card < all);
    assert_true(strstr(text, "<tr class=\"case \" data-verdict=\"PASS\"") > all);
    /* section groups with their counts */
    assert_non_null(strstr(all, "§4 — 3 cases, <span class=\"PASS\">1 PASS</span>, "
                                "<span class=\"FAIL\">1 FAIL</span>, <span class=\"INFO\">1 INFO</span>"));
    assert_non_null(strstr(text, "server said &quot;bad&quot; &lt;padding&gt; &amp; more \\xff\\xfe"));
    assert_non_null(strstr(text, "<pre>invalid data<mark> [REDACTED]</mark></pre>"));
    assert_non_null(strstr(text, "<details class=\"group\" open=\"open\"><summary>§4"));
    assert_null(strchr(text, '\xff'));
    if (have_xmllint()) {
        char path[] = "/tmp/emoncrypt-html-XXXXXX";
        int fd = mkstemp(path);
        assert_int_equal(write(fd, text, len), (ssize_t)len);
        close(fd);
        assert_int_equal(run_xmllint("", path) /* the page is well-formed XML too */, 0);
        unlink(path);
    }
    free(text);
    ec_report_free(r);
}

/* Escapes the suites put in messages ({\x22success\x22…) are shown as the
 * character, HTML-escaped; control bytes stay escaped. */
static void html_shows_text_readable(void **state)
{
    (void)state;
    ec_report *r = ec_report_new("server", "server", "http://t");
    ec_case_result c = {.id = "server/4.oracle/x", .verdict = EC_VERDICT_FAIL, .diff_offset = -1,
                        .message = "got 200 \"{\\x22success\\x22: false}\" and \\x01 <b>"};
    assert_int_equal(ec_report_add(r, &c), EC_OK);
    char *text = render(r, ec_report_write_html, NULL);
    assert_non_null(strstr(text, "<p class=\"msg\">got 200 &quot;{&quot;success&quot;: false}&quot; "
                                 "and \\x01 &lt;b&gt;</p>"));
    assert_null(strstr(text, "\\x22"));
    /* No failure: the page says so first. */
    ec_report *ok = ec_report_new("server", "server", "http://t");
    ec_case_result p = {.id = "server/3.post/a", .verdict = EC_VERDICT_PASS, .diff_offset = -1};
    assert_int_equal(ec_report_add(ok, &p), EC_OK);
    char *oktext = render(ok, ec_report_write_html, NULL);
    assert_non_null(strstr(oktext, "<h2>Failures (0)</h2>\n<p class=\"none\">No failures.</p>"));
    assert_non_null(strstr(oktext, "result: <b class=\"PASS\">OK</b>"));
    free(oktext);
    ec_report_free(ok);
    free(text);
    ec_report_free(r);
}

static void show_secrets_turns_redaction_off(void **state)
{
    (void)state;
    ec_report *r = small_report(1);
    char *text = render(r, ec_report_write_json, NULL);
    assert_non_null(strstr(text, KEY));
    assert_null(strstr(text, "[REDACTED]"));
    free(text);
    ec_report_free(r);
}

static void write_path_and_formats(void **state)
{
    (void)state;
    assert_int_equal(ec_report_format_from_name("junit"), EC_REPORT_JUNIT);
    assert_int_equal(ec_report_format_from_name("html"), EC_REPORT_HTML);
    assert_int_equal(ec_report_format_from_name("xml"), -1);
    ec_report *r = small_report(0);
    char path[] = "/tmp/emoncrypt-report-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    assert_int_equal(ec_report_write_path(r, EC_REPORT_JSON, path), 0);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    assert_non_null(root);
    json_decref(root);
    unlink(path);
    assert_int_equal(ec_report_write_path(r, EC_REPORT_JSON, "/nonexistent-dir/x.json"), -1);
    ec_report_free(r);
}

static void progress_is_silent_off_a_terminal(void **state)
{
    (void)state;
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    int saved = dup(STDERR_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    ec_report_progress(1, 3, "server/4.auth/missing-header");
    ec_report_progress(3, 3, "server/4.auth/other");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(pipefd[1]);
    char buf[64];
    assert_int_equal(read(pipefd[0], buf, sizeof buf), 0);
    close(pipefd[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verdicts_sections_and_diff),
        cmocka_unit_test(incomplete_is_its_own_verdict),
        cmocka_unit_test(redact_every_form),
        cmocka_unit_test(redact_keys_and_places),
        cmocka_unit_test(console_marks_the_failure),
        cmocka_unit_test(console_windows_long_values),
        cmocka_unit_test(junit_is_valid_and_grouped),
        cmocka_unit_test(strict_makes_non_strict_a_failure),
        cmocka_unit_test(json_round_trips),
        cmocka_unit_test(html_is_self_contained_and_escaped),
        cmocka_unit_test(html_shows_text_readable),
        cmocka_unit_test(show_secrets_turns_redaction_off),
        cmocka_unit_test(write_path_and_formats),
        cmocka_unit_test(progress_is_silent_off_a_terminal),
    };
    return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
