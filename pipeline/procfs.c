/* procfs.c - process identity from /proc/<pid>/stat (see procfs.h for the invariants). */
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

/*
 * A stat line is "pid (comm) state ppid ...". comm is at most 15 bytes in the kernel
 * (TASK_COMM_LEN), but it may hold spaces and ')', so 4 KiB always covers the fields we need.
 */
#define STAT_MAX 4096
#define STARTTIME_FIELD 22

/* Reads one unsigned decimal field and advances *p past it and the following space. */
static int next_u64(const char **p, uint64_t *ret)
{
        const char *s = *p;
        char *end;
        uint64_t v;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno)
                return -EINVAL;
        *p = *end == ' ' ? end + 1 : end;
        *ret = v;
        return 0;
}

/* Skips one space-separated field (some, like nice or tty_nr, can be negative). */
static int skip_field(const char **p)
{
        const char *sp = strchr(*p, ' ');

        if (!sp || sp == *p)
                return -EINVAL;
        *p = sp + 1;
        return 0;
}

int rs_proc_parse_stat(const char *buf, struct rs_proc_stat *ret)
{
        const char *p = buf ? strrchr(buf, ')') : NULL;
        uint64_t ppid, start;
        char state;

        /* iSulad and crun split at the LAST ')': comm may itself contain ") ". */
        if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
                return -EINVAL;
        state = p[2];
        p += 4;
        if (next_u64(&p, &ppid) < 0 || ppid > INT32_MAX)
                return -EINVAL;
        /* fields 5..21 lie between ppid (4) and starttime (22) */
        for (int field = 5; field < STARTTIME_FIELD; field++)
                if (skip_field(&p) < 0)
                        return -EINVAL;
        if (next_u64(&p, &start) < 0)
                return -EINVAL;
        *ret = (struct rs_proc_stat){ .state = state, .ppid = (int)ppid, .start_time = start };
        return 0;
}

int rs_proc_read_stat(const char *proc_root, int pid, struct rs_proc_stat *ret)
{
        char path[64 + 4096], buf[STAT_MAX];
        _cleanup_close_ int fd = -1;
        ssize_t n;

        if (pid <= 0)
                return -ESRCH;
        snprintf(path, sizeof(path), "%s/%d/stat", proc_root ? proc_root : "/proc", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        /* /proc/<pid>/stat is generated in one read; a short read is the whole line. */
        do
                n = read(fd, buf, sizeof(buf) - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        buf[n] = '\0';
        return rs_proc_parse_stat(buf, ret);
}

static bool gone(char state)
{
        /* 'Z' zombie, 'X' dead (and 'x' on old kernels): the process has exited. */
        return state == 'Z' || state == 'X' || state == 'x';
}

bool rs_proc_alive(int pid, uint64_t start_time)
{
        struct rs_proc_stat st;

        if (pid <= 0 || rs_proc_read_stat(NULL, pid, &st) < 0)
                return false;
        return !gone(st.state) && st.start_time == start_time;
}

int rs_proc_read_identity(int pid, struct rs_process *ret)
{
        struct rs_proc_stat self, parent;
        int r;

        r = rs_proc_read_stat(NULL, pid, &self);
        if (r < 0)
                return r;
        if (gone(self.state))
                return -ESRCH;
        /* iSulad's util_read_pid_ppid_info() fails when the parent's stat is unreadable too. */
        r = rs_proc_read_stat(NULL, self.ppid, &parent);
        if (r < 0)
                return r;
        *ret = (struct rs_process){ .pid = pid, .ppid = self.ppid, .start_time = self.start_time,
                                    .p_start_time = parent.start_time };
        return 0;
}

bool rs_proc_exists(int pid)
{
        struct rs_proc_stat st;
        int r;

        /* signal 0 only checks existence and permission; nothing is delivered */
        if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
                return false;
        r = rs_proc_read_stat(NULL, pid, &st);
        if (r < 0)
                return r != -ESRCH;   /* /proc hidden (hidepid): trust kill() */
        return !gone(st.state);
}
