/* container.c - the loaded container's destructor and iSulad's status derivation. */
#include "container.h"

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
