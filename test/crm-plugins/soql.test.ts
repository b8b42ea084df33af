import { describe, expect, it } from 'vitest';
import {
  escapeSoqlString,
  escapeSoslTerm,
  ident,
  isRecordId,
  joinSoql,
  soql,
  soslFind,
} from '../../crm-plugins/salesforce/soql.ts';

describe('SOQL builder', () => {
  it('quotes and escapes string values', () => {
    expect(soql`SELECT Id FROM Contact WHERE LastName = ${"O'Neil"}`.text).toBe(
      "SELECT Id FROM Contact WHERE LastName = 'O\\'Neil'",
    );
  });

  it.each([
    ["' OR Name != '", "'\\' OR Name != \\''"],
    ["x' OR '1'='1", "'x\\' OR \\'1\\'=\\'1'"],
    ["\\' OR Id != null --", "'\\\\\\' OR Id != null --'"],
    ['line\nbreak\ttab', "'line\\nbreak\\ttab'"],
    ['"double"', '\'\\"double\\"\''],
  ])('keeps the injection attempt %j inside one string literal', (attempt, expected) => {
    const q = soql`SELECT Id FROM Contact WHERE Phone = ${attempt}`;
    expect(q.text).toBe(`SELECT Id FROM Contact WHERE Phone = ${expected}`);
    // The literal ends exactly where the value ends: no unescaped quote inside it.
    const literal = q.text.slice('SELECT Id FROM Contact WHERE Phone = '.length);
    expect(literal.slice(1, -1)).not.toMatch(/(^|[^\\])(\\\\)*'/);
  });

  it('refuses control characters that SOQL cannot escape', () => {
    expect(() => escapeSoqlString('a\u0000b')).toThrow(TypeError);
  });

  it('renders lists, dates, numbers, booleans and null as literals', () => {
    const q = soql`WHERE Id IN ${['a', "b'"]} AND SystemModstamp > ${new Date('2025-01-02T03:04:05.678Z')} AND X = ${3} AND Y = ${true} AND Z != ${null}`;
    expect(q.text).toBe(
      "WHERE Id IN ('a', 'b\\'') AND SystemModstamp > 2025-01-02T03:04:05.678Z AND X = 3 AND Y = true AND Z != null",
    );
    expect(() => soql`WHERE Id IN ${[]}`).toThrow(TypeError);
    expect(() => soql`LIMIT ${Number.NaN}`).toThrow(TypeError);
    expect(() => soql`WHERE D > ${new Date('nope')}`).toThrow(TypeError);
  });

  it('accepts only API names as identifiers', () => {
    expect(soql`SELECT ${ident('Owner.Email')} FROM ${ident('Contact')}`.text).toBe(
      'SELECT Owner.Email FROM Contact',
    );
    for (const bad of ['Contact WHERE Id != null', 'Id,Name', "Name'", '1Field', '', 'a..b', 'Contact)']) {
      expect(() => ident(bad)).toThrow(TypeError);
    }
  });

  it('joins fragments built by the builder only', () => {
    const fields = joinSoql([soql`${ident('Id')}`, soql`${ident('Name')}`], ', ');
    expect(soql`SELECT ${fields} FROM Contact`.text).toBe('SELECT Id, Name FROM Contact');
  });

  it('recognises record ids and nothing else', () => {
    expect(isRecordId('0035g00000ABCDEAAA')).toBe(true);
    expect(isRecordId('0035g00000ABCDE')).toBe(true);
    for (const bad of ["003' OR '1'='1", '../sobjects/User', '0035g00000ABCD', '0035g00000ABCDEAAAA']) {
      expect(isRecordId(bad)).toBe(false);
    }
  });
});

describe('SOSL builder', () => {
  it('escapes every reserved character so the term is matched literally', () => {
    expect(escapeSoslTerm('a} RETURNING User(Id')).toBe('a\\} RETURNING User\\(Id');
    expect(escapeSoslTerm('*?&|!{}[]()^~:\\"\'+-')).toBe(
      '\\*\\?\\&\\|\\!\\{\\}\\[\\]\\(\\)\\^\\~\\:\\\\\\"\\\'\\+\\-',
    );
  });

  it('cannot be broken out of with a closing brace', () => {
    const q = soslFind('4155550123} IN ALL FIELDS RETURNING User(Id, Email)', 'PHONE', [
      { object: 'Contact', fields: ['Id', 'Phone'], limit: 10 },
    ]);
    expect(q.text).toBe(
      'FIND {4155550123\\} IN ALL FIELDS RETURNING User\\(Id, Email\\)} IN PHONE FIELDS RETURNING Contact(Id, Phone LIMIT 10)',
    );
  });

  it('checks returned object and field names', () => {
    expect(() => soslFind('415', 'PHONE', [{ object: 'Contact', fields: ['Id), User(Email'] }])).toThrow(
      TypeError,
    );
    expect(() => soslFind('x', 'PHONE', [{ object: 'Contact', fields: ['Id'] }])).toThrow(TypeError);
  });
});
