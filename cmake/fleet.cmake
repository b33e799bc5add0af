# fleet: `emoncrypt fleet export` (a Tsung scenario and its pre-encrypted
# corpus) checked from the outside by tests/fleet/export_check.py with an
# independent codec (python3-cryptography); each check has its mutant in
# the same run; fleet/check feeds `fleet check` made-up Tsung runs.  The
# live Tsung run is `tools/run fleet`, not a ctest.
if(EMONCRYPT_TESTS)
  set(EC_FLEET_CHECK ${PROJECT_SOURCE_DIR}/tests/fleet/export_check.py)
  add_test(NAME fleet/export
    COMMAND ${EMONCRYPT_PYTHON} ${EC_FLEET_CHECK} $<TARGET_FILE:emoncrypt>
            ${CMAKE_CURRENT_BINARY_DIR}/fleet-export)
  add_test(NAME fleet/export-bulk
    COMMAND ${EMONCRYPT_PYTHON} ${EC_FLEET_CHECK} $<TARGET_FILE:emoncrypt>
            ${CMAKE_CURRENT_BINARY_DIR}/fleet-export-bulk --bulk-rows 3)
  # Valid against Tsung's own DTD (package tsung); skipped without it.
  add_test(NAME fleet/export-dtd
    COMMAND ${EMONCRYPT_PYTHON} ${EC_FLEET_CHECK} $<TARGET_FILE:emoncrypt>
            ${CMAKE_CURRENT_BINARY_DIR}/fleet-export-dtd --dtd)
  # fleet check on runs made up in Tsung's format: a clean one passes, each
  # fault (lost/duplicated/changed row, nomatch, 500, replay, Tsung's own
  # counts disagreeing) exits 1.
  add_test(NAME fleet/check
    COMMAND ${EMONCRYPT_PYTHON} ${EC_FLEET_CHECK} $<TARGET_FILE:emoncrypt>
            ${CMAKE_CURRENT_BINARY_DIR}/fleet-check --check)
  set_tests_properties(fleet/export fleet/export-bulk fleet/export-dtd fleet/check
    PROPERTIES TIMEOUT 120 LABELS fleet SKIP_RETURN_CODE 77)
  # A URL whose host could not go into the scenario is a usage error, and
  # nothing is written.
  add_test(NAME fleet/export-refuses-bad-url
    COMMAND ${EMONCRYPT_BASH} -c
      "rm -rf \"$2\"; \"$1\" fleet export \"$2\" 'http://a\"b:80' --userid 1 --apikey 0123456789abcdef0123456789abcdef 2>&1; rc=$?; test $rc -eq 2 && test ! -e \"$2/corpus.csv\""
      bash $<TARGET_FILE:emoncrypt> ${CMAKE_CURRENT_BINARY_DIR}/fleet-bad-url)
  set_tests_properties(fleet/export-refuses-bad-url PROPERTIES TIMEOUT 30 LABELS fleet)
endif()
