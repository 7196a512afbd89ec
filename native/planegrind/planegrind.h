/* planegrind client requests: how a program (librecord) asks the tool for and sets the taint of its
   memory. Include this in client code; every macro is a no-op (returns the default) when the program
   does not run under planegrind. This header is the contract between planegrind and librecord. */
#ifndef PLANEGRIND_H
#define PLANEGRIND_H

#include <stdint.h>
#include "valgrind.h"

typedef enum {
   /* (addr, len, uint32_t *labels_out) -> number of tainted bytes in [addr, addr+len).
      labels_out (len entries) receives each byte's label, 0 = clean; may be NULL to count only. */
   PG_USERREQ__GET_TAINT = VG_USERREQ_TOOL_BASE('P', 'G'),
   /* (addr, len, const uint32_t *labels_in) -> 0. Sets each byte's label; labels_in NULL clears. */
   PG_USERREQ__SET_TAINT,
   /* (const char *peer, uint64_t msg_id, const char *origin) -> a new label id (> 0) naming bytes that
      arrived in message msg_id from peer, whose sender-side provenance is the text origin. */
   PG_USERREQ__NEW_MSG_LABEL,
   /* (uint32_t label, char *buf, size_t size) -> length of the label's provenance text (written to buf,
      NUL-terminated, truncated to size). The text is what NEW_MSG_LABEL takes as origin. */
   PG_USERREQ__LABEL_INFO,
   /* () -> 1 under planegrind (RUNNING_ON_VALGRIND alone does not tell which tool runs). */
   PG_USERREQ__IS_RUNNING,
   /* (size_t n) -> 0. n bytes of socket input, counted as clean when the syscall returned, have since
      received taint from the client (librecord applying a message's tag): the I/O accounting moves
      them from clean to tainted, so Figure 5 counts data-plane input that crossed the network. */
   PG_USERREQ__TAINTED_INPUT,
   /* (int fd, int dir, const void *buf, size_t len) -> 0. A read (dir 0) or write (dir 1) of len bytes
      at buf on fd that the client performed without the syscall (librecord replaying a logged result):
      counted in the I/O accounting exactly as the syscall would have been (kind of fd, taint of buf). */
   PG_USERREQ__ACCOUNT_IO,
   /* (int in_fd, int out_fd, size_t n) -> 0. A kernel copy of n bytes (sendfile) the client performed
      without the syscall: counted as the syscall would have been (tainted when in_fd is user data). */
   PG_USERREQ__ACCOUNT_COPY,
} PG_UserRequest;

#define PLANEGRIND_IS_RUNNING() \
   ((int)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, PG_USERREQ__IS_RUNNING, 0, 0, 0, 0, 0))
#define PLANEGRIND_GET_TAINT(addr, len, labels_out) \
   ((size_t)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, PG_USERREQ__GET_TAINT, (addr), (len), (labels_out), 0, 0))
#define PLANEGRIND_SET_TAINT(addr, len, labels_in) \
   ((void)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, PG_USERREQ__SET_TAINT, (addr), (len), (labels_in), 0, 0))
#define PLANEGRIND_NEW_MSG_LABEL(peer, msg_id, origin) \
   ((uint32_t)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, PG_USERREQ__NEW_MSG_LABEL, (peer), (msg_id), (origin), 0, 0))
#define PLANEGRIND_TAINTED_INPUT(n) \
   ((void)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, PG_USERREQ__TAINTED_INPUT, (n), 0, 0, 0, 0))
#define PLANEGRIND_ACCOUNT_IO(fd, dir, buf, len) \
   ((void)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, PG_USERREQ__ACCOUNT_IO, (fd), (dir), (buf), (len), 0))
#define PLANEGRIND_ACCOUNT_COPY(in_fd, out_fd, n) \
   ((void)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, PG_USERREQ__ACCOUNT_COPY, (in_fd), (out_fd), (n), 0, 0))
#define PLANEGRIND_LABEL_INFO(label, buf, size) \
   ((size_t)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, PG_USERREQ__LABEL_INFO, (label), (buf), (size), 0, 0))

#endif
