import type { StoredAgentTool } from '../../domain/agent-tools.js';
import type { JsonObject } from '../../domain/models.js';
import { AppError, validationError } from '../../errors.js';
import type { Clock, IdGenerator } from '../../ids.js';
import { OutboundError } from '../../outbound/outbound-error.js';
import type { OutboundClient } from '../../outbound/outbound-client.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { IdempotencyClaim, Store } from '../../storage/store.js';
import {
  importOperations,
  type ImportedOperation,
  type SkippedOperation,
} from '../../tools/openapi-import/operations.js';
import { OpenApiDocumentError, readOpenApiDocument } from '../../tools/openapi-import/read-document.js';
import { MAX_DESCRIPTION_BYTES, type OpenApiImportRequest } from './openapi-import.schemas.js';
import { validateToolConfiguration } from './tool-configuration.js';
import { sealConfiguration } from './tool-secrets.js';
import { agentToolView, type AgentToolView } from './tools.service.js';

type ImportBody = typeof OpenApiImportRequest.static;

/** An imported operation whose configuration (with the request's shared settings) passed the checks. */
type CheckedTool = Omit<ImportedOperation, 'configuration'> & { configuration: JsonObject };

export interface OpenApiImportResult {
  created: AgentToolView[];
  planned: { operation: string; tool_name: string }[];
  skipped: SkippedOperation[];
}

const FETCH_TIMEOUT_MS = 15_000;
const TOOL_NAME_LENGTH = 64;

/**
 * `POST /api/v1/agents/{agent_id}/tools/import-openapi`: a description (inline, or fetched by URL
 * through the guarded client) becomes external tools, one per operation, each checked as a tool
 * created by hand is. What cannot become a tool is skipped with its reason; the tools are created
 * in one transaction (a name the agent already has is skipped, never overwritten).
 */
export class OpenApiImportService {
  constructor(
    private readonly dependencies: {
      store: Store;
      box: SecretBox;
      clock: Clock;
      newId: IdGenerator;
      outbound: OutboundClient;
    },
  ) {}

  async import(input: {
    organizationId: string;
    agentId: string;
    body: ImportBody;
    idempotency?: IdempotencyClaim | undefined;
  }): Promise<OpenApiImportResult> {
    const { store } = this.dependencies;
    const { body } = input;
    const agent = await store.agents.get({ organizationId: input.organizationId, id: input.agentId });
    if (!agent) throw new AppError('agent_not_found');
    if ((body.document === undefined) === (body.url === undefined))
      throw validationError(['body'], 'give the description as document or as url (one of them)');
    checkSharedAuth(body.auth);
    const source = body.url === undefined ? body.document! : await this.#download(body.url);
    let document;
    try {
      document = await readOpenApiDocument(source as string | JsonObject);
    } catch (error) {
      if (!(error instanceof OpenApiDocumentError)) throw error;
      const field = body.url === undefined ? 'document' : 'url';
      throw validationError(['body', field], `${error.message}`);
    }
    const imported = importOperations(document, { baseUrl: body.base_url ?? body.url, select: body.operations });
    const checked = this.#checked(imported.tools, body);
    const { tools } = checked;
    const skipped = [...imported.skipped, ...checked.skipped];
    if (body.dry_run === true) return { created: [], planned: tools.map(planOf), skipped };
    return this.#create({ ...input, tools, skipped });
  }

