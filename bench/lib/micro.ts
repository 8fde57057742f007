export async function microBenchmark(_o: { seconds: number }): Promise<unknown> {
  return undefined;
}
