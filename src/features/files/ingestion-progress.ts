import type { JsonObject } from '../../domain/models.js';
import type { Job } from '../../domain/jobs.js';

/** The kind of job that indexes a knowledge file (an upload's extraction, a URL's crawl). */
export const FILE_INGESTION = 'file_ingestion';

/** How many problems a job's progress (and a file's metadata) keeps: the first ones. */
export const MAX_PROBLEMS = 50;

export interface IngestionProblem {
  url: string;
  reason: string;
}

/** A `file_ingestion` job's progress, as stored in `jobs.progress` and shown by the jobs route. */
export interface IngestionProgress extends JsonObject {
  pages_done: number;
  pages_total?: number;
  chunks: number;
  problems: IngestionProblem[];
}

export function emptyProgress(): IngestionProgress {
  return { pages_done: 0, chunks: 0, problems: [] };
}

/** Adds a problem unless MAX_PROBLEMS are kept already. */
export function withProblem(progress: IngestionProgress, problem: IngestionProblem): IngestionProgress {
  if (progress.problems.length >= MAX_PROBLEMS) return progress;
  return { ...progress, problems: [...progress.problems, problem] };
}

/** The jobs route's view of a job (AgentFileJob in files.schemas.ts). */
export function jobView(job: Job) {
  const progress = job.progress as Partial<IngestionProgress>;
  return {
    id: job.id,
    file_id: job.subject_id,
    kind: job.kind,
    status: job.status,
    attempts: Math.min(job.attempts, job.max_attempts),
    max_attempts: job.max_attempts,
    progress: {
      pages_done: progress.pages_done ?? 0,
      ...(progress.pages_total === undefined ? {} : { pages_total: progress.pages_total }),
      chunks: progress.chunks ?? 0,
      problems: progress.problems ?? [],
    },
    error_message: job.error_message,
    created_at: job.created_at,
    updated_at: job.updated_at,
    started_at: job.started_at,
    finished_at: job.finished_at,
  };
}
