import { describe, expect, it } from 'vitest';
import { isJavaScriptShell } from '../../src/knowledge/crawl/site-crawler.js';

/** isJavaScriptShell: pages whose text only a browser running their scripts would see. */
const ARTICLE_TEXT =
  'Knowledge files let an agent answer from your own documents. Upload a PDF or add a URL; Parley extracts the text, splits it into passages and indexes them for search, then cites the passages it used in its answers.';

describe('isJavaScriptShell', () => {
  it.each([
    [
      'a server-rendered article with analytics scripts',
      `<html><head><title>Guide</title><script src="https://analytics.example/a.js"></script></head><body><article><h1>Guide</h1><p>${ARTICLE_TEXT}</p></article><script>window.dataLayer=[]</script></body></html>`,
    ],
    [
      'a Next.js page rendered on the server',
      `<html><body><div id="__next"><main><h1>Docs</h1><p>${ARTICLE_TEXT}</p></main></div><script id="__NEXT_DATA__" type="application/json">{"props":{}}</script></body></html>`,
    ],
    [
      'a short page without scripts',
      '<html><head><title>Contact</title></head><body><p>Write to us.</p></body></html>',
    ],
    ['an empty document', ''],
  ])('is false for %s', (_label, html) => {
    expect(isJavaScriptShell(html)).toBe(false);
  });

  it.each([
    [
      'a Create React App shell',
      '<!doctype html><html><head><title>React App</title><script defer src="/static/js/main.3f2a.js"></script></head><body><noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div></body></html>',
    ],
    [
      'a client-rendered Next.js shell',
      '<html><head><title>Loading…</title></head><body><div id="__next"></div><script src="/_next/static/chunks/main.js"></script><script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{"text":"' +
        'hidden text '.repeat(50) +
        '"}}}</script></body></html>',
    ],
    ['a Vue mount point', '<body><div id="app"></div><script type="module" src="/assets/index.js"></script></body>'],
    ['an Angular root', '<html><body><app-root></app-root><script src="main.js" type="module"></script></body></html>'],
    [
      'a page whose noscript asks for JavaScript',
      '<html><body><noscript><p>Please turn on JavaScript to read this site.</p></noscript><p>Loading</p></body></html>',
    ],
    [
      'a shell whose styles and templates hold the text',
      `<html><head><style>${'.a{color:red}'.repeat(40)}</style></head><body><template><p>${ARTICLE_TEXT}</p></template><div id="root"></div></body></html>`,
    ],
  ])('is true for %s', (_label, html) => {
    expect(isJavaScriptShell(html)).toBe(true);
  });
});
