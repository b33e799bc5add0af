/* emoncrypt tests — the reference sender passes every client-role
 * scenario, one at a time and all in one run (the "done means":
 * test-client --scenario all with send as the device exits 0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "client_fixture.h"

static void assert_reference_passes(const char *scenario, size_t rows, size_t per_post)
{
    fixture_run run;
    assert_int_equal(fixture_run_scenario(scenario, NULL, rows, per_post, 8, &run), 0);
    if (run.exit_code != 0 || run.sender_rc != 0) {
        fprintf(stderr, "scenario %s: %s; sender rc %d (%s)\n", scenario, run.summary,
                run.sender_rc, run.sent.message);
        fixture_print_fails(run.report);
    }
    assert_int_equal(run.sender_rc, 0);
    assert_int_equal(run.exit_code, 0);
    ec_report_free(run.report);
}

/* One CMocka test per scenario, named after its id. */
static void test_one_scenario(void **state)
{
    const ec_client_scenario *sc = *state;
    /* Enough batches for the failure steps and the observation post. */
    assert_reference_passes(sc->name, 3 * (sc->step_count + 3), 3);
}

static void test_all_scenarios_in_one_run(void **state)
{
    (void)state;
    assert_reference_passes("all", 120, 4);
}

/* The scenario verdicts are in the report, each PASS. */
static void test_all_scenario_verdicts_named(void **state)
{
    (void)state;
    fixture_run run;
    assert_int_equal(fixture_run_scenario("all", NULL, 120, 4, 8, &run), 0);
    for (size_t i = 0; i < ec_client_scenario_count; i++) {
        int v = fixture_verdict(run.report, ec_client_scenarios[i].id);
        if (v != EC_VERDICT_PASS)
            fprintf(stderr, "%s: %d\n", ec_client_scenarios[i].id, v);
        assert_int_equal(v, EC_VERDICT_PASS);
    }
    ec_report_free(run.report);
}

int main(void)
{
    struct CMUnitTest tests[32];
    size_t n = 0;
    for (size_t i = 0; i < ec_client_scenario_count && n < 29; i++) {
        tests[n] = (struct CMUnitTest){ec_client_scenarios[i].id, test_one_scenario, NULL, NULL,
                                       (void *)(uintptr_t)&ec_client_scenarios[i]};
        n++;
    }
    tests[n++] = (struct CMUnitTest){"client/all-scenarios-one-run", test_all_scenarios_in_one_run,
                                     NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"client/all-scenario-verdicts", test_all_scenario_verdicts_named,
                                     NULL, NULL, NULL};
    return _cmocka_run_group_tests("client_scenarios", tests, n, NULL, NULL);
}
