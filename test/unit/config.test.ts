import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('PROCESS_HEARTBEAT_MS', () => {
  it('defaults to two seconds and takes a whole number of milliseconds from 100 to 60000', () => {
    expect(loadConfig({}).runtime.processHeartbeatMs).toBe(2000);
    expect(loadConfig({ PROCESS_HEARTBEAT_MS: '500' }).runtime.processHeartbeatMs).toBe(500);
    expect(() => loadConfig({ PROCESS_HEARTBEAT_MS: '99' })).toThrow(
      'Invalid configuration: PROCESS_HEARTBEAT_MS must be between 100 and 60000, got 99',
    );
    expect(() => loadConfig({ PROCESS_HEARTBEAT_MS: '2s' })).toThrow(
      'Invalid configuration: PROCESS_HEARTBEAT_MS must be a whole number, got "2s"',
    );
  });
});

describe('provider URLs in the configuration', () => {
  it('lose the slashes they end with, and only those', () => {
    const config = loadConfig({
      OPENAI_BASE_URL: 'https://gateway.example/v1///',
      ANTHROPIC_BASE_URL: 'https://anthropic.example//v1',
      OPENAI_COMPATIBLE_ENDPOINTS: 'vllm=http://10.0.0.5:8000/v1/,LM-Studio_2=http://127.0.0.1:1234/v1',
    });
    expect(config.models.openai.baseUrl).toBe('https://gateway.example/v1');
    expect(config.models.anthropic.baseUrl).toBe('https://anthropic.example//v1');
    expect(config.models.openaiCompatible).toEqual({
      vllm: { baseUrl: 'http://10.0.0.5:8000/v1', apiKey: undefined },
      'lm-studio_2': { baseUrl: 'http://127.0.0.1:1234/v1', apiKey: undefined },
    });
  });

  it('are refused when they are not http(s) or hold white space', () => {
    expect(() => loadConfig({ OPENAI_BASE_URL: 'ftp://example/v1' })).toThrow('OPENAI_BASE_URL');
    expect(() => loadConfig({ OPENAI_BASE_URL: 'https://exa mple/v1' })).toThrow('OPENAI_BASE_URL');
    expect(() => loadConfig({ OPENAI_COMPATIBLE_ENDPOINTS: '-bad=http://h/v1' })).toThrow(
      'OPENAI_COMPATIBLE_ENDPOINTS',
    );
  });

  it('pick the database by scheme', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@h/db' }).database).toEqual({
      kind: 'postgres',
      connectionString: 'postgresql://u@h/db',
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).database.kind).toBe('postgres');
    expect(() => loadConfig({ DATABASE_URL: 'postgresx://u@h/db' })).toThrow('DATABASE_URL');
  });
});

