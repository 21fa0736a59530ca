import path from 'node:path';
import { DOMParser } from 'linkedom';
import { ExtractionError } from '../document.js';
import { bytesSource, type ByteSource } from '../byte-source.js';
import { readZipDirectory, readZipEntry, ZipRefused, type ZipEntry } from '../zip-archive.js';

/**
 * Reading the parts of an OOXML package (XLSX, PPTX) with the bounded ZIP reader: each part is
 * inflated with a cap (never more than its directory entry declares, nor MAX_PART_BYTES), and
 * parsed by linkedom's XML parser, which expands no entities and fetches nothing (no XXE, no
 * "billion laughs"). Elements are matched by local name, so `x:row` and `row` are the same.
 */
export interface XmlElement {
  readonly localName?: string;
  readonly nodeName: string;
  readonly nodeType: number;
  readonly textContent: string | null;
  readonly childNodes: ArrayLike<XmlElement>;
  getAttribute(name: string): string | null;
}

const MAX_PART_BYTES = 128 * 1024 * 1024;
const ELEMENT = 1;

export class OoxmlPackage {
  private constructor(
    private readonly source: ByteSource,
    private readonly entries: ReadonlyMap<string, ZipEntry>,
  ) {}

  static async open(bytes: Uint8Array): Promise<OoxmlPackage> {
    const source = bytesSource(bytes);
    const entries = await zipCall(() => readZipDirectory(source));
    return new OoxmlPackage(source, new Map(entries.map((entry) => [entry.name, entry])));
  }

  /** Inflates every part (but those under `except`) with the byte cap, keeping nothing: throws when one lies. */
  async verifyParts(options: { except: string }): Promise<void> {
    for (const entry of this.entries.values()) {
      if (entry.name.startsWith(options.except) || entry.name.endsWith('/')) continue;
      await zipCall(() => readZipEntry({ source: this.source, entry, maxBytes: MAX_PART_BYTES }));
    }
  }

  /** The parsed part, or null when the package has no such part. */
  async part(name: string): Promise<XmlElement | null> {
    const entry = this.entries.get(name);
    if (entry === undefined) return null;
    const bytes = await zipCall(() => readZipEntry({ source: this.source, entry, maxBytes: MAX_PART_BYTES }));
    const document = new DOMParser().parseFromString(bytes.toString('utf8'), 'text/xml');
    return document as unknown as XmlElement;
  }

  async requirePart(name: string): Promise<XmlElement> {
    const part = await this.part(name);
    if (part === null) throw new ExtractionError(`the file is damaged: its part ${name} is missing`);
    return part;
  }

  /** The targets of a part's relationships, by id, as part names; `type` filters by the type's last segment. */
  async relationships(partName: string, type?: string): Promise<Map<string, string>> {
    const folder = path.posix.dirname(partName);
    const relationshipsName = path.posix.join(folder, '_rels', `${path.posix.basename(partName)}.rels`);
    const part = await this.part(relationshipsName);
    const targets = new Map<string, string>();
    for (const relationship of part === null ? [] : elements(part, 'Relationship')) {
      const id = relationship.getAttribute('Id');
      const target = relationship.getAttribute('Target');
      if (id === null || target === null || relationship.getAttribute('TargetMode') === 'External') continue;
      if (type !== undefined && !relationship.getAttribute('Type')?.endsWith(`/${type}`)) continue;
      targets.set(id, target.startsWith('/') ? target.slice(1) : path.posix.join(folder, target));
    }
    return targets;
  }

  /** The main part (`xl/workbook.xml`, `ppt/presentation.xml`), found through the package relationships. */
  async mainPartName(): Promise<string> {
    const [main] = (await this.relationships('', 'officeDocument')).values();
    if (main === undefined) throw new ExtractionError('the file is damaged: it names no main part');
    return main;
  }

  /** `dc:title` of docProps/core.xml, when the package has one. */
  async title(): Promise<string | null> {
    const core = await this.part('docProps/core.xml');
    const title = core === null ? '' : (elements(core, 'title')[0]?.textContent ?? '').trim();
    return title || null;
  }
}

/** Descendant elements with this local name, in document order. */
export function elements(root: XmlElement, localName: string): XmlElement[] {
  const found: XmlElement[] = [];
  const pending: XmlElement[] = [root];
  while (pending.length > 0) {
    const node = pending.pop() as XmlElement;
    const children = Array.from(node.childNodes).filter((child) => child.nodeType === ELEMENT);
    for (let index = children.length - 1; index >= 0; index -= 1) pending.push(children[index] as XmlElement);
    if (node !== root && localNameOf(node) === localName) found.push(node);
  }
  return found;
}

function localNameOf(node: XmlElement): string {
  const name = node.nodeName;
  return name.slice(name.indexOf(':') + 1);
}

async function zipCall<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof ZipRefused) throw new ExtractionError(`the file cannot be read: ${error.message}`);
    throw error;
  }
}
