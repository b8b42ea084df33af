import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBoundaries, describeViolation, findCycles, readImportGraph } from './import-boundaries.js';

const root = resolve(__dirname, '../..');
const graph = readImportGraph(root, ['contract', 'server', 'crm-plugins', 'extension']);

describe('import boundaries', () => {
  it("finds the source tree's imports", () => {
    expect(graph.length).toBeGreaterThan(100);
  });

  it('no file crosses a layer boundary', () => {
    expect(checkBoundaries(graph).map(describeViolation)).toEqual([]);
  });

  it('server, crm-plugins and extension/lib hold no import cycle', () => {
    const cycles = findCycles(graph, ['server/', 'crm-plugins/', 'extension/lib/']).map((cycle) =>
      cycle.join(' -> '),
    );
    expect(cycles).toEqual([]);
  });

  it('fails on a deliberately forbidden import, naming the file, the import and the rule', () => {
    const lines = checkBoundaries([
      { from: 'crm-plugins/hubspot/index.ts', to: 'server/db/pool.ts' },
      { from: 'server/compliance/quiet-hours.ts', to: 'pg' },
      { from: 'server/routes/send.ts', to: 'plivo' },
      { from: 'extension/entrypoints/crm.content.ts', to: 'extension/lib/helper.ts' },
      { from: 'extension/lib/helper.ts', to: 'extension/lib/store/panel-db.ts' },
      { from: 'server/config.ts', to: 'server/crypto/secrets.ts' },
      { from: 'server/crypto/secrets.ts', to: 'server/db/database.ts' },
      { from: 'contract/messages.ts', to: 'server/stores/messages.ts' },
    ]).map(describeViolation);
    expect(lines).toEqual([
      'crm-plugins/hubspot/index.ts imports server/db/pool.ts: breaks "crm-plugins never import server"',
      'server/compliance/quiet-hours.ts imports pg: breaks "compliance rules stay pure: no database or HTTP"',
      'server/routes/send.ts imports plivo: breaks "vendor SDK plivo is imported only by server/providers/plivo.ts"',
      'contract/messages.ts imports server/stores/messages.ts: breaks "the wire contract imports only typebox and itself"',
      'extension/lib/helper.ts imports extension/lib/store/panel-db.ts: breaks "content script extension/entrypoints/crm.content.ts never reaches tokens or Dexie"',
      'server/crypto/secrets.ts imports server/db/database.ts: breaks "config.ts stays pure: it never reaches the database"',
    ]);
  });

  it('reports a deliberate import cycle', () => {
    const cycles = findCycles(
      [
        { from: 'crm-plugins/sandbox/index.ts', to: 'crm-plugins/sandbox/mapping.ts' },
        { from: 'crm-plugins/sandbox/mapping.ts', to: 'crm-plugins/sandbox/index.ts' },
      ],
      ['crm-plugins/'],
    );
    expect(cycles).toEqual([['crm-plugins/sandbox/index.ts', 'crm-plugins/sandbox/mapping.ts']]);
  });
});
