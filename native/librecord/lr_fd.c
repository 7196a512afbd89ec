/* Per-fd socket state. Each fd of a tagged (inet TCP/UDP) socket points at one shared lr_sock, so dup'd
   fds continue the same tagged stream; close and fd-number reuse detach the slot, the last detach frees
   the state. Lookups are lock-free (two-level table of atomic pointers); attach/detach take a lock. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "lr.h"

#define L2 1024
#define L1 1024 /* fds 0 .. 1M-1 */

static struct lr_sock **table[L1];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

struct lr_sock *lr_fd_get(int fd)
{
   if (fd < 0 || fd >= L1 * L2) return NULL;
   struct lr_sock **second = __atomic_load_n(&table[fd / L2], __ATOMIC_ACQUIRE);
   if (!second) return NULL;
   return __atomic_load_n(&second[fd % L2], __ATOMIC_ACQUIRE);
}

static struct lr_sock **slot(int fd)
{
   if (fd < 0 || fd >= L1 * L2) return NULL;
   struct lr_sock **second = table[fd / L2];
   if (!second) {
      second = calloc(L2, sizeof *second);
      if (!second) return NULL;
      __atomic_store_n(&table[fd / L2], second, __ATOMIC_RELEASE);
   }
   return &second[fd % L2];
}

static void sock_free(struct lr_sock *s)
{
   pthread_mutex_destroy(&s->in_lock);
   pthread_mutex_destroy(&s->out_lock);
   lr_buf_free(&s->in_hello);
   lr_buf_free(&s->in_tag);
   lr_buf_free(&s->out_pending);
   lr_runs_free(&s->in_runs);
   free(s);
}

/* Detaches whatever the slot holds; caller holds table_lock. */
static void detach_locked(struct lr_sock **sl)
{
   struct lr_sock *old = *sl;
   if (!old) return;
   __atomic_store_n(sl, NULL, __ATOMIC_RELEASE);
   if (--old->refs > 0) return;
   /* another thread may still be inside a call on this socket (closing an fd to wake a blocked reader):
      then the state is left allocated rather than freed under it */
   if (pthread_mutex_trylock(&old->in_lock) != 0) return;
   if (pthread_mutex_trylock(&old->out_lock) != 0) {
      pthread_mutex_unlock(&old->in_lock);
      return;
   }
   pthread_mutex_unlock(&old->in_lock);
   pthread_mutex_unlock(&old->out_lock);
   sock_free(old);
}

struct lr_sock *lr_fd_attach_new(int fd, int kind, int connector)
{
   struct lr_sock *s = calloc(1, sizeof *s);
   if (!s) return NULL;
   s->refs = 1;
   s->kind = kind;
   s->connector = connector;
   pthread_mutex_init(&s->in_lock, NULL);
   pthread_mutex_init(&s->out_lock, NULL);
   s->in_state = LR_IN_UNKNOWN;
   s->out_state = connector ? LR_OUT_TAGGED : LR_OUT_UNDECIDED;
   pthread_mutex_lock(&table_lock);
   struct lr_sock **sl = slot(fd);
   if (!sl) {
      pthread_mutex_unlock(&table_lock);
      sock_free(s);
      return NULL;
   }
   detach_locked(sl);
   __atomic_store_n(sl, s, __ATOMIC_RELEASE);
   pthread_mutex_unlock(&table_lock);
   return s;
}

void lr_fd_share(int from, int to)
{
   lr_peers_forget(to);
   pthread_mutex_lock(&table_lock);
   struct lr_sock *s = lr_fd_get(from);
   struct lr_sock **sl = slot(to);
   if (sl) {
      detach_locked(sl);
      if (s) {
         s->refs++;
         __atomic_store_n(sl, s, __ATOMIC_RELEASE);
      }
   }
   pthread_mutex_unlock(&table_lock);
}

void lr_fd_forget(int fd)
{
   lr_peers_forget(fd);
   if (fd < 0 || fd >= L1 * L2 || !__atomic_load_n(&table[fd / L2], __ATOMIC_ACQUIRE)) return;
   pthread_mutex_lock(&table_lock);
   detach_locked(&table[fd / L2][fd % L2]);
   pthread_mutex_unlock(&table_lock);
}

/* A thread of the parent may have held a socket's lock at fork: the child starts with fresh locks. */
void lr_fd_after_fork_child(void)
{
   pthread_mutex_init(&table_lock, NULL);
   for (int i = 0; i < L1; i++) {
      if (!table[i]) continue;
      for (int j = 0; j < L2; j++) {
         struct lr_sock *s = table[i][j];
         if (!s) continue;
         pthread_mutex_init(&s->in_lock, NULL);
         pthread_mutex_init(&s->out_lock, NULL);
      }
   }
}

int lr_sock_kind_of(int fd)
{
   int domain = 0, type = 0;
   socklen_t len = sizeof domain;
   if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return 0;
   if (domain != AF_INET && domain != AF_INET6) return 0;
   len = sizeof type;
   if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return 0;
   if (type == SOCK_STREAM) return LR_SOCK_STREAM;
   if (type == SOCK_DGRAM) return LR_SOCK_DGRAM;
   return 0;
}

void lr_addr_describe(const struct sockaddr_storage *ss, char *out, size_t cap)
{
   char host[INET6_ADDRSTRLEN] = "?";
   int port = 0;
   if (ss->ss_family == AF_INET) {
      const struct sockaddr_in *a = (const void *)ss;
      inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
      port = ntohs(a->sin_port);
   } else if (ss->ss_family == AF_INET6) {
      const struct sockaddr_in6 *a = (const void *)ss;
      inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
      port = ntohs(a->sin6_port);
   }
   snprintf(out, cap, "%s:%d", host, port);
}

void lr_sock_describe_peer(int fd, struct lr_sock *s)
{
   struct sockaddr_storage ss;
   socklen_t len = sizeof ss;
   if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
      s->peer_addr = ss;
      s->peer_len = len;
   } else {
      ss.ss_family = AF_UNSPEC;
   }
   lr_addr_describe(&ss, s->peer_name, sizeof s->peer_name);
}

int lr_fd_nonblocking(int fd)
{
   int fl = lr_real.fcntl(fd, F_GETFL);
   return fl >= 0 && (fl & O_NONBLOCK);
}
