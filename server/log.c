/* log.c - journal entries under systemd, readable stderr lines otherwise. */
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "cleanup.h"

#define JOURNAL_FIELDS_MAX 32

static atomic_int log_level = RD_LOG_INFO;
static atomic_bool log_journal = false;
static atomic_int log_fd = STDERR_FILENO;
/* Serialises writes so a line longer than PIPE_BUF is never interleaved with another. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

const char *rd_log_level_name(enum rd_log_level level)
{
        switch (level) {
        case RD_LOG_ERROR:
                return "error";
        case RD_LOG_WARNING:
                return "warning";
        case RD_LOG_INFO:
                return "info";
        case RD_LOG_DEBUG:
                return "debug";
        }
        return "invalid";
}

int rd_log_level_from_string(const char *s, enum rd_log_level *ret_level)
{
        static const enum rd_log_level levels[] = {RD_LOG_ERROR, RD_LOG_WARNING, RD_LOG_INFO, RD_LOG_DEBUG};

        for (size_t i = 0; s && i < ARRAY_SIZE(levels); i++) {
                if (strcmp(s, rd_log_level_name(levels[i])) == 0) {
                        *ret_level = levels[i];
                        return 0;
                }
        }
        return -EINVAL;
}

/*
 * sd-journal(3)/systemd.exec(5): JOURNAL_STREAM holds "dev:ino" of the stream systemd connected;
 * only when stderr still is that stream (not redirected by a wrapper) do we bypass it.
 */
static bool stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* sd_journal_send() silently drops entries when journald is not there; stderr then is better. */
static bool journald_present(void)
{
        return access("/run/systemd/journal/socket", F_OK) == 0;
}

void rd_log_init(enum rd_log_level max_level)
{
        rd_log_set_level(max_level);
        atomic_store(&log_fd, STDERR_FILENO);
        atomic_store(&log_journal, stderr_is_journal() && journald_present());
}

void rd_log_set_level(enum rd_log_level max_level)
{
        atomic_store(&log_level, (int)max_level);
}

bool rd_log_enabled(enum rd_log_level level)
{
        return (int)level <= atomic_load(&log_level);
}

bool rd_log_to_journal(void)
{
        return atomic_load(&log_journal);
}

void rd_log_set_fd(int fd)
{
        atomic_store(&log_fd, fd);
        atomic_store(&log_journal, false);
}

/* A bounded appender: once full, further appends are dropped and the end reads "...". */
struct sbuf {
        char *p;
        size_t len, used;
        bool cut;
};

static void sb_putc(struct sbuf *b, char c)
{
        if (b->used + 1 < b->len)
                b->p[b->used++] = c;
        else
                b->cut = true;
        b->p[b->used] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
        while (*s)
                sb_putc(b, *s++);
}

static void sb_finish(struct sbuf *b)
{
        if (!b->cut || b->len < 4)
                return;
        memcpy(b->p + b->len - 4, "...", 4);
        b->used = b->len - 1;
}

static bool needs_quotes(const char *v)
{
        if (!*v)
                return true;
        for (; *v; v++)
                if (*v == ' ' || *v == '"' || *v == '=' || *v == '\\' || (unsigned char)*v < 0x20)
                        return true;
        return false;
}

/* Quotes like logfmt: a reader can split the line on spaces outside quotes. */
static void sb_value(struct sbuf *b, const char *v)
{
        if (!needs_quotes(v)) {
                sb_puts(b, v);
                return;
        }
        sb_putc(b, '"');
        for (; *v; v++) {
                if (*v == '"' || *v == '\\')
                        sb_putc(b, '\\');
                if (*v == '\n')
                        sb_puts(b, "\\n");
                else if ((unsigned char)*v < 0x20)
                        sb_putc(b, '?');
                else
                        sb_putc(b, *v);
        }
        sb_putc(b, '"');
}

static void sb_pair(struct sbuf *b, const char *key, const char *value)
{
        sb_putc(b, ' ');
        sb_puts(b, key);
        sb_putc(b, '=');
        sb_value(b, value);
}

static void sb_fields(struct sbuf *b, const struct rd_log_fields *f)
{
        char num[32];

        if (f->generation) {
                snprintf(num, sizeof(num), "%" PRIu64, f->generation);
                sb_pair(b, "generation", num);
        }
        if (f->stage != RS_STAGE_UNSPECIFIED)
                sb_pair(b, "stage", rs_stage_name(f->stage));
        if (f->reason != RS_REASON_NONE)
                sb_pair(b, "reason", rs_reason_name(f->reason));
        for (size_t i = 0; i < f->n_kv; i++) {
                snprintf(num, sizeof(num), "%" PRId64, f->kv[i].num);
                sb_pair(b, f->kv[i].key, f->kv[i].str ? f->kv[i].str : num);
        }
}

