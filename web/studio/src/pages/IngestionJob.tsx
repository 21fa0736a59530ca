import { useEffect, useState } from 'react';
import { errorDetail, must, type Schemas } from '../api.ts';
import { ErrorNote, useClient } from '../ui.tsx';

type Job = Schemas['AgentFileJob'];

const ENDED: readonly Job['status'][] = ['succeeded', 'failed', 'cancelled'];
/** Between two reads of a running job: a crawl of a few pages takes a second or two. */
const POLL_MS = 500;

/**
 * One ingestion job followed until it ends (`GET …/jobs/{job_id}`): its state, pages done (of
 * the total when the crawl knows it), chunks, the pages that could not be indexed and why, and
 * the final error. `onEnded` runs once, when the job reaches an end state.
 */
export function IngestionJob({ agentId, jobId, onEnded }: { agentId: string; jobId: string; onEnded: () => void }) {
  const client = useClient();
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async () => {
      try {
        const path = { agent_id: agentId, job_id: jobId };
        const current = must(await client.GET('/api/v1/agent-files/{agent_id}/jobs/{job_id}', { params: { path } }));
        if (!live) return;
        setJob(current);
        if (ENDED.includes(current.status)) onEnded();
        else timer = setTimeout(() => void read(), POLL_MS);
      } catch (caught) {
        if (live) setError(errorDetail(caught));
      }
    };
    void read();
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // `onEnded` is a new closure each render of the parent; the job is what this follows.
  }, [agentId, jobId]);
  if (error) return <ErrorNote error={error} />;
  if (!job) return <p className="muted">Reading the job…</p>;
  const { progress } = job;
  const pages =
    progress.pages_total === undefined ? `${progress.pages_done}` : `${progress.pages_done} of ${progress.pages_total}`;
  return (
    <section className="job" aria-label="Ingestion job" data-job-status={job.status}>
      <p>
        <span className={`badge ${job.status}`}>{job.status}</span> pages {pages}, {progress.chunks} chunks
        {job.attempts > 1 && `, attempt ${job.attempts} of ${job.max_attempts}`}
      </p>
      <progress
        aria-label="Pages crawled"
        value={ENDED.includes(job.status) ? 1 : progress.pages_done}
        max={ENDED.includes(job.status) ? 1 : (progress.pages_total ?? Math.max(1, progress.pages_done + 1))}
      />
      {progress.problems.length > 0 && (
        <ul aria-label="Pages not indexed">
          {progress.problems.map((problem) => (
            <li key={problem.url}>
              <code>{problem.url}</code>: {problem.reason}
            </li>
          ))}
        </ul>
      )}
      <ErrorNote error={job.error_message} />
    </section>
  );
}
