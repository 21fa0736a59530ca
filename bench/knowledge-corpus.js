/**
 * Synthetic text for bench/knowledge.js: pseudo-words (syllables) drawn from a Zipf distribution
 * (the k-th most common word k times rarer than the first), as natural language is; the same seed
 * always gives the same text.
 */
const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ne',
  'ru',
  'sa',
  'ti',
  'vo',
  'ze',
  'pa',
  'dri',
  'fen',
  'gol',
  'har',
  'jun',
  'bex',
];

export function vocabulary(size, seed) {
  const next = random(seed);
  const words = new Set();
  while (words.size < size) {
    const length = 2 + Math.floor(next() * 3);
    words.add(Array.from({ length }, () => SYLLABLES[Math.floor(next() * SYLLABLES.length)]).join(''));
  }
  return zipf([...words]);
}

function zipf(words) {
  const cumulative = new Float64Array(words.length);
  let total = 0;
  for (let rank = 0; rank < words.length; rank += 1) {
    total += 1 / (rank + 1);
    cumulative[rank] = total;
  }
  const ranks = new Map(words.map((word, rank) => [word, rank]));
  return {
    words,
    rank: (word) => ranks.get(word),
    draw(next) {
      const target = next() * total;
      let low = 0;
      let high = words.length - 1;
      while (low < high) {
        const middle = (low + high) >> 1;
        if (cumulative[middle] < target) low = middle + 1;
        else high = middle;
      }
      return words[low];
    },
  };
}

/** A document of `sections` paragraphs of 30–60 words under headings that change every 8 sections. */
export function syntheticDocument({ words, seed, sections }) {
  const next = random(seed);
  const paragraphs = [];
  let heading = [];
  for (let index = 0; index < sections; index += 1) {
    if (index % 8 === 0) heading = ['Guide', `${words.draw(next)} ${words.draw(next)}`];
    const length = 30 + Math.floor(next() * 30);
    const text = Array.from({ length }, (_, position) => words.draw(next) + (position % 12 === 11 ? '.' : '')).join(
      ' ',
    );
    paragraphs.push({ headingPath: heading, page: null, text: `${text}.` });
  }
  return { title: null, sections: paragraphs, pageCount: null };
}

/**
 * A question of 2–5 content words, plus stop words (which search drops). The vocabulary's 100 most
 * common words play the part of a language's stop words (in English they are about half of all
 * words) and are not drawn: a real question's words, once stop words are gone, are content words.
 * Below rank 100 the draw follows the same Zipf law, so a query still often has a word that is in
 * a tenth of all chunks.
 */
export function syntheticQuery({ words, seed }) {
  const next = random(seed);
  const length = 2 + Math.floor(next() * 4);
  const content = () => {
    for (;;) {
      const word = words.draw(next);
      if (words.rank(word) >= STOP_RANKS) return word;
    }
  };
  return `how do the ${Array.from({ length }, content).join(' ')} work?`;
}

const STOP_RANKS = 100;

/** An agent_files row, ready at generation 1 (the agent-files store is the ingestion side's). */
export function knowledgeFile({ id, organizationId, agentId }) {
  const now = new Date().toISOString();
  return {
    id,
    organization_id: organizationId,
    agent_id: agentId,
    name: `${id}.md`,
    source: 'upload',
    source_url: null,
    kind: 'markdown',
    mime_type: 'text/markdown',
    size: 1,
    sha256: null,
    storage_key: `${organizationId}/${id}`,
    status: 'ready',
    error_message: null,
    metadata: '{}',
    ready_generation: 1,
    building_generation: 1,
    chunk_count: 0,
    text_bytes: 0,
    indexed_at: now,
    created_at: now,
    updated_at: now,
  };
}

/** mulberry32: small, fast and deterministic. */
/** A small seeded generator (mulberry32): the same seed, the same numbers. */
export function random(seed) {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}
