/* Who runs librecord: decided out of band, before the first byte, so a peer without librecord only
   ever sees the application's bytes.
   - Announce: a listening TCP socket (at listen) or a bound UDP socket (at bind) is announced by
     binding one unix datagram socket per address it can be reached at, in a per-host directory
     (PLANESCOPE_LR_RUNDIR, default /tmp/planescope-lr), named "<t|u><port>@<address>" (loopback
     addresses add "%<network namespace>", since 127.0.0.1 exists in every namespace). Pathname unix
     sockets are visible from every network namespace and die with their process: connect() to a
     stale name fails with ECONNREFUSED. These calls are raw syscalls, so a recording does not log them.
   - Probe: before a connection's first byte (or a datagram to a new destination) the sender connects a
     unix datagram socket to the destination's names; success means a live librecord listener. The
     probe goes through lr_real, so a recording logs its results and a replay decides the same way.
   - Otherwise PLANESCOPE_TAG_PEERS (for other hosts): entries ADDR, ADDR:PORT, [ADDR6]:PORT or *,
     each optionally prefixed with '!' (does not run librecord); the first match wins. Unlisted and
     unannounced destinations are talked to untagged (byte-exact, but taint does not cross).
   See docs/message-tagging.md, "Peers without librecord". */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "lr.h"

#define DEFAULT_RUNDIR "/tmp/planescope-lr"
#define ANNOUNCE_FD_MIN 512 /* keep our sockets out of the application's low fd numbers */
#define MAX_NAMES 16

/* ------------------------------------------------------------------------------ addresses, names */

/* An address in canonical form: IPv4-mapped IPv6 becomes IPv4. */
struct addr { int family; uint8_t a[16]; int port; };

static int addr_from(const struct sockaddr *sa, socklen_t len, struct addr *out)
{
   memset(out, 0, sizeof *out);
   if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
      const struct sockaddr_in *v4 = (const void *)sa;
      out->family = AF_INET;
      memcpy(out->a, &v4->sin_addr, 4);
      out->port = ntohs(v4->sin_port);
      return 0;
   }
   if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
      const struct sockaddr_in6 *v6 = (const void *)sa;
      out->port = ntohs(v6->sin6_port);
      if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
         out->family = AF_INET;
         memcpy(out->a, v6->sin6_addr.s6_addr + 12, 4);
      } else {
         out->family = AF_INET6;
         memcpy(out->a, &v6->sin6_addr, 16);
      }
      return 0;
   }
   return -1;
}

static int addr_loopback(const struct addr *a)
{
   if (a->family == AF_INET) return a->a[0] == 127;
   return IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)a->a);
}

static int addr_any(const struct addr *a)
{
   static const uint8_t zero[16];
   return memcmp(a->a, zero, a->family == AF_INET ? 4 : 16) == 0;
}

static void addr_text(const struct addr *a, char *out, size_t cap)
{
   if (!inet_ntop(a->family, a->a, out, cap)) snprintf(out, cap, "?");
}

/* The network namespace, fixed width so a replay's probe names have the recorded lengths. */
static void netns_id(char out[17])
{
   char link[64];
   long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/ns/net", link, sizeof link - 1);
   unsigned long ino = 0;
   if (n > 0) {
      link[n] = 0;
      const char *p = strchr(link, '[');
      if (p) ino = strtoul(p + 1, NULL, 10);
   }
   snprintf(out, 17, "%016lx", ino);
}

static const char *rundir(void)
{
   const char *d = getenv("PLANESCOPE_LR_RUNDIR");
   return d && *d ? d : DEFAULT_RUNDIR;
}

/* DIR/<t|u><port>@<text>; 0 when it fits a unix socket name. */
static int name_path(struct sockaddr_un *un, int stream, int port, const char *text)
{
   memset(un, 0, sizeof *un);
   un->sun_family = AF_UNIX;
   int n = snprintf(un->sun_path, sizeof un->sun_path, "%s/%c%d@%s", rundir(), stream ? 't' : 'u', port, text);
   return n > 0 && (size_t)n < sizeof un->sun_path ? 0 : -1;
}

/* The name under which a listener on a reaches destination a (for a loopback or wildcard listener). */
static void name_text(const struct addr *a, const char *ns, char *out, size_t cap)
{
   char t[INET6_ADDRSTRLEN];
   addr_text(a, t, sizeof t);
   if (addr_loopback(a)) snprintf(out, cap, "%s%%%s", t, ns);
   else snprintf(out, cap, "%s", t);
}

/* ------------------------------------------------------------------------------ announce (listener) */

