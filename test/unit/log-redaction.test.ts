import { describe, expect, it } from 'vitest';
import { urlForLogs } from '../../src/http/log-redaction.js';

describe('urlForLogs', () => {
  it('replaces the value of every credential query parameter, and nothing else', () => {
    expect(urlForLogs('/api/v1/chat/a/threads/t/stream?token=eyJ.abc.def&after=4')).toBe(
      '/api/v1/chat/a/threads/t/stream?token=[redacted]&after=4',
    );
    expect(urlForLogs('/x?after=1&token=eyJ.abc.def')).toBe('/x?after=1&token=[redacted]');
    expect(urlForLogs('/x?TOKEN=a&token=b&api_key=pk_1&x-api-key=pk_2#frag')).toBe(
      '/x?TOKEN=[redacted]&token=[redacted]&api_key=[redacted]&x-api-key=[redacted]#frag',
    );
    expect(urlForLogs('/x?mytoken=a&token_type=b')).toBe('/x?mytoken=a&token_type=b');
    expect(urlForLogs('/token=a')).toBe('/token=a');
    expect(urlForLogs('/api/v1/mcp/oauth/callback?code=abc&state=s1&iss=https%3A%2F%2Fas')).toBe(
      '/api/v1/mcp/oauth/callback?code=[redacted]&state=[redacted]&iss=https%3A%2F%2Fas',
    );
  });
});
