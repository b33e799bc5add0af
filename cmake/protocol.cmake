# protocol area (plaintext.c, app.c, message.c, vectors.c): the unit tests
# once more under valgrind, when it is installed, so a leak or a bad read in
# the parsers fails ctest (label memcheck).
foreach(t test_plaintext test_message test_vectors)
  emoncrypt_memcheck_test(${t} memcheck)
endforeach()
