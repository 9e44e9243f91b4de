// Runs the fauxqs SQS emulator on 127.0.0.1 only, as a child process of the test harness (so it
// can be paused with SIGSTOP like the other servers). Usage: node fauxqs-server.mjs PORT
// fauxqs's own startFauxqs() binds 0.0.0.0; buildApp() + listen() on loopback does not.
import { buildApp } from "fauxqs";

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write(`fauxqs-server: bad port ${JSON.stringify(process.argv[2])}\n`);
  process.exit(2);
}
const app = buildApp({ logger: false });
await app.listen({ port, host: "127.0.0.1" });
process.stdout.write(`fauxqs listening on 127.0.0.1:${port}\n`);
const shutdown = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
