/*
 * health.h - grpc.health.v1.Health (Check and Watch) on top of grpcsrv.
 *
 * One status for the server as a whole ("") and for each named service. It starts NOT_SERVING;
 * health_set() may be called from any thread and pushes the change to every Watch stream.
 * Check of an unknown service fails with NOT_FOUND; Watch of one streams SERVICE_UNKNOWN, as
 * the health protocol asks. Watch streams end when the client goes away or the server's
 * shutdown cancels them (after its grace period).
 */
#pragma once

#include <stddef.h>

#include "grpc/health/v1/health.pb-c.h"
#include "grpcsrv.h"

typedef Grpc__Health__V1__HealthCheckResponse__ServingStatus health_status;

/* Health Watch streams open at once, across all connections (each holds a queue and a call). */
#define HEALTH_MAX_WATCHERS 256

struct health;

/* Registers Check and Watch on `s` (before gs_server_start). `services` may be NULL. */
int health_new(struct gs_server *s, const char *const *services, size_t n_services, struct health **ret);

/* Sets the overall status and that of every service; pushes to watchers. Thread-safe. */
void health_set(struct health *h, health_status status);

/* After gs_server_shutdown() (every Watch call has ended by then). Accepts NULL. */
void health_free(struct health *h);
