/**
 * @wskit/client as a consumer gets it: `npm pack` of @wskit/client and @wskit/protocol, the
 * two tarballs installed offline into an empty project, then imported from Node 20 (this
 * machine's) and Node 22 (installed from the registry into ~/.cache/wskit, once per version)
 * as ESM and CommonJS, bundled with esbuild, and type-checked with tsc. Each runtime check
 * is a real session against a protocol server on loopback.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { makeToken, TestServer } from './support/test-server';

const run = promisify(execFile);
const repo = join(__dirname, '..', '..');
/** The Node 22 release the check runs on (WSKIT_NODE22_VERSION overrides). */
const NODE22_VERSION = process.env.WSKIT_NODE22_VERSION ?? '22.23.3';
const node22Dir = join(process.env.WSKIT_CACHE_DIR ?? join(homedir(), '.cache', 'wskit'), `node-${NODE22_VERSION}`);
const node22 = join(node22Dir, 'node_modules', 'node', 'bin', 'node');

jest.setTimeout(240_000);

/** A Node 22 binary from the `node` package of the npm registry, cached by version. */
async function installNode22(): Promise<string> {
  if (existsSync(node22)) return node22;
  mkdirSync(node22Dir, { recursive: true });
  // The `node` package's preinstall fetches its platform's binary package from the registry.
  writeFileSync(join(node22Dir, 'package.json'), JSON.stringify({ name: 'wskit-node22-cache', private: true, allowScripts: { node: true } }));
  try {
    await run('npm', ['install', '--no-audit', '--no-fund', `node@${NODE22_VERSION}`], { cwd: node22Dir, timeout: 180_000 });
  } catch (err) {
    rmSync(node22Dir, { recursive: true, force: true });
    throw new Error(`could not install node@${NODE22_VERSION} from the npm registry into ${node22Dir}: ${(err as Error).message}`);
  }
  if (!existsSync(node22)) throw new Error(`npm installed node@${NODE22_VERSION} but ${node22} is missing`);
  return node22;
}

/** A session through the installed package: subscribe, publish, receive, close; prints what happened. */
const session = (importLine: string, wsLine: string) => `
${importLine}
${wsLine}
const [url, token] = process.argv.slice(-2);
const client = connect({ url, token, ...(WebSocket ? { WebSocket } : {}) });
const got = new Promise((resolve) => client.subscribe('public:pkg', (data, message) => resolve({ data, seq: message.seq })));
client.whenOpen().then(async () => {
  await client.publish('public:pkg', { from: process.version });
  const result = await got;
  console.log(JSON.stringify({ ...result, state: client.state, protocolVersion: PROTOCOL_VERSION, error: new WskitError('X', 'y') instanceof Error }));
  await client.close();
}).catch((err) => { console.error(err); process.exit(1); });
`;

