/* planegrind: Planescope's taint-flow tool. This is the tool skeleton: it registers with the
   Valgrind core and runs the program unchanged; instrumentation lands with the taint issue. */
#include "pub_tool_basics.h"
#include "pub_tool_tooliface.h"
#include "pub_tool_libcprint.h"
#include "pg_version.h"

static void pg_post_clo_init(void) {}

static IRSB *pg_instrument(VgCallbackClosure *closure, IRSB *bb, const VexGuestLayout *layout,
                           const VexGuestExtents *vge, const VexArchInfo *archinfo_host,
                           IRType gWordTy, IRType hWordTy)
{
   return bb;
}

static void pg_fini(Int exitcode) {}

static void pg_pre_clo_init(void)
{
   VG_(details_name)("planegrind");
   VG_(details_version)(PG_VERSION);
   VG_(details_description)("control/data plane taint analysis (Planescope)");
   VG_(details_copyright_author)("Copyright (C) 2026, the Planescope developers.");
   VG_(details_bug_reports_to)("the Planescope issue tracker");
   VG_(basic_tool_funcs)(pg_post_clo_init, pg_instrument, pg_fini);
}

VG_DETERMINE_INTERFACE_VERSION(pg_pre_clo_init)
