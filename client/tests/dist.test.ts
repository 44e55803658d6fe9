import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { localGateway, type GatewayHandle } from './support/gateway';

const run = promisify(execFile);
const clientDir = join(__dirname, '..');

describe('the built ESM bundle (dist/wskit-client.js)', () => {
  let gw: GatewayHandle;
  beforeAll(async () => {
    gw = await localGateway();
    await run(process.execPath, [join(clientDir, 'build.mjs')], { cwd: clientDir });
  }, 60_000);
  afterAll(async () => {
    await gw.stop();
  });

  test('has no imports (no runtime dependencies) and ships its types', () => {
    const code = readFileSync(join(clientDir, 'dist', 'wskit-client.js'), 'utf8');
    // import statements start a statement; `import(` and `require(` would load code at run time
    const imports = code.match(/(?:^|[;}])\s*import\s*[\w{*'"]|\bimport\(|\brequire\(/g) ?? [];
    expect(imports).toEqual([]);
    expect(code).toMatch(/export\s*{/);
    const types = readFileSync(join(clientDir, 'dist', 'types', 'index.d.ts'), 'utf8');
    expect(types).toContain("from './client.js'");
  });

  test('runs as an ES module in Node with an injected ws constructor, against the gateway', async () => {
    const script = `
      import { connect } from ${JSON.stringify(join(clientDir, 'dist', 'wskit-client.js'))};
      import WebSocket from 'ws';
      const client = connect({ url: process.argv[1], token: process.argv[2], WebSocket });
      const got = new Promise((resolve) => client.subscribe('public:dist', (data) => resolve(data)));
      await client.whenOpen();
      await client.publish('public:dist', { from: 'dist' });
      console.log(JSON.stringify({ data: await got, state: client.state }));
      await client.close();
    `;
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', script, gw.wsUrl, await gw.mintToken('alice')],
      { cwd: clientDir, timeout: 20_000 },
    );
    expect(JSON.parse(stdout.trim())).toEqual({ data: { from: 'dist' }, state: 'open' });
  });
});
