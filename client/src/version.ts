/** The package version, reported by the metrics reporter (a test keeps it equal to package.json's). */
export const CLIENT_VERSION = '0.1.0';
