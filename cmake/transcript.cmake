# Transcripts (issues 11 and 19): recorded runs of test-server against real
# servers (tests/transcripts/*.json, written by `test-server --seed N
# --record FILE`), replayed by `emoncrypt serve-transcript`: the same
# verdict for every case and the same totals, with no request the
# transcript lacks.  transcript/negative alters one recorded answer and
# transcript/drift one recorded request: both must be noticed.
if(EMONCRYPT_TESTS)
  find_program(EMONCRYPT_SH sh REQUIRED)
  # the server role's: emoncms-VERSION[-OPTIONS].json and serve-*.json (the
  # client role's recorded devices, device-*, are cmake/device_transcripts.cmake's)
  file(GLOB _ec_transcripts CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/transcripts/emoncms-*.json
    ${PROJECT_SOURCE_DIR}/tests/transcripts/serve-*.json)
  foreach(t ${_ec_transcripts})
    get_filename_component(_name ${t} NAME_WLE)
    add_test(NAME transcript/${_name}
      COMMAND ${EMONCRYPT_SH} ${PROJECT_SOURCE_DIR}/tests/cli/transcript.sh $<TARGET_FILE:emoncrypt> ${t})
    set_tests_properties(transcript/${_name} PROPERTIES TIMEOUT 120 LABELS transcript)
  endforeach()
  set(_ec_doctored ${PROJECT_SOURCE_DIR}/tests/transcripts/serve-default.json)
  foreach(mode negative drift)
    add_test(NAME transcript/${mode}
      COMMAND ${EMONCRYPT_SH} ${PROJECT_SOURCE_DIR}/tests/cli/transcript.sh $<TARGET_FILE:emoncrypt>
        ${_ec_doctored} ${mode})
    set_tests_properties(transcript/${mode} PROPERTIES TIMEOUT 120 LABELS transcript)
  endforeach()
  add_test(NAME transcript/refuse-secret
    COMMAND ${EMONCRYPT_SH} ${PROJECT_SOURCE_DIR}/tests/cli/transcript.sh $<TARGET_FILE:emoncrypt> - refuse)
  set_tests_properties(transcript/refuse-secret PROPERTIES TIMEOUT 60 LABELS transcript)
endif()
