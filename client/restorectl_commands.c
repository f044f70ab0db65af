/* restorectl_commands.c - restore, list, handle, watch, health. */
#include "restorectl.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "grpc/health/v1/health.pb-c.h"

/* Returned by the option handlers: carry on with the command. */
#define CONTINUE (-1)

/* A server page larger than this is capped by the server anyway (CONTRACT §3). */
#define LIST_PAGE_MAX 1000u
/* Guards against a server that keeps handing out tokens: 10^6 pages of 1000 is far beyond any graph. */
#define LIST_MAX_PAGES 1000000u

static void protobuf_freep(void *p)
{
        ProtobufCMessage *m = *(ProtobufCMessage **)p;
        if (m)
                protobuf_c_message_free_unpacked(m, NULL);
}
#define _cleanup_pb_ _cleanup_(protobuf_freep)

/* ---- help ---- */

static const struct {
        const char *name, *text;
} helps[] = {
    {"restore", "Usage: restorectl restore [--dry-run] [--runtime NAME]... [--workers N]\n"
                "\n"
                "Restores every container of the graph: load -> verify -> sync -> register -> handle.\n"
                "A restore that is already running is joined, not repeated. On a terminal the progress\n"
                "is drawn on stderr; then one row per container, the summary and the count of each action.\n"
                "\n"
                "Options:\n"
                "      --dry-run        compute and report; write, start or remove nothing\n"
                "      --runtime NAME   only this engine directory (repeatable)\n"
                "      --workers N      load/sync pool size (default: the daemon's)\n"
                "\n"
                "Exit status: 0 all restored; 3 at least one container failed; 1 RPC error.\n"
                "\n"
                "Examples:\n"
                "  restorectl restore --dry-run\n"
                "  restorectl -o json restore --runtime runc | jq '.summary'\n"},
    {"list", "Usage: restorectl list [--status S]... [--outcome O] [--runtime R] [--prefix P] [--limit N]\n"
             "\n"
             "Shows the daemon's current view of the containers (also while a restore runs), following\n"
             "every page. With -o json, prints one ListRestoredResponse holding all of them.\n"
             "\n"
             "Options:\n"
             "      --status S    only this status (repeatable, or comma-separated): created, starting,\n"
             "                    running, paused, restarting, stopped (or exited), unknown\n"
             "      --outcome O   restored or failed\n"
             "      --runtime R   only this engine directory\n"
             "      --prefix P    id or name prefix\n"
             "      --limit N     stop after N containers\n"
             "\n"
             "Status and outcome also accept the API's names (STATUS_RUNNING, OUTCOME_FAILED).\n"
             "Exit status: 0 success; 3 at least one listed container failed; 1 RPC error.\n"
             "\n"
             "Examples:\n"
             "  restorectl list --outcome failed\n"
             "  restorectl list --status running,paused --prefix web -o json\n"},
    {"handle", "Usage: restorectl handle ID [--dry-run]\n"
               "\n"
               "Re-syncs one registered container with the host and re-runs its handle step, then prints\n"
               "the decision (reattach, restart, keep-stopped, ...) with its restart and health reasons.\n"
               "ID is a full id, a unique id prefix, or a name.\n"
               "\n"
               "Options:\n"
               "      --dry-run   decide and report; change nothing\n"
               "\n"
               "Exit status: 0 success; 3 the container failed; 1 RPC error (e.g. NOT_FOUND).\n"
               "\n"
               "Example:\n"
               "  restorectl handle web --dry-run\n"},
    {"watch", "Usage: restorectl watch [--replay]\n"
              "\n"
              "Follows restore progress and per-container state changes as they happen: one line per\n"
              "event (time, kind, id, status, action), or one JSON WatchEvent per line with -o json.\n"
              "Runs until interrupted, until the daemon ends the stream, or for --timeout SEC.\n"
              "\n"
              "Options:\n"
              "      --replay   first send the current summary and every known result\n"
              "\n"
              "Examples:\n"
              "  restorectl watch\n"
              "  restorectl --timeout 60 -o json watch --replay | jq -c "
              "'select(.kind==\"KIND_CONTAINER_RESULT\")'\n"},
    {"health", "Usage: restorectl health\n"
               "\n"
               "Asks grpc.health.v1.Health/Check (service \"\") and prints SERVING or NOT_SERVING. The\n"
               "daemon is NOT_SERVING until its first restore has finished.\n"
               "\n"
               "Exit status: 0 only if SERVING; 1 otherwise (not serving, or unreachable).\n"
               "\n"
               "Example:\n"
               "  until restorectl health >/dev/null; do sleep 1; done\n"},
};

