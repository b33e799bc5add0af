/* see httpd_gate.h */
#include "httpd_gate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define GATE_LISTEN_TAG UINT32_MAX
#define GATE_SLICE_MS 50

typedef struct {
    int fd;                     /* -1: a free slot */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    long since_ms;
    size_t empty_line_bytes;
} gate_slot;

struct ec_gate {
    ec_gate_config cfg;
    int epoll_fd;
    gate_slot *slots;
    unsigned pending;
    pthread_t thread;
    atomic_int stopping;
};

static long gate_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ec_gate_format_remote(const struct sockaddr *sa, char *out, size_t size)
{
    char ip[INET6_ADDRSTRLEN];
    if (size)
        out[0] = '\0';
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
        snprintf(out, size, "%s:%u", ip, ntohs(sin->sin_port));
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
        snprintf(out, size, "[%s]:%u", ip, ntohs(sin6->sin6_port));
    }
}

/* Two addresses are the same client when their hosts are (ports aside). */
static int same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return 0;
}

static void release(ec_gate *g, gate_slot *slot)
{
    epoll_ctl(g->epoll_fd, EPOLL_CTL_DEL, slot->fd, NULL);
    slot->fd = -1;
    g->pending--;
}

static void refuse(ec_gate *g, gate_slot *slot, int timed_out)
{
    char remote[INET6_ADDRSTRLEN + 8];
    ec_gate_format_remote((const struct sockaddr *)&slot->addr, remote, sizeof remote);
    int fd = slot->fd;
    size_t n = slot->empty_line_bytes;
    release(g, slot);
    close(fd);
    if (!atomic_load(&g->stopping))
        g->cfg.no_request(g->cfg.ctx, remote, n, timed_out);
}

static void take_new(ec_gate *g)
{
    for (;;) {
        struct sockaddr_storage addr;
        socklen_t len = sizeof addr;
        int fd = accept(g->cfg.listen_fd, (struct sockaddr *)&addr, &len);
        if (fd < 0)
            return;     /* EAGAIN: all taken; anything else: the next wake-up retries */
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        unsigned free_slot = g->cfg.max_pending, same = 0;
        for (unsigned i = 0; i < g->cfg.max_pending; i++) {
            if (g->slots[i].fd < 0) {
                if (free_slot == g->cfg.max_pending)
                    free_slot = i;
            } else if (same_host(&g->slots[i].addr, &addr)) {
                same++;
            }
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = free_slot};
        if (free_slot == g->cfg.max_pending ||
            (g->cfg.max_per_address && same >= g->cfg.max_per_address) ||
            epoll_ctl(g->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);  /* full, or this address holds its share: as libmicrohttpd refuses */
            continue;
        }
        gate_slot *slot = &g->slots[free_slot];
        slot->fd = fd;
        slot->addr = addr;
        slot->addr_len = len;
        slot->since_ms = gate_now_ms();
        slot->empty_line_bytes = 0;
        g->pending++;
    }
}

/* Bytes have come (or the peer closed): empty lines are read and counted,
 * at any other byte the socket is admitted with that byte unread. */
static void look(ec_gate *g, gate_slot *slot)
{
    unsigned char buf[512];
    for (;;) {
        ssize_t n = recv(slot->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            refuse(g, slot, 0);     /* closed, or reset, having sent no request */
            return;
        }
        ssize_t blank = 0;
        while (blank < n && (buf[blank] == '\r' || buf[blank] == '\n'))
            blank++;
        if (blank < n) {
            int fd = slot->fd;
            struct sockaddr_storage addr = slot->addr;
            socklen_t len = slot->addr_len;
            release(g, slot);
            g->cfg.admit(g->cfg.ctx, fd, (const struct sockaddr *)&addr, len);
            return;
        }
        /* Only empty lines so far: read them, so that the next peek sees
         * what follows. */
        ssize_t got = recv(slot->fd, buf, (size_t)blank, MSG_DONTWAIT);
        if (got > 0)
            slot->empty_line_bytes += (size_t)got;
    }
}

static void *gate_main(void *arg)
{
    ec_gate *g = arg;
    struct epoll_event events[64];
    while (!atomic_load(&g->stopping)) {
        int n = epoll_wait(g->epoll_fd, events, 64, GATE_SLICE_MS);
        for (int i = 0; i < n; i++) {
            uint32_t tag = events[i].data.u32;
            if (tag == GATE_LISTEN_TAG)
                take_new(g);
            else if (tag < g->cfg.max_pending && g->slots[tag].fd >= 0)
                look(g, &g->slots[tag]);
        }
        if (g->cfg.deadline_ms && g->pending) {
            long now = gate_now_ms();
            for (unsigned i = 0; i < g->cfg.max_pending; i++)
                if (g->slots[i].fd >= 0 && now - g->slots[i].since_ms > (long)g->cfg.deadline_ms)
                    refuse(g, &g->slots[i], 1);
        }
    }
    return NULL;
}

int ec_gate_start(const ec_gate_config *config, ec_gate **out)
{
    *out = NULL;
    ec_gate *g = calloc(1, sizeof *g);
    if (!g || !config->max_pending || !config->admit || !config->no_request)
        goto fail;
    g->cfg = *config;
    atomic_init(&g->stopping, 0);
    g->slots = calloc(config->max_pending, sizeof *g->slots);
    if (!g->slots)
        goto fail;
    for (unsigned i = 0; i < config->max_pending; i++)
        g->slots[i].fd = -1;
    g->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = GATE_LISTEN_TAG};
    if (g->epoll_fd < 0 || epoll_ctl(g->epoll_fd, EPOLL_CTL_ADD, config->listen_fd, &ev) != 0)
        goto fail_epoll;
    if (pthread_create(&g->thread, NULL, gate_main, g) != 0)
        goto fail_epoll;
    *out = g;
    return 0;
fail_epoll:
    if (g->epoll_fd >= 0)
        close(g->epoll_fd);
fail:
    close(config->listen_fd);
    if (g)
        free(g->slots);
    free(g);
    return -1;
}

void ec_gate_stop(ec_gate *gate)
{
    if (!gate)
        return;
    atomic_store(&gate->stopping, 1);
    pthread_join(gate->thread, NULL);
    for (unsigned i = 0; i < gate->cfg.max_pending; i++)
        if (gate->slots[i].fd >= 0)
            close(gate->slots[i].fd);
    close(gate->cfg.listen_fd);
    close(gate->epoll_fd);
    free(gate->slots);
    free(gate);
}
