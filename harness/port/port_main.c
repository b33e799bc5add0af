/* emoncrypt port kit — host runner: run the self-test over the shim this
 * binary is linked with and print what failed.  One binary per backend
 * (cmake/port.cmake); on a device, firmware calls ecp_selftest itself.
 *
 *   port-selftest-BACKEND                   exit 0 when every check passes
 *   port-selftest-BACKEND --expect-fail ID  exit 0 only when the first
 *                                           failure is vector ID (mutants)
 *       [--expect-only-check CHECK]         ... and every failure is of
 *                                           that check (e.g. "body")
 *       [--board NAME]                      name the board in the summary
 *                                           (the emulated images of fw/)
 *       [--work-bytes N]                    give the self-test only N bytes
 *                                           of work buffer
 *
 * The summary line ends with the work buffer's size and how much of it
 * the run wrote (the buffer is painted first), and on a board built with
 * PORT_STACK_PAINT the peak stack of ecp_selftest (board_qemu.c paints the
 * stack region).
 *
 * Besides these lines for a human, the run prints (ecp_selftest_report)
 * one machine-readable line per case, which `emoncrypt port-report` turns
 * into JUnit/JSON/HTML (README.md section 7 is the format):
 *
 *   ECP BEGIN 1 BACKEND BOARD
 *   ECP PASS ID KIND
 *   ECP FAIL ID KIND check=CHECK[,CHECK...] status=STATUS [diff=N] failed=N
 *   ECP SKIP ID KIND REASON
 *   ECP END total=N pass=N fail=N skip=N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port_host.h"

/* The largest shipped vector is a 1 MiB body: the host runs them all.
 * An emulated board (harness/port/fw) sets its own size. */
#ifndef PORT_WORKSPACE_SIZE
#define PORT_WORKSPACE_SIZE (4u << 20)
#endif
static uint8_t workspace[PORT_WORKSPACE_SIZE];

#define PAINT 0xa5

/* Bytes of work[0..cap) the run wrote: the highest one not still paint. */
static size_t painted_used(const uint8_t *work, size_t cap)
{
    size_t used = cap;
    while (used > 0 && work[used - 1] == PAINT)
        used--;
    return used;
}

#ifdef PORT_STACK_PAINT
/* board_qemu.c: paint the free stack below the caller, then the peak
 * depth reached below `top` since. */
void port_stack_paint(void);
unsigned long port_stack_peak(const void *top);
#endif

typedef struct {
    unsigned printed;
    const char *only_check;     /* NULL, or the one check allowed to fail */
    unsigned other_checks;      /* failures of any other check */
} failure_log;

static int print_failure(void *ctx, const ecp_failure *f)
{
    failure_log *log = ctx;
    if (log->only_check != NULL && strcmp(f->check, log->only_check) != 0)
        log->other_checks++;
    if (++log->printed > 20)
        return 0;   /* keep counting, stop printing */
    printf("FAIL %s [%s] status=%s", f->tc_id, f->check,
           ecp_status_name(f->status));
    if (f->first_diff >= 0)
        printf(" first difference at byte %ld", f->first_diff);
    printf("\n");
    if (f->expected != NULL)
        printf("  expected: %s\n", f->expected);
    if (f->actual != NULL)
        printf("  actual:   %s\n", f->actual);
    return 0;
}

/* The ECP lines go to stdout, with the lines for a human. */
static void write_stdout(void *ctx, const char *text, size_t n)
{
    (void)ctx;
    fwrite(text, 1, n, stdout);
}

int main(int argc, char **argv)
{
    const char *expect_fail = NULL;
    const char *board = "host";
    size_t work_cap = sizeof workspace;
    failure_log log;
    memset(&log, 0, sizeof log);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--expect-fail") == 0 && i + 1 < argc) {
            expect_fail = argv[++i];
        } else if (strcmp(argv[i], "--expect-only-check") == 0 && i + 1 < argc) {
            log.only_check = argv[++i];
        } else if (strcmp(argv[i], "--board") == 0 && i + 1 < argc) {
            board = argv[++i];
        } else if (strcmp(argv[i], "--work-bytes") == 0 && i + 1 < argc) {
            char *end = NULL;
            unsigned long n = strtoul(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0' || n > sizeof workspace) {
                fprintf(stderr, "%s: --work-bytes: 0..%lu\n", argv[0],
                        (unsigned long)sizeof workspace);
                return 2;
            }
            work_cap = n;
        } else {
            fprintf(stderr, "usage: %s [--expect-fail VECTOR_ID "
                            "[--expect-only-check CHECK]] [--board NAME] "
                            "[--work-bytes N]\n",
                    argv[0]);
            return 2;
        }
    }
    const ecp_shim *shim = port_host_shim();
    if (shim == NULL) {
        fprintf(stderr, "%s: the shim could not be set up\n", port_host_backend);
        return 1;
    }
    ecp_port port = {shim, NULL, NULL};
#ifdef PORT_HOST_OWN_BUILD
    port.build = port_host_build;   /* the port's own builder (a mutant's) */
#endif
    ecp_selftest_result result;
    memset(workspace, PAINT, work_cap);
#ifdef PORT_STACK_PAINT
    volatile char top = 0;
    port_stack_paint();
#endif
    ecp_status st = ecp_selftest_report(&port, workspace, work_cap,
                                        port_host_backend, board, write_stdout,
                                        NULL, print_failure, &log, &result);
#ifdef PORT_STACK_PAINT
    unsigned long stack_peak = port_stack_peak((const void *)&top);
#endif
    printf("%s on %s: %u primitive/kit checks; vectors: %u valid built and "
           "checked, %u invalid and %u strict-only rejected, %u out of scope, "
           "%u too large; %u failed checks; work buffer %lu bytes, %lu used",
           port_host_backend, board,
           result.kat_run, result.valid_run, result.invalid_run,
           result.strict_reject_run, result.skipped, result.too_large,
           result.failed, (unsigned long)work_cap,
           (unsigned long)painted_used(workspace, work_cap));
#ifdef PORT_STACK_PAINT
    printf("; stack peak %lu bytes", stack_peak);
#endif
    printf("\n");
    if (result.too_large > 0) {
        printf("%s: the workspace is too small for %u vectors\n",
               port_host_backend, result.too_large);
        return 1;
    }
    if (result.failed > 0)
        printf("%s: first failure: %s [%s] (%s)\n", port_host_backend,
               result.first_failed_id, result.first_failed_check,
               ecp_status_name(st));

    if (expect_fail == NULL)
        return st == ECP_OK && result.failed == 0 && result.valid_run > 0 ? 0 : 1;
    if (result.failed == 0) {
        printf("%s: expected a failure at %s, but every check passed\n",
               port_host_backend, expect_fail);
        return 1;
    }
    if (strcmp(result.first_failed_id, expect_fail) != 0) {
        printf("%s: expected the first failure at %s, got %s\n",
               port_host_backend, expect_fail, result.first_failed_id);
        return 1;
    }
    if (log.other_checks > 0) {
        printf("%s: %u failures of checks other than '%s'\n", port_host_backend,
               log.other_checks, log.only_check);
        return 1;
    }
    printf("%s: fails at %s as expected%s%s\n", port_host_backend, expect_fail,
           log.only_check != NULL ? ", and only in check " : "",
           log.only_check != NULL ? log.only_check : "");
    return 0;
}
