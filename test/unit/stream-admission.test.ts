import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { StreamAdmission, tenantOf } from '../../src/http/stream-admission.js';

const user = (keyId: string, organizationId = 'org-1') =>
  tenantOf({ kind: 'user', organizationId, userId: 'user-1', keyId, scopes: ['read'] });
const anonymous = (anonymousUserId: string) =>
  tenantOf({ kind: 'anonymous', organizationId: 'org-1', anonymousUserId, scopes: ['read'] });

function refusal(admit: () => void): { code: string; message: string; headers: unknown } | null {
  try {
    admit();
    return null;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { code: error.code, message: error.message, headers: error.headers };
  }
}

describe('StreamAdmission', () => {
  it('0 means no limit, per key and per organisation', () => {
    const admission = new StreamAdmission<number>({ maxPerKey: 0, maxPerOrganization: 0 });
    for (let slot = 0; slot < 5000; slot += 1) admission.admit(user('key-1'), slot);
    expect(admission.size).toBe(5000);
    expect(admission.keyIds()).toEqual(['key-1']);
  });

  it('counts an end user of a widget per user, never as a key, and releases each slot once', () => {
    const admission = new StreamAdmission<string>({ maxPerKey: 1, maxPerOrganization: 3 });
    admission.admit(anonymous('visitor-1'), 'a');
    expect(refusal(() => admission.admit(anonymous('visitor-1'), 'b'))).toMatchObject({ code: 'too_many_streams' });
    admission.admit(anonymous('visitor-2'), 'c');
    admission.admit(user('key-1'), 'd');
    expect(admission.keyIds()).toEqual(['key-1']);
    expect(admission.slotsOfKey('anonymous:visitor-1')).toEqual([]);
    expect(admission.slotsOfKey('key-1')).toEqual(['d']);
    expect(refusal(() => admission.admit(user('key-2'), 'e'))).toEqual({
      code: 'too_many_streams',
      message: 'This organisation has 3 open event streams, the most it may hold; close one before opening another.',
      headers: { 'retry-after': '5' },
    });
    // Another organisation has its own count.
    admission.admit(user('key-3', 'org-2'), 'f');

    admission.release(anonymous('visitor-1'), 'a');
    admission.release(anonymous('visitor-1'), 'a');
    expect(admission.size).toBe(3);
    admission.admit(user('key-2'), 'e');
    expect(admission.size).toBe(4);
    for (const [tenant, slot] of [
      [anonymous('visitor-2'), 'c'],
      [user('key-1'), 'd'],
      [user('key-2'), 'e'],
      [user('key-3', 'org-2'), 'f'],
    ] as const)
      admission.release(tenant, slot);
    expect(admission.size).toBe(0);
    expect(admission.keyIds()).toEqual([]);
  });
});
