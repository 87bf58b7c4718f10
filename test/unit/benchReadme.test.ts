import fs from "node:fs";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {readmeSection, withSection} from "../../bench/publish.js";
import {chartFile, notMeasuredSection, publishedResultsFile, renderChart, renderSection} from "../../bench/report.js";
import {benchProfiles} from "../../bench/results.js";
import type {BenchResults} from "../../bench/results.js";
import {projectRoot} from "../fixtures/botProcess.js";

const read = (file: string) => fs.readFileSync(path.join(projectRoot, file), "utf8");

describe("the README's performance sections", () => {
    for (const profile of benchProfiles) {
        it(`given the ${profile} profile, then its section is exactly what its committed results render to (or says it was not measured)`, () => {
            const section = readmeSection(read("README.md"), profile);
            const resultsFile = publishedResultsFile(profile);
            if (!fs.existsSync(path.join(projectRoot, resultsFile))) {
                expect(section).toBe(notMeasuredSection(profile));
                expect(fs.existsSync(path.join(projectRoot, chartFile(profile)))).toBe(false);
                return;
            }
            const results = JSON.parse(read(resultsFile)) as BenchResults;
            expect(results.profile).toBe(profile);
            expect(section).toBe(renderSection(results));
            const chart = renderChart(results);
            if (chart !== undefined)
                expect(read(chartFile(profile))).toBe(chart);
        });
    }

    it("given a section replaced, then only the text between its markers changes", () => {
        const readme = read("README.md");
        const replaced = withSection(readme, "gpu", "new text\n");
        expect(readmeSection(replaced, "gpu")).toBe("new text\n");
        expect(readmeSection(replaced, "85m")).toBe(readmeSection(readme, "85m"));
        expect(replaced.length - readme.length).toBe("new text\n".length - readmeSection(readme, "gpu").length);
    });
});