struct announced {
   int fd;            /* the listening / bound socket */
   pid_t owner;       /* the process that created the names (only it unlinks them) */
   int n;
   int ufd[MAX_NAMES];
   ino_t ino[MAX_NAMES];
   char path[MAX_NAMES][sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static pthread_mutex_t ann_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER; /* the destinations warned about, below */
static struct announced **ann;
static int ann_n, ann_cap;
static int ann_warned;

static long sys_close(int fd) { return syscall(SYS_close, fd); }

static ino_t fd_ino(int fd)
{
   struct stat st;
   return syscall(SYS_fstat, fd, &st) == 0 ? st.st_ino : 0;
}

static void warn_announce(const char *what, const char *path, int err)
{
   if (ann_warned++) return;
   lr_warn("cannot announce this listener at %s (%s: %s): librecord peers will talk to it untagged; "
           "set PLANESCOPE_LR_RUNDIR to a writable directory shared with them", path, what, strerror(err));
}

static int ensure_rundir(void)
{
   const char *d = rundir();
   if (syscall(SYS_mkdirat, AT_FDCWD, d, 01777) == 0) {
      syscall(SYS_fchmodat, AT_FDCWD, d, 01777); /* every user's processes announce here (sticky) */
      return 0;
   }
   if (errno == EEXIST) return 0;
   warn_announce("mkdir", d, errno);
   return -1;
}

/* Binds one name; returns the unix socket's fd or -1. A stale name (its process died) is replaced. */
static int bind_name(const struct sockaddr_un *un)
{
   int u = (int)syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
   if (u < 0) return -1;
   for (int attempt = 0; attempt < 2; attempt++) {
      if (syscall(SYS_bind, u, un, sizeof *un) == 0) {
         syscall(SYS_fchmodat, AT_FDCWD, un->sun_path, 0666);
         int high = (int)syscall(SYS_fcntl, u, F_DUPFD_CLOEXEC, ANNOUNCE_FD_MIN);
         if (high >= 0) {
            sys_close(u);
            u = high;
         }
         return u;
      }
      if (errno != EADDRINUSE || attempt) break;
      int t = (int)syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      int live = t >= 0 && syscall(SYS_connect, t, un, sizeof *un) == 0;
      int err = errno;
      if (t >= 0) sys_close(t);
      if (live || err != ECONNREFUSED) {
         errno = EADDRINUSE;
         break;
      }
      syscall(SYS_unlinkat, AT_FDCWD, un->sun_path, 0);
   }
   int e = errno;
   warn_announce("bind", un->sun_path, e);
   sys_close(u);
   return -1;
}

static void add_name(struct announced *an, int stream, int port, const char *text)
{
   struct sockaddr_un un;
   if (an->n == MAX_NAMES || name_path(&un, stream, port, text) != 0) return;
   for (int i = 0; i < an->n; i++)
      if (strcmp(an->path[i], un.sun_path) == 0) return;
   int u = bind_name(&un);
   if (u < 0) return;
   an->ufd[an->n] = u;
   an->ino[an->n] = fd_ino(u);
   memcpy(an->path[an->n], un.sun_path, sizeof un.sun_path);
   an->n++;
}

/* A wildcard listener is reached at every address of its namespace: one name each (at announce time). */
static void add_wildcard(struct announced *an, int stream, int port, int family, int v6only, const char *ns)
{
   char text[INET6_ADDRSTRLEN + 20];
   if (family == AF_INET || !v6only) snprintf(text, sizeof text, "lo4%%%s", ns), add_name(an, stream, port, text);
   if (family == AF_INET6) snprintf(text, sizeof text, "lo6%%%s", ns), add_name(an, stream, port, text);
   struct ifaddrs *ifs = NULL;
   if (getifaddrs(&ifs) != 0) return;
   for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
      if (!i->ifa_addr) continue;
      int f = i->ifa_addr->sa_family;
      if (f != AF_INET && f != AF_INET6) continue;
      if (f == AF_INET && family == AF_INET6 && v6only) continue;
      if (f == AF_INET6 && family == AF_INET) continue;
      struct addr a;
      if (addr_from(i->ifa_addr, f == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6), &a) != 0) continue;
      if (addr_loopback(&a)) continue; /* covered by lo4/lo6 */
      if (a.family == AF_INET6 && a.a[0] == 0xfe && (a.a[1] & 0xc0) == 0x80) continue; /* link-local needs a scope */
      name_text(&a, ns, text, sizeof text);
      add_name(an, stream, port, text);
   }
   freeifaddrs(ifs);
}

