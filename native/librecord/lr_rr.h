/* Record and replay (liblog-style), below the tagging layer. The shims replace entries of lr_real (the
   kernel boundary), so in replay the tagging code above re-runs on the recorded raw bytes. Files:
     lr_rr_log.c    configuration, the log writer (record), the log reader and thread turns (replay),
                    divergence and end-of-log reports
     lr_rr_shim.c   lr_rr_install(): record/replay shims for the lr_real table, the per-fd class cache
     lr_rr_libc.c   exported wrappers for nondeterminism outside lr_real: clocks, randomness, pids,
                    bind/listen/getsockname/getpeername, pthread mutex/condvar order, thread creation
     lr_rr_taint.c  replay: per-sender message files (message taint, message payloads by reference)
     lr_rr_exec.c   the exec wrappers: the log trimmed before an exec (record), the replay ending there
     lr_rr_hash.c   the content hash of by-reference records
   Environment (set by `planescope run --mode record` and `planescope replay`):
     PLANESCOPE_RR_MODE       record | replay (anything else: librecord only tags)
     PLANESCOPE_RR_DIR        record: directory of the logs, DIR/<name>.<pid>.rec
     PLANESCOPE_RR_LOG        replay: the log to replay
     PLANESCOPE_RR_DATA       record: value (default) | reference (user-data file reads by reference)
     PLANESCOPE_RR_USER_DATA  record: newline-separated fnmatch(3) patterns of user-data file paths
     PLANESCOPE_RR_STALL_S and the replay's message-file variables: docs/recording.md
   See docs/recording.md for the log format. */
#ifndef LR_RR_H
#define LR_RR_H

#include <stdint.h>
#include <sys/types.h>
#include "lr.h"

#define LR_RR_MAGIC "PSRR0001"
#define LR_RR_MAGIC_LEN 8

/* Every record: this header, then aux_len bytes of aux, then data (len - header - aux_len bytes). */
struct lr_rr_hdr {
   uint32_t len;     /* whole record, header included */
   uint16_t kind;
   uint16_t tid;     /* replay thread id: 0 main, then creation order */
   int32_t fd;       /* the fd (or nfds, or clock id) the call was made on: checked on replay */
   int32_t err;      /* errno after the call when ret < 0 */
   int64_t ret;
   uint64_t arg;     /* the requested size (or request): checked on replay */
   uint32_t aux_len;
   uint32_t flags;   /* call flags: checked on replay */
} __attribute__((packed));

enum lr_rr_kind {
   RR_HEADER = 1, RR_END,
   RR_READ, RR_READV, RR_RECV, RR_RECVFROM, RR_RECVMSG,
   RR_SEND, RR_SENDTO, RR_SENDMSG, RR_WRITE, RR_WRITEV, RR_SENDFILE,
   RR_SOCKET, RR_CONNECT, RR_ACCEPT, RR_ACCEPT4, RR_SHUTDOWN, RR_BIND, RR_LISTEN,
   RR_GETSOCKNAME, RR_GETPEERNAME, RR_FIONREAD,
   RR_POLL, RR_PPOLL, RR_SELECT, RR_PSELECT, RR_EPOLL_WAIT, RR_EPOLL_PWAIT, RR_EPOLL_PWAIT2,
   RR_CLOCK_GETTIME, RR_GETTIMEOFDAY, RR_TIME, RR_GETRANDOM, RR_GETPID, RR_GETPPID,
   RR_MUTEX_LOCK, RR_MUTEX_TRYLOCK, RR_MUTEX_UNLOCK, RR_COND_WAIT, RR_COND_WAKE, RR_COND_SIGNAL,
   RR_COND_BROADCAST, RR_THREAD_CREATE,
   RR_UDATA_VALUE, RR_UDATA_REF,
   RR_RECVMSG_REF, /* recvmsg whose leading payload bytes are a sender's message, by reference */
   RR_EXEC,        /* the process exec'd (data: the path); the new image records into a log of its own */
   RR_KIND_MAX
};

enum { LR_RR_OFF, LR_RR_RECORD, LR_RR_REPLAY };
LR_HIDDEN extern int lr_rr_mode;
LR_HIDDEN extern int lr_rr_by_reference;

/* Called at the end of lr_real_init(): reads the environment, opens the log, swaps the shims in. */
LR_HIDDEN void lr_rr_install(struct lr_real *r);
LR_HIDDEN void lr_rr_uninstall(void);   /* back to the true functions (recording stopped, replay child) */
LR_HIDDEN void lr_rr_configure(void); /* lr_rr_log.c: mode, log, patterns */

/* 1 when path matches a PLANESCOPE_RR_USER_DATA pattern. */
LR_HIDDEN int lr_rr_user_data(const char *path);

