/** Runs `lanes` copies of `step` back to back until the deadline (closed loop, fixed concurrency). */
export async function runLanes(
  lanes: number,
  durationMs: number,
  maxOperations: number,
  step: (lane: number) => Promise<void>,
): Promise<{ elapsedMs: number; started: number }> {
  const start = performance.now();
  const deadline = start + durationMs;
  let started = 0;
  const lane = async (index: number): Promise<void> => {
    // Each lane waits for its own operation before starting the next, like one connection.
    while (performance.now() < deadline && started < maxOperations) {
      started += 1;
      await step(index);
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, i) => lane(i)));
  // The clock stops when the last in-flight operation has finished, so every counted
  // operation lies inside the measured interval.
  return { elapsedMs: performance.now() - start, started };
}
