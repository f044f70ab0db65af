/*
 * monitor.h - liveness of re-attached containers after restore.
 *
 * One thread waits (epoll) on a pidfd per watched process; when a process exits, the callback
 * runs on that thread with the key it was watched under, once, and the watch is dropped.
 *
 * Invariants:
 *   - a watch is for one process, (pid, start time): the pidfd is opened first and the start
 *     time checked after, so a pid reused before the open is refused, never watched;
 *   - the monitor never signals, waits for or reaps anything (the processes are not our
 *     children: a pidfd turns readable when its process exits) and never touches an exit FIFO,
 *     whose read end belongs to the engine's supervisor;
 *   - at most rs_monitor_max() watches (65536, and half of RLIMIT_NOFILE: one fd each);
 *   - without pidfd_open (Linux < 5.3: ENOSYS) the thread polls /proc once a second instead.
 *
 * Threads: every function but rs_monitor_free may be called from any thread, and from the
 * callback itself (which must not block: other exits wait behind it).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define RS_MONITOR_MAX_WATCHES 65536
#define RS_MONITOR_KEY_MAX     256

struct rs_monitor;

/* Runs on the monitor thread when the process watched under key has exited. */
typedef void (*rs_monitor_fn)(void *userdata, const char *key);

/* Starts the thread. Returns 0, -ENOMEM, -EMFILE or the error of thread creation. */
int rs_monitor_new(rs_monitor_fn fn, void *userdata, struct rs_monitor **ret);

/*
 * Stops the thread (woken through an eventfd), closes every pidfd, frees. No callback runs
 * after it returns. Must not be called from the callback. NULL-safe.
 */
void rs_monitor_free(struct rs_monitor *m);

/*
 * Watches (pid, start_time) under key (copied; at most RS_MONITOR_KEY_MAX - 1 bytes).
 * Errors: -ESRCH (no such process, a zombie, or pid now belongs to another start time),
 * -EEXIST (key already watched), -ENOSPC (rs_monitor_max() reached), -EINVAL, -ENOMEM, -EMFILE.
 */
int rs_monitor_watch(struct rs_monitor *m, const char *key, int pid, uint64_t start_time);

/* Drops the watch; its callback will not run after this returns. -ENOENT if not watched. */
int rs_monitor_unwatch(struct rs_monitor *m, const char *key);

size_t rs_monitor_count(struct rs_monitor *m);
size_t rs_monitor_max(struct rs_monitor *m);

/* Test hook: poll /proc as on a kernel without pidfd_open. Call before the first watch. */
void rs_monitor_force_polling(struct rs_monitor *m);
