import {progress} from "./lib/logger.js";
import type {BenchContext, Measurement} from "./lib/measurement.js";
import {projectOutputs, writeResults} from "./publish.js";
import type {OutputPaths} from "./publish.js";
import type {BenchResults} from "./results.js";

export type BenchRunOptions = {
    /** Every measurement of the registry is in this run. */
    readonly complete: boolean;
    /** Publish once finished (see {@link writeResults}). */
    readonly publish: boolean;
    readonly paths?: OutputPaths;
    /** Called before each write, e.g. to note the load average and the time taken so far. */
    readonly beforeWrite?: (results: BenchResults) => void;
};

/**
 * One run of the bench, measurement after measurement. Its results are written after every
 * measurement as bench/results/unfinished*, so that a run stopped (a signal) or failing midway
 * leaves what it measured beside the last finished run's files; only {@link finish} writes
 * latest* (or partial*) and publishes.
 */
export class BenchRun {
    readonly results: BenchResults;
    readonly #options: BenchRunOptions;
    /** The measurement running now, for the stop reason. */
    #current: string | undefined;
    #ended = false;
    /** Writes one after another: a stop's write must land after a measurement's. */
    #writing: Promise<unknown> = Promise.resolve();

    constructor(results: BenchResults, options: BenchRunOptions) {
        this.results = results;
        this.#options = options;
    }

    /** Runs one measurement, records its outcome or its failure, and writes the unfinished files. */
    async measure(measurement: Measurement, context: BenchContext): Promise<void> {
        const {results} = this;
        this.#current = measurement.name;
        try {
            const outcome = await measurement.run(context);
            results.measurements.push({name: measurement.name, ...outcome});
        } catch (error) {
            const text = error instanceof Error ? error.stack ?? error.message : String(error);
            results.failures.push({measurement: measurement.name, error: text});
            progress(`${measurement.name}: FAILED: ${text}`);
        }
        this.#current = undefined;
        results.unfinished.splice(results.unfinished.indexOf(measurement.name), 1);
        if (!this.#ended)
            await this.#write(false);
    }

    /** Every measurement has run: writes latest* (or partial*) and, if the run publishes, the committed files. */
    async finish(): Promise<string[]> {
        if (this.#ended)
            throw new Error(`The bench run already ended (${this.results.stopped ?? "finished"})`);
        this.#ended = true;
        return this.#write(true);
    }

    /**
     * The run ends early (`why`: a signal's name, or a failure): writes what it measured as
     * unfinished*, saying where it stopped; nothing else. Later calls do nothing.
     */
    async stop(why: string): Promise<string[]> {
        if (this.#ended)
            return [];
        this.#ended = true;
        this.results.stopped = this.#current === undefined ? why : `${why} during ${this.#current}`;
        return this.#write(false);
    }

    #write(finished: boolean): Promise<string[]> {
        const written = this.#writing.catch(() => undefined).then(() => {
            this.#options.beforeWrite?.(this.results);
            return writeResults(this.results, {finished, partial: !this.#options.complete, publish: this.#options.publish}, this.#options.paths ?? projectOutputs);
        });
        this.#writing = written;
        return written;
    }
}
