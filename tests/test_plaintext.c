/* Unit tests: Emoncms's reading of a plaintext (plaintext.h) — the
 * key=value split, URL query parsing, the name filter with UTF-8, PHP's
 * number conversions, and input/post, input/bulk and the 2017 method with
 * their exact error texts.  PHP facts here were checked with php -r
 * (PHP 8.2). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emoncrypt/plaintext.h"

#define NOW 1700000000

static void parse(ec_params *p, const char *s)
{
    ec_params_init(p);
    assert_int_equal(ec_params_parse_emoncms(p, s, strlen(s)), EC_OK);
}

/* ---- the split ---------------------------------------------------------- */

static void split_keeps_only_two_part_pieces(void **state)
{
    (void)state;
    ec_params p;
    parse(&p, "node=emontx&note=a=b&csv=1,2&flag&&=empty-key&v=");
    assert_string_equal(ec_params_get(&p, "node"), "emontx");
    assert_null(ec_params_get(&p, "note"));      /* a value with '=' is dropped */
    assert_null(ec_params_get(&p, "flag"));      /* one part only */
    assert_string_equal(ec_params_get(&p, "csv"), "1,2");
    assert_string_equal(ec_params_get(&p, ""), "empty-key");
    assert_string_equal(ec_params_get(&p, "v"), "");
    assert_int_equal(p.n, 4);
    ec_params_free(&p);
}

static void split_later_duplicate_wins_in_first_position(void **state)
{
    (void)state;
    ec_params p;
    parse(&p, "node=a&csv=1&node=b");
    assert_int_equal(p.n, 2);
    assert_string_equal(p.items[0].key, "node");
    assert_string_equal(p.items[0].value, "b");
    ec_params_free(&p);
}

static void split_does_no_decoding_and_tolerates_empty_input(void **state)
{
    (void)state;
    ec_params p;
    parse(&p, "node=a%20b+c&json={a:1}");
    assert_string_equal(ec_params_get(&p, "node"), "a%20b+c");
    assert_string_equal(ec_params_get(&p, "json"), "{a:1}");
    ec_params_free(&p);
    parse(&p, "");
    assert_int_equal(p.n, 0);
    ec_params_free(&p);
    parse(&p, "&&&");
    assert_int_equal(p.n, 0);
    ec_params_free(&p);
}

static void split_adds_to_url_parameters(void **state)
{
    (void)state;
    ec_params p;
    ec_params_init(&p);
    const char *q = "time=5&node=url";
    const char *pt = "node=plain&csv=1";
    assert_int_equal(ec_params_parse_query(&p, q, strlen(q)), EC_OK);
    assert_int_equal(ec_params_parse_emoncms(&p, pt, strlen(pt)), EC_OK);
    assert_string_equal(ec_params_get(&p, "time"), "5");
    assert_string_equal(ec_params_get(&p, "node"), "plain");
    assert_string_equal(p.items[1].key, "node");
    ec_params_free(&p);
}

static void query_is_decoded_like_php_get(void **state)
{
    (void)state;
    ec_params p;
    ec_params_init(&p);
    const char *q = "data=%5B%5B0%2C%22n%22%2C1%5D%5D&a+b=1&x.y=2&flag&&note=it%5C%27s&bad=%zz";
    assert_int_equal(ec_params_parse_query(&p, q, strlen(q)), EC_OK);
    assert_string_equal(ec_params_get(&p, "data"), "[[0,\"n\",1]]");
    assert_string_equal(ec_params_get(&p, "a_b"), "1");     /* ' ' and '.' become '_' */
    assert_string_equal(ec_params_get(&p, "x_y"), "2");
    assert_string_equal(ec_params_get(&p, "flag"), "");
    assert_string_equal(ec_params_get(&p, "note"), "it's");  /* stripslashes */
    assert_string_equal(ec_params_get(&p, "bad"), "%zz");
    ec_params_free(&p);
}

