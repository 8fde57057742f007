export async function scaleBenchmark(_o: { sessions: number }): Promise<unknown> {
  return undefined;
}
