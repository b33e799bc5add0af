# Reference vectors: the committed file must be exactly what the generator
# writes, must satisfy its JSON Schema, and its answers must survive being
# recomputed by decrypting every accepted vector back.
# EMONCRYPT_PYTHON is Debian's /usr/bin/python3 (found by the top-level
# CMakeLists), the interpreter that has python3-cryptography.

if(EMONCRYPT_TESTS AND EMONCRYPT_PYTHON)
  set(EMONCRYPT_GEN_VECTORS ${PROJECT_SOURCE_DIR}/tools/gen_vectors.py)
  add_test(NAME vectors/regenerate
    COMMAND ${EMONCRYPT_PYTHON} ${EMONCRYPT_GEN_VECTORS} --check ${PROJECT_SOURCE_DIR}/vectors)
  # --validate uses python3-jsonschema (Debian package) against the schema file.
  add_test(NAME vectors/schema
    COMMAND ${EMONCRYPT_PYTHON} ${EMONCRYPT_GEN_VECTORS} --validate ${PROJECT_SOURCE_DIR}/vectors)
  add_test(NAME vectors/selftest
    COMMAND ${EMONCRYPT_PYTHON} ${EMONCRYPT_GEN_VECTORS} --selftest ${PROJECT_SOURCE_DIR}/vectors)
  set_tests_properties(vectors/regenerate vectors/schema vectors/selftest PROPERTIES TIMEOUT 120)
endif()
