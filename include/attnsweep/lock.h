/* lock — one writer per results file. A writer holds FILE.lock, created with O_EXCL (no flock:
 * it works on NFS and Lustre), holding its host, pid, the pid's start time and its own start
 * time; a thread touches it every LOCK_HEARTBEAT_S seconds. Another writer is refused while the
 * holder is live: on the same host while its process exists (a dead pid is recognised at once),
 * from another host while the heartbeat is younger than LOCK_STALE_S (hosts' clocks must agree
 * within a minute). A stale or dead holder is taken over. Readers (`status`) see the holder. */
#ifndef ATTNSWEEP_LOCK_H
#define ATTNSWEEP_LOCK_H
#include <stddef.h>

#define LOCK_HEARTBEAT_S 10
#define LOCK_STALE_S 90

typedef struct {
    int present;            /* FILE.lock exists */
    char host[256];
    long pid;
    char started_utc[32];
    double heartbeat_age;   /* seconds since the last heartbeat (the lock file's mtime) */
    int same_host, live;    /* live: the holder still writes (see above) */
} lock_info_t;

/* FILE.lock's path into buf. */
void lock_path(const char *results, char *buf, size_t n);
/* What FILE.lock says, if it exists. 0 (present or not); -1 with err if it cannot be read. */
int lock_read(const char *results, lock_info_t *info, char *err, size_t errlen);
/* "host H, pid P, since T, heartbeat N s ago (live|not live)" into buf. */
void lock_describe(const lock_info_t *info, char *buf, size_t n);

typedef struct lock lock_t;

/* Become results' writer: create FILE.lock and start its heartbeat. A dead or stale holder is
 * replaced, with *notice saying whose lock was taken over (else notice[0] = 0). 0 ok; -1 when a
 * live writer holds it (err names it and what to do) or the lock cannot be made. */
int lock_acquire(const char *results, lock_t **lk, char *notice, size_t nlen, char *err,
                 size_t errlen);
/* Stop the heartbeat and remove FILE.lock if it is still ours. Safe on NULL. */
void lock_release(lock_t *lk);

#endif
