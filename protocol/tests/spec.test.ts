import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACTIONS, JWT_ALGORITHMS, TOPIC_PATTERN_SOURCE, protocolSpec } from '../src';

describe('protocol.json', () => {
  it('is what src/ generates (run `npm run -w @wskit/protocol generate` after changing the protocol)', () => {
    const committed: unknown = JSON.parse(readFileSync(join(__dirname, '..', 'protocol.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(protocolSpec())));
  });

  it('carries the facts Terraform reads', () => {
    const spec = protocolSpec();
    expect(spec.actions).toEqual([...ACTIONS]);
    expect(spec.jwtAlgorithms).toEqual([...JWT_ALGORITHMS]);
    expect(spec.jwtAlgorithms).not.toContain('EdDSA');
    expect(spec.topic.pattern).toBe(TOPIC_PATTERN_SOURCE);
  });
});
