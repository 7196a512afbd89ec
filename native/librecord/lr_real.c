/* The real libc entry points behind librecord's wrappers, found once with dlsym(RTLD_NEXT). */
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lr.h"
#include "lr_rr.h"

struct lr_real lr_real;

#define RESOLVE(name) \
   do { \
      *(void **)&lr_real.name = dlsym(RTLD_NEXT, #name); \
      if (!lr_real.name) { \
         static const char msg[] = "librecord: cannot find libc's " #name "\n"; \
         (void)!syscall_write(msg, sizeof msg - 1); \
         abort(); \
      } \
   } while (0)

static long syscall_write(const char *msg, size_t len)
{
   return syscall(SYS_write, 2, msg, len);
}

void lr_real_init(void)
{
   static int done;
   if (__atomic_load_n(&done, __ATOMIC_ACQUIRE)) return;
   RESOLVE(send); RESOLVE(sendto); RESOLVE(sendmsg); RESOLVE(write); RESOLVE(writev);
   RESOLVE(recv); RESOLVE(recvfrom); RESOLVE(recvmsg); RESOLVE(read); RESOLVE(readv);
   RESOLVE(sendmmsg); RESOLVE(recvmmsg); RESOLVE(sendfile);
   RESOLVE(socket); RESOLVE(connect); RESOLVE(accept); RESOLVE(accept4); RESOLVE(close);
   RESOLVE(shutdown); RESOLVE(dup); RESOLVE(dup2); RESOLVE(dup3); RESOLVE(fcntl); RESOLVE(ioctl);
   RESOLVE(fclose); RESOLVE(fdopen);
   RESOLVE(poll); RESOLVE(ppoll); RESOLVE(select); RESOLVE(pselect);
   RESOLVE(epoll_ctl); RESOLVE(epoll_wait); RESOLVE(epoll_pwait);
   /* optional: newer glibc only */
   *(void **)&lr_real.epoll_pwait2 = dlsym(RTLD_NEXT, "epoll_pwait2");
   *(void **)&lr_real.close_range = dlsym(RTLD_NEXT, "close_range");
   lr_rr_install(&lr_real); /* record/replay shims go below the tagging layer (lr_rr_shim.c) */
   __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
}
