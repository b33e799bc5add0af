# Reliability: hostile peers, kill -9 durability, secret scan, valgrind.
#   unit/test_hostile_peers    serve and the client-role mock against hostile
#                              clients (tests/test_hostile_peers.c)
#   unit/test_hostile_servers  the server-role suite against hostile servers
#   unit/test_store_kill       `serve --store` killed with SIGKILL mid-burst:
#                              every acknowledged row is on disk
#   reliability/secret-scan    every command with a known key: the key is in
#                              no output and no file unless --show-secrets
#   valgrind/*                 CLI smoke tests under valgrind (label valgrind;
#                              `tools/run valgrind` runs them)
if(EMONCRYPT_TESTS)
  foreach(t unit/test_hostile_peers unit/test_hostile_servers unit/test_store_kill)
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
