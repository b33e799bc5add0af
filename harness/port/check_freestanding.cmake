# ctest port/header-freestanding: the generated vector header and the kit
# compile as a firmware toolchain would take them, and include nothing a
# freestanding C99 implementation lacks.
#   cmake -DCC=… -DPORT_DIR=… -DWORK_DIR=… -P check_freestanding.cmake

set(flags -std=c99 -ffreestanding -pedantic -Wall -Wextra -Werror)
file(MAKE_DIRECTORY ${WORK_DIR})

# Only <stddef.h> and <stdint.h> (and the kit's own headers) may appear.
foreach(file emoncrypt_vectors.h emoncrypt_port.h emoncrypt_port.c)
  file(STRINGS ${PORT_DIR}/${file} includes REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS includes)
    if(NOT line MATCHES "<(stddef|stdint)\\.h>|\"emoncrypt_(port|vectors)\\.h\"")
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
foreach(unit ${WORK_DIR}/include_vectors.c ${PORT_DIR}/emoncrypt_port.c)
  foreach(variant "" -DECP_NO_SELFTEST)
    if(unit MATCHES "include_vectors" AND variant)
      continue()
    endif()
    execute_process(
      COMMAND ${CC} ${flags} ${variant} -I${PORT_DIR} -c ${unit} -o ${WORK_DIR}/unit.o
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${CC} ${flags} ${variant} ${unit} failed:\n${out}${err}")
    endif()
    message(STATUS "ok: ${CC} ${flags} ${variant} -c ${unit}")
  endforeach()
endforeach()
