/* minidfs client.
   Usage: minidfs-client -m MASTER_HOST:PORT put LOCAL_FILE NAME
          minidfs-client -m MASTER_HOST:PORT get NAME LOCAL_FILE
          minidfs-client -m MASTER_HOST:PORT shutdown
   put: asks the master where each chunk goes, streams every chunk to its chunk server with its adler32;
   get: asks the master where the chunks are, reads them back and verifies each adler32. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "minidfs.h"

static unsigned char piece[IO_PIECE];

/* The chunk layout of a file from an ALLOC or LOOKUP reply. */
static struct chunk_ref *parse_layout(const unsigned char *body, uint32_t len, uint64_t *size, uint32_t *n)
{
   if (len < 12) return NULL;
   *size = get64(body);
   *n = get32(body + 8);
   if (*n > MAX_CHUNKS || len < 12 + (uint64_t)*n * (12 + ADDR_LEN)) return NULL;
   struct chunk_ref *c = calloc(*n ? *n : 1, sizeof *c);
   const unsigned char *p = body + 12;
   for (uint32_t i = 0; c && i < *n; i++, p += 12 + ADDR_LEN) {
      c[i].id = get64(p);
      c[i].len = get32(p + 8);
      memcpy(c[i].server, p + 12, ADDR_LEN);
      c[i].server[ADDR_LEN - 1] = 0;
   }
   return c;
}

/* One request to the master; retries while it has no live chunk server yet (up to 30 s). */
static unsigned char *ask_master(const char *master, uint32_t op, const void *body, uint32_t len, uint32_t *rlen)
{
   for (int attempt = 0; attempt < 300; attempt++) {
      int fd = tcp_connect(master);
      if (fd < 0) die("cannot connect to the master at %s: %s", master, strerror(errno));
      uint32_t status;
      if (send_msg(fd, op, body, len) || recv_head(fd, &status, rlen) <= 0) die("the master at %s closed the connection", master);
      unsigned char *reply = malloc(*rlen + 1);
      if (!reply || (*rlen && recv_all(fd, reply, *rlen) <= 0)) die("short reply from the master");
      close(fd);
      reply[*rlen] = 0;
      if (status == ST_OK) return reply;
      if (status != ST_RETRY) die("master: %s", (char *)reply);
      free(reply);
      struct timespec ts = {0, 100 * 1000000};
      nanosleep(&ts, NULL);
   }
   die("the master has no live chunk server after 30 s");
}

/* The connection to the chunk server of the current chunk: consecutive chunks on one server share it. */
struct server_conn {
   int fd;
   const char *addr;
};

static int server_for(struct server_conn *c, const struct chunk_ref *chunk)
{
   if (c->fd >= 0 && strcmp(c->addr, chunk->server) == 0) return c->fd;
   if (c->fd >= 0) close(c->fd);
   c->fd = tcp_connect(chunk->server);
   if (c->fd < 0) die("cannot connect to chunk server %s: %s", chunk->server, strerror(errno));
   c->addr = chunk->server;
   return c->fd;
}

/* A request about one chunk: WRITE (id, length; the chunk bytes and their adler32 follow) or READ (id). */
static void chunk_request(int fd, uint32_t op, const struct chunk_ref *chunk)
{
   unsigned char body[12];
   put64(body, chunk->id);
   put32(body + 8, chunk->len);
   if (send_msg(fd, op, body, op == OP_WRITE ? 12 : 8)) die("chunk server %s closed the connection", chunk->server);
}

/* The head of a chunk server's reply; anything but OK ends the client. Returns the body length. */
static uint32_t chunk_reply(int fd, const struct chunk_ref *chunk, uint32_t index, const char *what)
{
   uint32_t status, len;
   if (recv_head(fd, &status, &len) <= 0) die("no reply from chunk server %s", chunk->server);
   if (status != ST_OK) die("chunk server %s cannot %s chunk %u", chunk->server, what, index);
   return len;
}

