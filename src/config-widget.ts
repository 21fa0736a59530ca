import { readInteger, readOptional, type Environment } from './config-values.js';

/** The chat widget's settings (docs/widget.md): visitor tokens and anonymous traffic's rate limits. */
export interface WidgetConfig {
  /** `WIDGET_TOKEN_TTL_SECONDS`: how long a visitor token admits requests after it is minted or renewed. */
  readonly tokenTtlSeconds: number;
  /**
   * `WIDGET_TOKEN_RENEWAL_SECONDS`: how long after it expires a visitor token (the latest of its
   * session) may still be posted back to renew the session; past it the visitor starts a new one.
   */
  readonly renewalWindowSeconds: number;
  /** `WIDGET_SESSIONS_PER_MINUTE`: sessions minted or renewed per client address per minute (0: no limit). */
  readonly sessionsPerMinutePerIp: number;
  /** `WIDGET_VISITOR_REQUESTS_PER_MINUTE`: requests per visitor (token subject) per minute (0: no limit). */
  readonly visitorRequestsPerMinute: number;
  /** `WIDGET_VISITOR_REQUESTS_PER_MINUTE_PER_IP`: visitor requests per client address per minute (0: no limit). */
  readonly visitorRequestsPerMinutePerIp: number;
  /** `WIDGET_DEMO_KEY`: the publishable key `GET /widget/demo` embeds when the URL names none (`?key=`). */
  readonly demoKey: string | undefined;
}

export const WIDGET_DEFAULTS = {
  WIDGET_TOKEN_TTL_SECONDS: 900,
  WIDGET_TOKEN_RENEWAL_SECONDS: 7 * 24 * 3600,
  WIDGET_SESSIONS_PER_MINUTE: 20,
  WIDGET_VISITOR_REQUESTS_PER_MINUTE: 60,
  WIDGET_VISITOR_REQUESTS_PER_MINUTE_PER_IP: 600,
} as const;

export function readWidgetConfig(environment: Environment): WidgetConfig {
  const rate = { min: 0, max: 1_000_000 };
  return Object.freeze({
    tokenTtlSeconds: readInteger(environment, 'WIDGET_TOKEN_TTL_SECONDS', WIDGET_DEFAULTS.WIDGET_TOKEN_TTL_SECONDS, {
      min: 30,
      max: 86_400,
    }),
    renewalWindowSeconds: readInteger(
      environment,
      'WIDGET_TOKEN_RENEWAL_SECONDS',
      WIDGET_DEFAULTS.WIDGET_TOKEN_RENEWAL_SECONDS,
      { min: 0, max: 90 * 86_400 },
    ),
    sessionsPerMinutePerIp: readInteger(
      environment,
      'WIDGET_SESSIONS_PER_MINUTE',
      WIDGET_DEFAULTS.WIDGET_SESSIONS_PER_MINUTE,
      rate,
    ),
    visitorRequestsPerMinute: readInteger(
      environment,
      'WIDGET_VISITOR_REQUESTS_PER_MINUTE',
      WIDGET_DEFAULTS.WIDGET_VISITOR_REQUESTS_PER_MINUTE,
      rate,
    ),
    visitorRequestsPerMinutePerIp: readInteger(
      environment,
      'WIDGET_VISITOR_REQUESTS_PER_MINUTE_PER_IP',
      WIDGET_DEFAULTS.WIDGET_VISITOR_REQUESTS_PER_MINUTE_PER_IP,
      rate,
    ),
    demoKey: readOptional(environment, 'WIDGET_DEMO_KEY'),
  });
}
