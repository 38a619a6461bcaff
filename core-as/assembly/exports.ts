import { Reader, Writer } from './io';
const w = new Writer(64);
export function ping(x: i32): i32 { w.reset(); w.u32(x); const r = new Reader(w.buf.dataStart, w.len); return <i32>r.u32() + 1; }
