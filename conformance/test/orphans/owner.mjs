// A lone Trellis node (Node or Bun) that runs one probe child and prints "running" once it
// does: `owner.mjs <node|bun> <worker|process> <pid file>`. The orphan tests kill it with -9.
const [host, isolate, pidFile] = process.argv.slice(2);
const { start } = await import(`@trellis/${host}`);
const sup = await start({
  scope: 'orphans', name: `owner-${process.pid}`, secret: 'orphans-secret',
  listen: { host: '127.0.0.1', port: 0 },
  kinds: { probe: { module: new URL('./pid-child.mjs', import.meta.url), isolate } },
});
await sup.startChild({ id: 'probe', kind: 'probe', args: { pidFile } }, { wait: 'running' });
process.stdout.write('running\n');
// Stays up until killed: the node's sockets keep the event loop alive.
