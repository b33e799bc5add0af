# Set-up diagnosis and progress (issue 13 points 4 and 6): a wrong key, user
# id or URL is one line and exit 2 (tests/cli/setup_diagnosis.sh, with a
# small Python web server that is not Emoncms).
if(EMONCRYPT_TESTS)
  find_program(EMONCRYPT_BASH bash REQUIRED)
  if(EMONCRYPT_PYTHON)
    add_test(NAME cli/setup-diagnosis
      COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/cli/setup_diagnosis.sh
              $<TARGET_FILE:emoncrypt> ${EMONCRYPT_PYTHON} ${CMAKE_CURRENT_BINARY_DIR}/cli-setup-diagnosis)
    set_tests_properties(cli/setup-diagnosis PROPERTIES TIMEOUT 120 LABELS "cli;server")
  endif()
endif()
if(EMONCRYPT_TESTS)
  add_test(NAME client/cli/no-device
    COMMAND ${EMONCRYPT_BASH} ${PROJECT_SOURCE_DIR}/tests/cli/no_device.sh
            $<TARGET_FILE:emoncrypt> ${CMAKE_CURRENT_BINARY_DIR}/cli-no-device)
  set_tests_properties(client/cli/no-device PROPERTIES TIMEOUT 90 LABELS "cli;client")
endif()
