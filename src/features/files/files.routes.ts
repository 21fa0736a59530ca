import multipart from '@fastify/multipart';
import { Type, type TSchema } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../http/auth.js';
import type { Idempotency } from '../../http/idempotency.js';
import { ErrorResponse, errorResponses, ValidationErrorResponse } from '../../http/schemas.js';
import { typedApp, type TypedApp } from '../../http/typed-app.js';
import { contentDisposition } from './content-disposition.js';
import type { FileIntakeService } from './file-intake.service.js';
import type { FilesService } from './files.service.js';
import {
  AddUrlBody,
  AgentFile,
  AgentFileJob,
  AgentFileList,
  AgentFileListQuery,
  AgentFileParams,
  AgentFilesParams,
  AgentJobParams,
  FileJobAccepted,
  FileSearchQuery,
  FileSearchResult,
  UploadBody,
} from './files.schemas.js';

type FilesRoutesDependencies = { files: FilesService; intake: FileIntakeService; idempotency: Idempotency };

const tags = ['agent-files'];
const BASE = '/api/v1/agent-files/:agent_id';
const FILE = `${BASE}/files/:file_id`;
const UPLOAD_BODY: { contentType: string; schema: TSchema } = {
  contentType: 'multipart/form-data',
  schema: UploadBody,
};

/** 422 in either shape: a validation problem, or a refused URL / unsafe file with a plain `detail`. */
const Either422 = { 422: Type.Union([Type.Ref(ValidationErrorResponse), Type.Ref(ErrorResponse)]) };

function fileRef(request: { params: { agent_id: string; file_id: string } }, organizationId: string) {
  return { organizationId, agentId: request.params.agent_id, fileId: request.params.file_id };
}

export function registerFileRoutes(parent: FastifyInstance, dependencies: FilesRoutesDependencies): void {
  const app = typedApp(parent);
  for (const schema of [AgentFileList, AddUrlBody, FileJobAccepted, FileSearchResult, AgentFileJob])
    app.addSchema(schema);
  void parent.register(async (scope) => {
    // Multipart bodies are parsed for the upload only (elsewhere they stay 415).
    await scope.register(multipart, { throwFileSizeLimit: true });
    registerUploadRoute(typedApp(scope), dependencies);
  });
  registerCollectionRoutes(app, dependencies);
  registerReadRoutes(app, dependencies);
  registerItemRoutes(app, dependencies);
}

/** The upload reads the file as a stream (upload.ts), not as a parsed body: its schema is for the document only. */
function registerUploadRoute(app: TypedApp, { intake }: FilesRoutesDependencies): void {
  app.post(`${BASE}/files`, {
    config: { scope: 'write', documentedBody: UPLOAD_BODY },
    schema: {
      tags,
      operationId: 'uploadAgentFile',
      summary: 'Upload agent file (indexed in the background: `status` is `processing`)',
      params: AgentFilesParams,
      response: { 200: Type.Ref(AgentFile), ...errorResponses(404, 413, 415), ...Either422 },
    },
    handler: (request) =>
      intake.upload({ organizationId: principalOf(request).organizationId, agentId: request.params.agent_id, request }),
  });
}

function registerCollectionRoutes(app: TypedApp, { intake, idempotency }: FilesRoutesDependencies): void {
  app.post(`${BASE}/urls`, {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'addUrlToAgent',
      summary: 'Add URL to agent (crawled in the background)',
      params: AgentFilesParams,
      body: Type.Ref(AddUrlBody),
      response: { 200: Type.Ref(FileJobAccepted), ...errorResponses(404, 409), ...Either422 },
    },
    handler: (request, reply) =>
      idempotency.send(request, reply, (claim) =>
        intake.addUrl({
          organizationId: principalOf(request).organizationId,
          agentId: request.params.agent_id,
          url: (request.body as typeof AddUrlBody.static).url,
          idempotency: claim,
        }),
      ),
  });
}

function registerReadRoutes(app: TypedApp, { files }: FilesRoutesDependencies): void {
  app.get(`${BASE}/files/search`, {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'searchAgentFiles',
      summary: "Search agent files (the agent's ready files; full-text, fused with embeddings when configured)",
      params: AgentFilesParams,
      querystring: FileSearchQuery,
      response: { 200: Type.Array(Type.Ref(FileSearchResult)), ...errorResponses(404) },
    },
    handler: (request) =>
      files.search({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        ...request.query,
      }),
  });

  app.get(`${BASE}/files`, {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'listAgentFiles',
      summary: 'List agent files (newest first)',
      'x-parley-extension': true,
      params: AgentFilesParams,
      querystring: AgentFileListQuery,
      response: { 200: Type.Ref(AgentFileList), ...errorResponses(404) },
    },
    handler: (request) =>
      files.list({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        page: request.query.page,
        pageSize: request.query.page_size,
      }),
  });

  app.get(`${BASE}/jobs/:job_id`, {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'getAgentFileJob',
      summary: "Get a file's ingestion job (progress, pages, problems)",
      'x-parley-extension': true,
      params: AgentJobParams,
      response: { 200: Type.Ref(AgentFileJob), ...errorResponses(404) },
    },
    handler: (request) =>
      files.job({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        jobId: request.params.job_id,
      }),
  });
}

function registerItemRoutes(app: TypedApp, { files, intake }: FilesRoutesDependencies): void {
  const item = (operationId: string, summary: string) => ({
    tags,
    operationId,
    summary,
    'x-parley-extension': true,
    params: AgentFileParams,
  });
  app.get(FILE, {
    config: { scope: 'read' },
    schema: {
      ...item('getAgentFile', 'Get agent file'),
      response: { 200: Type.Ref(AgentFile), ...errorResponses(404) },
    },
    handler: (request) => files.require(fileRef(request, principalOf(request).organizationId)),
  });

  app.delete(FILE, {
    config: { scope: 'write' },
    schema: {
      ...item('deleteAgentFile', 'Delete agent file (its bytes, chunks, index entries and jobs)'),
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(404) },
    },
    handler: async (request, reply) => {
      await files.delete(fileRef(request, principalOf(request).organizationId));
      return reply.code(204).send(null);
    },
  });

  app.get(`${FILE}/content`, {
    config: { scope: 'read' },
    schema: {
      ...item('downloadAgentFile', 'Download an uploaded file (as an attachment, with its detected type)'),
      response: {
        200: {
          description: 'The bytes',
          content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
        },
        ...errorResponses(404, 409),
      },
    },
    handler: async (request, reply) => {
      const { file, stream } = await files.content(fileRef(request, principalOf(request).organizationId));
      reply.header('content-disposition', contentDisposition(file.name)).header('content-length', file.size);
      // The 200 schema describes bytes for the document; Fastify sends a stream as it is.
      return reply.type(file.mime_type).send(stream as never);
    },
  });

  app.post(`${FILE}/reindex`, {
    config: { scope: 'write' },
    schema: {
      ...item(
        'reindexAgentFile',
        'Re-extract an upload or re-crawl a URL (the ready index stays searchable meanwhile)',
      ),
      response: { 200: Type.Ref(FileJobAccepted), ...errorResponses(404, 409) },
    },
    handler: (request) => intake.reindex(fileRef(request, principalOf(request).organizationId)),
  });
}
