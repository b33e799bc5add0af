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

/* Stack painting: the peak stack of the self-test, measured.  picolibc.ld
 * puts the stack region (__stack_size bytes, fw/toolchain.cmake) between
 * __heap_end and the top of RAM; the free part below the caller is filled
 * with a pattern, and after the run the lowest byte no longer holding it
 * is the deepest the stack went. */
#include <stdint.h>

#define STACK_PAINT 0xa5
extern char __heap_end[];

__attribute__((noinline)) void port_stack_paint(void)
{
    /* Leave this function's own frame (and a margin) alone. */
    volatile uint8_t *p = (volatile uint8_t *)__heap_end;
    uint8_t *limit = (uint8_t *)__builtin_frame_address(0) - 64;
    while ((uint8_t *)p < limit)
        *p++ = STACK_PAINT;
}

unsigned long port_stack_peak(const void *top)
{
    const volatile uint8_t *p = (const volatile uint8_t *)__heap_end;
    while ((const void *)p < top && *p == STACK_PAINT)
        p++;
    return (unsigned long)((uintptr_t)top - (uintptr_t)p);
}