size_t rd_log_format_message(char *buf, size_t len, const char *container_id,
                             const struct rd_log_fields *fields, const char *msg)
{
        struct sbuf b = {.p = buf, .len = len};
        size_t n = strlen(msg);

        if (!len)
                return 0;
        buf[0] = '\0';
        /* Our own lines end without a newline; one more would make an empty journal line. */
        while (n > 0 && msg[n - 1] == '\n')
                n--;
        for (size_t i = 0; i < n; i++)
                sb_putc(&b, msg[i]);
        if (container_id)
                sb_pair(&b, "container", container_id);
        if (fields)
                sb_fields(&b, fields);
        sb_finish(&b);
        return b.used;
}

size_t rd_log_format_line(char *buf, size_t len, const struct timespec *now, enum rd_log_level level,
                          const char *message)
{
        /* One byte is kept back for the newline, which survives even when the message is cut. */
        struct sbuf b = {.p = buf, .len = len - 1};
        char ts[64];
        struct tm tm;

        if (len < 8) {
                if (len)
                        buf[0] = '\0';
                return 0;
        }
        buf[0] = '\0';
        gmtime_r(&now->tv_sec, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ %-5s ", now->tv_nsec / 1000000L,
                 rd_log_level_name(level));
        sb_puts(&b, ts);
        sb_puts(&b, message);
        sb_finish(&b);
        buf[b.used++] = '\n';
        buf[b.used] = '\0';
        return b.used;
}

static void write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return; /* nowhere left to report a failing log */
                p += k;
                n -= (size_t)k;
        }
}

static void emit_line(enum rd_log_level level, const char *message)
{
        char line[RD_LOG_LINE_MAX];
        struct timespec now;
        size_t n;

        clock_gettime(CLOCK_REALTIME, &now);
        n = rd_log_format_line(line, sizeof(line), &now, level, message);
        pthread_mutex_lock(&log_lock);
        write_all(atomic_load(&log_fd), line, n);
        pthread_mutex_unlock(&log_lock);
}

/* Journal field names allow only A-Z, 0-9 and '_'. */
static void journal_key(char *buf, size_t len, const char *key)
{
        size_t i = 0;
        int n = snprintf(buf, len, "RESTORE_");

        for (i = (size_t)n; *key && i + 1 < len; key++, i++) {
                char c = *key;
                buf[i] = (c >= 'a' && c <= 'z')                               ? (char)(c - 'a' + 'A')
                         : ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c
                                                                              : '_';
        }
        buf[i] = '\0';
}

struct jentry {
        struct iovec iov[JOURNAL_FIELDS_MAX];
        char *owned[JOURNAL_FIELDS_MAX];
        int n;
};

static void jadd(struct jentry *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jadd(struct jentry *j, const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        int n;

        if (j->n >= JOURNAL_FIELDS_MAX)
                return;
        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        j->owned[j->n] = s;
        j->iov[j->n++] = (struct iovec){.iov_base = s, .iov_len = (size_t)n};
}

static void jadd_fields(struct jentry *j, const char *container_id, const struct rd_log_fields *f)
{
        char key[64];

        if (container_id) {
                jadd(j, "CONTAINER_ID=%.12s", container_id);
                jadd(j, "CONTAINER_ID_FULL=%s", container_id);
        }
        if (!f)
                return;
        if (f->generation)
                jadd(j, "RESTORE_GENERATION=%" PRIu64, f->generation);
        if (f->stage != RS_STAGE_UNSPECIFIED)
                jadd(j, "RESTORE_STAGE=%s", rs_stage_name(f->stage));
        if (f->reason != RS_REASON_NONE)
                jadd(j, "RESTORE_REASON=%s", rs_reason_name(f->reason));
        for (size_t i = 0; i < f->n_kv; i++) {
                journal_key(key, sizeof(key), f->kv[i].key);
                if (f->kv[i].str)
                        jadd(j, "%s=%s", key, f->kv[i].str);
                else
                        jadd(j, "%s=%" PRId64, key, f->kv[i].num);
        }
}

/* Returns >= 0 when the entry was handed to journald; the caller falls back to stderr otherwise. */
static int emit_journal(enum rd_log_level level, const char *container_id, const struct rd_log_fields *f,
                        const char *message)
{
        struct jentry j = {.n = 0};
        int r;

        jadd(&j, "MESSAGE=%s", message);
        jadd(&j, "PRIORITY=%d", (int)level);
        jadd(&j, "SYSLOG_IDENTIFIER=restored");
        jadd_fields(&j, container_id, f);
        r = j.n > 0 ? sd_journal_sendv(j.iov, j.n) : -ENOMEM;
        for (int i = 0; i < j.n; i++)
                free(j.owned[i]);
        return r;
}

void rd_log(enum rd_log_level level, const char *container_id, const struct rd_log_fields *fields,
            const char *fmt, ...)
{
        char msg[RD_LOG_LINE_MAX], message[RD_LOG_LINE_MAX];
        va_list ap;

        if (!rd_log_enabled(level))
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        rd_log_format_message(message, sizeof(message), container_id, fields, msg);
        if (atomic_load(&log_journal) && emit_journal(level, container_id, fields, message) >= 0)
                return;
        emit_line(level, message);
}
