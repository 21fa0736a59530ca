/** A refused API call, with the server's error `code` and `detail` (docs/errors.md). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

/** The API answer as an ApiError (a body that is not the error JSON still gives its status). */
export async function apiError(response: Response): Promise<ApiError> {
  let code = 'http_error';
  let detail = `The server answered ${response.status}.`;
  try {
    const body = (await response.json()) as { code?: unknown; detail?: unknown };
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.detail === 'string') detail = body.detail;
  } catch {
    // not JSON: keep the status
  }
  return new ApiError(response.status, code, detail);
}
