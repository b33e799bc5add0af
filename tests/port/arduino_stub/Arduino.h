/* A minimal stand-in for the Arduino core's API, written for emoncrypt's
 * compile checks of the port kit's Arduino example (the ctest cases
 * port-arduino/host and port-arduino/arm): only what examples/SelfTest
 * uses.  Not the Arduino core: on the host,
 * arduino_stub.cpp implements it over stdout and runs setup() and one
 * loop(); for arm-none-eabi-g++ only this header is needed (compile only). */
#ifndef EMONCRYPT_ARDUINO_STUB_H
#define EMONCRYPT_ARDUINO_STUB_H

#include <stddef.h>
#include <stdint.h>

class StubSerial {
public:
    void begin(unsigned long baud);
    size_t write(const uint8_t *data, size_t n);
    size_t print(const char *text);
    size_t println(const char *text);
    explicit operator bool() const;
};

extern StubSerial Serial;

unsigned long millis(void);
void delay(unsigned long ms);

void setup(void);
void loop(void);

#endif
