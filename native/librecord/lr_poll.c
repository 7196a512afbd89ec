/* Readiness that tells the truth about application bytes. A tagged TCP socket is readable for the
   kernel as soon as tag bytes (a hello, a frame header) arrive; before reporting it readable we
   consume those tag bytes and check that payload (or EOF, or an error) is really there. If none
   is, the event is dropped and the wait goes on for the rest of the caller's timeout.
   epoll: the kernel returns the registration's data, not the fd, so epoll_ctl registers every fd
   with its fd number as data and keeps the caller's data in a table translated back on return. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lr.h"

static inline struct lr_sock *stream_of(int fd)
{
   struct lr_sock *s = lr_fd_get(fd);
   return s && s->kind == LR_SOCK_STREAM ? s : NULL;
}

static int64_t now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Remaining timeout in ms for a deadline (-1: none). */
static int remaining(int64_t deadline)
{
   if (deadline < 0) return -1;
   int64_t left = deadline - now_ms();
   return left > 0 ? (int)left : 0;
}

/* ------------------------------------------------------------------------------------ poll/ppoll */

static int filter_pollfds(struct pollfd *fds, nfds_t nfds, int r)
{
   for (nfds_t i = 0; i < nfds && r > 0; i++) {
      if (!(fds[i].revents & (POLLIN | POLLRDNORM))) continue;
      struct lr_sock *s = stream_of(fds[i].fd);
      if (!s || lr_stream_readable(fds[i].fd, s) != 0) continue;
      fds[i].revents &= ~(POLLIN | POLLRDNORM);
      if (!fds[i].revents) r--;
   }
   return r;
}

static int any_stream(struct pollfd *fds, nfds_t nfds)
{
   for (nfds_t i = 0; i < nfds; i++)
      if ((fds[i].events & (POLLIN | POLLRDNORM)) && stream_of(fds[i].fd)) return 1;
   return 0;
}

LR_EXPORT int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
   lr_ensure_init();
   if (!lr_enabled || !any_stream(fds, nfds)) return lr_real.poll(fds, nfds, timeout);
   int64_t deadline = timeout < 0 ? -1 : now_ms() + timeout;
   for (;;) {
      int r = lr_real.poll(fds, nfds, remaining(deadline));
      if (r <= 0) return r;
      r = filter_pollfds(fds, nfds, r);
      if (r > 0 || (deadline >= 0 && remaining(deadline) == 0)) return r;
   }
}

LR_EXPORT int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen)
{
   if (fdslen / sizeof *fds < nfds) abort();
   return poll(fds, nfds, timeout);
}

LR_EXPORT int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo, const sigset_t *mask)
{
   lr_ensure_init();
   if (!lr_enabled || !any_stream(fds, nfds)) return lr_real.ppoll(fds, nfds, tmo, mask);
   int64_t deadline = tmo ? now_ms() + tmo->tv_sec * 1000 + tmo->tv_nsec / 1000000 : -1;
   for (;;) {
      struct timespec left, *lp = NULL;
      if (deadline >= 0) {
         int ms = remaining(deadline);
         left.tv_sec = ms / 1000;
         left.tv_nsec = (long)(ms % 1000) * 1000000;
         lp = &left;
      }
      int r = lr_real.ppoll(fds, nfds, lp, mask);
      if (r <= 0) return r;
      r = filter_pollfds(fds, nfds, r);
      if (r > 0 || (deadline >= 0 && remaining(deadline) == 0)) return r;
   }
}

/* ---------------------------------------------------------------------------------- select/pselect */

static int any_stream_set(int nfds, fd_set *rd)
{
   if (!rd) return 0;
   for (int fd = 0; fd < nfds; fd++)
      if (FD_ISSET(fd, rd) && stream_of(fd)) return 1;
   return 0;
}

/* Drops fds of rd that hold only tag bytes; returns the new count. */
static int filter_set(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int r)
{
   for (int fd = 0; fd < nfds && r > 0; fd++) {
      if (!FD_ISSET(fd, rd)) continue;
      struct lr_sock *s = stream_of(fd);
      if (!s || lr_stream_readable(fd, s) != 0) continue;
      FD_CLR(fd, rd);
      r--;
   }
   (void)wr;
   (void)ex;
   return r;
}

