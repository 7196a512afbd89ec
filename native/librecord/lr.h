/* librecord's internal interfaces. The library is split by concern:
     lr_main.c    start-up, configuration, identity, warnings
     lr_real.c    the real libc entry points (dlsym RTLD_NEXT)
     lr_fd.c      per-fd socket state: table, dup sharing, close, fork
     lr_wire.c    the tagging wire format (hello, frame header, tag encoding)
     lr_taint.c   planegrind client requests: taint -> tag on send, tag -> taint on receive
     lr_stream.c  TCP: tagged send and receive, MSG_PEEK, readiness drain
     lr_dgram.c   UDP: prefix on send, strip on receive
     lr_io.c      the interposed I/O entry points (send/recv/read/write families, sendfile)
     lr_poll.c    poll/select/epoll: readiness stays truthful when only tag bytes are buffered
     lr_life.c    socket/connect/accept/close/dup/fork/fdopen: fd lifecycle
     lr_peers.c   who runs librecord: listeners announced out of band, probed before the first byte
     lr_rr_*.c    record and replay below the tagging layer (lr_rr.h)
   See docs/message-tagging.md for the protocol. */
#ifndef LR_H
#define LR_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/epoll.h>
#include <signal.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdarg.h>

#define LR_EXPORT __attribute__((visibility("default")))
#define LR_HIDDEN __attribute__((visibility("hidden")))

/* ---- real libc (lr_real.c) ---- */
struct lr_real {
   ssize_t (*send)(int, const void *, size_t, int);
   ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
   ssize_t (*sendmsg)(int, const struct msghdr *, int);
   ssize_t (*write)(int, const void *, size_t);
   ssize_t (*writev)(int, const struct iovec *, int);
   ssize_t (*recv)(int, void *, size_t, int);
   ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
   ssize_t (*recvmsg)(int, struct msghdr *, int);
   ssize_t (*read)(int, void *, size_t);
   ssize_t (*readv)(int, const struct iovec *, int);
   int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
   int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
   ssize_t (*sendfile)(int, int, off_t *, size_t);
   int (*socket)(int, int, int);
   int (*connect)(int, const struct sockaddr *, socklen_t);
   int (*accept)(int, struct sockaddr *, socklen_t *);
   int (*accept4)(int, struct sockaddr *, socklen_t *, int);
   int (*close)(int);
   int (*shutdown)(int, int);
   int (*dup)(int);
   int (*dup2)(int, int);
   int (*dup3)(int, int, int);
   int (*fcntl)(int, int, ...);
   int (*ioctl)(int, unsigned long, ...);
   int (*fclose)(FILE *);
   FILE *(*fdopen)(int, const char *);
   int (*poll)(struct pollfd *, nfds_t, int);
   int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
   int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
   int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
   int (*epoll_ctl)(int, int, int, struct epoll_event *);
   int (*epoll_wait)(int, struct epoll_event *, int, int);
   int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
   int (*epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *);
   int (*close_range)(unsigned int, unsigned int, int);
};
LR_HIDDEN extern struct lr_real lr_real;
LR_HIDDEN void lr_real_init(void);

/* ---- configuration and identity (lr_main.c) ---- */
LR_HIDDEN extern int lr_enabled;          /* PLANESCOPE_TAG != "0" */
LR_HIDDEN extern int lr_under_planegrind; /* PLANEGRIND_IS_RUNNING() at start-up */
LR_HIDDEN extern int lr_hello_wait_ms;    /* how long an accepting side waits for the peer's hello */
LR_HIDDEN extern char lr_identity[256];   /* "exe:pid@host", the sender name in hellos */
LR_HIDDEN void lr_identity_refresh(void);
LR_HIDDEN void lr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
LR_HIDDEN uint32_t lr_next_msg_id(void);
LR_HIDDEN extern int lr_stats_on;          /* PLANESCOPE_TAG_STATS=1 */
LR_HIDDEN void lr_stats_add(uint64_t tag_bytes, uint64_t payload_bytes);
#define LR_STATS(tag, payload) do { if (lr_stats_on) lr_stats_add((tag), (payload)); } while (0)
LR_HIDDEN void lr_ensure_init(void);

/* ---- wire format (lr_wire.c) ---- */
#define LR_MAGIC "\x89PSLR\r\n\x1a" /* stream hello: 8 bytes, never valid text */
#define LR_MAGIC_LEN 8
#define LR_HELLO_FIXED 12           /* magic, version, flags, u16 identity length */
#define LR_VERSION_WIRE 1
#define LR_FRAME_HDR 12             /* u8 kind, u8 0, u16 check, u32 payload len, u32 msg id */
#define LR_FRAME_CHECK 0x5350       /* "PS": catches a desynchronised stream */
#define LR_KIND_CLEAN 0xC1
#define LR_KIND_TAINTED 0xD1        /* followed by u32 tag length and the tag */
#define LR_DGRAM_MAGIC 0x31555350u  /* "PSU1" little-endian */
#define LR_DGRAM_HDR 16             /* u32 magic, u8 kind, u8 0, u16 id len, u32 msg id, u32 tag len */

