/**
 * The gateway's teardown in one place: each start step that acquires something pushes how to
 * release it, and `run()` releases everything in reverse order, once, whether start failed
 * half-way or `stop()` was called. A step that fails to release does not keep the others
 * from running; its error is collected.
 */
export class CleanupStack {
  private readonly steps: Array<{ name: string; release: () => void | Promise<void> }> = [];
  private running: Promise<Error[]> | undefined;

  /** Registers a release step; it runs before every step registered earlier. */
  push(name: string, release: () => void | Promise<void>): void {
    if (this.running) throw new Error(`cleanup already ran; cannot register ${name}`);
    this.steps.push({ name, release });
  }

  get size(): number {
    return this.steps.length;
  }

  /** Runs every step, last registered first; resolves with the errors of the steps that failed. */
  run(): Promise<Error[]> {
    this.running ??= (async () => {
      const errors: Error[] = [];
      for (const step of this.steps.splice(0).reverse()) {
        try {
          await step.release();
        } catch (err) {
          errors.push(new Error(`cleanup ${step.name} failed: ${(err as Error)?.message ?? String(err)}`));
        }
      }
      return errors;
    })();
    return this.running;
  }

  /**
   * Runs `step`; when it throws, everything registered so far is released before the error
   * goes on, so a failed start leaves nothing behind.
   */
  async guard<T>(step: () => Promise<T> | T): Promise<T> {
    try {
      return await step();
    } catch (err) {
      await this.run();
      throw err;
    }
  }
}
