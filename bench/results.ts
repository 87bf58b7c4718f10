import type {MachineDescription} from "./lib/machine.js";
import type {ThroughputSeries} from "./lib/measurement.js";
import type {BenchModelId} from "./lib/models.js";
import type {Row} from "./lib/row.js";

/**
 * What docs/performance.md publishes: one section per profile, each from its own run.
 * "85m" and "qwen3-1.7b-shape" are `npm run bench` on each model (`BENCH_MODEL`); "gpu" is `npm run bench -- --gpu`.
 */
export const benchProfiles = ["85m", "qwen3-1.7b-shape", "gpu"] as const;
export type BenchProfile = (typeof benchProfiles)[number];

/** Everything one run of the bench measured: what bench/results/*.json hold. */
export type BenchResults = {
    readonly profile: BenchProfile;
    readonly startedAt: string;
    durationSeconds: number;
    /** The code that was measured: `git rev-parse HEAD`, and whether files other than the bench's own outputs differed from it. */
    readonly commit: {readonly hash: string, readonly dirty: boolean};
    readonly machine: MachineDescription;
    readonly settings: {
        readonly threads: number;
        readonly gpuLayers: string;
        readonly quick: boolean;
        /** Interleaved rounds of each compared row. */
        readonly rounds: number;
        readonly model: {readonly id: BenchModelId, readonly description: string, readonly fileBytes: number};
    };
    readonly measurements: MeasurementResult[];
    /** Measurements of the registry that this run left out (`npm run bench -- NAME...`). */
    readonly notRun: readonly string[];
    /** Measurements of this run still to finish when its results were written (a run writes them after every measurement). */
    readonly unfinished: string[];
    /** Measurements that failed, with why. */
    readonly failures: {measurement: string, error: string}[];
    /** Why a run ended before its last measurement, and where (e.g. "SIGINT during memory"): such a run writes only bench/results/unfinished*. */
    stopped?: string;
};

export type MeasurementResult = {
    readonly name: string;
    readonly rows: readonly Row[];
    readonly raw: unknown;
    readonly throughput?: readonly ThroughputSeries[];
};
