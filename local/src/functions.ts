/**
 * The functions: one LambdaFunction (a pool of worker-thread execution environments) per
 * name, each with the environment Lambda and the wiring manifest give it. `invoke` never
 * throws: an unknown function, a full queue or a stopped pool are outcomes like any other.
 */
import * as path from 'node:path';
import { LambdaFunction, type FunctionLogSink, type InvokeOutcome } from './lambda-host';
import { ACCOUNT_ID, REGION } from './limits';
import { escapeLogText } from './log-escape';

export interface FunctionSpec {
  name: string;
  /** The variables from its manifest and the test overrides (`functionEnv`). */
  environment: Record<string, string>;
  timeoutMs: number;
  /** Its execution environments; default the pool's concurrency. */
  concurrency?: number;
}

export interface FunctionPoolOptions {
  stage: string;
  distDir: string;
  memoryMb: number;
  concurrency: number;
  /** Invocations that may wait per function; past it they are throttled. */
  queueLimit: number;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Where the functions' output lines go (already escaped), or undefined to drop them. */
  log: FunctionLogSink | undefined;
  /** Active tracing: the X-Ray daemon's address and where the function segments go. */
  tracing?: { daemonAddress: string; record: (segment: Record<string, unknown>) => void };
}

/** What a function's lines go through: escaped, and a sink that throws cannot hurt the gateway. */
export function safeLogSink(sink: FunctionLogSink | undefined): FunctionLogSink | undefined {
  if (!sink) return undefined;
  return (name, line) => {
    try {
      sink(name, escapeLogText(line));
    } catch {
      // a log sink's failure is not the gateway's
    }
  };
}

export class FunctionPool {
  private readonly functions = new Map<string, LambdaFunction>();
  private readonly inFlight = new Set<Promise<InvokeOutcome>>();
  /** Problems found while warming (a function that failed to load). */
  readonly warnings: string[] = [];

  private constructor(private readonly options: FunctionPoolOptions) {}

  /** Creates every function (a missing bundle throws, naming it) and warms one environment of each. */
  static async start(specs: readonly FunctionSpec[], options: FunctionPoolOptions): Promise<FunctionPool> {
    const pool = new FunctionPool(options);
    try {
      for (const spec of specs) pool.add(spec);
      const initErrors = await Promise.all([...pool.functions.values()].map(async (fn) => [fn.name, await fn.warm()] as const));
      for (const [name, err] of initErrors) {
        if (err) pool.warnings.push(escapeLogText(`function ${name} failed to load (${err.errorType}: ${err.errorMessage}); its invocations will fail`));
      }
    } catch (err) {
      await pool.stop();
      throw err;
    }
    return pool;
  }

  private add(spec: FunctionSpec) {
    const { stage, distDir, memoryMb, credentials } = this.options;
    const functionName = `wskit-${stage}-${spec.name}`;
    const handlerFile = path.join(distDir, spec.name, 'index.mjs');
    this.functions.set(
      spec.name,
      new LambdaFunction({
        name: spec.name,
        functionName,
        handlerFile,
        timeoutMs: spec.timeoutMs,
        memoryMb,
        maxConcurrency: spec.concurrency ?? this.options.concurrency,
        maxQueued: this.options.queueLimit,
        region: REGION,
        accountId: ACCOUNT_ID,
        log: this.options.log,
        traceSegment: this.options.tracing?.record,
        environment: {
          PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
          LANG: 'en_US.UTF-8',
          AWS_REGION: REGION,
          AWS_DEFAULT_REGION: REGION,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
          AWS_LAMBDA_FUNCTION_NAME: functionName,
          AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
          AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
          LAMBDA_TASK_ROOT: path.dirname(handlerFile),
          _HANDLER: 'index.handler',
          ...(this.options.tracing ? { AWS_XRAY_DAEMON_ADDRESS: this.options.tracing.daemonAddress, AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR' } : {}),
          ...spec.environment,
        },
      }),
    );
  }

  has(name: string): boolean {
    return this.functions.has(name);
  }

  get names(): string[] {
    return [...this.functions.keys()];
  }

  /** Invocations waiting for an environment, per function. */
  queued(name: string): number {
    return this.functions.get(name)?.queued ?? 0;
  }

  invoke(name: string, event: unknown): Promise<InvokeOutcome> {
    const fn = this.functions.get(name);
    let outcome: Promise<InvokeOutcome>;
    try {
      outcome = fn
        ? fn.invoke(event)
        : Promise.resolve({ ok: false as const, error: { errorType: 'ResourceNotFoundException', errorMessage: `Function not found: ${name}` }, awsRequestId: '', durationMs: 0 });
    } catch (err) {
      outcome = Promise.resolve({ ok: false as const, error: { errorType: 'ServiceException', errorMessage: (err as Error).message }, awsRequestId: '', durationMs: 0 });
    }
    const settled = outcome.catch(
      (err: unknown): InvokeOutcome => ({ ok: false, error: { errorType: 'ServiceException', errorMessage: (err as Error)?.message ?? String(err) }, awsRequestId: '', durationMs: 0 }),
    );
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
    return settled;
  }

  /** Resolves when every invocation started so far has an outcome, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise<void>((resolve) => {
        giveUp = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(giveUp);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.functions.values()].map((fn) => fn.stop().catch(() => undefined)));
  }
}
