/** A small deterministic generator (mulberry32), so a generated case that fails names its seed. */
export function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A text of up to `maxPieces - 1` pieces, each drawn from `pieces` by `next`. */
export function randomText(next: () => number, pieces: readonly string[], maxPieces: number): string {
  return Array.from({ length: Math.floor(next() * maxPieces) }, () => pieces[Math.floor(next() * pieces.length)]).join(
    '',
  );
}
