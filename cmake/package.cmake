# Installing the libraries for a consumer (issue 15): both libraries static
# and shared, the headers, the port kit, a CMake package config
#   find_package(emoncrypt 0.1 CONFIG REQUIRED)            # emoncrypt::codec, emoncrypt::codec_static
#   find_package(emoncrypt CONFIG REQUIRED COMPONENTS harness)  # + emoncrypt::harness, emoncrypt::harness_static
# and pkg-config files emoncrypt.pc (the codec) and emoncrypt-harness.pc.
# The codec's package file asks for OpenSSL and zlib only; the harness
# component adds libcurl, jansson and libmicrohttpd.  ctest install/consumer
# builds a program both ways, shared and static.
include(CMakePackageConfigHelpers)
set(EMONCRYPT_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/emoncrypt)

install(TARGETS emoncrypt_codec_static emoncrypt_codec_shared EXPORT emoncrypt-codec
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS emoncrypt_static emoncrypt_shared EXPORT emoncrypt-harness
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT emoncrypt-codec NAMESPACE emoncrypt:: DESTINATION ${EMONCRYPT_CMAKEDIR}
  FILE emoncrypt-codec-targets.cmake)
install(EXPORT emoncrypt-harness NAMESPACE emoncrypt:: DESTINATION ${EMONCRYPT_CMAKEDIR}
  FILE emoncrypt-harness-targets.cmake)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/package/emoncrypt-config.cmake.in
  ${CMAKE_BINARY_DIR}/emoncrypt-config.cmake INSTALL_DESTINATION ${EMONCRYPT_CMAKEDIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/emoncrypt-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/emoncrypt-config.cmake
  ${CMAKE_BINARY_DIR}/emoncrypt-config-version.cmake DESTINATION ${EMONCRYPT_CMAKEDIR})

install(DIRECTORY harness/include/emoncrypt DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# The port kit as harness/port/README.md lists it (not its ctest helpers).
install(FILES
  harness/port/README.md harness/port/emoncrypt_port.h harness/port/emoncrypt_port.c
  harness/port/emoncrypt_vectors.h harness/port/shim_openssl.c harness/port/shim_mbedtls.c
  harness/port/shim_bearssl.c harness/port/shim_mutant_cbc.c harness/port/port_main.c
  harness/port/port_host.h
  DESTINATION ${CMAKE_INSTALL_DATADIR}/emoncrypt/port)
# ... and the generator of its Arduino / PlatformIO / ESP-IDF library
# (harness/port/README.md section 8), which runs from there too.
install(DIRECTORY harness/port/arduino DESTINATION ${CMAKE_INSTALL_DATADIR}/emoncrypt/port)

# The .pc files find their prefix from where they are installed (pcfiledir),
# so `cmake --install --prefix DIR` gives working pkg-config files anywhere;
# a distribution package (debian/rules) names CMAKE_INSTALL_PREFIX instead.
option(EMONCRYPT_PC_RELOCATABLE "pkg-config files find their prefix from their own location" ON)
if(EMONCRYPT_PC_RELOCATABLE)
  file(RELATIVE_PATH EMONCRYPT_PC_TO_PREFIX
    /emoncrypt-prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /emoncrypt-prefix)
  string(REGEX REPLACE "/$" "" EMONCRYPT_PC_TO_PREFIX "${EMONCRYPT_PC_TO_PREFIX}")
  set(EMONCRYPT_PC_PREFIX "\${pcfiledir}/${EMONCRYPT_PC_TO_PREFIX}")
else()
  set(EMONCRYPT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
endif()
foreach(pc emoncrypt emoncrypt-harness)
  configure_file(harness/${pc}.pc.in ${CMAKE_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
