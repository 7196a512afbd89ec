/* Exported wrappers for the nondeterminism that does not pass through lr_real: clocks, randomness,
   pids, socket naming (bind/listen/getsockname/getpeername, so replay's placeholder sockets never
   touch the network), and the order of pthread mutex/condvar operations and thread creation. With
   recording off they are a pointer call to libc. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "lr_rr.h"

#define REAL(ret, name, params)                                  \
   static ret(*real_##name) params;                              \
   static inline void resolve_##name(void)                       \
   {                                                             \
      if (!real_##name) *(void **)&real_##name = dlsym(RTLD_NEXT, #name); \
   }

#define ACTIVE() (lr_real_init(), lr_rr_mode != LR_RR_OFF)
#define REC (lr_rr_mode == LR_RR_RECORD)

static int64_t replay_into(int kind, int fd, uint64_t arg, uint32_t flags, void *aux_out, size_t aux_cap,
                           void *data_out, size_t data_cap)
{
   struct lr_rr_rec R;
   lr_rr_next(kind, fd, arg, flags, &R);
   if (aux_out) memcpy(aux_out, R.aux, R.h->aux_len < aux_cap ? R.h->aux_len : aux_cap);
   if (data_out) memcpy(data_out, R.data, R.data_len < data_cap ? R.data_len : data_cap);
   int64_t r = lr_rr_result(&R);
   int e = errno;
   lr_rr_done();
   errno = e;
   return r;
}

/* ---- clocks ---- */
REAL(int, clock_gettime, (clockid_t, struct timespec *))
LR_EXPORT int clock_gettime(clockid_t clk, struct timespec *ts)
{
   resolve_clock_gettime();
   if (!ACTIVE()) return real_clock_gettime(clk, ts);
   if (REC) {
      int r = real_clock_gettime(clk, ts);
      lr_rr_put(RR_CLOCK_GETTIME, (int)clk, r, errno, 0, 0, ts, r == 0 ? sizeof *ts : 0, NULL, 0);
      return r;
   }
   return (int)replay_into(RR_CLOCK_GETTIME, (int)clk, 0, 0, ts, sizeof *ts, NULL, 0);
}

REAL(int, gettimeofday, (struct timeval *, void *))
LR_EXPORT int gettimeofday(struct timeval *tv, void *tz)
{
   resolve_gettimeofday();
   if (!ACTIVE()) return real_gettimeofday(tv, tz);
   __asm__("" : "+r"(tv)); /* declared nonnull, but callers do pass NULL with a tz */
   if (REC) {
      int r = real_gettimeofday(tv, tz);
      lr_rr_put(RR_GETTIMEOFDAY, 0, r, errno, 0, 0, tv, (r == 0 && tv) ? sizeof *tv : 0, NULL, 0);
      return r;
   }
   return (int)replay_into(RR_GETTIMEOFDAY, 0, 0, 0, tv, tv ? sizeof *tv : 0, NULL, 0);
}

REAL(time_t, time, (time_t *))
LR_EXPORT time_t time(time_t *out)
{
   resolve_time();
   if (!ACTIVE()) return real_time(out);
   time_t t;
   if (REC) {
      t = real_time(NULL);
      lr_rr_put(RR_TIME, 0, t, errno, 0, 0, NULL, 0, NULL, 0);
   } else {
      t = (time_t)replay_into(RR_TIME, 0, 0, 0, NULL, 0, NULL, 0);
   }
   if (out) *out = t;
   return t;
}

/* ---- randomness ---- */
REAL(ssize_t, getrandom, (void *, size_t, unsigned int))
LR_EXPORT ssize_t getrandom(void *buf, size_t n, unsigned int flags)
{
   resolve_getrandom();
   if (!ACTIVE()) return real_getrandom(buf, n, flags);
   if (REC) {
      ssize_t r = real_getrandom(buf, n, flags);
      int e = errno;
      lr_rr_put(RR_GETRANDOM, 0, r, e, n, flags, NULL, 0, buf, r > 0 ? (size_t)r : 0);
      errno = e;
      return r;
   }
   return (ssize_t)replay_into(RR_GETRANDOM, 0, n, flags, NULL, 0, buf, n);
}

/* ---- pids ---- */
REAL(pid_t, getpid, (void))
LR_EXPORT pid_t getpid(void)
{
   resolve_getpid();
   if (!ACTIVE()) return real_getpid();
   if (REC) { pid_t p = real_getpid(); lr_rr_put(RR_GETPID, 0, p, 0, 0, 0, NULL, 0, NULL, 0); return p; }
   return (pid_t)replay_into(RR_GETPID, 0, 0, 0, NULL, 0, NULL, 0);
}