bool cmd_help(const char *command, FILE *f)
{
        for (size_t i = 0; i < ARRAY_SIZE(helps); i++)
                if (strcmp(helps[i].name, command) == 0) {
                        fputs(helps[i].text, f);
                        fputs("\nGlobal options (--socket, --timeout, -o) may also follow the command; see "
                              "'restorectl --help'.\n",
                              f);
                        return true;
                }
        return false;
}

/* ---- option parsing shared by the commands ---- */

typedef int (*apply_fn)(void *state, int opt, const char *arg);

/* Parses argv (argv[0] is the command) with the global options mixed in. Returns CONTINUE, or
 * the exit status when the command is already over (--help, usage error). */
static int parse_command(struct ctl *ctl, int argc, char **argv, const struct option *longopts,
                         apply_fn apply, void *state)
{
        const char *cmd = argv[0];
        int opt;

        optind = 0;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
                int r = ctl_global_option(ctl, opt, optarg);
                if (r < 0)
                        return EXIT_USAGE;
                if (r > 0)
                        continue;
                if (opt == 'h') {
                        cmd_help(cmd, stdout);
                        return EXIT_OK;
                }
                if (opt == '?' || opt == ':' || !apply)
                        return ctl_bad_option(cmd, opt, argv);
                r = apply(state, opt, optarg);
                if (r != CONTINUE)
                        return r;
        }
        return CONTINUE;
}

static int no_arguments(const char *cmd, int argc, char **argv)
{
        if (optind < argc)
                return ctl_usage_error(cmd, "unexpected argument '%s' for '%s'", argv[optind], cmd);
        return CONTINUE;
}

/* ---- restore ---- */

enum {
        OPT_DRY_RUN = OPT_FIRST_COMMAND_OPT,
        OPT_RUNTIME,
        OPT_WORKERS,
        OPT_STATUS,
        OPT_OUTCOME,
        OPT_PREFIX,
        OPT_LIMIT,
        OPT_REPLAY
};

/* state: the request; its runtimes array has room for argc entries, borrowed from argv. */
static int restore_apply(void *state, int opt, const char *arg)
{
        Isula__Restore__V1__RestoreAllRequest *req = state;
        unsigned long v;

        switch (opt) {
        case OPT_DRY_RUN:
                req->dry_run = true;
                return CONTINUE;
        case OPT_RUNTIME:
                if (!*arg)
                        return ctl_usage_error("restore", "--runtime needs a name");
                req->runtimes[req->n_runtimes++] = (char *)arg;
                return CONTINUE;
        case OPT_WORKERS:
                if (ctl_parse_uint(arg, 0, 4096, &v) < 0)
                        return ctl_usage_error("restore",
                                               "invalid --workers '%s' (0 to 4096; 0 = the daemon's)", arg);
                req->workers = (uint32_t)v;
                return CONTINUE;
        }
        return ctl_usage_error("restore", "unexpected option");
}

static int restore_output(const struct ctl *ctl, const Isula__Restore__V1__RestoreAllResponse *resp)
{
        bool failed =
            (resp->summary && (resp->summary->failed > 0 || (resp->summary->error && *resp->summary->error))) ||
            ctl_any_failed(resp->results, resp->n_results);

        if (ctl->json) {
                if (ctl_print_json(&resp->base, false) != EXIT_OK)
                        return EXIT_RPC;
        } else {
                ctl_print_table(resp->results, resp->n_results, "no containers found");
                ctl_print_summary(resp->summary);
                ctl_print_actions(resp->results, resp->n_results);
        }
        return failed ? EXIT_CONTAINER_FAILED : EXIT_OK;
}

