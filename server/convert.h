/*
 * convert.h - translation between the pipeline's plain structs and isula.restore.v1 messages.
 *
 * The only place that knows both vocabularies. Conversions borrow: a message filled from a
 * struct rs_result points into that result's strings, so the result must outlive the packing
 * of the message. Sub-messages live in caller-provided storage (struct rpc_result_msg).
 */
#pragma once

#include "engine.h"
#include "isula/restore/v1/restore.pb-c.h"

struct rpc_result_msg {
        Isula__Restore__V1__ContainerResult msg;
        Isula__Restore__V1__ProcessInfo process;
        Isula__Restore__V1__RestartDecision restart;
        Isula__Restore__V1__HealthInfo health;
};

/* Fills m from r (borrowing r's strings). */
void rpc_result_to_msg(const struct rs_result *r, struct rpc_result_msg *m);
void rpc_summary_to_msg(const struct rs_summary *s, Isula__Restore__V1__RestoreSummary *m);
