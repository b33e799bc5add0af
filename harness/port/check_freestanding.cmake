# ctest port/header-freestanding: the generated vector header and the kit
# compile as a firmware toolchain would take them, and include nothing a
# freestanding C99 implementation lacks.
#   cmake -DCC=… -DPORT_DIR=… -DWORK_DIR=… -P check_freestanding.cmake

# The header: exactly the flags a firmware build is promised.  The kit
# itself also under -pedantic (long vector bodies exceed C99's 4095-byte
# minimum string length, which every real compiler exceeds: allowed).
set(header_flags -std=c99 -ffreestanding -Wall -Wextra -Werror)
set(kit_flags ${header_flags} -pedantic -Wno-overlength-strings)
file(MAKE_DIRECTORY ${WORK_DIR})

# Only <stddef.h> and <stdint.h> (and the kit's own headers) may appear.
foreach(file emoncrypt_vectors.h emoncrypt_port.h emoncrypt_port.c)
  file(STRINGS ${PORT_DIR}/${file} includes REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS includes)
    if(NOT line MATCHES "<(stddef|stdint)\\.h>|\"emoncrypt_(port|vectors)\\.h\"|ECP_VECTORS_HEADER")
      message(FATAL_ERROR "${file} includes something a freestanding build may lack: ${line}")
    endif()
  endforeach()
endforeach()

# The header on its own, included from a translation unit that uses
# nothing else (as the firmware's self-test file would).
file(WRITE ${WORK_DIR}/include_vectors.c
  "#include \"emoncrypt_vectors.h\"\n"
  "size_t port_vector_count(void);\n"
  "size_t port_vector_count(void) { return EMONCRYPT_VECTOR_COUNT; }\n")
function(compile_unit unit)
  execute_process(
    COMMAND ${CC} ${ARGN} -I${PORT_DIR} -c ${unit} -o ${WORK_DIR}/unit.o
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(JOIN " " shown ${CC} ${ARGN} -c ${unit})
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${shown}\n${out}${err}")
  endif()
  message(STATUS "ok: ${shown}")
endfunction()
compile_unit(${WORK_DIR}/include_vectors.c ${header_flags})
compile_unit(${PORT_DIR}/emoncrypt_port.c ${kit_flags})
compile_unit(${PORT_DIR}/emoncrypt_port.c ${kit_flags} -DECP_NO_SELFTEST)
