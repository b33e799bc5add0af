/* libFuzzer target: the client-role mock Emoncms's request handler (the
 * one behind `emoncrypt test-client`) in this process, without a socket:
 * each input is one request view (format: fuzz_inproc.h) given to
 * ec_client_suite_call.  Every request must get a status from 100 to 599
 * and the write key is never in an answer that did not have it in its
 * request.  Every 500 inputs the run is finished — the behaviour audit
 * reads everything the mock recorded — and a fresh mock started.
 * fuzz_mock_handler drives the same mock over loopback. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_http.h"
#include "fuzz_mock_fixture.h"
#include "fuzz_inproc.h"

/* The mock keeps what each request taught its audit until the run is
 * finished, so nearly every input allocates more than it frees, and
 * libFuzzer's per-input leak check would then scan the whole heap each
 * time (~100 inputs/s instead of thousands).  Off for this target; leaks
 * are still reported at exit (everything is freed by then) and the mock
 * runs leak-checked under ASan and valgrind in ctest. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static char *args[256];
    static char no_leaks[] = "-detect_leaks=0";
    if (*argc < 1 || *argc > 254)
        return 0;
    for (int i = 0; i < *argc; i++)
        args[i] = (*argv)[i];
    /* After argv[0], before the corpus directories: libFuzzer reads
     * flags wherever they are, but keep them first as its usage shows. */
    memmove(args + 2, args + 1, (size_t)(*argc - 1) * sizeof *args);
    args[1] = no_leaks;
    *argc += 1;
    args[*argc] = NULL;
    *argv = args;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    fuzz_next_input(EC_HTTPD_IN_PROCESS, "fuzz_mock_inproc");
    fuzz_inproc_input in;
    if (fuzz_inproc_make(data, size, &in) != 0)
        return 0;
    ec_httpd_result out;
    if (ec_client_suite_call(fuzz_mock, &in.req, &out) != EC_OK) {
        fprintf(stderr, "fuzz_mock_inproc: ec_client_suite_call failed\n");
        abort();
    }
    if (out.status < 100 || out.status > 599) {
        fprintf(stderr, "fuzz_mock_inproc: answered %u\n", out.status);
        abort();
    }
    if (fuzz_key_leaked(data, size, out.headers, strlen(out.headers), FUZZ_KEY) ||
        fuzz_key_leaked(data, size, out.body, out.body_len, FUZZ_KEY))
        abort();
    ec_httpd_result_free(&out);
    fuzz_inproc_free(&in);
    return 0;
}