static int put(const char *master, const char *local, const char *name)
{
   int in = open(local, O_RDONLY);
   struct stat st;
   if (in < 0 || fstat(in, &st)) die("cannot read %s: %s", local, strerror(errno));
   size_t nlen = strlen(name);
   unsigned char *req = malloc(8 + nlen);
   put64(req, st.st_size);
   memcpy(req + 8, name, nlen);
   uint32_t rlen, n;
   uint64_t size;
   unsigned char *reply = ask_master(master, OP_ALLOC, req, 8 + nlen, &rlen);
   struct chunk_ref *chunks = parse_layout(reply, rlen, &size, &n);
   if (!chunks) die("bad layout from the master");
   struct server_conn conn = {-1, ""};
   for (uint32_t i = 0; i < n; i++) {
      int fd = server_for(&conn, &chunks[i]);
      chunk_request(fd, OP_WRITE, &chunks[i]);
      uint32_t adler = 1, left = chunks[i].len;
      while (left > 0) {
         ssize_t got = read(in, piece, left < IO_PIECE ? left : IO_PIECE);
         if (got <= 0) die("%s changed while being stored", local);
         adler = adler32_update(adler, piece, got);
         if (send_all(fd, piece, got)) die("chunk server %s closed the connection", chunks[i].server);
         left -= got;
      }
      unsigned char trailer[4];
      put32(trailer, adler);
      if (send_all(fd, trailer, 4)) die("chunk server %s closed the connection", chunks[i].server);
      chunk_reply(fd, &chunks[i], i, "store");
   }
   if (conn.fd >= 0) close(conn.fd);
   close(in);
   say("put %s: %llu bytes in %u chunks", name, (unsigned long long)size, n);
   free(chunks);
   free(reply);
   free(req);
   return 0;
}

static int get(const char *master, const char *name, const char *local)
{
   uint32_t rlen, n;
   uint64_t size;
   unsigned char *reply = ask_master(master, OP_LOOKUP, name, strlen(name), &rlen);
   struct chunk_ref *chunks = parse_layout(reply, rlen, &size, &n);
   if (!chunks) die("bad layout from the master");
   int out = open(local, O_WRONLY | O_CREAT | O_TRUNC, 0644);
   if (out < 0) die("cannot write %s: %s", local, strerror(errno));
   struct server_conn conn = {-1, ""};
   for (uint32_t i = 0; i < n; i++) {
      int fd = server_for(&conn, &chunks[i]);
      chunk_request(fd, OP_READ, &chunks[i]);
      uint32_t len = chunk_reply(fd, &chunks[i], i, "read");
      unsigned char head[4];
      if (len < 4 || recv_all(fd, head, 4) <= 0) die("chunk server %s sent a short reply for chunk %u", chunks[i].server, i);
      uint32_t expect = get32(head), adler = 1, left = len - 4;
      while (left > 0) {
         uint32_t want = left < IO_PIECE ? left : IO_PIECE;
         if (recv_all(fd, piece, want) <= 0) die("chunk server %s closed the connection", chunks[i].server);
         adler = adler32_update(adler, piece, want);
         if (write(out, piece, want) != (ssize_t)want) die("cannot write %s", local);
         left -= want;
      }
      if (adler != expect) die("chunk %u of %s is corrupt (adler32 %08x, expected %08x)", i, name, adler, expect);
   }
   if (conn.fd >= 0) close(conn.fd);
   close(out);
   say("get %s: %llu bytes in %u chunks", name, (unsigned long long)size, n);
   free(chunks);
   free(reply);
   return 0;
}

int main(int argc, char **argv)
{
   const char *master = NULL;
   int opt;
   while ((opt = getopt(argc, argv, "m:")) != -1) {
      if (opt == 'm') master = optarg;
      else die("usage: minidfs-client -m MASTER_HOST:PORT put|get|shutdown ...");
   }
   argc -= optind;
   argv += optind;
   if (!master || argc < 1) die("usage: minidfs-client -m MASTER_HOST:PORT put LOCAL NAME | get NAME LOCAL | shutdown");
   signal(SIGPIPE, SIG_IGN);
   if (strcmp(argv[0], "put") == 0 && argc == 3) return put(master, argv[1], argv[2]);
   if (strcmp(argv[0], "get") == 0 && argc == 3) return get(master, argv[1], argv[2]);
   if (strcmp(argv[0], "shutdown") == 0) {
      uint32_t rlen;
      free(ask_master(master, OP_SHUTDOWN, NULL, 0, &rlen));
      say("cluster shutting down");
      return 0;
   }
   die("unknown command %s (put, get, shutdown)", argv[0]);
}
