/**
 * What encryption at rest costs a send (issue #18: at most 15 % of the send path's throughput,
 * measured in the same run). Each send seals its text once (AES-256-GCM under the org's cached
 * data key) and turns the customer's number into its token a few times (the consent facts, the
 * stored message and thread) plus the thread's search hashes of its last digits (phone-tokens.ts);
 * nothing else on the path changes. This measures that work on this machine now, over texts of
 * the length the send bench uses, and relates it to the send rate the same run measured:
 * share = encryption time × sends per second is the part of each second of relay time spent on
 * it, an upper bound on the throughput lost (the relay is at most fully busy).
 */
import { randomBytes } from 'node:crypto';
import { PhoneCipher } from '../../server/crypto/phone-tokens.ts';
import { seal, secretsKey } from '../../server/crypto/secrets.ts';
import { messageContext } from '../../server/stores/message-bodies.ts';

export const SEAL_SHARE_TARGET = 0.15;

export interface SealingFigure {
  engine: string;
  microsecondsPerSeal: number;
  sendsPerSecond: number;
  share: number;
  target: number;
  pass: boolean;
}

/** Tokens of the customer's number one send makes: the consent facts, the message, the thread. */
const TOKENS_PER_SEND = 3;

/** Microseconds of encryption per send, the median of five timed rounds after a warm-up. */
export function microsecondsPerSeal(): number {
  const key = secretsKey(randomBytes(32));
  const phones = new PhoneCipher(randomBytes(32));
  const texts = Array.from(
    { length: 1000 },
    (_, i) => `Bench text ${i}: your appointment is confirmed for Friday.`,
  );
  const ids = texts.map(() => crypto.randomUUID());
  const round = () => {
    const started = performance.now();
    for (let n = 0; n < 20; n++)
      for (let i = 0; i < texts.length; i++) {
        seal(key, texts[i] as string, messageContext(ids[i] as string));
        const to = `+1202555${String(1000 + i).slice(-4)}`;
        for (let t = 0; t < TOKENS_PER_SEND; t++) phones.token(to);
        phones.tails(to);
      }
    return ((performance.now() - started) * 1000) / (20 * texts.length);
  };
  round();
  const rounds = Array.from({ length: 5 }, round).sort((a, b) => a - b);
  return rounds[2] as number;
}

export function sealingFigure(engine: string, sendsPerSecond: number, perSeal: number): SealingFigure {
  const share = (perSeal * sendsPerSecond) / 1e6;
  return {
    engine,
    microsecondsPerSeal: perSeal,
    sendsPerSecond,
    share,
    target: SEAL_SHARE_TARGET,
    pass: share <= SEAL_SHARE_TARGET,
  };
}
