# protocol area (plaintext.c, app.c, message.c, vectors.c): the unit tests
# once more under valgrind, when it is installed, so a leak or a bad read in
# the parsers fails ctest (label memcheck).
find_program(EMONCRYPT_VALGRIND valgrind)
if(EMONCRYPT_TESTS AND EMONCRYPT_VALGRIND)
  foreach(t test_plaintext test_message test_vectors)
    if(TARGET ${t})
      add_test(NAME memcheck/${t}
        COMMAND ${EMONCRYPT_VALGRIND} -q --leak-check=full
                --errors-for-leak-kinds=definite,possible --error-exitcode=99
                $<TARGET_FILE:${t}>)
      set_tests_properties(memcheck/${t} PROPERTIES TIMEOUT 600 LABELS memcheck)
    endif()
  endforeach()
endif()
