import path from "node:path";
import {throughputChart} from "./chart.js";
import {machineSummary} from "./lib/machine.js";
import type {ThroughputSeries} from "./lib/measurement.js";
import {formatEstimate, mibText} from "./lib/format.js";
import type {Row, Target, Verdict} from "./lib/row.js";
import type {BenchProfile, BenchResults} from "./results.js";

/**
 * Pure rendering of a run's results: the published section (header, table, chart link) and the chart.
 * `npm run bench` writes what these return, and a test renders the committed results again and
 * compares, so the published page can only show what a run of the bench produced.
 */

/** The page holding every profile's section between its markers, relative to the project folder. */
export const performancePage = "docs/performance.md";

/** The committed chart of a profile, relative to the project folder. */
export function chartFile(profile: BenchProfile): string {
    return `docs/bench-throughput-${profile}.svg`;
}

/** The committed raw results of a profile's published run, relative to the project folder. */
export function publishedResultsFile(profile: BenchProfile): string {
    return profile === "85m" ? "bench/results/published.json" : `bench/results/published-${profile}.json`;
}

/** The published section of a profile, with the table and the chart link (relative to {@link performancePage}). */
export function renderSection(results: BenchResults): string {
    const {settings, machine, commit} = results;
    const rows = results.measurements.flatMap((measurement) => measurement.rows);
    const lines = [
        `Measured ${results.startedAt.slice(0, 10)} at commit \`${commit.hash.slice(0, 10)}\`${commit.dirty ? " (with uncommitted changes)" : ""} ` +
            `on: ${machineSummary(machine)}.`,
        `Model: ${settings.model.description} (${mibText(settings.model.fileBytes)}); THREADS ${settings.threads}, GPU_LAYERS ${settings.gpuLayers}; ` +
            `load average ${machine.loadAverageStart} at the start, ${machine.loadAverageEnd} at the end; the run took ${Math.round(results.durationSeconds)} s.`,
        settings.quick
            ? `**Quick run (BENCH_QUICK=1)**: ${settings.rounds} rounds a row and shorter answers, so the intervals are wide; a full run has 8 or more.`
            : `Ratios: median of ${settings.rounds} interleaved rounds, [95% bootstrap interval].`,
        "✅ the interval clears the target, ≈ it straddles the target, ❌ it lies beyond it.",
        ...(results.notRun.length > 0 ? [`Not in this run: ${results.notRun.join(", ")}.`] : []),
        ...(results.stopped !== undefined ? [`**Stopped run** (${results.stopped}).`] : []),
        ...(results.unfinished.length > 0 ? [`**Unfinished run**: written before ${results.unfinished.join(", ")} had finished.`] : []),
        "",
        "| # | measurement | the bot | reference | ratio [95% interval] | target | met |",
        "|---|---|---|---|---|---|---|",
        ...rows.map((row) => `| ${row.number} | ${row.what} | ${row.bot} | ${row.reference} | ${estimateCell(row)} | ${targetCell(row.target)} | ${verdictMark(row.verdict)} |`),
        ...results.failures.map((failure) => `| | ${failure.measurement} | failed: ${escapeCell(failure.error.split("\n")[0] ?? "")} | | | | ❌ |`)
    ];
    if (throughputOf(results).length > 0)
        lines.push("", `![aggregate tokens/s against answers at once](${path.posix.relative(path.posix.dirname(performancePage), chartFile(results.profile))})`);
    return lines.join("\n") + "\n";
}

/** The section of a profile that has never been published. */
export function notMeasuredSection(profile: BenchProfile): string {
    const how = profile === "gpu" ? "npm run bench -- --gpu" : `BENCH_MODEL=${profile} npm run bench`;
    return `Not measured yet: \`${how}\` on a suitable machine writes this section.\n`;
}

/** Every chart line of a run. */
export function throughputOf(results: BenchResults): ThroughputSeries[] {
    return results.measurements.flatMap((measurement) => measurement.throughput ?? []);
}

/** The chart of a run, or undefined if no measurement drew a line. */
export function renderChart(results: BenchResults): string | undefined {
    const series = throughputOf(results);
    if (series.length === 0)
        return undefined;
    const {machine, settings} = results;
    const caption = `${machine.cpuModel}, ${machine.cpus} CPUs, THREADS ${settings.threads}, GPU: ${machine.gpu}; ${settings.model.description}; ` +
        `node-llama-cpp ${machine.nodeLlamaCpp}; commit ${results.commit.hash.slice(0, 10)}, ${results.startedAt.slice(0, 10)}`;
    return throughputChart(series, caption);
}

function estimateCell(row: Row): string {
    const parts: string[] = [];
    if (row.estimate !== undefined)
        parts.push(formatEstimate(row.estimate));
    if (row.note !== undefined)
        parts.push(row.note);
    return parts.join(" ");
}

function targetCell(target: Target | undefined): string {
    if (target === undefined)
        return "";
    const symbol = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}[target.comparison];
    return `${symbol} ${target.value}${target.unit === undefined ? "" : ` ${target.unit}`}`;
}

function verdictMark(verdict: Verdict): string {
    return {met: "✅", straddles: "≈", missed: "❌", none: ""}[verdict];
}

function escapeCell(text: string): string {
    return text.replace(/\|/g, "\\|");
}
