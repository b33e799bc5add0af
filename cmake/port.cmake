# The port kit (harness/port): a freestanding C99 pair a firmware project
# drops into its build, self-tested here against three crypto libraries
# firmware actually uses, plus a mutant shim that must be caught.
#
# Not part of the harness library: each backend is its own executable,
# built as C99 (what embedded toolchains are sure to take).  ctest cases:
#   port/openssl, port/mbedtls, port/bearssl   every vector passes
#   port/kit               the kit's own pieces: exact buffers, base64url,
#                          key parsing, one status per verifier fault
#   port/mutant-cbc        the CBC chaining bug is reported at the right id
#   port/mutant-pad        the Pico W padding bug (a port's own builder) too
#   port/mutant-stream     the streaming verifier bug (ECP_MUTANT_STREAM_CARRY) too
#   port/small-work        every vector runs in a 2 KiB work buffer
#   port/header-freestanding  the vector header and the kit compile with
#                          -std=c99 -ffreestanding -Wall -Wextra -Werror
#   port/header-fresh      harness/port/emoncrypt_vectors.h is exactly what
#                          `emoncrypt vectors --format c` prints now
# A backend whose library is missing is skipped (ctest exit code 77), not
# a configure error.

set(EC_PORT_DIR ${PROJECT_SOURCE_DIR}/harness/port)
# The first valid vector whose plaintext is a multiple of 16 bytes: there
# the chaining bug first changes the body.  Its decryption is right, so
# every failure must be a `body` check (never verify, ack or a known answer).
set(EC_PORT_MUTANT_CBC_EXPECT "post/spec8-reference")
# The padding mutant (shim_mutant_pad.c: no pad block when the plaintext is
# a multiple of 16 bytes, the emonTx4 Pico W bug) first sends a wrong body
# there too, and its Authorization, ack and decryption are right.
set(EC_PORT_MUTANT_PAD_EXPECT "post/spec8-reference")
# The streaming mutant (ECP_MUTANT_STREAM_CARRY: base64 bits split across
# two pieces are dropped) breaks the chunked verify of the first valid
# vector, and nothing else: whole-buffer calls are one piece.
set(EC_PORT_MUTANT_STREAM_EXPECT "post/spec8-reference")

find_path(EC_MBEDTLS_INCLUDE_DIR mbedtls/aes.h)
find_library(EC_MBEDCRYPTO_LIBRARY mbedcrypto)
find_path(EC_BEARSSL_INCLUDE_DIR bearssl.h)
find_library(EC_BEARSSL_LIBRARY bearssl)

# emoncrypt_port_selftest(BACKEND SHIM_SOURCE LIBS…)
function(emoncrypt_port_selftest backend shim)
  set(target port_selftest_${backend})
  string(REPLACE "_" "-" backend_name ${backend})
  add_executable(${target}
    ${EC_PORT_DIR}/emoncrypt_port.c ${EC_PORT_DIR}/port_main.c ${EC_PORT_DIR}/${shim})
  set_target_properties(${target} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON
    C_EXTENSIONS OFF OUTPUT_NAME port-selftest-${backend_name})
  target_include_directories(${target} PRIVATE ${EC_PORT_DIR})
  # -pedantic, but vector bodies may be longer than C99's minimum 4095.
  target_compile_options(${target} PRIVATE -Wall -Wextra -pedantic -Wno-overlength-strings)
  target_link_libraries(${target} PRIVATE ${ARGN})
endfunction()

