/* Raw-socket helpers for the hostile-peer tests (tests/test_hostile_*.c):
 * loopback connections with deadlines, so a server or client under test
 * that hangs makes a test fail in bounded time instead of blocking ctest.
 * Header-only: each test executable is one translation unit. */
#ifndef EMONCRYPT_HOSTILE_SUPPORT_H
#define EMONCRYPT_HOSTILE_SUPPORT_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline double hs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* A blocking TCP connection to 127.0.0.1:port, or -1. */
static inline int hs_connect(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* A non-blocking connection to 127.0.0.1:port from the loopback address
 * `from` (e.g. "127.0.0.2": an attacker apart from the device), or -1. */
static inline int hs_connect_from(unsigned port, const char *from)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    inet_pton(AF_INET, from, &a.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send everything, or stop at the first error (the peer may close early:
 * a 413 is sent before the body is read).  Returns bytes sent. */
static inline size_t hs_send(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t k = send(fd, p + done, n - done, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        done += (size_t)k;
    }
    return done;
}

static inline size_t hs_send_str(int fd, const char *s) { return hs_send(fd, s, strlen(s)); }

/* Read until the peer closes or timeout_ms passes with nothing new (or
 * total_ms passes in all).  At most cap - 1 bytes are kept,
 * NUL-terminated; the rest is read and dropped.  *closed = 1 when the peer
 * closed (EOF or reset).  Returns the bytes kept. */
static inline size_t hs_read(int fd, char *buf, size_t cap, int timeout_ms, int total_ms, int *closed)
{
    size_t got = 0;
    double end = hs_now_ms() + total_ms;
    *closed = 0;
    for (;;) {
        int wait = timeout_ms;
        double left = end - hs_now_ms();
        if (left <= 0)
            break;
        if (left < wait)
            wait = (int)left + 1;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, wait);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        char sink[65536];
        char *dst = got + 1 < cap ? buf + got : sink;
        size_t room = got + 1 < cap ? cap - 1 - got : sizeof sink;
        ssize_t k = recv(fd, dst, room, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            *closed = 1;
            break;
        }
        if (dst != sink)
            got += (size_t)k;
    }
    if (cap)
        buf[got] = 0;
    return got;
}

/* Send n bytes while watching for an answer, within total_ms: sending
 * stops as soon as the peer answers or closes.  A server may answer (413)
 * and close before the body is in; a client that reads only after a
 * blocking send can lose that answer to the reset the close causes, and
 * blocks when the peer stops reading.  The answer is appended to
 * ans[*got], NUL-terminated (cap bytes in all); *closed = 1 when the peer
 * closed.  Returns the bytes sent. */
static inline size_t hs_send_watch(int fd, const void *buf, size_t n, char *ans, size_t cap,
                                   size_t *got, int total_ms, int *closed)
{
    const char *p = buf;
    size_t done = 0;
    double end = hs_now_ms() + total_ms;
    while (done < n && !*closed && *got == 0) {
        double left = end - hs_now_ms();
        if (left <= 0)
            break;
        struct pollfd pf = {fd, POLLIN | POLLOUT, 0};
        int r = poll(&pf, 1, (int)left + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t k = recv(fd, ans + *got, cap - 1 - *got, MSG_DONTWAIT);
            if (k > 0) {
                *got += (size_t)k;
                ans[*got] = 0;
            } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
                *closed = 1;
            }
            continue;
        }
        ssize_t k = send(fd, p + done, n - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k > 0)
            done += (size_t)k;
        else if (k < 0 && errno != EAGAIN && errno != EINTR)
            *closed = 1;
    }
    return done;
}

/* The status of an HTTP/1.x answer, or 0 when buf does not start with one. */
static inline int hs_status(const char *buf)
{
    int status = 0;
    if (strncmp(buf, "HTTP/1.", 7) != 0 || sscanf(buf + 9, "%3d", &status) != 1)
        return 0;
    return status;
}

/* Case-insensitive search for needle in the NUL-terminated hay. */
static inline const char *hs_find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

/* Resident memory of this process in KiB (from /proc/self/statm). */
static inline long hs_rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Allow n more open files than now (the soft limit up to the hard one). */
static inline void hs_allow_files(rlim_t n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n) {
        rl.rlim_cur = rl.rlim_max < n ? rl.rlim_max : n;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

#endif
