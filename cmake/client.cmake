# The client role: `emoncrypt test-client` (a mock Emoncms) with
# `emoncrypt send` (the reference client, or a mutant of it) as the device,
# end to end through the CLI.  The same pairs run in-process, faster, in
# tests/test_client_scenarios.c and tests/test_client_mutants.c.

# Keep in step with the table in suites/client/sender.c: the ctest
# client/cli/mutant-list fails when they differ.
set(EMONCRYPT_CLIENT_MUTANTS
  fixed-iv zero-iv counter-iv time-iv std-alphabet hmac-upper hmac-over-ct
  hmac-plus-nul hmac-hex-key no-full-pad cbc-chain-bug zero-padding ignores-ack
  any-200 same-iv-resend out-of-order drops-data resend-acked
  bearer-side-request apikey-in-query)

if(EMONCRYPT_TESTS)
  find_program(EMONCRYPT_BASH bash REQUIRED)
  set(_ec_pair ${PROJECT_SOURCE_DIR}/cmake/client_pair.sh)
  foreach(mode reference garbage probe iotawatt limits self-test incomplete)
    add_test(NAME client/cli/${mode}
      COMMAND ${EMONCRYPT_BASH} ${_ec_pair} $<TARGET_FILE:emoncrypt> ${mode})
    set_tests_properties(client/cli/${mode} PROPERTIES TIMEOUT 60 LABELS client)
  endforeach()
  # --state: a one-shot device completes the scenarios across runs, and a
  # corrupt or foreign state file is exit 2 naming it (issue 11).
  foreach(mode across bad)
    add_test(NAME client/cli/state-${mode}
      COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/cli/client_state.sh
              $<TARGET_FILE:emoncrypt> ${CMAKE_CURRENT_BINARY_DIR}/client-state-${mode} ${mode})
    set_tests_properties(client/cli/state-${mode} PROPERTIES TIMEOUT 120 LABELS client)
  endforeach()
  string(REPLACE ";" "," _ec_mutant_list "${EMONCRYPT_CLIENT_MUTANTS}")
  add_test(NAME client/cli/mutant-list
    COMMAND ${EMONCRYPT_BASH} ${_ec_pair} $<TARGET_FILE:emoncrypt> mutant-list ${_ec_mutant_list})
  set_tests_properties(client/cli/mutant-list PROPERTIES TIMEOUT 30 LABELS client)
  foreach(m ${EMONCRYPT_CLIENT_MUTANTS})
    add_test(NAME client/cli/mutant/${m}
      COMMAND ${EMONCRYPT_BASH} ${_ec_pair} $<TARGET_FILE:emoncrypt> mutant ${m})
    set_tests_properties(client/cli/mutant/${m} PROPERTIES TIMEOUT 60 LABELS "client;mutant")
  endforeach()
  # test-client's memory stays bounded over 10 k requests of the reference
  # client (issue 14 point 5; the 100 k soak is tools/bench --only soak).
  # Not under the sanitizers: ASan's quarantine and shadow memory make RSS
  # say nothing about the mock's own.
  if(NOT EMONCRYPT_SANITIZE)
    add_test(NAME client/cli/memory-10k
      COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/cli/client_memory.sh $<TARGET_FILE:emoncrypt>)
    set_tests_properties(client/cli/memory-10k PROPERTIES TIMEOUT 120 LABELS "client;soak")
  endif()
endif()

# The client role's unit tests once more under valgrind, when it is
# installed: the diagnosis, the capture reader and the mock's request
# records must not leak or read out of bounds (label memcheck).
foreach(t test_client_diagnose test_client_capture test_client_checks)
  emoncrypt_memcheck_test(${t} "memcheck;client")
endforeach()
