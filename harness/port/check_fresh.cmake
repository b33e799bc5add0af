# ctest port/header-fresh: the shipped vector header is byte for byte what
# `emoncrypt vectors --format c` prints from the vector file now, so the
# header firmware authors copy never goes stale.
#   cmake -DEMONCRYPT=… -DVECTORS=… -DSHIPPED=… -DOUT=… -P check_fresh.cmake
# VECTORS is passed explicitly so that $EMONCRYPT_VECTORS cannot change
# which file is read.

execute_process(COMMAND ${EMONCRYPT} vectors --file ${VECTORS} --format c
  RESULT_VARIABLE rc OUTPUT_FILE ${OUT} ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "`emoncrypt vectors --format c` failed (exit ${rc}): ${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${SHIPPED} ${OUT}
  RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  message(FATAL_ERROR "${SHIPPED} is stale: regenerate it with\n"
    "  build/emoncrypt vectors --format c > harness/port/emoncrypt_vectors.h\n"
    "(the current output is in ${OUT})")
endif()
message(STATUS "ok: ${SHIPPED} matches `emoncrypt vectors --format c`")
