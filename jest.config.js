// One jest run covers every workspace; each workspace is a project with its own tsconfig.
const workspaces = [
  'shared',
  'lambda/connect',
  'lambda/disconnect',
  'lambda/message',
  'lambda/authorizer',
  'lambda/broadcaster',
  'local',
  'client',
];

/** @type {import('jest').Config} */
module.exports = {
  projects: workspaces.map((dir) => ({
    displayName: dir,
    rootDir: `<rootDir>/${dir}`,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/tests/**/*.test.ts'],
    transform: {
      '^.+\\.tsx?$': ['ts-jest', { tsconfig: `<rootDir>/tsconfig.json` }],
    },
  })),
};
