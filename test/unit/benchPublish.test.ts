import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {BenchRun} from "../../bench/BenchRun.js";
import type {BenchContext, Measurement} from "../../bench/lib/measurement.js";
import {publishedSection} from "../../bench/publish.js";
import type {OutputPaths} from "../../bench/publish.js";
import {performancePage, publishedResultsFile} from "../../bench/report.js";
import type {BenchResults} from "../../bench/results.js";
import {projectRoot} from "../fixtures/botProcess.js";

/** What the last finished run left: a test project with the real page, and marked published and latest files. */
const publishedJson = "the published run\n";
const latestJson = "the latest finished run\n";

let paths: OutputPaths;

beforeEach(async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "bench-publish-"));
    paths = {projectRoot: root, resultsDir: path.join(root, "bench", "results")};
    await fs.mkdir(path.join(root, "docs"), {recursive: true});
    await fs.copyFile(path.join(projectRoot, performancePage), path.join(root, performancePage));
    await fs.mkdir(paths.resultsDir, {recursive: true});
    await fs.writeFile(path.join(root, publishedResultsFile("85m")), publishedJson);
    await fs.writeFile(path.join(paths.resultsDir, "latest.json"), latestJson);
});

afterEach(async () => {
    await fs.rm(paths.projectRoot, {recursive: true, force: true});
});

/** A run of these measurements, as bench/run.ts starts one: the committed results' header, nothing measured yet. */
async function newRun(names: readonly string[]): Promise<BenchRun> {
    const published = JSON.parse(await fs.readFile(path.join(projectRoot, publishedResultsFile("85m")), "utf8")) as BenchResults;
    const results: BenchResults = {...published, measurements: [], notRun: [], unfinished: [...names], failures: []};
    return new BenchRun(results, {complete: true, publish: true, paths});
}

function measuring(name: string, outcome: Promise<void> = Promise.resolve()): Measurement {
    return {
        name,
        async run() {
            await outcome;
            return {raw: {name}, rows: [{number: "99", what: `${name} row`, bot: "1", reference: "2", verdict: "none"}]};
        }
    };
}

const context = {} as BenchContext;
const read = (file: string) => fs.readFile(path.join(paths.projectRoot, file), "utf8");
const exists = (file: string) => fs.access(path.join(paths.projectRoot, file)).then(() => true, () => false);

describe("a bench run's results (bench/BenchRun.ts, bench/publish.ts)", () => {
    it("given a full run stopped by a signal after some measurements, then what was published and the latest run stay as they were, and unfinished.json says what was measured and where it stopped", async () => {
        const page = await read(performancePage);
        const run = await newRun(["first", "second", "third"]);
        await run.measure(measuring("first"), context);
        void run.measure(measuring("second", new Promise(() => undefined)), context);

        const written = await run.stop("SIGINT");

        expect(written).toEqual(["bench/results/unfinished.json", "bench/results/unfinished-table.md"]);
        expect(await read(publishedResultsFile("85m"))).toBe(publishedJson);
        expect(await read(performancePage)).toBe(page);
        expect(await read("bench/results/latest.json")).toBe(latestJson);
        const unfinished = JSON.parse(await read("bench/results/unfinished.json")) as BenchResults;
        expect(unfinished.measurements.map((measurement) => measurement.name)).toEqual(["first"]);
        expect(unfinished.unfinished).toEqual(["second", "third"]);
        expect(unfinished.stopped).toBe("SIGINT during second");
        expect(await read("bench/results/unfinished-table.md")).toContain("**Stopped run** (SIGINT during second).");
    });

    it("given a run failing midway, then only the unfinished files are written, after each measurement", async () => {
        const page = await read(performancePage);
        const run = await newRun(["first", "second"]);
        await run.measure(measuring("first"), context);
        expect(JSON.parse(await read("bench/results/unfinished.json"))).toMatchObject({unfinished: ["second"]});

        await run.stop("failed: the model could not be written");

        expect(await read(publishedResultsFile("85m"))).toBe(publishedJson);
        expect(await read(performancePage)).toBe(page);
        expect(await read("bench/results/latest.json")).toBe(latestJson);
        expect(JSON.parse(await read("bench/results/unfinished.json"))).toMatchObject({stopped: "failed: the model could not be written"});
    });

    it("given a full run that finished, then it publishes, writes latest, and leaves no unfinished files", async () => {
        const run = await newRun(["first", "second"]);
        await run.measure(measuring("first"), context);
        await run.measure(measuring("second"), context);
        expect(await exists("bench/results/unfinished.json")).toBe(true);

        await run.finish();

        const latest = await read("bench/results/latest.json");
        expect(JSON.parse(latest)).toMatchObject({unfinished: [], measurements: [{name: "first"}, {name: "second"}]});
        expect(await read(publishedResultsFile("85m"))).toBe(latest);
        expect(publishedSection(await read(performancePage), "85m")).toContain("| 99 | second row |");
        expect(await exists("bench/results/unfinished.json")).toBe(false);
        expect(await exists("bench/results/unfinished-table.md")).toBe(false);
    });
});
