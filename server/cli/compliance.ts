/**
 * `npm run cli -- compliance classify|scan`: JSON lines in, one JSON line out per input line.
 * Input lines are `{"text": "..."}` (classify also reads an optional `currentlyOptedOut`);
 * a bad line yields `{"error": {"code", "message"}}` on its own line and the run goes on.
 * No database: these commands only run the pure rules of server/compliance.
 */
import { classifyInbound } from '../compliance/classifier.ts';
import { scanText } from '../compliance/content-scanner.ts';

export type ComplianceCommand = 'classify' | 'scan';

/** Lines longer than this are refused rather than scanned (a text message is at most 1,600). */
export const MAX_LINE_CHARS = 100_000;

/** Splits a byte or string stream into lines, decoding UTF-8 across chunk boundaries. */
export async function* readLines(input: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of input) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      yield buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
  }
  buffer += decoder.decode();
  if (buffer !== '') yield buffer.replace(/\r$/, '');
}

type LineResult = Record<string, unknown>;

const lineError = (code: string, message: string): LineResult => ({ error: { code, message } });

/** Processes one input line; never throws. */
export function processLine(command: ComplianceCommand, line: string): LineResult {
  if (line.length > MAX_LINE_CHARS)
    return lineError('LINE_TOO_LONG', `a line may hold at most ${MAX_LINE_CHARS} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return lineError('INVALID_JSON', 'the line is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return lineError('INVALID_INPUT', 'each line must be a JSON object like {"text": "..."}');
  }
  const record = parsed as Record<string, unknown>;
  if (typeof record.text !== 'string') return lineError('INVALID_INPUT', '"text" must be a string');
  if (command === 'classify') {
    const optedOut = record.currentlyOptedOut;
    if (optedOut !== undefined && typeof optedOut !== 'boolean') {
      return lineError('INVALID_INPUT', '"currentlyOptedOut" must be true or false');
    }
    const { label, reason } = classifyInbound(record.text, { currentlyOptedOut: optedOut === true });
    return { label, reason };
  }
  const { findings, redacted } = scanText(record.text);
  return { findings: findings.map(({ kind, start, end }) => ({ kind, start, end })), redacted };
}

/** Runs a command over every non-blank line of `input`; returns how many lines had errors. */
export async function runComplianceLines(
  command: ComplianceCommand,
  input: AsyncIterable<string | Uint8Array>,
  out: (line: string) => void,
): Promise<{ lines: number; errors: number }> {
  let lines = 0;
  let errors = 0;
  for await (const line of readLines(input)) {
    if (line.trim() === '') continue;
    lines++;
    const result = processLine(command, line);
    if ('error' in result) errors++;
    out(JSON.stringify(result));
  }
  return { lines, errors };
}
