/*
 * rpc_restore.h - the isula.restore.v1.Restore service: RestoreAll, ListRestored and
 * HandleContainer translated onto the pipeline engine (Watch lives in watch.h).
 *
 * RestoreAll does not hold a worker while the restore runs: the call is parked on the engine's
 * single-flight job and answered from the engine thread when the pass finishes.
 */
#pragma once

#include "engine.h"
#include "grpcsrv.h"

/* Limits on what a request may ask for. */
#define RPC_MAX_RUNTIME_FILTERS 64
#define RPC_MAX_WORKERS 1024

int rpc_restore_register(struct rs_engine *e, struct gs_server *s);
