/**
 * The only way SOQL and SOSL are built: values are escaped or validated, never pasted.
 * Identifiers (objects, fields) must be written literally in the template or passed through
 * `ident()`, which accepts only API names.
 */

const QUERY = Symbol('soql');

/** A SOQL statement whose every value went through this builder. */
export interface SoqlQuery {
  readonly [QUERY]: true;
  readonly text: string;
}

/** An API name (object, field, relationship path) checked by `ident()`. */
export interface SoqlIdent {
  readonly ident: string;
}

/** Literal SOQL text that is not a value, e.g. `ASC`; only from constants in our code. */
export interface SoqlRaw {
  readonly raw: string;
}

/** What may be interpolated: values (escaped), checked names, keywords, or fragments built by `soql`. */
export type SoqlValue =
  | string
  | number
  | boolean
  | Date
  | null
  | readonly (string | number)[]
  | SoqlIdent
  | SoqlRaw
  | SoqlQuery;

const API_NAME = /^[A-Za-z][A-Za-z0-9_]{0,79}(\.[A-Za-z][A-Za-z0-9_]{0,79})*$/;
const RECORD_ID = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;

/** An object or field API name (`Contact`, `SMS_Consent_Status__c`, `Owner.Email`). */
export function ident(name: string): SoqlIdent {
  if (!API_NAME.test(name)) {
    throw new TypeError(`not a Salesforce API name: ${JSON.stringify(name)}`);
  }
  return { ident: name };
}

/** A keyword from our own code (sort order, boolean operator). */
export function keyword(word: 'ASC' | 'DESC' | 'AND' | 'OR' | 'NULLS FIRST' | 'NULLS LAST'): SoqlRaw {
  return { raw: word };
}

/** Checks a 15/18-character record id before it goes into a query or a URL path. */
export function isRecordId(id: string): boolean {
  return RECORD_ID.test(id);
}

/** Escapes a string for use inside single quotes in SOQL (the rules of the SOQL reference). */
export function escapeSoqlString(value: string): string {
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case "'":
        out += "\\'";
        break;
      case '"':
        out += '\\"';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\f':
        out += '\\f';
        break;
      default:
        // Other control characters have no escape in SOQL; they never belong in a value.
        if (ch.charCodeAt(0) < 0x20) throw new TypeError('control character in a SOQL string value');
        out += ch;
    }
  }
  return out;
}

/** SOQL datetime literals are unquoted ISO-8601 in UTC. */
function dateTimeLiteral(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new TypeError('invalid Date in SOQL');
  return d.toISOString();
}

function literal(value: SoqlValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${escapeSoqlString(value)}'`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('non-finite number in SOQL');
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return dateTimeLiteral(value);
  if (Array.isArray(value)) {
    if (value.length === 0) throw new TypeError('empty IN list in SOQL');
    return `(${value.map((v) => literal(v)).join(', ')})`;
  }
  if (QUERY in value) return value.text;
  if ('ident' in value) return value.ident;
  if ('raw' in value) return value.raw;
  throw new TypeError('unsupported SOQL value');
}

/** Tagged template: soql`SELECT Id FROM Contact WHERE Phone = ${phone}`. */
export function soql(strings: TemplateStringsArray, ...values: SoqlValue[]): SoqlQuery {
  let text = strings[0] ?? '';
  values.forEach((value, i) => {
    text += literal(value) + (strings[i + 1] ?? '');
  });
  return { [QUERY]: true, text };
}

/** Joins query fragments (each built by `soql`) with a separator such as ` AND `. */
export function joinSoql(parts: readonly SoqlQuery[], separator: ' AND ' | ' OR ' | ', ' | ' '): SoqlQuery {
  return { [QUERY]: true, text: parts.map((p) => p.text).join(separator) };
}

/** Characters SOSL reserves inside FIND {…}; each is escaped with a backslash. */
const SOSL_RESERVED = new Set([
  '?',
  '&',
  '|',
  '!',
  '{',
  '}',
  '[',
  ']',
  '(',
  ')',
  '^',
  '~',
  '*',
  ':',
  '\\',
  '"',
  "'",
  '+',
  '-',
]);

/** Escapes a SOSL search term so it is matched literally (no wildcards, no operators). */
export function escapeSoslTerm(term: string): string {
  let out = '';
  for (const ch of term) {
    if (ch.charCodeAt(0) < 0x20) throw new TypeError('control character in a SOSL term');
    out += SOSL_RESERVED.has(ch) ? `\\${ch}` : ch;
  }
  return out;
}

export interface SoslReturning {
  object: string;
  fields: readonly string[];
  limit?: number;
}

/** `FIND {term} IN PHONE FIELDS RETURNING Obj(fields), …` with an escaped term and checked names. */
export function soslFind(
  term: string,
  scope: 'ALL' | 'NAME' | 'EMAIL' | 'PHONE',
  returning: readonly SoslReturning[],
): SoqlQuery {
  const escaped = escapeSoslTerm(term);
  if (escaped.replace(/\\/g, '').trim().length < 2)
    throw new TypeError('SOSL terms need at least 2 characters');
  const targets = returning.map((r) => {
    const fields = r.fields.map((f) => ident(f).ident).join(', ');
    const limit = r.limit === undefined ? '' : ` LIMIT ${literal(Math.trunc(r.limit))}`;
    return `${ident(r.object).ident}(${fields}${limit})`;
  });
  return { [QUERY]: true, text: `FIND {${escaped}} IN ${scope} FIELDS RETURNING ${targets.join(', ')}` };
}

/** Renders `Id, Name, Owner.Email` from our constant field lists, each checked as an API name. */
export const fieldList = (fields: readonly string[]) =>
  joinSoql(
    fields.map((f) => soql`${ident(f)}`),
    ', ',
  );
