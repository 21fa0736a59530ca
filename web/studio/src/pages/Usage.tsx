import { useState } from 'react';
import { must } from '../api.ts';
import { Loading, Page, useClient, useLoad } from '../ui.tsx';

type GroupBy = 'day' | 'agent' | 'model';

/** Tokens and cost of the last 30 days, by day, agent or model, as a table with bars. */
export function UsagePage() {
  const client = useClient();
  const [groupBy, setGroupBy] = useState<GroupBy>('day');
  const report = useLoad(
    async () => must(await client.GET('/api/v1/usage', { params: { query: { group_by: groupBy } } })),
    [groupBy],
  );
  const rows = report.data?.rows ?? [];
  const most = Math.max(1, ...rows.map((row) => row.total_tokens));
  return (
    <Page title="Usage">
      <fieldset className="row-form">
        <legend>Group by</legend>
        {(['day', 'agent', 'model'] as const).map((each) => (
          <label key={each} className="inline">
            <input type="radio" name="group-by" checked={groupBy === each} onChange={() => setGroupBy(each)} /> {each}
          </label>
        ))}
      </fieldset>
      <Loading loaded={report} />
      {report.data && (
        <p className="muted">
          {report.data.total.runs} runs, {report.data.total.total_tokens} tokens
          {report.data.total.cost === null ? '' : `, $${report.data.total.cost.toFixed(4)}`} from{' '}
          {report.data.from.slice(0, 10)} to {report.data.to.slice(0, 10)}
        </p>
      )}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{groupBy}</th>
              <th scope="col">Runs</th>
              <th scope="col">Input</th>
              <th scope="col">Output</th>
              <th scope="col">Tokens</th>
              <th scope="col">Cost</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.key}>
                <td className="mono">{row.key}</td>
                <td>{row.runs}</td>
                <td>{row.input_tokens}</td>
                <td>{row.output_tokens}</td>
                <td className="bar-cell">
                  <span className="bar" style={{ width: `${(row.total_tokens / most) * 100}%` }} aria-hidden="true" />
                  <span>{row.total_tokens}</span>
                </td>
                <td>{row.cost === null ? 'unpriced' : `$${row.cost.toFixed(4)}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {report.data && rows.length === 0 && <p className="muted">No runs in this period.</p>}
    </Page>
  );
}
