/*
 * cleanup.h - scope-bound ownership (systemd's _cleanup_ and TAKE_PTR).
 *
 *   _cleanup_free_ char *s = NULL;        freed when s leaves scope
 *   _cleanup_close_ int fd = -1;          closed when fd leaves scope
 *   return TAKE_PTR(s);                   hands ownership to the caller
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _tp = (p);                                                           \
                (p) = NULL;                                                                        \
                _tp;                                                                               \
        })

#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _tfd = (fd);                                                                   \
                (fd) = -1;                                                                         \
                _tfd;                                                                              \
        })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
