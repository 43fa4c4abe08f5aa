/**
 * Word-level tokenizer shared by the prompt node and the dataset writer, so the ids a
 * model was trained on are exactly the ids it is fed at run time. The vocabulary comes
 * from the model pack's manifest; id 0 is padding.
 */
export interface TokenizerSpec {
  vocabulary: readonly string[];
  maxTokens: number;
}

export type TokenizeResult =
  | { ok: true; ids: number[]; words: string[] }
  | { ok: false; unknownWords: string[]; tooLong: boolean; words: string[]; message: string };

export function splitWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

export function tokenize(text: string, spec: TokenizerSpec): TokenizeResult {
  const words = splitWords(text);
  const index = new Map(spec.vocabulary.map((w, i) => [w, i] as const));
  const unknownWords = [...new Set(words.filter((w) => !index.has(w) || index.get(w) === 0))];
  const tooLong = words.length > spec.maxTokens;
  if (unknownWords.length > 0 || tooLong) {
    const parts: string[] = [];
    if (unknownWords.length > 0) {
      parts.push(
        `unknown word${unknownWords.length > 1 ? 's' : ''} ${unknownWords.map((w) => `"${w}"`).join(', ')} ` +
          `(the model knows only its ${spec.vocabulary.length - 1}-word vocabulary)`,
      );
    }
    if (tooLong) parts.push(`${words.length} words, at most ${spec.maxTokens} allowed`);
    return { ok: false, unknownWords, tooLong, words, message: parts.join('; ') };
  }
  const ids = words.map((w) => index.get(w)!);
  while (ids.length < spec.maxTokens) ids.push(0);
  return { ok: true, ids, words };
}
