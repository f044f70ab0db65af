/*
 * subproc.h - run one helper binary (the OCI runtime's `state`) with a deadline and bounded
 * output. No shell is involved: argv goes to posix_spawn() as is.
 *
 * Invariants:
 *   - callable from many threads at once: no global state; every fd this module opens is
 *     O_CLOEXEC, and the child additionally closes every fd >= 3 (closefrom) before exec, so
 *     neither our pipes nor a concurrent spawn's can leak into a child and hold its output
 *     open; glibc's posix_spawn is vfork-based (no copy of a large address space);
 *   - the child starts with stdin from /dev/null, an empty signal mask and default signal
 *     dispositions, in a process group of its own, in the given working directory;
 *   - every blocking step is bounded by the deadline: at the deadline the child's process
 *     group gets SIGKILL (our own helper processes, never a container) and the child is reaped
 *     before returning, so no zombie is left behind;
 *   - stdout beyond max_out ends the run (the group is killed): output is never unbounded.
 * The caller must not reap children it did not spawn (no waitpid(-1) in a SIGCHLD handler, no
 * SIGCHLD set to SIG_IGN): a child reaped elsewhere is reported (-ECHILD), never signalled.
 */
#pragma once

#include <stddef.h>

#define RS_SPAWN_ERR_MAX 512

struct rs_spawn_result {
        int status;                   /* waitpid() status of the child */
        char *out;                    /* stdout, NUL-terminated (malloc'd; free it) */
        size_t out_len;
        char err[RS_SPAWN_ERR_MAX];   /* the start of stderr, NUL-terminated */
};

/*
 * Runs path with argv in directory cwd (NULL: inherited). Returns 0 once the child has exited
 * and was reaped (*ret filled; the exit status may be anything), or:
 *   -ETIME     the deadline passed first (child killed and reaped),
 *   -E2BIG     stdout exceeded max_out bytes (child killed and reaped),
 *   -ECHILD    someone else reaped the child (see above),
 *   -ENOENT, -EACCES, ...  posix_spawn() failed (e.g. no such binary, no such cwd),
 *   -ENOMEM.
 * *ret is written only on success.
 */
int rs_spawn_capture(const char *path, char *const argv[], const char *cwd, int timeout_ms,
                     size_t max_out, struct rs_spawn_result *ret);

void rs_spawn_result_done(struct rs_spawn_result *r);
