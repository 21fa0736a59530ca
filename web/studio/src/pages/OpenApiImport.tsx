import { useState, type FormEvent } from 'react';
import { must, type Schemas } from '../api.ts';
import { ErrorNote, useAction, useClient } from '../ui.tsx';

type ImportResult = Schemas['OpenApiImportResult'];

/**
 * `POST …/tools/import-openapi`: a description pasted, read from a file (into the same field) or
 * fetched by the server from a URL becomes one external tool per operation. Preview is the
 * server's dry run; what cannot become a tool is listed with the server's reason.
 */
export function OpenApiImport({ agentId, onImported }: { agentId: string; onImported: () => void }) {
  const client = useClient();
  const [document, setDocument] = useState('');
  const [url, setUrl] = useState('');
  const [baseUrl, setBaseUrl] = useState('');
  const [prefix, setPrefix] = useState('');
  const [result, setResult] = useState<{ dryRun: boolean; answer: ImportResult } | null>(null);
  const action = useAction();
  const send = (dryRun: boolean) =>
    action.run(async () => {
      setResult(null);
      if (!document.trim() && !url.trim()) throw new Error('Paste a description, choose a file or give its URL.');
      const body = {
        ...(document.trim() ? { document } : { url: url.trim() }),
        ...(baseUrl.trim() ? { base_url: baseUrl.trim() } : {}),
        ...(prefix.trim() ? { tool_name_prefix: prefix.trim() } : {}),
        dry_run: dryRun,
      };
      const path = { agent_id: agentId };
      const answer = must(
        await client.POST('/api/v1/agents/{agent_id}/tools/import-openapi', { params: { path }, body }),
      );
      setResult({ dryRun, answer });
      if (!dryRun) onImported();
    });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void send(false);
  };
  const readFile = async (files: FileList | null) => {
    const file = files?.[0];
    if (file) setDocument(await file.text());
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Import OpenAPI">
      <h2>Import OpenAPI</h2>
      <label>
        OpenAPI document (JSON or YAML)
        <textarea rows={6} className="mono" value={document} onChange={(event) => setDocument(event.target.value)} />
      </label>
      <div className="row-form">
        <label>
          Or a file
          <input
            type="file"
            accept=".json,.yaml,.yml,application/json"
            onChange={(event) => void readFile(event.target.files)}
          />
        </label>
        <label className="grow">
          Or its URL
          <input type="url" value={url} onChange={(event) => setUrl(event.target.value)} />
        </label>
      </div>
      <div className="row-form">
        <label className="grow">
          Base URL (optional)
          <input type="url" value={baseUrl} onChange={(event) => setBaseUrl(event.target.value)} />
        </label>
        <label>
          Tool name prefix
          <input value={prefix} onChange={(event) => setPrefix(event.target.value)} />
        </label>
      </div>
      <div className="actions">
        <button type="button" className="secondary" disabled={action.busy} onClick={() => void send(true)}>
          Preview
        </button>
        <button type="submit" disabled={action.busy}>
          Import
        </button>
      </div>
      <ErrorNote error={action.error} />
      {result && <ImportOutcome {...result} />}
    </form>
  );
}

function ImportOutcome({ dryRun, answer }: { dryRun: boolean; answer: ImportResult }) {
  return (
    <section aria-label="Import result">
      <p role="status">
        {dryRun
          ? `Would create ${answer.planned.length} tools.`
          : `Created ${answer.created.length} tools, skipped ${answer.skipped.length}.`}
      </p>
      <ul className="list" aria-label="Operations">
        {answer.planned.map((plan) => (
          <li key={plan.operation} className="list-row">
            <code>{plan.tool_name}</code> <span className="muted">{plan.operation}</span>
          </li>
        ))}
        {answer.skipped.map((skip) => (
          <li key={skip.operation} className="list-row" data-skipped="true">
            <span>
              <code>{skip.operation}</code> skipped
            </span>
            <span className="error">{skip.reason}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
