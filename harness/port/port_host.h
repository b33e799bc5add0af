/* emoncrypt port kit — the host runner's view of a shim.
 *
 * Each shim_<backend>.c defines the first two; port_main.c runs the self-test
 * over whichever shim it is linked with.  Firmware needs neither: it
 * builds its own ecp_shim and calls ecp_selftest (see README.md).
 */
#ifndef EMONCRYPT_PORT_HOST_H
#define EMONCRYPT_PORT_HOST_H

#include "emoncrypt_port.h"

#ifdef __cplusplus
extern "C" {   /* an Arduino sketch (C++) calls the C shim */
#endif

/* The shim under test, ready to use (random source seeded); NULL when its
 * library could not be set up. */
const ecp_shim *port_host_shim(void);

/* Short backend name for messages: "openssl", "mbedtls", ... */
extern const char port_host_backend[];

/* A runner built with PORT_HOST_OWN_BUILD hands this to the self-test as
 * the port's own request builder (ecp_port.build), the way firmware with
 * its own builder does; shim_mutant_pad.c defines it. */
ecp_status port_host_build(const ecp_shim *shim, const uint8_t key[ECP_KEY_LEN],
                           const char *userid, const uint8_t iv[ECP_IV_LEN],
                           const uint8_t *wire, size_t wire_len,
                           char *body, size_t body_cap, size_t *body_len,
                           char *auth, size_t auth_cap);

#ifdef __cplusplus
}
#endif

#endif
