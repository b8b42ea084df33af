import { describe, expect, it } from 'vitest';
import {
  cardBrand,
  isValidRoutingNumber,
  isValidSsn,
  luhnValid,
  scanText,
  solicitsCardData,
} from '../../server/compliance/content-scanner.ts';

const kinds = (text: string) => [...new Set(scanText(text).findings.map((f) => f.kind))];

describe('card checks', () => {
  it('accepts Luhn-valid numbers and rejects one-digit typos', () => {
    expect(luhnValid('4242424242424242')).toBe(true);
    expect(luhnValid('4242424242424241')).toBe(false);
    expect(luhnValid('378282246310005')).toBe(true);
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('42x2')).toBe(false);
  });

  it.each([
    ['4242424242424242', 'Visa'],
    ['4222222222222', 'Visa'],
    ['5555555555554444', 'Mastercard'],
    ['2223003122003222', 'Mastercard'],
    ['378282246310005', 'Amex'],
    ['6011111111111117', 'Discover'],
    ['36227206271667', 'Diners Club'],
    ['3530111333300000', 'JCB'],
    ['6200000000000005', 'UnionPay'],
    ['6759649826438453', 'Maestro'],
  ])('names the brand of %s as %s', (digits, brand) => expect(cardBrand(digits)).toBe(brand));

  it('knows no brand for a prefix or length that no card uses', () => {
    expect(cardBrand('490154203237518')).toBeNull(); // an IMEI: 15 digits starting with 4
    expect(cardBrand('2720990000000000')).toBe('Mastercard');
    expect(cardBrand('2721000000000000')).toBeNull();
    expect(cardBrand('1000200030004000')).toBeNull();
  });
});

describe('card scanning', () => {
  it('redacts a card to brand and last four, with its expiry and security code', () => {
    const result = scanText('Visa 4242 4242 4242 4242 exp 12/29 cvv 123 thanks');
    expect(result.redacted).toBe('Visa [card •••• 4242 (Visa)] exp [exp ••/••] cvv [cvv •••] thanks');
    expect(result.redacted).not.toMatch(/4242 4242|12\/29|123/);
    expect(result.findings.map((f) => f.detail)).toEqual([
      'Visa card number ending 4242',
      'card expiry date',
      'card security code (CVV/CVC)',
    ]);
  });

  it.each([
    '4111-1111-1111-1111',
    '4111.1111.1111.1111',
    '4111\u00a01111\u00a01111\u00a01111',
    '(4111) (1111) (1111) (1111)',
    'CC:5555555555554444/12/27/737',
    'amex 3782-822463-10005',
    'unionpay 6205 5000 0000 0000 004',
  ])('finds the card in %j whatever the separators', (text) => expect(kinds(text)).toContain('card'));

  it('gives offsets that point at the digits', () => {
    const text = 'my card is 4242424242424242.';
    const [card] = scanText(text).findings;
    expect(text.slice(card?.start, card?.end)).toBe('4242424242424242');
  });

  it.each([
    'order #4111-1111-1111-1112',
    'device imei 490154203237518',
    'req 1b4e28ba-4242-4242-4242-424242424242',
    'id 12345678-4242-4242-4242-424242424242',
    'USPS 9400 1000 0000 0000 0000 00',
    'License XXXX-4242-ABCD-9911',
    'xxxx-xxxx-xxxx-4444',
    '+1 (415) 555-0132',
    'Customer ID 1000200030004000',
  ])('does not report a card in %j', (text) => expect(kinds(text)).not.toContain('card'));

  it('flags half of a card number split over two messages', () => {
    expect(scanText('4242 4242 4242').findings[0]?.detail).toMatch(/fragment/);
    expect(kinds('(part 1 of card) 5555 5555')).toEqual(['card']);
    expect(kinds('call 5555 1234')).toEqual([]);
  });

  it('notices a rep asking for card data by text', () => {
    expect(solicitsCardData('Can you text me your card number and CVV?')).toBe(true);
    expect(solicitsCardData('Here is the secure payment link')).toBe(false);
  });
});

describe('SSN scanning', () => {
  it('accepts only numbers the SSA could have issued', () => {
    expect(isValidSsn('219099999')).toBe(true);
    expect(isValidSsn('000123456')).toBe(false);
    expect(isValidSsn('666123456')).toBe(false);
    expect(isValidSsn('912701234')).toBe(false);
    expect(isValidSsn('123004567')).toBe(false);
    expect(isValidSsn('123450000')).toBe(false);
  });

  it('masks an SSN fully', () => {
    expect(scanText('SSN is 455-23-1187').redacted).toBe('SSN is [SSN removed]');
  });

  it('needs a context word before flagging nine undashed digits', () => {
    expect(kinds('SSN 078051120')).toEqual(['ssn']);
    expect(kinds('order 455231187')).toEqual([]);
  });

  it.each(['000-12-3456', '666-12-3456', '123-00-4567', '123-45-0000', 'ZIP 94107-1234', 'EIN 12-3456789'])(
    'does not report %j as an SSN',
    (text) => expect(kinds(text)).not.toContain('ssn'),
  );
});

describe('bank scanning', () => {
  it('checks the ABA weights and the Federal Reserve prefix', () => {
    expect(isValidRoutingNumber('021000021')).toBe(true);
    expect(isValidRoutingNumber('111000025')).toBe(true);
    expect(isValidRoutingNumber('123456789')).toBe(false);
    expect(isValidRoutingNumber('021000022')).toBe(false);
  });

  it('masks a routing number and the account number next to it', () => {
    expect(scanText('routing 021000021 acct 33221100').redacted).toBe(
      'routing [routing number removed] acct [account number removed]',
    );
  });

  it('flags an account number with a bank label even without a routing number', () => {
    expect(kinds('savings acct 4455667788')).toEqual(['bank']);
    expect(kinds('account ending in 7788')).toEqual([]);
    expect(kinds('Invoice 123456789')).toEqual([]);
  });
});

describe('health information', () => {
  it.each([
    'your lab results are in',
    'you tested positive for hepatitis C',
    'Dr. Lee confirmed the diagnosis of type 2 diabetes',
    'refill your sertraline 50mg',
    'your mammogram follow-up is Friday',
    'MRN 00482913',
  ])('flags %j as PHI without rewriting it', (text) => {
    const result = scanText(text);
    expect(kinds(text)).toEqual(['phi']);
    expect(result.redacted).toBe(text);
  });

  it.each([
    'we got positive feedback on the demo',
    'A/B test results are in',
    'the diagnosis of the outage was a bad config',
    'lithium-ion batteries in stock',
    'Dr Pepper for the team lunch?',
    'Reminder: appointment Tue 3pm. Reply C to confirm',
  ])('leaves the business sense of health words alone: %j', (text) => expect(kinds(text)).toEqual([]));
});
