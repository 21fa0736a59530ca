import SwaggerParser from '@apidevtools/swagger-parser';
import { parse as parseYaml } from 'yaml';
import type { JsonObject } from '../../domain/models.js';

/** An OpenAPI description that could not be read, with a reason a user can act on. */
export class OpenApiDocumentError extends Error {
  override readonly name = 'OpenApiDocumentError';
}

/** Which description a document is: Swagger 2.0, or OpenAPI 3.0 / 3.1. */
export type OpenApiVersion = '2.0' | '3.0' | '3.1';

export interface OpenApiDocument {
  version: OpenApiVersion;
  /** The document with every internal `$ref` replaced by what it points to (cycles stay `$ref`). */
  document: JsonObject;
}

/** YAML aliases allowed in one document: a few hundred is generous, a "billion laughs" is not. */
const MAX_YAML_ALIASES = 500;

/**
 * Reads an OpenAPI 3.0/3.1 or Swagger 2.0 description given as JSON or YAML text, or as a parsed
 * object, and dereferences its internal `$ref`s with `@apidevtools/swagger-parser`. Nothing is
 * ever fetched or read from disk while doing so: a `$ref` to another file or a URL is refused
 * (external resolution is off), since it would be a request the guarded client did not make.
 */
export async function readOpenApiDocument(input: string | JsonObject): Promise<OpenApiDocument> {
  const parsed = typeof input === 'string' ? parseText(input) : structuredClone(input);
  const version = versionOf(parsed);
  try {
    // The parser is handed an object only: given a string it would read a file or a URL.
    const document = (await SwaggerParser.dereference(parsed as never, {
      resolve: { external: false },
      dereference: { circular: 'ignore' },
      validate: { schema: false, spec: false },
    })) as unknown as JsonObject;
    return { version, document };
  } catch (error) {
    throw new OpenApiDocumentError(`the description could not be dereferenced: ${messageOf(error)}`);
  }
}

function parseText(text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    try {
      value = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES, prettyErrors: false });
    } catch (error) {
      throw new OpenApiDocumentError(`the description is neither JSON nor YAML: ${messageOf(error)}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new OpenApiDocumentError('the description must be a JSON or YAML object');
  return value as JsonObject;
}

function versionOf(document: JsonObject): OpenApiVersion {
  if (document.swagger === '2.0') return '2.0';
  const openapi = typeof document.openapi === 'string' ? document.openapi : '';
  if (/^3\.0\.\d+$/.test(openapi)) return '3.0';
  if (/^3\.1\.\d+$/.test(openapi)) return '3.1';
  throw new OpenApiDocumentError(
    'not an OpenAPI 3.0/3.1 or Swagger 2.0 description (no "openapi" or "swagger" version)',
  );
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
