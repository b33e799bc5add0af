/* emoncrypt — the listening side of ec_httpd when it must tell a
 * connection that sent only empty lines from one that sent a malformed
 * request line (internal).
 *
 * libmicrohttpd skips the empty lines before a request line (RFC 9112
 * section 2.2) and, at close, says the same of a connection that sent only
 * "\r\n" and of one that sent "XYZ\r\n".  The gate accepts each connection
 * itself and looks at (peeks) its first bytes: empty lines are read and
 * counted; at the first other byte the socket goes to libmicrohttpd with
 * nothing of the request consumed; a peer that closes (or lets the
 * deadline pass) having sent only empty lines, or nothing, never reaches
 * it and is reported as no request. */
#ifndef EMONCRYPT_HTTPD_GATE_H
#define EMONCRYPT_HTTPD_GATE_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct ec_gate ec_gate;

typedef struct {
    int listen_fd;              /* bound and listening; the gate owns it from here */
    unsigned max_pending;       /* connections waiting for their first byte; more are closed */
    unsigned max_per_address;   /* of those, from one address; 0 = no cap */
    unsigned deadline_ms;       /* a connection waiting longer is closed; 0 = none */
    /* The first byte that is not CR or LF has arrived: the socket (its
     * leading empty lines consumed, nothing else) is the callee's. */
    void (*admit)(void *ctx, int fd, const struct sockaddr *addr, socklen_t addr_len);
    /* Closed before that: by the peer (timed_out 0) or at the deadline;
     * empty_line_bytes CR/LF bytes had come.  The gate closes the socket. */
    void (*no_request)(void *ctx, const char *remote, size_t empty_line_bytes, int timed_out);
    void *ctx;
} ec_gate_config;

/* 0 on success (a thread runs until ec_gate_stop), -1 on failure (the
 * listening socket is closed then). */
int ec_gate_start(const ec_gate_config *config, ec_gate **out);

/* Stops the thread and closes the listening socket and every connection
 * still waiting; admit/no_request are not called after it returns. */
void ec_gate_stop(ec_gate *gate);

/* "127.0.0.1:53412" or "[::1]:53412" of sa into out ("" for another family). */
void ec_gate_format_remote(const struct sockaddr *sa, char *out, size_t size);

#endif