REAL(pid_t, getppid, (void))
LR_EXPORT pid_t getppid(void)
{
   resolve_getppid();
   if (!ACTIVE()) return real_getppid();
   if (REC) { pid_t p = real_getppid(); lr_rr_put(RR_GETPPID, 0, p, 0, 0, 0, NULL, 0, NULL, 0); return p; }
   return (pid_t)replay_into(RR_GETPPID, 0, 0, 0, NULL, 0, NULL, 0);
}

/* ---- socket naming ---- */
REAL(int, bind, (int, const struct sockaddr *, socklen_t))
LR_EXPORT int bind(int fd, const struct sockaddr *a, socklen_t len)
{
   resolve_bind();
   if (!ACTIVE()) return lr_peers_after_bind(fd, real_bind(fd, a, len));
   if (REC) { int r = real_bind(fd, a, len); lr_rr_put(RR_BIND, fd, r, errno, len, 0, NULL, 0, a, len); return lr_peers_after_bind(fd, r); }
   return (int)replay_into(RR_BIND, fd, len, 0, NULL, 0, NULL, 0);
}

REAL(int, listen, (int, int))
LR_EXPORT int listen(int fd, int backlog)
{
   resolve_listen();
   if (!ACTIVE()) return lr_peers_after_listen(fd, real_listen(fd, backlog));
   if (REC) { int r = real_listen(fd, backlog); lr_rr_put(RR_LISTEN, fd, r, errno, (uint64_t)backlog, 0, NULL, 0, NULL, 0); return lr_peers_after_listen(fd, r); }
   return (int)replay_into(RR_LISTEN, fd, (uint64_t)backlog, 0, NULL, 0, NULL, 0);
}

static int sockname(int kind, int (*real)(int, struct sockaddr *, socklen_t *), int fd, struct sockaddr *a, socklen_t *len)
{
   uint32_t cap = len ? *len : 0;
   if (REC) {
      int r = real(fd, a, len);
      int e = errno;
      uint32_t got = (r == 0 && len) ? *len : 0;
      lr_rr_put(kind, fd, r, e, cap, 0, &got, sizeof got, a, got < cap ? got : cap);
      errno = e;
      return r;
   }
   uint32_t got = 0;
   int r = (int)replay_into(kind, fd, cap, 0, &got, sizeof got, a, cap);
   if (r == 0 && len) *len = got;
   return r;
}

REAL(int, getsockname, (int, struct sockaddr *, socklen_t *))
LR_EXPORT int getsockname(int fd, struct sockaddr *a, socklen_t *len)
{
   resolve_getsockname();
   if (!ACTIVE()) return real_getsockname(fd, a, len);
   return sockname(RR_GETSOCKNAME, real_getsockname, fd, a, len);
}

REAL(int, getpeername, (int, struct sockaddr *, socklen_t *))
LR_EXPORT int getpeername(int fd, struct sockaddr *a, socklen_t *len)
{
   resolve_getpeername();
   if (!ACTIVE()) return real_getpeername(fd, a, len);
   return sockname(RR_GETPEERNAME, real_getpeername, fd, a, len);
}

/* ---- thread order. Record: a lock is logged after it is taken, an unlock before it is released, so
   the log order is a valid acquisition order; replay makes every thread wait for its turn. ---- */
#define SELF_CALL() lr_rr_from_self(__builtin_return_address(0))

REAL(int, pthread_mutex_lock, (pthread_mutex_t *))
REAL(int, pthread_mutex_trylock, (pthread_mutex_t *))
REAL(int, pthread_mutex_unlock, (pthread_mutex_t *))

LR_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
   resolve_pthread_mutex_lock();
   if (!ACTIVE() || SELF_CALL()) return real_pthread_mutex_lock(m);
   if (REC) {
      int r = real_pthread_mutex_lock(m);
      lr_rr_put(RR_MUTEX_LOCK, 0, r, 0, 0, 0, NULL, 0, NULL, 0);
      return r;
   }
   int r = (int)replay_into(RR_MUTEX_LOCK, 0, 0, 0, NULL, 0, NULL, 0);
   return r == 0 ? real_pthread_mutex_lock(m) : r;
}

LR_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
   resolve_pthread_mutex_trylock();
   resolve_pthread_mutex_lock();
   if (!ACTIVE() || SELF_CALL()) return real_pthread_mutex_trylock(m);
   if (REC) {
      int r = real_pthread_mutex_trylock(m);
      lr_rr_put(RR_MUTEX_TRYLOCK, 0, r, 0, 0, 0, NULL, 0, NULL, 0);
      return r;
   }
   int r = (int)replay_into(RR_MUTEX_TRYLOCK, 0, 0, 0, NULL, 0, NULL, 0);
   return r == 0 ? real_pthread_mutex_lock(m) : r; /* it was free at this point of the recording */
}

