/**
 * SSE event ids of a thread's log. A durable event has id `<seq>`; a text delta, which is never
 * stored, has id `<seq>.<n>`: the n-th delta after durable event `seq`. Ids therefore increase
 * strictly along the stream, and durable sequence numbers have no gaps.
 */
export interface EventId {
  seq: number;
  delta: number;
}

export const START: EventId = { seq: 0, delta: 0 };

export function formatEventId(id: EventId): string {
  return id.delta === 0 ? String(id.seq) : `${id.seq}.${id.delta}`;
}

/** Parses `Last-Event-ID` / `?after=`; null when malformed. */
export function parseEventId(text: string): EventId | null {
  const match = /^(\d{1,15})(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!match) return null;
  return { seq: Number(match[1]), delta: match[2] === undefined ? 0 : Number(match[2]) };
}

export function compareEventIds(left: EventId, right: EventId): number {
  return left.seq - right.seq || left.delta - right.delta;
}
