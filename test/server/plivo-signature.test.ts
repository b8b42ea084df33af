import { describe, expect, it } from 'vitest';
import { plivoV3StringToSign, signPlivoV3, verifyPlivoV3 } from '../../server/providers/plivo-signature.ts';

// The worked example of ../shared/reference/sdk-contracts.md §1.7, verified there with the SDK.
const token = 'MY_AUTH_TOKEN';
const nonce = '05429567804466091622';
const url = 'https://relay.example.com/plivo/inbound';
const params = {
  From: '14155550123',
  To: '14155550100',
  Text: 'STOP',
  Type: 'sms',
  MessageUUID: '2a4b1d3e-0000-1111-2222-333344445555',
};

describe('Plivo V3 signature', () => {
  it('matches the reference vector for a POST', () => {
    expect(plivoV3StringToSign('POST', url, params, nonce)).toBe(
      'https://relay.example.com/plivo/inbound?From14155550123MessageUUID2a4b1d3e-0000-1111-2222-333344445555TextSTOPTo14155550100Typesms.05429567804466091622',
    );
    expect(signPlivoV3('POST', url, params, nonce, token)).toBe(
      'cdvSd9VsxYHfO5ZvxhhhWsXFJnb6Kh49wowvEHjlrKs=',
    );
  });

  it('matches the reference vectors with a query string, for GET and with no params', () => {
    expect(signPlivoV3('POST', `${url}?tenant=acme&b=2`, params, nonce, token)).toBe(
      'sQmNpjra1Qe0WZCPFDitkgC+vtxSyDfbTA75F4/pfIQ=',
    );
    expect(signPlivoV3('GET', url, params, nonce, token)).toBe(
      'lJwmqwlwbI1gYiQHmF7tY3iK+S1bVthD75rJjfdBNdA=',
    );
    expect(plivoV3StringToSign('POST', url, {}, nonce)).toBe(`${url}.${nonce}`);
  });

  it('accepts any of several comma-separated signatures and rejects a wrong token', () => {
    const good = 'cdvSd9VsxYHfO5ZvxhhhWsXFJnb6Kh49wowvEHjlrKs=';
    expect(verifyPlivoV3('POST', url, params, nonce, token, `bogus,${good}`)).toBe(true);
    expect(verifyPlivoV3('POST', url, params, nonce, 'OTHER', good)).toBe(false);
    expect(verifyPlivoV3('POST', url, { ...params, Text: 'START' }, nonce, token, good)).toBe(false);
    expect(verifyPlivoV3('POST', `${url}?x=1`, params, nonce, token, good)).toBe(false);
    expect(verifyPlivoV3('POST', url, params, '', token, good)).toBe(false);
  });
});
