import { Type } from '@sinclair/typebox';
import { DateTime, Nullable } from '../../http/schemas.js';

/** The largest token budget: what a JSON number holds exactly. */
export const MAX_TOKEN_BUDGET = Number.MAX_SAFE_INTEGER;
/** The largest cost budget, in USD. */
export const MAX_COST_BUDGET = 1_000_000_000_000;

const GroupBy = Type.Union([Type.Literal('day'), Type.Literal('agent'), Type.Literal('model')], {
  default: 'day',
  description: 'day: per UTC day (`YYYY-MM-DD`) the runs ended; agent: per agent id; model: per model id.',
});

export const UsageQuery = Type.Object({
  group_by: GroupBy,
  from: Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'Runs that ended at or after this time; 30 days before `to` when absent.',
    }),
  ),
  to: Type.Optional(
    Type.String({
      format: 'date-time',
      description:
        'Runs that ended before this time (exclusive); the end of today (UTC) when absent. At most 400 days after `from`.',
    }),
  ),
});

const figures = {
  runs: Type.Integer({ minimum: 0, description: 'Runs that ended in the window.' }),
  input_tokens: Type.Integer({ minimum: 0 }),
  output_tokens: Type.Integer({ minimum: 0 }),
  total_tokens: Type.Integer({ minimum: 0 }),
  cost: Nullable(
    Type.Number({
      description:
        'USD, at the prices of the time of each run; the priced runs only. Null when no run of the group had a price.',
    }),
  ),
  unpriced_runs: Type.Integer({ minimum: 0, description: 'Runs of models without a price, left out of `cost`.' }),
};

export const UsageFigures = Type.Object(figures, { $id: 'UsageFigures', additionalProperties: false });

export const UsageGroup = Type.Object(
  { key: Type.String({ description: 'The UTC day, agent id or model id.' }), ...figures },
  { $id: 'UsageGroup', additionalProperties: false },
);

export const UsageReport = Type.Object(
  {
    group_by: Type.String(),
    from: DateTime,
    to: DateTime,
    rows: Type.Array(Type.Ref(UsageGroup), { description: 'In key order.' }),
    total: Type.Ref(UsageFigures),
  },
  { $id: 'UsageReport', additionalProperties: false },
);

const Period = Type.Union([Type.Literal('day'), Type.Literal('month')], {
  description: 'The budget starts afresh at 00:00 UTC each day, or on the first of each month.',
});

export const QuotaUpdate = Type.Object(
  {
    period: Period,
    max_tokens: Type.Optional(
      Nullable(
        Type.Integer({
          minimum: 0,
          maximum: MAX_TOKEN_BUDGET,
          description: 'Input plus output tokens per period; null or absent: no limit.',
        }),
      ),
    ),
    max_cost: Type.Optional(
      Nullable(
        Type.Number({ minimum: 0, maximum: MAX_COST_BUDGET, description: 'USD per period; null or absent: no limit.' }),
      ),
    ),
  },
  { $id: 'QuotaUpdate' },
);

export const QuotaStatus = Type.Object(
  {
    period: Period,
    max_tokens: Nullable(Type.Integer()),
    max_cost: Nullable(Type.Number()),
    used_tokens: Type.Integer({ minimum: 0, description: 'Tokens of the runs that ended this period.' }),
    used_cost: Type.Number({ minimum: 0, description: 'USD of the priced runs that ended this period.' }),
    resets_at: DateTime,
  },
  {
    $id: 'QuotaStatus',
    additionalProperties: false,
    description: 'The organisation’s budget and its use in the current period.',
  },
);
