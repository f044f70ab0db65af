/*
 * fuzz_load.c - libFuzzer target for the load stage (jsonfile + load + status derivation).
 *
 * One input is up to four files separated by the byte 0xFF (which never occurs in UTF-8 JSON):
 * config.v2.json, hostconfig.json, container_state.json, network_settings.json. They are
 * written into a real container directory on tmpfs and loaded with rs_load_container(), as a
 * restore does. Whatever the bytes, load must return a container or a reason with a message,
 * never crash, leak or read out of bounds (built with -fsanitize=fuzzer,address,undefined).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = { "config.v2.json", "hostconfig.json", "container_state.json",
                                     "network_settings.json" };
static char engines[256], dir[512];

static void setup(void)
{
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

        snprintf(engines, sizeof(engines), "%s/restored-fuzz-%d/engines", base, (int)getpid());
        snprintf(dir, sizeof(dir), "%s/runc/abc", engines);
        for (char *p = dir + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        mkdir(dir, 0755);
                        *p = '/';
                }
        mkdir(dir, 0755);
}

static void put(const char *name, const uint8_t *p, size_t n)
{
        char path[600];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        unlink(path);
        if (!p)
                return; /* absent file */
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                abort();
        if (n && write(fd, p, n) != (ssize_t)n)
                abort();
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct rs_container *c = NULL;
        struct rs_error err = { 0 };
        size_t start = 0, file = 0;

        if (!engines[0])
                setup();
        for (size_t i = 0; i <= size && file < 4; i++) {
                if (i == size || data[i] == 0xFF) {
                        put(names[file++], data + start, i - start);
                        start = i + 1;
                }
        }
        for (; file < 4; file++)
                put(names[file], NULL, 0);
        if (rs_load_container(engines, "runc", "abc", NULL, &c, &err) == 0) {
                (void)rs_state_status(&c->state);
                if (!c->id || !c->name || !c->dir_path)
                        abort(); /* a loaded container always has them */
                rs_container_free(c);
        } else if (err.reason == RS_REASON_NONE || !err.msg[0]) {
                abort(); /* every failure names a reason and says why */
        }
        return 0;
}
