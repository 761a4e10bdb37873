/* lock — FILE.lock, one writer per results file (lock.h). The lock is a small text file:
 *   attnsweep-lock 1
 *   host=<hostname> pid=<pid> pid_start=<start time of the pid, clock ticks since boot>
 *   started_utc=<ISO 8601>
 * made with O_CREAT|O_EXCL; its mtime is the heartbeat. pid_start tells a live writer from a new
 * process that reuses a dead writer's pid. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "attnsweep/lock.h"

struct lock {
    char path[4096], text[512];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running, stop;
};

void lock_path(const char *results, char *buf, size_t n) { snprintf(buf, n, "%s.lock", results); }

/* Field 22 of /proc/PID/stat, the process's start time; 0 if there is no such process or it
 * is a zombie (a killed writer whose parent died first may stay one). */
static long long proc_start(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X') return 0; /* field 3: the state */
    long long v = 0;
    for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
    if (p) v = atoll(p + 1);
    return v;
}

static void hostname_of(char *buf, size_t n)
{
    if (gethostname(buf, n) != 0) snprintf(buf, n, "?");
    buf[n - 1] = '\0';
}

int lock_read(const char *results, lock_info_t *in, char *err, size_t errlen)
{
    char path[4096], text[512] = "", me[256];
    long long start = 0;
    struct stat st;
    memset(in, 0, sizeof *in);
    lock_path(results, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "%s: cannot read it: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(text, 1, sizeof text - 1, f);
    int ok = fstat(fileno(f), &st) == 0;
    fclose(f);
    text[n] = '\0';
    char *h = strstr(text, "host="), *s = strstr(text, "started_utc=");
    if (!ok || !h || sscanf(h, "host=%255s pid=%ld pid_start=%lld", in->host, &in->pid, &start) != 3) {
        snprintf(err, errlen, "%s: not an attnsweep lock (remove it if no sweep writes %s)", path,
                 results);
        return -1;
    }
    if (s) sscanf(s, "started_utc=%31s", in->started_utc);
    in->present = 1;
    in->heartbeat_age = difftime(time(NULL), st.st_mtime);
    hostname_of(me, sizeof me);
    in->same_host = strcmp(me, in->host) == 0;
    in->live = in->same_host ? proc_start(in->pid) == start && start != 0
                             : in->heartbeat_age < LOCK_STALE_S;
    return 0;
}

void lock_describe(const lock_info_t *in, char *buf, size_t n)
{
    snprintf(buf, n, "host %s, pid %ld, since %s, heartbeat %.0f s ago (%s)", in->host, in->pid,
             in->started_utc[0] ? in->started_utc : "?", in->heartbeat_age,
             in->live ? "live" : in->same_host ? "dead: its process is gone" : "stale");
}

static void *heartbeat(void *arg)
{
    lock_t *lk = arg;
    pthread_mutex_lock(&lk->mu);
    while (!lk->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += LOCK_HEARTBEAT_S;
        pthread_cond_timedwait(&lk->cv, &lk->mu, &until);
        if (!lk->stop) utimensat(AT_FDCWD, lk->path, NULL, 0); /* now: the heartbeat */
    }
    pthread_mutex_unlock(&lk->mu);
    return NULL;
}

/* Create the lock file with O_EXCL: 0, 1 if it exists, -1 on another error (err set). */
static int create(lock_t *lk, char *err, size_t errlen)
{
    int fd = open(lk->path, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0) {
        if (errno == EEXIST) return 1;
        snprintf(err, errlen, "cannot create %s: %s", lk->path, strerror(errno));
        return -1;
    }
    size_t len = strlen(lk->text);
    int ok = write(fd, lk->text, len) == (ssize_t)len;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        unlink(lk->path);
        snprintf(err, errlen, "cannot write %s", lk->path);
        return -1;
    }
    return 0;
}

/* Is the lock file (still) ours? */
static int ours(const lock_t *lk)
{
    char text[512] = "";
    FILE *f = fopen(lk->path, "r");
    if (!f) return 0;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return strcmp(text, lk->text) == 0;
}

/* The lock exists: take it over if its holder is dead or stale (notice), else refuse (err). */
static int contend(lock_t *lk, const char *results, char *notice, size_t nlen, char *err,
                   size_t errlen)
{
    lock_info_t in;
    char who[512];
    if (lock_read(results, &in, err, errlen) != 0) return -1;
    if (!in.present) return 0; /* gone meanwhile: try again */
    lock_describe(&in, who, sizeof who);
    if (in.live) {
        snprintf(err, errlen, "%s is being written by another attnsweep (%s); it was left "
                 "unchanged. Wait for that sweep (`attnsweep status %s` shows it), or stop it "
                 "(kill -TERM %ld on %s)", results, who, results, in.pid, in.host);
        return -1;
    }
    snprintf(notice, nlen, "took over %s from a writer that no longer runs (%s)", lk->path, who);
    if (unlink(lk->path) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove the stale %s: %s", lk->path, strerror(errno));
        return -1;
    }
    return 0;
}

int lock_acquire(const char *results, lock_t **out, char *notice, size_t nlen, char *err,
                 size_t errlen)
{
    char host[256], utc[32];
    time_t now = time(NULL);
    struct tm tm;
    lock_t *lk = calloc(1, sizeof *lk);
    *out = NULL;
    notice[0] = '\0';
    if (!lk) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    lock_path(results, lk->path, sizeof lk->path);
    hostname_of(host, sizeof host);
    gmtime_r(&now, &tm);
    strftime(utc, sizeof utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(lk->text, sizeof lk->text, "attnsweep-lock 1\nhost=%s pid=%ld pid_start=%lld\n"
             "started_utc=%s\n", host, (long)getpid(), proc_start((long)getpid()), utc);
    int rc = 1;
    for (int attempt = 0; attempt < 3 && rc == 1; attempt++) {
        if ((rc = create(lk, err, errlen)) == 1 && contend(lk, results, notice, nlen, err, errlen))
            rc = -1;
    }
    /* Two takers of one stale lock: the loser finds the winner's text and backs off. */
    if (rc == 0 && !ours(lk)) {
        snprintf(err, errlen, "%s: another attnsweep took it at the same moment", lk->path);
        rc = -1;
    }
    if (rc != 0) {
        if (rc == 1) snprintf(err, errlen, "%s keeps reappearing: another attnsweep is starting",
                              lk->path);
        free(lk);
        return -1;
    }
    pthread_mutex_init(&lk->mu, NULL);
    pthread_cond_init(&lk->cv, NULL);
    sigset_t all, old; /* signals stay with the main thread, which handles stop requests */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    lk->running = pthread_create(&lk->thread, NULL, heartbeat, lk) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    *out = lk;
    return 0;
}

void lock_release(lock_t *lk)
{
    if (!lk) return;
    if (lk->running) {
        pthread_mutex_lock(&lk->mu);
        lk->stop = 1;
        pthread_cond_signal(&lk->cv);
        pthread_mutex_unlock(&lk->mu);
        pthread_join(lk->thread, NULL);
    }
    if (ours(lk)) unlink(lk->path);
    pthread_mutex_destroy(&lk->mu);
    pthread_cond_destroy(&lk->cv);
    free(lk);
}
