/**
 * The matches of a global regex in a text, as `text.matchAll(pattern)` gives them, found with the
 * pattern itself (#20). matchAll copies its regex on every call; the scanner runs a dozen patterns
 * over every text with a number or a health word in it, and the copies were much of its time.
 * The scanner is synchronous and no finder nests a search of its own pattern, so reusing the
 * pattern's `lastIndex` is safe; it is left at 0, as a pattern that was never used.
 */
export function matchesOf(text: string, pattern: RegExp): RegExpExecArray[] {
  if (!pattern.global) throw new Error(`matchesOf needs a global pattern: ${pattern}`);
  const found: RegExpExecArray[] = [];
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    found.push(m);
    // An empty match moves on by one character (one code point under the u flag), as matchAll does.
    if (m[0] === '') pattern.lastIndex = nextIndex(text, pattern.lastIndex, pattern.unicode);
  }
  pattern.lastIndex = 0;
  return found;
}

function nextIndex(text: string, index: number, unicode: boolean): number {
  if (!unicode || index + 1 >= text.length) return index + 1;
  const code = text.charCodeAt(index);
  const next = text.charCodeAt(index + 1);
  return code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? index + 2 : index + 1;
}
