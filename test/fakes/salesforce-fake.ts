/**
 * A contract-faithful Salesforce REST API (v62.0) on 127.0.0.1: SOQL (a real parser for the
 * subset the relay uses, so escaping is exercised end to end), SOSL `IN PHONE FIELDS`, sObject
 * rows and collections (create/update/upsert on an external id), Tooling CustomField, errors as
 * JSON arrays, `Sforce-Limit-Info` on every answer, Task's create-only restricted TaskSubtype and
 * defaulted Status/Priority, Opportunities, field lengths, lookups that must point at a real record. Driven by the
 * real @salesforce/core.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Value = string | number | boolean | null;
type Row = Record<string, Value>;

interface FieldDef {
  type: 'id' | 'string' | 'picklist' | 'datetime' | 'date' | 'boolean' | 'reference' | 'double';
  custom: boolean;
  readOnly?: boolean;
  picklist?: string[];
  externalId?: boolean;
  unique?: boolean;
  /** Settable on insert only (Salesforce's "Create" without "Update"), e.g. Task.TaskSubtype. */
  createOnly?: boolean;
  /** Longer strings fail with STRING_TOO_LONG. */
  maxLength?: number;
}

export interface FakeCall {
  method: string;
  path: string;
  status: number;
}

export type SalesforceFault =
  | { kind: 'request_limit'; daily: boolean }
  | { kind: 'server_error'; status: 500 | 503 }
  | { kind: 'expired_session' };

const PREFIX: Record<string, string> = {
  Contact: '003',
  Lead: '00Q',
  Task: '00T',
  Opportunity: '006',
  User: '005',
  PermissionSet: '0PS',
  FieldPermissions: '01k',
  CustomField: '00N',
};

const std = (type: FieldDef['type'], readOnly = false): FieldDef => ({ type, custom: false, readOnly });

/** Values a field gets on insert when the request leaves it out ("Defaulted on create"). */
const DEFAULTS: Record<string, Row> = {
  Task: { Status: 'Not Started', Priority: 'Normal' },
  User: { IsActive: true },
};

function standardSchema(): Record<string, Map<string, FieldDef>> {
  const audit: [string, FieldDef][] = [
    ['Id', std('id', true)],
    ['CreatedDate', std('datetime', true)],
    ['LastModifiedDate', std('datetime', true)],
    ['SystemModstamp', std('datetime', true)],
  ];
  return {
    Contact: new Map([
      ...audit,
      ['FirstName', std('string')],
      ['LastName', std('string')],
      ['Name', std('string', true)],
      ['Phone', std('string')],
      ['MobilePhone', std('string')],
      ['HomePhone', std('string')],
      ['OtherPhone', std('string')],
      ['Email', std('string')],
      ['OwnerId', std('reference')],
    ]),
    Lead: new Map([
      ...audit,
      ['FirstName', std('string')],
      ['LastName', std('string')],
      ['Name', std('string', true)],
      ['Company', std('string')],
      ['Phone', std('string')],
      ['MobilePhone', std('string')],
      ['Email', std('string')],
      ['OwnerId', std('reference')],
    ]),
    Task: new Map([
      ...audit,
      ['WhoId', std('reference')],
      ['WhatId', std('reference')],
      ['Subject', { ...std('string'), maxLength: 255 }],
      ['Description', { ...std('string'), maxLength: 32_000 }],
      [
        'TaskSubtype',
        {
          type: 'picklist',
          custom: false,
          createOnly: true,
          picklist: ['Task', 'Email', 'ListEmail', 'Cadence', 'Call', 'LinkedIn'],
        },
      ],
      ['Status', std('string')],
      ['Priority', std('string')],
      ['ActivityDate', std('date')],
      ['OwnerId', std('reference')],
    ]),
    Opportunity: new Map([
      ...audit,
      ['Name', { ...std('string'), maxLength: 120 }],
      ['StageName', std('string')],
      ['CloseDate', std('date')],
      ['Amount', std('double')],
      ['OwnerId', std('reference')],
    ]),
    User: new Map([
      ...audit,
      ['Email', std('string')],
      ['Name', std('string')],
      ['IsActive', std('boolean')],
    ]),
    PermissionSet: new Map([
      ...audit,
      ['Name', std('string')],
      ['Label', std('string')],
      ['Description', std('string')],
    ]),
    FieldPermissions: new Map([
      ...audit,
      ['ParentId', std('reference')],
      ['SobjectType', std('string')],
      ['Field', std('string')],
      ['PermissionsRead', std('boolean')],
      ['PermissionsEdit', std('boolean')],
    ]),
  };
}

class SfHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}
const malformed = (message: string) => new SfHttpError(400, 'MALFORMED_QUERY', message);

/* ------------------------------ SOQL parsing ------------------------------ */

type Token =
  | { t: 'word'; v: string }
  | { t: 'string'; v: string }
  | { t: 'number'; v: number }
  | { t: 'datetime'; v: number }
  | { t: 'op'; v: string }
  | { t: 'punct'; v: string };

const ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  _: '\\_',
  '%': '\\%',
};

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= q.length) throw malformed('unterminated string literal');
        const d = q[i] as string;
        if (d === '\\') {
          const e = q[i + 1] ?? '';
          const mapped = ESCAPES[e];
          if (mapped === undefined) throw malformed(`Invalid string literal: bad escape \\${e}`);
          v += mapped;
          i += 2;
        } else if (d === "'") {
          i++;
          break;
        } else {
          v += d;
          i++;
        }
      }
      out.push({ t: 'string', v });
    } else if (/\d/.test(c)) {
      const m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})/.exec(q.slice(i));
      if (m) {
        out.push({ t: 'datetime', v: Date.parse(m[0].replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) });
        i += m[0].length;
      } else {
        const n = /^\d+(\.\d+)?/.exec(q.slice(i))?.[0] ?? c;
        out.push({ t: 'number', v: Number(n) });
        i += n.length;
      }
    } else if (/[A-Za-z_]/.test(c)) {
      const w = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(q.slice(i))?.[0] ?? c;
      out.push({ t: 'word', v: w });
      i += w.length;
    } else if (c === '!' || c === '<' || c === '>' || c === '=') {
      const two = q.slice(i, i + 2);
      const op = ['!=', '<=', '>=', '<>'].includes(two) ? two : c;
      if (op === '!') throw malformed('unexpected !');
      out.push({ t: 'op', v: op });
      i += op.length;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ t: 'punct', v: c });
      i++;
    } else {
      throw malformed(`unexpected token: ${c}`);
    }
  }
  return out;
}

type Cond =
  | { kind: 'cmp'; field: string; op: string; value: Value | number[] | string[] }
  | { kind: 'and'; left: Cond; right: Cond }
  | { kind: 'or'; left: Cond; right: Cond };

interface Soql {
  fields: string[];
  object: string;
  where: Cond | null;
  orderBy: { field: string; desc: boolean }[];
  limit: number | null;
}

