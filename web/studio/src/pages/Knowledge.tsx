import { useState, type FormEvent } from 'react';
import { errorDetail, must, type Schemas } from '../api.ts';
import { selection } from '../paths.ts';
import { AgentSelect, ErrorNote, Loading, Page, useAction, useClient, useLoad, when } from '../ui.tsx';
import { IngestionJob } from './IngestionJob.tsx';
import { KnowledgeSearch } from './KnowledgeSearch.tsx';

type AgentFile = Schemas['AgentFile'];
interface Upload {
  name: string;
  state: 'uploading' | 'processing' | 'ready' | 'failed';
  detail?: string;
}

/** An agent's knowledge files: upload with per-file state, add a URL, the list, and a search. */
export function KnowledgePage() {
  const client = useClient();
  const [agentId, setAgentId] = useState(selection.agentId());
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [followed, setFollowed] = useState<string | null>(null);
  const recrawl = useAction();
  const files = useLoad(async () => {
    if (!agentId) return null;
    const query = { page: 1, page_size: 50 };
    return must(
      await client.GET('/api/v1/agent-files/{agent_id}/files', { params: { path: { agent_id: agentId }, query } }),
    );
  }, [agentId]);
  const setUpload = (index: number, upload: Upload) =>
    setUploads((shown) => shown.map((each, at) => (at === index ? upload : each)));

  /** Polls a file until its background job has made it ready or failed. */
  const follow = async (file: AgentFile, index: number) => {
    let current = file;
    while (current.status === 'processing') {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const path = { agent_id: agentId, file_id: file.id };
      current = must(await client.GET('/api/v1/agent-files/{agent_id}/files/{file_id}', { params: { path } }));
    }
    setUpload(index, { name: file.name, state: current.status, detail: current.error_message ?? undefined });
    files.reload();
  };

  const upload = async (chosen: FileList | null) => {
    const list = [...(chosen ?? [])];
    const start = uploads.length;
    setUploads((shown) => [...shown, ...list.map((file) => ({ name: file.name, state: 'uploading' as const }))]);
    await Promise.all(
      list.map(async (file, offset) => {
        const index = start + offset;
        try {
          const form = new FormData();
          form.append('file', file);
          const answer = await client.POST('/api/v1/agent-files/{agent_id}/files', {
            params: { path: { agent_id: agentId } },
            body: form as unknown as { file: string },
            bodySerializer: (body) => body as unknown as FormData,
          });
          const stored = must(answer);
          setUpload(index, { name: file.name, state: 'processing' });
          await follow(stored, index);
        } catch (caught) {
          setUpload(index, { name: file.name, state: 'failed', detail: errorDetail(caught) });
        }
      }),
    );
  };

  return (
    <Page title="Knowledge" actions={<AgentSelect value={agentId} onChange={setAgentId} />}>
      <div className="card">
        <label>
          Upload files
          <input type="file" multiple onChange={(event) => void upload(event.target.files)} />
        </label>
        <ul className="uploads" aria-label="Uploads">
          {uploads.map((each, index) => (
            <li key={index} data-state={each.state}>
              <span>{each.name}</span> <span className={`badge ${each.state}`}>{each.state}</span>
              {each.detail && <span className="error"> {each.detail}</span>}
            </li>
          ))}
        </ul>
        <AddUrl agentId={agentId} onAdded={(jobId) => (setFollowed(jobId), files.reload())} />
        {followed && <IngestionJob key={followed} agentId={agentId} jobId={followed} onEnded={files.reload} />}
        <ErrorNote error={recrawl.error} />
      </div>
      <Loading loaded={files} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Kind</th>
              <th scope="col">Chunks</th>
              <th scope="col">Added</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(files.data?.files ?? []).map((file) => (
              <tr key={file.id} data-file-id={file.id}>
                <td>{file.source_url ?? file.name}</td>
                <td>
                  <span className={`badge ${file.status}`}>{file.status}</span>
                  {file.error_message && <span className="error"> {file.error_message}</span>}
                </td>
                <td>{file.kind ?? file.mime_type}</td>
                <td>{file.chunk_count}</td>
                <td>{when(file.created_at)}</td>
                <td>
                  {file.source === 'url' && (
                    <button
                      type="button"
                      className="secondary"
                      disabled={recrawl.busy || file.status === 'processing'}
                      onClick={() =>
                        void recrawl.run(async () => {
                          const path = { agent_id: agentId, file_id: file.id };
                          const params = { params: { path } };
                          setFollowed(
                            must(await client.POST('/api/v1/agent-files/{agent_id}/files/{file_id}/reindex', params))
                              .job_id,
                          );
                          files.reload();
                        })
                      }
                    >
                      Re-crawl <span className="visually-hidden">{file.source_url}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {agentId && <KnowledgeSearch agentId={agentId} />}
    </Page>
  );
}

/** Queues a URL's crawl; the page then follows its job (`onAdded` gets the job's id). */
function AddUrl({ agentId, onAdded }: { agentId: string; onAdded: (jobId: string) => void }) {
  const client = useClient();
  const [url, setUrl] = useState('');
  const [added, setAdded] = useState<string | null>(null);
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      const answer = must(
        await client.POST('/api/v1/agent-files/{agent_id}/urls', {
          params: { path: { agent_id: agentId } },
          body: { url },
        }),
      );
      setAdded(`Queued: job ${answer.job_id}`);
      setUrl('');
      onAdded(answer.job_id);
    });
  };
  return (
    <form className="row-form" onSubmit={submit}>
      <label className="grow">
        Add a URL
        <input type="url" value={url} onChange={(event) => setUrl(event.target.value)} required />
      </label>
      <button type="submit" disabled={action.busy}>
        Add URL
      </button>
      {added && <span role="status">{added}</span>}
      <ErrorNote error={action.error} />
    </form>
  );
}