/* ---- the name filter ---------------------------------------------------- */

static void filter_check(const char *in, int is_node, const char *want)
{
    char *out = ec_filter_name(in, strlen(in), is_node);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
}

static void filter_keeps_unicode_letters_and_digits(void **state)
{
    (void)state;
    filter_check("em<o>n!tx", 1, "emontx");
    filter_check("Küche", 1, "Küche");
    filter_check("θερμό", 1, "θερμό");
    filter_check("電力", 1, "電力");
    filter_check("pv☀1", 1, "pv1");                  /* a symbol is not a letter */
    filter_check("a_b-c.d e", 0, "a_b-c.d e");
    filter_check("x²½Ⅻ", 0, "x²½Ⅻ");                /* \p{N}: No and Nl too */
    filter_check("e\xcc\x81", 0, "e");                /* a combining mark is no letter */
    filter_check("a\xc2\xa0" "b\xe2\x80\x83" "c", 0, "a\xc2\xa0" "b\xe2\x80\x83" "c"); /* \s */
    filter_check("a\xe2\x80\x8b" "b", 0, "ab");       /* U+200B is not \s */
    filter_check("\"power1\"", 0, "power1");
}

static void filter_empty_and_invalid_utf8(void **state)
{
    (void)state;
    filter_check("", 1, "0");
    filter_check("!!!", 1, "0");
    filter_check("!!!", 0, "");
    filter_check("ok\xff", 1, "0");          /* preg_replace gives NULL: "" -> 0 */
    filter_check("ok\xc0\x80", 0, "");       /* an overlong NUL */
    filter_check("\xed\xa0\x80", 0, "");     /* a surrogate */
}

/* ---- PHP numbers -------------------------------------------------------- */

static void php_is_numeric_and_intval(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int numeric;
        int64_t intval;
    } cases[] = {
        {"123", 1, 123}, {" 1", 1, 1}, {"1 ", 1, 1}, {"1e5", 1, 100000}, {"+.5", 1, 0},
        {"-", 0, 0}, {"1e", 0, 1}, {"0x10", 0, 0}, {" ", 0, 0}, {"", 0, 0},
        {"  -12abc", 0, -12}, {"1.9e2", 1, 190}, {"1e1000", 1, 0},
        {"99999999999999999999", 1, INT64_MAX}, {"-9999999999999999999", 1, INT64_MIN},
        {"1abc", 0, 1}, {"abc", 0, 0}, {"5.", 1, 5}, {".", 0, 0}, {"1699999999.9", 1, 1699999999},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (ec_php_is_numeric(cases[i].s) != cases[i].numeric ||
            ec_php_intval(cases[i].s) != cases[i].intval)
            fail_msg("\"%s\": is_numeric %d intval %lld, PHP says %d %lld", cases[i].s,
                     ec_php_is_numeric(cases[i].s), (long long)ec_php_intval(cases[i].s),
                     cases[i].numeric, (long long)cases[i].intval);
    }
}

/* Differential check against the real engine: random strings through PHP's
 * is_numeric, (int) and Emoncms's preg_replace filter, and through ours.
 * Skipped when php-cli is not installed. */
static const char *const pieces[] = {
    "0", "1", "9", "12", " ", "\t", "\n", ".", "e", "E", "+", "-", "x", "a", "_",
    "\xc3\xbc", "\xce\xb8", "\xe9\x9b\xbb", "\xe2\x98\x80", "\xc2\xa0", "\xcc\x81",
    "\xc2\xb2", "!", "\"", ":", ",", "\xff", "\xc3", "1e3", "99999999999999999999",
};