static int select_loop(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int64_t deadline, const sigset_t *mask, int use_pselect,
                       struct timeval *tv_out)
{
   fd_set r0, w0, e0;
   if (rd) r0 = *rd;
   if (wr) w0 = *wr;
   if (ex) e0 = *ex;
   for (;;) {
      int ms = remaining(deadline);
      int r;
      if (use_pselect) {
         struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
         r = lr_real.pselect(nfds, rd, wr, ex, deadline >= 0 ? &ts : NULL, mask);
      } else {
         struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
         r = lr_real.select(nfds, rd, wr, ex, deadline >= 0 ? &tv : NULL);
      }
      if (r > 0) r = filter_set(nfds, rd, wr, ex, r);
      if (r != 0 || (deadline >= 0 && remaining(deadline) == 0)) {
         if (tv_out) {
            int left = remaining(deadline);
            tv_out->tv_sec = left / 1000;
            tv_out->tv_usec = (left % 1000) * 1000;
         }
         return r;
      }
      if (rd) *rd = r0;
      if (wr) *wr = w0;
      if (ex) *ex = e0;
   }
}

LR_EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
   lr_ensure_init();
   if (!lr_enabled || !any_stream_set(nfds, rd)) return lr_real.select(nfds, rd, wr, ex, tv);
   int64_t deadline = tv ? now_ms() + tv->tv_sec * 1000 + tv->tv_usec / 1000 : -1;
   return select_loop(nfds, rd, wr, ex, deadline, NULL, 0, tv);
}

LR_EXPORT int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts, const sigset_t *mask)
{
   lr_ensure_init();
   if (!lr_enabled || !any_stream_set(nfds, rd)) return lr_real.pselect(nfds, rd, wr, ex, ts, mask);
   int64_t deadline = ts ? now_ms() + ts->tv_sec * 1000 + ts->tv_nsec / 1000000 : -1;
   return select_loop(nfds, rd, wr, ex, deadline, mask, 1, NULL);
}

/* -------------------------------------------------------------------------------------------- epoll */

struct ep_entry { uint64_t data; uint32_t events; int used; };
struct ep_table { int epfd; size_t cap; struct ep_entry *e; struct ep_table *next; };

static struct ep_table *tables;
static pthread_mutex_t ep_lock = PTHREAD_MUTEX_INITIALIZER;

static struct ep_table *ep_find(int epfd, int create)
{
   for (struct ep_table *t = tables; t; t = t->next)
      if (t->epfd == epfd) return t;
   if (!create) return NULL;
   struct ep_table *t = calloc(1, sizeof *t);
   if (!t) return NULL;
   t->epfd = epfd;
   t->next = tables;
   tables = t;
   return t;
}

/* close(epfd): forget its table (called by lr_life.c). */
LR_HIDDEN void lr_epoll_forget(int epfd)
{
   pthread_mutex_lock(&ep_lock);
   for (struct ep_table **p = &tables; *p; p = &(*p)->next) {
      if ((*p)->epfd == epfd) {
         struct ep_table *t = *p;
         *p = t->next;
         free(t->e);
         free(t);
         break;
      }
   }
   pthread_mutex_unlock(&ep_lock);
}

LR_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
   lr_ensure_init();
   if (!lr_enabled || fd < 0 || op == EPOLL_CTL_DEL || !ev) return lr_real.epoll_ctl(epfd, op, fd, ev);
   pthread_mutex_lock(&ep_lock);
   struct ep_table *t = ep_find(epfd, 1);
   if (t && (size_t)fd >= t->cap) {
      size_t ncap = t->cap ? t->cap : 64;
      while (ncap <= (size_t)fd) ncap *= 2;
      struct ep_entry *e = realloc(t->e, ncap * sizeof *e);
      if (e) {
         memset(e + t->cap, 0, (ncap - t->cap) * sizeof *e);
         t->e = e;
         t->cap = ncap;
      }
   }
   if (!t || (size_t)fd >= t->cap) {
      pthread_mutex_unlock(&ep_lock);
      errno = ENOMEM;
      return -1;
   }
   struct epoll_event mine = {ev->events, {.u64 = (uint64_t)fd}};
   int r = lr_real.epoll_ctl(epfd, op, fd, &mine);
   if (r == 0) t->e[fd] = (struct ep_entry){ev->data.u64, ev->events, 1};
   pthread_mutex_unlock(&ep_lock);
   return r;
}

