/* librecord: LD_PRELOAD library for Planescope's message tagging (and, later, record/replay).
   This file holds start-up, configuration, the process identity carried in hellos, warnings and the
   per-process message id counter. Environment:
     PLANESCOPE_TAG=0               no tagging at all (every socket passes through untouched)
     PLANESCOPE_TAG_HELLO_WAIT_MS   how long an accepting side that speaks first waits for the
                                    connecting peer's hello before talking untagged (default 2000)
     PLANESCOPE_LR_RUNDIR           the per-host directory where listeners announce that they run
                                    librecord (default /tmp/planescope-lr; lr_peers.c)
     PLANESCOPE_TAG_PEERS           peers on other hosts known to run (ADDR[:PORT], *) or not run
                                    (!ADDR[:PORT]) librecord; unannounced, unlisted peers go untagged
     PLANESCOPE_TAG_STATS=1         at exit, print the payload and tag bytes this process sent
     PLANESCOPE_RECORD_VERBOSE      announce the library on stderr */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lr.h"
#include "planegrind.h"

#define LR_VERSION "0.2.0"

LR_EXPORT const char planescope_librecord_version[] = LR_VERSION;

int lr_enabled = 1;
int lr_under_planegrind;
int lr_hello_wait_ms = 2000;
char lr_identity[256];
int lr_stats_on;
static uint32_t msg_counter;
static uint64_t stat_tag, stat_payload;

void lr_stats_add(uint64_t tag_bytes, uint64_t payload_bytes)
{
   __atomic_add_fetch(&stat_tag, tag_bytes, __ATOMIC_RELAXED);
   __atomic_add_fetch(&stat_payload, payload_bytes, __ATOMIC_RELAXED);
}

/* What the benchmark reads: bytes the kernel accepted, split into ours and the application's. */
__attribute__((destructor)) static void lr_stats_report(void)
{
   if (!lr_stats_on || !lr_real.write) return;
   char line[200];
   int n = snprintf(line, sizeof line, "librecord[%d]: tag stats: %llu payload bytes sent on tagged sockets, %llu tag bytes\n",
                    (int)getpid(), (unsigned long long)stat_payload, (unsigned long long)stat_tag);
   if (n > 0) (void)!lr_real.write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void lr_identity_refresh(void)
{
   char exe[128] = "?", host[64] = "?";
   ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
   if (n > 0) exe[n] = 0;
   const char *base = strrchr(exe, '/');
   base = base ? base + 1 : exe;
   if (gethostname(host, sizeof host) != 0) strcpy(host, "?");
   host[sizeof host - 1] = 0;
   snprintf(lr_identity, sizeof lr_identity, "%s:%d@%s", base, (int)getpid(), host);
}

uint32_t lr_next_msg_id(void)
{
   return __atomic_add_fetch(&msg_counter, 1, __ATOMIC_RELAXED);
}

void lr_warn(const char *fmt, ...)
{
   char line[512];
   int saved = errno;
   int n = snprintf(line, sizeof line, "librecord[%d]: warning: ", (int)getpid());
   va_list ap;
   va_start(ap, fmt);
   if (n > 0 && (size_t)n < sizeof line) n += vsnprintf(line + n, sizeof line - n, fmt, ap);
   va_end(ap);
   if (n < 0) return;
   if ((size_t)n >= sizeof line - 1) n = sizeof line - 2;
   line[n++] = '\n';
   if (lr_real.write) (void)!lr_real.write(2, line, n);
   errno = saved;
}

static void lr_init_once(void)
{
   lr_real_init();
   const char *tag = getenv("PLANESCOPE_TAG");
   if (tag && strcmp(tag, "0") == 0) lr_enabled = 0;
   const char *wait = getenv("PLANESCOPE_TAG_HELLO_WAIT_MS");
   if (wait && *wait) lr_hello_wait_ms = atoi(wait);
   const char *stats = getenv("PLANESCOPE_TAG_STATS");
   lr_stats_on = stats && strcmp(stats, "1") == 0;
   lr_under_planegrind = PLANEGRIND_IS_RUNNING() == 1;
   lr_identity_refresh();
   lr_peers_init();
   if (getenv("PLANESCOPE_RECORD_VERBOSE"))
      fprintf(stderr, "librecord %s loaded (tagging %s%s)\n", LR_VERSION, lr_enabled ? "on" : "off",
              lr_under_planegrind ? ", under planegrind" : "");
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

void lr_ensure_init(void)
{
   pthread_once(&init_once, lr_init_once);
}

__attribute__((constructor)) static void lr_init(void)
{
   lr_ensure_init();
}
