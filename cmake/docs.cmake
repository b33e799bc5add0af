# docs: docs/SPEC.md is the protocol text the code cites (issue 13 point 9).
# docs/spec-cites checks every "SPEC §N" / "(§N)" in the sources, README,
# docs and the running --help texts, and every case id's section number,
# against the sections of docs/SPEC.md; docs/spec-cites-catches feeds it a
# bad citation and must see it fail.
if(EMONCRYPT_TESTS)
  find_program(EMONCRYPT_BASH bash REQUIRED)
  add_test(NAME docs/spec-cites
    COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/docs/spec_cites.sh
            ${PROJECT_SOURCE_DIR} $<TARGET_FILE:emoncrypt>)
  add_test(NAME docs/spec-cites-catches
    COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/docs/spec_cites.sh
            ${PROJECT_SOURCE_DIR} "" ${PROJECT_SOURCE_DIR}/tests/docs/bad_cite.md)
  set_tests_properties(docs/spec-cites docs/spec-cites-catches PROPERTIES
    TIMEOUT 300 LABELS "docs")
  set_tests_properties(docs/spec-cites-catches PROPERTIES
    PASS_REGULAR_EXPRESSION "cites [^ ]*9, which docs/SPEC.md does not have")
endif()
# docs/readme-numbers: the README's test-server summary and the port kit's
# vector counts against a run (issue 13 point 9); -catches feeds it a README
# with a stale count and must see it fail.
if(EMONCRYPT_TESTS)
  add_test(NAME docs/readme-numbers
    COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/docs/readme_numbers.sh
            ${PROJECT_SOURCE_DIR} $<TARGET_FILE:emoncrypt>)
  add_test(NAME docs/readme-numbers-catches
    COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/docs/readme_numbers.sh
            ${PROJECT_SOURCE_DIR} $<TARGET_FILE:emoncrypt>
            ${PROJECT_SOURCE_DIR}/tests/docs/stale_readme.md
            ${PROJECT_SOURCE_DIR}/tests/docs/stale_readme.md)
  set_tests_properties(docs/readme-numbers docs/readme-numbers-catches PROPERTIES
    TIMEOUT 120 LABELS "docs")
  set_tests_properties(docs/readme-numbers-catches PROPERTIES
    PASS_REGULAR_EXPRESSION "README says total=529 PASS=395 FAIL=0 NON-STRICT=0 INFO=8 SKIP=126; a run against serve gives")
endif()
