#!/usr/bin/env python3
"""spilldump.py — print a summary of a fragtrace spill file (debugging aid)."""
import struct, sys, collections
names = {1:'EVENTS',2:'CMDLINE',3:'EXE',4:'MAPS',5:'SAMPLE',6:'BUDDYINFO',7:'EXEC',8:'EXIT',9:'DROPPED',10:'THREAD'}
for path in sys.argv[1:]:
    b = open(path,'rb').read()
    magic, ver, hsz, pid, ppid, smono, sunix, psz, flags, pstart, depth = struct.unpack_from('<8sIIiiQQIIQI', b, 0)
    print(path, magic, 'ver', ver, 'pid', pid, 'ppid', ppid, 'flags', flags, 'depth', depth)
    off = hsz; counts = collections.Counter(); evc = collections.Counter(); tids=set()
    while off + 16 <= len(b):
        typ, ln, tid, _ = struct.unpack_from('<IIiI', b, off)
        if off + 16 + ln > len(b): print('truncated chunk at', off); break
        counts[names.get(typ, typ)] += 1
        p = b[off+16: off+16+ln]
        if typ == 1:
            tids.add(tid); i = 0
            while i < ln:
                tt, a, n, s = struct.unpack_from('<QQQQ', p, i); ty = tt & 0xff
                evc[ty] += 1; i += 32
                if ty == 16: i += 32 * ((n + 3)//4)
        elif typ == 8: print('EXIT', struct.unpack_from('<Qi', p, 0))
        elif typ == 9: print('DROPPED', struct.unpack_from('<Q', p, 0))
        off += 16 + ln + (-ln) % 8
    print(' chunks', dict(counts)); print(' events by type', dict(evc)); print(' tids', tids)
