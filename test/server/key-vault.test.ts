import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateDataKeys } from '../../server/crypto/reseal.ts';
import { vaultOf } from '../../server/crypto/vault.ts';
import type { Database, Queryable } from '../../server/db/database.ts';
import { freshPglite } from '../helpers/db.ts';
import { seedOrg, type TestOrg } from '../helpers/relay.ts';

// The vault's cache of each org's active data key (server/crypto/vault.ts) must never outlive a
// rotation made in the same process: a send sealing under the old key after the re-seal pass has
// walked past it would leave a text under a key about to be destroyed.
describe('the active data key cache', () => {
  let db: Database;
  let org: TestOrg;

  beforeAll(async () => {
    db = await freshPglite();
    org = await seedOrg(db, { name: 'Acme Dental' });
  });
  afterAll(() => db.close());

  it('a lookup that read the old key before a rotation uses it once and does not cache it', async () => {
    const vault = vaultOf(db);
    const first = await vault.activeKey(db, org.orgId);
    vault.forgetActive(org.orgId);
    // A lookup whose read is answered before the rotation and reaches the vault after it.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let read: () => void = () => {};
    const wasRead = new Promise<void>((resolve) => {
      read = resolve;
    });
    const slow: Queryable = {
      async query<T>(sql: string, params?: readonly unknown[]) {
        const rows = await db.query<T>(sql, params);
        read();
        await held;
        return rows;
      },
    };
    const lookup = vault.activeKey(slow, org.orgId);
    await wasRead;
    const [rotated] = await rotateDataKeys(db, [org.orgId]);
    release();
    expect((await lookup).no).toBe(first.no);

    expect(rotated?.keyNo).toBe(first.no + 1);
    expect((await vault.activeKey(db, org.orgId)).no).toBe(rotated?.keyNo);
  });
});
