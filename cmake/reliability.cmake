# Reliability: hostile peers, kill -9 durability, secret scan, valgrind.
#   unit/test_hostile_peers    serve and the client-role mock against hostile
#                              clients (tests/test_hostile_peers.c)
#   unit/test_hostile_servers  the server-role suite against hostile servers
#   unit/test_store_kill       `serve --store` killed with SIGKILL mid-burst:
#                              every acknowledged row is on disk
#   unit/test_store_faults     injected ENOSPC/EIO: 500, no ack, no torn row;
#                              a torn store is cut and read back on start
#   reliability/secret-scan    every command with a known key: the key is in
#                              no output and no file unless --show-secrets
#   valgrind/*                 CLI smoke tests under valgrind (label valgrind;
#                              `tools/run valgrind` runs them)
if(EMONCRYPT_TESTS)
  foreach(t unit/test_hostile_peers unit/test_hostile_servers unit/test_store_kill
            unit/test_store_faults)
    if(TEST ${t})
      set_tests_properties(${t} PROPERTIES TIMEOUT 300 LABELS reliability)
    endif()
  endforeach()
endif()

if(EMONCRYPT_TESTS)
  find_program(EMONCRYPT_BASH bash REQUIRED)
  add_test(NAME reliability/secret-scan
    COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/secret_scan.sh
            $<TARGET_FILE:emoncrypt> ${CMAKE_CURRENT_BINARY_DIR}/secret-scan)
  set_tests_properties(reliability/secret-scan PROPERTIES TIMEOUT 180 LABELS reliability)
endif()

# ---- the CLI smoke tests under valgrind -------------------------------------
# Zero errors and zero definite leaks: valgrind exits 1 on either, which
# tests/cli/expect.sh reports as the wrong exit status.  Not in sanitizer
# builds (valgrind cannot run ASan binaries).
find_program(EMONCRYPT_VALGRIND valgrind)
if(EMONCRYPT_TESTS AND EMONCRYPT_VALGRIND AND NOT EMONCRYPT_SANITIZE AND NOT EMONCRYPT_FUZZ)
  set(EC_VG ${EMONCRYPT_VALGRIND} -q --error-exitcode=1 --leak-check=full
      --errors-for-leak-kinds=definite --show-leak-kinds=definite --child-silent-after-fork=yes)
  set(EC_VG_KEY 0123456789abcdef0123456789abcdef)
  set(EC_VG_ARGS --apikey ${EC_VG_KEY} --userid 1 --iv 000102030405060708090a0b0c0d0e0f)
  set(EC_VG_PT [=[node=emontx&fulljson={"power1":100,"power2":200}]=])
  set(EC_VG_BODY AAECAwQFBgcICQoLDA0OD6ysannEGt7kNt4Vg14VcF8gA_Ti4prXayZj3GpKklq17LlDVdhecrZmUY8UBAam3_oj5jmaczqBieWsajqhNGc)
  set(EC_VG_AUTH 1:b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662)

  # emoncrypt_valgrind_test(NAME CHECKS… -- ARGS…): like cli.cmake's
  # emoncrypt_cli_test, with build/emoncrypt run under valgrind.
  function(emoncrypt_valgrind_test name)
    set(args ${ARGN})
    list(FIND args -- dashes)
    list(SUBLIST args 0 ${dashes} checks)
    math(EXPR first "${dashes} + 1")
    list(SUBLIST args ${first} -1 command)
    add_test(NAME valgrind/${name}
      COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/cli/expect.sh ${checks}
              -- ${EC_VG} $<TARGET_FILE:emoncrypt> ${command})
    set_tests_properties(valgrind/${name} PROPERTIES TIMEOUT 300 LABELS valgrind)
  endfunction()

  emoncrypt_valgrind_test(encode-http
    --stdout-file ${PROJECT_SOURCE_DIR}/tests/cli/encode-spec8.http
    -- encode ${EC_VG_ARGS} ${EC_VG_PT})
  emoncrypt_valgrind_test(encode-json
    --stdout-file ${PROJECT_SOURCE_DIR}/tests/cli/encode-spec8.json
    -- encode ${EC_VG_ARGS} --format json ${EC_VG_PT})
  emoncrypt_valgrind_test(encode-gz --stdout-has "Content-Type: aes128cbcgz"
    -- encode ${EC_VG_ARGS} --profile aes128cbcgz ${EC_VG_PT})
  emoncrypt_valgrind_test(encode-bad-key --exit 2 --stderr-one-line
    -- encode --apikey 0123 --userid 1 ${EC_VG_PT})
  emoncrypt_valgrind_test(vectors-summary
    --stdout-has "profile        valid invalid acceptable   total"
    -- vectors --format summary)
  emoncrypt_valgrind_test(vectors-json-one --stdout-has "  \"numberOfTests\": 1,"
    -- vectors --id post/spec8-reference --format json)
  emoncrypt_valgrind_test(explain-valid
    -- explain --apikey ${EC_VG_KEY} --authorization ${EC_VG_AUTH} ${EC_VG_BODY})
  emoncrypt_valgrind_test(explain-json
    -- explain --apikey ${EC_VG_KEY} --authorization ${EC_VG_AUTH} --format json ${EC_VG_BODY})
  # (test-client --self-test is timing-bound: under valgrind's slowdown its
  # in-process sender times out and resends, which the mock rightly FAILs;
  # valgrind_pair.sh runs test-client against send instead.)
  emoncrypt_valgrind_test(test-client-list
    --stdout-has "  happy            After an ack, never resend the same rows (no duplicates)."
    -- test-client --list --userid 1 --apikey ${EC_VG_KEY})
  emoncrypt_valgrind_test(test-server-unreachable --exit 2 --stderr-one-line
    -- test-server http://127.0.0.1:9 --userid 1 --apikey ${EC_VG_KEY})
  emoncrypt_valgrind_test(help --stdout-has "Commands:" -- --help)
  # serve, send and test-server talking to each other, each under valgrind.
  add_test(NAME valgrind/serve-send-test-server
    COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/valgrind_pair.sh
            $<TARGET_FILE:emoncrypt> ${CMAKE_CURRENT_BINARY_DIR}/valgrind-pair ${EC_VG})
  set_tests_properties(valgrind/serve-send-test-server PROPERTIES TIMEOUT 600 LABELS valgrind)
endif()
