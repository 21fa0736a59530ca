import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bytesSource } from '../../src/knowledge/byte-source.js';
import { detectDocumentType, FileTypeRefused } from '../../src/knowledge/file-type.js';
import { isSafeEntryName, readZipDirectory, readZipEntry, ZipRefused } from '../../src/knowledge/zip-archive.js';
import * as documents from '../fixtures/documents.js';

/** The ZIP directory is checked before any library reads an OOXML package (T25: zip bombs). */
const MIB = 1024 * 1024;

async function refusal(bytes: Uint8Array): Promise<{ code: string; message: string }> {
  const error = await detectDocumentType({ bytes, fileName: 'report.docx', claimedType: undefined }).then(
    () => new Error('detection accepted the archive'),
    (reason: unknown) => reason as Error,
  );
  expect(error).toBeInstanceOf(FileTypeRefused);
  return { code: (error as FileTypeRefused).code, message: error.message };
}

const contentTypes = documents.storedEntry('[Content_Types].xml', documents.contentTypesFor('docx'));

describe('ZIP containers refused as unsafe', () => {
  it('a zip bomb: 64 MiB of zeros in one entry (about 1000:1)', async () => {
    const document = documents.deflatedEntry('word/document.xml', Buffer.alloc(64 * MIB));
    const bomb = documents.rawZip([contentTypes, document]);
    expect(bomb.byteLength).toBeLessThan(MIB);
    // The exact ratio depends on the zlib build (about 1030:1).
    const ratio = Math.round((64 * MIB) / document.data.byteLength);
    expect(await refusal(bomb)).toEqual({
      code: 'unsafe_file',
      message: `the archive looks like a zip bomb: an entry expands ${ratio} times (at most 100 are accepted)`,
    });
  });

  it('more than 512 MiB declared in total, each entry under the ratio cap', async () => {
    const data = Buffer.alloc(MIB + 1);
    const entries = Array.from({ length: 6 }, (_, index) => ({
      name: `part${index}.bin`,
      data,
      method: 8 as const,
      declaredSize: 100 * MIB,
      crc: 0,
    }));
    expect(await refusal(documents.rawZip([contentTypes, ...entries]))).toEqual({
      code: 'unsafe_file',
      message: 'the archive would expand to more than 512 MiB',
    });
  });

  it('more than 10,000 entries', async () => {
    const entries = Array.from({ length: 10_001 }, (_, index) => documents.storedEntry(`f${index}`, ''));
    expect(await refusal(documents.rawZip(entries))).toEqual({
      code: 'unsafe_file',
      message: 'the archive has 10001 entries (at most 10000 are accepted)',
    });
  });

  it('an encrypted entry', async () => {
    expect(
      await refusal(documents.rawZip([contentTypes, { ...documents.storedEntry('word/document.xml', 'x'), flags: 1 }])),
    ).toEqual({
      code: 'unsafe_file',
      message: 'the archive is encrypted',
    });
  });

  it.each(['../evil.xml', 'word/../../evil.xml', '/etc/passwd', '\\evil.xml', 'C:\\evil.xml', 'word\\..\\..\\x'])(
    'an entry named %s',
    async (name) => {
      expect(await refusal(documents.rawZip([contentTypes, documents.storedEntry(name, 'x')]))).toEqual({
        code: 'unsafe_file',
        message: 'the archive contains an entry with an unsafe path',
      });
    },
  );

  it('a compression method other than stored or deflate', async () => {
    const entry = { ...documents.storedEntry('word/document.xml', 'x'), method: 12 as unknown as 0 };
    expect(await refusal(documents.rawZip([contentTypes, entry]))).toEqual({
      code: 'unsafe_file',
      message: 'the archive uses a compression method that is not supported',
    });
  });

  it('a truncated archive (no end of central directory)', async () => {
    const valid = await documents.docx();
    expect(await refusal(valid.subarray(0, valid.byteLength - 30))).toEqual({
      code: 'unsafe_file',
      message: 'the archive is damaged or not a ZIP file',
    });
  });

  it('a ZIP64 archive', async () => {
    const zip = Buffer.from(documents.rawZip([contentTypes]));
    zip.writeUInt32LE(0xffffffff, zip.byteLength - 6);
    expect(await refusal(zip)).toEqual({
      code: 'unsafe_file',
      message: 'the archive uses ZIP64, which is not supported',
    });
  });
});

describe('reading entries with a byte cap', () => {
  it('an entry whose directory lies about its size is stopped at the declared size', async () => {
    const data = documents.deflatedZeros(256);
    const lying = { name: 'word/document.xml', data, method: 8 as const, declaredSize: data.byteLength, crc: 0 };
    const source = bytesSource(documents.rawZip([contentTypes, lying]));
    const entries = await readZipDirectory(source);
    const entry = entries.find((candidate) => candidate.name === 'word/document.xml')!;
    const error = await readZipEntry({ source, entry, maxBytes: 512 * MIB }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ZipRefused);
    expect((error as Error).message).toBe(
      "the archive's part word/document.xml holds more data than its directory declares",
    );
  });

  it('an honest entry inflates to its bytes', async () => {
    const source = bytesSource(documents.rawZip([documents.deflatedEntry('a.txt', Buffer.from('hello hello hello'))]));
    const [entry] = await readZipDirectory(source);
    expect((await readZipEntry({ source, entry: entry!, maxBytes: MIB })).toString()).toBe('hello hello hello');
    expect(zlib.crc32(await readZipEntry({ source, entry: entry!, maxBytes: MIB }))).toBe(
      zlib.crc32('hello hello hello'),
    );
  });

  it('an entry larger than the caller allows is refused before inflating', async () => {
    const source = bytesSource(documents.rawZip([documents.deflatedEntry('big.xml', Buffer.alloc(2 * MIB, 'a'))]));
    const [entry] = await readZipDirectory(source, {
      maxTotalBytes: 8 * MIB,
      maxEntries: 10,
      maxRatio: 10_000,
      ratioFloorBytes: 0,
    });
    const error = await readZipEntry({ source, entry: entry!, maxBytes: MIB }).catch((reason: unknown) => reason);
    expect((error as Error).message).toBe("the archive's part big.xml is larger than 1 MiB");
  });

  it('safe names are the relative ones without `..`', () => {
    expect(['word/document.xml', '[Content_Types].xml', 'a..b/c'].map(isSafeEntryName)).toEqual([true, true, true]);
    expect(['', 'a\0b', '../x', 'd:/x'].map(isSafeEntryName)).toEqual([false, false, false, false]);
  });
});
