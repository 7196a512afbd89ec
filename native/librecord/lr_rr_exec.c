/* exec: a recording process that execs runs no destructor, so its log would end without a word and keep
   the unused part of its mapped window (32 MiB of reserved zeros). Before every exec an exec record
   goes in and the log is trimmed to its records (if the exec fails, the next record maps a fresh
   window); a replay ends at that record, as recorded. glibc's exec variants call its internal execve,
   so each is wrapped. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include "lr_rr.h"

#define REAL_EXEC(name, ...)                                            \
   static int (*real_##name)(__VA_ARGS__);                              \
   static void resolve_##name(void)                                     \
   {                                                                    \
      if (!real_##name) *(void **)&real_##name = dlsym(RTLD_NEXT, #name); \
   }

REAL_EXEC(execve, const char *, char *const[], char *const[])
REAL_EXEC(execv, const char *, char *const[])
REAL_EXEC(execvp, const char *, char *const[])
REAL_EXEC(execvpe, const char *, char *const[], char *const[])
REAL_EXEC(fexecve, int, char *const[], char *const[])

LR_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
   resolve_execve();
   if (lr_rr_before_exec(path)) return -1;
   int r = real_execve(path, argv, envp);
   lr_rr_exec_failed(errno);
   return r;
}

LR_EXPORT int execv(const char *path, char *const argv[])
{
   resolve_execv();
   if (lr_rr_before_exec(path)) return -1;
   int r = real_execv(path, argv);
   lr_rr_exec_failed(errno);
   return r;
}

LR_EXPORT int execvp(const char *file, char *const argv[])
{
   resolve_execvp();
   if (lr_rr_before_exec(file)) return -1;
   int r = real_execvp(file, argv);
   lr_rr_exec_failed(errno);
   return r;
}

LR_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
   resolve_execvpe();
   if (lr_rr_before_exec(file)) return -1;
   int r = real_execvpe(file, argv, envp);
   lr_rr_exec_failed(errno);
   return r;
}

LR_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
   resolve_fexecve();
   if (lr_rr_before_exec("(fexecve)")) return -1;
   int r = real_fexecve(fd, argv, envp);
   lr_rr_exec_failed(errno);
   return r;
}

/* The execl family: the arguments into an array, then the execv counterpart. */
static char **collect(const char *arg0, va_list ap, char ***envp)
{
   va_list c;
   va_copy(c, ap);
   size_t n = 1;
   while (va_arg(c, char *)) n++;
   va_end(c);
   char **argv = malloc((n + 1) * sizeof *argv);
   if (!argv) return NULL;
   argv[0] = (char *)arg0;
   for (size_t i = 1; i <= n; i++) argv[i] = va_arg(ap, char *); /* the last one is the NULL */
   if (envp) *envp = va_arg(ap, char **);
   return argv;
}

LR_EXPORT int execl(const char *path, const char *arg0, ...)
{
   va_list ap;
   va_start(ap, arg0);
   char **argv = collect(arg0, ap, NULL);
   va_end(ap);
   if (!argv) { errno = ENOMEM; return -1; }
   int r = execv(path, argv);
   free(argv);
   return r;
}

LR_EXPORT int execlp(const char *file, const char *arg0, ...)
{
   va_list ap;
   va_start(ap, arg0);
   char **argv = collect(arg0, ap, NULL);
   va_end(ap);
   if (!argv) { errno = ENOMEM; return -1; }
   int r = execvp(file, argv);
   free(argv);
   return r;
}

LR_EXPORT int execle(const char *path, const char *arg0, ...)
{
   va_list ap;
   va_start(ap, arg0);
   char **envp = NULL;
   char **argv = collect(arg0, ap, &envp);
   va_end(ap);
   if (!argv) { errno = ENOMEM; return -1; }
   int r = execve(path, argv, envp);
   free(argv);
   return r;
}
