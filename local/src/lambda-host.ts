import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { lambdaRuntimeFile } from './paths';
import { lambdaRequestId, traceId } from './ids';

export interface FunctionError {
  errorType: string;
  errorMessage: string;
  stackTrace?: string[];
}

/** What an invocation produced: the JSON result, or the error Lambda would report. */
export type InvokeOutcome =
  | { ok: true; result: unknown; awsRequestId: string; durationMs: number }
  | { ok: false; error: FunctionError; awsRequestId: string; durationMs: number; throttled?: boolean };

/** The error of an invocation refused because the function's queue is full. */
export const THROTTLED_ERROR_TYPE = 'TooManyRequestsException';

export type FunctionLogSink = (functionName: string, line: string) => void;

export interface LambdaFunctionConfig {
  /** Short name (`connect`); the Lambda function name is `functionName`. */
  name: string;
  functionName: string;
  handlerFile: string;
  handlerExport?: string;
  environment: Record<string, string>;
  timeoutMs: number;
  memoryMb: number;
  /** Execution environments run one invocation at a time; more run side by side up to this. */
  maxConcurrency: number;
  /**
   * Invocations that may wait for a free environment; one more is refused at once with
   * `TooManyRequestsException` (throttled), as Lambda refuses a synchronous invocation past
   * its concurrency. Default: unbounded.
   */
  maxQueued?: number;
  region: string;
  accountId: string;
  log?: FunctionLogSink;
  /**
   * Active tracing: each invocation gets a sampled `_X_AMZN_TRACE_ID` and, when it ends,
   * the function's segment is handed here (what Lambda writes to X-Ray for it).
   */
  traceSegment?: (segment: Record<string, unknown>) => void;
}

interface Pending {
  id: number;
  event: unknown;
  awsRequestId: string;
  startedAt: number;
  resolve: (outcome: InvokeOutcome) => void;
}

/** One worker thread = one Lambda execution environment (own module scope, own env). */
class ExecutionEnvironment {
  readonly worker: Worker;
  ready: Promise<FunctionError | undefined>;
  current: (Pending & { timer: NodeJS.Timeout }) | undefined;
  dead = false;

