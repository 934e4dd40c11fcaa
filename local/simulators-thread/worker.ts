/** The worker side of local/simulators-thread: both simulators on this thread's event loop. */
import { parentPort, workerData } from 'node:worker_threads';
import { startSequenceSimulator } from '../sequence-sim/server';
import { startSphereSimulator } from '../sphere-sim/server';
import type { FromThread, SimulatorsThreadOptions, ToThread } from './protocol';

const port = parentPort!;
const post = (message: FromThread) => port.postMessage(message);

async function main(options: SimulatorsThreadOptions): Promise<void> {
  const sequence = await startSequenceSimulator(options.sequence);
  const sphere = await startSphereSimulator(options.sphere);
  port.on('message', (message: ToThread) => {
    const work = message.op === 'webhooksIdle' ? sequence.webhooksIdle() : Promise.all([sequence.stop(), sphere.stop()]).then(() => port.close());
    work.then(
      () => post({ kind: 'done', id: message.id }),
      (error: unknown) => post({ kind: 'done', id: message.id, error: String(error) }),
    );
  });
  post({ kind: 'ready', sequence: { url: sequence.url, apiUrl: sequence.apiUrl, clientId: sequence.clientId, clientSecret: sequence.clientSecret }, sphere: { url: sphere.url } });
}

main(workerData as SimulatorsThreadOptions).catch((error: unknown) => post({ kind: 'failed', error: String(error) }));
