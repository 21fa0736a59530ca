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

export function renderMarkdown(markdown: string): string {
  return renderer.render(markdown);
}
