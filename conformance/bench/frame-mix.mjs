// The decoder benchmark's frames, shared by boundary.mjs (Node) and browser.mjs (in Chromium):
// half random frames (a quarter with a valid header), half valid DIGEST frames; seeded.
export function decoderFrameMix(count = 1000) {
  const digest = new Uint8Array([0x54, 2, 5, 0, 16, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
  let s = 12345;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  const frames = [];
  for (let i = 0; i < count; i++) {
    if (i % 2) { frames.push(digest); continue; }
    const f = new Uint8Array(8 + (rnd() % 120));
    for (let j = 0; j < f.length; j++) f[j] = rnd() & 255;
    if (i % 4 === 0) { f.set([0x54, 2, 1 + (rnd() % 13), 0]); new DataView(f.buffer).setUint32(4, f.length - 8, true); }
    frames.push(f);
  }
  return frames;
}
