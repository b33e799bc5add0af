# perf: `emoncrypt load` and the benchmark driver tools/bench.
# tools/bench itself is NOT a ctest (it takes minutes and needs wrk and
# nginx); only the small load checks run here: unit/test_load runs a fleet
# for two seconds against an in-process serve on port 0, and the CLI
# refuses a target off loopback with exit 2 before sending anything.
if(EMONCRYPT_TESTS)
  if(TEST unit/test_load)
    set_tests_properties(unit/test_load PROPERTIES TIMEOUT 60 LABELS "perf")
  endif()
  find_program(EMONCRYPT_SH sh REQUIRED)
  # 192.0.2.1 is TEST-NET-1 (RFC 5737): never a real host, and never
  # contacted, because the refusal comes first.
  add_test(NAME perf/load-refuses-remote
    COMMAND ${EMONCRYPT_SH} -c
      "\"$1\" load http://192.0.2.1:8080 --userid 1 --apikey 0123456789abcdef0123456789abcdef --duration 1 2>err.txt; rc=$?; cat err.txt; test $rc -eq 2 && grep -q -- --allow-remote err.txt && ! grep -q 0123456789abcdef err.txt"
      sh $<TARGET_FILE:emoncrypt>)
  add_test(NAME perf/load-usage
    COMMAND ${EMONCRYPT_SH} -c
      "\"$1\" load --help | grep -q -- --bulk-rows && { \"$1\" load http://127.0.0.1:1 --userid 1 2>/dev/null; test $? -eq 2; }"
      sh $<TARGET_FILE:emoncrypt>)
  add_test(NAME perf/load-progress
    COMMAND ${EMONCRYPT_SH} ${PROJECT_SOURCE_DIR}/tests/cli/load_progress.sh $<TARGET_FILE:emoncrypt>)
  # serve's buffered request log: fewer writes than lines (strace), and
  # every line there after SIGTERM / SIGINT (tests/cli/serve_log.sh).
  add_test(NAME perf/serve-log
    COMMAND ${EMONCRYPT_SH} ${PROJECT_SOURCE_DIR}/tests/cli/serve_log.sh $<TARGET_FILE:emoncrypt>)
  set_tests_properties(perf/load-refuses-remote perf/load-usage perf/load-progress perf/serve-log
    PROPERTIES TIMEOUT 20 LABELS "perf")
endif()

# The C side of the codec benchmark (tools/bench runs it; not a test).
add_executable(emoncrypt_bench_codec ${PROJECT_SOURCE_DIR}/tools/bench_codec.c)
target_link_libraries(emoncrypt_bench_codec PRIVATE emoncrypt_static)
