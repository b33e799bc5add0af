#!/usr/bin/env bash
# `emoncrypt vectors --format c` gives a header that (1) compiles alone as
# freestanding C99 with every warning an error, and (2) when a hosted
# program includes it, holds what the JSON holds: the SPEC §8 vector's
# fields, as many rows as the summary counts, body_len == strlen(body).
# usage: c_header.sh EMONCRYPT CC WORKDIR
set -eu
ec=$1 cc=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
"$ec" vectors --format c >"$work/emoncrypt_vectors.h"

"$cc" -std=c99 -ffreestanding -Wall -Wextra -Werror -pedantic -fsyntax-only \
    "$work/emoncrypt_vectors.h"
echo "ok: the header compiles as freestanding C99"

count=$("$ec" vectors --format summary | sed -n 's/^total *[0-9]* *[0-9]* *[0-9]* *\([0-9]*\)$/\1/p')
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic -I"$work" -DEXPECTED_COUNT="$count" \
    -o "$work/c_header_check" "$here/c_header_check.c"
"$work/c_header_check"
