/* durable.c - temp file, fsync, rename, fsync of the directory (see durable.h). */
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

#define TEMP_TRIES 64

static void random_suffix(char out[7])
{
        static const char alphabet[] =
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        unsigned char rnd[6];

        /* GRND_NONBLOCK: at early boot, a weak suffix is fine (O_EXCL catches collisions). */
        if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
                unsigned long v = (unsigned long)getpid() ^ (unsigned long)(uintptr_t)out;
                for (size_t i = 0; i < sizeof(rnd); i++, v = v * 6364136223846793005UL + 1)
                        rnd[i] = (unsigned char)(v >> 33);
        }
        for (size_t i = 0; i < sizeof(rnd); i++)
                out[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
        out[6] = '\0';
}

static int open_temp(int dirfd, const char *name, mode_t mode, char *ret_tmp, size_t tmp_size)
{
        for (int i = 0; i < TEMP_TRIES; i++) {
                char sfx[7];
                int fd;

                random_suffix(sfx);
                if (snprintf(ret_tmp, tmp_size, ".tmp-%s-%s", name, sfx) >= (int)tmp_size)
                        return -ENAMETOOLONG;
                fd = openat(dirfd, ret_tmp,
                            O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
                if (fd >= 0 || errno != EEXIST)
                        return fd >= 0 ? fd : -errno;
        }
        return -EEXIST;
}

static int write_all(int fd, const void *data, size_t len)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Mode and owner of the file being replaced; the defaults (us, default_mode) if there is none. */
static void old_attrs(int dirfd, const char *name, mode_t default_mode, struct stat *ret)
{
        if (fstatat(dirfd, name, ret, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(ret->st_mode)) {
                ret->st_mode &= 07777;
                return;
        }
        *ret = (struct stat){ .st_mode = default_mode, .st_uid = geteuid(), .st_gid = getegid() };
}

/* Fills the temp file: content, mode (umask must not narrow it), owner, fsync. */
static int fill_temp(int fd, const void *data, size_t len, const struct stat *attrs,
                     const char **ret_step)
{
        int r;

        *ret_step = "write the new content";
        if ((r = write_all(fd, data, len)) < 0)
                return r;
        *ret_step = "set the mode of the new file";
        if (fchmod(fd, attrs->st_mode) < 0)
                return -errno;
        *ret_step = "set the owner of the new file";
        if ((attrs->st_uid != geteuid() || attrs->st_gid != getegid()) &&
            fchown(fd, attrs->st_uid, attrs->st_gid) < 0)
                return -errno;
        *ret_step = "fsync the new content";
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

int rs_durable_write_at(int dirfd, const char *name, const void *data, size_t len,
                        mode_t default_mode, struct rs_error *err)
{
        char tmp[NAME_MAX + 1];
        const char *step = "create a temp file";
        struct stat attrs;
        _cleanup_close_ int fd = -1;
        int r;

        old_attrs(dirfd, name, default_mode, &attrs);
        fd = open_temp(dirfd, name, attrs.st_mode, tmp, sizeof(tmp));
        if (fd < 0)
                return rs_fail(err, fd, RS_REASON_IO_ERROR, "%s: cannot %s: %s", name, step,
                               strerror(-fd));
        r = fill_temp(fd, data, len, &attrs, &step);
        if (r == 0) {
                step = "rename the temp file over it";
                r = renameat(dirfd, tmp, dirfd, name) < 0 ? -errno : 0;
        }
        if (r < 0) {
                /* the old file was never touched: only the temp file goes */
                unlinkat(dirfd, tmp, 0);
                return rs_fail(err, r, RS_REASON_IO_ERROR,
                               "%s: cannot %s: %s; the old file is unchanged", name, step,
                               strerror(-r));
        }
        /* The rename is durable only once the directory entry is. A file system that cannot
         * sync directories (EINVAL) still has the new file in place: that is not a failure. */
        if (fsync(dirfd) < 0 && errno != EINVAL)
                return rs_fail(err, -errno, RS_REASON_IO_ERROR,
                               "%s: replaced, but cannot fsync its directory: %m", name);
        return 0;
}

int rs_durable_write(const char *path, const void *data, size_t len, mode_t default_mode,
                     struct rs_error *err)
{
        _cleanup_free_ char *dir = strdup(path);
        _cleanup_close_ int dirfd = -1;
        const char *name;
        char *slash;

        if (!dir)
                return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "%s: out of memory", path);
        slash = strrchr(dir, '/');
        if (slash && slash[1] == '\0')
                return rs_fail(err, -EINVAL, RS_REASON_INTERNAL, "%s: not a file name", path);
        if (slash) {
                *slash = '\0';
                name = slash + 1;
        } else {
                name = dir;
        }
        dirfd = open(slash ? (dir[0] ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return rs_fail(err, -errno, RS_REASON_IO_ERROR, "%s: cannot open its directory: %m",
                               path);
        return rs_durable_write_at(dirfd, name, data, len, default_mode, err);
}
