# The case ids as a contract (issue 12), tests/ids/check_ids.py:
#   ids/manifest           suites/ids.txt = every id both --list print; a
#                          renamed id ("OLD -> NEW") still selects its case
#   ids/grep               every id both --list print is written out in full
#                          in the row that defines it, in the file named after
#                          its section (a vector id: its tcId in vectors/*.json)
#   ids/negative           the checks fail on doctored input (an id gone, an
#                          id not in the manifest, a broken rename, an id not
#                          written out in its section's file, an id glued by a
#                          macro, an id only in another section's file)

if(EMONCRYPT_TESTS AND EMONCRYPT_PYTHON)
  set(_ec_ids ${PROJECT_SOURCE_DIR}/tests/ids/check_ids.py)
  foreach(mode manifest grep negative)
    add_test(NAME ids/${mode}
      COMMAND ${EMONCRYPT_PYTHON} ${_ec_ids} ${mode} $<TARGET_FILE:emoncrypt> ${PROJECT_SOURCE_DIR})
    set_tests_properties(ids/${mode} PROPERTIES TIMEOUT 120 LABELS ids)
  endforeach()
endif()
