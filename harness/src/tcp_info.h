/* emoncrypt — what the kernel knows of a TCP connection (internal). */
#ifndef EMONCRYPT_TCP_INFO_H
#define EMONCRYPT_TCP_INFO_H

/* Bytes of data the kernel has received from the peer on fd (Linux
 * TCP_INFO tcpi_bytes_received, 4.1+, less the FIN when one came), or -1 when it cannot tell (not a TCP socket,
 * an older kernel). */
long long ec_tcp_bytes_received_(int fd);

#endif
