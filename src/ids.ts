import { uuidv7 } from 'uuidv7';

/** Ids and time come from here so tests can pass their own (see `createApp(deps)`). */
export interface Clock {
  now(): Date;
}
export type IdGenerator = () => string;

export const systemClock: Clock = { now: () => new Date() };

/** Time-ordered UUID v7: inserts stay at the right edge of every primary-key index. */
export const newId: IdGenerator = () => uuidv7();

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
