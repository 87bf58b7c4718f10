/**
 * `npm run bench`: how close the bot comes to node-llama-cpp alone and to llama.cpp itself on this
 * machine, measured side by side in one run. Prints the table, writes the raw numbers and the chart
 * to bench/results/, and, once a full run of every measurement has finished, publishes them: its section of
 * docs/performance.md between its markers, bench/results/published*.json and docs/bench-throughput-*.svg.
 * A run stopped or failing midway leaves its results in bench/results/unfinished* only.
 *
 * `npm run bench -- overhead batching` runs only some measurements; `BENCH_QUICK=1` runs fewer
 * rounds and shorter answers (`--publish` publishes such a run anyway, saying so); `BENCH_MODEL`
 * picks the model; `--gpu` is the GPU profile; `THREADS` and `GPU_LAYERS` are honoured as the bot
 * honours them. See bench/README.md.
 */
import {BenchRun} from "./BenchRun.js";
import {measuredCommit} from "./lib/commit.js";
import {progress} from "./lib/logger.js";
import {describeMachine, loadAverage} from "./lib/machine.js";
import {benchModel} from "./lib/models.js";
import {measurements} from "./measurements.js";
import {renderSection} from "./report.js";
import type {BenchResults} from "./results.js";
import {readBenchSettings} from "./settings.js";

async function main(): Promise<BenchResults> {
    const startedAt = performance.now();
    const settings = await readBenchSettings(process.argv.slice(2), process.env);
    const machine = describeMachine({cpuMathCores: settings.cpuMathCores, gpu: settings.gpu, binary: settings.binary});
    const unknown = settings.only.filter((name) => !measurements.some((measurement) => measurement.name === name));
    if (unknown.length > 0)
        throw new Error(`No measurement named ${unknown.join(", ")}; there are: ${measurements.map((measurement) => measurement.name).join(", ")}`);
    progress(`profile ${settings.profile}, THREADS ${settings.threads} (the bot's default here: ${settings.cpuMathCores}), ` +
        `${settings.rounds} rounds${settings.quick ? " (quick)" : ""}; load average ${machine.loadAverageStart}`);
    progress(`model ${settings.model}: preparing (the real-shape model is written once, in a few minutes)`);
    const model = await benchModel(settings.model);
    const selected = measurements.filter((measurement) => settings.only.length === 0 || settings.only.includes(measurement.name));
    const results: BenchResults = {
        profile: settings.profile,
        startedAt: new Date().toISOString(),
        durationSeconds: 0,
        commit: measuredCommit(),
        machine,
        settings: {
            threads: settings.threads,
            gpuLayers: settings.gpuLayers ?? "auto (default)",
            quick: settings.quick,
            rounds: settings.rounds,
            model: {id: model.id, description: model.description, fileBytes: model.fileBytes}
        },
        measurements: [],
        notRun: measurements.filter((measurement) => !selected.includes(measurement)).map((measurement) => measurement.name),
        unfinished: selected.map((measurement) => measurement.name),
        failures: []
    };

    const complete = selected.length === measurements.length;
    const run = new BenchRun(results, {
        complete,
        publish: settings.publish || (complete && !settings.quick),
        beforeWrite() {
            machine.loadAverageEnd = loadAverage();
            results.durationSeconds = (performance.now() - startedAt) / 1000;
        }
    });
    // Ctrl+C (the terminal signals the measurement's child processes too) or SIGTERM: what was measured
    // is written as unfinished, beside the last finished run's files, and the bench exits; the forked
    // bots exit when their channel to the bench closes
    const onSignal = (signal: NodeJS.Signals) => {
        progress(`${signal}: stopping; writing what was measured as unfinished`);
        void run.stop(signal).then(
            (files) => progress(`wrote ${files.join(", ")}`),
            (error: unknown) => progress(`could not write the unfinished results: ${String(error)}`)
        ).finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);

    let files: string[];
    try {
        for (const measurement of selected) {
            const measurementStartedAt = performance.now();
            progress(`${measurement.name}: starting`);
            await run.measure(measurement, {settings, model});
            progress(`${measurement.name}: done in ${((performance.now() - measurementStartedAt) / 1000).toFixed(0)} s`);
        }
        files = await run.finish();
    } catch (error) {
        await run.stop(`failed: ${error instanceof Error ? error.message : String(error)}`);
        throw error;
    }
    process.stdout.write("\n" + renderSection(results) + "\n");
    progress(`wrote ${files.join(", ")}`);
    progress(`the bench took ${results.durationSeconds.toFixed(0)} s`);
    return results;
}

const results = await main();
// everything is closed; anything left (a keep-alive socket) must not hold the bench open
process.exit(results.failures.length === 0 ? 0 : 1);
