import type { MemorySource } from "@quiesce/sdk";
import type { JobSpec, Ledger } from "./ledger.js";
import { doWork, type PodMarks, type SimPod } from "./pod.js";
import { podSource, type PodSource } from "./pod-source.js";

export interface PlainPodDeps {
  readonly queue: MemorySource;
  readonly ledger: Ledger;
  readonly startDelayMs: number;
}

/**
 * The worker most people run: receive, run the handler, ack, repeat; no signal handler, so
 * SIGTERM ends the process on the spot and what it held waits for its lease to run out. It writes
 * nothing on its pod, so the ReplicaSet ranks it by age alone.
 */
export class PlainPod implements SimPod {
  readonly name: string;
  readonly createdAt = Date.now();
  readonly marks: PodMarks = {};
  readonly exited: Promise<void>;
  readonly #source: PodSource;
  readonly #ledger: Ledger;
  #running = 0;
  #exit!: () => void;

  constructor(name: string, deps: PlainPodDeps) {
    this.name = name;
    this.#ledger = deps.ledger;
    this.#source = podSource(deps.queue);
    this.exited = new Promise((resolve) => (this.#exit = resolve));
    setTimeout(() => {
      if (this.#source.killed.aborted) return;
      this.marks.readyAt = Date.now();
      void this.#loop();
    }, deps.startDelayMs);
  }

  ready(): boolean {
    return this.marks.readyAt !== undefined && !this.#source.killed.aborted;
  }

  inFlight(): number {
    return this.#running;
  }

  terminate(): void {
    this.marks.termAt ??= Date.now();
    this.#die();
  }

  kill(): void {
    this.#die();
  }

  #die(): void {
    if (this.#source.killed.aborted) return;
    this.#source.kill();
    this.marks.exitAt = Date.now();
    this.#exit();
  }

  async #loop(): Promise<void> {
    const killed = this.#source.killed;
    while (!killed.aborted) {
      const [delivery] = await this.#source.receive(1, killed);
      if (!delivery) continue;
      this.#running++;
      const done = await doWork(this.#ledger, this.name, delivery.payload as JobSpec, killed, killed);
      this.#running--;
      if (done) await delivery.ack();
    }
  }
}
