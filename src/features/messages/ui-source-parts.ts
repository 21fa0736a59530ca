import type { Citation } from '../../domain/citations.js';
import type { JsonObject } from '../../domain/models.js';

/**
 * A citation as the AI SDK's source chunk: `source-url` for a passage of a crawled page (it has
 * the page's URL), else `source-document` for a passage of an uploaded file. `sourceId` is the
 * chunk's id; `providerMetadata.parley` carries the file, the page and the quoted text, so a
 * client can show the passage without another request.
 */
export function sourceChunk(citation: Citation): JsonObject {
  const providerMetadata = { parley: { file_id: citation.file_id, page: citation.page, text: citation.text } };
  if (typeof citation.url === 'string') {
    return {
      type: 'source-url',
      sourceId: citation.chunk_id,
      url: citation.url,
      title: citation.title,
      providerMetadata,
    };
  }
  return {
    type: 'source-document',
    sourceId: citation.chunk_id,
    mediaType: mediaTypeOfName(citation.title),
    title: citation.title,
    filename: citation.title,
    providerMetadata,
  };
}

/**
 * The SDK's `source-document` needs a media type, and a knowledge hit carries the file's name,
 * not its detected type: the name's extension among the types Parley indexes is a hint for the
 * client's icon, `application/octet-stream` otherwise.
 */
const MEDIA_TYPES: Readonly<Record<string, string>> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  txt: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
  html: 'text/html',
  htm: 'text/html',
  csv: 'text/csv',
  json: 'application/json',
};

export function mediaTypeOfName(name: string): string {
  const dot = name.lastIndexOf('.');
  const extension = dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
  return Object.hasOwn(MEDIA_TYPES, extension) ? MEDIA_TYPES[extension]! : 'application/octet-stream';
}
