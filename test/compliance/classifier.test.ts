import { describe, expect, it } from 'vitest';
import { classifyInbound } from '../../server/compliance/classifier.ts';
import { normalizeInbound, repairToken } from '../../server/compliance/inbound-text.ts';

const label = (text: string, currentlyOptedOut = false) => classifyInbound(text, { currentlyOptedOut }).label;

describe('opt-out classifier', () => {
  it.each([
    'STOP',
    'quit',
    'End',
    'REVOKE',
    'opt out',
    'Opt-Out',
    'cancel',
    'UNSUBSCRIBE',
    'STOPALL',
    'unsub',
    'remove',
  ])('honours the keyword %j', (text) => expect(label(text)).toBe('opt_out'));

  it.each(['STOP!!!', '  stop.  ', 'stop please', 'pls stop', 'Stop, thanks', 'STOP STOP', 'STOP 🛑', '🛑'])(
    'honours a keyword wrapped in courtesy, punctuation or emoji: %j',
    (text) => expect(label(text)).toBe('opt_out'),
  );

  it.each([
    'stpo',
    'S T O P',
    's.t.o.p',
    'st0p',
    '$top',
    'stoooop',
    'unsuscribe',
    'unsubscibe',
    'opt0ut',
    'cancle',
  ])('reads the misspelt or obfuscated keyword %j as an opt-out', (text) =>
    expect(label(text)).toBe('opt_out'),
  );

  it.each([
    'ARRET',
    'arrête',
    'Arrêtez svp',
    'BAJA',
    'alto',
    'parar',
    'STOPP bitte',
    'no más',
    'dejen de enviarme mensajes',
    'keine SMS mehr',
  ])('honours the non-English opt-out %j', (text) => expect(label(text)).toBe('opt_out'));

  it.each([
    'please stop texting me',
    'Can you stop sending me these?',
    'take me off your list',
    'Please remove my number from your list',
    "don't text me",
    'never message me again',
    'no more texts',
    "I don't want any more messages",
    'leave me alone',
    'this is spam',
    'blocking this number',
    'wrong number',
    "this isn't my number",
    'not interested',
    "I didn't sign up for this",
    'only email me',
    'call me instead of texting',
    'I withdraw my consent',
    'I want out',
    'these texts need to stop',
    'cancel my subscription to these texts',
    'do not disturb',
    'I already told you to stop',
    "I'm not the person you're looking for",
    'no me interesa',
  ])('treats the plain-language revocation %j as an opt-out', (text) => expect(label(text)).toBe('opt_out'));

  it.each([
    'cancel my order',
    'end my contract',
    'stop the auto-renewal',
    "don't stop",
    'how did you get my number?',
    'no',
    'Nope.',
    '👎',
    'maybe later',
    "please don't text after 6pm",
    'not on weekends',
    'not interested right now',
    'I quit my job, contact Sarah instead',
    'why do you keep texting me',
  ])('sends %j to a person as ambiguous', (text) => expect(label(text)).toBe('ambiguous'));

  it.each([
    'stop by the store tomorrow?',
    "I'll stop by at 3",
    'non-stop flight',
    'the bus stop by your office',
    'end of day',
    'Quarter end is Friday',
    'cancellation policy?',
    'Start date is June 1',
    "Let's start the onboarding Monday",
    'I need help with my invoice',
    'the unsubscribe link is broken',
    'our vendor quit on us',
    "Let's not stop the rollout",
    'Yes, Tuesday works',
    'no problem',
    "I told you I'd stop by at 3",
  ])('leaves the conversation %j alone', (text) => expect(label(text)).toBe('normal'));

  it.each([
    'HELP',
    'help?',
    'INFO',
    'who is this?',
    "Who's this",
    'what company is this',
    'how do I stop these?',
  ])('answers %j with the HELP reply', (text) => expect(label(text)).toBe('help'));

  it.each([
    'START',
    'unstop',
    'RESUME',
    'please start texting me again',
    'opt me back in',
    'You can text me again',
  ])('re-subscribes on %j', (text) => expect(label(text)).toBe('opt_in'));

  it('reads YES and GO as opt-in only from an opted-out number', () => {
    expect(label('YES', true)).toBe('opt_in');
    expect(label('go', true)).toBe('opt_in');
    expect(label('YES', false)).toBe('normal');
    expect(label('go', false)).toBe('normal');
  });

  it('lets an opt-out win over anything else in the same message', () => {
    expect(label('how do I opt out? I want out')).toBe('opt_out');
    expect(label('no. stop.')).toBe('opt_out');
    expect(label('not interested, stop')).toBe('opt_out');
  });

  // The known gaps of #14, each with the look-alikes that must keep their old verdict.
  const gapCases: Record<string, Array<[text: string, expected: string, optedOut?: boolean]>> = {
    'does not read a negated revocation as an opt-out': [
      ["Don't stop texting me, I like the updates", 'normal'],
      ['Please do not remove me from the list', 'normal'],
      ["don't stop", 'ambiguous'],
    ],
    'keeps an opt-out that only looks negated': [
      ["why don't you stop texting me", 'opt_out'],
      ['you never stop texting me', 'opt_out'],
      ["don't cancel my order just stop texting me", 'opt_out'],
      ['dont stop texting me lol jk stop', 'opt_out'],
      ["Don't stop. STOP", 'opt_out'],
    ],
    'reads idioms for "stop" as opt-outs but not the same words about other things': [
      ['Cut it out', 'opt_out'],
      ['knock it off already', 'opt_out'],
      ["I'm done with these texts", 'opt_out'],
      ['cut it out of the newspaper', 'normal'],
      ['Knock on the door when you arrive', 'normal'],
    ],
    'reads re-subscription in words as opt-in, unless negated': [
      ['text me again', 'opt_in', true],
      ['I want your texts again', 'opt_in', true],
      ['resume messages please', 'opt_in', true],
      ["don't text me again", 'opt_out', true],
    ],
    'sends a request to text less often to a person': [
      ['text me less', 'ambiguous'],
      ['only once a week please', 'ambiguous'],
      ['too many texts, stop', 'opt_out'],
      ['Once a week works for the meeting', 'normal'],
    ],
  };
  for (const [behaviour, cases] of Object.entries(gapCases)) {
    it(behaviour, () => {
      for (const [text, expected, optedOut] of cases) expect(label(text, optedOut), text).toBe(expected);
    });
  }

  it('explains every verdict', () => {
    expect(classifyInbound('cancel my order', { currentlyOptedOut: false }).reason).toContain('CANCEL');
    expect(classifyInbound('', { currentlyOptedOut: false })).toEqual({
      label: 'normal',
      reason: 'empty message',
    });
  });
});

describe('inbound normalisation', () => {
  it('repairs keyword typos but not real words one letter away', () => {
    expect(repairToken('stpo')).toBe('stop');
    expect(repairToken('unsuscribe')).toBe('unsubscribe');
    expect(repairToken('spot')).toBe('spot');
    expect(repairToken('shop')).toBe('shop');
    expect(repairToken('resubscribe')).toBe('resubscribe');
    expect(repairToken('cancer')).toBe('cancer');
  });

  it('splits clauses and joins "opt out" into one keyword', () => {
    expect(normalizeInbound('No. Opt out!').clauses.map((c) => c.text)).toEqual(['no', 'optout']);
  });
});
