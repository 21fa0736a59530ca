import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifySchemaCompiler } from 'fastify';

type Validate = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown };
type Serialize = (data: unknown) => string;
type SerializerFactory = (
  externalSchemas: unknown,
  serializerOptions: unknown,
) => (route: { schema: object; method: string; url: string; httpStatus: string }) => Serialize;

/**
 * Route schemas compiled when a route first needs them rather than while the app is built.
 *
 * Fastify compiles every route's validators (ajv) and response serializers (fast-json-stringify)
 * at `ready`; with ~120 operations that was 2.6 s of a 4.2 s start (CPU profile of `parley
 * serve`, 2026-12-02), paid by every process and by every app a test builds. Here each compile is
 * deferred to the first request that uses it, and `warm()` compiles what is left — `serve` calls
 * it after listening, a slice per event-loop turn, so the first requests don't pay it either.
 *
 * Invariants: a deferred function behaves exactly as the compiled one (same result, `errors`
 * copied after each call, ajv's parent-data context passed through so it may replace a root
 * value); each schema is compiled at most once; a schema that does not compile throws on first
 * use or in `warm()` — `test/http/lazy-schemas.test.ts` warms a whole app so none can hide.
 */
export class LazySchemas {
  readonly #pending = new Set<() => void>();
  #warmingUp = false;

  /**
   * True from the call of `warm()` until every schema is compiled: `/readyz` answers 503 meanwhile,
   * so a load balancer (or a benchmark) sends traffic only to a process that no longer spends its
   * event loop compiling. An app that is never warmed (tests, `inject`) is never "warming up".
   */
  get warmingUp(): boolean {
    return this.#warmingUp;
  }

  /** Fastify's `buildValidator`, deferring each compile of `build`'s compiler. */
  validators(
    build: (sharedSchemas: Record<string, unknown>) => FastifySchemaCompiler<object>,
  ): (sharedSchemas: Record<string, unknown>) => FastifySchemaCompiler<object> {
    return (sharedSchemas) => {
      const compile = build(sharedSchemas);
      return (route) => {
        const get = this.#defer(() => compile(route) as unknown as Validate);
        const validate: Validate = (data, context) => {
          const compiled = get();
          const result = compiled(data, context);
          validate.errors = compiled.errors;
          return result;
        };
        // Fastify passes ajv's parent-data context only to functions that carry `schemaEnv`.
        validate.schemaEnv = true;
        return validate as unknown as ReturnType<FastifySchemaCompiler<object>>;
      };
    };
  }

  /** Fastify's `buildSerializer`: its own fast-json-stringify factory, each compile deferred. */
  serializers(): SerializerFactory {
    const factory = SerializerSelector() as unknown as SerializerFactory;
    return (externalSchemas, serializerOptions) => {
      const compile = factory(externalSchemas, serializerOptions);
      return (route) => {
        const get = this.#defer(() => compile(route));
        return (data) => get()(data);
      };
    };
  }

  /**
   * Compiles every schema not yet compiled, `sliceSize` per event-loop turn: one by default, so
   * requests and signals that arrive meanwhile wait for one compile (a few ms), not a batch — a
   * SIGTERM handled ahead of requests that had already arrived would answer them 503.
   */
  async warm(sliceSize = 1): Promise<void> {
    this.#warmingUp = true;
    try {
      while (this.#pending.size > 0) {
        let done = 0;
        for (const compile of this.#pending) {
          compile();
          if (++done === sliceSize) break;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.#warmingUp = false;
    }
  }

  #defer<T>(compile: () => T): () => T {
    let compiled: T | undefined;
    const run = (): T => {
      if (compiled === undefined) {
        this.#pending.delete(run);
        compiled = compile();
      }
      return compiled;
    };
    this.#pending.add(run);
    return run;
  }
}
