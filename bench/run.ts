/**
 * `npm run bench`: how close the bot comes to node-llama-cpp alone on this machine, measured side by
 * side in one run. Prints a table, writes the raw numbers (bench/results/latest.json), the table with
 * the machine (bench/results/table.md) and a chart of throughput against concurrent channels
 * (bench/results/throughput.svg, copied to docs/bench-throughput.svg for the README).
 *
 * `npm run bench -- overhead batching` runs only some measurements; `BENCH_QUICK=1` runs fewer
 * rounds and shorter answers; `THREADS` and `GPU_LAYERS` are honoured as the bot honours them.
 */
import path from "node:path";
import {progress} from "./lib/logger.js";
import {describeMachine, loadAverage} from "./lib/machine.js";
import {benchModel, endlessTinyModel, storiesModel, tinyModel} from "./lib/models.js";
import {measureBatching} from "./measure/batching.js";
import {measureHygiene} from "./measure/hygiene.js";
import {measureInstantResume} from "./measure/instantResume.js";
import {measureLlamaServer} from "./measure/llamaServer.js";
import {measureLongConversation} from "./measure/longConversation.js";
import {measureMemory} from "./measure/memory.js";
import {measureOverhead} from "./measure/overhead.js";
import {measureResponsiveness} from "./measure/responsiveness.js";
import {measureThreads} from "./measure/threads.js";
import {writeReport} from "./report.js";
import type {BenchResults} from "./results.js";
import {readBenchSettings} from "./settings.js";
import type {BenchSettings} from "./settings.js";

type Measurement = {
    readonly name: string;
    run(results: BenchResults): Promise<void>;
};

function measurements(settings: BenchSettings, benchModelPath: string): Measurement[] {
    return [
        {name: "overhead", run: async (results) => {
            results.overhead = await measureOverhead(settings, benchModelPath);
        }},
        {name: "batching", run: async (results) => {
            results.batching = await measureBatching(settings, benchModelPath);
        }},
        {name: "long", run: async (results) => {
            results.longConversation = await measureLongConversation(settings, benchModelPath);
        }},
        {name: "responsiveness", run: async (results) => {
            const stories = storiesModel();
            results.responsiveness = await measureResponsiveness(settings, [
                {label: "the 85M bench model", path: benchModelPath, maxTokens: 160},
                ...(stories === undefined ? [] : [{label: "stories260K", path: stories, maxTokens: 160}]),
                {label: "the tests' tiny model", path: await tinyModel(), maxTokens: 160}
            ]);
        }},
        {name: "hygiene", run: async (results) => {
            results.hygiene = await measureHygiene(settings, await endlessTinyModel());
        }},
        {name: "threads", run: async (results) => {
            results.threads = await measureThreads(settings, benchModelPath);
        }},
        {name: "memory", run: async (results) => {
            results.memory = await measureMemory(settings, await tinyModel());
        }},
        {name: "resume", run: async (results) => {
            results.instantResume = await measureInstantResume(settings, benchModelPath);
        }},
        {name: "llama-server", run: async (results) => {
            results.llamaServer = await measureLlamaServer(settings, benchModelPath);
        }}
    ];
}

async function main(): Promise<BenchResults> {
    const startedAt = performance.now();
    const settings = await readBenchSettings(process.argv.slice(2), process.env);
    const machine = describeMachine({cpuMathCores: settings.cpuMathCores, gpu: settings.gpu});
    progress(`THREADS ${settings.threads} (the bot's default here: ${settings.cpuMathCores})${settings.quick ? ", quick" : ""}; ` +
        `load average ${machine.loadAverageStart}`);
    const benchModelPath = await benchModel();
    const results: BenchResults = {
        startedAt: new Date().toISOString(),
        durationSeconds: 0,
        machine,
        settings: {
            threads: settings.threads,
            gpuLayers: settings.gpuLayers ?? "auto (default)",
            quick: settings.quick,
            benchModel: `a random 85M-parameter llama, f16 (${path.basename(benchModelPath)})`
        },
        failures: []
    };

    const all = measurements(settings, benchModelPath);
    const selected = all.filter((measurement) => settings.only.length === 0 || settings.only.includes(measurement.name));
    for (const measurement of selected) {
        const measurementStartedAt = performance.now();
        progress(`${measurement.name}: starting`);
        try {
            await measurement.run(results);
        } catch (error) {
            results.failures.push({measurement: measurement.name, error: error instanceof Error ? error.stack ?? error.message : String(error)});
            progress(`${measurement.name}: FAILED: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        }
        progress(`${measurement.name}: done in ${((performance.now() - measurementStartedAt) / 1000).toFixed(0)} s`);
    }

    machine.loadAverageEnd = loadAverage();
    results.durationSeconds = (performance.now() - startedAt) / 1000;
    const report = await writeReport(results, {partial: settings.quick || selected.length < all.length});
    process.stdout.write("\n" + report.table + "\n");
    progress(`wrote ${report.files.join(", ")}`);
    progress(`the bench took ${results.durationSeconds.toFixed(0)} s`);
    return results;
}

const results = await main();
// everything is closed; anything left (a keep-alive socket) must not hold the bench open
process.exit(results.failures.length === 0 ? 0 : 1);