static const char deadline_hint[] =
    "restorectl: the daemon may still be restoring: follow it with 'restorectl watch'\n"
    "or 'restorectl list', or allow more time with --timeout SEC\n";

int cmd_restore(struct ctl *ctl, int argc, char **argv)
{
        static const struct option longopts[] = {
            CTL_GLOBAL_LONGOPTS,
            {"dry-run", no_argument, NULL, OPT_DRY_RUN},
            {"runtime", required_argument, NULL, OPT_RUNTIME},
            {"workers", required_argument, NULL, OPT_WORKERS},
            {0},
        };
        Isula__Restore__V1__RestoreAllRequest req = ISULA__RESTORE__V1__RESTORE_ALL_REQUEST__INIT;
        _cleanup_free_ char **runtimes = calloc((size_t)argc, sizeof(char *));
        _cleanup_pb_ ProtobufCMessage *resp = NULL;
        struct ctl_progress *progress = NULL;
        struct rc_status st;
        int r;

        if (!runtimes)
                return EXIT_RPC;
        req.runtimes = runtimes;
        if ((r = parse_command(ctl, argc, argv, longopts, restore_apply, &req)) != CONTINUE ||
            (r = no_arguments("restore", argc, argv)) != CONTINUE)
                return r;
        if ((r = ctl_connect(ctl)) != 0)
                return r;
        /* The bar is for people watching; scripts reading stderr get clean output. */
        if (isatty(STDERR_FILENO))
                progress = ctl_progress_start(ctl);
        r = rc_unary(ctl->conn, RC_METHOD_RESTORE_ALL, &req.base,
                     &isula__restore__v1__restore_all_response__descriptor, ctl->timeout_ms, &resp, &st);
        ctl_progress_stop(progress);
        if (r < 0) {
                ctl_rpc_error(&st);
                if (st.code == GRPC_STATUS_DEADLINE_EXCEEDED)
                        fputs(deadline_hint, stderr);
                return EXIT_RPC;
        }
        return restore_output(ctl, (Isula__Restore__V1__RestoreAllResponse *)resp);
}

/* ---- list ---- */

struct list_args {
        Isula__Restore__V1__ListRestoredRequest req;
        uint32_t status_mask; /* bit per Status value: repeated and duplicate filters collapse */
        unsigned long limit;  /* 0 = all */
};

static int list_add_statuses(struct list_args *a, const char *arg)
{
        _cleanup_free_ char *copy = strdup(arg);
        char *save = NULL, words[160];

        if (!copy)
                return EXIT_RPC;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                int v;
                if (ctl_parse_enum(&isula__restore__v1__status__descriptor, tok, &v) < 0 || v < 0 ||
                    v > 31) {
                        ctl_enum_words(&isula__restore__v1__status__descriptor, false, words, sizeof(words));
                        return ctl_usage_error("list", "invalid --status '%s' (one of: %s; or exited)", tok,
                                               words);
                }
                a->status_mask |= 1u << v;
        }
        return CONTINUE;
}

static int list_apply(void *state, int opt, const char *arg)
{
        struct list_args *a = state;
        int v;

        switch (opt) {
        case OPT_STATUS:
                return list_add_statuses(a, arg);
        case OPT_OUTCOME:
                if (ctl_parse_enum(&isula__restore__v1__outcome__descriptor, arg, &v) < 0 || v == 0)
                        return ctl_usage_error("list", "invalid --outcome '%s' (restored or failed)", arg);
                a->req.outcome = (Isula__Restore__V1__Outcome)v;
                return CONTINUE;
        case OPT_RUNTIME:
                a->req.runtime = (char *)arg;
                return CONTINUE;
        case OPT_PREFIX:
                a->req.prefix = (char *)arg;
                return CONTINUE;
        case OPT_LIMIT:
                if (ctl_parse_uint(arg, 1, UINT32_MAX, &a->limit) < 0)
                        return ctl_usage_error("list", "invalid --limit '%s' (a count of at least 1)", arg);
                return CONTINUE;
        }
        return ctl_usage_error("list", "unexpected option");
}

