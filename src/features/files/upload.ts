import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { AppError, validationError } from '../../errors.js';
import type { FileStorage, ReceivedFile } from '../../knowledge/file-storage.js';

/** An upload received to a temporary file: its bytes counted and hashed, its label sanitised. */
export interface ReceivedUpload extends ReceivedFile {
  /** The client's file name made safe to show (never used in a path). */
  name: string;
  /** The client's Content-Type for the part: a hint for detection, never trusted. */
  claimedType: string;
}

/** Limits busboy enforces on the parts around the file (field values are ignored). */
const PART_LIMITS = { fields: 20, fieldSize: 64 * 1024, parts: 30, headerPairs: 100 };

const FILE_FIELD = 'file';

/**
 * Reads the multipart body of an upload: exactly one file, in the field `file`, streamed to a
 * temporary file under the storage root (never held whole in memory) and refused with
 * `tooLarge()` as soon as more than `maxBytes` have arrived. Other fields are read and ignored.
 * Every failure removes what was written; on success the caller owns the temporary file.
 */
export async function receiveUpload(input: {
  request: FastifyRequest;
  storage: FileStorage;
  maxBytes: number;
  tooLarge: () => AppError;
}): Promise<ReceivedUpload> {
  const { request } = input;
  // What FastAPI answers for an UploadFile parameter when the body is not multipart: the field is missing.
  if (!request.isMultipart()) throw missingFile();
  let received: ReceivedUpload | undefined;
  try {
    for await (const part of request.parts({ limits: { ...PART_LIMITS, fileSize: input.maxBytes + 1 } })) {
      if (part.type !== 'file') continue;
      if (part.fieldname !== FILE_FIELD || received) {
        part.file.resume();
        throw validationError(['body', part.fieldname], 'Exactly one file is accepted, in the `file` field');
      }
      received = await receivePart(part, input);
    }
  } catch (error) {
    if (received) await input.storage.removeTemporary(received.temporaryPath);
    throw toUploadError(error);
  }
  if (!received) throw missingFile();
  return received;
}

async function receivePart(
  part: MultipartFile,
  input: { storage: FileStorage; maxBytes: number; tooLarge: () => AppError },
): Promise<ReceivedUpload> {
  const file = await input.storage.receive({ source: part.file, maxBytes: input.maxBytes, tooLarge: input.tooLarge });
  return { ...file, name: sanitizeFileName(part.filename), claimedType: part.mimetype };
}

function missingFile(): AppError {
  return validationError(['body', FILE_FIELD], 'Field required', 'missing');
}

/** Multipart's own errors (a malformed body, a limit) as the API's envelope; ours pass through. */
function toUploadError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const code = (error as { code?: unknown }).code;
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT' || code === 'FST_FILES_LIMIT') {
    return validationError(['body'], 'Too many parts in the multipart body', 'too_long');
  }
  if (code === 'FST_PROTO_VIOLATION') return validationError(['body'], 'Invalid part name', 'value_error');
  if (error instanceof Error && /multipart|boundary|part|form/i.test(error.message)) {
    return validationError(['body'], 'Malformed multipart/form-data body', 'value_error');
  }
  return error;
}

const MAX_NAME_LENGTH = 255;
const FALLBACK_NAME = 'upload';

/**
 * A file name as a display label: only its last path component (of `/` and `\` both), without
 * control characters (NUL included), Unicode format characters or lone surrogates, trimmed, at
 * most 255 characters (whole code points); `upload` when nothing (or only dots) is left.
 */
export function sanitizeFileName(raw: string | undefined): string {
  const last = (raw ?? '').split(/[/\\]/).pop() ?? '';
  const cleaned = last
    .toWellFormed()
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '')
    .normalize('NFC')
    .trim();
  const capped = [...cleaned].slice(0, MAX_NAME_LENGTH).join('').trim();
  // `.` and `..` name no file; a name of dots only is no label either.
  return capped === '' || /^\.+$/.test(capped) ? FALLBACK_NAME : capped;
}
