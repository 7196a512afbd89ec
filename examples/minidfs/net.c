/* Sockets and message framing shared by the three programs. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "minidfs.h"

volatile sig_atomic_t stop_requested;

static void on_stop(int sig) { (void)sig; stop_requested = 1; }

void install_stop_handlers(void)
{
   struct sigaction sa;
   memset(&sa, 0, sizeof sa);
   sa.sa_handler = on_stop; /* no SA_RESTART: a blocking poll returns EINTR and the loop sees the flag */
   sigaction(SIGINT, &sa, NULL);
   sigaction(SIGTERM, &sa, NULL);
   signal(SIGPIPE, SIG_IGN);
}

void die(const char *fmt, ...)
{
   va_list ap;
   va_start(ap, fmt);
   fprintf(stderr, "minidfs: ");
   vfprintf(stderr, fmt, ap);
   fprintf(stderr, "\n");
   va_end(ap);
   exit(1);
}

void say(const char *fmt, ...)
{
   va_list ap;
   va_start(ap, fmt);
   vprintf(fmt, ap);
   printf("\n");
   fflush(stdout);
   va_end(ap);
}

void put32(unsigned char *p, uint32_t v) { p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }
uint32_t get32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
void put64(unsigned char *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
uint64_t get64(const unsigned char *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static int fill_addr(const char *host, int port, struct sockaddr_in *sa)
{
   memset(sa, 0, sizeof *sa);
   sa->sin_family = AF_INET;
   sa->sin_port = htons(port);
   return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

int tcp_listen(const char *host, int port, int *bound_port)
{
   struct sockaddr_in sa;
   if (fill_addr(host, port, &sa)) die("bad listen address %s", host);
   int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
   setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
   if (bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 64)) die("cannot listen on %s:%d: %s", host, port, strerror(errno));
   socklen_t len = sizeof sa;
   getsockname(fd, (struct sockaddr *)&sa, &len);
   *bound_port = ntohs(sa.sin_port);
   return fd;
}

int udp_bind(const char *host, int port)
{
   struct sockaddr_in sa;
   if (fill_addr(host, port, &sa)) die("bad address %s", host);
   int fd = socket(AF_INET, SOCK_DGRAM, 0);
   if (bind(fd, (struct sockaddr *)&sa, sizeof sa)) {
      close(fd);
      return -1;
   }
   return fd;
}

static int split_addr(const char *addr, char *host, size_t hostlen, int *port)
{
   const char *colon = strrchr(addr, ':');
   if (!colon || (size_t)(colon - addr) >= hostlen) return -1;
   memcpy(host, addr, colon - addr);
   host[colon - addr] = 0;
   *port = atoi(colon + 1);
   return 0;
}

int tcp_connect(const char *addr)
{
   char host[ADDR_LEN];
   int port;
   struct sockaddr_in sa;
   if (split_addr(addr, host, sizeof host, &port) || fill_addr(host, port, &sa)) {
      errno = EINVAL;
      return -1;
   }
   int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
   if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
      close(fd);
      return -1;
   }
   setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
   return fd;
}

int udp_send_to(int fd, const char *addr, const void *buf, size_t len)
{
   char host[ADDR_LEN];
   int port;
   struct sockaddr_in sa;
   if (split_addr(addr, host, sizeof host, &port) || fill_addr(host, port, &sa)) return -1;
   return sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof sa) == (ssize_t)len ? 0 : -1;
}

int send_all(int fd, const void *buf, size_t len)
{
   const char *p = buf;
   while (len > 0) {
      ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return -1;
      p += n;
      len -= n;
   }
   return 0;
}

int recv_all(int fd, void *buf, size_t len)
{
   char *p = buf;
   size_t got = 0;
   while (got < len) {
      ssize_t n = recv(fd, p + got, len - got, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return got ? -1 : 0;
      if (n < 0) return -1;
      got += n;
   }
   return 1;
}

int send_msg(int fd, uint32_t code, const void *body, uint32_t len)
{
   unsigned char head[8];
   put32(head, code);
   put32(head + 4, len);
   if (send_all(fd, head, sizeof head)) return -1;
   return len ? send_all(fd, body, len) : 0;
}

int recv_head(int fd, uint32_t *code, uint32_t *len)
{
   unsigned char head[8];
   int r = recv_all(fd, head, sizeof head);
   if (r <= 0) return r;
   *code = get32(head);
   *len = get32(head + 4);
   return 1;
}
