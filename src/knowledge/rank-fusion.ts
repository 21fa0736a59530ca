/** The RRF constant of Cormack, Clarke and Büttcher (2009): damps the weight of the top ranks. */
export const RRF_K = 60;

/**
 * Reciprocal-rank fusion of ranked lists of ids (best first): an id scores Σ 1 / (k + rank) over
 * the lists it is in (rank from 1), divided by the score of an id first in every list, so the
 * similarity is in (0, 1] and 1 means "first everywhere". Ties (a chunk first in one list and
 * third in the other against one the other way round) go to the earlier list's favourite, then id
 * order, so equal inputs always give equal outputs.
 */
export function fuseRanks(lists: readonly (readonly string[])[]): { id: string; similarity: number }[] {
  const scores = new Map<string, { score: number; firstSeen: number }>();
  let seen = 0;
  for (const list of lists) {
    list.forEach((id, index) => {
      const entry = scores.get(id) ?? { score: 0, firstSeen: seen++ };
      entry.score += 1 / (RRF_K + index + 1);
      scores.set(id, entry);
    });
  }
  const best = lists.length / (RRF_K + 1);
  return [...scores.entries()]
    .sort(([leftId, left], [rightId, right]) => {
      if (left.score !== right.score) return right.score - left.score;
      if (left.firstSeen !== right.firstSeen) return left.firstSeen - right.firstSeen;
      return leftId < rightId ? -1 : 1;
    })
    .map(([id, entry]) => ({ id, similarity: entry.score / best }));
}
