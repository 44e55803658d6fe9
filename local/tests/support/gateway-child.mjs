// @ts-check
// The gateway in a process of its own, for the suites that must see it crash if it does:
// options come as JSON in WSKIT_GATEWAY_OPTIONS, the port goes to stdout as `READY <port>`,
// SIGTERM stops it (`STOPPED`, exit 0). An uncaught exception or an unhandled rejection
// ends the process with a non-zero code, as it would end `npm start`.
import { loadGateway } from '../../bin/load.mjs';

process.removeAllListeners('warning');
process.on('warning', () => undefined);

const options = JSON.parse(process.env.WSKIT_GATEWAY_OPTIONS ?? '{}');
const { startGateway } = await loadGateway();
const gw = await startGateway({ ...options, accessLog: (entry) => process.stderr.write(`${JSON.stringify(entry)}\n`) });
process.stdout.write(`READY ${gw.port}\n`);
process.on('SIGTERM', () => {
  void gw.stop().then(() => {
    process.stdout.write('STOPPED\n');
    process.exit(0);
  });
});
