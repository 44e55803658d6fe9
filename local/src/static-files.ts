import { readFile } from 'node:fs/promises';
import type * as http from 'node:http';
import * as path from 'node:path';
import { publicDir, repoRoot } from './paths';

/**
 * Files served from elsewhere in the repository: the client SDK's browser bundle and its
 * source map, once `node client/build.mjs` (or `./build.sh`) has built them.
 */
const clientDist = path.join(repoRoot, 'client', 'dist');
const EXTRA_FILES: Record<string, string> = {
  'wskit-client.js': path.join(clientDist, 'wskit-client.js'),
  'wskit-client.js.map': path.join(clientDist, 'wskit-client.js.map'),
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
};

/**
 * Serves the demo page's files from `local/public/`, or first from `pageDir` when given (an
 * application's page served in the demo page's place, e.g. an example's); false when there is
 * no such file.
 */
export async function serveStatic(pathname: string, req: http.IncomingMessage, res: http.ServerResponse, pageDir?: string): Promise<boolean> {
  const name = pathname === '/' ? 'index.html' : pathname.slice(1);
  // Flat directory, plain names only: nothing outside public/ can be reached.
  const extraFile = Object.hasOwn(EXTRA_FILES, name) ? EXTRA_FILES[name] : undefined;
  if (!extraFile && !/^[A-Za-z0-9_-]+\.[a-z]+$/.test(name)) return false;
  const type = CONTENT_TYPES[path.extname(name)];
  if (!type) return false;
  let content: Buffer | undefined;
  for (const file of extraFile ? [extraFile] : [...(pageDir ? [path.join(pageDir, name)] : []), path.join(publicDir, name)]) {
    try {
      content = await readFile(file);
      break;
    } catch {
      // the next place, if any
    }
  }
  if (!content) return false;
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': String(content.length),
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...(name.endsWith('.html')
      ? { 'Content-Security-Policy': "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'" }
      : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : content);
  return true;
}
