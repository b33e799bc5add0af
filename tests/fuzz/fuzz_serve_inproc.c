/* libFuzzer target: the reference server's request handler and protocol
 * core (serve.h) in this process, without a socket: each input is one
 * request view (format: fuzz_inproc.h; bit 1 of byte 0 picks the strict
 * server instead of the compat one) given to ec_serve_call.  Every request
 * must get a status from 100 to 599, played at once (serve never holds a
 * reply), and the write key is never in an answer that did not have it in
 * its request.  fuzz_serve_handler drives the same server over loopback. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emoncrypt/serve.h"
#include "fuzz_http.h"
#include "fuzz_inproc.h"
#include "fuzz_serve_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    if (!fuzz_servers[0])
        fuzz_start_servers(EC_HTTPD_IN_PROCESS, "fuzz_serve_inproc");
    fuzz_inproc_input in;
    if (fuzz_inproc_make(data, size, &in) != 0)
        return 0;
    ec_httpd_result out;
    if (ec_serve_call(fuzz_servers[(data[0] >> 1) & 1], &in.req, &out) != EC_OK) {
        fprintf(stderr, "fuzz_serve_inproc: ec_serve_call failed\n");
        abort();
    }
    if (out.status < 100 || out.status > 599 || out.script != EC_HTTPD_NORMAL) {
        fprintf(stderr, "fuzz_serve_inproc: answered %u (script %d)\n", out.status,
                (int)out.script);
        abort();
    }
    if (fuzz_key_leaked(data, size, out.headers, strlen(out.headers), FUZZ_KEY) ||
        fuzz_key_leaked(data, size, out.body, out.body_len, FUZZ_KEY))
        abort();
    ec_httpd_result_free(&out);
    fuzz_inproc_free(&in);
    return 0;
}
