/** What an example started, released in reverse order; a failed start unwinds what it had. */
export class Teardown {
  readonly #steps: Array<{ name: string; run: () => Promise<void> | void }> = [];

  push(name: string, run: () => Promise<void> | void): void {
    this.#steps.push({ name, run });
  }

  /** Runs every step (newest first), even when one fails; throws the first failure after all ran. */
  async run(): Promise<void> {
    let first: Error | undefined;
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (error) {
        first ??= new Error(`stopping ${step.name}: ${(error as Error).message}`);
      }
    }
    if (first) throw first;
  }

  /** Runs `start`; when it throws, unwinds everything pushed so far and rethrows. */
  async guard<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (error) {
      await this.run().catch(() => undefined);
      throw error;
    }
  }
}
