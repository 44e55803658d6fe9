// The text protocol.json must hold: src/spec.ts bundled in memory and evaluated.
import { build } from 'esbuild';

export async function protocolJson() {
  const result = await build({
    entryPoints: [new URL('../src/spec.ts', import.meta.url).pathname],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'error',
  });
  const code = result.outputFiles[0].text;
  const module = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
  return `${JSON.stringify(module.protocolSpec(), null, 2)}\n`;
}
