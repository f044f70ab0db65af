/*
 * options.h - restored's configuration: built-in defaults, then the config file, then flags.
 *
 * Every flag of CONTRACT §2 is also a key of the JSON config file (default
 * /etc/isulad/restored.json), spelled as the long flag without its dashes:
 *
 *   { "graph": "/var/lib/isulad", "runtime-timeout": 5, "restore-on-start": true,
 *     "runtime": { "runc": "/usr/bin/runc" } }
 *
 * A flag given on the command line wins over the same key in the file; for --runtime the
 * override is per runtime name. A key whose value is null keeps the built-in default. A missing
 * default config file is normal; a missing --config FILE, an unknown key, a value of the wrong
 * type or out of range is an error that names the flag, or the file and the key.
 *
 * All strings are owned by the struct and freed by rd_options_done().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "access.h" /* RD_GID_NONE */
#include "log.h"
#include "types.h"

#define RD_DEFAULT_CONFIG                "/etc/isulad/restored.json"
#define RD_DEFAULT_GRAPH                 "/var/lib/isulad"
#define RD_DEFAULT_STATE                 "/var/run/isulad"
#define RD_DEFAULT_SOCKET                "/run/isulad/restore.sock"
#define RD_DEFAULT_RUNTIME_TIMEOUT       5
#define RD_DEFAULT_MAX_PARALLEL_RESTARTS 4

/* Most --runtime entries accepted; engine directories are few (runc, lcr, kata-runtime...). */
#define RD_RUNTIMES_MAX 64
/* Largest config file read; it is a few hundred bytes in practice. */
#define RD_CONFIG_MAX_SIZE (1024 * 1024)

struct rd_options {
        char *graph;                       /* --graph: iSulad's graph root */
        char *state;                       /* --state: iSulad's state root */
        char *socket;                      /* --socket: the unix socket when systemd passes none */
        char *listen;                      /* --listen HOST:PORT, NULL = no TCP listener */
        char *tls_cert, *tls_key, *tls_ca; /* PEM files; tls_ca set = mutual TLS */
        bool listen_allow_write;           /* TCP clients may call RestoreAll/HandleContainer */
        struct rs_runtime_bin *runtimes;   /* --runtime NAME=PATH, in the order first given */
        size_t n_runtimes;
        unsigned runtime_timeout;       /* seconds, 1..600 */
        unsigned workers;               /* 0 = sized by the engine */
        unsigned max_parallel_restarts; /* 1..1024 */
        bool restore_on_start;
        gid_t read_gid;  /* RD_GID_NONE when not set */
        gid_t admin_gid; /* RD_GID_NONE when not set */
        enum rd_log_level log_level;
        char *config; /* the file that was read; NULL when none was */
};

/*
 * Parses argv (argv[0] is the program name) and the config file into *ret.
 * Returns 0: run with *ret (free it with rd_options_done());
 *         1: --help or --version was printed to stdout, exit 0 (*ret untouched);
 *        <0: a usage or configuration error; errbuf holds one sentence naming the flag or the
 *            file and key; print it and exit 2 (*ret untouched).
 */
int rd_options_load(int argc, char **argv, struct rd_options *ret, char *errbuf, size_t errlen);

/* The same with another default config path (tests; the daemon always uses RD_DEFAULT_CONFIG). */
int rd_options_load_at(int argc, char **argv, const char *default_config, struct rd_options *ret,
                       char *errbuf, size_t errlen);

/* Frees what o owns and zeroes it. NULL-safe and idempotent. */
void rd_options_done(struct rd_options *o);

/* The --help text: what restored does, every flag with its default, the config file, docs. */
void rd_options_print_help(FILE *f);