LR_HIDDEN size_t lr_hello_build(uint8_t *out, size_t cap);
LR_HIDDEN void lr_frame_hdr_build(uint8_t *out, int kind, uint32_t len, uint32_t msg_id);
LR_HIDDEN void lr_put32(uint8_t *p, uint32_t v);
LR_HIDDEN uint32_t lr_get32(const uint8_t *p);
LR_HIDDEN void lr_put16(uint8_t *p, uint16_t v);
LR_HIDDEN uint16_t lr_get16(const uint8_t *p);

/* A growable byte buffer. */
struct lr_buf { uint8_t *p; size_t len, cap; };
LR_HIDDEN int lr_buf_reserve(struct lr_buf *b, size_t cap);
LR_HIDDEN int lr_buf_put(struct lr_buf *b, const void *src, size_t n);
LR_HIDDEN int lr_buf_varint(struct lr_buf *b, uint64_t v);
LR_HIDDEN void lr_buf_free(struct lr_buf *b);
LR_HIDDEN int lr_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v);

/* ---- taint <-> tag (lr_taint.c) ---- */
/* A decoded tag: runs of (length, receiver-side label) covering a message's payload. */
struct lr_taint_runs {
   uint32_t *len, *label;
   size_t n, cap;
};
/* Builds the tag of the first n bytes of iov into out (empty when the bytes are clean). */
LR_HIDDEN int lr_tag_build_iov(const struct iovec *iov, int iovcnt, size_t n, struct lr_buf *out);
/* Decodes a tag, creating receiver-side message labels named by peer and msg_id. */
LR_HIDDEN int lr_tag_decode(const uint8_t *tag, size_t len, const char *peer, uint64_t msg_id,
                            struct lr_taint_runs *runs);
/* Applies the runs' taint at payload offset [off, off+n) to buf. */
/* Sets the taint of n received bytes at buf from runs (starting at payload offset off); returns how
   many bytes got a label. */
LR_HIDDEN size_t lr_taint_apply(struct lr_taint_runs *runs, size_t off, void *buf, size_t n);
/* Tells planegrind that n consumed socket-input bytes carry taint (its I/O accounting). */
LR_HIDDEN void lr_taint_count_input(size_t n);
LR_HIDDEN void lr_runs_free(struct lr_taint_runs *runs);

/* ---- record/replay hooks for the tagging layer (lr_rr_taint.c, docs/recording.md) ---- */
/* 1 while replaying a recording: the wire stays as recorded (clean frames); a sent message's taint goes
   to the sender's message-taint file and a received one's comes from its sender's file. */
LR_HIDDEN extern int lr_rr_replaying;
/* 1 while recording: hellos say so (flag bit 1), and receivers recorded by reference refer only to the
   payloads of senders that are being recorded too. */
LR_HIDDEN extern int lr_rr_recording;
/* The identity this process had when it was recorded ("exe:pid@host", lr_identity while recording):
   the sender name in its hellos. */
LR_HIDDEN const char *lr_rr_identity(void);
LR_HIDDEN void lr_rr_msg_sent(uint32_t msg_id, const struct iovec *iov, int iovcnt, size_t len, const struct lr_buf *tag);
/* 1 when message msg_id of identity carries taint: runs then hold it (receiver-side labels). */
LR_HIDDEN int lr_rr_msg_taint(const char *identity, uint32_t msg_id, struct lr_taint_runs *runs);

/* ---- per-fd socket state (lr_fd.c) ---- */
enum lr_in_state { LR_IN_UNKNOWN, LR_IN_HELLO, LR_IN_FRAMES, LR_IN_UNTAGGED };
enum lr_out_state { LR_OUT_UNDECIDED, LR_OUT_TAGGED, LR_OUT_UNTAGGED };
enum lr_sock_kind { LR_SOCK_STREAM = 1, LR_SOCK_DGRAM = 2 };

struct lr_sock {
   int refs;            /* fds sharing this socket (dup) */
   int kind;            /* LR_SOCK_STREAM or LR_SOCK_DGRAM */
   int connector;       /* 1: we connected (we speak first); 0: accepted */
   char peer_name[64];  /* address of the peer, for warnings */
   struct sockaddr_storage peer_addr; /* the peer (stream), len 0 when unknown */
   socklen_t peer_len;

