import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

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
