/* timefmt.c - iSulad's timestamp format (see timefmt.h). */
#include "timefmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "container.h"

#define NS_PER_SEC 1000000000LL

int rs_time_format(const struct timespec *ts, char buf[static RS_TIME_BUF])
{
        struct tm tm;
        long off, h, m;
        char sign = '+';
        size_t n;

        if (!localtime_r(&ts->tv_sec, &tm) || ts->tv_nsec < 0 || ts->tv_nsec >= NS_PER_SEC)
                return -EINVAL;
        n = strftime(buf, RS_TIME_BUF, "%Y-%m-%dT%H:%M:%S", &tm);
        if (n == 0)
                return -EINVAL;
        /* iSulad prints the offset of that instant (tm_gmtoff), DST included, as +HH:MM. */
        off = tm.tm_gmtoff;
        if (off < 0) {
                sign = '-';
                off = -off;
        }
        h = off / 3600;
        m = off % 3600 / 60;
        snprintf(buf + n, RS_TIME_BUF - n, ".%09ld%c%02ld:%02ld", ts->tv_nsec, sign, h, m);
        return 0;
}

int rs_time_format_now(char buf[static RS_TIME_BUF])
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return rs_time_format(&ts, buf);
}

int64_t rs_time_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* Exactly `width` decimal digits. */
static bool digits(const char **p, int width, int *ret)
{
        int v = 0;

        for (int i = 0; i < width; i++) {
                char c = (*p)[i];
                if (c < '0' || c > '9')
                        return false;
                v = v * 10 + (c - '0');
        }
        *p += width;
        *ret = v;
        return true;
}

static bool expect(const char **p, char c)
{
        if (**p != c)
                return false;
        (*p)++;
        return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
        static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        return m == 2 && leap ? 29 : dm[m - 1];
}

/* ".123" -> 123000000 ns; absent fraction -> 0. */
static bool fraction(const char **p, int64_t *ret_ns)
{
        int64_t ns = 0;
        int n = 0;

        *ret_ns = 0;
        if (**p != '.')
                return true;
        (*p)++;
        for (; **p >= '0' && **p <= '9'; (*p)++, n++) {
                if (n >= 9)
                        return false;
                ns = ns * 10 + (**p - '0');
        }
        if (n == 0)
                return false;
        for (; n < 9; n++)
                ns *= 10;
        *ret_ns = ns;
        return true;
}

/* "Z" -> 0, "+08:00" -> 28800, "-05:30" -> -19800; must end the string. */
static bool zone(const char *p, int64_t *ret_off)
{
        int h, m, sign;

        if (p[0] == 'Z' && p[1] == '\0') {
                *ret_off = 0;
                return true;
        }
        if (*p != '+' && *p != '-')
                return false;
        sign = *p++ == '-' ? -1 : 1;
        if (!digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &m) || *p || h > 23 || m > 59)
                return false;
        *ret_off = sign * (h * 3600 + m * 60);
        return true;
}

int rs_time_parse(const char *s, int64_t *ret_ns)
{
        int Y, M, D, h, m, sec;
        int64_t frac, off, days, secs;
        const char *p = s;

        if (!s)
                return -EINVAL;
        if (strcmp(s, RS_DEFAULT_TIME) == 0)
                return -ENODATA;
        if (!digits(&p, 4, &Y) || !expect(&p, '-') || !digits(&p, 2, &M) || !expect(&p, '-') ||
            !digits(&p, 2, &D) || !expect(&p, 'T') || !digits(&p, 2, &h) || !expect(&p, ':') ||
            !digits(&p, 2, &m) || !expect(&p, ':') || !digits(&p, 2, &sec) || !fraction(&p, &frac) ||
            !zone(p, &off))
                return -EINVAL;
        if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || m > 59 || sec > 60)
                return -EINVAL;
        /* int64 nanoseconds span 1677-09-21 .. 2262-04-11; keep a margin of whole years. */
        if (Y < 1678 || Y > 2261)
                return -ERANGE;
        days = days_from_civil(Y, M, D);
        secs = days * 86400 + h * 3600 + m * 60 + sec - off;
        *ret_ns = secs * NS_PER_SEC + frac;
        return 0;
}

int64_t rs_time_seconds_since(const char *s, int64_t now_ns)
{
        int64_t t;

        if (!s || strcmp(s, "-") == 0 || rs_time_parse(s, &t) < 0 || t >= now_ns)
                return 0;
        return (now_ns - t) / NS_PER_SEC;
}
