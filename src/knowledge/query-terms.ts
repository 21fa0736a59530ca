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
  const words = [...query.normalize('NFKC').toLowerCase().matchAll(WORD)].map(([word]) => word);
  for (const [index, word] of words.entries()) {
    if (STOP_WORDS.has(word) || (word.length === 1 && !SPACELESS_CHARACTER.test(word))) continue;
    if (REQUEST_VERBS.has(word) && ADDRESSEES.has(words[index + 1] ?? '')) continue;
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
 * English stop words for questions: the function words of PostgreSQL's `english` list and the
 * vague verbs, quantifiers and adverbs of the SMART list (Salton's, as in Lewis et al. 2004) that
 * questions are full of and answers are rarely about ("how many", "tell me", "the best way to
 * see", "keeps happening"). Measured on the committed corpus (test/knowledge/search-quality):
 * the SMART words raised full-text first-hit accuracy; see docs/knowledge-search.md.
 */
/**
 * "tell me …", "show us …" ask for an answer and say nothing of what it is about, so the verb is
 * dropped before "me" or "us"; elsewhere it is the question's own verb and kept ("who do I tell"
 * is about reporting, and brings _inform_, _notify_, _report_ through the synonym list).
 */
const REQUEST_VERBS = new Set(['tell', 'show']);
const ADDRESSEES = new Set(['me', 'us']);

const STOP_WORDS = new Set(
  `a about above after again against all almost already also although always am among an and another
  any anybody anyone anything anyway anywhere are aren around as ask asking at away be became because
  become becomes been before being below best better between both but by can cannot could couldn did
  didn do does doesn doing don done down during each either else enough etc even ever every everyone
  everything few for from further get gets getting give given go goes going gone got had hadn has hasn
  have haven having he her here hers herself him himself his how however i if in instead into is isn it
  its itself just keep keeps kept know known last least less let lets like likely many may maybe me mean
  might more most much must my myself near need needs neither never new next no nobody none nor not
  nothing now of off often on once one only or other others otherwise ought our ours ourselves out over
  own please quite rather really said same say says see seem seems seen several shall she should
  shouldn since so some somebody someone something sometimes somewhere soon still such sure take
  than thank thanks that the their theirs them themselves then there these they thing things this those
  though through thus to together too toward try trying under until up upon us use used using usually
  very via want wants was wasn way we well were weren what whatever when whenever where whether which
  while who whom whose why will with within without won would wouldn yet you your yours yourself
  yourselves ll re ve`.split(/\s+/),
);
