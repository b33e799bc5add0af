/* emoncrypt — what the kernel knows of a TCP connection.
 *
 * Its own file: glibc's <netinet/tcp.h> has no tcpi_bytes_received and
 * <linux/tcp.h>, which has it, clashes with <netinet/tcp.h>. */
#include "tcp_info.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

long long ec_tcp_bytes_received_(int fd)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    memset(&info, 0, sizeof info);
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
        return -1;
    /* The peer's FIN takes one sequence number, which the kernel counts as
     * received: not a byte of data. */
    /* the kernel's TCP states (include/net/tcp_states.h; only glibc's
     * <netinet/tcp.h> names them) in which the peer's FIN has come.  CLOSE
     * is where a connection the peer closed first ends once we have closed
     * too (seen: a connect-and-close is CLOSE with 1 byte received); a
     * connection reset without a FIN also ends there, so one byte of data
     * then a reset reads as 0. */
    enum { TIME_WAIT = 6, CLOSE = 7, CLOSE_WAIT = 8, LAST_ACK = 9, CLOSING = 11 };
    int fin = info.tcpi_state == CLOSE_WAIT || info.tcpi_state == LAST_ACK || info.tcpi_state == CLOSING ||
              info.tcpi_state == TIME_WAIT || info.tcpi_state == CLOSE;
    long long n = (long long)info.tcpi_bytes_received - fin;
    return n < 0 ? 0 : n;
}
