/* restorectl_output.c - how restorectl shows responses: tables, summaries, JSON. */
#include "restorectl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "pbjson.h"

/* ---- enum words ---- */

/* Length of the prefix every value name of d shares up to its first '_' ("STATUS_"), or 0. */
static size_t enum_prefix_len(const ProtobufCEnumDescriptor *d)
{
        const char *first = d->n_values ? d->values[0].name : NULL;
        const char *us = first ? strchr(first, '_') : NULL;
        size_t n = us ? (size_t)(us - first) + 1 : 0;

        for (unsigned i = 0; n && i < d->n_values; i++)
                if (strncmp(d->values[i].name, first, n) != 0)
                        n = 0;
        return n;
}

const char *ctl_enum_word(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t size)
{
        const char *name = pbjson_enum_name(d, value);
        size_t i = 0;

        if (!name) {
                snprintf(buf, size, "%d", value);
                return buf;
        }
        for (const char *p = name + enum_prefix_len(d); *p && i + 1 < size; p++)
                buf[i++] = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
        buf[i] = '\0';
        return buf;
}

static const struct {
        const ProtobufCEnumDescriptor *d;
        const char *alias;
        int value;
} enum_aliases[] = {
    /* docker ps says "Exited"; the contract calls it stopped. */
    {&isula__restore__v1__status__descriptor, "EXITED", ISULA__RESTORE__V1__STATUS__STATUS_STOPPED},
    {&isula__restore__v1__outcome__descriptor, "OK", ISULA__RESTORE__V1__OUTCOME__OUTCOME_RESTORED},
};

int ctl_parse_enum(const ProtobufCEnumDescriptor *d, const char *s, int *ret)
{
        size_t skip = enum_prefix_len(d);
        char norm[64];
        size_t i;

        for (i = 0; s[i] && i + 1 < sizeof(norm); i++)
                norm[i] = s[i] == '-' ? '_' : (char)toupper((unsigned char)s[i]);
        if (s[i] || i == 0)
                return -EINVAL;
        norm[i] = '\0';
        for (unsigned v = 0; v < d->n_values; v++) {
                const char *name = d->values[v].name;
                if (strcmp(norm, name) == 0 || strcmp(norm, name + skip) == 0) {
                        *ret = d->values[v].value;
                        return 0;
                }
        }
        for (size_t a = 0; a < ARRAY_SIZE(enum_aliases); a++)
                if (enum_aliases[a].d == d && strcmp(norm, enum_aliases[a].alias) == 0) {
                        *ret = enum_aliases[a].value;
                        return 0;
                }
        return -EINVAL;
}

void ctl_enum_words(const ProtobufCEnumDescriptor *d, bool skip_zero, char *buf, size_t size)
{
        size_t used = 0;
        char w[64];

        buf[0] = '\0';
        for (unsigned v = 0; v < d->n_values && used < size; v++) {
                if (skip_zero && d->values[v].value == 0)
                        continue;
                used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                                         ctl_enum_word(d, d->values[v].value, w, sizeof(w)));
        }
}

/* The word, or "-" for the zero value (no action, no reason, no outcome yet); written to buf. */
static const char *word_or_dash(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t size)
{
        if (value != 0)
                return ctl_enum_word(d, value, buf, size);
        snprintf(buf, size, "-");
        return buf;
}

/* ---- JSON ---- */

int ctl_print_json(const ProtobufCMessage *m, bool one_line)
{
        _cleanup_free_ char *s = NULL;
        int flags = one_line ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED;
        int r = pbjson_to_string(m, flags, &s);

        if (r < 0) {
                fprintf(stderr, "restorectl: cannot print JSON: %s\n", strerror(-r));
                return EXIT_RPC;
        }
        puts(s);
        fflush(stdout);
        return EXIT_OK;
}

/* ---- the container table ---- */

/* iSulad names a container by its 64-hex id when no name was given: keep the table readable. */
#define NAME_COL_MAX 32

struct row {
        char id[13], name[NAME_COL_MAX + 1];
        const char *runtime, *error;
        char status[24], action[24], outcome[24], reason[32], stage[24];
};

enum { COL_ID, COL_NAME, COL_RUNTIME, COL_STATUS, COL_ACTION, COL_OUTCOME, COL_REASON, N_COLS };
static const char *const col_titles[N_COLS] = {"ID",     "NAME",    "RUNTIME", "STATUS",
                                               "ACTION", "OUTCOME", "REASON"};