function parseSoql(q: string): Soql {
  const tokens = tokenize(q);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => {
    const tok = tokens[pos++];
    if (tok === undefined) throw malformed('unexpected end of query');
    return tok;
  };
  const isWord = (tok: Token | undefined, w: string) => tok?.t === 'word' && tok.v.toUpperCase() === w;
  const expectWord = (w: string) => {
    if (!isWord(next(), w)) throw malformed(`expected ${w}`);
  };
  expectWord('SELECT');
  const fields: string[] = [];
  for (;;) {
    const f = next();
    if (f.t !== 'word') throw malformed('expected a field');
    fields.push(f.v);
    if (peek()?.t === 'punct' && peek()?.v === ',') pos++;
    else break;
  }
  expectWord('FROM');
  const obj = next();
  if (obj.t !== 'word') throw malformed('expected an object');
  const value = (): Value | number[] | string[] => {
    const tok = next();
    if (tok.t === 'string') return tok.v;
    if (tok.t === 'number' || tok.t === 'datetime') return tok.v;
    if (tok.t === 'word' && ['TRUE', 'FALSE'].includes(tok.v.toUpperCase()))
      return tok.v.toUpperCase() === 'TRUE';
    if (tok.t === 'word' && tok.v.toUpperCase() === 'NULL') return null;
    if (tok.t === 'punct' && tok.v === '(') {
      const list: (string | number)[] = [];
      for (;;) {
        const item = next();
        if (item.t !== 'string' && item.t !== 'number') throw malformed('bad IN list');
        list.push(item.v);
        const sep = next();
        if (sep.t === 'punct' && sep.v === ')') break;
        if (!(sep.t === 'punct' && sep.v === ',')) throw malformed('bad IN list');
      }
      return list as string[];
    }
    throw malformed(`unexpected value ${JSON.stringify(tok)}`);
  };
  const primary = (): Cond => {
    if (peek()?.t === 'punct' && peek()?.v === '(') {
      pos++;
      const inner = orExpr();
      const close = next();
      if (!(close.t === 'punct' && close.v === ')')) throw malformed('expected )');
      return inner;
    }
    const field = next();
    if (field.t !== 'word') throw malformed('expected a field in WHERE');
    let op: string;
    const tok = next();
    if (tok.t === 'op') op = tok.v === '<>' ? '!=' : tok.v;
    else if (isWord(tok, 'IN')) op = 'IN';
    else if (isWord(tok, 'LIKE')) op = 'LIKE';
    else if (isWord(tok, 'NOT') && isWord(peek(), 'IN')) {
      pos++;
      op = 'NOT IN';
    } else throw malformed('expected an operator');
    return { kind: 'cmp', field: field.v, op, value: value() };
  };
  const andExpr = (): Cond => {
    let left = primary();
    while (isWord(peek(), 'AND')) {
      pos++;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  const orExpr = (): Cond => {
    let left = andExpr();
    while (isWord(peek(), 'OR')) {
      pos++;
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  };
  let where: Cond | null = null;
  if (isWord(peek(), 'WHERE')) {
    pos++;
    where = orExpr();
  }
  const orderBy: Soql['orderBy'] = [];
  if (isWord(peek(), 'ORDER')) {
    pos++;
    expectWord('BY');
    for (;;) {
      const f = next();
      if (f.t !== 'word') throw malformed('expected ORDER BY field');
      let desc = false;
      if (isWord(peek(), 'ASC')) pos++;
      else if (isWord(peek(), 'DESC')) {
        pos++;
        desc = true;
      }
      orderBy.push({ field: f.v, desc });
      if (peek()?.t === 'punct' && peek()?.v === ',') pos++;
      else break;
    }
  }
  let limit: number | null = null;
  if (isWord(peek(), 'LIMIT')) {
    pos++;
    const n = next();
    if (n.t !== 'number') throw malformed('LIMIT needs a number');
    limit = n.v;
  }
  if (pos !== tokens.length) throw malformed(`unexpected token after query: ${JSON.stringify(tokens[pos])}`);
  return { fields, object: obj.v, where, orderBy, limit };
}

/* ------------------------------ the fake ------------------------------ */

export interface SalesforceFake {
  /** Instance URL for the Connection. */
  readonly instanceUrl: string;
  /** The token currently accepted (a refresh replaces it). */
  readonly accessToken: string;
  /** How many tokens POST /services/oauth2/token has issued. */
  readonly refreshes: number;
  /** A single-use web-server-flow code (grant_type=authorization_code) for this redirect URI. */
  issueAuthCode(redirectUri: string): string;
  readonly calls: FakeCall[];
  callCount(filter?: (c: FakeCall) => boolean): number;
  resetCalls(): void;
  addRecord(type: 'Contact' | 'Lead' | 'User' | 'Opportunity', fields: Row): string;
  /** Edits a record as a Salesforce user would (bumps SystemModstamp). */
  setField(type: 'Contact' | 'Lead', id: string, field: string, value: Value): void;
  record(type: string, id: string): Row | undefined;
  records(type: string): Row[];
  customFieldNames(): string[];
  injectFaults(faults: SalesforceFault[], match?: (method: string, path: string) => boolean): void;
  expireSession(): void;
  renewSession(): void;
  /** The next Task upsert refuses these external ids (per-row failure in a 200 answer). */
  failNextTasksFor(keys: readonly string[]): void;
  close(): Promise<void>;
}

export async function startSalesforceFake(
  options: {
    accessToken?: string;
    apiVersion?: string;
    /** Connected-app credentials POST /services/oauth2/token accepts (grant_type=refresh_token). */
    oauth?: { clientId: string; clientSecret: string; refreshToken: string };
  } = {},
): Promise<SalesforceFake> {
  let accessToken = options.accessToken ?? '00Dxx0000000001!AQ4AQFakeAccessTokenForTests';
  let refreshes = 0;
  const authCodes = new Map<string, string>();
  const REFRESH_TOKEN_OF_CODE = '5Aep861FakeRefreshTokenFromCode';
  const version = options.apiVersion ?? '62.0';
  const calls: FakeCall[] = [];
  const schema = standardSchema();
  const data: Record<string, Map<string, Row>> = {};
  for (const type of Object.keys(schema)) data[type] = new Map();
  const customFields = new Map<string, Row>();
  const cursors = new Map<string, { records: unknown[]; offset: number }>();
  const faults: { fault: SalesforceFault; match: (m: string, p: string) => boolean }[] = [];
  let expired = false;
  let failTaskKeys = new Set<string>();
  let counter = 0;
  let lastStamp = 0;
  let apiUsed = 0;

  const newId = (type: string) => {
    counter++;
    const body = counter.toString(36).toUpperCase().padStart(7, '0');
    return `${PREFIX[type] ?? '0XX'}5g00000${body}AAA`.slice(0, 18);
  };
  const stamp = () => {
    lastStamp = Math.max(Date.now(), lastStamp + 1);
    return lastStamp;
  };
  const sfDate = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');
  const table = (type: string) => {
    const t = data[type];
    const s = schema[type];
    if (t === undefined || s === undefined) {
      throw new SfHttpError(404, 'NOT_FOUND', `The requested resource does not exist`);
    }
    return { rows: t, fields: s };
  };
  const fieldOf = (type: string, name: string) => {
    const { fields } = table(type);
    for (const [key, def] of fields) if (key.toLowerCase() === name.toLowerCase()) return { key, def };
    return null;
  };

  const coerce = (type: string, name: string, raw: unknown, mode: 'insert' | 'update'): [string, Value] => {
    const found = fieldOf(type, name);
    if (found === null)
      throw new SfHttpError(400, 'INVALID_FIELD', `No such column '${name}' on sobject of type ${type}`);
    const { key, def } = found;
    if (def.readOnly || (def.createOnly && mode === 'update')) {
      throw new SfHttpError(
        400,
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${key}. Please check the security settings of this field.`,
      );
    }
    if (raw === null || raw === undefined || raw === '') return [key, null];
    if (def.type === 'datetime') {
      const ms = Date.parse(String(raw));
      if (Number.isNaN(ms))
        throw new SfHttpError(
          400,
          'JSON_PARSER_ERROR',
          `Cannot deserialize instance of datetime from VALUE_STRING value ${String(raw)}`,
        );
      return [key, sfDate(ms)];
    }
    if (def.type === 'date') {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(String(raw)))
        throw new SfHttpError(
          400,
          'JSON_PARSER_ERROR',
          `Cannot deserialize instance of date from ${String(raw)}`,
        );
      return [key, String(raw)];
    }
    if (def.type === 'boolean') return [key, raw === true || raw === 'true'];
    if (def.type === 'double') {
      const n = typeof raw === 'number' ? raw : Number(String(raw));
      if (!Number.isFinite(n))
        throw new SfHttpError(
          400,
          'JSON_PARSER_ERROR',
          `Cannot deserialize instance of double from ${String(raw)}`,
        );
      return [key, n];
    }
    if (def.type === 'picklist' && !(def.picklist ?? []).includes(String(raw))) {
      throw new SfHttpError(
        400,
        'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
        `${key}: bad value for restricted picklist field: ${String(raw)}`,
      );
    }
    if (def.maxLength !== undefined && String(raw).length > def.maxLength) {
      throw new SfHttpError(
        400,
        'STRING_TOO_LONG',
        `${key}: data value too large: ${String(raw).slice(0, 40)}... (max length=${def.maxLength})`,
      );
    }
    if (def.type === 'reference' && key === 'OwnerId') {
      const owner = data.User?.get(String(raw));
      if (owner === undefined)
        throw new SfHttpError(
          400,
          'INVALID_CROSS_REFERENCE_KEY',
          `invalid cross reference id: ${String(raw)}`,
        );
      if (owner.IsActive !== true)
        throw new SfHttpError(
          400,
          'INACTIVE_OWNER_OR_USER',
          'operation performed with inactive user as owner',
        );
    }
    if (def.type === 'reference' && key === 'WhatId' && !data.Opportunity?.has(String(raw))) {
      throw new SfHttpError(400, 'INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id: ${String(raw)}`);
    }
    if (def.type === 'reference' && key === 'WhoId') {
      const id = String(raw);
      if (!data.Contact?.has(id) && !data.Lead?.has(id)) {
        throw new SfHttpError(
          400,
          'INVALID_CROSS_REFERENCE_KEY',
          `Contact/Lead ID: id value of incorrect type: ${id}`,
        );
      }
    }
    return [key, typeof raw === 'number' || typeof raw === 'boolean' ? raw : String(raw)];
  };

  const touch = (type: string, row: Row) => {
    const at = sfDate(stamp());
    row.SystemModstamp = at;
    row.LastModifiedDate = at;
    if (type === 'Contact' || type === 'Lead') {
      row.Name = [row.FirstName, row.LastName]
        .filter((x) => x !== null && x !== undefined && x !== '')
        .join(' ');
    }
  };

  const write = (
    type: string,
    row: Row,
    input: Record<string, unknown>,
    mode: 'insert' | 'update' = 'update',
  ) => {
    const changes: Row = {};
    for (const [name, raw] of Object.entries(input)) {
      if (name === 'attributes' || name.toLowerCase() === 'id') continue;
      const [key, value] = coerce(type, name, raw, mode);
      changes[key] = value;
    }
    for (const [key, value] of Object.entries(changes)) {
      const def = fieldOf(type, key)?.def;
      if (def?.unique && value !== null) {
        for (const other of table(type).rows.values()) {
          if (other !== row && other[key] === value) {
            throw new SfHttpError(
              400,
              'DUPLICATE_VALUE',
              `duplicate value found: ${key} duplicates value on record with id: ${String(other.Id)}`,
            );
          }
        }
      }
    }
    if (type === 'FieldPermissions') {
      for (const other of table(type).rows.values()) {
        if (
          other !== row &&
          other.ParentId === (changes.ParentId ?? row.ParentId) &&
          other.Field === (changes.Field ?? row.Field)
        ) {
          throw new SfHttpError(
            400,
            'DUPLICATE_VALUE',
            'duplicate value found: Field duplicates value on record',
          );
        }
      }
    }
    Object.assign(row, changes);
    touch(type, row);
  };

  const insert = (type: string, input: Record<string, unknown>): Row => {
    const { rows, fields } = table(type);
    const row: Row = {};
    for (const key of fields.keys()) row[key] = null;
    Object.assign(row, DEFAULTS[type] ?? {});
    const id = newId(type);
    row.Id = id;
    row.CreatedDate = sfDate(stamp());
    write(type, row, input, 'insert');
    rows.set(id, row);
    return row;
  };

  const resolve = (row: Row, path: string, type: string): Value | undefined => {
    const [head, tail] = path.split('.', 2) as [string, string | undefined];
    if (tail === undefined) {
      const f = fieldOf(type, head);
      if (f === null)
        throw new SfHttpError(400, 'INVALID_FIELD', `No such column '${head}' on entity '${type}'.`);
      return row[f.key];
    }
    if (head.toLowerCase() !== 'owner')
      throw new SfHttpError(400, 'INVALID_FIELD', `Didn't understand relationship '${head}'`);
    const owner = data.User?.get(String(row.OwnerId));
    if (owner === undefined) return null;
    return resolve(owner, tail, 'User');
  };

  const project = (type: string, row: Row, fieldList: string[]) => {
    const out: Record<string, unknown> = {
      attributes: { type, url: `/services/data/v${version}/sobjects/${type}/${String(row.Id)}` },
    };
    for (const f of fieldList) {
      if (f.includes('.')) {
        const [rel, sub] = f.split('.', 2) as [string, string];
        const owner = data.User?.get(String(row.OwnerId));
        out[rel] =
          owner === undefined
            ? null
            : {
                attributes: {
                  type: 'User',
                  url: `/services/data/v${version}/sobjects/User/${String(owner.Id)}`,
                },
                [sub]: resolve(owner, sub, 'User') ?? null,
              };
      } else {
        const key = fieldOf(type, f)?.key;
        if (key === undefined)
          throw new SfHttpError(400, 'INVALID_FIELD', `No such column '${f}' on entity '${type}'.`);
        out[key] = row[key] ?? null;
      }
    }
    return out;
  };

  const matches = (type: string, row: Row, cond: Cond | null): boolean => {
    if (cond === null) return true;
    if (cond.kind === 'and') return matches(type, row, cond.left) && matches(type, row, cond.right);
    if (cond.kind === 'or') return matches(type, row, cond.left) || matches(type, row, cond.right);
    const left = resolve(row, cond.field, type) ?? null;
    const def = fieldOf(type, cond.field)?.def;
    const norm = (v: unknown) => {
      if (v === null || v === undefined) return null;
      if (def?.type === 'datetime')
        return typeof v === 'number' ? v : Date.parse(String(v).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
      return typeof v === 'string' ? v.toLowerCase() : v;
    };
    const l = norm(left) as string | number | boolean | null;
    const r = (Array.isArray(cond.value) ? cond.value.map(norm) : norm(cond.value)) as string | number | null;
    switch (cond.op) {
      case '=':
        return l === r;
      case '!=':
        return l !== r;
      case '<':
        return l !== null && r !== null && (l as number) < (r as number);
      case '>':
        return l !== null && r !== null && (l as number) > (r as number);
      case '<=':
        return l !== null && r !== null && (l as number) <= (r as number);
      case '>=':
        return l !== null && r !== null && (l as number) >= (r as number);
      case 'IN':
        return Array.isArray(r) && r.includes(l);
      case 'NOT IN':
        return Array.isArray(r) && !r.includes(l);
      case 'LIKE': {
        const pattern = String(r)
          .split(/(\\[_%]|[_%])/)
          .map((part) =>
            part === '%'
              ? '.*'
              : part === '_'
                ? '.'
                : part.replace(/^\\/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
          )
          .join('');
        return typeof l === 'string' && new RegExp(`^${pattern}$`, 'i').test(l);
      }
      default:
        throw malformed(`operator ${cond.op}`);
    }
  };

  const runQuery = (q: string, tooling: boolean) => {
    const parsed = parseSoql(q);
    let rows: Row[];
    let type = parsed.object;
    if (tooling) {
      if (parsed.object !== 'CustomField')
        throw new SfHttpError(400, 'INVALID_TYPE', `sObject type '${parsed.object}' is not supported.`);
      rows = [...customFields.values()];
    } else {
      type = fieldOf(parsed.object, 'Id') === null ? parsed.object : parsed.object;
      rows = [...table(type).rows.values()];
    }
    const resolveRow = (row: Row, f: string) => (tooling ? row[f] : resolve(row, f, type));
    if (tooling) {
      for (const f of parsed.fields)
        if (!(f in (rows[0] ?? { Id: 1, DeveloperName: 1, TableEnumOrId: 1, FullName: 1 })))
          throw new SfHttpError(400, 'INVALID_FIELD', `No such column '${f}' on entity 'CustomField'.`);
    }
    let hits = rows.filter((row) =>
      tooling ? matchesTooling(row, parsed.where) : matches(type, row, parsed.where),
    );
    if (parsed.orderBy.length > 0) {
      hits = hits.sort((a, b) => {
        for (const o of parsed.orderBy) {
          const x = String(resolveRow(a, o.field) ?? '');
          const y = String(resolveRow(b, o.field) ?? '');
          if (x !== y) return (x < y ? -1 : 1) * (o.desc ? -1 : 1);
        }
        return 0;
      });
    }
    if (parsed.limit !== null) hits = hits.slice(0, parsed.limit);
    const records = tooling
      ? hits.map((row) => {
          const out: Record<string, unknown> = {
            attributes: {
              type: 'CustomField',
              url: `/services/data/v${version}/tooling/sobjects/CustomField/${String(row.Id)}`,
            },
          };
          for (const f of parsed.fields) out[f] = row[f] ?? null;
          return out;
        })
      : hits.map((row) => project(type, row, parsed.fields));
    return page(records);
  };

  const matchesTooling = (row: Row, cond: Cond | null): boolean => {
    if (cond === null) return true;
    if (cond.kind === 'and') return matchesTooling(row, cond.left) && matchesTooling(row, cond.right);
    if (cond.kind === 'or') return matchesTooling(row, cond.left) || matchesTooling(row, cond.right);
    const v = row[cond.field];
    if (cond.op === '=') return v === cond.value;
    if (cond.op === 'IN') return Array.isArray(cond.value) && (cond.value as Value[]).includes(v ?? null);
    throw malformed(`tooling operator ${cond.op} not supported by the fake`);
  };

  const BATCH = 2000;
  const page = (records: unknown[], offset = 0): Record<string, unknown> => {
    const slice = records.slice(offset, offset + BATCH);
    const done = offset + BATCH >= records.length;
    const out: Record<string, unknown> = { totalSize: records.length, done, records: slice };
    if (!done) {
      const locator = `01gFAKE${cursors.size}-${offset + BATCH}`;
      cursors.set(locator, { records, offset: offset + BATCH });
      out.nextRecordsUrl = `/services/data/v${version}/query/${locator}`;
    }
    return out;
  };

  const runSearch = (q: string) => {
    const m = /^FIND \{((?:\\.|[^\\}])*)\} IN (ALL|NAME|EMAIL|PHONE) FIELDS RETURNING (.+)$/s.exec(q.trim());
    if (m === null)
      throw new SfHttpError(
        400,
        'MALFORMED_SEARCH',
        'No search term found. The search term must be enclosed in braces.',
      );
    const term = (m[1] as string).replace(/\\(.)/g, '$1');
    if (m[2] !== 'PHONE')
      throw new SfHttpError(400, 'MALFORMED_SEARCH', 'the fake only implements IN PHONE FIELDS');
    const digits = term.replace(/\D/g, '');
    const specs = [...(m[3] as string).matchAll(/([A-Za-z_]+)\(([^)]*)\)/g)];
    const searchRecords: unknown[] = [];
    for (const spec of specs) {
      const type = spec[1] as string;
      const inner = (spec[2] as string).trim();
      const limitMatch = /\sLIMIT\s+(\d+)$/i.exec(inner);
      const fieldList = (limitMatch ? inner.slice(0, limitMatch.index) : inner)
        .split(',')
        .map((s) => s.trim());
      const phoneFields = [...table(type).fields.keys()].filter((k) => k.endsWith('Phone'));
      let hits = [...table(type).rows.values()].filter((row) =>
        phoneFields.some((f) => {
          const stored = String(row[f] ?? '').replace(/\D/g, '');
          return (
            digits.length >= 7 && stored.length >= 7 && (stored.endsWith(digits) || digits.endsWith(stored))
          );
        }),
      );
      if (limitMatch) hits = hits.slice(0, Number(limitMatch[1]));
      for (const row of hits) searchRecords.push(project(type, row, fieldList));
    }
    return { searchRecords };
  };

  const saveRow = (fn: () => { id: string; created?: boolean }) => {
    try {
      const r = fn();
      return {
        id: r.id,
        success: true,
        errors: [],
        ...(r.created === undefined ? {} : { created: r.created }),
      };
    } catch (error) {
      if (error instanceof SfHttpError)
        return {
          success: false,
          errors: [{ statusCode: error.errorCode, message: error.message, fields: [] }],
        };
      throw error;
    }
  };

  const collection = (body: Record<string, unknown>) => {
    const records = Array.isArray(body.records) ? (body.records as Record<string, unknown>[]) : [];
    if (records.length > 200)
      throw new SfHttpError(
        400,
        'EXCEEDED_ID_LIMIT',
        'record limit reached. cannot submit more than 200 records into this call',
      );
    return records;
  };
  const typeOf = (r: Record<string, unknown>) =>
    String((r.attributes as { type?: unknown } | undefined)?.type ?? '');

  const createCustomField = (body: Record<string, unknown>) => {
    const fullName = String(body.FullName ?? '');
    const m = /^(Contact|Lead|Activity|Opportunity)\.([A-Za-z][A-Za-z0-9_]*__c)$/.exec(fullName);
    if (m === null) throw new SfHttpError(400, 'FIELD_INTEGRITY_EXCEPTION', `Invalid FullName ${fullName}`);
    const [, tableName, fieldName] = m as unknown as [string, string, string];
    const developerName = fieldName.replace(/__c$/, '');
    for (const cf of customFields.values()) {
      if (cf.TableEnumOrId === tableName && cf.DeveloperName === developerName) {
        throw new SfHttpError(400, 'DUPLICATE_DEVELOPER_NAME', `Duplicate Developer Name: ${developerName}`);
      }
    }
    const meta = (body.Metadata ?? {}) as Record<string, unknown>;
    const kind = String(meta.type ?? '');
    const def: FieldDef = {
      type:
        kind === 'Picklist'
          ? 'picklist'
          : kind === 'DateTime'
            ? 'datetime'
            : kind === 'Number'
              ? 'double'
              : 'string',
      custom: true,
      externalId: meta.externalId === true,
      unique: meta.unique === true,
      ...(kind === 'Text' && typeof meta.length === 'number' ? { maxLength: meta.length } : {}),
    };
    if (!['Picklist', 'DateTime', 'Text', 'Number'].includes(kind))
      throw new SfHttpError(400, 'FIELD_INTEGRITY_EXCEPTION', `unsupported type ${kind}`);
    if (kind === 'Number' && (typeof meta.precision !== 'number' || typeof meta.scale !== 'number'))
      throw new SfHttpError(400, 'FIELD_INTEGRITY_EXCEPTION', 'Precision and Scale: You must enter a value');
    if (kind === 'Text' && typeof meta.length !== 'number')
      throw new SfHttpError(400, 'FIELD_INTEGRITY_EXCEPTION', 'Length: You must enter a value');
    if (kind === 'Picklist') {
      const values = (
        (meta.valueSet as { valueSetDefinition?: { value?: { fullName: string }[] } } | undefined)
          ?.valueSetDefinition?.value ?? []
      ).map((v) => v.fullName);
      if (values.length === 0)
        throw new SfHttpError(400, 'FIELD_INTEGRITY_EXCEPTION', 'Picklist needs values');
      def.picklist = values;
    }
    const id = newId('CustomField');
    customFields.set(id, {
      Id: id,
      DeveloperName: developerName,
      TableEnumOrId: tableName,
      FullName: fullName,
    });
    for (const target of tableName === 'Activity' ? ['Task'] : [tableName])
      schema[target]?.set(fieldName, def);
    return { id, success: true, errors: [], warnings: [], infos: [] };
  };

  const deleteCustomField = (id: string) => {
    const cf = customFields.get(id);
    if (cf === undefined) throw new SfHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
    customFields.delete(id);
    const fieldName = `${String(cf.DeveloperName)}__c`;
    for (const target of cf.TableEnumOrId === 'Activity' ? ['Task'] : [String(cf.TableEnumOrId)]) {
      schema[target]?.delete(fieldName);
      for (const row of data[target]?.values() ?? []) delete row[fieldName];
    }
  };

  const route = (
    method: string,
    rest: string[],
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): { status: number; body?: unknown } => {
    const [a, b, c, d] = rest;
    if (method === 'GET' && a === 'query' && b === undefined)
      return { status: 200, body: runQuery(query.get('q') ?? '', false) };
    if (method === 'GET' && a === 'query' && b !== undefined) {
      const cursor = cursors.get(b);
      if (cursor === undefined) throw new SfHttpError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
      return { status: 200, body: page(cursor.records, cursor.offset) };
    }
    if (method === 'GET' && a === 'search') return { status: 200, body: runSearch(query.get('q') ?? '') };
    if (a === 'tooling') {
      if (method === 'GET' && b === 'query')
        return { status: 200, body: runQuery(query.get('q') ?? '', true) };
      if (b === 'sobjects' && c === 'CustomField') {
        if (method === 'POST' && d === undefined) return { status: 201, body: createCustomField(body) };
        if (method === 'DELETE' && d !== undefined) {
          deleteCustomField(d);
          return { status: 204 };
        }
      }
    }
    if (a === 'sobjects' && b !== undefined) {
      if (method === 'POST' && c === undefined)
        return { status: 201, body: { id: String(insert(b, body).Id), success: true, errors: [] } };
      if (c !== undefined && d === undefined) {
        const row = table(b).rows.get(c);
        if (row === undefined)
          throw new SfHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
        if (method === 'PATCH') {
          write(b, row, body);
          return { status: 204 };
        }
        if (method === 'DELETE') {
          table(b).rows.delete(c);
          if (b === 'PermissionSet') {
            for (const [id, fp] of table('FieldPermissions').rows)
              if (fp.ParentId === c) table('FieldPermissions').rows.delete(id);
          }
          return { status: 204 };
        }
        if (method === 'GET')
          return { status: 200, body: project(b, row, (query.get('fields') ?? 'Id').split(',')) };
      }
    }
    if (a === 'composite' && b === 'sobjects') {
      if (method === 'POST' && c === undefined) {
        return {
          status: 200,
          body: collection(body).map((r) => saveRow(() => ({ id: String(insert(typeOf(r), r).Id) }))),
        };
      }
      if (method === 'PATCH' && c === undefined) {
        return {
          status: 200,
          body: collection(body).map((r) =>
            saveRow(() => {
              const id = String(r.id ?? r.Id ?? '');
              const row = table(typeOf(r)).rows.get(id);
              if (row === undefined) throw new SfHttpError(404, 'ENTITY_IS_DELETED', 'entity is deleted');
              write(typeOf(r), row, r);
              return { id };
            }),
          ),
        };
      }
      if (method === 'PATCH' && c !== undefined && d !== undefined) {
        const ext = fieldOf(c, d);
        if (ext === null || !ext.def.externalId)
          throw new SfHttpError(
            400,
            'INVALID_FIELD',
            `Field name provided, ${d} is not an External ID or indexed field for ${c}`,
          );
        const refusing = failTaskKeys;
        failTaskKeys = new Set();
        const rows = collection(body);
        return {
          status: 200,
          body: rows.map((r) =>
            saveRow(() => {
              const key = String(r[ext.key] ?? '');
              if (key === '')
                throw new SfHttpError(
                  400,
                  'REQUIRED_FIELD_MISSING',
                  `Required fields are missing: [${ext.key}]`,
                );
              if (refusing.has(key))
                throw new SfHttpError(
                  400,
                  'UNABLE_TO_LOCK_ROW',
                  'unable to obtain exclusive access to this record or 1 records',
                );
              const existing = [...table(c).rows.values()].filter((row) => row[ext.key] === key);
              if (existing.length > 1)
                throw new SfHttpError(
                  300,
                  'DUPLICATE_EXTERNAL_ID',
                  'more than one record found for external id',
                );
              if (existing[0] !== undefined) {
                write(c, existing[0], r);
                return { id: String(existing[0].Id), created: false };
              }
              return { id: String(insert(c, r).Id), created: true };
            }),
          ),
        };
      }
    }
    throw new SfHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = req.method ?? 'GET';
      const send = (status: number, body?: unknown) => {
        calls.push({ method, path: url.pathname, status });
        const headers: Record<string, string> = { 'sforce-limit-info': `api-usage=${apiUsed}/15000` };
        if (body === undefined) res.writeHead(status, headers).end();
        else
          res
            .writeHead(status, { ...headers, 'content-type': 'application/json;charset=UTF-8' })
            .end(JSON.stringify(body));
      };
      const fail = (status: number, errorCode: string, message: string) =>
        send(status, [{ message, errorCode, fields: [] }]);
      const prefix = `/services/data/v${version}/`;
      if (method === 'POST' && url.pathname === '/services/oauth2/token') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const app = options.oauth;
        if (form.get('grant_type') === 'authorization_code') {
          const code = form.get('code') ?? '';
          const redirect = authCodes.get(code);
          authCodes.delete(code);
          const ok =
            app !== undefined &&
            redirect !== undefined &&
            redirect === form.get('redirect_uri') &&
            form.get('client_id') === app.clientId &&
            form.get('client_secret') === app.clientSecret;
          calls.push({ method, path: url.pathname, status: ok ? 200 : 400 });
          if (!ok) {
            res
              .writeHead(400, { 'content-type': 'application/json;charset=UTF-8' })
              .end(JSON.stringify({ error: 'invalid_grant', error_description: 'authentication failure' }));
            return;
          }
          refreshes += 1;
          accessToken = `00Dxx0000000001!AQ4AQFromCode${refreshes}x${Date.now()}`;
          expired = false;
          res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' }).end(
            JSON.stringify({
              access_token: accessToken,
              refresh_token: app?.refreshToken ?? REFRESH_TOKEN_OF_CODE,
              instance_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
              id: 'https://login.salesforce.com/id/00Dxx0000000001AAA/005xx000001SvXXAAA',
              token_type: 'Bearer',
              scope: 'api refresh_token',
              issued_at: String(Date.now()),
              signature: 'fake',
            }),
          );
          return;
        }
        if (
          app === undefined ||
          form.get('grant_type') !== 'refresh_token' ||
          form.get('client_id') !== app.clientId ||
          form.get('client_secret') !== app.clientSecret ||
          form.get('refresh_token') !== app.refreshToken
        ) {
          calls.push({ method, path: url.pathname, status: 400 });
          res
            .writeHead(400, { 'content-type': 'application/json;charset=UTF-8' })
            .end(
              JSON.stringify({ error: 'invalid_grant', error_description: 'expired access/refresh token' }),
            );
          return;
        }
        refreshes += 1;
        accessToken = `00Dxx0000000001!AQ4AQRefreshed${refreshes}x${Date.now()}`;
        expired = false;
        calls.push({ method, path: url.pathname, status: 200 });
        res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' }).end(
          JSON.stringify({
            access_token: accessToken,
            instance_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            id: 'https://login.salesforce.com/id/00Dxx0000000001AAA/005xx000001SvXXAAA',
            token_type: 'Bearer',
            issued_at: String(Date.now()),
            signature: 'fake',
          }),
        );
        return;
      }
      if (!url.pathname.startsWith(prefix)) {
        fail(404, 'NOT_FOUND', 'The requested resource does not exist');
        return;
      }
      apiUsed++;
      if (req.headers.authorization !== `Bearer ${accessToken}` || expired) {
        fail(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
        return;
      }
      const faultIndex = faults.findIndex((f) => f.match(method, url.pathname));
      if (faultIndex >= 0) {
        const fault = faults.splice(faultIndex, 1)[0]?.fault as SalesforceFault;
        if (fault.kind === 'expired_session') fail(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
        else if (fault.kind === 'server_error')
          fail(fault.status, 'SERVER_UNAVAILABLE', 'Server unavailable, please try again later');
        else
          fail(
            403,
            'REQUEST_LIMIT_EXCEEDED',
            fault.daily ? 'TotalRequests Limit exceeded.' : 'ConcurrentPerOrgLongTxn Limit exceeded.',
          );
        return;
      }
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        if (text !== '') {
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            throw new SfHttpError(400, 'JSON_PARSER_ERROR', 'Unexpected character');
          }
        }
        const rest = url.pathname.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
        const out = route(method, rest, url.searchParams, body);
        send(out.status, out.body);
      } catch (error) {
        if (error instanceof SfHttpError) fail(error.status, error.errorCode, error.message);
        else fail(500, 'UNKNOWN_EXCEPTION', error instanceof Error ? error.message : 'internal error');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    instanceUrl: `http://127.0.0.1:${port}`,
    get accessToken() {
      return accessToken;
    },
    issueAuthCode(redirectUri: string) {
      const code = `aPrx${randomUUID().replace(/-/g, '')}`;
      authCodes.set(code, redirectUri);
      return code;
    },
    get refreshes() {
      return refreshes;
    },
    calls,
    callCount: (filter) => (filter === undefined ? calls.length : calls.filter(filter).length),
    resetCalls: () => {
      calls.length = 0;
    },
    addRecord(type, fields) {
      const { rows } = table(type);
      const row: Row = {};
      for (const key of table(type).fields.keys()) row[key] = null;
      Object.assign(row, DEFAULTS[type] ?? {}, fields);
      row.Id = newId(type);
      row.CreatedDate = sfDate(stamp());
      touch(type, row);
      rows.set(String(row.Id), row);
      return String(row.Id);
    },
    setField(type, id, field, value) {
      const row = table(type).rows.get(id);
      if (row === undefined) throw new Error(`no ${type} ${id}`);
      write(type, row, { [field]: value });
    },
    record: (type, id) => data[type]?.get(id),
    records: (type) => [...(data[type]?.values() ?? [])],
    customFieldNames: () => [...customFields.values()].map((cf) => String(cf.FullName)),
    injectFaults(list, match = () => true) {
      for (const fault of list) faults.push({ fault, match });
    },
    expireSession() {
      expired = true;
    },
    renewSession() {
      expired = false;
    },
    failNextTasksFor(keys) {
      failTaskKeys = new Set(keys);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