describe('PARLEY_SECRET_KEY', () => {
  const HEX_32_BYTES = 'a1'.repeat(32);

  it('is unset by default, and is at least 32 bytes of hexadecimal, in either case', () => {
    expect(loadConfig({}).secretKey).toBeUndefined();
    expect(loadConfig({ PARLEY_SECRET_KEY: '  ' }).secretKey).toBeUndefined();
    expect(loadConfig({ PARLEY_SECRET_KEY: HEX_32_BYTES }).secretKey).toEqual(Buffer.alloc(32, 0xa1));
    expect(loadConfig({ PARLEY_SECRET_KEY: ` ${'A1'.repeat(48)}\n` }).secretKey).toEqual(Buffer.alloc(48, 0xa1));
  });

  it('takes PARLEY_SECRET_KEYS=new,old for a rotation: the first is current, the rest retired; never both variables', () => {
    const config = loadConfig({ PARLEY_SECRET_KEYS: ` ${'b2'.repeat(32)} , ${HEX_32_BYTES}` });
    expect(config.secretKey).toEqual(Buffer.alloc(32, 0xb2));
    expect(config.retiredSecretKeys).toEqual([Buffer.alloc(32, 0xa1)]);
    expect(loadConfig({ PARLEY_SECRET_KEY: HEX_32_BYTES }).retiredSecretKeys).toEqual([]);
    expect(() => loadConfig({ PARLEY_SECRET_KEY: HEX_32_BYTES, PARLEY_SECRET_KEYS: HEX_32_BYTES })).toThrow(
      'Invalid configuration: PARLEY_SECRET_KEYS cannot be set together with PARLEY_SECRET_KEY (list the current key first)',
    );
    let message = '';
    try {
      loadConfig({ PARLEY_SECRET_KEYS: `${HEX_32_BYTES},abc` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'Invalid configuration: PARLEY_SECRET_KEYS (entry 2) must be at least 64 hexadecimal characters (32 random bytes, e.g. from `openssl rand -hex 32`); it has an odd length',
    );
  });

  it('keeps the generated key beside the SQLite file, in ./data with PostgreSQL, and nowhere in memory', () => {
    expect(loadConfig({}, '/srv/parley').secretKeyFile).toBe('/srv/parley/data/secret.key');
    expect(loadConfig({ DATABASE_URL: 'sqlite:/var/lib/parley/db.sqlite' }, '/srv').secretKeyFile).toBe(
      '/var/lib/parley/secret.key',
    );
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }, '/srv/parley').secretKeyFile).toBe(
      '/srv/parley/data/secret.key',
    );
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).secretKeyFile).toBeUndefined();
  });

  it('refuses a shorter, odd-length or non-hexadecimal value, naming the variable and never the value', () => {
    const expected = (problem: string) =>
      `Invalid configuration: PARLEY_SECRET_KEY must be at least 64 hexadecimal characters (32 random bytes, e.g. from \`openssl rand -hex 32\`); ${problem}`;
    const cases: [string, string][] = [
      ['a1'.repeat(31), 'it has 62'],
      [`${HEX_32_BYTES}f`, 'it has an odd length'],
      [Buffer.alloc(48, 7).toString('base64url'), 'it holds other characters'],
      [`${HEX_32_BYTES.slice(2)}zz`, 'it holds other characters'],
    ];
    for (const [value, problem] of cases) {
      let message = '';
      try {
        loadConfig({ PARLEY_SECRET_KEY: value });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toBe(expected(problem));
      expect(message).not.toContain(value);
    }
  });
});

describe('STREAM_TOKEN_TTL_SECONDS', () => {
  it('defaults to five minutes and takes a whole number of seconds from 10 to 3600', () => {
    expect(loadConfig({}).streamTokenTtlSeconds).toBe(300);
    expect(loadConfig({ STREAM_TOKEN_TTL_SECONDS: '60' }).streamTokenTtlSeconds).toBe(60);
    expect(() => loadConfig({ STREAM_TOKEN_TTL_SECONDS: '9' })).toThrow(
      'Invalid configuration: STREAM_TOKEN_TTL_SECONDS must be between 10 and 3600, got 9',
    );
    expect(() => loadConfig({ STREAM_TOKEN_TTL_SECONDS: '3601' })).toThrow(
      'Invalid configuration: STREAM_TOKEN_TTL_SECONDS must be between 10 and 3600, got 3601',
    );
  });
});

