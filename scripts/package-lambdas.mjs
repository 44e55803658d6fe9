#!/usr/bin/env node
// Zips each bundled dist/lambda/<name>/ into dist/lambda/<name>.zip, byte for byte
// reproducible, prints the size table and fails when a zip is over its budget
// (lambda/budgets.json).
//
//   node scripts/package-lambdas.mjs [--dir DIR] [--only name,name] [--no-budget]
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import yazl from 'yazl';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: path.join(root, 'dist', 'lambda') },
    only: { type: 'string' },
    'no-budget': { type: 'boolean', default: false },
  },
});
const distDir = path.resolve(values.dir);
const only = values.only ? new Set(values.only.split(',').map((name) => name.trim())) : undefined;
const budgetsFile = path.join(root, 'lambda', 'budgets.json');
const budgets = JSON.parse(readFileSync(budgetsFile, 'utf8')).zipKiB;

// Local-time fields, so the DOS date in the zip is 1980-01-01 00:00 in every time zone.
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);
const FILE_MODE = 0o100644;

/** Files of a bundle directory, relative, sorted; the metafile stays out of the zip. */
function bundleFiles(dir, prefix = '') {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) => {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) return bundleFiles(dir, relative);
      return relative === 'meta.json' ? [] : [relative];
    })
    .sort();
}

function zip(dir, files) {
  return new Promise((resolve, reject) => {
    const archive = new yazl.ZipFile();
    for (const file of files) {
      archive.addBuffer(readFileSync(path.join(dir, file)), file, {
        mtime: FIXED_MTIME,
        mode: FILE_MODE,
        compress: true,
        forceDosTimestamp: true,
      });
    }
    archive.end();
    const chunks = [];
    archive.outputStream.on('data', (chunk) => chunks.push(chunk));
    archive.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    archive.outputStream.on('error', reject);
  });
}

const names = readdirSync(distDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .filter((name) => !only || only.has(name))
  .sort();

const rows = [];
let over = 0;
for (const name of names) {
  const dir = path.join(distDir, name);
  const files = bundleFiles(dir);
  if (!files.includes('index.mjs')) throw new Error(`${path.relative(root, dir)} has no index.mjs; run scripts/bundle.mjs first`);
  const raw = files.reduce((sum, file) => sum + statSync(path.join(dir, file)).size, 0);
  const archive = await zip(dir, files);
  writeFileSync(path.join(distDir, `${name}.zip`), archive);
  const budget = budgets[name];
  let status;
  if (typeof budget !== 'number') {
    status = 'NO BUDGET';
    over += 1;
  } else if (archive.length > budget * 1024) {
    status = 'OVER';
    over += 1;
  } else {
    status = 'ok';
  }
  rows.push({ name, raw, zipped: archive.length, budget, status, sha256: createHash('sha256').update(archive).digest('hex') });
}

const kib = (bytes) => (bytes / 1024).toFixed(1);
const table = [
  ['function', 'raw KiB', 'zip KiB', 'budget KiB', 'status', 'zip sha256'],
  ...rows.map((row) => [row.name, kib(row.raw), kib(row.zipped), row.budget === undefined ? '-' : String(row.budget), row.status, row.sha256.slice(0, 16)]),
];
const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)));
for (const [index, row] of table.entries()) {
  console.log(row.map((cell, column) => (column === 0 || column >= 4 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ').trimEnd());
  if (index === 0) console.log(widths.map((width) => '-'.repeat(width)).join('  '));
}

if (over > 0 && !values['no-budget']) {
  for (const row of rows) {
    if (row.status === 'NO BUDGET') console.error(`package: ${row.name} has no budget; add "${row.name}": <KiB> under "zipKiB" in lambda/budgets.json`);
    if (row.status === 'OVER') console.error(`package: ${row.name}.zip is ${kib(row.zipped)} KiB, over its ${row.budget} KiB budget (lambda/budgets.json); see dist/lambda/${row.name}/meta.json for what weighs`);
  }
  process.exit(1);
}
