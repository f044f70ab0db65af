/* restorectl.c - the command line of restored: global options, dispatch, help, errors. */
#include "restorectl.h"

#include <errno.h>
#include <getopt.h>
#include <grpc/support/log.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct {
        const char *name;
        int (*run)(struct ctl *ctl, int argc, char **argv);
} commands[] = {
    {"restore", cmd_restore}, {"list", cmd_list},     {"handle", cmd_handle},
    {"watch", cmd_watch},     {"health", cmd_health},
};

static void print_usage(FILE *f)
{
        fputs("Usage: restorectl [--socket PATH] [--timeout SEC] [-o table|json] COMMAND [ARGS]\n"
              "\n"
              "Drives restored, iSulad's container restore service, over its API socket.\n"
              "\n"
              "Commands:\n"
              "  restore   Restore every container of the graph (or preview it with --dry-run)\n"
              "              restorectl restore --dry-run\n"
              "  list      Show the restored containers, filtered; follows every page\n"
              "              restorectl list --status running --runtime runc\n"
              "  handle    Re-sync one container with the host and re-run its restart decision\n"
              "              restorectl handle web --dry-run\n"
              "  watch     Follow restore progress and container state changes as they happen\n"
              "              restorectl -o json watch\n"
              "  health    Ask whether restored is serving (exit 0 only if SERVING)\n"
              "              restorectl health\n"
              "\n"
              "Options (also accepted after the command):\n"
              "      --socket PATH    the daemon's socket, or HOST:PORT of its TCP listener\n"
              "                       (default: $RESTORED_SOCKET, else " CTL_DEFAULT_SOCKET ")\n"
              "      --timeout SEC    deadline of each call in seconds (default 120; 0 = none);\n"
              "                       for watch: stop after SEC (default: run until interrupted)\n"
              "  -o, --output FORMAT  table (default) or json: the proto3 JSON of the response,\n"
              "                       one object per line for watch\n"
              "      --tls-ca FILE    with HOST:PORT: use TLS, trusting this CA (PEM)\n"
              "      --tls-cert FILE  with HOST:PORT: client certificate for mutual TLS (PEM)\n"
              "      --tls-key FILE   with HOST:PORT: the client certificate's key (PEM)\n"
              "  -h, --help           this help; 'restorectl COMMAND --help' for one command\n"
              "      --version        print the version\n"
              "\n"
              "Exit status:\n"
              "  0  success\n"
              "  1  RPC or transport error (health: also when the daemon is not SERVING)\n"
              "  2  usage error\n"
              "  3  the command succeeded but at least one container failed to restore\n",
              f);
}

