# Recorded devices in the client role (issue 11): a device's traffic
# against `emoncrypt test-client --capture` is judged again in process with
# `test-client --from-capture`, and must give the live run's verdicts
# (tests/transcripts/device-replay.sh; the data: tests/transcripts/device-*).
if(EMONCRYPT_TESTS)
  find_program(EMONCRYPT_BASH bash REQUIRED)
  set(_ec_dev ${PROJECT_SOURCE_DIR}/tests/transcripts)
  # The reference client recorded now and replayed, doctored copies caught,
  # and --seed reproducible.
  add_test(NAME transcript/device-reference
    COMMAND ${EMONCRYPT_BASH} ${_ec_dev}/device-replay.sh $<TARGET_FILE:emoncrypt> reference)
  set_tests_properties(transcript/device-reference PROPERTIES TIMEOUT 60 LABELS "client;transcript")
endif()
