/*
 * watch.h - the Watch stream fan-out: one bounded queue per client.
 *
 * watch_hub_publish() is called with every engine event (on pipeline threads) and queues the
 * WatchEvent on every open stream without blocking. A client whose queue is full (it cannot
 * keep up) is ended with RESOURCE_EXHAUSTED, so a slow reader never slows the service or
 * other readers. At most WATCH_MAX_STREAMS streams are open at once.
 */
#pragma once

#include "engine.h"
#include "grpcsrv.h"

#define WATCH_MAX_STREAMS 64

struct watch_hub;

int watch_hub_new(struct rs_engine *e, struct watch_hub **ret);
/* Registers /isula.restore.v1.Restore/Watch on s (before gs_server_start). */
int watch_hub_register(struct watch_hub *h, struct gs_server *s);
void watch_hub_publish(struct watch_hub *h, const struct rs_event *ev);
/* Ends every open stream with OK ("restored is shutting down"); later Watch calls get
 * UNAVAILABLE. Call before gs_server_shutdown(). */
void watch_hub_close(struct watch_hub *h);
void watch_hub_free(struct watch_hub *h);
