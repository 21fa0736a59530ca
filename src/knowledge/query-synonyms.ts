import { MAX_QUERY_TERMS } from './query-terms.js';

/**
 * Query-time synonym expansion for knowledge search (docs/knowledge-search.md, "Synonyms"): each
 * query term that names a group of the list below brings the group's other words into the OR
 * query, after every term of the question and within MAX_QUERY_TERMS. The index is untouched (no
 * re-index when the list changes), and the engines stem the added words like the question's.
 *
 * The list is a small general English thesaurus — everyday, workplace and computing words with
 * one dominant sense, and British/American spelling pairs — not a list of any corpus's words: a
 * word with several common senses ("shot", "tart", "role", "change", "link") is left out, since
 * expanding the wrong sense ranks unrelated passages. Groups are symmetric: any word of a group
 * brings the others.
 */
export function expandQueryTerms(terms: readonly string[]): string[] {
  const expanded = new Set(terms);
  for (const term of terms) {
    for (const synonym of synonymsOf(term)) {
      if (expanded.size >= MAX_QUERY_TERMS) return [...expanded];
      expanded.add(synonym);
    }
  }
  return [...expanded];
}

/**
 * The weights of a question's own words and of the synonyms expansion adds to them: a synonym's
 * part of the relevance is two thirds of a question word's, so a passage with the question's own
 * word ranks above one with only its synonym, other things equal (query expansion's usual
 * discount, as RM3 keeps the original query's weight above the expansion's). Whole numbers, as
 * the full-text index takes them (src/storage/kysely/file-chunks-full-text-index.ts).
 */
export const QUESTION_TERM_WEIGHT = 3;
export const SYNONYM_WEIGHT = 2;

/** The expanded terms of a question's terms, each with its weight (see QUESTION_TERM_WEIGHT). */
export function weightedQueryTerms(asked: readonly string[]): { terms: string[]; weights: number[] } {
  const own = new Set(asked);
  const terms = expandQueryTerms(asked);
  return { terms, weights: terms.map((term) => (own.has(term) ? QUESTION_TERM_WEIGHT : SYNONYM_WEIGHT)) };
}

/** The other words of the term's group, found by the term or a regular inflection's base. */
export function synonymsOf(term: string): string[] {
  for (const base of baseForms(term)) {
    const group = GROUPS.get(base);
    if (group) return group.filter((word) => word !== base);
  }
  return [];
}

/** The term, then the bases its regular English inflections (-s, -es, -ies, -ed, -ing) could have. */
function baseForms(term: string): string[] {
  const forms = [term];
  const add = (pattern: RegExp, replacement: string) => {
    if (pattern.test(term)) forms.push(term.replace(pattern, replacement));
  };
  add(/ies$/, 'y');
  add(/([sxz]|[cs]h)es$/, '$1');
  add(/([^s])s$/, '$1');
  add(/ied$/, 'y');
  add(/eed$/, 'ee');
  add(/([^e])ed$/, '$1');
  add(/([^e])ed$/, '$1e');
  add(/(.)\1ed$/, '$1');
  add(/ing$/, '');
  add(/ing$/, 'e');
  add(/(.)\1ing$/, '$1');
  return forms;
}

const SYNONYM_GROUPS = `
  bill invoice | disagree dispute | tell inform notify report | ill sick unwell
  holiday vacation | car automobile vehicle | buy purchase | begin start | fix repair mend
  fault defect malfunction | problem issue trouble | error mistake | permission privilege authorization
  allowed permitted | forbidden prohibited banned | price cost fee | reimburse refund repay
  salary wage | employee staff worker personnel | manager supervisor boss | colleague coworker
  company employer firm | customer client | help support assistance | phone telephone
  email mail | password passphrase passcode | login logon signin
  delete remove erase | clear empty | discard dispose | cancel revoke withdraw
  replace substitute swap | upgrade update | copy duplicate replica | quick fast rapid
  big large huge | small little tiny | cheap inexpensive | expensive costly | end finish
  doctor physician | medicine medication | injury injure hurt | vaccine inoculation
  child kid | baby infant newborn | house home | fridge refrigerator
  drink beverage | bike bicycle | trip journey | hotel accommodation lodging | luggage baggage
  meeting appointment | schedule timetable | overdue late | money cash funds | verify confirm
  screen monitor display | photo photograph picture | stuck jammed | broken faulty damaged
  internet online | website site | secret confidential | leak expose disclose | smell odour odor stink
  sour acidic | wet damp moist | cold chilly | ask request | answer reply respond | choose select pick
  receive obtain | send dispatch | buy acquire | rent lease | job occupation employment
  tyre tire | colour color | centre center | organise organize | licence license | programme program
  catalogue catalog | grey gray | litre liter
`;

/** Each word of the list to its whole group (the word included). */
const GROUPS: ReadonlyMap<string, readonly string[]> = (() => {
  const groups = new Map<string, string[]>();
  for (const line of SYNONYM_GROUPS.split(/[|\n]/)) {
    const words = line.trim().split(/\s+/);
    if (words.length < 2) continue;
    for (const word of words) groups.set(word, [...new Set([...(groups.get(word) ?? []), ...words])]);
  }
  return groups;
})();
