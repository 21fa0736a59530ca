import type { ExtractedDocument } from '../document.js';
import { SectionCollector } from './section-collector.js';

/** Plain text: one section per paragraph (lines between blank lines), line breaks kept. */
export function extractPlainText(text: string): ExtractedDocument {
  const collector = new SectionCollector();
  let paragraph: string[] = [];
  // split/join rather than a multi-line regex: linear on any input (ADR 0009).
  for (const line of text.split('\n')) {
    const clean = line.replace(/\r$/, '').trimEnd();
    if (clean.trim() === '') {
      collector.add(paragraph.join('\n'));
      paragraph = [];
    } else {
      paragraph.push(clean);
    }
  }
  collector.add(paragraph.join('\n'));
  return { title: null, sections: collector.sections, pageCount: null };
}
