// @ts-check
// One Lambda execution environment inside a worker thread: imports the handler module
// once (module scope lives as long as this worker, like a warm Lambda), then runs one
// invocation at a time. The worker's process.env is the function's own environment.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';

// On Lambda these bundles run on nodejs22.x; the AWS SDK's notice that this machine's
// Node is going out of support is not the function's business. Other warnings print.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (!/NodeVersionSupportWarning/.test(`${warning.name} ${warning.message}`)) console.warn(`${warning.name}: ${warning.message}`);
});

if (!parentPort) throw new Error('lambda-runtime.mjs runs inside a worker thread');
const port = parentPort;

/** @type {{ handlerFile: string, handlerExport: string, functionName: string, memoryMb: number, logGroupName: string, logStreamName: string, region: string, accountId: string }} */
const config = workerData;

/**
 * @param {unknown} err
 * @returns {{ errorType: string, errorMessage: string, stackTrace: string[] }}
 */
function describeError(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || 'Error',
      errorMessage: err.message,
      stackTrace: (err.stack ?? '').split('\n').slice(1).map((line) => line.trim()),
    };
  }
  return { errorType: 'Error', errorMessage: String(err), stackTrace: [] };
}

/** @type {Function | undefined} */
let handler;
try {
  const mod = await import(pathToFileURL(path.resolve(config.handlerFile)).href);
  handler = mod[config.handlerExport];
  if (typeof handler !== 'function') {
    const err = new Error(`${path.basename(config.handlerFile)}.${config.handlerExport} is undefined or not exported`);
    err.name = 'Runtime.HandlerNotFound';
    throw err;
  }
  port.postMessage({ type: 'ready' });
} catch (err) {
  const described = describeError(err);
  if (described.errorType !== 'Runtime.HandlerNotFound') described.errorType = 'Runtime.ImportModuleError';
  port.postMessage({ type: 'init-error', error: described });
}

const invokedFunctionArn = `arn:aws:lambda:${config.region}:${config.accountId}:function:${config.functionName}`;

port.on('message', async (/** @type {{ type: string, id: number, event: unknown, awsRequestId: string, deadline: number, traceHeader?: string }} */ msg) => {
  if (msg.type !== 'invoke' || !handler) return;
  const { id, event, awsRequestId, deadline, traceHeader } = msg;
  // As Lambda's runtime: the invocation's trace header, in the environment.
  if (traceHeader) process.env._X_AMZN_TRACE_ID = traceHeader;
  else delete process.env._X_AMZN_TRACE_ID;
  const context = {
    functionName: config.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn,
    memoryLimitInMB: String(config.memoryMb),
    awsRequestId,
    logGroupName: config.logGroupName,
    logStreamName: config.logStreamName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    // Deprecated, still present on the Node.js runtime's context.
    done: /** @param {unknown} e @param {unknown} r */ (e, r) => settle(e, r),
    succeed: /** @param {unknown} r */ (r) => settle(null, r),
    fail: /** @param {unknown} e */ (e) => settle(e ?? new Error('handler failed'), undefined),
  };

  let settled = false;
  /** @param {unknown} err @param {unknown} result */
  function settle(err, result) {
    if (settled) return;
    settled = true;
    if (err) {
      port.postMessage({ type: 'result', id, error: describeError(err) });
      return;
    }
    // Lambda serializes the result as JSON; undefined becomes null.
    let payload;
    try {
      payload = JSON.stringify(result === undefined ? null : result);
    } catch (serializeErr) {
      port.postMessage({
        type: 'result',
        id,
        error: { errorType: 'Runtime.MarshalError', errorMessage: `Unable to stringify response body: ${describeError(serializeErr).errorMessage}`, stackTrace: [] },
      });
      return;
    }
    port.postMessage({ type: 'result', id, payload });
  }

  try {
    const fn = /** @type {Function} */ (handler);
    // Callback-style handlers declare (event, context, callback).
    const returned = fn.length >= 3 ? fn(event, context, settle) : fn(event, context);
    if (returned && typeof returned.then === 'function') {
      settle(null, await returned);
    } else if (fn.length < 3) {
      settle(null, returned);
    }
  } catch (err) {
    settle(err, undefined);
  }
});
