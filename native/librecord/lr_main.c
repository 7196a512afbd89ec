/* librecord: LD_PRELOAD library for Planescope's record/replay and message tagging.
   This skeleton only announces itself when PLANESCOPE_RECORD_VERBOSE is set; interposition
   arrives with the record/replay and distributed-taint issues. */
#include <stdio.h>
#include <stdlib.h>

#define LR_VERSION "0.1.0"

__attribute__((visibility("default"))) const char planescope_librecord_version[] = LR_VERSION;

__attribute__((constructor)) static void lr_init(void)
{
   if (getenv("PLANESCOPE_RECORD_VERBOSE"))
      fprintf(stderr, "librecord %s loaded\n", LR_VERSION);
}
