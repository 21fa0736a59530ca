import { describe, expect, it } from 'vitest';
import type { NewApiKey } from '../../../src/domain/models.js';
import { at, newestFirst, randomId, uniqueName, type ContractFixture } from './fixtures.js';

function apiKeyInput(input: { organizationId: string; userId: string } & Partial<NewApiKey>): NewApiKey {
  const { organizationId, userId, ...overrides } = input;
  return {
    id: randomId(),
    organization_id: organizationId,
    user_id: userId,
    name: 'contract key',
    key_hash: randomId().replaceAll('-', ''),
    last_four: 'abcd',
    scopes: ['read', 'write'],
    created_at: at(0),
    expires_at: null,
    ...overrides,
  };
}

export function describeAccountCases(fixture: ContractFixture): void {
  describe('organisations and users', () => {
    it('ensure finds an organisation by name instead of creating it twice', async () => {
      const { store } = fixture;
      const name = uniqueName('ensure');
      const firstId = randomId();
      const first = await store.write((writers) => writers.organizations.ensure({ id: firstId, name, now: at(1) }));
      expect(first).toEqual({ id: firstId, name, created_at: at(1) });
      const again = await store.write((writers) => writers.organizations.ensure({ id: randomId(), name, now: at(2) }));
      expect(again).toEqual(first);
      // Within one unit the second call sees the first one's uncommitted row.
      const otherName = uniqueName('ensure');
      const [inner, innerAgain] = await store.write(async (writers) => [
        await writers.organizations.ensure({ id: randomId(), name: otherName, now: at(3) }),
        await writers.organizations.ensure({ id: randomId(), name: otherName, now: at(4) }),
      ]);
      expect(innerAgain).toEqual(inner);

      expect(await store.organizations.findByName(name)).toEqual(first);
      expect(await store.organizations.findById(firstId)).toEqual(first);
      expect(await store.organizations.findById(randomId())).toBeNull();
      expect(await store.organizations.findByName(uniqueName('missing'))).toBeNull();
      expect(await store.organizations.count()).toBeGreaterThanOrEqual(2);
    });

    it('ensureUser finds a user by name within its organisation only', async () => {
      const { store } = fixture;
      const first = await fixture.newOrganization();
      const second = await fixture.newOrganization();
      const ensureAnn = (organizationId: string, now: string) =>
        store.write((writers) =>
          writers.organizations.ensureUser({ id: randomId(), organizationId, name: 'ann', now }),
        );
      const ann = await ensureAnn(first.organizationId, at(1));
      expect(await ensureAnn(first.organizationId, at(2))).toEqual(ann);
      const otherAnn = await ensureAnn(second.organizationId, at(3));
      expect(otherAnn.id).not.toBe(ann.id);
      expect(otherAnn.organization_id).toBe(second.organizationId);

      expect(await store.organizations.findUser(first.organizationId, 'ann')).toEqual(ann);
      expect(await store.organizations.getUser({ organizationId: first.organizationId, id: ann.id })).toEqual(ann);
      expect(await store.organizations.findUser(first.organizationId, 'bob')).toBeNull();
    });
  });

  describe('api keys', () => {
    it('inserts keys, finds the credential by id and lists them per organisation, newest first', async () => {
      const { store } = fixture;
      const owner = await fixture.newOrganization();
      const other = await fixture.newOrganization();
      // Two keys in the same millisecond: the id breaks the tie.
      const keys = [
        apiKeyInput({ ...owner, created_at: at(5) }),
        apiKeyInput({ ...owner, created_at: at(5), scopes: ['read'] }),
        apiKeyInput({ ...owner, created_at: at(1), scopes: ['read', 'write', 'admin'], expires_at: at(9_999) }),
      ];
      const otherKey = apiKeyInput(other);
      const inserted = await store.write(async (writers) => {
        const results = [];
        for (const key of [...keys, otherKey]) results.push(await writers.apiKeys.insert(key));
        return results;
      });
      expect(inserted[0]).toEqual({
        id: keys[0]!.id,
        organization_id: owner.organizationId,
        user_id: owner.userId,
        name: 'contract key',
        prefix: `pk_${keys[0]!.id.replaceAll('-', '')}_`,
        last_four: 'abcd',
        scopes: ['read', 'write'],
        created_at: at(5),
        expires_at: null,
        revoked_at: null,
      });

      const credential = await store.apiKeys.findCredential(keys[2]!.id);
      expect(credential).toEqual({
        id: keys[2]!.id,
        organization_id: owner.organizationId,
        user_id: owner.userId,
        key_hash: keys[2]!.key_hash,
        scopes: ['read', 'write', 'admin'],
        expires_at: at(9_999),
        revoked_at: null,
      });
      expect(await store.apiKeys.findCredential(randomId())).toBeNull();
      // Many at once, across organisations and past one query's worth of ids; unknown ids are left out.
      const many = [keys[2]!.id, randomId(), otherKey.id, ...Array.from({ length: 600 }, randomId), keys[0]!.id];
      const found = await store.apiKeys.findCredentials(many);
      expect(found.map((key) => key.id).sort()).toEqual([keys[0]!.id, keys[2]!.id, otherKey.id].sort());
      expect(found.find((key) => key.id === keys[2]!.id)).toEqual(credential);
      expect(await store.apiKeys.findCredentials([])).toEqual([]);

      const listed = await store.apiKeys.list({ organizationId: owner.organizationId });
      expect(listed.map((key) => key.id)).toEqual(newestFirst(keys));
      expect(listed.find((key) => key.id === keys[0]!.id)).toEqual(inserted[0]);
      for (const key of listed) expect(key).not.toHaveProperty('key_hash');
      expect((await store.apiKeys.list({ organizationId: other.organizationId })).map((key) => key.id)).toEqual([
        otherKey.id,
      ]);
      expect(await store.apiKeys.get({ organizationId: owner.organizationId, id: keys[1]!.id })).toEqual(inserted[1]);
    });

    it('revokes a key once: a second revocation keeps the first time', async () => {
      const { store } = fixture;
      const owner = await fixture.newOrganization();
      const key = apiKeyInput(owner);
      await store.write((writers) => writers.apiKeys.insert(key));
      const revoke = (organizationId: string | null, now: string) =>
        store.write((writers) => writers.apiKeys.revoke({ organizationId, id: key.id, now }));

      expect(await revoke(owner.organizationId, at(10))).toMatchObject({ id: key.id, revoked_at: at(10) });
      expect(await revoke(owner.organizationId, at(20))).toMatchObject({ id: key.id, revoked_at: at(10) });
      expect((await store.apiKeys.findCredential(key.id))?.revoked_at).toBe(at(10));
      expect(
        await store.write((writers) => writers.apiKeys.revoke({ organizationId: null, id: randomId(), now: at(1) })),
      ).toBeNull();

      // The operator's CLI revokes without naming the organisation.
      const cliKey = apiKeyInput(owner);
      await store.write((writers) => writers.apiKeys.insert(cliKey));
      const revoked = await store.write((writers) =>
        writers.apiKeys.revoke({ organizationId: null, id: cliKey.id, now: at(40) }),
      );
      expect(revoked).toMatchObject({ id: cliKey.id, organization_id: owner.organizationId, revoked_at: at(40) });
      const everyKey = await store.apiKeys.listAll();
      expect(everyKey.find((key) => key.id === cliKey.id)).toMatchObject({ revoked_at: at(40) });
    });
  });
}
