import { parseHTML } from 'linkedom';

/** Below this much visible text a page with scripts is taken for a client-rendered shell. */
const SHELL_TEXT_CHARS = 200;

/** The mount points of client-rendered apps: React (CRA, Vite), Next, Nuxt, Gatsby, Vue, Angular, SvelteKit. */
const APP_ROOTS = '#root, #app, #__next, #__nuxt, #___gatsby, #svelte, app-root, [data-reactroot]';

/** Elements whose text a reader never sees as the page's content. */
const INVISIBLE = 'title, script, style, noscript, template, svg';

export type HtmlDocument = ReturnType<typeof parseHTML>['document'];

/** True when a page is a JavaScript-only shell (no server-rendered text), so indexing it would be empty. */
export function isJavaScriptShell(html: string): boolean {
  return isJavaScriptShellDocument(parseHTML(html).document);
}

/**
 * The same test on a parsed page. It removes the page's invisible elements, so run it after
 * anything else that reads the document. A page is a shell when it shows fewer than 200
 * characters of text while it has scripts, an app root left empty, or a `<noscript>` that
 * mentions JavaScript; a short page without scripts is just a short page.
 */
export function isJavaScriptShellDocument(document: HtmlDocument): boolean {
  const hasScripts = document.querySelector('script') !== null;
  const noscriptAsksForJavaScript = [...document.querySelectorAll('noscript')].some((element) =>
    (element.textContent ?? '').toLowerCase().includes('javascript'),
  );
  for (const element of document.querySelectorAll(INVISIBLE)) element.remove();
  const visibleText = collapse(documentText(document));
  if (visibleText.length >= SHELL_TEXT_CHARS) return false;
  const emptyAppRoot = [...document.querySelectorAll(APP_ROOTS)].some(
    (element) => collapse(element.textContent ?? '') === '',
  );
  return hasScripts || emptyAppRoot || noscriptAsksForJavaScript;
}

/**
 * All of the document's text. linkedom (0.18) parses a page without `<html>` as a list of
 * top-level nodes, so `documentElement` alone may hold only the first of them.
 */
function documentText(document: HtmlDocument): string {
  return [...document.childNodes].map((node) => node.textContent ?? '').join(' ');
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
