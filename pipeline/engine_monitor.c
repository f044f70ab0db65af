/*
 * engine_monitor.c - liveness after restore: the processes of re-attached containers are
 * watched through pidfds (monitor.h). When one exits, its result in the view turns STOPPED and
 * Watch clients get a STATUS_CHANGED event. restored writes no engine file for this and never
 * touches the exit FIFO: the engine's own supervisor records the exit.
 */
#include "engine_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "monitor.h"

/* Keys are "<runtime>/<dir>": both names come from readdir and never hold '/'. */
static void process_exited(void *userdata, const char *key)
{
        _cleanup_free_ char *runtime = strdup(key);
        char *dir = runtime ? strchr(runtime, '/') : NULL;

        if (!dir)
                return;
        *dir++ = '\0';
        /* The exit code is the supervisor's to read from the FIFO; we only know it ended. */
        (void)rs_engine_mark_stopped(userdata, runtime, dir);
}

void rs_engine_reset_monitor(struct rs_engine *e)
{
        struct rs_monitor *fresh = NULL;

        rs_monitor_free(e->monitor);
        e->monitor = rs_monitor_new(process_exited, e, &fresh) == 0 ? fresh : NULL;
}

void rs_engine_watch(struct rs_engine *e, const char *runtime, const char *dir, int pid,
                     uint64_t start_time)
{
        char key[RS_MONITOR_KEY_MAX];

        if (!e->monitor || pid <= 0)
                return;
        snprintf(key, sizeof(key), "%s/%s", runtime, dir);
        (void)rs_monitor_unwatch(e->monitor, key);
        /* -ESRCH means it already exited: mark it now rather than never. */
        if (rs_monitor_watch(e->monitor, key, pid, start_time) == -ESRCH)
                (void)rs_engine_mark_stopped(e, runtime, dir);
}
