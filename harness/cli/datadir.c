/* Where the CLI finds its data files (issue 15): the reference vectors.
 *
 * An installed binary looks next to itself: BINDIR/../share/emoncrypt
 * (EMONCRYPT_BIN_TO_DATA is that relative path, from CMake), found from
 * /proc/self/exe, so a prefix can be moved or unpacked anywhere.  Only the
 * binary of the build tree itself uses the source tree's files.  The
 * environment variable EMONCRYPT_VECTORS names the file and wins over both.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef EMONCRYPT_BIN_TO_DATA
#define EMONCRYPT_BIN_TO_DATA "../share"
#endif

#define VECTORS_NAME "emoncms_input_v1.json"

/* The directory of the running executable, resolved, in dir. */
static int exe_dir(char *dir, size_t cap)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -1;
    *slash = 0;
    if (snprintf(dir, cap, "%s", buf[0] ? buf : "/") >= (int)cap)
        return -1;
    return 0;
}

/* see cli.h */
int cli_default_vectors(char *path, size_t cap)
{
    const char *env = getenv("EMONCRYPT_VECTORS");
    if (env && env[0]) {
        if (snprintf(path, cap, "%s", env) >= (int)cap)
            goto too_long;
        return 0;
    }
    char dir[PATH_MAX];
    if (exe_dir(dir, sizeof dir) != 0) {
        snprintf(path, cap, "cannot find the reference vectors: /proc/self/exe is unreadable; "
                            "set EMONCRYPT_VECTORS to the vector file");
        return -1;
    }
#if defined(EMONCRYPT_BINARY_DIR) && defined(EMONCRYPT_SOURCE_DIR)
    char built[PATH_MAX];
    if (realpath(EMONCRYPT_BINARY_DIR, built) && strcmp(built, dir) == 0) {
        if (snprintf(path, cap, "%s/vectors/%s", EMONCRYPT_SOURCE_DIR, VECTORS_NAME) >= (int)cap)
            goto too_long;
        return 0;
    }
#endif
    char rel[PATH_MAX + 64];
    snprintf(rel, sizeof rel, "%s/%s/emoncrypt/vectors/%s", dir, EMONCRYPT_BIN_TO_DATA, VECTORS_NAME);
    char resolved[PATH_MAX];
    if (!realpath(rel, resolved) || access(resolved, R_OK) != 0) {
        snprintf(path, cap, "cannot find the reference vectors: no readable %s; "
                            "set EMONCRYPT_VECTORS to the vector file", rel);
        return -1;
    }
    if (snprintf(path, cap, "%s", resolved) >= (int)cap)
        goto too_long;
    return 0;
too_long:
    snprintf(path, cap, "the reference vectors' path is too long");
    return -1;
}