  /** The tools that pass the checks a hand-made external tool passes; the others are skipped. */
  #checked(candidates: ImportedOperation[], body: ImportBody): { tools: CheckedTool[]; skipped: SkippedOperation[] } {
    const tools: CheckedTool[] = [];
    const skipped: SkippedOperation[] = [];
    for (const candidate of candidates) {
      const tool_name = `${body.tool_name_prefix ?? ''}${candidate.tool_name}`.slice(0, TOOL_NAME_LENGTH);
      const configuration: JsonObject = {
        ...candidate.configuration,
        ...(body.auth ? { auth: body.auth } : {}),
        ...(body.requires_approval === undefined ? {} : { requires_approval: body.requires_approval }),
        ...(body.timeout_ms === undefined ? {} : { timeout_ms: body.timeout_ms }),
      };
      try {
        validateToolConfiguration({ toolType: 'external_tool', toolName: tool_name, configuration });
        tools.push({ ...candidate, tool_name, configuration });
      } catch (error) {
        if (!(error instanceof AppError) || !error.issues) throw error;
        const [issue] = error.issues;
        const at = issue ? issue.loc.slice(1).join('.') : 'configuration';
        skipped.push({
          operation: candidate.operation,
          operation_id: candidate.operation_id,
          reason: `${at}: ${issue?.msg}`,
        });
      }
    }
    return { tools, skipped };
  }

  async #create(input: {
    organizationId: string;
    agentId: string;
    body: ImportBody;
    idempotency?: IdempotencyClaim | undefined;
    tools: CheckedTool[];
    skipped: SkippedOperation[];
  }): Promise<OpenApiImportResult> {
    const { store, box, clock, newId } = this.dependencies;
    const now = clock.now().toISOString();
    return store.write(
      async (writers) => {
        const result: OpenApiImportResult = { created: [], planned: [], skipped: [...input.skipped] };
        for (const tool of input.tools) {
          const stored: StoredAgentTool = {
            id: newId(),
            organization_id: input.organizationId,
            agent_id: input.agentId,
            tool_name: tool.tool_name,
            tool_type: 'external_tool',
            configuration: sealConfiguration({ box, toolType: 'external_tool', configuration: tool.configuration }),
            is_enabled: input.body.is_enabled ?? true,
            mcp_server_id: null,
            external_tool_connection_id: null,
            created_at: now,
            updated_at: now,
          };
          const inserted = await writers.agentTools.insert(stored);
          if (inserted.kind === 'agent_not_found') throw new AppError('agent_not_found');
          if (inserted.kind === 'created') {
            result.created.push(agentToolView(box, inserted.tool));
            result.planned.push(planOf(tool));
            continue;
          }
          const reason =
            inserted.kind === 'name_taken'
              ? `the agent already has a tool named ${tool.tool_name}`
              : 'the agent has as many tools as it may';
          result.skipped.push({ operation: tool.operation, operation_id: tool.operation_id, reason });
        }
        return result;
      },
      { idempotency: input.idempotency },
    );
  }

  /** The description at `url`, through the guarded client: refused and failed fetches are 422s. */
  async #download(url: string): Promise<string> {
    let response;
    try {
      response = await this.dependencies.outbound.request({
        method: 'GET',
        url,
        headers: { accept: 'application/json, application/yaml, text/yaml;q=0.9, */*;q=0.1' },
        maxResponseBytes: MAX_DESCRIPTION_BYTES,
        timeoutMs: FETCH_TIMEOUT_MS,
      });
    } catch (error) {
      if (!(error instanceof OutboundError)) throw error;
      const code = error.blocked ? 'url_not_allowed' : 'url_fetch_failed';
      throw new AppError(code, { message: `${new AppError(code).message} (${error.message})` });
    }
    if (response.status !== 200)
      throw new AppError('url_fetch_failed', {
        message: `The URL could not be fetched: it answered HTTP ${response.status}.`,
      });
    return response.body.toString('utf8');
  }
}

function planOf(tool: { operation: string; tool_name: string }): { operation: string; tool_name: string } {
  return { operation: tool.operation, tool_name: tool.tool_name };
}

/** The `auth` every imported tool gets, checked once (its problems are the request's, at `["body","auth",…]`). */
function checkSharedAuth(auth: JsonObject | undefined): void {
  if (auth === undefined) return;
  const probe = {
    description: 'probe',
    method: 'GET',
    url: 'https://api.example.test/',
    input_schema: { type: 'object' },
    auth,
  };
  try {
    validateToolConfiguration({ toolType: 'external_tool', toolName: 'probe', configuration: probe });
  } catch (error) {
    if (!(error instanceof AppError) || !error.issues) throw error;
    throw new AppError('validation_error', {
      issues: error.issues.map((issue) => ({ ...issue, loc: ['body', ...issue.loc.slice(2)] })),
    });
  }
}