static const char *nonempty(const char *s)
{
        return s && *s ? s : "-";
}

static void row_fill(struct row *w, const Isula__Restore__V1__ContainerResult *r)
{
        /* A container that failed before its id was known is still named by its directory. */
        snprintf(w->id, sizeof(w->id), "%.12s", r->id && *r->id ? r->id : nonempty(r->dir));
        if (strlen(nonempty(r->name)) > NAME_COL_MAX)
                snprintf(w->name, sizeof(w->name), "%.*s...", NAME_COL_MAX - 3, r->name);
        else
                snprintf(w->name, sizeof(w->name), "%s", nonempty(r->name));
        w->runtime = nonempty(r->runtime);
        w->error = r->outcome == ISULA__RESTORE__V1__OUTCOME__OUTCOME_FAILED && r->error && *r->error
                       ? r->error
                       : NULL;
        ctl_enum_word(&isula__restore__v1__status__descriptor, r->status, w->status, sizeof(w->status));
        word_or_dash(&isula__restore__v1__action__descriptor, r->action, w->action, sizeof(w->action));
        word_or_dash(&isula__restore__v1__outcome__descriptor, r->outcome, w->outcome, sizeof(w->outcome));
        word_or_dash(&isula__restore__v1__failure_reason__descriptor, r->reason, w->reason,
                     sizeof(w->reason));
        word_or_dash(&isula__restore__v1__stage__descriptor, r->stage, w->stage, sizeof(w->stage));
}

static const char *row_col(const struct row *w, int c)
{
        const char *cols[N_COLS] = {w->id, w->name, w->runtime, w->status, w->action, w->outcome, w->reason};
        return cols[c];
}

static void print_cells(const char *const cells[N_COLS], const size_t width[N_COLS])
{
        for (int c = 0; c < N_COLS - 1; c++)
                printf("%-*s  ", (int)width[c], cells[c]);
        printf("%s\n", cells[N_COLS - 1]);
}

static void print_rows(const struct row *rows, size_t n)
{
        size_t width[N_COLS];

        for (int c = 0; c < N_COLS; c++) {
                width[c] = strlen(col_titles[c]);
                for (size_t i = 0; i < n; i++)
                        if (strlen(row_col(&rows[i], c)) > width[c])
                                width[c] = strlen(row_col(&rows[i], c));
        }
        print_cells(col_titles, width);
        for (size_t i = 0; i < n; i++) {
                const char *cells[N_COLS];
                for (int c = 0; c < N_COLS; c++)
                        cells[c] = row_col(&rows[i], c);
                print_cells(cells, width);
                /* The sentence says which file and why; under the row, aligned with NAME. */
                if (rows[i].error)
                        printf("%*serror (%s): %s\n", (int)width[COL_ID] + 2, "", rows[i].stage,
                               rows[i].error);
        }
}

void ctl_print_table(Isula__Restore__V1__ContainerResult *const *rows, size_t n, const char *empty)
{
        _cleanup_free_ struct row *w = NULL;

        if (n == 0) {
                printf("%s\n", empty);
                return;
        }
        w = calloc(n, sizeof(*w));
        if (!w) {
                fputs("restorectl: out of memory\n", stderr);
                return;
        }
        for (size_t i = 0; i < n; i++)
                row_fill(&w[i], rows[i]);
        print_rows(w, n);
}

bool ctl_any_failed(Isula__Restore__V1__ContainerResult *const *rows, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (rows[i]->outcome == ISULA__RESTORE__V1__OUTCOME__OUTCOME_FAILED)
                        return true;
        return false;
}

/* ---- summaries ---- */

static const char *fmt_duration(uint64_t us, char *buf, size_t size)
{
        if (us < 10000)
                snprintf(buf, size, "%.1fms", (double)us / 1000.0);
        else if (us < 1000000)
                snprintf(buf, size, "%" PRIu64 "ms", us / 1000);
        else if (us < 60000000)
                snprintf(buf, size, "%.2fs", (double)us / 1e6);
        else
                snprintf(buf, size, "%" PRIu64 "m%.1fs", us / 60000000, (double)(us % 60000000) / 1e6);
        return buf;
}

