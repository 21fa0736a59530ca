import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import type { IdempotencyRecord } from '../../../src/domain/models.js';
import { IDEMPOTENCY_TTL_MS } from '../../../src/storage/store.js';
import { agentInput, at, randomId, threadInput, type ContractFixture } from './fixtures.js';

function idempotencyInput(
  input: Partial<IdempotencyRecord> & { organization_id: string; key: string },
): IdempotencyRecord {
  return {
    fingerprint: 'fingerprint',
    status_code: 200,
    body: {},
    created_at: at(0),
    expires_at: at(60),
    ...input,
  };
}

class UnitFailure extends Error {}

export function describeWriteCases(fixture: ContractFixture): void {
  describe('idempotency records', () => {
    it('records a live key once per organisation', async () => {
      const { store } = fixture;
      const first = await fixture.newOrganization();
      const second = await fixture.newOrganization();
      const key = `key-${randomId()}`;
      const record = (input: IdempotencyRecord) => store.write((writers) => writers.idempotency.record(input));

      expect(await record(idempotencyInput({ organization_id: first.organizationId, key, body: { n: 1 } }))).toBe(true);
      expect(
        await record(
          idempotencyInput({ organization_id: first.organizationId, key, created_at: at(30), body: { n: 2 } }),
        ),
      ).toBe(false);
      expect(await record(idempotencyInput({ organization_id: second.organizationId, key, body: { n: 3 } }))).toBe(
        true,
      );

      const find = (organizationId: string) => store.idempotency.find({ organizationId, key, now: at(59) });
      // The first record stands, its body encoded as JSON text once.
      expect(await find(first.organizationId)).toEqual({
        fingerprint: 'fingerprint',
        status_code: 200,
        response_json: '{"n":1}',
      });
      expect((await find(second.organizationId))?.response_json).toBe('{"n":3}');
      expect(await store.idempotency.find({ organizationId: first.organizationId, key, now: at(60) })).toBeNull();
      expect(
        await store.idempotency.find({ organizationId: first.organizationId, key: 'other', now: at(1) }),
      ).toBeNull();
    });

    it('ignores an expired record when finding, and replaces it when recording', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const key = `key-${randomId()}`;
      const record = (input: IdempotencyRecord) => store.write((writers) => writers.idempotency.record(input));
      expect(await record(idempotencyInput({ organization_id: organizationId, key, expires_at: at(60) }))).toBe(true);
      expect(await store.idempotency.find({ organizationId, key, now: at(59) })).not.toBeNull();
      expect(await store.idempotency.find({ organizationId, key, now: at(60) })).toBeNull();
      expect(await store.idempotency.find({ organizationId, key, now: at(61) })).toBeNull();

      const replacement = idempotencyInput({
        organization_id: organizationId,
        key,
        fingerprint: 'second',
        body: { second: true },
        created_at: at(61),
        expires_at: at(121),
      });
      expect(await record(replacement)).toBe(true);
      expect(await store.idempotency.find({ organizationId, key, now: at(62) })).toEqual({
        fingerprint: 'second',
        status_code: 200,
        response_json: '{"second":true}',
      });
      expect(await store.idempotency.find({ organizationId, key, now: at(121) })).toBeNull();
    });

    it('write() records the replay body in the unit’s transaction and refuses a live key', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const now = new Date(at(0));
      const claim = { organizationId, key: `key-${randomId()}`, fingerprint: 'create', now };
      const agent = agentInput(organizationId);
      const created = await store.write((writers) => writers.agents.insert(agent), {
        idempotency: claim,
        replayBody: (inserted) => ({ id: inserted.id, replayed: true }),
      });
      expect(created.id).toBe(agent.id);
      expect(await store.idempotency.find({ organizationId, key: claim.key, now: at(1) })).toEqual({
        fingerprint: 'create',
        status_code: 200,
        response_json: JSON.stringify({ id: agent.id, replayed: true }),
      });
      // Kept for IDEMPOTENCY_TTL_MS from the claim's time, to the millisecond.
      const expiresAtMs = now.getTime() + IDEMPOTENCY_TTL_MS;
      const findAt = (ms: number) =>
        store.idempotency.find({ organizationId, key: claim.key, now: new Date(ms).toISOString() });
      expect(await findAt(expiresAtMs - 1)).not.toBeNull();
      expect(await findAt(expiresAtMs)).toBeNull();

      // The same key again: the unit's own writes are rolled back with the refusal.
      const second = agentInput(organizationId);
      const refused = store.write((writers) => writers.agents.insert(second), { idempotency: claim });
      await expect(refused).rejects.toBeInstanceOf(AppError);
      await expect(refused).rejects.toMatchObject({ code: 'idempotency_key_in_flight' });
      expect(await store.agents.get({ organizationId, id: second.id })).toBeNull();
      expect((await store.idempotency.find({ organizationId, key: claim.key, now: at(1) }))?.fingerprint).toBe(
        'create',
      );
    });

    it('a unit that throws after writing leaves neither its rows nor its record', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agent = agentInput(organizationId);
      const key = `key-${randomId()}`;
      const failing = store.write(async (writers) => {
        await writers.agents.insert(agent);
        expect(await writers.idempotency.record(idempotencyInput({ organization_id: organizationId, key }))).toBe(true);
        throw new UnitFailure('after writing');
      });
      await expect(failing).rejects.toBeInstanceOf(UnitFailure);

      const claimed = store.write(
        async (writers) => {
          await writers.agents.insert(agentInput(organizationId, { id: randomId() }));
          throw new UnitFailure('before the record');
        },
        { idempotency: { organizationId, key: `${key}-claimed`, fingerprint: 'f', now: new Date(at(0)) } },
      );
      await expect(claimed).rejects.toBeInstanceOf(UnitFailure);

      expect(await store.agents.get({ organizationId, id: agent.id })).toBeNull();
      expect(await store.agents.list({ organizationId, limit: 10, offset: 0 })).toEqual([]);
      for (const missing of [key, `${key}-claimed`]) {
        expect(await store.idempotency.find({ organizationId, key: missing, now: at(1) })).toBeNull();
      }
      // Nothing was left behind to block a corrected retry.
      expect(
        await store.write((writers) =>
          writers.idempotency.record(idempotencyInput({ organization_id: organizationId, key })),
        ),
      ).toBe(true);
    });
  });

  describe('write units', () => {
    it('readers see a unit’s writes only once it has committed', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agent = agentInput(organizationId);
      const seenInside = await store.write(async (writers) => {
        await writers.agents.insert(agent);
        return store.agents.get({ organizationId, id: agent.id });
      });
      expect(seenInside).toBeNull();
      expect(await store.agents.get({ organizationId, id: agent.id })).not.toBeNull();
    });

    it('a failing unit rolls back alone while concurrent units commit', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agents = Array.from({ length: 20 }, () => agentInput(organizationId));
      const settled = await Promise.allSettled(
        agents.map((agent, index) =>
          store.write(async (writers) => {
            await writers.agents.insert(agent);
            if (index % 5 === 4) throw new UnitFailure(`unit ${index}`);
            return agent.id;
          }),
        ),
      );
      const rejected = settled.flatMap((outcome, index) => (outcome.status === 'rejected' ? [index] : []));
      expect(rejected).toEqual([4, 9, 14, 19]);
      for (const index of rejected) {
        expect((settled[index] as PromiseRejectedResult).reason).toBeInstanceOf(UnitFailure);
      }
      const expected = agents.filter((_, index) => index % 5 !== 4).map((agent) => agent.id);
      expect(settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []))).toEqual(expected);
      const listed = await store.agents.list({ organizationId, limit: 100, offset: 0 });
      expect(listed.map((agent) => agent.id).sort()).toEqual([...expected].sort());
    });

    it('200 concurrent thread inserts all land, with unique ids', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const threads = Array.from({ length: 200 }, (_, index) =>
        threadInput({ organizationId, agentId: agent.id, created_at: at(index % 7) }),
      );
      const inserted = await Promise.all(
        threads.map((thread) => store.write((writers) => writers.threads.insert(thread))),
      );
      expect(inserted.every(Boolean)).toBe(true);
      const listed = await store.threads.list({ organizationId, agentId: agent.id, limit: 1000, offset: 0 });
      expect(listed).toHaveLength(200);
      expect(new Set(listed.map((thread) => thread.id)).size).toBe(200);
      expect(new Set(listed.map((thread) => thread.id))).toEqual(new Set(threads.map((thread) => thread.id)));
    });
  });
}
