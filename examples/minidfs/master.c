/* minidfs master: maps file names to chunk locations and tracks live chunk servers from their UDP
   heartbeats. It never sees file contents: clients send chunk bytes straight to chunk servers.
   Usage: minidfs-master [-l HOST] [-p PORT] [-c CHUNK_BYTES]   (PORT 0: any free port; TCP and UDP) */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "minidfs.h"

#define MAX_SERVERS 16
#define MAX_FILES 256
#define MAX_CONNS 64
#define SERVER_TIMEOUT_MS 5000

struct server { char addr[ADDR_LEN]; int64_t last_ms; uint64_t chunks, bytes; };
struct file { char name[128]; uint64_t size; uint32_t nchunks; struct chunk_ref *chunks; };

static struct server servers[MAX_SERVERS];
static int nservers;
static struct file files[MAX_FILES];
static int nfiles;
static uint64_t next_chunk_id = 1;
static uint32_t chunk_size = 16u << 20;
static int rr; /* round-robin placement */

static int64_t now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "HB host:port chunks bytes" */
static void on_heartbeat(const char *msg)
{
   char addr[ADDR_LEN];
   unsigned long long chunks, bytes;
   if (sscanf(msg, "HB %63s %llu %llu", addr, &chunks, &bytes) != 3) return;
   for (int i = 0; i < nservers; i++) {
      if (strcmp(servers[i].addr, addr) == 0) {
         servers[i].last_ms = now_ms();
         servers[i].chunks = chunks;
         servers[i].bytes = bytes;
         return;
      }
   }
   if (nservers == MAX_SERVERS) return;
   struct server *s = &servers[nservers++];
   snprintf(s->addr, sizeof s->addr, "%s", addr);
   s->last_ms = now_ms();
   s->chunks = chunks;
   s->bytes = bytes;
   say("master: chunk server %s registered", addr);
}

static struct server *pick_server(void)
{
   for (int tries = 0; tries < nservers; tries++) {
      struct server *s = &servers[rr++ % nservers];
      if (now_ms() - s->last_ms < SERVER_TIMEOUT_MS) return s;
   }
   return NULL;
}

static struct file *find_file(const char *name)
{
   for (int i = 0; i < nfiles; i++)
      if (strcmp(files[i].name, name) == 0) return &files[i];
   return NULL;
}

/* Reply: u64 size, u32 nchunks, then per chunk u64 id, u32 len, char server[ADDR_LEN]. */
static int reply_layout(int fd, struct file *f)
{
   size_t len = 12 + (size_t)f->nchunks * (12 + ADDR_LEN);
   unsigned char *body = calloc(1, len), *p = body;
   if (!body) return send_msg(fd, ST_ERR, "out of memory", 13);
   put64(p, f->size);
   put32(p + 8, f->nchunks);
   p += 12;
   for (uint32_t i = 0; i < f->nchunks; i++, p += 12 + ADDR_LEN) {
      put64(p, f->chunks[i].id);
      put32(p + 8, f->chunks[i].len);
      memcpy(p + 12, f->chunks[i].server, ADDR_LEN);
   }
   int r = send_msg(fd, ST_OK, body, (uint32_t)len);
   free(body);
   return r;
}

/* ALLOC body: u64 size, name. Places every chunk on a live server. */
static int do_alloc(int fd, unsigned char *body, uint32_t len)
{
   if (len < 9 || len - 8 >= 128) return send_msg(fd, ST_ERR, "bad request", 11);
   uint64_t size = get64(body);
   char name[128];
   memcpy(name, body + 8, len - 8);
   name[len - 8] = 0;
   if (!pick_server()) return send_msg(fd, ST_RETRY, "no live chunk server yet", 24);
   struct file *f = find_file(name);
   if (!f) {
      if (nfiles == MAX_FILES) return send_msg(fd, ST_ERR, "too many files", 14);
      f = &files[nfiles++];
      snprintf(f->name, sizeof f->name, "%s", name);
   }
   free(f->chunks);
   f->size = size;
   f->nchunks = size ? (uint32_t)((size + chunk_size - 1) / chunk_size) : 0;
   if (f->nchunks > MAX_CHUNKS) return send_msg(fd, ST_ERR, "file too large", 14);
   f->chunks = calloc(f->nchunks ? f->nchunks : 1, sizeof *f->chunks);
   for (uint32_t i = 0; i < f->nchunks; i++) {
      uint64_t left = size - (uint64_t)i * chunk_size;
      f->chunks[i].id = next_chunk_id++;
      f->chunks[i].len = left < chunk_size ? (uint32_t)left : chunk_size;
      memcpy(f->chunks[i].server, pick_server()->addr, ADDR_LEN);
   }
   say("master: allocated %s: %llu bytes in %u chunks", f->name, (unsigned long long)size, f->nchunks);
   return reply_layout(fd, f);
}

