import type {BenchSettings} from "../settings.js";
import type {BenchModel} from "./models.js";
import type {Row} from "./row.js";
import type {Estimate} from "./stats.js";

/** One line of the throughput chart: aggregate tokens/s against answers at once. */
export type ThroughputSeries = {
    readonly name: string;
    readonly points: readonly {readonly width: number, readonly tokensPerSecond: Estimate}[];
};

/** What a measurement hands the report: its table rows, its raw numbers, and chart lines if it draws any. */
export type MeasurementOutcome = {
    readonly rows: readonly Row[];
    /** Every number the rows came from, for bench/results/*.json. */
    readonly raw: unknown;
    readonly throughput?: readonly ThroughputSeries[];
};

/** What every measurement gets: the run's settings and the model the speed rows run on. */
export type BenchContext = {
    readonly settings: BenchSettings;
    readonly model: BenchModel;
};

/**
 * One measurement of the bench: a file under bench/measure/ exports one, and bench/measurements.ts
 * lists it. `name` is what `npm run bench -- NAME` selects.
 */
export type Measurement = {
    readonly name: string;
    run(context: BenchContext): Promise<MeasurementOutcome>;
};