int ctl_usage_error(const char *command, const char *fmt, ...)
{
        va_list ap;

        fputs("restorectl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        if (command)
                fprintf(stderr, "\nTry 'restorectl %s --help' for more information.\n", command);
        else
                fputs("\nTry 'restorectl --help' for more information.\n", stderr);
        return EXIT_USAGE;
}

int ctl_bad_option(const char *command, int opt, char **argv)
{
        /* getopt_long leaves the offending word at argv[optind - 1]. */
        const char *word = argv[optind - 1];
        char shortopt[3] = {'-', (char)optopt, '\0'};
        const char *what = optopt && optopt < 0x100 ? shortopt : word;

        if (opt == ':')
                return ctl_usage_error(command, "option '%s' needs a value", what);
        if (command)
                return ctl_usage_error(command, "unknown option '%s' for '%s'", what, command);
        return ctl_usage_error(command, "unknown option '%s'", what);
}

int ctl_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *ret)
{
        char *end = NULL;
        unsigned long v;

        if (!s || !*s || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_timeout(const char *s, int64_t *ret_ms)
{
        char *end = NULL;
        double sec;

        errno = 0;
        sec = strtod(s, &end);
        /* A day is far beyond any restore; larger values are typos. */
        if (!*s || errno || *end || !isfinite(sec) || sec < 0 || sec > 86400)
                return -EINVAL;
        *ret_ms = (int64_t)llround(sec * 1000.0);
        if (sec > 0 && *ret_ms == 0)
                *ret_ms = 1;
        return 0;
}

int ctl_global_option(struct ctl *ctl, int opt, const char *arg)
{
        switch (opt) {
        case OPT_SOCKET:
                if (!*arg) {
                        ctl_usage_error(NULL, "--socket needs a path");
                        return -EINVAL;
                }
                ctl->socket = arg;
                return 1;
        case OPT_TIMEOUT:
                if (parse_timeout(arg, &ctl->timeout_ms) < 0) {
                        ctl_usage_error(NULL, "invalid --timeout '%s' (seconds, e.g. 30 or 0.5; 0 = none)",
                                        arg);
                        return -EINVAL;
                }
                ctl->timeout_given = true;
                return 1;
        case OPT_TLS_CA:
                ctl->tls.ca_file = arg;
                return 1;
        case OPT_TLS_CERT:
                ctl->tls.cert_file = arg;
                return 1;
        case OPT_TLS_KEY:
                ctl->tls.key_file = arg;
                return 1;
        case 'o':
                if (strcmp(arg, "json") != 0 && strcmp(arg, "table") != 0) {
                        ctl_usage_error(NULL, "invalid output format '%s' (table or json)", arg);
                        return -EINVAL;
                }
                ctl->json = strcmp(arg, "json") == 0;
                return 1;
        default:
                return 0;
        }
}

int ctl_connect(struct ctl *ctl)
{
        struct rc_status st;

        if (ctl->conn)
                return 0;
        if (rc_conn_open(ctl->socket, &ctl->tls, &ctl->conn, &st) < 0)
                return ctl_rpc_error(&st);
        return 0;
}

int ctl_rpc_error(const struct rc_status *st)
{
        /* Our own transport messages already say what to do; server errors get their code,
         * which is what scripts and bug reports need. */
        if (st->code == GRPC_STATUS_UNAVAILABLE || st->code == GRPC_STATUS_DEADLINE_EXCEEDED)
                fprintf(stderr, "restorectl: %s\n", st->msg);
        else
                fprintf(stderr, "restorectl: %s (%s)\n", st->msg, rc_status_code_name(st->code));
        return EXIT_RPC;
}

/* gRPC logs connection trouble on stderr by itself; we explain it better, so stay quiet unless
 * the user asks with GRPC_VERBOSITY. */
static void quiet_grpc_log(gpr_log_func_args *args)
{
        (void)args;
}

/* Parses the options before the command. Returns true to go on with the command at argv[optind];
 * false when the program is done (help, version, usage error) with *ret_exit set. */
static bool parse_global(struct ctl *ctl, int argc, char **argv, int *ret_exit)
{
        enum { OPT_VERSION = OPT_FIRST_COMMAND_OPT };
        static const struct option longopts[] = {
            CTL_GLOBAL_LONGOPTS, {"version", no_argument, NULL, OPT_VERSION}, {0}};
        int opt;

        optind = 0;
        opterr = 0;
        /* '+': stop at the command; ':': report missing values as ':'. */
        while ((opt = getopt_long(argc, argv, "+:o:h", longopts, NULL)) != -1) {
                int r = ctl_global_option(ctl, opt, optarg);
                if (r > 0)
                        continue;
                if (r < 0) {
                        *ret_exit = EXIT_USAGE;
                } else if (opt == 'h') {
                        print_usage(stdout);
                        *ret_exit = EXIT_OK;
                } else if (opt == OPT_VERSION) {
                        printf("restorectl %s (API isula.restore.v1)\n", RESTORED_VERSION);
                        *ret_exit = EXIT_OK;
                } else {
                        *ret_exit = ctl_bad_option(NULL, opt, argv);
                }
                return false;
        }
        if (optind >= argc) {
                print_usage(stderr);
                *ret_exit = EXIT_USAGE;
                return false;
        }
        return true;
}

static int dispatch(struct ctl *ctl, int argc, char **argv)
{
        const char *name = argv[0];

        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(name, commands[i].name) == 0)
                        return commands[i].run(ctl, argc, argv);
        if (strcmp(name, "help") == 0) {
                if (argc < 2) {
                        print_usage(stdout);
                        return EXIT_OK;
                }
                if (cmd_help(argv[1], stdout))
                        return EXIT_OK;
                return ctl_usage_error(NULL, "no help for unknown command '%s'", argv[1]);
        }
        return ctl_usage_error(NULL, "unknown command '%s'", name);
}

int main(int argc, char **argv)
{
        struct ctl ctl = {.timeout_ms = CTL_DEFAULT_TIMEOUT_MS};
        const char *env = getenv("RESTORED_SOCKET");
        int first, r;

        ctl.socket = env && *env ? env : CTL_DEFAULT_SOCKET;
        if (!getenv("GRPC_VERBOSITY") && !getenv("GRPC_TRACE"))
                gpr_set_log_function(quiet_grpc_log);

        if (!parse_global(&ctl, argc, argv, &r))
                return r;
        first = optind;
        r = dispatch(&ctl, argc - first, argv + first);
        rc_conn_free(ctl.conn);
        fflush(stdout);
        /* Output that never reached its reader (a full disk, a closed pipe) is a failure. */
        if (ferror(stdout) && r == EXIT_OK)
                r = EXIT_RPC;
        return r;
}