/* The calling thread's replay id. */
LR_HIDDEN uint16_t lr_rr_tid(void);
LR_HIDDEN void lr_rr_set_tid(uint16_t tid);
LR_HIDDEN uint16_t lr_rr_new_tid(void);

/* Record: appends one record (a copy into the mapped log window under the log lock, so a crash loses at most
   the call in flight). */
LR_HIDDEN void lr_rr_put(int kind, int fd, int64_t ret, int err, uint64_t arg, uint32_t flags,
                         const void *aux, size_t aux_len, const void *data, size_t data_len);
/* Record: the same with the data taken from iovecs, from byte offset skip, data_len bytes (no copy in between). */
LR_HIDDEN void lr_rr_putv(int kind, int fd, int64_t ret, int err, uint64_t arg, uint32_t flags,
                          const void *aux, size_t aux_len, const struct iovec *dv, int dn, size_t skip, size_t data_len);
/* Before an exec (lr_rr_exec.c; exec runs no destructor). Record: an exec record, then the log trimmed
   to its records. Replay: the exec record is checked and the replay ends there, as recorded (the new
   image's own log replays on its own); the process exits 0 with a report of status exec. */
LR_HIDDEN int lr_rr_before_exec(const char *path); /* replay: 1 when the recorded exec failed (errno set) */
/* Record: the exec returned (it failed with err); replay takes that failure from the log. */
LR_HIDDEN void lr_rr_exec_failed(int err);
/* Record: takes the log lock for calls whose log order must equal their real order (mutexes). */
LR_HIDDEN void lr_rr_lock(void);
LR_HIDDEN void lr_rr_unlock(void);
LR_HIDDEN void lr_rr_put_locked(int kind, int fd, int64_t ret, int err, uint64_t arg, uint32_t flags,
                                const void *aux, size_t aux_len, const void *data, size_t data_len);

/* Replay: waits for this thread's turn, checks the next record is (kind, fd, arg, flags), and returns
   it; a mismatch or the end of the log ends the process with a report. lr_rr_done() passes the turn. */
struct lr_rr_rec {
   const struct lr_rr_hdr *h;
   const uint8_t *aux, *data;
   size_t data_len;
};
LR_HIDDEN void lr_rr_next(int kind, int fd, uint64_t arg, uint32_t flags, struct lr_rr_rec *out);
LR_HIDDEN void lr_rr_done(void);
/* Replay: reports a divergence found by a shim (e.g. a user-data file whose bytes changed). */
LR_HIDDEN void lr_rr_diverge(const char *what, int kind, int fd) __attribute__((noreturn));
/* Returns the logged result: sets errno from the record. */
LR_HIDDEN int64_t lr_rr_result(const struct lr_rr_rec *r);

/* A fast 64-bit hash of user-data bytes (by-reference records); AVX-512, AVX2 or scalar, all the same value. */
LR_HIDDEN uint64_t lr_rr_hash(const void *p, size_t n);

/* The hooks the tagging layer calls (lr_rr_replaying, lr_rr_recording, lr_rr_identity, lr_rr_msg_sent,
   lr_rr_msg_taint; lr_rr_taint.c) are declared in lr.h. */
/* Replay: n payload bytes at offset off of message msg_id of identity, from the sender's replay (its
   .payload file); -1 with the reason when they cannot be had. */
LR_HIDDEN int lr_rr_msg_payload(const char *identity, uint32_t msg_id, uint64_t off, void *dst, size_t n, char *why, size_t why_cap);
/* Payloads of at least this many bytes in one receive are recorded by reference (--record-data by-reference). */
#define LR_RR_REF_MIN 4096

/* A line on stderr with raw syscalls only (lr_warn calls getpid, which a replay takes from the log). */
LR_HIDDEN void lr_rr_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes all n bytes with raw write syscalls (EINTR retried): 0, or -1 on an error. */
LR_HIDDEN long lr_rr_write_all(int fd, const void *p, size_t n);
/* Moves fd to a number >= 900 (close-on-exec, raw syscalls) so the program's fd numbers do not depend
   on ours and replay identically; returns the fd to use (fd itself if it cannot move). */
LR_HIDDEN int lr_rr_fd_high(int fd);

/* Replay (lr_rr_taint.c): the end entry of this sender's message-taint and payload files. */
LR_HIDDEN void lr_rr_msg_end(void);
/* Replay of by-value user data: copies the log's n bytes over the real read's real_n bytes, keeping the
   taint planegrind gave the real read. */
LR_HIDDEN void lr_rr_copy_keep_taint(void *dst, const void *src, size_t n, size_t real_n);

/* True when the return address lies in librecord itself (its own locks are not recorded). */
LR_HIDDEN int lr_rr_from_self(const void *ret_addr);

#endif