/* Translates our fd-numbered events back to the caller's data and drops tag-only readiness. */
static int ep_filter(int epfd, struct epoll_event *events, int r)
{
   int out = 0;
   for (int i = 0; i < r; i++) {
      int fd = (int)events[i].data.u64;
      uint32_t ev = events[i].events;
      pthread_mutex_lock(&ep_lock);
      struct ep_table *t = ep_find(epfd, 0);
      struct ep_entry ent = t && (size_t)fd < t->cap ? t->e[fd] : (struct ep_entry){0};
      pthread_mutex_unlock(&ep_lock);
      if (!ent.used) ent.data = events[i].data.u64; /* registered before us: pass through */
      struct lr_sock *s;
      if ((ev & (EPOLLIN | EPOLLRDNORM)) && ent.used && (s = stream_of(fd)) && lr_stream_readable(fd, s) == 0) {
         ev &= ~(EPOLLIN | EPOLLRDNORM);
         if (!ev && (ent.events & EPOLLONESHOT)) {
            struct epoll_event again = {ent.events, {.u64 = (uint64_t)fd}};
            lr_real.epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &again); /* we swallowed its one shot */
         }
      }
      if (!ev) continue;
      events[out].events = ev;
      events[out].data.u64 = ent.data;
      out++;
   }
   return out;
}

static int ep_has_table(int epfd)
{
   pthread_mutex_lock(&ep_lock);
   int has = ep_find(epfd, 0) != NULL;
   pthread_mutex_unlock(&ep_lock);
   return has;
}

LR_EXPORT int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
   lr_ensure_init();
   if (!lr_enabled || !ep_has_table(epfd)) return lr_real.epoll_wait(epfd, events, maxevents, timeout);
   int64_t deadline = timeout < 0 ? -1 : now_ms() + timeout;
   for (;;) {
      int r = lr_real.epoll_wait(epfd, events, maxevents, remaining(deadline));
      if (r <= 0) return r;
      r = ep_filter(epfd, events, r);
      if (r > 0 || (deadline >= 0 && remaining(deadline) == 0)) return r;
   }
}

LR_EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout, const sigset_t *mask)
{
   lr_ensure_init();
   if (!lr_enabled || !ep_has_table(epfd)) return lr_real.epoll_pwait(epfd, events, maxevents, timeout, mask);
   int64_t deadline = timeout < 0 ? -1 : now_ms() + timeout;
   for (;;) {
      int r = lr_real.epoll_pwait(epfd, events, maxevents, remaining(deadline), mask);
      if (r <= 0) return r;
      r = ep_filter(epfd, events, r);
      if (r > 0 || (deadline >= 0 && remaining(deadline) == 0)) return r;
   }
}

LR_EXPORT int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents, const struct timespec *tmo,
                           const sigset_t *mask)
{
   lr_ensure_init();
   if (!lr_real.epoll_pwait2) { errno = ENOSYS; return -1; }
   if (!lr_enabled || !ep_has_table(epfd)) return lr_real.epoll_pwait2(epfd, events, maxevents, tmo, mask);
   int64_t deadline = tmo ? now_ms() + tmo->tv_sec * 1000 + tmo->tv_nsec / 1000000 : -1;
   for (;;) {
      int ms = remaining(deadline);
      struct timespec left = {ms / 1000, (long)(ms % 1000) * 1000000};
      int r = lr_real.epoll_pwait2(epfd, events, maxevents, deadline >= 0 ? &left : NULL, mask);
      if (r <= 0) return r;
      r = ep_filter(epfd, events, r);
      if (r > 0 || (deadline >= 0 && remaining(deadline) == 0)) return r;
   }
}
