# cmake --install into a scratch prefix, then programs outside the project
# built against it with pkg-config and with find_package (issue 15).
add_test(NAME install/consumer
  COMMAND ${PROJECT_SOURCE_DIR}/tests/install/consumer.sh ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER} ${EMONCRYPT_SANITIZE})
set_tests_properties(install/consumer PROPERTIES TIMEOUT 300 LABELS install)

# The installed binary finds its vectors from its own location, never the
# source tree; none found is exit 2 (issue 15).
add_test(NAME install/relocatable
  COMMAND ${PROJECT_SOURCE_DIR}/tests/install/relocate.sh ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(install/relocatable PROPERTIES TIMEOUT 300 LABELS install)
