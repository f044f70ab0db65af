/*
 * baseline.c - the floor restored's load is measured against.
 *
 *   restore-baseline --graph DIR [--threads N]
 *
 * Enumerates <graph>/engines/<runtime>/<dir>/ and, on N threads, opens, reads and json-c-parses
 * config.v2.json, hostconfig.json and container_state.json of every container directory, and
 * nothing else: no image store, no verification, no runtime or /proc probes, no result
 * building, no RPC. Whatever restored spends beyond this is the price of doing the actual job.
 *
 * Prints one JSON line:
 *   {"threads":2,"containers":10000,"files":30000,"bytes":55000000,"errors":0,"elapsed_us":450000}
 * elapsed_us covers enumeration plus all reads and parses (CLOCK_MONOTONIC).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

/* The same bounds restored applies (pipeline/load.h), so neither side parses more. */
#define MAX_FILE_SIZE (4u << 20)
#define MAX_DEPTH 64

static const char *const files[] = { "config.v2.json", "hostconfig.json", "container_state.json" };

struct work {
        int engines_fd;
        char **paths; /* "<runtime>/<dir>" relative to engines_fd */
        size_t n, cap;
        atomic_size_t next;
        atomic_ullong n_files, n_bytes, n_errors;
};

static uint64_t mono_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int add_path(struct work *w, const char *runtime, const char *dir)
{
        char *p;

        if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 1024;
                char **grown = realloc(w->paths, cap * sizeof(*grown));

                if (!grown)
                        return -ENOMEM;
                w->paths = grown;
                w->cap = cap;
        }
        if (asprintf(&p, "%s/%s", runtime, dir) < 0)
                return -ENOMEM;
        w->paths[w->n++] = p;
        return 0;
}

/* Every entry of one runtime dir is a container candidate, as restored treats it. */
static int list_runtime(struct work *w, const char *runtime)
{
        int fd = openat(w->engines_fd, runtime, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        int r = 0;

        if (!d) {
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        while (r == 0 && (de = readdir(d)))
                if (de->d_name[0] != '.')
                        r = add_path(w, runtime, de->d_name);
        closedir(d);
        return r;
}

static int enumerate(struct work *w)
{
        int fd = dup(w->engines_fd);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        struct stat st;
        int r = 0;

        if (!d)
                return -errno;
        while (r == 0 && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (fstatat(w->engines_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISDIR(st.st_mode))
                        continue;
                r = list_runtime(w, de->d_name);
        }
        closedir(d);
        return r;
}

/* Reads dirfd/name whole into *buf (grown as needed); returns the length or -errno. */
static ssize_t read_file(int dirfd, const char *name, char **buf, size_t *cap)
{
        int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat st;
        size_t len = 0;
        ssize_t n;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_FILE_SIZE) {
                close(fd);
                return -EINVAL;
        }
        if ((size_t)st.st_size + 1 > *cap) {
                char *grown = realloc(*buf, (size_t)st.st_size + 1);

                if (!grown) {
                        close(fd);
                        return -ENOMEM;
                }
                *buf = grown;
                *cap = (size_t)st.st_size + 1;
        }
        while (len < (size_t)st.st_size && (n = read(fd, *buf + len, st.st_size - len)) > 0)
                len += (size_t)n;
        close(fd);
        return (ssize_t)len;
}

static int parse(struct json_tokener *tok, const char *buf, size_t len)
{
        struct json_object *doc;

        json_tokener_reset(tok);
        doc = json_tokener_parse_ex(tok, buf, (int)len);
        if (!doc || json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(doc);
                return -EINVAL;
        }
        json_object_put(doc);
        return 0;
}

static void load_container(struct work *w, const char *path, struct json_tokener *tok, char **buf,
                           size_t *cap)
{
        int dirfd = openat(w->engines_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (dirfd < 0) {
                atomic_fetch_add(&w->n_errors, 1);
                return;
        }
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                ssize_t len = read_file(dirfd, files[i], buf, cap);

                if (len < 0 || parse(tok, *buf, (size_t)len) < 0) {
                        atomic_fetch_add(&w->n_errors, 1);
                        continue;
                }
                atomic_fetch_add(&w->n_files, 1);
                atomic_fetch_add(&w->n_bytes, (unsigned long long)len);
        }
        close(dirfd);
}

static void *worker(void *arg)
{
        struct work *w = arg;
        struct json_tokener *tok = json_tokener_new_ex(MAX_DEPTH);
        char *buf = NULL;
        size_t cap = 0, i;

        if (!tok)
                return NULL;
        while ((i = atomic_fetch_add(&w->next, 1)) < w->n)
                load_container(w, w->paths[i], tok, &buf, &cap);
        free(buf);
        json_tokener_free(tok);
        return NULL;
}

static void usage(FILE *f)
{
        fprintf(f, "usage: restore-baseline --graph DIR [--threads N]\n"
                   "Reads and parses config.v2.json, hostconfig.json and container_state.json of\n"
                   "every <graph>/engines/<runtime>/<dir>/ on N threads; prints one JSON line.\n");
}

static int run(struct work *w, unsigned threads, uint64_t *ret_us)
{
        pthread_t *tids = calloc(threads, sizeof(*tids));
        uint64_t t0 = mono_us();
        unsigned started = 0;
        int r;

        if (!tids)
                return -ENOMEM;
        r = enumerate(w);
        for (; r == 0 && started < threads; started++)
                if ((r = -pthread_create(&tids[started], NULL, worker, w)) < 0)
                        break;
        for (unsigned i = 0; i < started; i++)
                pthread_join(tids[i], NULL);
        *ret_us = mono_us() - t0;
        free(tids);
        return r;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "graph", required_argument, NULL, 'g' },
                                              { "threads", required_argument, NULL, 't' },
                                              { "help", no_argument, NULL, 'h' },
                                              { 0 } };
        struct work w = { .engines_fd = -1 };
        const char *graph = NULL;
        unsigned threads = 1;
        char *engines;
        uint64_t us = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "g:t:h", opts, NULL)) != -1) {
                if (c == 'g')
                        graph = optarg;
                else if (c == 't')
                        threads = (unsigned)strtoul(optarg, NULL, 10);
                else {
                        usage(c == 'h' ? stdout : stderr);
                        return c == 'h' ? 0 : 2;
                }
        }
        if (!graph || threads == 0 || threads > 1024 || optind != argc) {
                usage(stderr);
                return 2;
        }
        if (asprintf(&engines, "%s/engines", graph) < 0 ||
            (w.engines_fd = open(engines, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
                fprintf(stderr, "restore-baseline: %s/engines: %s\n", graph, strerror(errno));
                return 1;
        }
        r = run(&w, threads, &us);
        if (r < 0) {
                fprintf(stderr, "restore-baseline: %s\n", strerror(-r));
                return 1;
        }
        printf("{\"threads\":%u,\"containers\":%zu,\"files\":%llu,\"bytes\":%llu,\"errors\":%llu,"
               "\"elapsed_us\":%llu}\n",
               threads, w.n, (unsigned long long)w.n_files, (unsigned long long)w.n_bytes,
               (unsigned long long)w.n_errors, (unsigned long long)us);
        for (size_t i = 0; i < w.n; i++)
                free(w.paths[i]);
        free(w.paths);
        free(engines);
        close(w.engines_fd);
        return 0;
}
