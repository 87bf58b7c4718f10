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

/**
 * Writes a run's results. Always: bench/results/latest.json (or partial.json for a run of some
 * measurements), and the table and chart next to it. A published run (every measurement, and not
 * quick unless `--publish` says so) also writes the committed files: the profile's raw results,
 * its chart under docs/, and its section of docs/performance.md. Returns the files written.
 */
export async function writeResults(results: BenchResults, {publish, partial}: {publish: boolean, partial: boolean}): Promise<string[]> {
    await fs.mkdir(resultsDir, {recursive: true});
    const json = JSON.stringify(results, roundNumbers, 2) + "\n";
    // everything is rendered from the JSON as written (rounded), exactly as the published page's test renders it
    const rounded = JSON.parse(json) as BenchResults;
    const section = renderSection(rounded);
    const chart = renderChart(rounded);
    const stem = partial ? "partial" : "latest";
    const written: string[] = [];
    const write = async (file: string, content: string) => {
        await fs.mkdir(path.dirname(file), {recursive: true});
        await fs.writeFile(file, content);
        written.push(path.relative(projectRoot, file));
    };
    await write(path.join(resultsDir, `${stem}.json`), json);
    await write(path.join(resultsDir, `${stem}-table.md`), section);
    if (chart !== undefined)
        await write(path.join(resultsDir, `${stem}-throughput.svg`), chart);

    if (publish) {
        await write(path.join(projectRoot, publishedResultsFile(results.profile)), json);
        if (chart !== undefined)
            await write(path.join(projectRoot, chartFile(results.profile)), chart);
        const pagePath = path.join(projectRoot, performancePage);
        await write(pagePath, withSection(await fs.readFile(pagePath, "utf8"), results.profile, section));
    }
    return written;
}

/** JSON numbers rounded to 4 decimals: the raw data stays readable. */
function roundNumbers(_key: string, value: unknown): unknown {
    return typeof value === "number" && !Number.isInteger(value) ? Math.round(value * 10_000) / 10_000 : value;
}
