import MarkdownIt from 'markdown-it';

/**
 * Renders a reply's Markdown to HTML that is safe to insert into a page. Safety comes from
 * construction rather than from cleaning afterwards: raw HTML in the Markdown is escaped (never
 * passed through), so no element or attribute the text writes can carry script or event
 * handlers, and links and images go through markdown-it's URL check, which refuses
 * `javascript:`, `vbscript:`, `file:` and non-image `data:` URLs. Links open without the opener.
 */
const renderer = new MarkdownIt({ html: false, linkify: true, breaks: false });

const defaultLinkOpen =
  renderer.renderer.rules.link_open ??
  ((tokens, index, options, _env, self) => self.renderToken(tokens, index, options));
renderer.renderer.rules.link_open = (tokens, index, options, env, self) => {
  tokens[index]!.attrSet('rel', 'noopener noreferrer nofollow');
  return defaultLinkOpen(tokens, index, options, env, self);
};

/**
 * Longest reply rendered as Markdown, in UTF-16 code units (64 KiB of ASCII). markdown-it 15 is
 * linear on every shape tried (test/unit/text-paths-linear.test.ts), but a render still holds the
 * loop: 64 KiB took up to 170 ms on the benchmark machine (`![` repeated), about 15 ms as prose.
 * A longer reply is shown as plain text, which took at most 75 ms per MiB there (a paragraph every
 * four characters), as much per MiB at 64 KiB as at 4 MiB.
 */
export const MAX_RENDERED_MARKDOWN_LENGTH = 65_536;

export function renderMarkdown(markdown: string): string {
  if (markdown.length > MAX_RENDERED_MARKDOWN_LENGTH) return renderPlainText(markdown);
  return renderer.render(markdown);
}

/**
 * Text as HTML without Markdown: escaped (so as safe as a render), a paragraph per run of text
 * between blank lines, `<br>` at each other line break. Line breaks are replaced by split/join:
 * on Node 20 (V8 11.3) `replaceAll` cost twice as much per line break at 1 MiB as at 64 KiB, while
 * split/join stays at about 11 ns a character.
 */
function renderPlainText(text: string): string {
  const escaped = renderer.utils.escapeHtml(text.replace(/\r\n?/g, '\n'));
  return escaped
    .split(/\n[\t ]*\n/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph !== '')
    .map((paragraph) => `<p>${paragraph.split('\n').join('<br>\n')}</p>\n`)
    .join('');
}
