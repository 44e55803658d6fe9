// One jest run covers every workspace; each workspace (package.json "workspaces") is a
// project with its own tsconfig.
const { workspaces } = require('./package.json');

/** @type {import('jest').Config} */
module.exports = {
  projects: workspaces.map((dir) => ({
    displayName: dir,
    rootDir: `<rootDir>/${dir}`,
    testEnvironment: 'node',
    // Workspace packages resolve to their TypeScript sources (see their package.json exports).
    testEnvironmentOptions: { customExportConditions: ['wskit-source', 'node', 'node-addons'] },
    testMatch: ['<rootDir>/tests/**/*.test.ts'],
    transform: {
      '^.+\\.tsx?$': ['ts-jest', { tsconfig: `<rootDir>/tsconfig.json` }],
    },
  })),
};
