import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { expect, onTestFinished } from 'vitest';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

interface CheckedResponse {
  method: string;
  url: string;
  status: number;
  contentType: string;
  body: unknown;
}

interface DocumentedOperation {
  method: string;
  path: string;
  pattern: RegExp;
  parameterCount: number;
  /** Status → validator of its JSON body, or null when the status declares no JSON body. */
  responses: Map<string, ValidateFunction | null>;
}

/**
 * Checks every JSON response the HTTP suite receives through `injectRequest` against the
 * response the OpenAPI document declares for that operation and status: a status the operation
 * does not declare, or a body its schema refuses, fails the test that received it (after the
 * test has run, with every such response listed). Requests to no documented operation (unknown
 * paths, other methods, /docs) are not checked.
 */
export class ResponseCheck {
  #operations: Promise<DocumentedOperation[]> | undefined;
  readonly #pending = new Map<string, string[]>();

  constructor(private readonly app: FastifyInstance) {}

  async check(input: CheckedResponse): Promise<void> {
    const problem = await this.problemWith(input);
    if (problem !== null) this.#fail(problem);
  }

  /** What is wrong with the response by the document, or null. */
  async problemWith(input: CheckedResponse): Promise<string | null> {
    if (!input.contentType.includes('application/json')) return null;
    const pathname = new URL(input.url, 'http://parley.test').pathname;
    const operation = (await this.operations()).find(
      (candidate) => candidate.method === input.method.toLowerCase() && candidate.pattern.test(pathname),
    );
    if (!operation) return null;
    const where = `${input.method.toUpperCase()} ${operation.path} → ${input.status}`;
    const status = String(input.status);
    if (!operation.responses.has(status)) return `${where}: status not declared in the OpenAPI document`;
    const validate = operation.responses.get(status);
    if (!validate) return `${where}: JSON body where the document declares none`;
    if (validate(input.body)) return null;
    return `${where}: body does not match the document: ${JSON.stringify(validate.errors?.slice(0, 3))}`;
  }

  #fail(problem: string): void {
    const test = expect.getState().currentTestName;
    // Outside a test (beforeAll) there is no test to fail later: fail the hook now.
    if (test === undefined) throw new Error(problem);
    const problems = this.#pending.get(test);
    if (problems) {
      problems.push(problem);
      return;
    }
    this.#pending.set(test, [problem]);
    onTestFinished(() => {
      const found = this.#pending.get(test) ?? [];
      this.#pending.delete(test);
      throw new Error(`Responses that contradict the OpenAPI document:\n${found.join('\n')}`);
    });
  }

  operations(): Promise<DocumentedOperation[]> {
    this.#operations ??= this.app
      .inject({ method: 'GET', url: '/openapi.json' })
      .then((response) => compileOperations(JSON.parse(response.body)));
    return this.#operations;
  }
}

function compileOperations(spec: any): DocumentedOperation[] {
  // Local references become schema ids, so each response schema compiles against the components.
  const document = JSON.parse(JSON.stringify(spec).replaceAll('"#/components/schemas/', '"'));
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats(ajv);
  for (const [name, schema] of Object.entries<any>(document.components.schemas))
    ajv.addSchema({ ...schema, $id: name });
  const operations: DocumentedOperation[] = [];
  for (const [path, item] of Object.entries<Record<string, any>>(document.paths)) {
    const segments = path.split('/').map((segment) => (segment.startsWith('{') ? '[^/]+' : escapeRegExp(segment)));
    for (const [method, operation] of Object.entries<any>(item)) {
      const responses = new Map<string, ValidateFunction | null>();
      for (const [status, response] of Object.entries<any>(operation.responses)) {
        const json = response.content?.['application/json']?.schema;
        responses.set(status, json ? ajv.compile(json) : null);
      }
      const parameterCount = path.split('{').length - 1;
      operations.push({ method, path, pattern: new RegExp(`^${segments.join('/')}$`), parameterCount, responses });
    }
  }
  // A literal segment wins over a parameter (`/chat/clear-all-chats` before `/chat/{agent_id}`).
  return operations.sort((first, second) => first.parameterCount - second.parameterCount);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
