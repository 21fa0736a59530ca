import { ConfigError, readInteger, readOptional, type Environment } from './config-values.js';

/** Signed webhooks (docs/webhooks.md). */
export interface WebhooksConfig {
  /**
   * `WEBHOOK_ALLOW_HTTP=1`: plain `http://` endpoints are accepted too (a loopback receiver in
   * tests, a receiver on the operator's own network). Off: `https://` only. The destination
   * policy (OUTBOUND_ALLOW) applies either way.
   */
  readonly allowHttp: boolean;
  /** `WEBHOOK_MAX_ATTEMPTS`: attempts of one delivery before it is `failed`. */
  readonly maxAttempts: number;
  /** `WEBHOOK_BACKOFF_MS`, `WEBHOOK_BACKOFF_MAX_MS`: the exponential retry delay's base and cap. */
  readonly backoffMs: number;
  readonly backoffMaxMs: number;
  /** `WEBHOOK_TIMEOUT_MS`: one attempt's deadline (connect, headers, body). */
  readonly timeoutMs: number;
  /** `WEBHOOK_SECRET_OVERLAP_HOURS`: after a rotation, how long deliveries carry the old signature too. */
  readonly secretOverlapHours: number;
  /**
   * `WEBHOOK_DELIVERY_RETENTION_DAYS`: finished deliveries (delivered or failed) and their
   * attempts are deleted this long after their last change; 0 keeps the log forever.
   */
  readonly deliveryRetentionDays: number;
}

export const WEBHOOK_DEFAULTS = {
  WEBHOOK_MAX_ATTEMPTS: 8,
  WEBHOOK_BACKOFF_MS: 30_000,
  WEBHOOK_BACKOFF_MAX_MS: 3_600_000,
  WEBHOOK_TIMEOUT_MS: 10_000,
  WEBHOOK_SECRET_OVERLAP_HOURS: 24,
  WEBHOOK_DELIVERY_RETENTION_DAYS: 30,
} as const;

export function readWebhooksConfig(environment: Environment): WebhooksConfig {
  return Object.freeze({
    allowHttp: readFlag(environment, 'WEBHOOK_ALLOW_HTTP'),
    maxAttempts: readInteger(environment, 'WEBHOOK_MAX_ATTEMPTS', WEBHOOK_DEFAULTS.WEBHOOK_MAX_ATTEMPTS, {
      min: 1,
      max: 100,
    }),
    backoffMs: readInteger(environment, 'WEBHOOK_BACKOFF_MS', WEBHOOK_DEFAULTS.WEBHOOK_BACKOFF_MS, {
      min: 0,
      max: 3_600_000,
    }),
    backoffMaxMs: readInteger(environment, 'WEBHOOK_BACKOFF_MAX_MS', WEBHOOK_DEFAULTS.WEBHOOK_BACKOFF_MAX_MS, {
      min: 0,
      max: 86_400_000,
    }),
    timeoutMs: readInteger(environment, 'WEBHOOK_TIMEOUT_MS', WEBHOOK_DEFAULTS.WEBHOOK_TIMEOUT_MS, {
      min: 100,
      max: 120_000,
    }),
    secretOverlapHours: readInteger(
      environment,
      'WEBHOOK_SECRET_OVERLAP_HOURS',
      WEBHOOK_DEFAULTS.WEBHOOK_SECRET_OVERLAP_HOURS,
      { min: 0, max: 24 * 30 },
    ),
    deliveryRetentionDays: readInteger(
      environment,
      'WEBHOOK_DELIVERY_RETENTION_DAYS',
      WEBHOOK_DEFAULTS.WEBHOOK_DELIVERY_RETENTION_DAYS,
      { min: 0, max: 3_650 },
    ),
  });
}

function readFlag(environment: Environment, name: string): boolean {
  const value = readOptional(environment, name);
  if (value === undefined || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new ConfigError(name, `must be 1 or 0, got "${value}"`);
}