/* Every page fetched so far; the rows point into the pages, which stay alive until the end. */
struct list_acc {
        ProtobufCMessage **pages;
        size_t n_pages;
        Isula__Restore__V1__ContainerResult **rows;
        size_t n_rows;
        const char *next_page_token; /* of the last page, when --limit ended the walk */
        const Isula__Restore__V1__RestoreSummary *summary;
};

static void list_acc_done(struct list_acc *acc)
{
        for (size_t i = 0; i < acc->n_pages; i++)
                protobuf_c_message_free_unpacked(acc->pages[i], NULL);
        free(acc->pages);
        free(acc->rows);
}

/* Keeps page m and appends up to `room` of its rows. Returns 0 or -ENOMEM (m is then freed). */
static int list_acc_add(struct list_acc *acc, ProtobufCMessage *m, size_t room)
{
        Isula__Restore__V1__ListRestoredResponse *page = (Isula__Restore__V1__ListRestoredResponse *)m;
        size_t take = page->n_containers < room ? page->n_containers : room;
        void *pages = realloc(acc->pages, (acc->n_pages + 1) * sizeof(*acc->pages));
        void *rows = pages ? realloc(acc->rows, (acc->n_rows + take + 1) * sizeof(*acc->rows)) : NULL;

        if (pages)
                acc->pages = pages;
        if (rows)
                acc->rows = rows;
        if (!pages || !rows) {
                protobuf_c_message_free_unpacked(m, NULL);
                return -ENOMEM;
        }
        acc->pages[acc->n_pages++] = m;
        if (take > 0) /* an empty page has containers == NULL, which memcpy must not see */
                memcpy(acc->rows + acc->n_rows, page->containers, take * sizeof(*acc->rows));
        acc->n_rows += take;
        if (page->summary)
                acc->summary = page->summary;
        /* A token is only a true continuation when the whole page was taken. */
        acc->next_page_token = take == page->n_containers ? page->next_page_token : "";
        return 0;
}

static uint32_t list_page_size(const struct list_args *a, size_t have)
{
        if (a->limit && a->limit - have < LIST_PAGE_MAX)
                return (uint32_t)(a->limit - have);
        return LIST_PAGE_MAX;
}

static int list_fetch_all(struct ctl *ctl, struct list_args *a, struct list_acc *acc, struct rc_status *st)
{
        for (size_t n = 0; n < LIST_MAX_PAGES; n++) {
                ProtobufCMessage *m = NULL;
                const char *token;
                int r;

                a->req.page_size = list_page_size(a, acc->n_rows);
                r = rc_unary(ctl->conn, RC_METHOD_LIST_RESTORED, &a->req.base,
                             &isula__restore__v1__list_restored_response__descriptor, ctl->timeout_ms, &m,
                             st);
                if (r < 0)
                        return r;
                r = list_acc_add(acc, m, a->limit ? a->limit - acc->n_rows : SIZE_MAX);
                if (r < 0)
                        return r;
                token = ((Isula__Restore__V1__ListRestoredResponse *)m)->next_page_token;
                if (!token || !*token || (a->limit && acc->n_rows >= a->limit))
                        return 0;
                if (a->req.page_token && strcmp(token, a->req.page_token) == 0) {
                        snprintf(st->msg, sizeof(st->msg), "the server returned page token '%s' twice",
                                 token);
                        st->code = GRPC_STATUS_INTERNAL;
                        return -EPROTO;
                }
                a->req.page_token = (char *)token; /* lives in the kept page */
        }
        snprintf(st->msg, sizeof(st->msg), "more than %u pages: giving up", LIST_MAX_PAGES);
        st->code = GRPC_STATUS_OUT_OF_RANGE;
        return -E2BIG;
}

static int list_output(const struct ctl *ctl, const struct list_acc *acc)
{
        Isula__Restore__V1__ListRestoredResponse all = ISULA__RESTORE__V1__LIST_RESTORED_RESPONSE__INIT;

        if (ctl->json) {
                all.n_containers = acc->n_rows;
                all.containers = acc->rows;
                all.next_page_token = (char *)(acc->next_page_token ? acc->next_page_token : "");
                all.summary = (Isula__Restore__V1__RestoreSummary *)acc->summary;
                if (ctl_print_json(&all.base, false) != EXIT_OK)
                        return EXIT_RPC;
        } else {
                ctl_print_table(acc->rows, acc->n_rows, "no containers match");
                ctl_print_summary(acc->summary);
        }
        return ctl_any_failed(acc->rows, acc->n_rows) ? EXIT_CONTAINER_FAILED : EXIT_OK;
}

