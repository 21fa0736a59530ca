/**
 * Time ratios measured within one run, the only timing the suite asserts (an absolute time
 * depends on the machine and on whatever else runs on it).
 */

/** Nanoseconds the fastest of `repetitions` runs of `work` took. */
export async function fastestOf(work: () => unknown, repetitions: number): Promise<number> {
  let fastest = Infinity;
  for (let repetition = 0; repetition < repetitions; repetition += 1) {
    const started = process.hrtime.bigint();
    const result = work();
    // Synchronous work is not awaited: a microtask per run would count in the time.
    if (result instanceof Promise) await result;
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - started));
  }
  return fastest;
}

/**
 * How much more one large input costs than the same length of small ones: the time of `work` on
 * `large` divided by the time of `large.length / small.length` runs on `small`. Linear work gives
 * about 1; quadratic work gives about that length ratio. Each side is the fastest of a few runs,
 * after a warm-up, so a pause of the machine (or a garbage collection) in one run does not count.
 */
export async function growthRatio(
  work: (input: string) => unknown,
  inputs: { small: string; large: string },
  repetitions = 5,
): Promise<number> {
  const { small, large } = inputs;
  const copies = Math.round(large.length / small.length);
  const many = async () => {
    for (let copy = 0; copy < copies; copy += 1) {
      const result = work(small);
      if (result instanceof Promise) await result;
    }
  };
  await many();
  await work(large);
  const smallTime = await fastestOf(many, repetitions);
  const largeTime = await fastestOf(() => work(large), repetitions);
  return largeTime / smallTime;
}
