/* emoncrypt — umbrella header: the whole public API of the harness library.
 * Every public header is included here, and together they compile as one
 * C11 translation unit (tests/test_umbrella.c checks that). */
#ifndef EMONCRYPT_EMONCRYPT_H
#define EMONCRYPT_EMONCRYPT_H

/* the protocol */
#include "emoncrypt/status.h"
#include "emoncrypt/codec.h"
#include "emoncrypt/plaintext.h"
#include "emoncrypt/message.h"

/* HTTP on both sides */
#include "emoncrypt/httpclient.h"
#include "emoncrypt/httpd.h"

/* what the suites and tools are built from */
#include "emoncrypt/report.h"
#include "emoncrypt/serve.h"
#include "emoncrypt/diagnose.h"
#include "emoncrypt/capture.h"
#include "emoncrypt/explain.h"
#include "emoncrypt/replay.h"
#include "emoncrypt/vectors.h"
#include "emoncrypt/load.h"

#endif
