/**
 * The one registry of error codes. Every error the API returns has a stable snake_case `code`
 * listed here; `docs/errors.md` documents each one and a test keeps the two in sync.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, message: 'The request could not be understood.' },
  validation_error: { status: 422, message: 'The request is not valid.' },
  invalid_api_key: { status: 401, message: 'A valid API key is required in the x-api-key header.' },
  key_revoked: { status: 401, message: 'The API key of this stream was revoked or has expired.' },
  invalid_stream_token: { status: 401, message: 'The stream token is not valid for this thread.' },
  invalid_widget_key: { status: 401, message: 'A valid publishable widget key is required.' },
  invalid_metrics_token: { status: 401, message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.' },
  invalid_widget_token: {
    status: 401,
    message: 'The visitor token is not valid: start a new widget session (POST /api/v1/widget/sessions).',
  },
  widget_token_expired: {
    status: 401,
    message: 'The visitor token has expired: renew it by posting it to POST /api/v1/widget/sessions.',
  },
  widget_origin_not_allowed: { status: 403, message: 'The widget key does not allow this page’s origin.' },
  invalid_user_hash: {
    status: 403,
    message: 'The user_hash does not match the user_id: the identity is not verified.',
  },
  insufficient_scope: { status: 403, message: 'The API key lacks the scope this operation needs.' },
  route_not_found: { status: 404, message: 'Not Found' },
  agent_not_found: { status: 404, message: 'Agent not found.' },
  thread_not_found: { status: 404, message: 'Chat thread not found.' },
  api_key_not_found: { status: 404, message: 'API key not found.' },
  widget_key_not_found: { status: 404, message: 'Widget key not found.' },
  webhook_not_found: { status: 404, message: 'Webhook not found.' },
  widget_identity_conflict: {
    status: 409,
    message: 'This widget session is already identified as another user: start a new session for this user.',
  },
  run_not_found: { status: 404, message: 'Run not found.' },
  flow_execution_not_found: { status: 404, message: 'Flow execution not found.' },
  flow_not_found: { status: 404, message: 'Flow not found.' },
  flow_execution_finished: {
    status: 409,
    message: 'The flow execution has ended: it cannot be cancelled or set back to pending, queued or running.',
  },
  flow_execution_not_cancellable: {
    status: 409,
    message: 'This execution is a chat run: cancel it through its thread (POST …/runs/{run_id}/cancel).',
  },
  message_not_found: { status: 404, message: 'Chat message not found.' },
  feedback_target_not_answer: {
    status: 422,
    message: 'Feedback rates an assistant message: this message is not one.',
  },
  tool_not_found: { status: 404, message: 'Agent tool not found.' },
  tool_name_taken: { status: 409, message: 'The agent already has a tool with this name.' },
  too_many_tools: { status: 409, message: 'The agent has as many tools as it may have (128).' },
  mcp_server_not_found: { status: 404, message: 'MCP server not found.' },
  mcp_server_read_only: {
    status: 409,
    message: 'This MCP server comes from the operator’s MCP_SERVERS_FILE: change it there, not through the API.',
  },
  too_many_mcp_servers: { status: 409, message: 'The agent has as many MCP servers as it may have (32).' },
  mcp_server_unavailable: { status: 502, message: 'The MCP server could not be connected.' },
  model_not_configured: { status: 400, message: 'The agent’s model is not configured on this server.' },
  thread_busy: { status: 409, message: 'A reply is already being generated in this thread.' },
  run_not_active: { status: 409, message: 'The run has already ended.' },
  run_unreachable: {
    status: 503,
    message: 'The run is still running on a server process that cannot be reached; try again shortly.',
  },
  tool_call_not_found: { status: 404, message: 'Tool call not found.' },
  tool_call_already_decided: { status: 409, message: 'This tool call was already approved or rejected.' },
  tool_approval_expired: {
    status: 409,
    message: 'The approval request of this tool call expired; it was rejected as expired.',
  },
  model_error: { status: 502, message: 'The model provider failed.' },
  run_timeout: { status: 504, message: 'The run did not finish in time.' },
  method_not_allowed: { status: 405, message: 'Method Not Allowed' },
  idempotency_key_in_flight: {
    status: 409,
    message: 'A request with this Idempotency-Key is still being processed.',
  },
  request_timeout: { status: 408, message: 'The request was not received in time.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  headers_too_large: { status: 431, message: 'The request headers are too large.' },
  unsupported_media_type: { status: 415, message: 'Unsupported Content-Type.' },
  too_many_streams: { status: 429, message: 'Too many open event streams.' },
  slow_consumer: {
    status: 429,
    message: 'The client did not read the stream fast enough; resume it with Last-Event-ID.',
  },
  idempotency_key_reused: {
    status: 422,
    message: 'This Idempotency-Key was already used with a different request.',
  },
  url_not_allowed: {
    status: 422,
    message:
      'The URL is not one the server may fetch: only public http(s) hosts on ports 80 and 443, or those OUTBOUND_ALLOW names.',
  },
  url_fetch_failed: {
    status: 422,
    message: 'The URL could not be fetched.',
  },
  rate_limited: { status: 429, message: 'Too many requests. Retry after the time in Retry-After.' },
  too_many_auth_failures: {
    status: 429,
    message: 'Too many failed authentication attempts from this address. Retry after the time in Retry-After.',
  },
  mcp_oauth_state_invalid: {
    status: 400,
    message: 'This sign-in link is unknown, expired or was already used: start the connection again.',
  },
  mcp_oauth_failed: { status: 400, message: 'The MCP server’s authorization server did not grant access.' },
  mcp_oauth_unavailable: {
    status: 502,
    message: 'The MCP server’s authorization server could not be reached to complete the sign-in; try again.',
  },
  file_not_found: { status: 404, message: 'Agent file not found.' },
  job_not_found: { status: 404, message: 'Job not found.' },
  file_too_large: { status: 413, message: 'The file is larger than this server accepts (MAX_UPLOAD_BYTES).' },
  storage_quota_exceeded: {
    status: 413,
    message: 'The file does not fit in the organisation’s remaining storage (ORGANIZATION_STORAGE_QUOTA_BYTES).',
  },
  empty_file: { status: 422, message: 'The file is empty.' },
  unsupported_file_type: { status: 415, message: 'This type of file cannot be indexed.' },
  unsafe_file: { status: 422, message: 'The file was refused as unsafe to process.' },
  file_has_no_content: {
    status: 409,
    message: 'This file was added by URL: it has no stored bytes to download (its pages are indexed, not kept).',
  },
  file_job_running: { status: 409, message: 'The file is being indexed already; wait for its job to end.' },
  quota_exceeded: {
    status: 429,
    message: 'The organisation has used its token or cost budget for this period. Retry after the time in Retry-After.',
  },
  internal_error: { status: 500, message: 'Internal Server Error' },
  service_unavailable: { status: 503, message: 'The server is shutting down or not ready.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A validation problem in the FastAPI shape: `loc` is where, `msg` is what, `type` the kind. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly issues: ValidationIssue[] | undefined;
  readonly headers: Record<string, string> | undefined;
  /** Keys the error body carries besides `detail`, `code` and `request_id` (e.g. `quota`). */
  readonly extra: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    options: {
      message?: string;
      issues?: ValidationIssue[];
      headers?: Record<string, string>;
      extra?: Record<string, unknown>;
    } = {},
  ) {
    super(options.message ?? ERROR_CODES[code].message);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.issues = options.issues;
    this.headers = options.headers;
    this.extra = options.extra;
  }
}

/** Shorthand for a 422 with one issue, e.g. `validationError(['body', 'agent_id'], '...', 'value_error')`. */
export function validationError(loc: (string | number)[], msg: string, type = 'value_error'): AppError {
  return new AppError('validation_error', { issues: [{ loc, msg, type }] });
}
