/* emoncrypt tests — every mutant sender, run against the mock server in
 * the scenario that shows its fault, must make the run fail (exit 1) with
 * its expected check among the FAILs.  One CMocka test per mutant, named
 * "client/mutant/NAME". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "client_fixture.h"
#include "common/tolerance.h"

static void test_mutant_is_caught(void **state)
{
    const ec_sender_mutant *m = *state;
    fixture_run run;
    /* What Emoncms tolerates (the table both roles judge by) is NON-STRICT
     * and exit 0 as such; it FAILs under --strict, below. */
    fixture_strict = 0;
    if (ec_tolerance_of_client_check(m->expected_check) != NULL) {
        assert_int_equal(fixture_run_scenario(m->scenario, m, 15, 3, 2, &run), 0);
        int v = fixture_verdict(run.report, m->expected_check);
        if (v != EC_VERDICT_NON_STRICT || run.exit_code != 0)
            fprintf(stderr, "mutant %s (%s): tolerated by Emoncms, expected %s NON-STRICT and exit 0, got verdict "
                    "%d, exit %d; %s\n", m->name, m->what, m->expected_check, v, run.exit_code, run.summary);
        assert_int_equal(v, EC_VERDICT_NON_STRICT);
        assert_int_equal(run.exit_code, 0);
        ec_report_free(run.report);
        fixture_strict = 1;
    }
    /* 3 rows per post, so that rows can be out of order; few retries, so a
     * mutant the mock keeps rejecting gives up quickly. */
    assert_int_equal(fixture_run_scenario(m->scenario, m, 15, 3, 2, &run), 0);
    int v = fixture_verdict(run.report, m->expected_check);
    /* Under --strict a tolerated mistake keeps its NON-STRICT verdict and
     * counts as a failure (docs/SPEC.md, Verdicts and --strict). */
    ec_verdict want = fixture_strict ? EC_VERDICT_NON_STRICT : EC_VERDICT_FAIL;
    if (v != (int)want || run.exit_code != 1) {
        fprintf(stderr, "mutant %s (%s): expected %s to be %s, got verdict %d, exit %d; %s\n",
                m->name, m->what, m->expected_check, fixture_strict ? "NON-STRICT (a failure)" : "FAIL", v,
                run.exit_code, run.summary);
        fixture_print_fails(run.report);
    }
    assert_int_equal(v, want);
    assert_int_equal(run.exit_code, 1);
    /* Where the diagnosis names a mistake, it names this one. */
    if (strcmp(m->expected_check, "client/2.hmac/correct") == 0 ||
        strcmp(m->expected_check, "client/2.cipher/pkcs7") == 0) {
        const char *msg = fixture_message(run.report, m->expected_check);
        if (msg == NULL || strstr(msg, ec_mistake_name(m->mistakes)) == NULL)
            fprintf(stderr, "mutant %s: diagnosis '%s'\n", m->name, msg ? msg : "");
        assert_non_null(msg);
        assert_non_null(strstr(msg, ec_mistake_name(m->mistakes)));
    }
    ec_report_free(run.report);
}

/* The table itself: at least 12 mutants, each naming a check that exists
 * and a scenario that exists. */
static void test_mutant_table(void **state)
{
    (void)state;
    assert_true(ec_sender_mutant_count >= 12);
    for (size_t i = 0; i < ec_sender_mutant_count; i++) {
        const ec_sender_mutant *m = &ec_sender_mutants[i];
        assert_non_null(ec_client_check_find(m->expected_check));
        assert_non_null(ec_client_scenario_find(m->scenario));
        assert_ptr_equal(ec_sender_mutant_find(m->name), m);
        assert_true(m->mistakes != 0 || m->faults != 0);
    }
}

int main(void)
{
    struct CMUnitTest tests[64];
    static char names[64][64];
    size_t n = 0;
    tests[n++] = (struct CMUnitTest){"client/mutant-table", test_mutant_table, NULL, NULL, NULL};
    for (size_t i = 0; i < ec_sender_mutant_count && n < 64; i++) {
        snprintf(names[n], sizeof names[n], "client/mutant/%s", ec_sender_mutants[i].name);
        tests[n] = (struct CMUnitTest){names[n], test_mutant_is_caught, NULL, NULL,
                                       (void *)(uintptr_t)&ec_sender_mutants[i]};
        n++;
    }
    return _cmocka_run_group_tests("client_mutants", tests, n, NULL, NULL);
}
