/*
 * procfs.h - process identity from /proc, the way iSulad and runc decide "same process".
 *
 * A process is identified by (pid, start time), where start time is field 22 of
 * /proc/<pid>/stat (clock ticks since boot), read after the LAST ')' because comm may hold
 * spaces and parentheses. A live pid with another start time is a different process that
 * reused the number: it must never be signalled or reported as the container (CONTRACT §4.3).
 * A zombie ('Z') or dead ('X') process counts as gone, as crun and CRI-O treat it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "result.h"

struct rs_proc_stat {
        char state;             /* 'R', 'S', 'Z', ... */
        int ppid;
        uint64_t start_time;    /* field 22 */
};

/* Parses the text of a /proc/<pid>/stat file (pure). -EINVAL on malformed input. */
int rs_proc_parse_stat(const char *buf, struct rs_proc_stat *ret);

/* Reads /proc/<pid>/stat (or <proc_root>/<pid>/stat; proc_root NULL = "/proc"). -ESRCH if gone. */
int rs_proc_read_stat(const char *proc_root, int pid, struct rs_proc_stat *ret);

/* iSulad's util_process_alive(): pid > 0, exists, not a zombie, and start time matches. */
bool rs_proc_alive(int pid, uint64_t start_time);

/*
 * Liveness without identity, for pids recorded without a start time (shim-pid): pid > 0,
 * kill(pid, 0) does not say ESRCH (EPERM means it exists), and /proc does not show a zombie.
 */
bool rs_proc_exists(int pid);

/*
 * iSulad's util_read_pid_ppid_info(): {pid, starttime(pid), ppid, starttime(ppid)}.
 * -ESRCH when pid is gone or a zombie, or when its parent's stat is unreadable.
 */
int rs_proc_read_identity(int pid, struct rs_process *ret);