describe('PUBLIC_URL and MCP_OAUTH_STATE_TTL_SECONDS', () => {
  it('derive the public URL from HOST and PORT when unset, and say so', () => {
    expect(loadConfig({}).mcp.oauth).toEqual({
      publicUrl: 'http://127.0.0.1:8080',
      publicUrlConfigured: false,
      clientMetadataUrl: undefined,
      stateTtlSeconds: 600,
    });
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '9000' }).mcp.oauth.publicUrl).toBe('http://127.0.0.1:9000');
    expect(loadConfig({ HOST: '::1' }).mcp.oauth.publicUrl).toBe('http://[::1]:8080');
  });

  it('take an http(s) URL, with a path prefix, without its trailing slash', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://parley.example.com/' }).mcp.oauth).toMatchObject({
      publicUrl: 'https://parley.example.com',
      publicUrlConfigured: true,
    });
    expect(loadConfig({ PUBLIC_URL: 'https://example.com/parley/' }).mcp.oauth.publicUrl).toBe(
      'https://example.com/parley',
    );
    expect(loadConfig({ MCP_OAUTH_STATE_TTL_SECONDS: '120' }).mcp.oauth.stateTtlSeconds).toBe(120);
  });

  it('refuse other schemes, queries, fragments, credentials and out-of-range TTLs', () => {
    for (const value of [
      'ftp://example.com',
      'https://example.com/?a=1',
      'https://example.com/#x',
      'https://u:p@example.com',
      'not a url',
    ]) {
      expect(() => loadConfig({ PUBLIC_URL: value }), value).toThrow(ConfigError);
    }
    expect(() => loadConfig({ MCP_OAUTH_STATE_TTL_SECONDS: '30' })).toThrow(
      'Invalid configuration: MCP_OAUTH_STATE_TTL_SECONDS must be between 60 and 3600, got 30',
    );
  });

  it('take MCP_OAUTH_CLIENT_METADATA_URL only as an https URL with a path', () => {
    const url = 'https://cdn.example.com/parley/client-metadata.json';
    expect(loadConfig({ MCP_OAUTH_CLIENT_METADATA_URL: url }).mcp.oauth.clientMetadataUrl).toBe(url);
    for (const value of ['http://cdn.example.com/client.json', 'https://cdn.example.com/', 'https://u:p@x.example/c']) {
      expect(() => loadConfig({ MCP_OAUTH_CLIENT_METADATA_URL: value }), value).toThrow(
        `Invalid configuration: MCP_OAUTH_CLIENT_METADATA_URL must be an https:// URL with a path, got "${value}"`,
      );
    }
  });
});

describe('WEBHOOK_* settings', () => {
  it('default to https only, 8 attempts from 30 s backing off to an hour, 10 s per attempt, a 24-hour rotation overlap and a 30-day log', () => {
    expect(loadConfig({}).webhooks).toEqual({
      allowHttp: false,
      maxAttempts: 8,
      backoffMs: 30_000,
      backoffMaxMs: 3_600_000,
      timeoutMs: 10_000,
      secretOverlapHours: 24,
      deliveryRetentionDays: 30,
    });
    const set = loadConfig({
      WEBHOOK_ALLOW_HTTP: '1',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_BACKOFF_MS: '0',
      WEBHOOK_BACKOFF_MAX_MS: '5000',
      WEBHOOK_TIMEOUT_MS: '2500',
      WEBHOOK_SECRET_OVERLAP_HOURS: '0',
      WEBHOOK_DELIVERY_RETENTION_DAYS: '0',
    }).webhooks;
    expect(set).toEqual({
      allowHttp: true,
      maxAttempts: 3,
      backoffMs: 0,
      backoffMaxMs: 5000,
      timeoutMs: 2500,
      secretOverlapHours: 0,
      deliveryRetentionDays: 0,
    });
  });

  it('refuse values out of range or not a flag, naming the variable', () => {
    expect(() => loadConfig({ WEBHOOK_ALLOW_HTTP: 'yes' })).toThrow(
      'Invalid configuration: WEBHOOK_ALLOW_HTTP must be 1 or 0, got "yes"',
    );
    expect(() => loadConfig({ WEBHOOK_MAX_ATTEMPTS: '0' })).toThrow(
      'Invalid configuration: WEBHOOK_MAX_ATTEMPTS must be between 1 and 100, got 0',
    );
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '50' })).toThrow('WEBHOOK_TIMEOUT_MS');
    expect(() => loadConfig({ WEBHOOK_DELIVERY_RETENTION_DAYS: '-1' })).toThrow('WEBHOOK_DELIVERY_RETENTION_DAYS');
  });
});
