/**
 * Module examples and the examples' roots show other teams how to pin a module
 * (`git::...wskit.git//terraform/modules/<module>?ref=vX.Y.Z`). A pin must name the latest
 * release in CHANGELOG.md: an older tag lacks what the example uses, and the infrastructure
 * checks cannot see it (they point every git source at this tree).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');

function filesUnder(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name.startsWith('.')) return [];
    const file = join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file, ext) : ext.test(name) ? [file] : [];
  });
}

test('every pinned module source names the latest release in CHANGELOG.md', () => {
  const release = /^## \[(\d+\.\d+\.\d+)\]/m.exec(readFileSync(join(root, 'CHANGELOG.md'), 'utf8'))?.[1];
  expect(release).toBeDefined();
  const pins = [join(root, 'terraform'), join(root, 'examples')].flatMap((dir) =>
    filesUnder(dir, /\.(tf|md)$/).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/wskit\.git\/\/terraform\/modules\/[^?"\s`]*\?ref=v(\d[^"\s`)]*)/g)].map((m) => `${relative(root, file)}: v${m[1]}`),
    ),
  );
  expect(pins.length).toBeGreaterThan(3);
  expect(pins.filter((pin) => !pin.endsWith(`: v${release}`))).toEqual([]);
});
