/* emoncrypt port kit — the host runner's view of a shim.
 *
 * Each shim_<backend>.c defines these two; port_main.c runs the self-test
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

#ifdef __cplusplus
}
#endif

#endif
