# The emoncrypt CLI's tests: each ctest case runs build/emoncrypt once
# through tests/cli/expect.sh, which checks its exit status, stdout and
# stderr.  The reference values are SPEC.md §8's.

if(EMONCRYPT_TESTS)
  find_program(EMONCRYPT_BASH bash REQUIRED)
  set(EC_CLI_DIR ${PROJECT_SOURCE_DIR}/tests/cli)
  set(EC_CLI_EXE $<TARGET_FILE:emoncrypt>)

  # SPEC §8
  set(EC_SPEC8_KEY 0123456789abcdef0123456789abcdef)
  set(EC_SPEC8_IV 000102030405060708090a0b0c0d0e0f)
  set(EC_SPEC8_PT [=[node=emontx&fulljson={"power1":100,"power2":200}]=])
  set(EC_SPEC8_BODY AAECAwQFBgcICQoLDA0OD6ysannEGt7kNt4Vg14VcF8gA_Ti4prXayZj3GpKklq17LlDVdhecrZmUY8UBAam3_oj5jmaczqBieWsajqhNGc)
  set(EC_SPEC8_AUTH 1:b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662)
  set(EC_SPEC8_ACK 6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48=)
  set(EC_SPEC8_ARGS --apikey ${EC_SPEC8_KEY} --userid 1 --iv ${EC_SPEC8_IV})

  # emoncrypt_cli_test(NAME CHECKS… -- ARGS…): ARGS go to build/emoncrypt.
  function(emoncrypt_cli_test name)
    set(args ${ARGN})
    list(FIND args -- dashes)
    list(SUBLIST args 0 ${dashes} checks)
    math(EXPR first "${dashes} + 1")
    list(SUBLIST args ${first} -1 command)
    add_test(NAME cli/${name}
      COMMAND ${EMONCRYPT_BASH} ${EC_CLI_DIR}/expect.sh ${checks} -- ${EC_CLI_EXE} ${command})
    set_tests_properties(cli/${name} PROPERTIES TIMEOUT 60 LABELS cli)
  endfunction()

  # ---- encode: the reference vector, from every kind of input ----------
  set(EC_SPEC8_CHECKS
    --stdout-has "Authorization: ${EC_SPEC8_AUTH}"
    --stdout-has ${EC_SPEC8_BODY}
    --stdout-has ${EC_SPEC8_ACK}
    --never ${EC_SPEC8_KEY})
  emoncrypt_cli_test(encode/spec8-http
    --stdout-file ${EC_CLI_DIR}/encode-spec8.http ${EC_SPEC8_CHECKS}
    -- encode ${EC_SPEC8_ARGS} ${EC_SPEC8_PT})
  emoncrypt_cli_test(encode/spec8-stdin
    --stdin ${EC_CLI_DIR}/spec8-plaintext.txt
    --stdout-file ${EC_CLI_DIR}/encode-spec8.http ${EC_SPEC8_CHECKS}
    -- encode ${EC_SPEC8_ARGS} -)
  emoncrypt_cli_test(encode/spec8-at-file
    --stdout-file ${EC_CLI_DIR}/encode-spec8.http ${EC_SPEC8_CHECKS}
    -- encode ${EC_SPEC8_ARGS} @${EC_CLI_DIR}/spec8-plaintext.txt)
  emoncrypt_cli_test(encode/spec8-uppercase-key
    --stdout-file ${EC_CLI_DIR}/encode-spec8.http ${EC_SPEC8_CHECKS}
    -- encode --apikey 0123456789ABCDEF0123456789ABCDEF --userid 1 --iv ${EC_SPEC8_IV}
       ${EC_SPEC8_PT})
  emoncrypt_cli_test(encode/spec8-json
    --stdout-file ${EC_CLI_DIR}/encode-spec8.json --never ${EC_SPEC8_KEY}
    -- encode ${EC_SPEC8_ARGS} --format json ${EC_SPEC8_PT})
  emoncrypt_cli_test(encode/spec8-curl
    --stdout-file ${EC_CLI_DIR}/encode-spec8.curl --never ${EC_SPEC8_KEY}
    -- encode ${EC_SPEC8_ARGS} --format curl ${EC_SPEC8_PT})
  emoncrypt_cli_test(encode/spec8-padding-kept
    --stdout-has "${EC_SPEC8_BODY}=" --stdout-has "Content-Length: 108"
    -- encode ${EC_SPEC8_ARGS} --b64-padding keep ${EC_SPEC8_PT})
  emoncrypt_cli_test(encode/mistake-hmac-upper
    --stdout-has "Authorization: 1:B34E30A93AB8F8DDDED42C3D5EAA66915AEC0CFC931E9FC23FBD60567B9F2662"
    --stdout-has "# built with client mistakes: hmac-upper"
    --stdout-has ${EC_SPEC8_BODY}
    -- encode ${EC_SPEC8_ARGS} --mistake hmac-upper ${EC_SPEC8_PT})
  emoncrypt_cli_test(encode/random-iv
    --never ${EC_SPEC8_KEY} --never ${EC_SPEC8_BODY}
    -- encode --apikey ${EC_SPEC8_KEY} --userid 1 ${EC_SPEC8_PT})

  # ---- bad input: exit 2 and one line on stderr ------------------------
  emoncrypt_cli_test(usage/key-31-digits --exit 2
    --stderr-line "emoncrypt encode: --apikey: expected 32 hex digits, got 31"
    -- encode --apikey 0123456789abcdef0123456789abcde --userid 1 ${EC_SPEC8_PT})
  emoncrypt_cli_test(usage/key-odd-length --exit 2
    --stderr-line "emoncrypt encode: --apikey: expected 32 hex digits, got 33"
    -- encode --apikey 0123456789abcdef0123456789abcdef0 --userid 1 ${EC_SPEC8_PT})
  emoncrypt_cli_test(usage/key-not-hex --exit 2
    --stderr-line "emoncrypt encode: --apikey: expected 32 hex digits, character 5 is not one"
    --never 0123g
    -- encode --apikey 0123g56789abcdef0123456789abcdef --userid 1 ${EC_SPEC8_PT})
  emoncrypt_cli_test(usage/iv-15-bytes --exit 2
    --stderr-line "emoncrypt encode: --iv: expected 32 hex digits, got 30"
    -- encode --apikey ${EC_SPEC8_KEY} --userid 1 --iv 000102030405060708090a0b0c0d0e
       ${EC_SPEC8_PT})
  emoncrypt_cli_test(usage/unreadable-file --exit 2 --stderr-one-line
    -- encode ${EC_SPEC8_ARGS} @${EC_CLI_DIR}/no-such-file.txt)
  emoncrypt_cli_test(usage/directory-as-file --exit 2 --stderr-one-line
    -- encode ${EC_SPEC8_ARGS} @${EC_CLI_DIR})
  emoncrypt_cli_test(usage/unknown-profile --exit 2
    --stderr-line "emoncrypt encode: --profile: unknown profile 'aes256cbc' (expected aes128cbc, aes128cbcgz or legacy)"
    -- encode ${EC_SPEC8_ARGS} --profile aes256cbc ${EC_SPEC8_PT})
  emoncrypt_cli_test(usage/unknown-format --exit 2 --stderr-one-line
    -- encode ${EC_SPEC8_ARGS} --format yaml ${EC_SPEC8_PT})
  emoncrypt_cli_test(usage/unknown-option --exit 2
    --stderr-line "emoncrypt encode: unknown option --frobnicate (see 'emoncrypt encode --help')"
    -- encode ${EC_SPEC8_ARGS} --frobnicate ${EC_SPEC8_PT})
  emoncrypt_cli_test(usage/misspelt-key-option --exit 2
    --stderr-line "emoncrypt encode: --apikye: unknown option, or one that takes no value (see 'emoncrypt encode --help')"
    --never ${EC_SPEC8_KEY}
    -- encode --apikye=${EC_SPEC8_KEY} --userid 1 ${EC_SPEC8_PT})
  emoncrypt_cli_test(usage/option-without-value --exit 2
    --stderr-line "emoncrypt encode: --userid needs a value (see 'emoncrypt encode --help')"
    -- encode --apikey ${EC_SPEC8_KEY} ${EC_SPEC8_PT} --userid)
  emoncrypt_cli_test(usage/unknown-mistake --exit 2 --stderr-one-line
    -- encode ${EC_SPEC8_ARGS} --mistake hmac-lowercase ${EC_SPEC8_PT})
  emoncrypt_cli_test(usage/no-plaintext --exit 2 --stderr-one-line
    -- encode ${EC_SPEC8_ARGS})
  emoncrypt_cli_test(usage/no-userid --exit 2
    --stderr-line "emoncrypt encode: --userid is required with --profile aes128cbc"
    -- encode --apikey ${EC_SPEC8_KEY} ${EC_SPEC8_PT})
  emoncrypt_cli_test(usage/legacy-without-username --exit 2
    --stderr-line "emoncrypt encode: --username is required with --profile legacy"
    -- encode --apikey ${EC_SPEC8_KEY} --profile legacy ${EC_SPEC8_PT})
  emoncrypt_cli_test(usage/unknown-subcommand --exit 2
    --stderr-line "emoncrypt: 'frobnicate' is not an emoncrypt command (see 'emoncrypt --help')"
    -- frobnicate)
  emoncrypt_cli_test(usage/unknown-help-topic --exit 2 --stderr-one-line
    -- help frobnicate)

  # ---- vectors: the project's vector file ------------------------------
  emoncrypt_cli_test(vectors/summary-spec8
    --stdout-has "post/spec8-reference  aes128cbc   valid      ok"
    --stdout-has "Spec8                              1"
    -- vectors --id post/spec8-reference)
  emoncrypt_cli_test(vectors/summary-all
    --stdout-has "profile        valid invalid acceptable   total"
    --stdout-has "flag                         vectors"
    -- vectors --format summary)
  add_test(NAME cli/vectors/c-header
    COMMAND ${EMONCRYPT_BASH} ${EC_CLI_DIR}/c_header.sh ${EC_CLI_EXE} ${CMAKE_C_COMPILER}
            ${CMAKE_CURRENT_BINARY_DIR}/cli-c-header)
  add_test(NAME cli/vectors/json-subset
    COMMAND ${EMONCRYPT_BASH} ${EC_CLI_DIR}/json_subset.sh ${EC_CLI_EXE}
            ${PROJECT_SOURCE_DIR}/vectors/emoncms_input_v1.schema.json
            ${CMAKE_CURRENT_BINARY_DIR}/cli-json-subset)
  set_tests_properties(cli/vectors/c-header cli/vectors/json-subset
    PROPERTIES TIMEOUT 300 LABELS cli)
  emoncrypt_cli_test(usage/vectors-unknown-result --exit 2
    --stderr-line "emoncrypt vectors: --result: unknown value 'fine' (expected one of: valid, invalid, acceptable)"
    -- vectors --result fine)
  emoncrypt_cli_test(usage/vectors-unknown-profile --exit 2 --stderr-one-line
    -- vectors --profile aes256cbc)
  emoncrypt_cli_test(usage/vectors-unknown-flag --exit 2
    --stderr-line "emoncrypt vectors: --flag: no vector in emoncms_input_v1.json has the flag 'NoSuchFlag'"
    -- vectors --flag NoSuchFlag)
  emoncrypt_cli_test(usage/vectors-unknown-id --exit 2 --stderr-one-line
    -- vectors --id no/such-vector)
  emoncrypt_cli_test(usage/vectors-missing-file --exit 2 --stderr-one-line
    -- vectors --file ${EC_CLI_DIR}/no-such-file.json)
  emoncrypt_cli_test(usage/vectors-not-json --exit 2 --stderr-one-line
    -- vectors --file ${EC_CLI_DIR}/spec8-plaintext.txt)

  # ---- --help on every command of the table ----------------------------
  add_test(NAME cli/help/every-command
    COMMAND ${EMONCRYPT_BASH} ${EC_CLI_DIR}/help_all.sh ${EC_CLI_EXE})
  set_tests_properties(cli/help/every-command PROPERTIES TIMEOUT 60 LABELS cli)

  # ---- one number and user-id parser (cli.c) for load and fleet --------
  emoncrypt_cli_test(usage/load-bad-number --exit 2
    --stderr-line "emoncrypt load: --devices: expected a number from 1 to 100000, got '0'"
    -- load http://127.0.0.1:9 --userid 1 --apikey ${EC_SPEC8_KEY} --devices 0)
  emoncrypt_cli_test(usage/fleet-bad-number --exit 2
    --stderr-line "emoncrypt fleet: --devices: expected a number from 1 to 100000, got 'x'"
    -- fleet export ${CMAKE_CURRENT_BINARY_DIR}/cli-fleet-x http://127.0.0.1:9 --userid 1 --apikey ${EC_SPEC8_KEY} --devices x)
  emoncrypt_cli_test(usage/load-bad-userid --exit 2
    --stderr-line "emoncrypt load: --userid: expected the numeric user id, got '1a'"
    -- load http://127.0.0.1:9 --userid 1a --apikey ${EC_SPEC8_KEY})
  emoncrypt_cli_test(usage/fleet-long-userid --exit 2
    --stderr-line "emoncrypt fleet: --userid: expected the numeric user id, got '123456789012345678901'"
    -- fleet export ${CMAKE_CURRENT_BINARY_DIR}/cli-fleet-x http://127.0.0.1:9 --userid 123456789012345678901 --apikey ${EC_SPEC8_KEY})
  emoncrypt_cli_test(usage/test-server-bad-userid --exit 2
    --stderr-line "emoncrypt test-server: --userid: expected the numeric user id, got 'me'"
    -- test-server http://127.0.0.1:9 --userid me --apikey ${EC_SPEC8_KEY})

  # ---- case selection (issue 13): test-server and test-client ---------
  add_test(NAME cli/selection
    COMMAND ${EMONCRYPT_BASH} ${EC_CLI_DIR}/selection.sh ${EC_CLI_EXE})
  set_tests_properties(cli/selection PROPERTIES TIMEOUT 240 LABELS cli)

  # ---- one summary, report paths first, one vocabulary (issue 13) -----
  add_test(NAME cli/summary-and-paths
    COMMAND ${EMONCRYPT_BASH} ${EC_CLI_DIR}/summary_paths.sh ${EC_CLI_EXE})
  add_test(NAME cli/vocabulary
    COMMAND python3 ${EC_CLI_DIR}/vocabulary.py ${EC_CLI_EXE} ${PROJECT_SOURCE_DIR})
  set_tests_properties(cli/summary-and-paths cli/vocabulary PROPERTIES TIMEOUT 240 LABELS cli)
endif()
