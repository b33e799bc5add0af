# The kill matrix (issue 12), tests/kill/kill_matrix.py: every id that
# `test-server --list` and `test-client --list` print declares, beside its
# row, the mutants it must FAIL (.mutants) or why it has none (.no_mutant);
# `--list --mutants` prints them.
#   kill/matrix    runs the suite once against every server mutant (serve
#                  --mutant, compat, --strict and the legacy profile) and
#                  every mutant device (--self-test-mutant, --scenario all,
#                  with and without --strict), two at a time, and fails,
#                  naming each, for a declared mutant the case does not FAIL,
#                  a mutant no case FAILs or declares, an id with neither, a
#                  mutant of today gone, or a reference run with a FAIL
#   kill/negative  the same judge names each of six doctored declarations
#                  (against a real run of two mutants)

if(EMONCRYPT_TESTS AND EMONCRYPT_PYTHON)
  set(_ec_kill ${PROJECT_SOURCE_DIR}/tests/kill/kill_matrix.py)
  foreach(mode matrix negative)
    set(_arg ${mode})
    if(mode STREQUAL "matrix")
      set(_arg check)
    endif()
    add_test(NAME kill/${mode}
      COMMAND ${EMONCRYPT_PYTHON} ${_ec_kill} ${_arg} $<TARGET_FILE:emoncrypt> ${PROJECT_SOURCE_DIR})
  endforeach()
  set_tests_properties(kill/matrix PROPERTIES TIMEOUT 400 LABELS "kill;mutant" PROCESSORS 2)
  set_tests_properties(kill/negative PROPERTIES TIMEOUT 120 LABELS kill)
endif()
