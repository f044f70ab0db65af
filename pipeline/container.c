/* container.c - the loaded container's destructor and iSulad's status derivation. */
#include "container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

void rs_container_free(struct rs_container *c)
{
        if (!c)
                return;
        free(c->runtime);
        free(c->dir_name);
        free(c->dir_path);
        free(c->id);
        free(c->name);
        free(c->image);
        free(c->image_type);
        free(c->image_id);
        free(c->restart_policy);
        free(c->state_warning);
        json_object_put(c->state_doc);
        free(c);
}

/*
 * container_state_judge_status() in iSulad's container_state.c. Running wins over everything
 * (a paused or restarting container is also Running). For a container that is not running,
 * an absent StartedAt or FinishedAt means iSulad could not tell, not "created": the parsed
 * state replaces the defaults wholesale, so "" still counts as present.
 */
rs_status rs_state_status(const struct rs_state *s)
{
        if (s->running) {
                if (s->paused)
                        return RS_STATUS_PAUSED;
                if (s->restarting)
                        return RS_STATUS_RESTARTING;
                return RS_STATUS_RUNNING;
        }
        if (s->starting)
                return RS_STATUS_STARTING;
        if (!s->has_started_at || !s->has_finished_at)
                return RS_STATUS_UNKNOWN;
        if (strcmp(s->started_at, RS_DEFAULT_TIME) == 0 && strcmp(s->finished_at, RS_DEFAULT_TIME) == 0)
                return RS_STATUS_CREATED;
        return RS_STATUS_STOPPED;
}

void rs_state_set_stopped(struct rs_state *s, int exit_code, const char *now)
{
        s->running = s->paused = s->restarting = s->starting = false;
        s->exit_code = exit_code;
        s->pid = s->ppid = 0;
        s->start_time = s->p_start_time = 0;
        if (now) {
                snprintf(s->finished_at, sizeof(s->finished_at), "%s", now);
                s->has_finished_at = true;
        }
        /* Deliberate difference: iSulad leaves an absent StartedAt absent, so the state still
         * derives as UNKNOWN and every later restore stops it again (and rewrites the file).
         * Recording iSulad's own "never" value makes it derive as stopped, once. */
        if (!s->has_started_at) {
                snprintf(s->started_at, sizeof(s->started_at), "%s", RS_DEFAULT_TIME);
                s->has_started_at = true;
        }
}
