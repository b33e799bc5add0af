/* emoncrypt — the sender's view of httpclient.h: one POST or GET with
 * headers given as a NULL-terminated name/value list, its answer copied
 * into one NUL-terminated body, and the Retry-After header read as
 * seconds.  The sender (sender.c) and the client-suite tests that post
 * raw requests to the mock (tests/test_client_checks.c) share it. */
#ifndef EMONCRYPT_CLIENT_TRANSPORT_H
#define EMONCRYPT_CLIENT_TRANSPORT_H

#include <stddef.h>

typedef struct {
    int complete;                 /* a complete HTTP answer arrived */
    long status;
    char content_type[128];
    char *body;                   /* NUL-terminated, never NULL after a send */
    size_t body_len;
    unsigned retry_after_s;       /* 0 when absent */
    char error[32];               /* ec_http_error name when !complete */
    char message[256];
    long elapsed_ms;
} cs_http_answer;

typedef struct cs_transport cs_transport;

cs_transport *cs_transport_new(void);
void cs_transport_free(cs_transport *t);

/* headers: name, value, name, value, …, NULL. Returns 0 when something was
 * sent (see a->complete), -1 when the request could not be made. */
int cs_transport_send(cs_transport *t, const char *method, const char *url,
                      const char *const *headers, const void *body, size_t body_len,
                      long timeout_ms, cs_http_answer *a);
void cs_http_answer_free(cs_http_answer *a);

#endif
