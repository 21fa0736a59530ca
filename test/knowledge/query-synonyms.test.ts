import { describe, expect, it } from 'vitest';
import {
  expandQueryTerms,
  QUESTION_TERM_WEIGHT,
  SYNONYM_WEIGHT,
  synonymsOf,
  weightedQueryTerms,
} from '../../src/knowledge/query-synonyms.js';
import { MAX_QUERY_TERMS, queryTerms } from '../../src/knowledge/query-terms.js';

describe('query synonyms', () => {
  it('adds the other words of a term’s group after every term of the question', () => {
    expect(expandQueryTerms(['customer', 'bill'])).toEqual(['customer', 'bill', 'client', 'invoice']);
  });

  it('weighs the question’s own words 3 and the added synonyms 2', () => {
    expect(weightedQueryTerms(['unpaid', 'bill'])).toEqual({
      terms: ['unpaid', 'bill', 'invoice'],
      weights: [QUESTION_TERM_WEIGHT, QUESTION_TERM_WEIGHT, SYNONYM_WEIGHT],
    });
    expect([QUESTION_TERM_WEIGHT, SYNONYM_WEIGHT]).toEqual([3, 2]);
    // A synonym the question also asks is the question's word.
    expect(weightedQueryTerms(['bill', 'invoice']).weights).toEqual([3, 3]);
  });

  it('finds a group through regular inflections of its words', () => {
    expect(synonymsOf('disagrees')).toEqual(['dispute']);
    expect(synonymsOf('disagreed')).toEqual(['dispute']);
    expect(synonymsOf('invoices')).toEqual(['bill']);
    expect(synonymsOf('repairing')).toEqual(['fix', 'mend']);
    expect(synonymsOf('stopped')).toEqual([]);
  });

  it('is symmetric, and spelling variants are a group', () => {
    expect(synonymsOf('invoice')).toEqual(['bill']);
    expect(synonymsOf('tyre')).toEqual(['tire']);
    expect(synonymsOf('tire')).toEqual(['tyre']);
  });

  it('leaves words with several common senses alone', () => {
    for (const word of ['shot', 'tart', 'role', 'change', 'link', 'flat', 'check'])
      expect(synonymsOf(word)).toEqual([]);
  });

  it('never adds a term twice and stops at MAX_QUERY_TERMS', () => {
    expect(expandQueryTerms(['bill', 'invoice'])).toEqual(['bill', 'invoice']);
    const long = queryTerms(Array.from({ length: 31 }, (_, index) => `word${index}`).join(' ') + ' repair');
    expect(long).toHaveLength(32);
    expect(expandQueryTerms(long)).toEqual(long);
    const nearlyFull = [...long.slice(0, 30), 'repair'];
    expect(expandQueryTerms(nearlyFull)).toEqual([...nearlyFull, 'fix']);
    expect(MAX_QUERY_TERMS).toBe(32);
  });
});
