/* convert.c - pipeline structs to protobuf-c messages (enums share numbering: a cast). */
#include "convert.h"

#include <string.h>

static char *str(char *s)
{
        /* protobuf-c packs "" and NULL alike for proto3 strings; "" keeps every reader of
         * the message (pbjson, logging) free of NULL checks. */
        return s ? s : (char *)"";
}

void rpc_result_to_msg(const struct rs_result *r, struct rpc_result_msg *m)
{
        isula__restore__v1__container_result__init(&m->msg);
        isula__restore__v1__process_info__init(&m->process);
        isula__restore__v1__restart_decision__init(&m->restart);
        isula__restore__v1__health_info__init(&m->health);

        m->msg.id = str(r->id);
        m->msg.name = str(r->name);
        m->msg.runtime = str(r->runtime);
        m->msg.image = str(r->image);
        m->msg.dir = str(r->dir);
        m->msg.outcome = (Isula__Restore__V1__Outcome)r->outcome;
        m->msg.stage = (Isula__Restore__V1__Stage)r->stage;
        m->msg.reason = (Isula__Restore__V1__FailureReason)r->reason;
        m->msg.error = str(r->error);
        m->msg.persisted_status = (Isula__Restore__V1__Status)r->persisted_status;
        m->msg.status = (Isula__Restore__V1__Status)r->status;
        m->msg.action = (Isula__Restore__V1__Action)r->action;
        m->msg.exit_code = r->exit_code;
        m->msg.exit_fifo = str(r->exit_fifo);
        m->msg.auto_remove = r->auto_remove;
        m->msg.state_written = r->state_written;

        m->process.pid = r->process.pid;
        m->process.ppid = r->process.ppid;
        m->process.start_time = r->process.start_time;
        m->process.p_start_time = r->process.p_start_time;
        m->msg.process = &m->process;

        m->restart.policy = str(r->restart.policy);
        m->restart.maximum_retry_count = r->restart.max_retry;
        m->restart.restart_count = r->restart.restart_count;
        m->restart.should_restart = r->restart.should_restart;
        m->restart.delay_ms = r->restart.delay_ms;
        m->restart.reason = str(r->restart.reason);
        m->msg.restart = &m->restart;

        m->health.configured = r->health_configured;
        m->health.status = str(r->health_status);
        m->msg.health = &m->health;
}

void rpc_summary_to_msg(const struct rs_summary *s, Isula__Restore__V1__RestoreSummary *m)
{
        isula__restore__v1__restore_summary__init(m);
        m->generation = s->generation;
        m->phase = (Isula__Restore__V1__Phase)s->phase;
        m->total = s->total;
        m->restored = s->restored;
        m->failed = s->failed;
        m->running = s->running;
        m->stopped = s->stopped;
        m->done = s->done;
        m->duration_us = s->duration_us;
        m->started_at_us = s->started_at_us;
        m->dry_run = s->dry_run;
        m->error = (char *)s->error; /* borrowed, like the result strings */
}
