/**
 * Customers' numbers in and out of the stores (server/crypto/phone-tokens.ts): every number a
 * query compares with or writes to a customer-number column goes in as `phoneToken`, every such
 * column read comes out through `phoneNumber`, so nothing above the stores sees a token.
 */
import { vaultOf } from '../crypto/vault.ts';
import type { Queryable } from '../db/database.ts';

/** A customer's number as its column stores it. */
export const phoneToken = (q: Queryable, number: string): string => vaultOf(q).phones.token(number);

export const phoneTokenOrNull = (q: Queryable, number: string | null | undefined): string | null =>
  number == null ? null : phoneToken(q, number);

/** A customer-number column as read: the number (a value in clear passes through). */
export const phoneNumber = (q: Queryable, stored: string): string => vaultOf(q).phones.number(stored);

export const phoneNumberOrNull = (q: Queryable, stored: string | null | undefined): string | null =>
  stored == null ? null : phoneNumber(q, stored);

/** A conversation's search hashes of its number's last digits, comma-joined for string_to_array. */
export const contactTails = (q: Queryable, number: string): string =>
  vaultOf(q).phones.tails(number).join(',');