  constructor(
    private readonly config: LambdaFunctionConfig,
    private readonly onDead: (env: ExecutionEnvironment) => void,
  ) {
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
    this.worker = new Worker(lambdaRuntimeFile, {
      env: config.environment,
      // The function's memory size caps its JS heap, so a leak fails here as it would on Lambda.
      resourceLimits: { maxOldGenerationSizeMb: config.memoryMb },
      stdout: true,
      stderr: true,
      workerData: {
        handlerFile: config.handlerFile,
        handlerExport: config.handlerExport ?? 'handler',
        functionName: config.functionName,
        memoryMb: config.memoryMb,
        logGroupName: config.environment.AWS_LAMBDA_LOG_GROUP_NAME,
        logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
        region: config.region,
        accountId: config.accountId,
      },
    });
    this.pipe(this.worker.stdout);
    this.pipe(this.worker.stderr);
    this.ready = new Promise((resolve) => {
      const onMessage = (msg: { type?: unknown; error?: FunctionError } | null) => {
        if (msg?.type === 'ready') resolve(undefined);
        else if (msg?.type === 'init-error') resolve(msg.error ?? { errorType: 'Runtime.ImportModuleError', errorMessage: 'init failed' });
        else return;
        this.worker.off('message', onMessage);
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', (err) =>
        resolve({ errorType: 'Runtime.ExitError', errorMessage: err.message }),
      );
      this.worker.once('exit', (code) =>
        resolve({ errorType: 'Runtime.ExitError', errorMessage: `RequestId: init Error: Runtime exited with error: exit status ${code}` }),
      );
    });
    this.worker.on('message', (msg: { type?: unknown; id?: unknown; payload?: unknown; error?: unknown } | null) => {
      // The handler's own code shares this channel: anything malformed is ignored, never thrown.
      if (!msg || typeof msg !== 'object' || msg.type !== 'result' || !this.current || msg.id !== this.current.id) return;
      const pending = this.current;
      const durationMs = Date.now() - pending.startedAt;
      if (msg.error) {
        const e = msg.error as Partial<FunctionError>;
        const error: FunctionError = {
          errorType: typeof e.errorType === 'string' ? e.errorType : 'Error',
          errorMessage: typeof e.errorMessage === 'string' ? e.errorMessage : String(e.errorMessage),
          ...(Array.isArray(e.stackTrace) ? { stackTrace: e.stackTrace.map(String) } : {}),
        };
        this.finish({ ok: false, error, awsRequestId: pending.awsRequestId, durationMs });
        return;
      }
      let result: unknown;
      try {
        result = JSON.parse(typeof msg.payload === 'string' ? msg.payload : 'null');
      } catch (err) {
        this.finish({
          ok: false,
          error: { errorType: 'Runtime.MarshalError', errorMessage: `the result is not JSON: ${(err as Error).message}` },
          awsRequestId: pending.awsRequestId,
          durationMs,
        });
        return;
      }
      this.finish({ ok: true, result, awsRequestId: pending.awsRequestId, durationMs });
    });
    // An uncaught exception in the handler's code kills the environment, as on Lambda.
    this.worker.on('error', (err: Error & { code?: string }) =>
      this.die(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? { errorType: 'Runtime.OutOfMemory', errorMessage: 'Runtime exited with error: the function ran out of memory' }
          : { errorType: 'Runtime.ExitError', errorMessage: `Runtime exited after an uncaught exception: ${err.message}` },
      ),
    );
    this.worker.on('exit', (code) => this.die({ errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: exit status ${code}` }));
  }

  private pipe(stream: Readable | null | undefined) {
    if (!stream) return;
    const sink = this.config.log;
    if (!sink) {
      stream.resume();
      return;
    }
    createInterface({ input: stream }).on('line', (line) => sink(this.config.name, line));
  }

  run(pending: Pending): void {
    const timer = setTimeout(() => {
      const seconds = (this.config.timeoutMs / 1000).toFixed(2);
      const outcome: InvokeOutcome = {
        ok: false,
        error: { errorType: 'Sandbox.Timedout', errorMessage: `${new Date().toISOString()} ${pending.awsRequestId} Task timed out after ${seconds} seconds` },
        awsRequestId: pending.awsRequestId,
        durationMs: Date.now() - pending.startedAt,
      };
      // Lambda throws away an environment whose invocation timed out.
      this.finish(outcome);
      this.kill();
    }, this.config.timeoutMs);
    timer.unref();
    this.current = { ...pending, timer };
    const trace = this.config.traceSegment ? { root: traceId(pending.startedAt).slice('Root='.length), parent: randomBytes(8).toString('hex') } : undefined;
    if (trace) {
      const record = this.config.traceSegment!;
      const resolve = pending.resolve;
      this.current.resolve = (outcome) => {
        record({
          name: this.config.functionName,
          id: trace.parent,
          trace_id: trace.root,
          start_time: pending.startedAt / 1000,
          end_time: Date.now() / 1000,
          origin: 'AWS::Lambda::Function',
          aws: { request_id: pending.awsRequestId },
          ...(outcome.ok ? {} : { fault: true }),
        });
        resolve(outcome);
      };
    }
    this.worker.postMessage({
      type: 'invoke',
      id: pending.id,
      event: pending.event,
      awsRequestId: pending.awsRequestId,
      deadline: pending.startedAt + this.config.timeoutMs,
      traceHeader: trace ? `Root=${trace.root};Parent=${trace.parent};Sampled=1` : undefined,
    });
  }

  private finish(outcome: InvokeOutcome) {
    const pending = this.current;
    if (!pending) return;
    this.current = undefined;
    clearTimeout(pending.timer);
    pending.resolve(outcome);
    if (!this.dead) this.onIdle?.(this);
  }

  /** Called when an invocation finished and the environment can take the next one. */
  onIdle?: (env: ExecutionEnvironment) => void;

  private die(error: FunctionError) {
    if (this.dead) return;
    this.dead = true;
    const pending = this.current;
    if (pending) {
      this.current = undefined;
      clearTimeout(pending.timer);
      pending.resolve({ ok: false, error, awsRequestId: pending.awsRequestId, durationMs: Date.now() - pending.startedAt });
    }
    this.onDead(this);
  }

  kill(): Promise<number> {
    this.dead = true;
    this.onDead(this);
    return this.worker.terminate();
  }
}

/**
 * A Lambda function: a pool of execution environments created on demand. Each runs one
 * invocation at a time; a timed-out or crashed environment is discarded and the next
 * invocation gets a fresh one (a cold start), like Lambda.
 */
export class LambdaFunction {
  private readonly environments = new Set<ExecutionEnvironment>();
  private readonly idleEnvironments: ExecutionEnvironment[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private stopped = false;

  constructor(readonly config: LambdaFunctionConfig) {
    if (!existsSync(config.handlerFile)) {
      throw new Error(
        `The ${config.name} function's bundle ${config.handlerFile} does not exist. ` +
          'Run ./build.sh at the repository root (npm start does this for you), or pass distDir.',
      );
    }
  }

  get name(): string {
    return this.config.name;
  }

  /** Starts one environment ahead of the first invocation and reports an init error early. */
  async warm(): Promise<FunctionError | undefined> {
    const env = this.spawn();
    const initError = await env.ready;
    if (initError) {
      await env.kill();
      return initError;
    }
    this.release(env);
    return undefined;
  }

  invoke(event: unknown): Promise<InvokeOutcome> {
    const awsRequestId = lambdaRequestId();
    if (this.stopped) {
      return Promise.resolve({
        ok: false,
        error: { errorType: 'ServiceUnavailable', errorMessage: 'the local gateway is stopping' },
        awsRequestId,
        durationMs: 0,
      });
    }
    const maxQueued = this.config.maxQueued ?? Infinity;
    const free = this.idleEnvironments.length + Math.max(0, this.config.maxConcurrency - this.environments.size);
    if (this.queue.length >= free + maxQueued) {
      return Promise.resolve({
        ok: false,
        throttled: true,
        error: { errorType: THROTTLED_ERROR_TYPE, errorMessage: 'Rate Exceeded.' },
        awsRequestId,
        durationMs: 0,
      });
    }
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, event, awsRequestId, startedAt: 0, resolve });
      this.dispatch();
    });
  }

  /** Invocations waiting for an environment (tests, diagnostics). */
  get queued(): number {
    return this.queue.length;
  }

  private dispatch() {
    while (this.queue.length > 0) {
      let env = this.idleEnvironments.pop();
      if (!env) {
        if (this.environments.size >= this.config.maxConcurrency) return;
        env = this.spawn();
      }
      const pending = this.queue.shift()!;
      void this.start(env, pending);
    }
  }

  private async start(env: ExecutionEnvironment, pending: Pending) {
    // The timeout clock starts when the invocation starts; init time counts on Lambda too.
    pending.startedAt = Date.now();
    let initTimer: NodeJS.Timeout | undefined;
    const initTimeout = new Promise<FunctionError>((resolve) => {
      initTimer = setTimeout(
        () => resolve({ errorType: 'Sandbox.Timedout', errorMessage: `INIT did not finish within ${this.config.timeoutMs} ms` }),
        this.config.timeoutMs,
      );
    });
    const initError = await Promise.race([env.ready, initTimeout]);
    clearTimeout(initTimer);
    if (initError) {
      pending.resolve({ ok: false, error: initError, awsRequestId: pending.awsRequestId, durationMs: Date.now() - pending.startedAt });
      void env.kill();
      this.dispatch();
      return;
    }
    if (env.dead) {
      pending.resolve({ ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited' }, awsRequestId: pending.awsRequestId, durationMs: Date.now() - pending.startedAt });
      this.dispatch();
      return;
    }
    env.run(pending);
  }

  private spawn(): ExecutionEnvironment {
    const env = new ExecutionEnvironment(this.config, (dead) => {
      this.environments.delete(dead);
      const i = this.idleEnvironments.indexOf(dead);
      if (i >= 0) this.idleEnvironments.splice(i, 1);
      if (!this.stopped) this.dispatch();
    });
    env.onIdle = (e) => this.release(e);
    this.environments.add(env);
    return env;
  }

  private release(env: ExecutionEnvironment) {
    if (env.dead || this.stopped) return;
    this.idleEnvironments.push(env);
    this.dispatch();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const pending of this.queue.splice(0)) {
      pending.resolve({
        ok: false,
        error: { errorType: 'ServiceUnavailable', errorMessage: 'the local gateway is stopping' },
        awsRequestId: pending.awsRequestId,
        durationMs: 0,
      });
    }
    await Promise.all([...this.environments].map((env) => env.kill()));
    this.environments.clear();
    this.idleEnvironments.length = 0;
  }
}