static void differs_from_php_nowhere(void **state)
{
    (void)state;
    if (system("php -v >/dev/null 2>&1") != 0)
        skip();
    char in_path[] = "/tmp/emoncrypt-php-XXXXXX";
    int fd = mkstemp(in_path);
    assert_true(fd >= 0);
    FILE *in = fdopen(fd, "w");
    assert_non_null(in);
    enum { N = 400 };
    static char strings[N][128];   /* at most 5 pieces of 20 bytes */
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        strings[i][0] = '\0';
        int parts = 1 + i % 5;
        for (int k = 0; k < parts; k++) {
            seed = seed * 1103515245u + 12345u;
            strcat(strings[i], pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])]);
        }
        for (const char *c = strings[i]; *c; c++)
            fprintf(in, "%02x", (unsigned char)*c);
        fputc('\n', in);
    }
    fclose(in);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "php -r 'while (($l = fgets(STDIN)) !== false) { $s = hex2bin(rtrim($l)); "
             "echo is_numeric($s) ? 1 : 0, \" \", (int)$s, \" \", "
             "bin2hex((string)preg_replace(\"/[^\\\\p{N}\\\\p{L}_\\\\s\\\\-.]/u\", \"\", $s)), \"\\n\"; }' < %s",
             in_path);
    FILE *php = popen(cmd, "r");
    assert_non_null(php);
    int checked = 0;
    for (int i = 0; i < N; i++) {
        int numeric;
        long long intval;
        char line[512], hex[256] = "";
        if (fgets(line, sizeof line, php) == NULL ||
            sscanf(line, "%d %lld %255[0-9a-f]", &numeric, &intval, hex) < 2)
            break;
        char *ours = ec_filter_name(strings[i], strlen(strings[i]), 0);
        assert_non_null(ours);
        char ours_hex[256] = "";
        for (size_t k = 0; ours[k] && k < 120; k++)
            sprintf(ours_hex + 2 * k, "%02x", (unsigned char)ours[k]);
        free(ours);
        if (numeric != ec_php_is_numeric(strings[i]) || intval != ec_php_intval(strings[i]) ||
            strcmp(hex, ours_hex) != 0)
            fail_msg("string %d: PHP says %d %lld [%s], we say %d %lld [%s]", i, numeric,
                     intval, hex, ec_php_is_numeric(strings[i]),
                     (long long)ec_php_intval(strings[i]), ours_hex);
        checked++;
    }
    pclose(php);
    unlink(in_path);
    assert_int_equal(checked, N);
}

/* ---- the application ---------------------------------------------------- */

typedef struct {
    ec_dataset rows;
    ec_app_result res;
} run;

static void run_app(ec_api api, const char *plaintext, const char *path_node, run *r)
{
    ec_params p;
    parse(&p, plaintext);
    ec_dataset_init(&r->rows);
    assert_int_equal(ec_app_run(api, &p, path_node, NOW, 32, &r->rows, &r->res), EC_OK);
    ec_params_free(&p);
}

static void expect_error(ec_api api, const char *plaintext, const char *message)
{
    run r;
    run_app(api, plaintext, NULL, &r);
    if (r.res.status != EC_F_APP || strcmp(r.res.message, message) != 0)
        fail_msg("%s: got \"%s\", expected \"%s\"", plaintext, r.res.message, message);
    ec_dataset_free(&r.rows);
}

static void expect_row(const run *r, size_t i, int64_t time, const char *node,
                       const char *name, double value, int is_null)
{
    assert_true(i < r->rows.n);
    const ec_row *row = &r->rows.rows[i];
    if (row->time != time || strcmp(row->node, node) != 0 || strcmp(row->name, name) != 0 ||
        row->value != value || row->is_null != is_null)
        fail_msg("row %zu is [%lld,%s,%s,%g,%d], expected [%lld,%s,%s,%g,%d]", i,
                 (long long)row->time, row->node, row->name, row->value, row->is_null,
                 (long long)time, node, name, value, is_null);
}

