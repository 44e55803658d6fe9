// `npm run synth:cli`: synthesizes through the cdktn CLI (`cdktn synth`) when it can run
// here, and otherwise runs the app exactly as that command does: the `app` command of
// cdktf.json, with CDKTF_OUTDIR set to its `output` directory and CDKTF_CONTEXT_JSON to
// its `context`. The CLI (the cdktn-cli package) needs Node >= 22.19 and is not a
// dependency of this example; install it where you deploy from (npm i -D cdktn-cli).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const config = JSON.parse(readFileSync(path.join(here, 'cdktf.json'), 'utf8'));
const outdir = path.resolve(here, process.env.CDKTF_OUTDIR ?? config.output ?? 'cdktf.out');
const [major, minor] = process.versions.node.split('.').map(Number);
const cliBin = path.join(here, 'node_modules', '.bin', 'cdktn');
const cliRuns = existsSync(cliBin) && (major > 22 || (major === 22 && minor >= 19));

let result;
if (cliRuns) {
  console.log(`synth: cdktn synth (CLI ${cliBin}) into ${outdir}`);
  result = spawnSync(cliBin, ['synth', '--output', outdir], { cwd: here, stdio: 'inherit' });
} else {
  const why = existsSync(cliBin) ? `Node ${process.versions.node} is older than the 22.19 the CLI needs` : 'the cdktn CLI is not installed';
  console.log(`synth: ${why}; running cdktf.json's app as \`cdktn synth\` does: ${config.app}`);
  result = spawnSync(config.app, {
    cwd: here,
    shell: true,
    stdio: 'inherit',
    env: { ...process.env, CDKTF_OUTDIR: outdir, CDKTF_CONTEXT_JSON: JSON.stringify(config.context ?? {}) },
  });
}
if (result.status !== 0) process.exit(result.status ?? 1);
if (!existsSync(path.join(outdir, 'manifest.json'))) {
  console.error(`synth: no ${path.join(outdir, 'manifest.json')} was written`);
  process.exit(1);
}
console.log(`synth: stacks under ${path.join(outdir, 'stacks')}`);
