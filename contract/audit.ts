import { Type } from 'typebox';
import { Nullable } from './nullable.ts';

/** One entry of the org's hash-chained audit log, as GET /v1/audit and the JSON-lines export give it. */
export const AuditEntry = Type.Object({
  seq: Type.Integer({ description: "The entry's place in its org's chain, from 1" }),
  actor: Type.String({ description: '`user:<id>`, `api-key:<id>`, `cli` or `system`' }),
  actorName: Type.String({ description: "The actor's readable name when the entry was made" }),
  action: Type.String({ description: 'A stable dotted name, e.g. user.role_changed' }),
  target: Nullable(Type.Object({ type: Type.String(), id: Type.String() })),
  occurredAt: Type.String({ format: 'date-time', description: "The relay's clock" }),
  before: Type.Unknown({ description: 'The state before the change, where it applies (else null)' }),
  after: Type.Unknown({ description: 'The state after the change, where it applies (else null)' }),
  detail: Type.Unknown({ description: 'Further facts, by action' }),
  ip: Nullable(Type.String()),
  prevHash: Type.String({ description: "The previous entry's hash (hex SHA-256)" }),
  hash: Type.String({ description: 'SHA-256 over this entry and prevHash' }),
});

export const AuditPage = Type.Object({
  entries: Type.Array(AuditEntry, { description: 'Newest first' }),
  nextCursor: Nullable(Type.String({ description: 'Pass as cursor for the next (older) page' })),
});

/** Filters of the audit list and export; malformed ones are 400 INVALID_FILTER. */
export const AuditFilterQuery = {
  from: Type.Optional(Type.String({ description: 'ISO 8601 instant, inclusive' })),
  to: Type.Optional(Type.String({ description: 'ISO 8601 instant, exclusive' })),
  actor: Type.Optional(Type.String({ description: 'Exactly, e.g. user:<id> or cli' })),
  action: Type.Optional(Type.String({ description: 'Exactly, or a prefix ending in a dot (auth.)' })),
};

export const AuditQuery = Type.Object(
  {
    ...AuditFilterQuery,
    cursor: Type.Optional(Type.String()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);

export const AuditExportQuery = Type.Object(
  { ...AuditFilterQuery, format: Type.Optional(Type.String({ description: 'csv (default) or jsonl' })) },
  { additionalProperties: false },
);

/** Whether the org's audit chain is whole (GET /v1/audit/verify), as `npm run cli -- audit verify` says it. */
export const AuditVerdict = Type.Object(
  {
    entries: Type.Integer({ description: 'Entries checked' }),
    headHash: Nullable(Type.String({ description: "The last entry's hash; null for an empty log" })),
    intact: Type.Boolean({
      description: 'Every entry follows the one before and the chain ends at its recorded head',
    }),
    broken: Nullable(
      Type.Object({
        seq: Type.Integer({ description: 'The first entry that does not follow' }),
        problem: Type.Union([
          Type.Literal('missing'),
          Type.Literal('duplicate'),
          Type.Literal('out_of_order'),
          Type.Literal('edited'),
          Type.Literal('beyond_head'),
          Type.Literal('head_mismatch'),
        ]),
        message: Type.String(),
      }),
    ),
  },
  { description: "The verdict on the org's audit chain" },
);
