/* libFuzzer target: the reference server (serve.h) — HTTP layer, request
 * handler, protocol core, replay cache — running in this
 * process on a loopback port, fed one exchange per input (format:
 * fuzz_http.h; bit 1 of byte 0 picks the strict server instead of the
 * compat one).  A well-formed request must get an HTTP answer; anything
 * else must leave the server answering the next input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emoncrypt/serve.h"
#include "fuzz_http.h"
#include "fuzz_serve_fixture.h"

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
    if (!fuzz_servers[0])
        fuzz_start_servers("127.0.0.1:0", "fuzz_serve_handler");
    fuzz_http_input in;
    if (fuzz_http_make(data, size, &in) != 0)
        return 0;
    /* 20 s: on a machine shared with builds, a niced fuzzer's server
     * threads can wait seconds for a core; a real hang waits forever. */
    ec_serve *s = fuzz_servers[(data[0] >> 1) & 1];
    char answer[2048];
    long got = fuzz_http_exchange(ec_serve_port(s), &in, answer, sizeof answer, 20000);
    if (got == 0 && in.framed) {
        /* Nothing at all: the 64 connection slots may be held by earlier
         * inputs until their idle timeout (2 s), and over the cap a
         * connection is closed at once.  Once more after that timeout;
         * twice nothing is a failure. */
        sleep(3);
        got = fuzz_http_exchange(ec_serve_port(s), &in, answer, sizeof answer, 20000);
    }
    if (got < 0) {
        fprintf(stderr, "fuzz_serve_handler: the server no longer accepts connections\n");
        abort();
    }
    if (in.framed && strncmp(answer, "HTTP/1.1 ", 9) != 0) {
        fprintf(stderr, "fuzz_serve_handler: no HTTP answer to a well-formed request "
                        "(%ld bytes: %.80s)\n", got, answer);
        abort();
    }
    /* The write key is never sent back. */
    if (fuzz_key_leaked(data, size, answer, (size_t)got, FUZZ_KEY))
        abort();
    free(in.bytes);
    return 0;
}
