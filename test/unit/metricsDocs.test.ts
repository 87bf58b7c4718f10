import {spawnSync} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterEach, describe, expect, it} from "vitest";
import {BotMetrics, metricPrefix} from "../../src/monitoring/BotMetrics.js";
import {projectRoot} from "../fixtures/botProcess.js";

const page = fs.readFileSync(path.join(projectRoot, "docs", "metrics.md"), "utf8");
const yamlBlocks = [...page.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

/** Runs Debian's promtool (the prometheus package) on a file holding `text`; fails loudly when it is not installed. */
function promtool(check: "config" | "rules", text: string): {status: number | null, output: string} {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "promtool-")), `${check}.yml`);
    fs.writeFileSync(file, text);
    const result = spawnSync("promtool", ["check", check, file], {encoding: "utf8"});
    if (result.error !== undefined)
        throw new Error("promtool is not installed: `apt-get install prometheus` (.ci/run installs it where missing)");
    return {status: result.status, output: result.stdout + result.stderr};
}

describe("docs/metrics.md", () => {
    it("given its scrape config and its alert rules, then Prometheus's promtool accepts both", () => {
        expect(yamlBlocks).toHaveLength(2);
        const [scrapeConfig, rules] = yamlBlocks as [string, string];
        expect(scrapeConfig).toContain("scrape_configs:");
        expect(promtool("config", scrapeConfig)).toMatchObject({status: 0});
        const checked = promtool("rules", rules);
        expect(checked.output).toMatch(/SUCCESS: 4 rules found/);
        expect(checked.status).toBe(0);
        // a broken rule is caught: the check is real
        expect(promtool("rules", rules.replace("== 0\n        for: 2m", "== == 0\n        for: 2m")).status).not.toBe(0);
    });

    it("given the bot's metrics, then the page lists every one of them, and nothing that is not one", async () => {
        const metrics = new BotMetrics();
        closers.push(() => metrics.close());
        const names = (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name).filter((name) => name.startsWith(metricPrefix));
        expect(names.length).toBeGreaterThan(15);
        const listed = [...page.matchAll(/^\| `(discord_llm_\w+)/gm)].map((match) => match[1]);
        expect(listed.sort()).toEqual(names.sort());
    });
});
