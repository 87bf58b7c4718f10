import path from "node:path";
import {fileURLToPath} from "node:url";

/**
 * The project folder. This file runs from `dist-bench/bench/lib/`, three levels below it
 * (`tsconfig.bench.json` compiles src, test/fixtures and bench into dist-bench/).
 */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Raw numbers, the table and the chart of the last run (git-ignored), and the published runs' raw numbers (committed). */
export const resultsDir = path.join(projectRoot, "bench", "results");