static void post_forms(void **state)
{
    (void)state;
    run r;
    run_app(EC_API_POST, "node=emontx&fulljson={\"power1\":100,\"power2\":200.5,\"a\":\"12abc\",\"b\":null,\"c\":\"null\"}", NULL, &r);
    assert_int_equal(r.res.status, EC_OK);
    assert_int_equal(r.rows.n, 5);
    expect_row(&r, 0, NOW, "emontx", "power1", 100, 0);
    expect_row(&r, 1, NOW, "emontx", "power2", 200.5, 0);
    expect_row(&r, 2, NOW, "emontx", "a", 12, 0);
    expect_row(&r, 3, NOW, "emontx", "b", 0, 1);
    expect_row(&r, 4, NOW, "emontx", "c", 0, 1);
    ec_dataset_free(&r.rows);

    run_app(EC_API_POST, "node=emontx&json={\"po!wer\":1,b: 2,c:null,d:1:2}", NULL, &r);
    assert_int_equal(r.res.status, EC_OK);
    assert_int_equal(r.rows.n, 4);
    expect_row(&r, 0, NOW, "emontx", "power", 1, 0);
    expect_row(&r, 1, NOW, "emontx", "b", 2, 0);
    expect_row(&r, 2, NOW, "emontx", "c", 0, 1);
    expect_row(&r, 3, NOW, "emontx", "d", 1, 0);
    ec_dataset_free(&r.rows);

    /* positions count only bare values */
    run_app(EC_API_POST, "node=n&csv=5,a:7,9", NULL, &r);
    assert_int_equal(r.rows.n, 3);
    expect_row(&r, 0, NOW, "n", "1", 5, 0);
    expect_row(&r, 1, NOW, "n", "a", 7, 0);
    expect_row(&r, 2, NOW, "n", "2", 9, 0);
    ec_dataset_free(&r.rows);

    run_app(EC_API_POST, "data=1.5,-2,.25,1e2", NULL, &r);
    assert_int_equal(r.rows.n, 4);
    expect_row(&r, 0, NOW, "0", "1", 1.5, 0);      /* no node: node 0 */
    expect_row(&r, 3, NOW, "0", "4", 100, 0);
    ec_dataset_free(&r.rows);

    run_app(EC_API_POST, "node=plain&csv=1", "path", &r);
    expect_row(&r, 0, NOW, "path", "1", 1, 0);
    ec_dataset_free(&r.rows);
    run_app(EC_API_POST, "node=plain&csv=1", "0", &r);   /* "0" is falsy in PHP */
    expect_row(&r, 0, NOW, "plain", "1", 1, 0);
    ec_dataset_free(&r.rows);

    run_app(EC_API_POST, "node=n&fulljson=[10,20]", NULL, &r);
    expect_row(&r, 0, NOW, "n", "0", 10, 0);
    expect_row(&r, 1, NOW, "n", "1", 20, 0);
    ec_dataset_free(&r.rows);
}

static void post_time_modes(void **state)
{
    (void)state;
    run r;
    run_app(EC_API_POST, "node=n&time=1699999999.9&csv=1", NULL, &r);
    expect_row(&r, 0, 1699999999, "n", "1", 1, 0);
    ec_dataset_free(&r.rows);
    run_app(EC_API_POST, "node=n&time=2023-11-14 22:13:20&csv=1", NULL, &r);
    expect_row(&r, 0, 1700000000, "n", "1", 1, 0);
    ec_dataset_free(&r.rows);
    run_app(EC_API_POST, "node=n&time=2023-11-14T22:13:20+01:00&csv=1", NULL, &r);
    expect_row(&r, 0, 1699996400, "n", "1", 1, 0);
    ec_dataset_free(&r.rows);
    run_app(EC_API_POST, "node=n&time=garbage&csv=1", NULL, &r);
    expect_row(&r, 0, NOW, "n", "1", 1, 0);
    ec_dataset_free(&r.rows);
    /* the fulljson time key sets the time and is no input ... */
    run_app(EC_API_POST, "node=n&fulljson={\"time\":1699999000,\"p\":5}", NULL, &r);
    assert_int_equal(r.rows.n, 1);
    expect_row(&r, 0, 1699999000, "n", "p", 5, 0);
    ec_dataset_free(&r.rows);
    /* ... unless time= is given: then it is an input named time */
    run_app(EC_API_POST, "node=n&time=1699990000&fulljson={\"time\":1699999000,\"p\":5}", NULL, &r);
    assert_int_equal(r.rows.n, 2);
    expect_row(&r, 0, 1699990000, "n", "time", 1699999000, 0);
    ec_dataset_free(&r.rows);
    /* "Time" sets the time but only the lowercase key is removed */
    run_app(EC_API_POST, "node=n&fulljson={\"Time\":1699999000,\"p\":5}", NULL, &r);
    assert_int_equal(r.rows.n, 2);
    expect_row(&r, 0, 1699999000, "n", "Time", 1699999000, 0);
    ec_dataset_free(&r.rows);
}

