# The server role: the suite against the reference server, against every
# mutant (each must be FAILed by its catching case), and against nothing.
# tests/server_suite_check.c runs each check in-process on a loopback port 0.

# Keep in step with the table in harness/src/serve_mutants.c: the ctest
# server/mutant-table fails when they differ.
set(EMONCRYPT_SERVE_MUTANTS
  ack-of-ciphertext ack-hex ack-no-padding ack-std-alphabet ack-newline ack-text-html
  accept-wrong-hmac hmac-case-insensitive hmac-uppercase-only auth-extra-colon hmac-timing
  padding-oracle oracle-status ignore-iv accept-partial-block
  ctype-case-insensitive ctype-parameters store-rejected drop-last-bulk-row
  reorder-rows ignore-sentat empty-body-text unknown-user-404 no-replay-cache
  emoncms-no-gz emoncms-bulk-json-500)

if(EMONCRYPT_TESTS)
  add_executable(server_suite_check ${PROJECT_SOURCE_DIR}/tests/server_suite_check.c)
  target_link_libraries(server_suite_check PRIVATE emoncrypt_suites emoncrypt_static PkgConfig::CMOCKA)
  string(REPLACE ";" "," _emoncrypt_mutant_list "${EMONCRYPT_SERVE_MUTANTS}")
  target_compile_definitions(server_suite_check PRIVATE
    "EMONCRYPT_MUTANT_LIST=\"${_emoncrypt_mutant_list}\"")

  add_test(NAME server/reference COMMAND server_suite_check reference)
  add_test(NAME server/reference-strict COMMAND server_suite_check reference-strict)
  add_test(NAME server/unreachable COMMAND server_suite_check unreachable)
  add_test(NAME server/mutant-table COMMAND server_suite_check table)
  set_tests_properties(server/reference server/reference-strict server/unreachable server/mutant-table
    PROPERTIES TIMEOUT 60 LABELS server)
  foreach(m ${EMONCRYPT_SERVE_MUTANTS})
    add_test(NAME server/mutant/${m} COMMAND server_suite_check mutant ${m})
    set_tests_properties(server/mutant/${m} PROPERTIES TIMEOUT 60 LABELS "server;mutant")
  endforeach()

  # Known Emoncms behaviours by version (issue 19): the FAIL a mutant that
  # answers as an old release gets names the upstream fix.
  add_test(NAME server/known/bulk-json-500 COMMAND server_suite_check known emoncms-bulk-json-500
    "known Emoncms bug, fixed in 11.9.8 (27cc63e4)")
  add_test(NAME server/known/no-gz COMMAND server_suite_check known emoncms-no-gz
    "fixed in 11.2.3 (c1c32c5b)")
  # aes128cbcgz feature detection: no FAIL, gz cases SKIP + one INFO (with
  # --require gz the mutant's gz cases FAIL: server/mutant/emoncms-no-gz).
  add_test(NAME server/gz-probe COMMAND server_suite_check gz-probe)
  set_tests_properties(server/known/bulk-json-500 server/known/no-gz server/gz-probe PROPERTIES TIMEOUT 60 LABELS server)
  # --profile as seen by the server (its log names aes128cbcgz requests) and
  # --server-version (gz expected or not, known-bug notes by version).
  add_test(NAME server/profile COMMAND server_suite_check profile)
  add_test(NAME server/server-version COMMAND server_suite_check server-version)
  # An old release (10.8.5) with the vectors' own account: gz vectors SKIP
  # by their Content-Type, bulk vectors meeting the 500 name the fix.
  add_test(NAME server/old-release COMMAND server_suite_check old-release)
  set_tests_properties(server/profile server/server-version server/old-release PROPERTIES TIMEOUT 90 LABELS server)

  # Stored-data checks through Emoncms's own read API (--readkey), which
  # shows only each input's last value: the reference passes, and the
  # mutants that differ only in what they store are still caught.
  foreach(m reference drop-last-bulk-row reorder-rows ignore-sentat store-rejected)
    add_test(NAME server/readkey/${m} COMMAND server_suite_check readkey ${m})
    set_tests_properties(server/readkey/${m} PROPERTIES TIMEOUT 60 LABELS server)
  endforeach()

  # Issue 11: emulations of a real Emoncms account (the 32-node account
  # limit; values kept as FLOAT with 6 digits): two runs on the same serve
  # process give 0 FAIL each.  own-vectors: user 1 with the vectors' key
  # sends every vector as it is (none SKIPs as "cannot re-key").
  add_test(NAME server/emulate/account-node-limit COMMAND server_suite_check emulate account-node-limit)
  add_test(NAME server/emulate/float-store COMMAND server_suite_check emulate float-store)
  add_test(NAME server/emulate/float-store-readkey COMMAND server_suite_check emulate float-store readkey)
  add_test(NAME server/own-vectors COMMAND server_suite_check own-vectors)
  # ... against serve's default 256 KiB body cap: the 1 MiB vector SKIPs
  # naming the cap (was a false FAIL), nothing FAILs
  add_test(NAME server/own-vectors-default-cap COMMAND server_suite_check own-vectors-default-cap)
  # ... and with the vectors' own account: the vectors store only under the
  # run's nodes, so none meets the limit on either run.
  add_test(NAME server/emulate/account-node-limit-own-vectors
    COMMAND server_suite_check emulate account-node-limit own-vectors)
  set_tests_properties(server/emulate/account-node-limit server/emulate/float-store
    server/emulate/float-store-readkey server/own-vectors server/own-vectors-default-cap server/emulate/account-node-limit-own-vectors
    PROPERTIES TIMEOUT 120 LABELS server)

  # Issue 11 point 7: the tolerance table both roles judge by (server side;
  # the client side is in test_client_checks and test_client_mutants).
  add_test(NAME server/tolerance COMMAND server_suite_check tolerance)
  set_tests_properties(server/tolerance PROPERTIES TIMEOUT 60 LABELS server)

  # The CLI end to end: a closed port (found, not fixed) -> exit 2, one line, < 2 s.
  add_test(NAME server/cli-unreachable COMMAND server_suite_check cli-unreachable $<TARGET_FILE:emoncrypt>)
  set_tests_properties(server/cli-unreachable PROPERTIES TIMEOUT 30 LABELS server)
endif()
