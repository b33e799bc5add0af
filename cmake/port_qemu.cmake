# The port kit on bare metal under QEMU (label port-qemu): the self-test
# images of harness/port/fw, cross-built in the ctest step (not in `all`)
# with Debian's gcc-arm-none-eabi / gcc-riscv64-unknown-elf and picolibc,
# over mbedTLS 2.28 cross-built from Debian's source package, and run with
# semihosting on:
#   cortex-m3  qemu-system-arm -M mps2-an385
#   cortex-m4  qemu-system-arm -M mps2-an386
#   rv32       qemu-system-riscv32 -M virt (the ESP32-C3's architecture)
# ctest cases (fixtures order them):
#   port-qemu/mbedtls-source      apt-get source mbedtls into the build dir
#   port-qemu/BOARD/build         configure + build the board's images
#   port-qemu/BOARD/mbedtls       every check passes on the board
#   port-qemu/BOARD/mutant-cbc    the CBC chaining bug is caught there too
#   port-qemu/BOARD/mutant-pad    the Pico W padding bug (a port's own
#                                 builder, in the 2 KiB work buffer: the
#                                 bodies that do not fit are SKIP too-large)
#   port-qemu/BOARD/mutant-stream the streaming verifier's dropped base64
#                                 carry (ECP_MUTANT_STREAM_CARRY) is caught
#   (each judged by `emoncrypt port-report` on the run's semihosting log,
#   JUnit in build/port-qemu/BOARD/*.junit.xml)
#   port-qemu/footprint           the footprint table (fw/footprint.py):
#                                 kit/shim/mbedTLS text/data/bss, work
#                                 buffer used, peak stack; within limits
#   port-qemu/footprint-limits-bite  the same with tiny limits must fail
# A board whose tools are missing gets one skipped case naming them.

# Included after cmake/port.cmake (the top CMakeLists includes cmake/*.cmake
# sorted): EC_PORT_DIR and EC_PORT_MUTANT_CBC_EXPECT come from there.
if(NOT DEFINED EC_PORT_DIR)
  message(FATAL_ERROR "cmake/port_qemu.cmake needs cmake/port.cmake first")
endif()
set(EC_PORT_QEMU_DIR ${CMAKE_CURRENT_BINARY_DIR}/port-qemu)
set(EC_PORT_QEMU_SH ${EC_PORT_DIR}/fw/port_qemu.sh)

find_program(EC_ARM_NONE_EABI_GCC arm-none-eabi-gcc)
find_program(EC_RISCV_ELF_GCC riscv64-unknown-elf-gcc)
find_program(EC_QEMU_ARM qemu-system-arm)
find_program(EC_QEMU_RISCV32 qemu-system-riscv32)
find_file(EC_PICOLIBC_ARM picolibc.specs PATHS /usr/lib/picolibc/arm-none-eabi NO_DEFAULT_PATH)
find_file(EC_PICOLIBC_RISCV picolibc.specs PATHS /usr/lib/picolibc/riscv64-unknown-elf NO_DEFAULT_PATH)

function(emoncrypt_port_qemu_skip name why)
  message(STATUS "port-qemu: ${name} skipped: ${why}")
  add_test(NAME port-qemu/${name}
    COMMAND sh -c "echo 'port-qemu/${name} skipped: ${why}'; exit 77")
  set_tests_properties(port-qemu/${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS port-qemu)
endfunction()

function(emoncrypt_port_qemu_props name)
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS port-qemu ${ARGN})
endfunction()

