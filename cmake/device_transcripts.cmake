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
  set_tests_properties(transcript/device-reference PROPERTIES TIMEOUT 120 LABELS "client;transcript")
endif()
# A real device's recording (data: the bytes it sent and the answers it
# got, with the public test key): the IoTaWatt Emoncms uploader
# (boblemaire/IoTaWatt 6c2cb97794ca) built on a host; see the README,
# "Tested Emoncms versions", for how it was recorded.
if(EMONCRYPT_TESTS)
  add_test(NAME transcript/device-iotawatt
    COMMAND ${EMONCRYPT_BASH} ${_ec_dev}/device-replay.sh $<TARGET_FILE:emoncrypt> transcript
            ${_ec_dev}/device-iotawatt.jsonl ${_ec_dev}/device-iotawatt.verdicts.json)
  # Doctored copies of it (one request byte changed; one captured answer
  # changed) must not give the live verdicts.
  add_test(NAME transcript/device-negative
    COMMAND ${EMONCRYPT_BASH} ${_ec_dev}/device-replay.sh $<TARGET_FILE:emoncrypt> negative
            ${_ec_dev}/device-iotawatt.jsonl ${_ec_dev}/device-iotawatt.verdicts.json)
  set_tests_properties(transcript/device-iotawatt transcript/device-negative
    PROPERTIES TIMEOUT 60 LABELS "client;transcript")
endif()
