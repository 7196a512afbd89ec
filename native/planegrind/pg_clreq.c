/* planegrind client requests (planegrind.h, the contract with librecord) and the dispatch of gdb
   monitor commands, which the core delivers as a client request too. */
#include "pg_include.h"
#include "pub_tool_clreq.h"
#include "planegrind.h"

/* Client pointers are checked to lie in client-accessible memory before the tool reads or writes
   them, so a bad argument fails the request (returns 0) instead of crashing Valgrind. */
#include "pub_tool_vki.h"
#include "pub_tool_aspacemgr.h"
static Bool client_range_ok(Addr a, SizeT len, Bool write)
{
   if (len == 0) return True;
   if (a + len < a) return False;
   return VG_(am_is_valid_for_client)(a, len, write ? VKI_PROT_WRITE : VKI_PROT_READ);
}

static Bool client_string_ok(Addr a)
{
   for (SizeT i = 0; i < 4096; i++) {
      if (!client_range_ok(a + i, 1, False)) return False;
      if (((const HChar *)a)[i] == 0) return True;
   }
   return False;
}

Bool pg_handle_client_request(ThreadId tid, UWord *arg, UWord *ret)
{
   switch (arg[0]) {
   case VG_USERREQ__GDB_MONITOR_COMMAND:
      *ret = pg_handle_monitor_command(tid, (HChar *)arg[1]);
      return True;

   case PG_USERREQ__IS_RUNNING:
      *ret = 1;
      return True;

   case PG_USERREQ__GET_TAINT: {
      Addr a = arg[1];
      SizeT len = arg[2];
      UInt *out = (UInt *)arg[3];
      if (!client_range_ok(a, len, False) || (out && !client_range_ok((Addr)out, len * sizeof(UInt), True))) {
         *ret = 0;
         return True;
      }
      *ret = pg_shadow_get_range(a, len, out);
      if (out) pg_shadow_set_range((Addr)out, len * sizeof(UInt), 0);   /* the labels themselves are clean data */
      return True;
   }

   case PG_USERREQ__SET_TAINT: {
      Addr a = arg[1];
      SizeT len = arg[2];
      const UInt *in = (const UInt *)arg[3];
      *ret = 0;
      if (!client_range_ok(a, len, False) || (in && !client_range_ok((Addr)in, len * sizeof(UInt), False))) return True;
      if (!in) {
         pg_shadow_set_range(a, len, 0);
         return True;
      }
      /* runs of equal labels become one range write */
      SizeT i = 0;
      while (i < len) {
         SizeT j = i + 1;
         while (j < len && in[j] == in[i]) j++;
         pg_shadow_set_range(a + i, j - i, in[i]);
         if (in[i]) pg_cur_label = in[i];
         i = j;
      }
      return True;
   }

   case PG_USERREQ__TAINTED_INPUT:
      pg_io_tainted_socket_input(arg[1]);
      *ret = 0;
      return True;

   case PG_USERREQ__ACCOUNT_IO: {
      /* as pg_post_syscall counts a read/write: the bytes' taint as they are in buf now */
      Addr a = arg[3];
      SizeT len = arg[4];
      Int dir = arg[2] ? 1 : 0;
      *ret = 0;
      if (!client_range_ok(a, len, False)) return True;
      pg_io_account((Int)arg[1], dir, pg_shadow_get_range(a, len, NULL), len);
      return True;
   }

   case PG_USERREQ__ACCOUNT_COPY:
      pg_io_account_copy((Int)arg[1], (Int)arg[2], arg[3]);
      *ret = 0;
      return True;

   case PG_USERREQ__NEW_MSG_LABEL: {
      const HChar *peer = (const HChar *)arg[1];
      const HChar *origin = (const HChar *)arg[3];
      if ((peer && !client_string_ok((Addr)peer)) || (origin && !client_string_ok((Addr)origin))) {
         *ret = 0;
         return True;
      }
      *ret = pg_label_new_msg(peer, (ULong)arg[2], origin);
      return True;
   }

   case PG_USERREQ__LABEL_INFO: {
      HChar *buf = (HChar *)arg[2];
      SizeT size = arg[3];
      if (buf && !client_range_ok((Addr)buf, size, True)) {
         *ret = 0;
         return True;
      }
      *ret = pg_label_describe((PG_Label)arg[1], buf, buf ? size : 0);
      if (buf && size) pg_shadow_set_range((Addr)buf, size, 0);
      return True;
   }

   default:
      return False;
   }
}
