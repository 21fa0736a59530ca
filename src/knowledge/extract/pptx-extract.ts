import type { ExtractedDocument } from '../document.js';
import { elements, OoxmlPackage } from './ooxml-package.js';
import { SectionCollector } from './section-collector.js';

/**
 * A presentation: one section per slide in presentation order (page = slide number), its
 * paragraphs' text runs (`a:t`) joined, one line per paragraph. Speaker notes are not read.
 */
export async function extractPptx(bytes: Uint8Array): Promise<ExtractedDocument> {
  const presentationPackage = await OoxmlPackage.open(bytes);
  const presentationName = await presentationPackage.mainPartName();
  const presentation = await presentationPackage.requirePart(presentationName);
  const targets = await presentationPackage.relationships(presentationName, 'slide');
  const slides = elements(presentation, 'sldId');
  const collector = new SectionCollector();
  for (const [index, slide] of slides.entries()) {
    const target = targets.get(slide.getAttribute('r:id') ?? '');
    const slidePart = target === undefined ? null : await presentationPackage.part(target);
    if (slidePart === null) continue;
    const paragraphs = elements(slidePart, 'p')
      .filter((paragraph) => paragraph.nodeName.endsWith('a:p') || paragraph.nodeName === 'p')
      .map((paragraph) =>
        elements(paragraph, 't')
          .map((run) => run.textContent ?? '')
          .join('')
          .trim(),
      );
    collector.add(paragraphs.filter((text) => text !== '').join('\n'), index + 1);
  }
  return { title: await presentationPackage.title(), sections: collector.sections, pageCount: slides.length };
}