LR_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
   resolve_pthread_mutex_unlock();
   if (!ACTIVE() || SELF_CALL()) return real_pthread_mutex_unlock(m);
   if (REC) lr_rr_put(RR_MUTEX_UNLOCK, 0, 0, 0, 0, 0, NULL, 0, NULL, 0);
   else replay_into(RR_MUTEX_UNLOCK, 0, 0, 0, NULL, 0, NULL, 0);
   return real_pthread_mutex_unlock(m);
}

/* Replay never waits on the real condition variable: the wait is an unlock, a turn, and a lock. */
REAL(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *))
REAL(int, pthread_cond_timedwait, (pthread_cond_t *, pthread_mutex_t *, const struct timespec *))
REAL(int, pthread_cond_signal, (pthread_cond_t *))
REAL(int, pthread_cond_broadcast, (pthread_cond_t *))

static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abs)
{
   resolve_pthread_mutex_lock();
   resolve_pthread_mutex_unlock();
   if (REC) {
      lr_rr_put(RR_COND_WAIT, 0, 0, 0, abs != NULL, 0, NULL, 0, NULL, 0);
      int r = abs ? real_pthread_cond_timedwait(c, m, abs) : real_pthread_cond_wait(c, m);
      lr_rr_put(RR_COND_WAKE, 0, r, 0, 0, 0, NULL, 0, NULL, 0);
      return r;
   }
   replay_into(RR_COND_WAIT, 0, abs != NULL, 0, NULL, 0, NULL, 0);
   real_pthread_mutex_unlock(m);
   struct lr_rr_rec R;
   lr_rr_next(RR_COND_WAKE, 0, 0, 0, &R);
   int r = (int)R.h->ret;
   lr_rr_done();
   real_pthread_mutex_lock(m);
   return r;
}

LR_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
   resolve_pthread_cond_wait();
   if (!ACTIVE() || SELF_CALL()) return real_pthread_cond_wait(c, m);
   return cond_wait(c, m, NULL);
}

LR_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abs)
{
   resolve_pthread_cond_timedwait();
   if (!ACTIVE() || SELF_CALL()) return real_pthread_cond_timedwait(c, m, abs);
   return cond_wait(c, m, abs);
}

LR_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
   resolve_pthread_cond_signal();
   if (!ACTIVE() || SELF_CALL()) return real_pthread_cond_signal(c);
   if (!REC) return (int)replay_into(RR_COND_SIGNAL, 0, 0, 0, NULL, 0, NULL, 0);
   lr_rr_put(RR_COND_SIGNAL, 0, 0, 0, 0, 0, NULL, 0, NULL, 0);
   return real_pthread_cond_signal(c);
}

LR_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
   resolve_pthread_cond_broadcast();
   if (!ACTIVE() || SELF_CALL()) return real_pthread_cond_broadcast(c);
   if (!REC) return (int)replay_into(RR_COND_BROADCAST, 0, 0, 0, NULL, 0, NULL, 0);
   lr_rr_put(RR_COND_BROADCAST, 0, 0, 0, 0, 0, NULL, 0, NULL, 0);
   return real_pthread_cond_broadcast(c);
}

/* ---- thread creation: ids in creation order, which the log fixes ---- */
struct start { void *(*fn)(void *); void *arg; uint16_t tid; };

static void *thread_start(void *p)
{
   struct start s = *(struct start *)p;
   free(p);
   lr_rr_set_tid(s.tid);
   return s.fn(s.arg);
}

REAL(int, pthread_create, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))
LR_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
   resolve_pthread_create();
   if (!ACTIVE() || SELF_CALL()) return real_pthread_create(t, attr, fn, arg);
   struct start *s = malloc(sizeof *s);
   if (!s) return EAGAIN;
   *s = (struct start){fn, arg, 0};
   if (REC) {
      /* under the log lock: the child's first record cannot precede this one */
      lr_rr_lock();
      uint16_t tid = lr_rr_new_tid();
      s->tid = tid;
      int r = real_pthread_create(t, attr, thread_start, s);
      if (r != 0) free(s);
      lr_rr_put_locked(RR_THREAD_CREATE, 0, r, 0, tid, 0, NULL, 0, NULL, 0);
      lr_rr_unlock();
      return r;
   }
   s->tid = lr_rr_new_tid();
   struct lr_rr_rec R;
   lr_rr_next(RR_THREAD_CREATE, 0, s->tid, 0, &R);
   int r = (int)R.h->ret;
   if (r == 0) r = real_pthread_create(t, attr, thread_start, s);
   else free(s);
   lr_rr_done();
   return r;
}