# emoncrypt_port_qemu_board(BOARD "missing tools, or empty")
function(emoncrypt_port_qemu_board board missing)
  if(missing)
    emoncrypt_port_qemu_skip(${board} "missing ${missing} (tools/packages.txt; tools/run installs them)")
    return()
  endif()
  set(out ${EC_PORT_QEMU_DIR}/${board})
  add_test(NAME port-qemu/${board}/build
    COMMAND sh ${EC_PORT_QEMU_SH} build ${EC_PORT_QEMU_DIR}/src ${EC_PORT_DIR}
            ${EC_PORT_DIR}/fw/toolchain.cmake ${board} ${out})
  emoncrypt_port_qemu_props(port-qemu/${board}/build TIMEOUT 900
    FIXTURES_REQUIRED port_qemu_src FIXTURES_SETUP port_qemu_${board})
  # Each run is judged by `emoncrypt port-report` on its semihosting log
  # (port_qemu.sh report): JUnit and JSON beside the log.
  set(report sh ${EC_PORT_QEMU_SH} report $<TARGET_FILE:emoncrypt> ${board})
  set(expect ${EMONCRYPT_PYTHON} ${PROJECT_SOURCE_DIR}/tests/port/port_report_check.py)
  add_test(NAME port-qemu/${board}/mbedtls
    COMMAND ${report} ${out}/selftest-mbedtls.elf ${out}/selftest-mbedtls.log
            ${out}/selftest-mbedtls.junit.xml)
  emoncrypt_port_qemu_props(port-qemu/${board}/mbedtls TIMEOUT 400
    FIXTURES_REQUIRED port_qemu_${board} FIXTURES_SETUP port_qemu_${board}_run)
  add_test(NAME port-qemu/${board}/mutant-stream
    COMMAND ${report} ${out}/selftest-mutant-stream.elf ${out}/selftest-mutant-stream.log
            ${out}/selftest-mutant-stream.junit.xml
            ${expect} ${EC_PORT_MUTANT_STREAM_EXPECT} verify-valid)
  emoncrypt_port_qemu_props(port-qemu/${board}/mutant-stream TIMEOUT 400
    FIXTURES_REQUIRED port_qemu_${board})
  set_property(GLOBAL APPEND PROPERTY EC_PORT_QEMU_BOARDS "${board}=${out}")
  add_test(NAME port-qemu/${board}/mutant-cbc
    COMMAND ${report} ${out}/selftest-mutant-cbc.elf ${out}/selftest-mutant-cbc.log
            ${out}/selftest-mutant-cbc.junit.xml
            ${expect} ${EC_PORT_MUTANT_CBC_EXPECT} body)
  emoncrypt_port_qemu_props(port-qemu/${board}/mutant-cbc TIMEOUT 400
    FIXTURES_REQUIRED port_qemu_${board})
  add_test(NAME port-qemu/${board}/mutant-pad
    COMMAND ${report} ${out}/selftest-mutant-pad.elf ${out}/selftest-mutant-pad.log
            ${out}/selftest-mutant-pad.junit.xml
            ${expect} ${EC_PORT_MUTANT_PAD_EXPECT} body)
  emoncrypt_port_qemu_props(port-qemu/${board}/mutant-pad TIMEOUT 400
    FIXTURES_REQUIRED port_qemu_${board})
endfunction()

if(EMONCRYPT_TESTS)
  add_test(NAME port-qemu/mbedtls-source
    COMMAND sh ${EC_PORT_QEMU_SH} fetch ${EC_PORT_QEMU_DIR}/src)
  emoncrypt_port_qemu_props(port-qemu/mbedtls-source TIMEOUT 300
    FIXTURES_SETUP port_qemu_src)

  set(arm_missing "")
  if(NOT EC_ARM_NONE_EABI_GCC)
    list(APPEND arm_missing gcc-arm-none-eabi)
  endif()
  if(NOT EC_PICOLIBC_ARM)
    list(APPEND arm_missing picolibc-arm-none-eabi)
  endif()
  if(NOT EC_QEMU_ARM)
    list(APPEND arm_missing qemu-system-arm)
  endif()
  set(rv_missing "")
  if(NOT EC_RISCV_ELF_GCC)
    list(APPEND rv_missing gcc-riscv64-unknown-elf)
  endif()
  if(NOT EC_PICOLIBC_RISCV)
    list(APPEND rv_missing picolibc-riscv64-unknown-elf)
  endif()
  if(NOT EC_QEMU_RISCV32)
    list(APPEND rv_missing qemu-system-misc)
  endif()
  string(REPLACE ";" ", " arm_missing "${arm_missing}")
  string(REPLACE ";" ", " rv_missing "${rv_missing}")
  emoncrypt_port_qemu_board(cortex-m3 "${arm_missing}")
  emoncrypt_port_qemu_board(cortex-m4 "${arm_missing}")
  emoncrypt_port_qemu_board(rv32 "${rv_missing}")

  # The footprint of the boards that were built and run.
  get_property(boards GLOBAL PROPERTY EC_PORT_QEMU_BOARDS)
  find_program(EC_PYTHON3 python3)
  if(boards AND EC_PYTHON3)
    set(fixtures "")
    foreach(b ${boards})
      string(REGEX REPLACE "=.*" "" name "${b}")
      list(APPEND fixtures port_qemu_${name}_run)
    endforeach()
    add_test(NAME port-qemu/footprint
      COMMAND ${EC_PYTHON3} ${EC_PORT_DIR}/fw/footprint.py
              --out ${EC_PORT_QEMU_DIR}/footprint.md ${boards})
    # (not through emoncrypt_port_qemu_props: ARGN would split the list)
    set_tests_properties(port-qemu/footprint PROPERTIES LABELS port-qemu TIMEOUT 60
      SKIP_RETURN_CODE 77 FIXTURES_REQUIRED "${fixtures}")
    add_test(NAME port-qemu/footprint-limits-bite
      COMMAND sh -c "out=$(\"$0\" \"$@\"); rc=$?; echo \"$out\"; [ $rc -eq 77 ] && exit 77; [ $rc -eq 1 ] && echo \"$out\" | grep -q 'stack peak .* > 64' && echo \"$out\" | grep -q 'work buffer .* > 16'"
              ${EC_PYTHON3} ${EC_PORT_DIR}/fw/footprint.py
              --max-work 16 --max-stack 64 --max-kit-text 100 ${boards})
    set_tests_properties(port-qemu/footprint-limits-bite PROPERTIES LABELS port-qemu TIMEOUT 60
      SKIP_RETURN_CODE 77 FIXTURES_REQUIRED "${fixtures}")
  endif()
endif()
