import { createParleyClient, type ParleyClient, type Schemas } from '../../../clients/typescript/index.ts';

export type { ParleyClient, Schemas };

/**
 * The signed-in key lives in sessionStorage only: it goes with the tab, is never put in a URL,
 * and every call sends it as `x-api-key` through the typed client.
 */
const KEY = 'parley-studio-api-key';

export const session = {
  read: (): string | null => sessionStorage.getItem(KEY),
  save: (apiKey: string) => sessionStorage.setItem(KEY, apiKey),
  clear: () => sessionStorage.removeItem(KEY),
};

/** The studio is served by the server it manages: calls go to its own origin. */
export function clientFor(apiKey: string): ParleyClient {
  return createParleyClient({ baseUrl: window.location.origin, apiKey });
}

/** The server's `detail` of an error answer (a text, or validation issues), as one line. */
export function errorDetail(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'detail' in error) {
    const detail = (error as { detail: unknown }).detail;
    if (typeof detail === 'string') return detail;
    if (Array.isArray(detail))
      return detail
        .map((issue: { loc?: unknown[]; msg?: string }) => `${(issue.loc ?? []).join('.')}: ${issue.msg ?? ''}`)
        .join('; ');
  }
  return typeof error === 'string' ? error : 'The request failed.';
}

/** The data of an openapi-fetch answer, or a thrown Error carrying the server's detail. */
export function must<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.error !== undefined || !answer.response.ok) throw new Error(errorDetail(answer.error));
  return answer.data as T;
}
