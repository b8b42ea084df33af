/**
 * What encryption at rest costs a send (issue #18: at most 15 % of the send path's throughput,
 * measured in the same run). Each send seals its text once (AES-256-GCM under the org's cached
 * data key); nothing else on the path changes. This measures the seal on this machine now, over
 * texts of the length the send bench uses, and relates it to the send rate the same run measured:
 * share = seal time × sends per second is the part of each second of relay time spent sealing,
 * an upper bound on the throughput lost (the relay is at most fully busy).
 */
import { randomBytes } from 'node:crypto';
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

/** Microseconds per sealed text, the median of five timed rounds after a warm-up. */
export function microsecondsPerSeal(): number {
  const key = secretsKey(randomBytes(32));
  const texts = Array.from(
    { length: 1000 },
    (_, i) => `Bench text ${i}: your appointment is confirmed for Friday.`,
  );
  const ids = texts.map(() => crypto.randomUUID());
  const round = () => {
    const started = performance.now();
    for (let n = 0; n < 20; n++)
      for (let i = 0; i < texts.length; i++) seal(key, texts[i] as string, messageContext(ids[i] as string));
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
