import MarkdownIt from 'markdown-it';
import type { ExtractedDocument } from '../document.js';
import { formatRecord, SectionCollector } from './section-collector.js';

/**
 * Markdown through markdown-it's token stream (no rendering): `#` and underlined headings set
 * the heading path; each paragraph, list item's paragraph and code block becomes a section, in
 * plain text (emphasis and link markup dropped, line breaks kept); a table becomes one section
 * per body row (`header: value; …`). Raw HTML blocks are left out.
 */
type Token = ReturnType<InstanceType<typeof MarkdownIt>['parse']>[number];

const parser = new MarkdownIt({ html: true });

export function extractMarkdown(text: string): ExtractedDocument {
  const collector = new SectionCollector();
  const table = { header: [] as string[], row: [] as string[], inHead: false };
  const tokens = parser.parse(text, {});
  tokens.forEach((token, index) => {
    const inline = tokens[index + 1];
    if (token.type === 'heading_open' && inline) collector.heading(Number(token.tag.slice(1)), plain(inline));
    else if (token.type === 'paragraph_open' && inline) collector.add(plain(inline));
    else if (token.type === 'fence' || token.type === 'code_block') collector.add(token.content);
    else if (token.type === 'thead_open') table.inHead = true;
    else if (token.type === 'thead_close') table.inHead = false;
    else if ((token.type === 'th_open' || token.type === 'td_open') && inline) table.row.push(plain(inline));
    else if (token.type === 'tr_close') {
      if (table.inHead) table.header = table.row;
      else collector.add(formatRecord(table.header, table.row));
      table.row = [];
    }
  });
  return { title: collector.firstHeading, sections: collector.sections, pageCount: null };
}

function plain(inline: Token): string {
  return (inline.children ?? [])
    .map((child: Token) => {
      if (child.type === 'text' || child.type === 'code_inline' || child.type === 'image') return child.content;
      if (child.type === 'softbreak' || child.type === 'hardbreak') return '\n';
      return '';
    })
    .join('');
}
