/** Interop with BIRD 2 as the upstream router (kernel protocol with `merge paths on`). */
import { birdEstablished, startBird } from './bird.js';
import { routerSuite } from './router-suite.js';

routerSuite('BIRD', async (lab) => {
  const bird = await startBird(lab);
  return {
    fibProto: 'bird',
    established: async () => (await birdEstablished(bird)).length,
    communities: async (prefix) => {
      const out = await bird.birdc('show', 'route', prefix, 'all');
      return [...new Set([...out.matchAll(/\((\d+),(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`))];
    },
    acceptedFrom: async (lb) => {
      const out = await bird.birdc('show', 'route', 'count', 'protocol', lb);
      return Number(/^(\d+) of \d+ routes/m.exec(out)?.[1] ?? NaN);
    },
  };
});
