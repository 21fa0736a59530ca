import { afterAll, describe, expect, it } from 'vitest';
import { ExtractionError } from '../../src/knowledge/document.js';
import { DocumentExtractor } from '../../src/knowledge/extract/document-extractor.js';
import * as documents from '../fixtures/documents.js';

/** Each kind from a real generated file, with the exact sections extraction must produce. */
const extractor = new DocumentExtractor({ timeoutMs: 60_000, memoryMb: 512, concurrency: 2 });
afterAll(() => extractor.close());

const text = (value: string): Uint8Array => Buffer.from(value, 'utf8');

async function refusal(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  const error = await promise.then(
    () => new Error('extraction succeeded'),
    (reason: unknown) => reason as Error,
  );
  expect(error).toBeInstanceOf(ExtractionError);
  return { name: error.name, message: error.message };
}

describe('PDF', () => {
  it('keeps page numbers and joins lines into paragraphs', async () => {
    expect(await extractor.extract({ kind: 'pdf', bytes: await documents.textPdf() })).toEqual({
      title: 'Parley Handbook',
      pageCount: 3,
      sections: [
        { headingPath: [], page: 1, text: 'Welcome to Parley. This handbook explains the server.' },
        { headingPath: [], page: 1, text: 'Agents answer questions from their knowledge files.' },
        { headingPath: [], page: 2, text: 'Uploads are checked before extraction.' },
        { headingPath: [], page: 3, text: 'Search combines full text and vectors.' },
        { headingPath: [], page: 3, text: 'Answers cite their sources.' },
      ],
    });
  });

  it('reads a 300-page PDF, every page', async () => {
    const document = await extractor.extract({ kind: 'pdf', bytes: await documents.longPdf(300) });
    expect(document.pageCount).toBe(300);
    expect(document.sections).toEqual(
      Array.from({ length: 300 }, (_, index) => ({
        headingPath: [],
        page: index + 1,
        text: `Page ${index + 1} of the long report.`,
      })),
    );
  });

  it('says OCR is needed when no page has text', async () => {
    expect(await refusal(extractor.extract({ kind: 'pdf', bytes: await documents.imageOnlyPdf() }))).toEqual({
      name: 'ExtractionError',
      message: 'no text layer (OCR needed)',
    });
  });

  it('says a garbled PDF is damaged', async () => {
    expect(await refusal(extractor.extract({ kind: 'pdf', bytes: await documents.corruptPdf() }))).toEqual({
      name: 'ExtractionError',
      message: 'the PDF is damaged or not a PDF: its structure is invalid',
    });
  });
});

describe('Office documents', () => {
  it('DOCX: headings become the path, list items and table rows sections', async () => {
    const path = ['Onboarding Guide'];
    expect(await extractor.extract({ kind: 'docx', bytes: await documents.docx() })).toEqual({
      title: 'Onboarding Guide',
      pageCount: null,
      sections: [
        { headingPath: path, page: null, text: 'Read this before your first day.' },
        { headingPath: [...path, 'Equipment'], page: null, text: 'A laptop' },
        { headingPath: [...path, 'Equipment'], page: null, text: 'A badge' },
        { headingPath: [...path, 'Contacts'], page: null, text: 'Name: Ada; Role: Engineer' },
        { headingPath: [...path, 'Contacts'], page: null, text: 'Name: Grace; Role: Admiral' },
        { headingPath: [...path, 'Contacts'], page: null, text: 'Ask either of them.' },
      ],
    });
  });

  it('DOCX: a ZIP that is no Word document is damaged', async () => {
    const bytes = documents.rawZip([documents.storedEntry('notes.txt', 'hello')]);
    expect(await refusal(extractor.extract({ kind: 'docx', bytes }))).toEqual({
      name: 'ExtractionError',
      message: 'the DOCX file is damaged or incomplete',
    });
  });

  it('XLSX: one section per row under the sheet name, page = sheet index', async () => {
    expect(await extractor.extract({ kind: 'xlsx', bytes: await documents.xlsx() })).toEqual({
      title: 'Team sheet',
      pageCount: 2,
      sections: [
        { headingPath: ['People'], page: 1, text: 'Name: Ada; Role: Engineer; Active: TRUE' },
        { headingPath: ['People'], page: 1, text: 'Name: Grace; Active: FALSE' },
        { headingPath: ['Prices'], page: 2, text: 'Item: Tea; Price: 3.5' },
      ],
    });
  });

  it('PPTX: one section per slide in presentation order', async () => {
    expect(await extractor.extract({ kind: 'pptx', bytes: await documents.pptx() })).toEqual({
      title: null,
      pageCount: 2,
      sections: [
        { headingPath: [], page: 1, text: 'Quarterly results\nRevenue grew' },
        { headingPath: [], page: 2, text: 'Roadmap\nShip search' },
      ],
    });
  });
});

