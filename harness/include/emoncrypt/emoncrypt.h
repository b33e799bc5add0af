/* emoncrypt — umbrella header: the whole public API of the harness library. */
#ifndef EMONCRYPT_EMONCRYPT_H
#define EMONCRYPT_EMONCRYPT_H

#include "emoncrypt/status.h"
#include "emoncrypt/codec.h"
#include "emoncrypt/plaintext.h"
#include "emoncrypt/message.h"

#endif
