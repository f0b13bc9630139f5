/**
 * Linux CPU lists as the kernel and taskset write them: "0-3,6,8-9" (empty = none). Shared by the
 * doctor (/sys/devices/system/cpu/isolated, taskset output) and the launch planner (taskset -c, systemd).
 */

/** Parses "0-3,6" into [0,1,2,3,6] (sorted, unique). Throws on anything that is not a CPU list. */
export function parseCpuList(text: string): number[] {
  const s = text.trim();
  if (s === '') return [];
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 4096) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

/** Formats CPUs compactly, ranges folded: [0,1,2,3,6] -> "0-3,6". */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i + 1 ? `${sorted[i]}-${sorted[j]}` : j === i + 1 ? `${sorted[i]},${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * The affinity list in taskset's answer: "pid 123's current affinity list: 0,1" -> [0,1]. After a change
 * taskset prints the current and then the new list: the last one wins.
 */
export function parseTasksetAffinity(output: string): number[] | undefined {
  const lists = [...output.matchAll(/affinity list:[ \t]*([0-9,\-]*)[ \t]*$/gm)];
  const last = lists[lists.length - 1];
  if (!last) return undefined;
  try {
    return parseCpuList(last[1]!);
  } catch {
    return undefined;
  }
}
