import fs from "node:fs/promises";
import path from "node:path";
import {projectRoot, resultsDir} from "./lib/paths.js";
import {chartFile, performancePage, publishedResultsFile, renderChart, renderSection} from "./report.js";
import type {BenchProfile, BenchResults} from "./results.js";

/** The markers around a profile's section in {@link performancePage}: everything between them is written by `npm run bench`. */
export function sectionMarkers(profile: BenchProfile): {start: string, end: string} {
    return {
        start: `<!-- bench:${profile}:start (written by npm run bench from ${publishedResultsFile(profile)}; do not edit) -->`,
        end: `<!-- bench:${profile}:end -->`
    };
}

/** The text between a profile's markers in a page. Throws if they are missing. */
export function publishedSection(page: string, profile: BenchProfile): string {
    const {start, end} = sectionMarkers(profile);
    const startIndex = page.indexOf(start);
    const endIndex = page.indexOf(end);
    if (startIndex < 0 || endIndex < startIndex)
        throw new Error(`${performancePage} has no section between ${start} and ${end}`);
    return page.slice(startIndex + start.length, endIndex).replace(/^\n/, "");
}

/** The page with a profile's section replaced. */
export function withSection(page: string, profile: BenchProfile, section: string): string {
    publishedSection(page, profile);
    const {start, end} = sectionMarkers(profile);
    return page.slice(0, page.indexOf(start) + start.length) + "\n" + section + page.slice(page.indexOf(end));
}

/** Where a run writes: the project's own folders, or a test's temporary copy of them. */
export type OutputPaths = {
    /** docs/performance.md, the charts under docs/ and bench/results/published*.json are found from here. */
    readonly projectRoot: string;
    /** bench/results/: latest*, partial* and unfinished*. */
    readonly resultsDir: string;
};

export const projectOutputs: OutputPaths = {projectRoot, resultsDir};

/** The stem of the files a run still going (or stopped before its end) writes, beside latest* and partial*. */
export const unfinishedStem = "unfinished";

export type WriteMode = {
    /**
     * Every measurement of the run has run. Until then (and for good when a run is stopped or fails
     * midway) only bench/results/unfinished* are written: latest*, partial* and the published files
     * stay as the last finished run left them.
     */
    readonly finished: boolean;
    /** A run of some measurements: its finished files are partial*, not latest*. */
    readonly partial: boolean;
    /** A finished run also writes the committed files (every measurement, not quick unless `--publish`). */
    readonly publish: boolean;
};

/**
 * Writes a run's results: the raw JSON, and the table and chart rendered from it. A run not
 * finished writes bench/results/unfinished*. A finished one writes bench/results/latest* (or
 * partial* for a run of some measurements), removes unfinished*, and when it publishes, the
 * committed files: the profile's raw results, its chart under docs/, and its section of
 * docs/performance.md. Returns the files written.
 */
export async function writeResults(results: BenchResults, {finished, partial, publish}: WriteMode, paths: OutputPaths = projectOutputs): Promise<string[]> {
    await fs.mkdir(paths.resultsDir, {recursive: true});
    const json = JSON.stringify(results, roundNumbers, 2) + "\n";
    // everything is rendered from the JSON as written (rounded), exactly as the published page's test renders it
    const rounded = JSON.parse(json) as BenchResults;
    const section = renderSection(rounded);
    const chart = renderChart(rounded);
    const stem = !finished ? unfinishedStem : partial ? "partial" : "latest";
    const written: string[] = [];
    const write = async (file: string, content: string) => {
        await fs.mkdir(path.dirname(file), {recursive: true});
        await fs.writeFile(file, content);
        written.push(path.relative(paths.projectRoot, file));
    };
    await write(path.join(paths.resultsDir, `${stem}.json`), json);
    await write(path.join(paths.resultsDir, `${stem}-table.md`), section);
    if (chart !== undefined)
        await write(path.join(paths.resultsDir, `${stem}-throughput.svg`), chart);
    if (!finished)
        return written;

    // this run's unfinished files were its own progress: now that it has finished they would only mislead
    for (const suffix of [".json", "-table.md", "-throughput.svg"])
        await fs.rm(path.join(paths.resultsDir, unfinishedStem + suffix), {force: true});
    if (publish) {
        await write(path.join(paths.projectRoot, publishedResultsFile(results.profile)), json);
        if (chart !== undefined)
            await write(path.join(paths.projectRoot, chartFile(results.profile)), chart);
        const pagePath = path.join(paths.projectRoot, performancePage);
        await write(pagePath, withSection(await fs.readFile(pagePath, "utf8"), results.profile, section));
    }
    return written;
}

/** JSON numbers rounded to 4 decimals: the raw data stays readable. */
function roundNumbers(_key: string, value: unknown): unknown {
    return typeof value === "number" && !Number.isInteger(value) ? Math.round(value * 10_000) / 10_000 : value;
}