static int do_lookup(int fd, unsigned char *body, uint32_t len)
{
   char name[128];
   if (len >= sizeof name) return send_msg(fd, ST_ERR, "bad request", 11);
   memcpy(name, body, len);
   name[len] = 0;
   struct file *f = find_file(name);
   if (!f) return send_msg(fd, ST_ERR, "no such file", 12);
   return reply_layout(fd, f);
}

/* Tells every known chunk server to stop, then stops. */
static void shutdown_cluster(void)
{
   for (int i = 0; i < nservers; i++) {
      int fd = tcp_connect(servers[i].addr);
      if (fd < 0) continue;
      uint32_t code, len;
      if (send_msg(fd, OP_SHUTDOWN, NULL, 0) == 0) recv_head(fd, &code, &len);
      close(fd);
   }
}

/* One request from a client connection; -1 closes it. */
static int serve_one(int fd, int *shutdown)
{
   uint32_t op, len;
   if (recv_head(fd, &op, &len) <= 0 || len > (1u << 20)) return -1;
   unsigned char *body = malloc(len + 1);
   if (!body || (len && recv_all(fd, body, len) <= 0)) {
      free(body);
      return -1;
   }
   int r;
   switch (op) {
   case OP_ALLOC: r = do_alloc(fd, body, len); break;
   case OP_LOOKUP: r = do_lookup(fd, body, len); break;
   case OP_SHUTDOWN: *shutdown = 1; r = send_msg(fd, ST_OK, NULL, 0); break;
   default: r = send_msg(fd, ST_ERR, "unknown op", 10);
   }
   free(body);
   return r;
}

int main(int argc, char **argv)
{
   const char *host = "127.0.0.1";
   int port = 0, opt;
   while ((opt = getopt(argc, argv, "l:p:c:")) != -1) {
      if (opt == 'l') host = optarg;
      else if (opt == 'p') port = atoi(optarg);
      else if (opt == 'c') chunk_size = (uint32_t)strtoul(optarg, NULL, 0);
      else die("usage: minidfs-master [-l HOST] [-p PORT] [-c CHUNK_BYTES]");
   }
   if (chunk_size == 0) die("chunk size must be positive");
   install_stop_handlers();
   int bound, lfd = -1, ufd = -1;
   for (int attempt = 0; attempt < 20 && ufd < 0; attempt++) {
      if (lfd >= 0) close(lfd);
      lfd = tcp_listen(host, port, &bound);
      ufd = udp_bind(host, bound); /* heartbeats arrive on the same port number */
      if (port) break;
   }
   if (ufd < 0) die("cannot bind UDP port %d: %s", bound, strerror(errno));
   say("minidfs-master listening on %s:%d", host, bound);

   struct pollfd p[2 + MAX_CONNS];
   int nconn = 0, shutdown = 0;
   while (!stop_requested && !shutdown) {
      p[0] = (struct pollfd){lfd, POLLIN, 0};
      p[1] = (struct pollfd){ufd, POLLIN, 0};
      int r = poll(p, 2 + nconn, 1000);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) die("poll: %s", strerror(errno));
      if (p[1].revents & POLLIN) {
         char msg[256];
         ssize_t n = recv(ufd, msg, sizeof msg - 1, 0);
         if (n > 0) {
            msg[n] = 0;
            on_heartbeat(msg);
         }
      }
      for (int i = 0; i < nconn; i++) {
         if (!(p[2 + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
         if (serve_one(p[2 + i].fd, &shutdown) < 0) {
            close(p[2 + i].fd);
            p[2 + i] = p[2 + --nconn];
            i--;
         }
      }
      if ((p[0].revents & POLLIN) && nconn < MAX_CONNS) {
         int c = accept(lfd, NULL, NULL);
         if (c >= 0) p[2 + nconn++] = (struct pollfd){c, POLLIN, 0};
      }
   }
   if (shutdown) shutdown_cluster();
   for (int i = 0; i < nconn; i++) close(p[2 + i].fd);
   close(lfd);
   close(ufd);
   say("master: stopped");
   return 0;
}
