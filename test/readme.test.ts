import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');

describe('README', () => {
  test('the usage example is examples/usage.ts, which npm test type-checks', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const usage = readme.split('## Usage')[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
    expect(usage).toBeDefined();
    expect(usage).toEqual(fs.readFileSync(path.join(root, 'examples', 'usage.ts'), 'utf8'));
  });

  test('the usage example imports the package by the name it is published under', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(fs.readFileSync(path.join(root, 'examples', 'usage.ts'), 'utf8')).toContain(`from '${pkg.name}'`);
  });
});