static void post_errors(void **state)
{
    (void)state;
    expect_error(EC_API_POST, "node=n&foo=1", "Request contains no data via csv, json or data tag");
    expect_error(EC_API_POST, "node=n&csv=", "Request contains no data via csv, json or data tag");
    expect_error(EC_API_POST, "node=n&fulljson={\"a\":{\"b\":1}}", "Input in not a valid JSON object");
    expect_error(EC_API_POST, "node=n&fulljson={\"a\":1", "Input in not a valid JSON object");
    expect_error(EC_API_POST, "node=n&fulljson=5", "Input in not a valid JSON object");
    expect_error(EC_API_POST, "node=n&json={a:abc}", "Format error, json value is not numeric");
    expect_error(EC_API_POST, "node=n&json={:5}", "Format error, json key missing or invalid character");
    expect_error(EC_API_POST, "node=n&csv=1,abc", "Format error: csv value is not numeric");
    expect_error(EC_API_POST, "node=n&csv=1\xff", "Format error: csv value is not numeric");
}

static void bulk_time_modes(void **state)
{
    (void)state;
    run r;
    run_app(EC_API_BULK, "data=[[0,\"a\",1],[10,\"a\",2]]&sentat=10", NULL, &r);
    expect_row(&r, 0, NOW - 10, "a", "1", 1, 0);
    expect_row(&r, 1, NOW, "a", "1", 2, 0);
    ec_dataset_free(&r.rows);
    run_app(EC_API_BULK, "data=[[-10,\"a\",1],[-5,\"a\",2]]&offset=-10", NULL, &r);
    expect_row(&r, 0, NOW, "a", "1", 1, 0);
    expect_row(&r, 1, NOW + 5, "a", "1", 2, 0);
    ec_dataset_free(&r.rows);
    run_app(EC_API_BULK, "data=[[0,\"a\",1],[1.9,\"a\",2]]&time=1699990000", NULL, &r);
    expect_row(&r, 0, 1699990000, "a", "1", 1, 0);
    expect_row(&r, 1, 1699990001, "a", "1", 2, 0);
    ec_dataset_free(&r.rows);
    run_app(EC_API_BULK, "data=[[0,16,1137],[2,17,1437,3164],[4,19,1412,3077]]", NULL, &r);
    expect_row(&r, 0, NOW - 4, "16", "1", 1137, 0);
    expect_row(&r, 4, NOW, "19", "2", 3077, 0);
    ec_dataset_free(&r.rows);
    /* precedence: sentat > offset > time */
    run_app(EC_API_BULK, "data=[[5,\"n\",1]]&time=1600000000&offset=3&sentat=5", NULL, &r);
    expect_row(&r, 0, NOW, "n", "1", 1, 0);
    ec_dataset_free(&r.rows);
    run_app(EC_API_BULK, "data=[[0,\"n\",1]]&sentat=abc", NULL, &r);
    expect_row(&r, 0, NOW, "n", "1", 1, 0);
    ec_dataset_free(&r.rows);
}

