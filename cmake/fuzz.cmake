# libFuzzer targets (tests/fuzz/fuzz_*.c), one per parser.  Built only when
# configured with clang and -DEMONCRYPT_FUZZ=ON (`tools/run fuzz` does it
# in build-fuzz/): then every object of the build — library, suites, CLI —
# is compiled with -fsanitize=fuzzer-no-link,address,undefined, so coverage
# and ASan reach into the code under test, and each target links libFuzzer's
# main.  ctest runs each target for EMONCRYPT_FUZZ_SECONDS from its seeds
# (tests/fuzz/seeds/NAME, made by tools/make-fuzz-seeds) through
# tools/fuzz-one, which copies any crash input to tests/fuzz/regressions/.
#
# In every other build (gcc, asan, valgrind) the same entry points are
# linked with tests/fuzz/replay_main.c instead, and ctest fuzz-replay/NAME
# replays the seeds and every regression input once.
option(EMONCRYPT_FUZZ "Build the libFuzzer targets (clang only)" OFF)
set(EMONCRYPT_FUZZ_SECONDS 10 CACHE STRING "Seconds per fuzz target in ctest")
file(GLOB EMONCRYPT_FUZZ_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_*.c)

if(EMONCRYPT_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "EMONCRYPT_FUZZ needs clang (configure with CC=clang-14)")
  endif()
  # CMAKE_C_FLAGS is read when the directory is generated, so this reaches
  # the targets defined before this file as well.  UBSan findings abort,
  # so that libFuzzer records them as crashes.
  string(APPEND CMAKE_C_FLAGS
    " -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer")
  string(APPEND CMAKE_EXE_LINKER_FLAGS " -fsanitize=address,undefined")
  string(APPEND CMAKE_SHARED_LINKER_FLAGS " -fsanitize=address,undefined")
  foreach(src ${EMONCRYPT_FUZZ_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/fuzz)
    target_link_libraries(${name} PRIVATE emoncrypt_suites emoncrypt_static)
    target_compile_definitions(${name} PRIVATE EMONCRYPT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    add_test(NAME fuzz/${name}
      COMMAND ${PROJECT_SOURCE_DIR}/tools/fuzz-one $<TARGET_FILE:${name}>
        ${PROJECT_SOURCE_DIR}/tests/fuzz/seeds ${CMAKE_BINARY_DIR}/fuzz-corpus/${name}
        ${EMONCRYPT_FUZZ_SECONDS})
    set_tests_properties(fuzz/${name} PROPERTIES TIMEOUT 900 LABELS fuzz)
  endforeach()
else()
  foreach(src ${EMONCRYPT_FUZZ_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    add_executable(replay_${name} ${src} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.c)
    target_include_directories(replay_${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/fuzz)
    target_link_libraries(replay_${name} PRIVATE emoncrypt_suites emoncrypt_static)
    target_compile_definitions(replay_${name} PRIVATE EMONCRYPT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    add_test(NAME fuzz-replay/${name} COMMAND replay_${name}
      ${PROJECT_SOURCE_DIR}/tests/fuzz/seeds/${name}
      ${PROJECT_SOURCE_DIR}/tests/fuzz/regressions/${name})
    set_tests_properties(fuzz-replay/${name} PROPERTIES TIMEOUT 300 LABELS fuzz-replay)
  endforeach()
endif()
