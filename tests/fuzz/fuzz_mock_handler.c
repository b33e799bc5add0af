/* libFuzzer target: the client-role mock Emoncms (suites/client, the
 * handler behind `emoncrypt test-client`) running in this process on a
 * loopback port, fed one exchange per input (format: fuzz_http.h).  Every
 * 500 inputs the run is finished — the behaviour audit reads everything
 * the mock recorded — and a fresh mock started, so memory stays bounded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_http.h"
#include "fuzz_mock_fixture.h"

/* OpenSSL's per-thread state (its error queue, ~900 bytes) is freed by a
 * thread-exit destructor; a leak check that runs while a connection
 * thread is exiting can catch it between the two, in libcrypto's own
 * frames.  The library's OpenSSL use is leak-checked without threads in
 * the other targets and under ASan/valgrind in ctest. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libcrypto.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    fuzz_next_input("127.0.0.1:0", "fuzz_mock_handler");
    fuzz_http_input in;
    if (fuzz_http_make(data, size, &in) != 0)
        return 0;
    /* 20 s: on a machine shared with builds, a niced fuzzer's server
     * threads can wait seconds for a core; a real hang waits forever. */
    char answer[2048];
    long got = fuzz_http_exchange(ec_client_suite_port(fuzz_mock), &in, answer, sizeof answer, 20000);
    if (got == 0 && in.framed) {
        /* Nothing at all: the mock's 32 connection slots may all be held
         * by earlier garbage inputs until their idle timeout (10 s), and
         * over the cap a connection is closed at once.  Once more after
         * that timeout; twice nothing is a failure. */
        sleep(11);
        got = fuzz_http_exchange(ec_client_suite_port(fuzz_mock), &in, answer, sizeof answer, 20000);
    }
    if (got < 0) {
        fprintf(stderr, "fuzz_mock_handler: the mock no longer accepts connections\n");
        abort();
    }
    if (in.framed && strncmp(answer, "HTTP/1.1 ", 9) != 0) {
        fprintf(stderr, "fuzz_mock_handler: no HTTP answer to a well-formed request "
                        "(%ld bytes: %.80s)\n", got, answer);
        abort();
    }
    if (fuzz_key_leaked(data, size, answer, (size_t)got, FUZZ_KEY))
        abort();
    free(in.bytes);
    return 0;
}
