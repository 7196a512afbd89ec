/* minidfs: a small CloudStore-like distributed file system, the workload of Planescope's demo and tests.
   master       file -> chunk locations; learns chunk servers from their UDP heartbeats; no user data
   chunkserver  stores chunks as files in a directory, serves reads, heartbeats to the master over UDP
   client       put/get a file, split into chunks, adler32 per chunk
   Every request on TCP: u32 op, u32 body length, body; every reply: u32 status, u32 body length, body.
   Integers are little-endian. See docs/minidfs.md. */
#ifndef MINIDFS_H
#define MINIDFS_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>

enum { OP_ALLOC = 1, OP_LOOKUP = 2, OP_SHUTDOWN = 3, OP_WRITE = 4, OP_READ = 5, OP_STAT = 6 };
enum { ST_OK = 0, ST_ERR = 1, ST_RETRY = 2 };

#define ADDR_LEN 64            /* "host:port", NUL-padded */
#define IO_PIECE (1 << 20)     /* bytes moved per read/send */
#define MAX_CHUNKS 65536

/* One chunk of a file as the master hands it out: id, length and the server holding it. */
struct chunk_ref {
   uint64_t id;
   uint32_t len;
   char server[ADDR_LEN];
};

extern volatile sig_atomic_t stop_requested;
void install_stop_handlers(void);

/* adler32.c */
uint32_t adler32_update(uint32_t adler, const unsigned char *buf, size_t len);

/* net.c */
int tcp_listen(const char *host, int port, int *bound_port);
int udp_bind(const char *host, int port);
int tcp_connect(const char *addr);                       /* "host:port" */
int udp_send_to(int fd, const char *addr, const void *buf, size_t len);
int send_all(int fd, const void *buf, size_t len);
int recv_all(int fd, void *buf, size_t len);            /* 1 ok, 0 EOF before any byte, -1 error */
int send_msg(int fd, uint32_t code, const void *body, uint32_t len);
int recv_head(int fd, uint32_t *code, uint32_t *len);   /* as recv_all */
void put32(unsigned char *p, uint32_t v);
uint32_t get32(const unsigned char *p);
void put64(unsigned char *p, uint64_t v);
uint64_t get64(const unsigned char *p);
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
