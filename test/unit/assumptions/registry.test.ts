import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CHECKS } from '../../../shared/assumptions/checks';
import { ASSUMPTIONS } from '../../../shared/assumptions/registry';

const root = path.resolve(__dirname, '../../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

function readmeAssumptionsSection(): string {
  const readme = read('README.md');
  const start = readme.indexOf('## Assumptions about the real APIs');
  expect(start).toBeGreaterThanOrEqual(0);
  const next = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, next === -1 ? undefined : next);
}

describe('the assumptions registry', () => {
  it('has unique ids', () => {
    const ids = ASSUMPTIONS.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(ASSUMPTIONS.map((a) => [a.id, a] as const))('%s: every file it names exists, and its runtime check fails with its code where it says', (_id, assumption) => {
    for (const file of assumption.reliedOnAt) expect([file, existsSync(path.join(root, file))]).toEqual([file, true]);
    if (assumption.runtimeCheck) {
      expect(read(assumption.runtimeCheck.where)).toContain(`'${assumption.runtimeCheck.errorCode}'`);
      const called = assumption.runtimeCheck.where.split('/').pop()!.replace(/\.ts$/, '');
      for (const caller of assumption.runtimeCheck.calledFrom) expect([caller, read(caller).includes(called)]).toEqual([caller, true]);
    }
  });

  it("is what the README's Assumptions section lists, id by id, with each runtime check's error code", () => {
    const section = readmeAssumptionsSection();
    for (const a of ASSUMPTIONS) {
      expect([a.id, section.includes(`\`${a.id}\``)]).toEqual([a.id, true]);
      if (a.runtimeCheck) expect([a.id, section.includes(`\`${a.runtimeCheck.errorCode}\``)]).toEqual([a.id, true]);
    }
  });

  it('gives every entry a live check for `sphere-connector verify`, and no check lacks an entry', () => {
    expect(Object.keys(CHECKS).sort()).toEqual(ASSUMPTIONS.map((a) => a.id).sort());
  });
});
