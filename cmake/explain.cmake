# explain and replay (issue #6, parts 3 and 4), end to end through the CLI
# (cmake/explain_check.sh).  The in-process checks are the unit tests
# tests/test_explain.c (every mistake built with ec_request_build and named
# back) and tests/test_replay.c (a capture replayed to an in-process serve).
#
# The issue's "done" criterion: explain names the mistake of each wire-level
# mutant client's captured request.  The wire-level mutants of `send
# --mutant` are the ones named after an ec_mistake (message.h); the others
# (fixed IV, resend and ack behaviour, the key in clear) are behaviour
# across requests, which test-client judges, not one request's bytes.
set(EMONCRYPT_EXPLAIN_MUTANTS
  std-alphabet hmac-upper hmac-over-ct hmac-plus-nul hmac-hex-key
  no-full-pad cbc-chain-bug zero-padding)
# IVs one request shows to be not random (explain's iv layer fails); the
# others (time-iv, same-iv-resend) need several requests: test-client's.
set(EMONCRYPT_EXPLAIN_IV_MUTANTS zero-iv fixed-iv counter-iv)
# The write key in clear: explain's apikey layer (seen in the capture as
# "[REDACTED]").
set(EMONCRYPT_EXPLAIN_KEY_MUTANTS apikey-in-query bearer-side-request)
# A capture shows what one request cannot: a resend that reuses the IV.
set(EMONCRYPT_EXPLAIN_CAPTURE_MUTANTS same-iv-resend)
# Every mistake explain names, through encode --mistake and explain.
set(EMONCRYPT_EXPLAIN_MISTAKES
  std-alphabet hmac-upper hmac-over-ct hmac-plus-nul hmac-hex-key zero-padding
  no-full-pad iv-appended cbc-chain-bug hex-key-as-key gzip-header)

if(EMONCRYPT_TESTS)
  find_program(EMONCRYPT_BASH bash REQUIRED)
  set(_ec_explain ${PROJECT_SOURCE_DIR}/cmake/explain_check.sh)
  foreach(m ${EMONCRYPT_EXPLAIN_MUTANTS} ${EMONCRYPT_EXPLAIN_IV_MUTANTS}
            ${EMONCRYPT_EXPLAIN_KEY_MUTANTS} ${EMONCRYPT_EXPLAIN_CAPTURE_MUTANTS})
    add_test(NAME explain/mutant/${m}
      COMMAND ${EMONCRYPT_BASH} ${_ec_explain} $<TARGET_FILE:emoncrypt> mutant ${m})
    set_tests_properties(explain/mutant/${m} PROPERTIES TIMEOUT 60 LABELS "explain;mutant")
  endforeach()
  foreach(m ${EMONCRYPT_EXPLAIN_MISTAKES})
    add_test(NAME explain/mistake/${m}
      COMMAND ${EMONCRYPT_BASH} ${_ec_explain} $<TARGET_FILE:emoncrypt> mistake ${m})
    set_tests_properties(explain/mistake/${m} PROPERTIES TIMEOUT 30 LABELS explain)
  endforeach()
  foreach(mode valid usage replay)
    add_test(NAME explain/cli/${mode}
      COMMAND ${EMONCRYPT_BASH} ${_ec_explain} $<TARGET_FILE:emoncrypt> ${mode})
    set_tests_properties(explain/cli/${mode} PROPERTIES TIMEOUT 90 LABELS explain)
  endforeach()
  foreach(t unit/test_explain unit/test_replay)
    if(TEST ${t})
      set_tests_properties(${t} PROPERTIES TIMEOUT 60 LABELS explain)
    endif()
  endforeach()
  # The explanation of garbage and of 1 MB bodies, once more under valgrind.
  emoncrypt_memcheck_test(test_explain memcheck)
endif()
