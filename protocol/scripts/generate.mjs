// Writes protocol.json from src/spec.ts (Terraform reads the JSON; TypeScript is the source).
//   npm run -w @wskit/protocol generate
import { writeFileSync } from 'node:fs';
import { protocolJson } from './spec-json.mjs';

const file = new URL('../protocol.json', import.meta.url);
writeFileSync(file, await protocolJson());
console.log(`wrote ${file.pathname}`);
