/* The host side of the Arduino stand-in (Arduino.h): Serial is stdout,
 * millis() counts calls, and main() runs setup() then loop() once, as a
 * board runs a sketch after reset. */
#include <stdio.h>
#include <string.h>

#include "Arduino.h"

StubSerial Serial;

void StubSerial::begin(unsigned long baud)
{
    (void)baud;
}

size_t StubSerial::write(const uint8_t *data, size_t n)
{
    return fwrite(data, 1, n, stdout);
}

size_t StubSerial::print(const char *text)
{
    return write(reinterpret_cast<const uint8_t *>(text), strlen(text));
}

/* Arduino's println ends lines with CR LF: so does this one, so that
 * the log port-report reads is the one a board sends. */
size_t StubSerial::println(const char *text)
{
    return print(text) + print("\r\n");
}

StubSerial::operator bool() const
{
    return true;
}

static unsigned long ticks;

unsigned long millis(void)
{
    return ticks++;
}

void delay(unsigned long ms)
{
    ticks += ms;
}

int main(void)
{
    setup();
    loop();
    return fflush(stdout) == 0 ? 0 : 1;
}
