/**
 * `npm run bench`: how close the bot comes to node-llama-cpp alone and to llama.cpp itself on this
 * machine, measured side by side in one run. Prints the table, writes the raw numbers and the chart
 * to bench/results/, and, for a full run of every measurement, publishes them: its section of
 * docs/performance.md between its markers, bench/results/published*.json and docs/bench-throughput-*.svg.
 *
 * `npm run bench -- overhead batching` runs only some measurements; `BENCH_QUICK=1` runs fewer
 * rounds and shorter answers (`--publish` publishes such a run anyway, saying so); `BENCH_MODEL`
 * picks the model; `--gpu` is the GPU profile; `THREADS` and `GPU_LAYERS` are honoured as the bot
 * honours them. See bench/README.md.
 */
import {measuredCommit} from "./lib/commit.js";
import {progress} from "./lib/logger.js";
import {describeMachine, loadAverage} from "./lib/machine.js";
import {benchModel} from "./lib/models.js";
import {measurements} from "./measurements.js";
import {writeResults} from "./publish.js";
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
    const publish = settings.publish || (complete && !settings.quick);
    // written after every measurement, so that a run stopped early still leaves (and publishes) what it measured, saying so
    const write = async () => {
        machine.loadAverageEnd = loadAverage();
        results.durationSeconds = (performance.now() - startedAt) / 1000;
        return writeResults(results, {partial: !complete, publish});
    };
    for (const measurement of selected) {
        const measurementStartedAt = performance.now();
        progress(`${measurement.name}: starting`);
        try {
            const outcome = await measurement.run({settings, model});
            results.measurements.push({name: measurement.name, ...outcome});
        } catch (error) {
            results.failures.push({measurement: measurement.name, error: error instanceof Error ? error.stack ?? error.message : String(error)});
            progress(`${measurement.name}: FAILED: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        }
        results.unfinished.splice(results.unfinished.indexOf(measurement.name), 1);
        await write();
        progress(`${measurement.name}: done in ${((performance.now() - measurementStartedAt) / 1000).toFixed(0)} s`);
    }

    const files = await write();
    process.stdout.write("\n" + renderSection(results) + "\n");
    progress(`wrote ${files.join(", ")}`);
    progress(`the bench took ${results.durationSeconds.toFixed(0)} s`);
    return results;
}

const results = await main();
// everything is closed; anything left (a keep-alive socket) must not hold the bench open
process.exit(results.failures.length === 0 ? 0 : 1);