int cmd_list(struct ctl *ctl, int argc, char **argv)
{
        static const struct option longopts[] = {
            CTL_GLOBAL_LONGOPTS,
            {"status", required_argument, NULL, OPT_STATUS},
            {"outcome", required_argument, NULL, OPT_OUTCOME},
            {"runtime", required_argument, NULL, OPT_RUNTIME},
            {"prefix", required_argument, NULL, OPT_PREFIX},
            {"limit", required_argument, NULL, OPT_LIMIT},
            {0},
        };
        struct list_args a = {.req = ISULA__RESTORE__V1__LIST_RESTORED_REQUEST__INIT};
        Isula__Restore__V1__Status statuses[32];
        struct list_acc acc = {0};
        struct rc_status st;
        int r;

        if ((r = parse_command(ctl, argc, argv, longopts, list_apply, &a)) != CONTINUE ||
            (r = no_arguments("list", argc, argv)) != CONTINUE)
                return r;
        for (int v = 0; v < 32; v++)
                if (a.status_mask & (1u << v))
                        statuses[a.req.n_status++] = (Isula__Restore__V1__Status)v;
        a.req.status = statuses;
        if ((r = ctl_connect(ctl)) != 0)
                return r;
        if (list_fetch_all(ctl, &a, &acc, &st) < 0)
                r = ctl_rpc_error(&st);
        else
                r = list_output(ctl, &acc);
        list_acc_done(&acc);
        return r;
}

/* ---- handle ---- */

static int handle_apply(void *state, int opt, const char *arg)
{
        if (opt == OPT_DRY_RUN) {
                *(bool *)state = true;
                return CONTINUE;
        }
        return ctl_usage_error("handle", "unexpected option");
}

int cmd_handle(struct ctl *ctl, int argc, char **argv)
{
        static const struct option longopts[] = {
            CTL_GLOBAL_LONGOPTS,
            {"dry-run", no_argument, NULL, OPT_DRY_RUN},
            {0},
        };
        Isula__Restore__V1__HandleContainerRequest req = ISULA__RESTORE__V1__HANDLE_CONTAINER_REQUEST__INIT;
        _cleanup_pb_ ProtobufCMessage *m = NULL;
        const Isula__Restore__V1__ContainerResult *res;
        bool dry_run = false;
        struct rc_status st;
        int r;

        if ((r = parse_command(ctl, argc, argv, longopts, handle_apply, &dry_run)) != CONTINUE)
                return r;
        if (optind >= argc || !*argv[optind])
                return ctl_usage_error("handle", "'handle' needs a container id, id prefix or name");
        if (optind + 1 < argc)
                return ctl_usage_error("handle", "unexpected argument '%s' for 'handle'", argv[optind + 1]);
        req.id = argv[optind];
        req.dry_run = dry_run;
        if ((r = ctl_connect(ctl)) != 0)
                return r;
        if (rc_unary(ctl->conn, RC_METHOD_HANDLE, &req.base,
                     &isula__restore__v1__handle_container_response__descriptor, ctl->timeout_ms, &m,
                     &st) < 0)
                return ctl_rpc_error(&st);
        res = ((Isula__Restore__V1__HandleContainerResponse *)m)->result;
        if (!res) {
                fputs("restorectl: the daemon sent no result\n", stderr);
                return EXIT_RPC;
        }
        if (ctl->json) {
                if (ctl_print_json(m, false) != EXIT_OK)
                        return EXIT_RPC;
        } else {
                ctl_print_handle(res, dry_run);
        }
        return res->outcome == ISULA__RESTORE__V1__OUTCOME__OUTCOME_FAILED ? EXIT_CONTAINER_FAILED : EXIT_OK;
}

/* ---- watch ---- */

