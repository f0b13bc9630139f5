import v8 from 'node:v8';
import vm from 'node:vm';

// Optimise (and on-stack-replace hot loops) on the main thread, not on a background compiler thread: on a loaded
// machine (the test suite on 2 cores) the background compile can land after every measured round, which then
// all run unoptimised code that boxes numbers. Set when a test file imports this helper, before its warm-ups.
v8.setFlagsFromString('--no-concurrent-recompilation');
v8.setFlagsFromString('--no-concurrent-osr');

/**
 * Heap growth of the steady state of a hot loop: the smallest growth over several measured rounds, each
 * after a full GC. A round that ran while the optimising compiler had not yet delivered (slow or loaded CI
 * machines compile later) boxes numbers in the interpreter; the later rounds run the optimised code, and a
 * loop that allocates in its optimised form grows the heap in every round.
 */
export function steadyHeapGrowth(run: () => void, rounds = 5): number {
  v8.setFlagsFromString('--expose-gc');
  const fullGc = vm.runInNewContext('gc') as () => void;
  let least = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    fullGc();
    const before = process.memoryUsage().heapUsed;
    run();
    const growth = process.memoryUsage().heapUsed - before;
    if (growth < least) least = growth;
  }
  return least;
}
