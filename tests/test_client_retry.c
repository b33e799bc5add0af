/* emoncrypt tests — client/7.retry/interval's judgements (issue 11 point
 * 8): jitter around a fixed wait is not a backoff, and a fixed wait longer
 * than Retry-After is no evidence that Retry-After was honoured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client/client_internal.h"

static void has(const char *text, const char *want)
{
    if (strstr(text, want) == NULL)
        fail_msg("'%s' does not say '%s'", text, want);
}

static void lacks(const char *text, const char *unwanted)
{
    if (strstr(text, unwanted) != NULL)
        fail_msg("'%s' says '%s'", text, unwanted);
}

/* The waits seen from a device with a fixed 10 s retry (issue 11): the
 * old check called them a backoff. */
static void jitter_is_not_backoff(void **state)
{
    (void)state;
    static const long w[] = {9998, 10001, 10004, 9994};
    char out[200];
    c7_judge_backoff(w, 4, out, sizeof out);
    has(out, "no backoff: a fixed wait of ~");
    lacks(out, "grows");
    static const long rising[] = {9994, 9998, 10001, 10004};   /* rises, by jitter only */
    c7_judge_backoff(rising, 4, out, sizeof out);
    has(out, "no backoff");
}

static void doubling_is_backoff(void **state)
{
    (void)state;
    static const long w[] = {1000, 2010, 3990, 8020};
    char out[200];
    c7_judge_backoff(w, 4, out, sizeof out);
    has(out, "backoff: the wait grows after each failure");
}

static void too_little_or_mixed_cannot_tell(void **state)
{
    (void)state;
    char out[200];
    static const long one[] = {10000};
    c7_judge_backoff(one, 1, out, sizeof out);
    has(out, "cannot tell");
    static const long mixed[] = {1000, 4000, 1200, 9000};
    c7_judge_backoff(mixed, 4, out, sizeof out);
    has(out, "cannot tell");
}

/* A fixed 10 s wait after 'Retry-After: 1' is what the device does anyway. */
static void fixed_wait_over_retry_after_cannot_tell(void **state)
{
    (void)state;
    static const long usual[] = {9998, 10001, 10004};
    char out[220];
    c7_judge_retry_after(1, 9994, usual, 3, out, sizeof out);
    has(out, "cannot tell");
    lacks(out, "honoured (");
    c7_judge_retry_after(1, 9994, NULL, 0, out, sizeof out);   /* nothing to compare */
    has(out, "cannot tell");
}

static void retry_after_honoured_or_not(void **state)
{
    (void)state;
    static const long usual[] = {200, 210, 190};
    char out[220];
    c7_judge_retry_after(5, 5030, usual, 3, out, sizeof out);
    has(out, ": honoured (its usual wait is ~200 ms)");
    c7_judge_retry_after(5, 210, usual, 3, out, sizeof out);
    has(out, "not honoured");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jitter_is_not_backoff),
        cmocka_unit_test(doubling_is_backoff),
        cmocka_unit_test(too_little_or_mixed_cannot_tell),
        cmocka_unit_test(fixed_wait_over_retry_after_cannot_tell),
        cmocka_unit_test(retry_after_honoured_or_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