void ctl_print_summary(const Isula__Restore__V1__RestoreSummary *s)
{
        char d[32];

        if (!s)
                return;
        printf("total %" PRIu32 ", restored %" PRIu32 ", failed %" PRIu32 ", running %" PRIu32
               ", stopped %" PRIu32 ", duration %s",
               s->total, s->restored, s->failed, s->running, s->stopped,
               fmt_duration(s->duration_us, d, sizeof(d)));
        if (s->phase == ISULA__RESTORE__V1__PHASE__PHASE_RUNNING)
                printf(" (restore in progress: %" PRIu32 "/%" PRIu32 " done)", s->done, s->total);
        else if (s->phase == ISULA__RESTORE__V1__PHASE__PHASE_IDLE)
                printf(" (no restore has run yet)");
        if (s->dry_run)
                printf(" (dry run: nothing was written, started or removed)");
        putchar('\n');
        /* Containers that could not even be listed have no row: say so where it is seen. */
        if (s->error && *s->error)
                printf("not restored: %s\n", s->error);
}

void ctl_print_actions(Isula__Restore__V1__ContainerResult *const *rows, size_t n)
{
        static const Isula__Restore__V1__Action order[] = {
            ISULA__RESTORE__V1__ACTION__ACTION_REATTACH,     ISULA__RESTORE__V1__ACTION__ACTION_RESTART,
            ISULA__RESTORE__V1__ACTION__ACTION_KEEP_STOPPED, ISULA__RESTORE__V1__ACTION__ACTION_SKIP_GC,
            ISULA__RESTORE__V1__ACTION__ACTION_AUTO_REMOVE,
        };
        size_t count[ARRAY_SIZE(order)] = {0}, failed = 0;
        char w[32];

        for (size_t i = 0; i < n; i++) {
                if (rows[i]->outcome == ISULA__RESTORE__V1__OUTCOME__OUTCOME_FAILED) {
                        failed++;
                        continue;
                }
                for (size_t a = 0; a < ARRAY_SIZE(order); a++)
                        if (rows[i]->action == order[a])
                                count[a]++;
        }
        printf("actions:");
        for (size_t a = 0; a < ARRAY_SIZE(order); a++)
                printf(" %s %zu,",
                       ctl_enum_word(&isula__restore__v1__action__descriptor, order[a], w, sizeof(w)),
                       count[a]);
        printf(" failed %zu\n", failed);
}

/* ---- handle ---- */

static void print_restart(const Isula__Restore__V1__RestartDecision *rd)
{
        if (!rd) {
                printf("%-10s -\n", "restart");
                return;
        }
        if (rd->should_restart)
                printf("%-10s yes, in %" PRId64 " ms", "restart", rd->delay_ms);
        else
                printf("%-10s no", "restart");
        printf(" (policy %s, restart count %" PRId32, nonempty(rd->policy), rd->restart_count);
        if (rd->maximum_retry_count > 0)
                printf(" of at most %" PRId32, rd->maximum_retry_count);
        printf(")");
        if (rd->reason && *rd->reason)
                printf(": %s", rd->reason);
        putchar('\n');
}

static void print_process(const Isula__Restore__V1__ContainerResult *r)
{
        if (r->process && r->process->pid > 0)
                printf("%-10s pid %" PRId32 ", ppid %" PRId32 ", start time %" PRIu64 "\n", "process",
                       r->process->pid, r->process->ppid, r->process->start_time);
        if (r->status == ISULA__RESTORE__V1__STATUS__STATUS_STOPPED || r->exit_code != 0)
                printf("%-10s %" PRId32 "\n", "exit code", r->exit_code);
}

