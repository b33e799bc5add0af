/* emoncrypt port kit — board support of the emulated self-test images
 * (harness/port/fw): what a firmware image supplies around the kit.
 *
 * The random source.  mbedTLS is built with MBEDTLS_ENTROPY_HARDWARE_ALT,
 * so the entropy collector calls mbedtls_hardware_poll(): on an ESP32 that
 * is esp_fill_random() (the TRNG), on an STM32 the RNG peripheral.  The
 * emulated boards have no TRNG that QEMU models on every machine, so this
 * reads the emulator host's /dev/urandom over semihosting.
 */
#include <stddef.h>
#include <stdio.h>

#include "mbedtls/entropy_poll.h"

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len,
                          size_t *olen)
{
    (void)data;
    *olen = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL)
        return -1;
    size_t got = fread(output, 1, len, f);
    fclose(f);
    if (got != len)
        return -1;
    *olen = got;
    return 0;
}