function(emoncrypt_port_skip name why)
  message(STATUS "port: ${name} skipped: ${why}")
  if(EMONCRYPT_TESTS)
    add_test(NAME port/${name}
      COMMAND sh -c "echo 'port/${name} skipped: ${why}'; exit 77")
    set_tests_properties(port/${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS port)
  endif()
endfunction()

emoncrypt_port_selftest(openssl shim_openssl.c OpenSSL::Crypto)
# The mutant wraps a real shim, its "base" (OpenSSL here, mbedTLS on the
# emulated boards of cmake/port_qemu.cmake), renamed so both link together.
add_library(port_mutant_base_openssl OBJECT ${EC_PORT_DIR}/shim_openssl.c)
set_target_properties(port_mutant_base_openssl PROPERTIES C_STANDARD 99
  C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_include_directories(port_mutant_base_openssl PRIVATE ${EC_PORT_DIR})
target_compile_definitions(port_mutant_base_openssl PRIVATE
  port_host_shim=port_base_shim port_host_backend=port_base_backend)
target_link_libraries(port_mutant_base_openssl PRIVATE OpenSSL::Crypto)
emoncrypt_port_selftest(mutant_cbc shim_mutant_cbc.c port_mutant_base_openssl OpenSSL::Crypto)
# The Pico W padding bug is a port's own request builder (ecp_port.build:
# the kit pads before any shim call), over the same renamed base.
emoncrypt_port_selftest(mutant_pad shim_mutant_pad.c port_mutant_base_openssl OpenSSL::Crypto)
target_compile_definitions(port_selftest_mutant_pad PRIVATE PORT_HOST_OWN_BUILD)
emoncrypt_port_selftest(mutant_stream shim_openssl.c OpenSSL::Crypto)
target_compile_definitions(port_selftest_mutant_stream PRIVATE ECP_MUTANT_STREAM_CARRY)
set(EC_PORT_BACKENDS openssl)

if(EC_MBEDTLS_INCLUDE_DIR AND EC_MBEDCRYPTO_LIBRARY)
  emoncrypt_port_selftest(mbedtls shim_mbedtls.c ${EC_MBEDCRYPTO_LIBRARY})
  target_include_directories(port_selftest_mbedtls PRIVATE ${EC_MBEDTLS_INCLUDE_DIR})
  list(APPEND EC_PORT_BACKENDS mbedtls)
else()
  emoncrypt_port_skip(mbedtls "mbedTLS not found (apt-get install libmbedtls-dev)")
endif()

if(EC_BEARSSL_INCLUDE_DIR AND EC_BEARSSL_LIBRARY)
  emoncrypt_port_selftest(bearssl shim_bearssl.c ${EC_BEARSSL_LIBRARY})
  target_include_directories(port_selftest_bearssl PRIVATE ${EC_BEARSSL_INCLUDE_DIR})
  list(APPEND EC_PORT_BACKENDS bearssl)
else()
  emoncrypt_port_skip(bearssl "BearSSL not found (apt-get install libbearssl-dev)")
endif()

if(EMONCRYPT_TESTS)
  foreach(backend ${EC_PORT_BACKENDS})
    add_test(NAME port/${backend} COMMAND port_selftest_${backend})
    set_tests_properties(port/${backend} PROPERTIES TIMEOUT 120 LABELS port)
  endforeach()

  # The kit's own pieces (exact buffers, base64url edges, verifier faults).
  add_executable(port_kit_test ${EC_PORT_DIR}/port_kit_test.c
    ${EC_PORT_DIR}/emoncrypt_port.c ${EC_PORT_DIR}/shim_openssl.c)
  set_target_properties(port_kit_test PROPERTIES C_STANDARD 99
    C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_include_directories(port_kit_test PRIVATE ${EC_PORT_DIR})
  target_compile_options(port_kit_test PRIVATE -Wall -Wextra -pedantic -Wno-overlength-strings)
  target_link_libraries(port_kit_test PRIVATE OpenSSL::Crypto)
  add_test(NAME port/kit COMMAND port_kit_test)
  set_tests_properties(port/kit PROPERTIES TIMEOUT 120 LABELS port)

  add_test(NAME port/mutant-cbc
    COMMAND port_selftest_mutant_cbc --expect-fail ${EC_PORT_MUTANT_CBC_EXPECT}
            --expect-only-check body)
  set_tests_properties(port/mutant-cbc PROPERTIES TIMEOUT 120 LABELS port)

  add_test(NAME port/mutant-pad
    COMMAND port_selftest_mutant_pad --expect-fail ${EC_PORT_MUTANT_PAD_EXPECT}
            --expect-only-check body)
  set_tests_properties(port/mutant-pad PROPERTIES TIMEOUT 120 LABELS port)

  add_test(NAME port/mutant-stream
    COMMAND port_selftest_mutant_stream --expect-fail ${EC_PORT_MUTANT_STREAM_EXPECT}
            --expect-only-check verify-valid)
  set_tests_properties(port/mutant-stream PROPERTIES TIMEOUT 120 LABELS port)
  # Verification streams: every vector runs in a 2 KiB work buffer.
  add_test(NAME port/small-work COMMAND port_selftest_openssl --work-bytes 2048)
  set_tests_properties(port/small-work PROPERTIES TIMEOUT 120 LABELS port)

  # emoncrypt port-report (the serial log of a board's self-test ->
  # JUnit/JSON/HTML): made-up logs, each with the exit code and reports it
  # must give (tests/port/port_report_check.py), and a real run of the host
  # self-test through it, passing and (the mutant) failing.
  set(EC_PORT_REPORT_CHECK ${PROJECT_SOURCE_DIR}/tests/port/port_report_check.py)
  foreach(mode good fail truncated counts-disagree restart mid-run duplicate unwritable)
    add_test(NAME port-report/${mode}
      COMMAND ${EMONCRYPT_PYTHON} ${EC_PORT_REPORT_CHECK} $<TARGET_FILE:emoncrypt>
              ${CMAKE_CURRENT_BINARY_DIR}/port-report/${mode} ${mode})
    set_tests_properties(port-report/${mode} PROPERTIES TIMEOUT 60 LABELS port)
  endforeach()
  add_test(NAME port-report/host-run
    COMMAND sh -c "mkdir -p \"$2\" && \"$1\" > \"$2/run.log\"; \"$0\" port-report -q --junit \"$2/run.xml\" < \"$2/run.log\" && [ $(grep -c '<testcase ' \"$2/run.xml\") -ge 300 ]"
            $<TARGET_FILE:emoncrypt> $<TARGET_FILE:port_selftest_openssl>
            ${CMAKE_CURRENT_BINARY_DIR}/port-report/host-run)
  add_test(NAME port-report/host-mutant
    COMMAND sh -c "mkdir -p \"$3\" && \"$1\" > \"$3/run.log\"; \"$0\" port-report -q --json \"$3/run.json\" \"$3/run.log\"; rc=$?; [ $rc -eq 1 ] && \"$2\" \"$4\" expect \"$3/run.json\" \"$5\" body"
            $<TARGET_FILE:emoncrypt> $<TARGET_FILE:port_selftest_mutant_cbc>
            ${EMONCRYPT_PYTHON} ${CMAKE_CURRENT_BINARY_DIR}/port-report/host-mutant
            ${EC_PORT_REPORT_CHECK} ${EC_PORT_MUTANT_CBC_EXPECT})
  set_tests_properties(port-report/host-run port-report/host-mutant PROPERTIES
    TIMEOUT 120 LABELS port)

  add_test(NAME port/header-freestanding
    COMMAND ${CMAKE_COMMAND} -DCC=${CMAKE_C_COMPILER} -DPORT_DIR=${EC_PORT_DIR}
            -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/port-freestanding
            -P ${EC_PORT_DIR}/check_freestanding.cmake)
  set_tests_properties(port/header-freestanding PROPERTIES TIMEOUT 120 LABELS port)

  if(EXISTS ${PROJECT_SOURCE_DIR}/harness/cli/cmd_vectors.c)
    add_test(NAME port/header-fresh
      COMMAND ${CMAKE_COMMAND} -DEMONCRYPT=$<TARGET_FILE:emoncrypt>
              -DVECTORS=${PROJECT_SOURCE_DIR}/vectors/emoncms_input_v1.json
              -DSHIPPED=${EC_PORT_DIR}/emoncrypt_vectors.h
              -DOUT=${CMAKE_CURRENT_BINARY_DIR}/port-vectors-now.h
              -P ${EC_PORT_DIR}/check_fresh.cmake)
    set_tests_properties(port/header-fresh PROPERTIES TIMEOUT 120 LABELS port)
  else()
    emoncrypt_port_skip(header-fresh "harness/cli/cmd_vectors.c (emoncrypt vectors --format c) does not exist yet")
  endif()
endif()