describe('the packed package, installed from its tarballs', () => {
  let dir: string;
  let app: string;
  let server: TestServer;

  beforeAll(async () => {
    const node22Ready = installNode22().catch((err: unknown) => err as Error); // in parallel with the packs
    server = await TestServer.start();
    dir = mkdtempSync(join(tmpdir(), 'wskit-package-'));
    const packs = join(dir, 'packs');
    mkdirSync(packs);
    // `npm pack` runs each package's prepack build.
    const { stdout } = await run('npm', ['pack', '--json', '-w', 'protocol', '-w', 'client', '--pack-destination', packs], { cwd: repo, timeout: 120_000 });
    const tarballs = (JSON.parse(stdout) as Array<{ filename: string }>).map((p) => join(packs, p.filename));
    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...tarballs], { cwd: app, timeout: 120_000 });
    const installed = await node22Ready;
    if (installed instanceof Error) throw installed;
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('ships built code, declarations and the browser bundle, not the sources', () => {
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules', '@wskit', 'client', 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys((manifest.exports as Record<string, unknown>)['.'] as object)).toEqual(['wskit-source', 'types', 'import', 'require']);
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.dependencies).toEqual({ '@wskit/protocol': '0.1.0' });
    for (const file of ['dist/index.mjs', 'dist/index.cjs', 'dist/types/index.d.ts', 'dist/wskit-client.js', 'README.md']) {
      expect(existsSync(join(app, 'node_modules', '@wskit', 'client', file))).toBe(true);
    }
    expect(existsSync(join(app, 'node_modules', '@wskit', 'client', 'src'))).toBe(false);
  });

  const esm = session(
    "import { connect, WskitError } from '@wskit/client';\nimport { PROTOCOL_VERSION } from '@wskit/protocol';",
    `const WebSocket = globalThis.WebSocket ? undefined : (await import(${JSON.stringify(require.resolve('ws').replace(/index\.js$/, 'wrapper.mjs'))})).default;`,
  );
  const cjs = session(
    "const { connect, WskitError } = require('@wskit/client');\nconst { PROTOCOL_VERSION } = require('@wskit/protocol');",
    `const WebSocket = globalThis.WebSocket ? undefined : require(${JSON.stringify(require.resolve('ws'))});`,
  );

  const check = async (nodeBinary: string, file: string, expectedVersion: RegExp) => {
    const { stdout } = await run(nodeBinary, [file, server.url, makeToken({ sub: 'consumer' })], { cwd: app, timeout: 30_000 });
    const result = JSON.parse(stdout.trim()) as { data: { from: string }; seq: number; state: string; protocolVersion: number; error: boolean };
    expect(result.data.from).toMatch(expectedVersion);
    expect(result).toMatchObject({ state: 'open', protocolVersion: 1, error: true });
    expect(result.seq).toBeGreaterThan(0);
  };

  test('Node 20 (this machine): ESM and CommonJS, with ws', async () => {
    writeFileSync(join(app, 'esm.mjs'), esm);
    writeFileSync(join(app, 'cjs.cjs'), cjs);
    await check(process.execPath, 'esm.mjs', /^v20\./);
    await check(process.execPath, 'cjs.cjs', /^v20\./);
  });

  test(`Node 22 (node@${NODE22_VERSION} from the registry): ESM and CommonJS, with its global WebSocket`, async () => {
    writeFileSync(join(app, 'esm.mjs'), esm);
    writeFileSync(join(app, 'cjs.cjs'), cjs);
    await check(node22, 'esm.mjs', /^v22\./);
    await check(node22, 'cjs.cjs', /^v22\./);
  });

  test('esbuild bundles an app that imports it (Node and browser targets), and the Node bundle runs', async () => {
    // ws is loaded at run time (not bundled): the check is about bundling @wskit/client
    const wsLine = `import { createRequire } from 'node:module';\nconst wsPath = ${JSON.stringify(require.resolve('ws'))};\nconst WebSocket = createRequire(import.meta.url)(wsPath);`;
    writeFileSync(join(app, 'entry.mjs'), esm.replace(/^const WebSocket = .*$/m, wsLine));
    await build({ entryPoints: [join(app, 'entry.mjs')], outfile: join(app, 'bundle.mjs'), bundle: true, format: 'esm', platform: 'node', logLevel: 'error', absWorkingDir: app });
    const bundled = readFileSync(join(app, 'bundle.mjs'), 'utf8');
    expect(bundled).not.toMatch(/from ["']@wskit\//);
    await check(process.execPath, 'bundle.mjs', /^v20\./);

    writeFileSync(join(app, 'browser-entry.mjs'), "import { connect } from '@wskit/client';\nglobalThis.connect = connect;\n");
    const browser = await build({ entryPoints: [join(app, 'browser-entry.mjs')], bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, logLevel: 'error', absWorkingDir: app });
    const code = browser.outputFiles[0]!.text;
    // import statements start a statement; `import(` and `require(` would load code at run time
    expect(code.match(/(?:^|[;}])\s*import\s*[\w{*'"]|\bimport\(|\brequire\(/g) ?? []).toEqual([]);
    // tree-shaken: the metrics reporter is not imported, so it is not there
    expect(code).not.toContain('clientVersion');
  });

  test('tsc type-checks a consumer (ESM with node16 resolution, CommonJS, and bundler resolution)', async () => {
    const consumer = `
import { connect, WskitError, type ClientEvents, type ConnectionState, type PushedMessage, type Reply } from '@wskit/client';
import { type ClientReport, ERROR_CODES } from '@wskit/protocol';
const client = connect({ url: 'wss://example.invalid/prod', token: async () => 'token', httpUrl: 'https://example.invalid/prod' });
const state: ConnectionState = client.state;
client.on('gap', (gap: ClientEvents['gap']) => console.log(gap.topic, gap.from, gap.to, state));
const stop = client.subscribe<{ n: number }>('room:1', (data, message: PushedMessage<{ n: number }>) => console.log(data.n + (message.seq ?? 0)), { since: 0 });
void stop.ready;
const reply: Promise<Reply> = client.publish('room:1', { n: 1 }, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
void reply.catch((e: unknown) => e instanceof WskitError && e.code === 'FORBIDDEN');
const report: ClientReport = { clientVersion: '0.1.0', periodMs: 1, counters: {} };
console.log(report, ERROR_CODES.length);
// @ts-expect-error an unknown option is refused
connect({ url: 'wss://x', token: 't', nope: true });
`;
    writeFileSync(join(app, 'consumer.ts'), consumer);
    writeFileSync(join(app, 'consumer.mts'), consumer);
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    // the declarations themselves are checked too (skipLibCheck off); no @types/node
    const typecheck = (module: string, moduleResolution: string, file: string) => {
      const config = `tsconfig.${file}.${moduleResolution}.json`;
      writeFileSync(join(app, config), JSON.stringify({
        compilerOptions: { noEmit: true, strict: true, skipLibCheck: false, skipDefaultLibCheck: true, target: 'es2022', lib: ['es2022', 'dom'], types: [], module, moduleResolution },
        files: [file],
      }));
      return run(process.execPath, [tsc, '-p', config], { cwd: app }).then(
        () => '',
        (err: { stdout?: string }) => err.stdout ?? String(err),
      );
    };
    expect(
      await Promise.all([typecheck('node16', 'node16', 'consumer.mts'), typecheck('node16', 'node16', 'consumer.ts'), typecheck('esnext', 'bundler', 'consumer.ts')]),
    ).toEqual(['', '', '']);
    // and a wrong use is an error, so the check can fail
    writeFileSync(join(app, 'wrong.ts'), "import { connect } from '@wskit/client';\nconnect({ url: 1 });\n");
    expect(await typecheck('node16', 'node16', 'wrong.ts')).toMatch(/wrong\.ts.*TS2/);
  });
});
