/* SelfTest — the emoncrypt port kit's self-test on the board.
 *
 * Runs every check of the kit (primitive known answers, each reference
 * vector in src/emoncrypt_vectors.h, the random source) over the board's
 * crypto library and prints one line per case on Serial:
 *
 *   ECP BEGIN 1 mbedtls esp32
 *   ECP PASS post/spec8-reference valid
 *   ...
 *   ECP END total=63 pass=54 fail=0 skip=9
 *
 * Capture the serial port and let emoncrypt judge it (exit 0 pass, 1 a
 * failure, 2 a cut or garbled log), e.g. in CI with the board on USB:
 *
 *   picocom -b 115200 /dev/ttyUSB0 | tee serial.log | emoncrypt port-report - --junit port.xml
 *
 * The shim: on ESP32 (Arduino core or ESP-IDF) the library's mbedTLS shim
 * is used; on a board with mbedTLS, define ECP_SHIM_MBEDTLS; elsewhere
 * define ECP_NO_SHIM and write port_host_shim() and port_host_backend for
 * your crypto (the port kit's README, section 2).
 */
#include <Arduino.h>
#include <emoncrypt_port.h>
#include <port_host.h>

#ifndef ECP_BOARD_NAME
#define ECP_BOARD_NAME "arduino"
#endif

/* Scratch of the self-test: 2 KiB runs every vector (about 200 bytes are
 * used); a static array, not the stack. */
static uint8_t work[2048];

static void serial_write(void *ctx, const char *text, size_t n)
{
    (void)ctx;
    Serial.write(reinterpret_cast<const uint8_t *>(text), n);
}

void setup()
{
    Serial.begin(115200);
    for (unsigned long t0 = millis(); !Serial && millis() - t0 < 3000;)
        delay(10);   /* a USB serial port: wait (a little) for the host */
    const ecp_shim *shim = port_host_shim();
    if (shim == NULL) {
        Serial.println("SelfTest: the shim could not be set up");
        return;
    }
    ecp_port port = {shim, NULL, NULL};
    ecp_selftest_result result;
    ecp_status st = ecp_selftest_report(&port, work, sizeof work, port_host_backend,
                                        ECP_BOARD_NAME, serial_write, NULL, NULL, NULL,
                                        &result);
    Serial.print("SelfTest: ");
    Serial.println(ecp_status_name(st));
}

void loop()
{
    delay(1000);
}