static int watch_apply(void *state, int opt, const char *arg)
{
        if (opt == OPT_REPLAY) {
                ((Isula__Restore__V1__WatchRequest *)state)->replay = true;
                return CONTINUE;
        }
        return ctl_usage_error("watch", "unexpected option");
}

static int watch_loop(struct ctl *ctl, struct rc_stream *s)
{
        struct rc_status st;
        bool header = ctl->json; /* printed with the first event: none at all when the
                                  * connection fails, so stdout holds no half table */

        for (;;) {
                ProtobufCMessage *m = NULL;
                int r = rc_stream_next(s, &isula__restore__v1__watch_event__descriptor, -1, &m, &st);
                if (r == 0)
                        return EXIT_OK; /* the daemon ended the stream cleanly */
                /* --timeout on watch means "watch for SEC seconds": reaching it is success. */
                if (r < 0 && st.code == GRPC_STATUS_DEADLINE_EXCEEDED && ctl->timeout_given)
                        return EXIT_OK;
                if (r < 0)
                        return ctl_rpc_error(&st);
                int out = EXIT_OK;
                if (!header) {
                        ctl_print_watch_header();
                        header = true;
                }
                if (ctl->json)
                        out = ctl_print_json(m, true);
                else
                        ctl_print_watch_event((Isula__Restore__V1__WatchEvent *)m);
                protobuf_c_message_free_unpacked(m, NULL);
                /* A reader that went away (watch | head) ends the watch. */
                if (out != EXIT_OK || ferror(stdout))
                        return EXIT_RPC;
        }
}

int cmd_watch(struct ctl *ctl, int argc, char **argv)
{
        static const struct option longopts[] = {
            CTL_GLOBAL_LONGOPTS,
            {"replay", no_argument, NULL, OPT_REPLAY},
            {0},
        };
        Isula__Restore__V1__WatchRequest req = ISULA__RESTORE__V1__WATCH_REQUEST__INIT;
        struct rc_stream *s = NULL;
        struct rc_status st;
        int r;

        if ((r = parse_command(ctl, argc, argv, longopts, watch_apply, &req)) != CONTINUE ||
            (r = no_arguments("watch", argc, argv)) != CONTINUE)
                return r;
        if ((r = ctl_connect(ctl)) != 0)
                return r;
        /* A stream has no natural deadline: only an explicit --timeout bounds it. */
        if (rc_stream_open(ctl->conn, RC_METHOD_WATCH, &req.base, ctl->timeout_given ? ctl->timeout_ms : 0,
                           &s, &st) < 0)
                return ctl_rpc_error(&st);
        r = watch_loop(ctl, s);
        rc_stream_free(s);
        return r;
}

/* ---- health ---- */

int cmd_health(struct ctl *ctl, int argc, char **argv)
{
        static const struct option longopts[] = {CTL_GLOBAL_LONGOPTS, {0}};
        Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        _cleanup_pb_ ProtobufCMessage *m = NULL;
        const Grpc__Health__V1__HealthCheckResponse *resp;
        const ProtobufCEnumValue *v;
        struct rc_status st;
        int r;

        if ((r = parse_command(ctl, argc, argv, longopts, NULL, NULL)) != CONTINUE ||
            (r = no_arguments("health", argc, argv)) != CONTINUE)
                return r;
        if ((r = ctl_connect(ctl)) != 0)
                return r;
        if (rc_unary(ctl->conn, RC_METHOD_HEALTH_CHECK, &req.base,
                     &grpc__health__v1__health_check_response__descriptor, ctl->timeout_ms, &m, &st) < 0)
                return ctl_rpc_error(&st);
        resp = (const Grpc__Health__V1__HealthCheckResponse *)m;
        if (ctl->json) {
                if (ctl_print_json(m, false) != EXIT_OK)
                        return EXIT_RPC;
        } else {
                v = protobuf_c_enum_descriptor_get_value(
                    &grpc__health__v1__health_check_response__serving_status__descriptor, resp->status);
                printf("%s\n", v ? v->name : "UNKNOWN");
        }
        return resp->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING ? EXIT_OK
                                                                                                : EXIT_RPC;
}
