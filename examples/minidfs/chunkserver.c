/* minidfs chunk server: stores chunks as files DIR/chunk-<id> (checksum in DIR/chunk-<id>.adler),
   verifies the client's adler32 on writes, serves reads, and heartbeats to the master over UDP.
   Usage: minidfs-chunkserver -m MASTER_HOST:PORT -d DIR [-l HOST] [-p PORT] [-a ADVERTISED_HOST]
          [-i HEARTBEAT_MS] */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "minidfs.h"

#define MAX_CONNS 32

static const char *dir;
static unsigned char piece[IO_PIECE];

static void chunk_path(char *out, size_t len, uint64_t id, const char *suffix)
{
   snprintf(out, len, "%s/chunk-%llu%s", dir, (unsigned long long)id, suffix);
}

/* Chunks and bytes stored, for heartbeats. */
static void usage_counts(unsigned long long *chunks, unsigned long long *bytes)
{
   *chunks = *bytes = 0;
   DIR *d = opendir(dir);
   if (!d) return;
   struct dirent *e;
   char path[512];
   while ((e = readdir(d))) {
      if (strncmp(e->d_name, "chunk-", 6) || strchr(e->d_name, '.')) continue;
      struct stat st;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      if (stat(path, &st) == 0) (*chunks)++, *bytes += st.st_size;
   }
   closedir(d);
}

static void heartbeat(int ufd, const char *master, const char *self)
{
   unsigned long long chunks, bytes;
   char msg[160];
   usage_counts(&chunks, &bytes);
   int n = snprintf(msg, sizeof msg, "HB %s %llu %llu", self, chunks, bytes);
   udp_send_to(ufd, master, msg, n);
}

/* WRITE body: u64 id, u32 len; then len data bytes and a u32 adler32 trailer. */
static int do_write(int fd, const unsigned char *body)
{
   uint64_t id = get64(body);
   uint32_t len = get32(body + 8), adler = 1;
   char path[512], tmp[520];
   chunk_path(path, sizeof path, id, "");
   snprintf(tmp, sizeof tmp, "%s.part", path);
   int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
   uint32_t left = len;
   while (left > 0) {
      uint32_t n = left < IO_PIECE ? left : IO_PIECE;
      if (recv_all(fd, piece, n) <= 0) {
         if (out >= 0) close(out), unlink(tmp);
         return -1;
      }
      adler = adler32_update(adler, piece, n);
      if (out >= 0 && write(out, piece, n) != (ssize_t)n) close(out), out = -1, unlink(tmp);
      left -= n;
   }
   unsigned char trailer[4];
   if (recv_all(fd, trailer, 4) <= 0) {
      if (out >= 0) close(out), unlink(tmp);
      return -1;
   }
   if (out < 0) return send_msg(fd, ST_ERR, "cannot store chunk", 18);
   close(out);
   if (get32(trailer) != adler) {
      unlink(tmp);
      return send_msg(fd, ST_ERR, "checksum mismatch", 17);
   }
   rename(tmp, path);
   chunk_path(path, sizeof path, id, ".adler");
   FILE *f = fopen(path, "w");
   if (f) fprintf(f, "%08x\n", adler), fclose(f);
   return send_msg(fd, ST_OK, NULL, 0);
}

/* READ body: u64 id. Reply body: u32 adler32, then the chunk's bytes. */
static int do_read(int fd, const unsigned char *body)
{
   char path[512];
   chunk_path(path, sizeof path, get64(body), "");
   int in = open(path, O_RDONLY);
   struct stat st;
   if (in < 0 || fstat(in, &st) != 0) {
      if (in >= 0) close(in);
      return send_msg(fd, ST_ERR, "no such chunk", 13);
   }
   unsigned int adler = 0;
   chunk_path(path, sizeof path, get64(body), ".adler");
   FILE *f = fopen(path, "r");
   if (f) {
      if (fscanf(f, "%x", &adler) != 1) adler = 0;
      fclose(f);
   }
   unsigned char head[12];
   put32(head, ST_OK);
   put32(head + 4, (uint32_t)(4 + st.st_size));
   put32(head + 8, adler);
   int r = send_all(fd, head, sizeof head);
   for (off_t left = st.st_size; r == 0 && left > 0;) {
      ssize_t n = read(in, piece, left < IO_PIECE ? left : IO_PIECE);
      if (n <= 0) r = -1;
      else r = send_all(fd, piece, n), left -= n;
   }
   close(in);
   return r;
}

static int serve_one(int fd, int *shutdown)
{
   uint32_t op, len;
   unsigned char body[64];
   if (recv_head(fd, &op, &len) <= 0 || len > sizeof body || (len && recv_all(fd, body, len) <= 0)) return -1;
   if (op == OP_WRITE && len == 12) return do_write(fd, body);
   if (op == OP_READ && len == 8) return do_read(fd, body);
   if (op == OP_SHUTDOWN) {
      *shutdown = 1;
      return send_msg(fd, ST_OK, NULL, 0);
   }
   return send_msg(fd, ST_ERR, "bad request", 11);
}

static int64_t now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
   const char *host = "127.0.0.1", *master = NULL, *advertised = NULL;
   int port = 0, interval = 500, opt;
   while ((opt = getopt(argc, argv, "m:d:l:p:a:i:")) != -1) {
      if (opt == 'm') master = optarg;
      else if (opt == 'd') dir = optarg;
      else if (opt == 'l') host = optarg;
      else if (opt == 'p') port = atoi(optarg);
      else if (opt == 'a') advertised = optarg;
      else if (opt == 'i') interval = atoi(optarg);
      else die("usage: minidfs-chunkserver -m MASTER_HOST:PORT -d DIR [-l HOST] [-p PORT] [-a HOST] [-i MS]");
   }
   if (!master || !dir) die("usage: minidfs-chunkserver -m MASTER_HOST:PORT -d DIR [-l HOST] [-p PORT] [-a HOST] [-i MS]");
   if (mkdir(dir, 0755) != 0 && errno != EEXIST) die("cannot create %s: %s", dir, strerror(errno));
   install_stop_handlers();
   int bound;
   int lfd = tcp_listen(host, port, &bound);
   int ufd = udp_bind(host, 0);
   if (ufd < 0) die("cannot open a UDP socket: %s", strerror(errno));
   char self[ADDR_LEN];
   snprintf(self, sizeof self, "%s:%d", advertised ? advertised : host, bound);
   say("minidfs-chunkserver listening on %s:%d", host, bound);

   struct pollfd p[1 + MAX_CONNS];
   int nconn = 0, shutdown = 0;
   int64_t next_hb = 0;
   while (!stop_requested && !shutdown) {
      int64_t now = now_ms();
      if (now >= next_hb) {
         heartbeat(ufd, master, self);
         next_hb = now + interval;
      }
      p[0] = (struct pollfd){lfd, POLLIN, 0};
      int r = poll(p, 1 + nconn, (int)(next_hb - now));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) die("poll: %s", strerror(errno));
      for (int i = 0; i < nconn; i++) {
         if (!(p[1 + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
         if (serve_one(p[1 + i].fd, &shutdown) < 0) {
            close(p[1 + i].fd);
            p[1 + i] = p[1 + --nconn];
            i--;
         }
      }
      if ((p[0].revents & POLLIN) && nconn < MAX_CONNS) {
         int c = accept(lfd, NULL, NULL);
         if (c >= 0) p[1 + nconn++] = (struct pollfd){c, POLLIN, 0};
      }
   }
   for (int i = 0; i < nconn; i++) close(p[1 + i].fd);
   close(lfd);
   close(ufd);
   say("chunkserver: stopped");
   return 0;
}