describe('web and text formats', () => {
  it('HTML: the article without navigation, cookie banner, scripts or footer', async () => {
    const document = await extractor.extract({
      kind: 'html',
      bytes: text(documents.HTML_ARTICLE),
      url: 'https://docs.example.com/notes',
    });
    expect(document).toEqual({
      title: 'Release notes | Parley',
      pageCount: null,
      sections: [
        {
          headingPath: [],
          page: null,
          text: 'Parley 0.2 adds knowledge files to agents. Upload documents or add web pages, and agents answer from them with citations that point to the page and the heading.',
        },
        {
          headingPath: ['Uploads'],
          page: null,
          text: 'Every upload is checked before extraction: the type is decided from the bytes, archives are inspected for zip bombs, and extraction runs in a worker thread with a memory cap.',
        },
        { headingPath: ['Uploads'], page: null, text: 'PDF and DOCX documents' },
        { headingPath: ['Uploads'], page: null, text: 'Spreadsheets and presentations' },
        {
          headingPath: ['Search'],
          page: null,
          text: "Search combines full-text ranking with vector similarity when an embedding model is configured, and it never mixes one organisation's files with another's.",
        },
      ],
    });
  });

  it('HTML: falls back to the body when Readability finds no article', async () => {
    const html =
      '<html><head><title>Tiny</title></head><body><nav>Menu</nav><h2>Hours</h2>Open 9 to 5<footer>(c)</footer></body></html>';
    expect(await extractor.extract({ kind: 'html', bytes: text(html) })).toEqual({
      title: 'Tiny',
      pageCount: null,
      sections: [{ headingPath: ['Hours'], page: null, text: 'Open 9 to 5' }],
    });
  });

  it('CSV: BOM dropped, `;` detected, the header names each value', async () => {
    expect(await extractor.extract({ kind: 'csv', bytes: text(documents.CSV_SEMICOLON) })).toEqual({
      title: null,
      pageCount: null,
      sections: [
        { headingPath: [], page: null, text: 'name: Ada; role: engineer; city: London' },
        { headingPath: [], page: null, text: 'name: Hopper; Grace; role: admiral' },
      ],
    });
  });

  it('CSV: tab and pipe delimiters are detected too', async () => {
    const tabbed = await extractor.extract({ kind: 'csv', bytes: text('a\tb\n1\t2\n') });
    const piped = await extractor.extract({ kind: 'csv', bytes: text('a|b\n1|2\n') });
    expect([tabbed.sections, piped.sections]).toEqual([
      [{ headingPath: [], page: null, text: 'a: 1; b: 2' }],
      [{ headingPath: [], page: null, text: 'a: 1; b: 2' }],
    ]);
  });

  it('JSON array: one section per element, nested keys with dots', async () => {
    expect(await extractor.extract({ kind: 'json', bytes: text(documents.JSON_ARRAY) })).toEqual({
      title: null,
      pageCount: null,
      sections: [
        { headingPath: [], page: null, text: 'name: Ada\naddress.city: London\naddress.zip: N1\ntags: math, engines' },
        { headingPath: [], page: null, text: 'name: Grace\nactive: true\nprojects.0.name: COBOL' },
      ],
    });
  });

  it('JSON object: one section per top-level key, under that key', async () => {
    expect(await extractor.extract({ kind: 'json', bytes: text(documents.JSON_OBJECT) })).toEqual({
      title: null,
      pageCount: null,
      sections: [
        { headingPath: ['title'], page: null, text: 'Settings' },
        { headingPath: ['limits'], page: null, text: 'upload: 100\npages: 50' },
        { headingPath: ['owners'], page: null, text: 'ops' },
      ],
    });
  });

  it('JSON: deep nesting is written as compact JSON below depth 8', async () => {
    const deep = { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: 1 } } } } } } } } } };
    const document = await extractor.extract({ kind: 'json', bytes: text(JSON.stringify([deep])) });
    expect(document.sections).toEqual([{ headingPath: [], page: null, text: 'a.b.c.d.e.f.g.h: {"i":{"j":1}}' }]);
  });

  it('Markdown: headings nest, paragraphs, list items, code and table rows are sections', async () => {
    const path = ['Guide', 'Install'];
    expect(await extractor.extract({ kind: 'markdown', bytes: text(documents.MARKDOWN) })).toEqual({
      title: 'Guide',
      pageCount: null,
      sections: [
        { headingPath: ['Guide'], page: null, text: 'Intro paragraph\non two lines.' },
        { headingPath: path, page: null, text: 'Run npm ci' },
        { headingPath: path, page: null, text: 'Start the server' },
        { headingPath: path, page: null, text: 'npm start' },
        { headingPath: path, page: null, text: 'Key: port; Value: 8080' },
      ],
    });
  });

  it('plain text: paragraphs between blank lines, in UTF-8 or UTF-16 with a BOM', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Hello\r\nworld\r\n\r\nBye', 'utf16le')]);
    const expected = {
      title: null,
      pageCount: null,
      sections: [
        { headingPath: [], page: null, text: 'Hello\nworld' },
        { headingPath: [], page: null, text: 'Bye' },
      ],
    };
    expect(await extractor.extract({ kind: 'text', bytes: text('Hello\nworld\n\n\n  \nBye\n') })).toEqual(expected);
    expect(await extractor.extract({ kind: 'text', bytes: utf16 })).toEqual(expected);
  });
});

