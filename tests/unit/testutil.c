/* testutil.c - temporary trees for unit tests. */
#include "testutil.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tu_mkdtemp(void)
{
        const char *tmp = getenv("TMPDIR");
        char *path = NULL;

        ck_assert_int_gt(asprintf(&path, "%s/restored-unit-XXXXXX", tmp ? tmp : "/tmp"), 0);
        ck_assert_ptr_nonnull(mkdtemp(path));
        return path;
}

char *tu_path(const char *root, const char *rel)
{
        char *p = NULL;
        ck_assert_int_gt(asprintf(&p, "%s/%s", root, rel), 0);
        return p;
}

void tu_mkdir_p(const char *root, const char *rel)
{
        char *p = tu_path(root, rel);
        for (char *s = p + strlen(root) + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                ck_assert_msg(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s: %m", p);
                *s = '/';
        }
        ck_assert_msg(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s: %m", p);
        free(p);
}

void tu_write_len(const char *root, const char *rel, const void *content, size_t len)
{
        char *p = tu_path(root, rel);
        char *slash = strrchr(p, '/');
        int fd;

        *slash = '\0';
        if (strlen(p) > strlen(root))
                tu_mkdir_p(root, p + strlen(root) + 1);
        *slash = '/';
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        ck_assert_msg(fd >= 0, "open %s: %m", p);
        ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
        close(fd);
        free(p);
}

void tu_write(const char *root, const char *rel, const char *content)
{
        tu_write_len(root, rel, content, strlen(content));
}

char *tu_read(const char *root, const char *rel, size_t *ret_len)
{
        char *p = tu_path(root, rel), *buf;
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        struct stat st;
        size_t len = 0;

        free(p);
        if (fd < 0)
                return NULL;
        ck_assert_int_eq(fstat(fd, &st), 0);
        buf = malloc((size_t)st.st_size + 1);
        ck_assert_ptr_nonnull(buf);
        while (len < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
                ck_assert_int_ge(n, 0);
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        return buf;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

void tu_rm_rf(const char *root)
{
        nftw(root, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

int tu_run_suite(Suite *s)
{
        SRunner *sr = srunner_create(s);
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
