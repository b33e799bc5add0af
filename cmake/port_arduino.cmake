# The port kit the way firmware authors consume code (issue 16): an Arduino
# library (library.properties, src/), a
# PlatformIO library (library.json) and an ESP-IDF component (CMakeLists.txt
# with idf_component_register), generated from harness/port by
# harness/port/arduino/make_library.cmake into
# build/port-arduino/emoncrypt-port (target port-arduino-library; src/ is
# copied from harness/port, never kept twice in git).  ctest cases (label
# port-arduino):
#   port-arduino/library         generate it
#   port-arduino/metadata        library.properties, library.json and the
#                                IDF CMakeLists.txt hold what each tool needs
#                                (tests/port/check_library.py; no ESP-IDF
#                                here: the file is read, not configured)
#   port-arduino/metadata-bites  doctored copies (a field dropped, SRCS
#                                short, ...) must each fail that check
#   port-arduino/host            src/ with cc and the kit's host runner
#                                (harness/port/port_main.c), linked with
#                                libmbedcrypto, run: port-report must pass
#                                its output
#   port-arduino/host-mutant     the same with ECP_MUTANT_STREAM_CARRY: the
#                                output must fail port-report
#   port-arduino/arm             the same sources with arm-none-eabi-gcc
#                                (Cortex-M3, picolibc), compile only;
#                                skipped with the reason when absent
if(NOT DEFINED EC_PORT_DIR)
  message(FATAL_ERROR "cmake/port_arduino.cmake needs cmake/port.cmake first")
endif()
set(EC_PORT_LIBRARY_URL "https://emoncms.org" CACHE STRING
  "url= of the generated Arduino library (and homepage of library.json)")
set(EC_PORT_ARDUINO_DIR ${CMAKE_CURRENT_BINARY_DIR}/port-arduino)
set(EC_PORT_ARDUINO_LIB ${EC_PORT_ARDUINO_DIR}/emoncrypt-port)
set(EC_PORT_MAKE_LIBRARY ${CMAKE_COMMAND} -DEMONCRYPT=$<TARGET_FILE:emoncrypt>
  -DPORT_DIR=${EC_PORT_DIR} -DOUT=${EC_PORT_ARDUINO_LIB} -DVERSION=${PROJECT_VERSION}
  -DURL=${EC_PORT_LIBRARY_URL} -P ${EC_PORT_DIR}/arduino/make_library.cmake)
add_custom_target(port-arduino-library COMMAND ${EC_PORT_MAKE_LIBRARY}
  DEPENDS emoncrypt VERBATIM
  COMMENT "The port kit as an Arduino/PlatformIO library and ESP-IDF component")

if(EMONCRYPT_TESTS)
  set(check_lib ${PROJECT_SOURCE_DIR}/tests/port/check_library.py)
  set(arduino_check ${PROJECT_SOURCE_DIR}/tests/port/arduino_check.sh)
  add_test(NAME port-arduino/library COMMAND ${EC_PORT_MAKE_LIBRARY})
  set_tests_properties(port-arduino/library PROPERTIES LABELS port-arduino TIMEOUT 60
    FIXTURES_SETUP port_arduino_lib)
  add_test(NAME port-arduino/metadata
    COMMAND ${EMONCRYPT_PYTHON} ${check_lib} ${EC_PORT_ARDUINO_LIB}
            --version ${PROJECT_VERSION} --port-dir ${EC_PORT_DIR})
  add_test(NAME port-arduino/metadata-bites
    COMMAND ${EMONCRYPT_PYTHON} ${check_lib} --bite ${EC_PORT_ARDUINO_LIB}
            ${EC_PORT_ARDUINO_DIR}/doctored)
  set_tests_properties(port-arduino/metadata port-arduino/metadata-bites PROPERTIES
    LABELS port-arduino TIMEOUT 60 FIXTURES_REQUIRED port_arduino_lib)

  if(NOT EC_MBEDCRYPTO_LIBRARY)
    add_test(NAME port-arduino/host
      COMMAND sh -c "echo 'port-arduino/host skipped: mbedTLS not found (apt-get install libmbedtls-dev)'; exit 77")
  else()
    add_test(NAME port-arduino/host
      COMMAND sh ${arduino_check} host ${EC_PORT_ARDUINO_LIB} ${EC_PORT_DIR}
              ${EC_PORT_ARDUINO_DIR}/host $<TARGET_FILE:emoncrypt> ${CMAKE_C_COMPILER})
    # The kit broken (the streaming verifier's dropped base64 carry): the
    # self-test runs, and port-report must fail its output (exit 1).
    add_test(NAME port-arduino/host-mutant
      COMMAND sh -c "EXTRA_CFLAGS=-DECP_MUTANT_STREAM_CARRY sh \"$@\"; rc=$?; echo \"exit $rc (1 expected)\"; [ $rc -eq 1 ]"
              sh ${arduino_check} host ${EC_PORT_ARDUINO_LIB} ${EC_PORT_DIR}
              ${EC_PORT_ARDUINO_DIR}/host-mutant $<TARGET_FILE:emoncrypt>
              ${CMAKE_C_COMPILER})
    set_tests_properties(port-arduino/host-mutant PROPERTIES LABELS port-arduino TIMEOUT 120
      FIXTURES_REQUIRED port_arduino_lib)
  endif()
  set_tests_properties(port-arduino/host PROPERTIES LABELS port-arduino TIMEOUT 120
    SKIP_RETURN_CODE 77 FIXTURES_REQUIRED port_arduino_lib)
  if(EC_MBEDTLS_INCLUDE_DIR)
    set(mbed_inc ${EC_MBEDTLS_INCLUDE_DIR})
  else()
    set(mbed_inc ${EC_PORT_ARDUINO_DIR}/no-mbedtls)
  endif()
  add_test(NAME port-arduino/arm
    COMMAND sh ${arduino_check} arm ${EC_PORT_ARDUINO_LIB}
            ${EC_PORT_ARDUINO_DIR}/arm ${mbed_inc} ${EC_PORT_DIR}/fw)
  set_tests_properties(port-arduino/arm PROPERTIES LABELS port-arduino TIMEOUT 120
    SKIP_RETURN_CODE 77 FIXTURES_REQUIRED port_arduino_lib)
endif()
