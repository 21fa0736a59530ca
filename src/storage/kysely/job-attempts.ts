import type { JsonObject } from '../../domain/models.js';

// What the job store's claims and later writes name: leases and the attempts they fence.

/** The lease a claim writes: who holds the jobs and until when. */
export interface Lease {
  owner: string;
  /** ISO time the lease lapses at. */
  until: string;
  now: string;
}

/** One attempt of a running job, as its later writes name it: the id and the claim's fencing token. */
export interface Attempt {
  id: string;
  token: number;
}

/** How an attempt ended, for `finishMany`. */
export interface AttemptEnd extends Attempt {
  status: 'succeeded' | 'failed';
  errorMessage: string | null;
  progress?: JsonObject | undefined;
}
