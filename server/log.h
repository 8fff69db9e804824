/*
 * Deprecated: the server's log is the one log of lib/, muster/log.h.
 * Kept only for files being split elsewhere (server/main.c); removed
 * after the merge.
 */
#ifndef MUSTER_SERVER_LOG_H
#define MUSTER_SERVER_LOG_H

#include "muster/log.h"

#endif