static void announce(int fd, int stream)
{
   struct sockaddr_storage ss;
   socklen_t len = sizeof ss;
   if (syscall(SYS_getsockname, fd, &ss, &len) != 0) return;
   struct addr a;
   if (addr_from((struct sockaddr *)&ss, len, &a) != 0 || a.port == 0) return;
   if (ensure_rundir() != 0) return;
   struct announced *an = calloc(1, sizeof *an);
   if (!an) return;
   an->fd = fd;
   an->owner = (pid_t)syscall(SYS_getpid);
   char ns[17], text[INET6_ADDRSTRLEN + 20];
   netns_id(ns);
   if (addr_any(&a)) {
      int v6only = 0;
      socklen_t ol = sizeof v6only;
      if (ss.ss_family == AF_INET6) syscall(SYS_getsockopt, fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &ol);
      add_wildcard(an, stream, a.port, ss.ss_family, v6only, ns);
   } else {
      name_text(&a, ns, text, sizeof text);
      add_name(an, stream, a.port, text);
   }
   if (!an->n) {
      free(an);
      return;
   }
   pthread_mutex_lock(&ann_lock);
   if (ann_n == ann_cap) {
      int cap = ann_cap ? ann_cap * 2 : 8;
      struct announced **p = realloc(ann, cap * sizeof *p);
      if (!p) {
         pthread_mutex_unlock(&ann_lock);
         for (int i = 0; i < an->n; i++) sys_close(an->ufd[i]);
         free(an);
         return;
      }
      ann = p;
      ann_cap = cap;
   }
   ann[ann_n++] = an;
   pthread_mutex_unlock(&ann_lock);
}

/* Drops the names of one entry: closes our unix sockets (only if the fd is still ours: the application
   may have closed it and reused the number) and, in the announcing process, removes the names. */
static void withdraw(struct announced *an)
{
   int owner = (pid_t)syscall(SYS_getpid) == an->owner;
   for (int i = 0; i < an->n; i++) {
      if (fd_ino(an->ufd[i]) == an->ino[i]) sys_close(an->ufd[i]);
      if (owner) syscall(SYS_unlinkat, AT_FDCWD, an->path[i], 0);
   }
   free(an);
}

static int sock_type(int fd)
{
   int type = 0, domain = 0;
   socklen_t l = sizeof type;
   if (syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, &type, &l) != 0) return 0;
   l = sizeof domain;
   if (syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, &domain, &l) != 0) return 0;
   return domain == AF_INET || domain == AF_INET6 ? type : 0;
}

int lr_peers_after_listen(int fd, int rc)
{
   int saved = errno;
   lr_ensure_init();
   if (rc == 0 && lr_enabled && sock_type(fd) == SOCK_STREAM) {
      lr_peers_forget(fd); /* a second listen() on the same socket */
      announce(fd, 1);
   }
   errno = saved;
   return rc;
}

int lr_peers_after_bind(int fd, int rc)
{
   int saved = errno;
   lr_ensure_init();
   if (rc == 0 && lr_enabled && sock_type(fd) == SOCK_DGRAM) announce(fd, 0);
   errno = saved;
   return rc;
}

void lr_peers_forget(int fd)
{
   if (!__atomic_load_n(&ann_n, __ATOMIC_ACQUIRE)) return;
   int saved = errno;
   pthread_mutex_lock(&ann_lock);
   for (int i = 0; i < ann_n; i++) {
      if (ann[i]->fd != fd) continue;
      struct announced *an = ann[i];
      ann[i] = ann[--ann_n];
      withdraw(an);
      break;
   }
   pthread_mutex_unlock(&ann_lock);
   errno = saved;
}

/* A forked child has only the forking thread: a lock another thread held at the fork would never be released. */
void lr_peers_after_fork_child(void)
{
   pthread_mutex_init(&ann_lock, NULL);
   pthread_mutex_init(&warn_lock, NULL);
}

/* ------------------------------------------------------------------------------ PLANESCOPE_TAG_PEERS */

struct listed { int neg, all; struct addr a; };
static struct listed *listed;
static int n_listed;

static int parse_entry(const char *e, struct listed *out)
{
   memset(out, 0, sizeof *out);
   if (*e == '!') out->neg = 1, e++;
   if (strcmp(e, "*") == 0) return out->all = 1, 0;
   char host[INET6_ADDRSTRLEN + 2];
   const char *port = NULL;
   if (*e == '[') {
      const char *close = strchr(e, ']');
      if (!close || (size_t)(close - e - 1) >= sizeof host) return -1;
      memcpy(host, e + 1, close - e - 1);
      host[close - e - 1] = 0;
      if (close[1] == ':') port = close + 2;
      else if (close[1]) return -1;
   } else {
      const char *colon = strchr(e, ':');
      int v6 = colon && strchr(colon + 1, ':'); /* a bare IPv6 address has no port */
      size_t hl = colon && !v6 ? (size_t)(colon - e) : strlen(e);
      if (hl >= sizeof host) return -1;
      memcpy(host, e, hl);
      host[hl] = 0;
      if (colon && !v6) port = colon + 1;
   }
   if (port) {
      char *end;
      long p = strtol(port, &end, 10);
      if (!*port || *end || p < 1 || p > 65535) return -1;
      out->a.port = (int)p;
   }
   if (inet_pton(AF_INET, host, out->a.a) == 1) out->a.family = AF_INET;
   else if (inet_pton(AF_INET6, host, out->a.a) == 1) {
      out->a.family = AF_INET6;
      if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)out->a.a)) {
         memmove(out->a.a, out->a.a + 12, 4);
         memset(out->a.a + 4, 0, 12);
         out->a.family = AF_INET;
      }
   } else return -1;
   return 0;
}

