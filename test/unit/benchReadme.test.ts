import fs from "node:fs";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {publishedSection, withSection} from "../../bench/publish.js";
import {chartFile, notMeasuredSection, performancePage, publishedResultsFile, renderChart, renderSection} from "../../bench/report.js";
import {benchProfiles} from "../../bench/results.js";
import type {BenchResults} from "../../bench/results.js";
import {projectRoot} from "../fixtures/botProcess.js";

const read = (file: string) => fs.readFileSync(path.join(projectRoot, file), "utf8");

describe("the published performance sections (docs/performance.md)", () => {
    for (const profile of benchProfiles) {
        it(`given the ${profile} profile, then its section is exactly what its committed results render to (or says it was not measured)`, () => {
            const section = publishedSection(read(performancePage), profile);
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
        const page = read(performancePage);
        const replaced = withSection(page, "gpu", "new text\n");
        expect(publishedSection(replaced, "gpu")).toBe("new text\n");
        expect(publishedSection(replaced, "85m")).toBe(publishedSection(page, "85m"));
        expect(replaced.length - page.length).toBe("new text\n".length - publishedSection(page, "gpu").length);
    });
});