static void bulk_values(void **state)
{
    (void)state;
    run r;
    run_app(EC_API_BULK, "data=[[0,\"n\",null,\"5\",\"abc\",\"\",7.5,{\"power\":100,\"t\":null},9]]&sentat=0",
            NULL, &r);
    assert_int_equal(r.res.status, EC_OK);
    assert_int_equal(r.rows.n, 8);
    expect_row(&r, 0, NOW, "n", "1", 0, 1);
    expect_row(&r, 1, NOW, "n", "2", 5, 0);
    expect_row(&r, 2, NOW, "n", "3", 0, 0);
    expect_row(&r, 3, NOW, "n", "4", 0, 0);
    expect_row(&r, 4, NOW, "n", "5", 7.5, 0);
    expect_row(&r, 5, NOW, "n", "power", 100, 0);
    expect_row(&r, 6, NOW, "n", "t", 0, 1);
    expect_row(&r, 7, NOW, "n", "6", 9, 0);      /* the object took no position */
    ec_dataset_free(&r.rows);
    run_app(EC_API_BULK, "data=[[0,\"a\"],[1,null,2],[1,\"\",3],[1,\"K\xc3\xbc!\",4]]&sentat=1", NULL, &r);
    assert_int_equal(r.rows.n, 3);
    expect_row(&r, 0, NOW, "0", "1", 2, 0);
    expect_row(&r, 1, NOW, "0", "1", 3, 0);
    expect_row(&r, 2, NOW, "K\xc3\xbc", "1", 4, 0);
    ec_dataset_free(&r.rows);
    /* float nodes go through PHP's (string): precision 14, "1.0E+20" */
    run_app(EC_API_BULK, "data=[[0,1.5,1],[0,1e20,2],[0,1e-7,3]]&sentat=0", NULL, &r);
    assert_int_equal(r.rows.n, 3);
    expect_row(&r, 0, NOW, "1.5", "1", 1, 0);
    expect_row(&r, 1, NOW, "1.0E20", "1", 2, 0);
    expect_row(&r, 2, NOW, "1.0E-7", "1", 3, 0);
    ec_dataset_free(&r.rows);
}

static void bulk_node_cap_keeps_earlier_rows(void **state)
{
    (void)state;
    char pt[2048] = "data=[";
    for (int i = 0; i < 33; i++) {
        char item[32];
        snprintf(item, sizeof item, "%s[0,\"n%d\",%d]", i ? "," : "", i, i);
        strcat(pt, item);
    }
    strcat(pt, "]&sentat=0");
    run r;
    run_app(EC_API_BULK, pt, NULL, &r);
    assert_int_equal(r.res.status, EC_F_APP);
    assert_string_equal(r.res.message, "Error: Reached the maximal allowed number of different "
                                       "NodeIds, limit is 32. Node 'n32' was ignored.");
    assert_int_equal(r.rows.n, 32);
    ec_dataset_free(&r.rows);
    char body[256];
    size_t len;
    assert_int_equal(ec_app_error_body(r.res.message, body, sizeof body, &len), EC_OK);
    assert_string_equal(body, "{\"success\": false, \"message\": \"Error: Reached the maximal "
                              "allowed number of different NodeIds, limit is 32. Node 'n32' was ignored.\"}");
    assert_int_equal(len, strlen(body));
    assert_int_equal(ec_app_error_body("say \"hi\"", body, sizeof body, &len), EC_OK);
    assert_string_equal(body, "{\"success\": false, \"message\": \"say 'hi'\"}");
    assert_int_equal(ec_app_error_body("say \"hi\"", body, 20, &len), EC_E_BUFFER);
}