describe('extraction that finds nothing', () => {
  it.each([
    ['text', '   \n\n  \n'],
    ['markdown', '# \n\n'],
    ['html', '<!doctype html><html><body><script>x()</script><nav>Home</nav></body></html>'],
    ['csv', '\uFEFF\n\n'],
    ['json', '[]'],
  ] as const)('%s without text is an error, not an empty success', async (kind, content) => {
    expect(await refusal(extractor.extract({ kind, bytes: text(content) }))).toEqual({
      name: 'ExtractionError',
      message: 'no text found in the file',
    });
  });

  it('invalid JSON and invalid UTF-8 are named', async () => {
    expect(await refusal(extractor.extract({ kind: 'json', bytes: text('{"a": ') }))).toEqual({
      name: 'ExtractionError',
      message: 'the file is not valid JSON',
    });
    expect(await refusal(extractor.extract({ kind: 'text', bytes: Buffer.from([0x61, 0xff, 0x62]) }))).toEqual({
      name: 'ExtractionError',
      message: 'the file is not valid UTF-8 text',
    });
  });

  it('reads the file from a path as well as from bytes', async () => {
    const fs = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-extract-'));
    const file = path.join(directory, 'upload');
    await fs.writeFile(file, 'From disk');
    try {
      expect((await extractor.extract({ kind: 'text', path: file })).sections).toEqual([
        { headingPath: [], page: null, text: 'From disk' },
      ]);
    } finally {
      await fs.rm(directory, { recursive: true });
    }
  });
});
