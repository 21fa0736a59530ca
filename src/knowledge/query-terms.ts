/**
 * The search terms of a natural-language query (docs/knowledge-search.md, "Queries"): its words
 * (letters, digits and combining marks; everything else separates words, so no quote, `*`, `:`,
 * `^`, `-`, `+`, parenthesis or other operator of either full-text syntax survives), lower-cased
 * and NFKC-folded, without English stop words, the operator words `AND`/`OR`/`NOT`/`NEAR` and
 * one-letter words, each once, at most MAX_QUERY_TERMS of them. Both dialects stem the terms
 * themselves (FTS5's Porter tokenizer, PostgreSQL's `english` configuration).
 */
export function queryTerms(query: string): string[] {
  const terms = new Set<string>();
  for (const [word] of query.normalize('NFKC').toLowerCase().matchAll(WORD)) {
    if (STOP_WORDS.has(word) || (word.length === 1 && !SPACELESS_CHARACTER.test(word))) continue;
    terms.add(word);
    if (terms.size === MAX_QUERY_TERMS) break;
  }
  return [...terms];
}

/** More terms than a question has are a pasted passage; the first 32 rank it as well. */
export const MAX_QUERY_TERMS = 32;

const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const SPACELESS_CHARACTER = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * English function words (the usual IR list, close to PostgreSQL's `english` stop words, plus
 * question words such as "how" and "what", which every question has and no answer is about).
 */
const STOP_WORDS = new Set(
  `a about above after again against all am an and any are as at be because been before being below
  between both but by can could did do does doing down during each few for from further had has have
  having he her here hers herself him himself his how i if in into is it its itself just me more most
  my myself near no nor not now of off on once only or other our ours ourselves out over own same she
  should so some such than that the their theirs them themselves then there these they this those
  through to too under until up very was we were what when where which while who whom why will with
  would you your yours yourself yourselves let lets may might must shall us also get got cannot ought
  don doesn didn isn aren wasn weren wouldn shouldn couldn hasn haven hadn ll re ve`.split(/\s+/),
);
