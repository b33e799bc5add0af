/* emoncrypt port kit — the mbedTLS 2.28 configuration of the emulated
 * boards (harness/port/fw): only what shim_mbedtls.c uses, the way a
 * firmware image trims it.  Passed as -DMBEDTLS_CONFIG_FILE. */
#ifndef ECP_MBEDTLS_FW_CONFIG_H
#define ECP_MBEDTLS_FW_CONFIG_H

/* AES blocks (ESP-IDF style), tables in flash rather than built in RAM. */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES

/* SHA-256 and HMAC through the md layer, the small SHA-256 loop. */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_MD_C

/* The random source: CTR_DRBG over the entropy collector, fed by
 * mbedtls_hardware_poll() — the chip's TRNG on a device, the emulator
 * host's /dev/urandom over semihosting here (board_qemu.c). */
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_ENTROPY_FORCE_SHA256
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT

#include "mbedtls/check_config.h"
#endif
