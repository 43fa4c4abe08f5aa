/**
 * Writes vocabulary.json next to this file for the model pack's manifest. The list
 * lives in vocabulary.ts; the test suite fails if the JSON has drifted from it.
 * Usage: npx tsx models/tiny-world/world/write-vocabulary.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MAX_TOKENS, VOCABULARY } from './vocabulary';

export const VOCABULARY_JSON_PATH = fileURLToPath(new URL('./vocabulary.json', import.meta.url));

export function vocabularyJson(): string {
  return JSON.stringify({ vocabulary: VOCABULARY, maxTokens: MAX_TOKENS }, null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(VOCABULARY_JSON_PATH, vocabularyJson());
  console.log(`wrote ${VOCABULARY_JSON_PATH} (${VOCABULARY.length} tokens incl. <pad>)`);
}