void lr_peers_init(void)
{
   const char *v = getenv("PLANESCOPE_TAG_PEERS");
   if (!v || !*v) return;
   char *copy = strdup(v);
   if (!copy) return;
   int cap = 1;
   for (const char *p = v; *p; p++) cap += strchr(", \t\n", *p) != NULL;
   listed = calloc(cap, sizeof *listed);
   char *save = NULL;
   for (char *tok = strtok_r(copy, ", \t\n", &save); tok && listed && n_listed < cap; tok = strtok_r(NULL, ", \t\n", &save)) {
      if (parse_entry(tok, &listed[n_listed]) == 0) n_listed++;
      else lr_warn("PLANESCOPE_TAG_PEERS: '%s' is not ADDR, ADDR:PORT, [ADDR6]:PORT or * (optionally after '!'): ignored", tok);
   }
   free(copy);
}

/* 1: listed as running librecord, 0: listed as not, -1: not listed. */
static int env_verdict(const struct addr *d)
{
   for (int i = 0; i < n_listed; i++) {
      const struct listed *l = &listed[i];
      if (!l->all && (l->a.family != d->family || memcmp(l->a.a, d->a, d->family == AF_INET ? 4 : 16) != 0 ||
                      (l->a.port && l->a.port != d->port)))
         continue;
      return !l->neg;
   }
   return -1;
}

int lr_peer_listed(const struct sockaddr *peer, socklen_t len)
{
   struct addr d;
   if (!n_listed || addr_from(peer, len, &d) != 0) return -1;
   return env_verdict(&d);
}

/* ------------------------------------------------------------------------------ probe (sender) */

static int probe_names(int stream, const struct addr *d)
{
   char ns[17], text[2][INET6_ADDRSTRLEN + 20];
   int n = 0;
   netns_id(ns);
   name_text(d, ns, text[n++], sizeof text[0]);
   if (addr_loopback(d)) snprintf(text[n++], sizeof text[0], "%s%%%s", d->family == AF_INET ? "lo4" : "lo6", ns);
   int saved = errno, found = 0;
   int u = lr_real.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
   if (u < 0) return 0;
   for (int i = 0; i < n && !found; i++) {
      struct sockaddr_un un;
      if (name_path(&un, stream, d->port, text[i]) != 0) continue;
      found = lr_real.connect(u, (struct sockaddr *)&un, sizeof un) == 0;
   }
   lr_real.close(u);
   errno = saved;
   return found;
}

/* Destinations already warned about, so a client that reconnects warns once. */
static struct addr warned[32];
static int n_warned, warned_full;

static void warn_untagged(int stream, const struct addr *d)
{
   pthread_mutex_lock(&warn_lock);
   for (int i = 0; i < n_warned; i++)
      if (memcmp(&warned[i], d, sizeof *d) == 0) {
         pthread_mutex_unlock(&warn_lock);
         return;
      }
   int cap = (int)(sizeof warned / sizeof warned[0]), full = n_warned == cap, first_full = full && !warned_full;
   if (full) warned_full = 1;
   else warned[n_warned++] = *d;
   pthread_mutex_unlock(&warn_lock);
   if (full) {
      /* a program talking to many plain peers (a crawler) gets one more line, not one per peer */
      if (first_full) lr_warn("more than %d peers are not running librecord: talking to them untagged without naming each", cap);
      return;
   }
   char t[INET6_ADDRSTRLEN];
   addr_text(d, t, sizeof t);
   lr_warn("peer %s%s%s:%d (%s) is not running librecord: no librecord listener announced in %s and not listed in "
           "PLANESCOPE_TAG_PEERS; talking to it untagged", d->family == AF_INET6 ? "[" : "", t,
           d->family == AF_INET6 ? "]" : "", d->port, stream ? "tcp" : "udp", rundir());
}

int lr_peer_runs_librecord(int stream, const struct sockaddr *dest, socklen_t len)
{
   struct addr d;
   if (!dest || addr_from(dest, len, &d) != 0) return 0;
   if (probe_names(stream, &d)) return 1;
   int v = env_verdict(&d);
   if (v >= 0) return v;
   warn_untagged(stream, &d);
   return 0;
}