   /* receive direction (stream) */
   pthread_mutex_t in_lock;
   int in_state;
   uint8_t in_hdr[LR_FRAME_HDR + 4]; /* a frame header (+ tag length) being read */
   size_t in_hdr_have, in_hdr_need;
   struct lr_buf in_hello;           /* the peer's hello being read */
   size_t in_hello_need;
   struct lr_buf in_tag;             /* a frame's tag being read */
   size_t in_tag_need;
   uint64_t in_remaining;            /* payload bytes left in the current frame */
   uint64_t in_frame_off;            /* payload bytes of the current frame already delivered */
   uint32_t in_msg_id;
   int in_tainted;
   struct lr_taint_runs in_runs;
   char in_peer[256];                /* the peer's identity from its hello */
   int in_warned;
   int in_err;                       /* an error the readiness drain took from the kernel, for recv */
   int peer_untagged;                /* the peer answered without a hello: stop tagging */

   /* datagram destinations and whether they run librecord: from their datagrams (tagged or not) or,
      before the first one, from lr_peer_runs_librecord; replaced round-robin when full */
   struct sockaddr_storage dg_peer[16];
   int8_t dg_tagged[16];
   int dg_n, dg_next;

   /* send direction (stream) */
   pthread_mutex_t out_lock;
   int out_state;
   struct lr_buf out_pending;        /* hello / header / tag bytes accepted by us but not the kernel */
   size_t out_pending_off;
   uint64_t out_remaining;           /* payload bytes still owed to the current frame */
};

/* The shared state of fd, or NULL when fd is not a tagged socket. Never blocks. */
LR_HIDDEN struct lr_sock *lr_fd_get(int fd);
LR_HIDDEN struct lr_sock *lr_fd_attach_new(int fd, int kind, int connector);
LR_HIDDEN void lr_fd_share(int from, int to);  /* dup: to shares from's state */
LR_HIDDEN void lr_fd_forget(int fd);           /* close or reuse of the fd number */
LR_HIDDEN void lr_fd_after_fork_child(void);
LR_HIDDEN int lr_sock_kind_of(int fd);         /* 0 when not an inet TCP/UDP socket */
LR_HIDDEN void lr_sock_describe_peer(int fd, struct lr_sock *s);
/* "HOST:PORT" of an inet address ("?:0" for any other family), for warnings. */
LR_HIDDEN void lr_addr_describe(const struct sockaddr_storage *ss, char *out, size_t cap);

/* ---- stream tagging (lr_stream.c) ---- */
LR_HIDDEN ssize_t lr_stream_send(int fd, struct lr_sock *s, const struct iovec *iov, int iovcnt, int flags);
LR_HIDDEN ssize_t lr_stream_recv(int fd, struct lr_sock *s, void *buf, size_t n, int flags);
LR_HIDDEN ssize_t lr_stream_recv_iov(int fd, struct lr_sock *s, const struct iovec *iov, int iovcnt, int flags);
/* Readiness: consumes buffered tag bytes without blocking; 1 when application bytes (or EOF, or an
   error) can be read now, 0 when only tag bytes were there, -1 when the state is busy (keep kernel's). */
LR_HIDDEN int lr_stream_readable(int fd, struct lr_sock *s);
/* Sends a connector's pending hello if it is still pending (non-blocking best effort). */
LR_HIDDEN int lr_stream_available(int fd, struct lr_sock *s, int kernel_avail);
LR_HIDDEN void lr_stream_flush_hello(int fd, struct lr_sock *s);
LR_HIDDEN void lr_stream_flush_pending_blocking(int fd, struct lr_sock *s);

/* ---- datagram tagging (lr_dgram.c) ---- */
LR_HIDDEN ssize_t lr_dgram_send(int fd, struct lr_sock *s, const struct msghdr *msg, int flags);
LR_HIDDEN ssize_t lr_dgram_recv(int fd, struct lr_sock *s, struct msghdr *msg, int flags);

/* ---- who runs librecord (lr_peers.c) ---- */
/* Called by the bind()/listen() wrappers with the call's result (returned unchanged, errno kept):
   announce a bound UDP / listening TCP socket in the per-host directory. Not called in replay. */
LR_HIDDEN int lr_peers_after_bind(int fd, int rc);
LR_HIDDEN int lr_peers_after_listen(int fd, int rc);
LR_HIDDEN void lr_peers_forget(int fd);        /* the fd of an announced socket is closed or reused */
LR_HIDDEN void lr_peers_after_fork_child(void);
LR_HIDDEN void lr_peers_init(void);            /* parses PLANESCOPE_TAG_PEERS */
/* Before the first byte to dest: 1 when it runs librecord (announced, or listed in
   PLANESCOPE_TAG_PEERS), else 0 with a warning once per destination. */
LR_HIDDEN int lr_peer_runs_librecord(int stream, const struct sockaddr *dest, socklen_t len);
/* PLANESCOPE_TAG_PEERS about peer: 1 runs librecord, 0 does not, -1 not listed. */
LR_HIDDEN int lr_peer_listed(const struct sockaddr *peer, socklen_t len);

/* ---- helpers ---- */
LR_HIDDEN size_t lr_iov_total(const struct iovec *iov, int iovcnt);
LR_HIDDEN int lr_fd_nonblocking(int fd);

#endif
