# report: the verdict rule and the report writers, run end to end (issue 13
# points 2 and 3).
#   report/strict-verdict          --strict makes a NON-STRICT a failure in the
#                                  exit code, JUnit, JSON and console
#   report/strict-verdict-catches  the same checks on a run without --strict
#                                  must fail
if(EMONCRYPT_TESTS)
  find_program(EMONCRYPT_BASH bash REQUIRED)
  add_test(NAME report/strict-verdict
    COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/report/strict_verdict.sh
            $<TARGET_FILE:emoncrypt> ${PROJECT_SOURCE_DIR})
  add_test(NAME report/strict-verdict-catches
    COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/report/strict_verdict.sh
            $<TARGET_FILE:emoncrypt> ${PROJECT_SOURCE_DIR} catches)
  set_tests_properties(report/strict-verdict report/strict-verdict-catches PROPERTIES
    TIMEOUT 60 LABELS "report")
  set_tests_properties(report/strict-verdict-catches PROPERTIES
    PASS_REGULAR_EXPRESSION "FAIL: strict run: exit 0, expected 1")
  if(TEST unit/test_report)
    set_tests_properties(unit/test_report PROPERTIES LABELS "infra;report")
  endif()
endif()
# report/html-chromium: the HTML report of a failing run in headless
# Chromium: first failure on the first screen, the inline filter works,
# nothing fetched, text readable.  Skipped (77) without chromium.
if(EMONCRYPT_TESTS AND EMONCRYPT_PYTHON)
  add_test(NAME report/html-chromium
    COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/report/html_chromium.sh
            $<TARGET_FILE:emoncrypt> ${PROJECT_SOURCE_DIR} ${EMONCRYPT_PYTHON})
  set_tests_properties(report/html-chromium PROPERTIES
    TIMEOUT 300 LABELS "report" SKIP_RETURN_CODE 77 RUN_SERIAL ON)
endif()