static void bulk_errors(void **state)
{
    (void)state;
    expect_error(EC_API_BULK, "data=[[0,\"n\",1]&sentat=0", "Format error, json string supplied is not valid");
    expect_error(EC_API_BULK, "data=[]&sentat=0", "Format error, json string supplied is not valid");
    expect_error(EC_API_BULK, "sentat=0", "Format error, json string supplied is not valid");
    expect_error(EC_API_BULK, "data=0", "Format error, json string supplied is not valid");
    expect_error(EC_API_BULK, "data=[[0,\"n\",1],[]]", "Format error, last item in bulk data does not contain any data");
    expect_error(EC_API_BULK, "data=[[0,\"n\",1],[null,\"n\",2]]", "Format error, last item in bulk data does not contain any data");
    expect_error(EC_API_BULK, "data=[[0,{\"a\":1},1]]", "Format error, node must not be an object");
    expect_error(EC_API_BULK, "data=[[0,\"n\",1]]&c=1", "Format error, compressed hex not valid");
    /* PHP 8 throws a TypeError on count() of an object: HTTP 500 */
    run r;
    run_app(EC_API_BULK, "data={\"a\":1}", NULL, &r);
    assert_int_equal(r.res.status, EC_F_APP);
    assert_int_equal(r.res.http_status, 500);
    ec_dataset_free(&r.rows);
    /* a rejected later item keeps the earlier rows */
    run_app(EC_API_BULK, "data=[[0,\"n\",1],[1,{\"x\":1},2]]&sentat=0", NULL, &r);
    assert_string_equal(r.res.message, "Format error, node must not be an object");
    assert_int_equal(r.rows.n, 1);
    ec_dataset_free(&r.rows);
}

static void legacy_rules(void **state)
{
    (void)state;
    ec_dataset d;
    ec_app_result res;
    ec_dataset_init(&d);
    const char *json = "[[1699999000,\"n\",null,2,\"\",{\"a\":1,\"b\":2},3],[1,\"m\"]]";
    assert_int_equal(ec_app_run_legacy(json, strlen(json), &d, &res), EC_OK);
    assert_int_equal(res.status, EC_OK);
    assert_int_equal(d.n, 3);
    assert_string_equal(d.rows[0].name, "2");     /* null and "" skipped, positions kept */
    assert_true(d.rows[0].value == 2);
    assert_string_equal(d.rows[1].name, "a");     /* an object's first key only */
    assert_string_equal(d.rows[2].name, "4");
    assert_int_equal(d.rows[2].time, 1699999000);
    ec_dataset_free(&d);
    static const char *const bad[] = {"node=emontx&csv=1", "[]", "", "0"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(ec_app_run_legacy(bad[i], strlen(bad[i]), &d, &res), EC_OK);
        assert_int_equal(res.status, EC_F_APP);
        assert_string_equal(res.message, "Invalid data string or encryption key");
        ec_dataset_free(&d);
    }
    json = "[[1699999000,{\"a\":1},5]]";
    assert_int_equal(ec_app_run_legacy(json, strlen(json), &d, &res), EC_OK);
    assert_string_equal(res.message, "Format error, node must not be an object");
    ec_dataset_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_keeps_only_two_part_pieces),
        cmocka_unit_test(split_later_duplicate_wins_in_first_position),
        cmocka_unit_test(split_does_no_decoding_and_tolerates_empty_input),
        cmocka_unit_test(split_adds_to_url_parameters),
        cmocka_unit_test(query_is_decoded_like_php_get),
        cmocka_unit_test(filter_keeps_unicode_letters_and_digits),
        cmocka_unit_test(filter_empty_and_invalid_utf8),
        cmocka_unit_test(php_is_numeric_and_intval),
        cmocka_unit_test(differs_from_php_nowhere),
        cmocka_unit_test(post_forms),
        cmocka_unit_test(post_time_modes),
        cmocka_unit_test(post_errors),
        cmocka_unit_test(bulk_time_modes),
        cmocka_unit_test(bulk_values),
        cmocka_unit_test(bulk_node_cap_keeps_earlier_rows),
        cmocka_unit_test(bulk_errors),
        cmocka_unit_test(legacy_rules),
    };
    return cmocka_run_group_tests_name("plaintext", tests, NULL, NULL);
}
