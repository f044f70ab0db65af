/*
 * runtime.h - what the container runtime says about one container (iSulad's runtime_status(),
 * runtime_read_pid_ppid_info() and runtime_detect_process(); research/isulad-restore.md §3.1).
 *
 * The engine directory name picks the kind, as iSulad's rt_ops_query():
 *   "lcr"                           -> RS_RT_LCR
 *   "io.containerd.<name>.<ver>"    -> RS_RT_SHIMV2 (is_valid_v2_runtime: exactly four parts)
 *   anything else (runc, crun, ...) -> RS_RT_RUNC: a runc-compatible binary behind isulad-shim
 *
 * RS_RT_RUNC, as rt_isula_status(): workdir = <state>/<runtime>/<id>. The shim must be alive
 * (<workdir>/shim-pid holds a pid that kill(pid, 0) finds and that is not a zombie), then
 *   <bin> --root <workdir>/<runtime> state <id>       (no --root for "kata-runtime")
 * runs from <workdir>, with no shell, a deadline and at most 64 KiB of stdout. Its JSON
 * "status" maps running -> RUNNING, paused -> PAUSED, stopped -> STOPPED, anything else
 * ("created", unknown) -> UNKNOWN; "pid" is the container's init. <bin> is the --runtime
 * NAME=PATH entry for the engine directory, else NAME looked up on $PATH.
 *
 * Reduced fidelity, by design (restored speaks neither lxc's API nor ttrpc):
 *   RS_RT_LCR     <state>/lcr/<id>/pid.file ("<pid> <start> <ppid> <pstart>", written by lcr)
 *                 is checked against /proc: alive -> RUNNING, else STOPPED. lxc's own states
 *                 (STARTING, STOPPING, ABORTING, ...) are not seen;
 *   RS_RT_SHIMV2  the persisted Pid (and StartTime, when recorded) is checked against /proc
 *                 instead of asking the shim over ttrpc. Identity is {pid, 0, 0, 0}, as iSulad's
 *                 shim v2 runtime_read_pid_ppid_info() returns.
 *   For both, a live process whose freezer cgroup is frozen (cgroup v2 cgroup.freeze, v1
 *   freezer.state) is PAUSED.
 *
 * Outcomes. A call iSulad would see fail (no shim, runtime exits non-zero, output that is not
 * an OCI state) is not an error here: ret->failed is set with the reason in ret->detail and the
 * caller treats it as STOPPED, as iSulad does. Errors are what must fail the container alone:
 *   -ETIME   RUNTIME_TIMEOUT, "runc state <id>: no answer within 5 s" (runtime killed, reaped)
 *   -ENOENT  INTERNAL, the runtime binary cannot be found or run (a configuration error:
 *            iSulad would conclude "stopped" and hand a possibly running container to GC)
 *   -ENOMEM  INTERNAL
 *
 * Threads: no global state; any number of queries may run at once (see subproc.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "container.h"
#include "error.h"
#include "result.h"

#define RS_RUNTIME_TIMEOUT_MS_DEFAULT 5000
#define RS_RUNTIME_MAX_OUTPUT (64u << 10)
#define RS_RUNTIME_DETAIL_MAX 512

typedef enum {
        RS_RT_RUNC = 0,
        RS_RT_LCR = 1,
        RS_RT_SHIMV2 = 2,
} rs_runtime_kind;

struct rs_runtime_cfg {
        const char *state_root;                 /* <state>, e.g. /var/run/isulad */
        const struct rs_runtime_bin *bins;      /* --runtime NAME=PATH */
        size_t n_bins;
        int timeout_ms;                         /* <= 0: RS_RUNTIME_TIMEOUT_MS_DEFAULT */
};

struct rs_runtime_status {
        rs_status status;   /* RUNNING, PAUSED, STOPPED or UNKNOWN */
        int pid;            /* the container's init, as the runtime reports it */
        bool failed;        /* the status call failed: iSulad treats it as STOPPED */
        char detail[RS_RUNTIME_DETAIL_MAX];   /* why it failed, or what was asked */
};

rs_runtime_kind rs_runtime_classify(const char *engine_dir);

/*
 * Queries the status of container id in engine directory runtime. persisted is the state as
 * loaded (SHIMV2 uses its Pid/StartTime). *ret is written on success only.
 */
int rs_runtime_status(const struct rs_runtime_cfg *cfg, const char *runtime, const char *id,
                      const struct rs_state *persisted, struct rs_runtime_status *ret,
                      struct rs_error *err);

/* runtime_read_pid_ppid_info(): the 4-tuple of pid (SHIMV2: {pid, 0, 0, 0}). -ESRCH if gone. */
int rs_runtime_read_identity(rs_runtime_kind kind, int pid, struct rs_process *ret);

/* runtime_detect_process(): is (pid, start_time) still that process? */
bool rs_runtime_detect_process(rs_runtime_kind kind, int pid, uint64_t start_time);

/* Resolves the binary for runtime: the bins entry, else a search of $PATH. -ENOENT if none. */
int rs_runtime_find_binary(const struct rs_runtime_cfg *cfg, const char *runtime,
                           char **ret_path);