void ctl_print_handle(const Isula__Restore__V1__ContainerResult *r, bool dry_run)
{
        char a[32], b[32], c[32];

        printf("%-10s %s (%s)\n", "container", nonempty(r->id), nonempty(r->name));
        printf("%-10s %s\n", "runtime", nonempty(r->runtime));
        printf("%-10s %s\n", "image", nonempty(r->image));
        printf("%-10s %s (on disk: %s)\n", "status",
               ctl_enum_word(&isula__restore__v1__status__descriptor, r->status, a, sizeof(a)),
               ctl_enum_word(&isula__restore__v1__status__descriptor, r->persisted_status, b, sizeof(b)));
        printf("%-10s %s\n", "decision",
               word_or_dash(&isula__restore__v1__action__descriptor, r->action, a, sizeof(a)));
        print_restart(r->restart);
        if (r->health && r->health->configured)
                printf("%-10s %s\n", "health", nonempty(r->health->status));
        else
                printf("%-10s not configured\n", "health");
        print_process(r);
        if (r->outcome == ISULA__RESTORE__V1__OUTCOME__OUTCOME_FAILED) {
                printf(
                    "%-10s failed at %s: %s\n", "outcome",
                    word_or_dash(&isula__restore__v1__stage__descriptor, r->stage, a, sizeof(a)),
                    word_or_dash(&isula__restore__v1__failure_reason__descriptor, r->reason, b, sizeof(b)));
                printf("%-10s %s\n", "error", nonempty(r->error));
        } else {
                printf("%-10s %s\n", "outcome",
                       word_or_dash(&isula__restore__v1__outcome__descriptor, r->outcome, c, sizeof(c)));
        }
        if (dry_run)
                printf("dry run: nothing was written, started or removed\n");
}

/* ---- watch ---- */

static const char *fmt_time(uint64_t time_us, char *buf, size_t size)
{
        struct timespec now;
        struct tm tm;
        time_t t;
        long ms;

        if (time_us == 0) { /* older servers: stamp it on arrival */
                clock_gettime(CLOCK_REALTIME, &now);
                time_us = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
        }
        t = (time_t)(time_us / 1000000u);
        ms = (long)(time_us % 1000000u / 1000u);
        localtime_r(&t, &tm);
        snprintf(buf, size, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
        return buf;
}

void ctl_print_watch_header(void)
{
        printf("%-12s  %-16s  %-12s  %-10s  %-12s  %s\n", "TIME", "KIND", "ID", "STATUS", "ACTION",
               "DETAIL");
        fflush(stdout);
}

static void watch_detail(const Isula__Restore__V1__WatchEvent *ev, char *buf, size_t size)
{
        const Isula__Restore__V1__RestoreSummary *s = ev->summary;
        const Isula__Restore__V1__ContainerResult *r = ev->result;
        char a[32], b[32];

        buf[0] = '\0';
        if (r && r->outcome == ISULA__RESTORE__V1__OUTCOME__OUTCOME_FAILED)
                snprintf(
                    buf, size, "%s: failed at %s: %s", nonempty(r->name),
                    word_or_dash(&isula__restore__v1__stage__descriptor, r->stage, a, sizeof(a)),
                    word_or_dash(&isula__restore__v1__failure_reason__descriptor, r->reason, b, sizeof(b)));
        else if (r)
                snprintf(buf, size, "%s", nonempty(r->name));
        else if (ev->progress)
                snprintf(
                    buf, size, "%s %" PRIu32 "/%" PRIu32,
                    ctl_enum_word(&isula__restore__v1__stage__descriptor, ev->progress->stage, a, sizeof(a)),
                    ev->progress->done, ev->progress->total);
        else if (s)
                snprintf(buf, size,
                         "generation %" PRIu64 ": total %" PRIu32 ", done %" PRIu32 ", failed %" PRIu32 "%s",
                         ev->generation ? ev->generation : s->generation, s->total, s->done, s->failed,
                         s->dry_run ? " (dry run)" : "");
}

void ctl_print_watch_event(const Isula__Restore__V1__WatchEvent *ev)
{
        const Isula__Restore__V1__ContainerResult *r = ev->result;
        char t[32], kind[32], st[24], act[24], id[13], detail[256];

        snprintf(id, sizeof(id), "%.12s", r && r->id && *r->id ? r->id : (r ? nonempty(r->dir) : "-"));
        watch_detail(ev, detail, sizeof(detail));
        printf(
            "%-12s  %-16s  %-12s  %-10s  %-12s  %s\n", fmt_time(ev->time_us, t, sizeof(t)),
            ctl_enum_word(&isula__restore__v1__watch_event__kind__descriptor, ev->kind, kind, sizeof(kind)),
            id, r ? ctl_enum_word(&isula__restore__v1__status__descriptor, r->status, st, sizeof(st)) : "-",
            r ? word_or_dash(&isula__restore__v1__action__descriptor, r->action, act, sizeof(act)) : "-",
            detail);
        fflush(stdout);
}
